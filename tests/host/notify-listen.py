#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
#
# Play systemd's side of sd_notify(3) for one program: bind a datagram
# socket, run the program with NOTIFY_SOCKET naming it, and print each
# notification as "main MESSAGE" or "other MESSAGE" (whether the sender,
# known from SCM_CREDENTIALS, is the program itself or another process),
# until READY=1 arrives or TIMEOUT seconds pass; then stop the program
# (SIGTERM) and exit 0 if READY=1 came, 1 if not.
#
#   notify-listen.py DIR TIMEOUT PROGRAM ARGS...
import os
import signal
import socket
import struct
import subprocess
import sys

sock_dir, timeout, argv = sys.argv[1], float(sys.argv[2]), sys.argv[3:]
path = os.path.join(sock_dir, "notify")
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC)
s.bind(path)
s.setsockopt(socket.SOL_SOCKET, socket.SO_PASSCRED, 1)
s.settimeout(timeout)
env = dict(os.environ, NOTIFY_SOCKET=path)
proc = subprocess.Popen(argv, env=env, stdin=subprocess.DEVNULL,
                        stdout=subprocess.DEVNULL)
ready = False
try:
    while not ready:
        data, anc, _, _ = s.recvmsg(4096, socket.CMSG_SPACE(12))
        pid = 0
        for level, kind, cred in anc:
            if level == socket.SOL_SOCKET and kind == socket.SCM_CREDENTIALS:
                pid = struct.unpack("iII", cred[:12])[0]
        for line in data.decode().splitlines():
            print("main" if pid == proc.pid else "other", line, flush=True)
            ready = ready or line == "READY=1"
except socket.timeout:
    pass
finally:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
    os.unlink(path)
sys.exit(0 if ready else 1)
