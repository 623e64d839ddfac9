#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Run an LED and a sender on one pipe or socketpair, as ipc-launch would,
for tests whose sender is not ipc-button (the frame injector).

usage: run-pair.py pipe|socketpair LED_OUT LED_ERR -- LED_ARGV... -- SENDER_ARGV...
Each argv may contain the word @FD, replaced by its end's number. Prints
the sender's output; exits with the LED's status (the sender's if it failed).
"""
import os
import socket
import subprocess
import sys


def main():
    via, led_out, led_err = sys.argv[1:4]
    rest = sys.argv[5:]
    split = rest.index("--")
    led_argv, sender_argv = rest[:split], rest[split + 1:]
    if via == "pipe":
        r, w = os.pipe2(os.O_DIRECT | os.O_CLOEXEC)
    else:
        a, b = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        r, w = a.detach(), b.detach()
    with open(led_out, "w") as out, open(led_err, "w") as err:
        led = subprocess.Popen([x.replace("@FD", str(r)) for x in led_argv],
                               pass_fds=[r], stdout=out, stderr=err)
        os.close(r)
        sender = subprocess.run([x.replace("@FD", str(w)) for x in sender_argv],
                                pass_fds=[w])
        os.close(w)
        status = led.wait(timeout=30)
    sys.exit(sender.returncode or status)


main()
