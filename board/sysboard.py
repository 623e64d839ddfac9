# SPDX-License-Identifier: GPL-2.0-only
"""Boot and drive the system board: QEMU's arm64 virt machine with the
board kernel, the merged device tree (QEMU's own, the board overlay and the
Raspberry Pi overlay, as the Pi firmware merges dtoverlay= lines) and a
copy-on-write overlay over the cached Debian root (board/build-system-root).

The kernel and systemd write to the serial port, kept in a file and checked
for kernel trouble. Commands travel on a virtio console (hvc0), where
systemd's getty generator starts a login: the driver logs in as root, turns
echo off and runs each command between two markers unique to it, so its
output and exit status come back apart from anything else. Every wait has
a timeout and fails with the console's last lines. The timeouts are
generous: a board under TCG on a machine busy with other boards and builds
runs many times slower than on a quiet one, and a timeout only has to tell
a board that stopped from one that is slow.

Used by board/system-run (make system-shell) and the system board suites.
"""

import base64
import os
import re
import secrets
import select
import shutil
import socket
import subprocess
import time

BOARD_DIR = os.path.dirname(os.path.abspath(__file__))
TOP_DIR = os.path.dirname(BOARD_DIR)

# The same machine as board/run: QEMU's device tree (memory, CPUs) is dumped
# for it, so the merged tree and the boot must agree on -smp and -m.
SMP = "2"
MEM = "1024"
MACHINE = ["qemu-system-aarch64", "-machine", "virt", "-cpu", "max,pauth-impdef=on",
           "-smp", SMP, "-m", MEM, "-nodefaults", "-display", "none"]

# What board/run treats as the kernel reporting trouble (the system board's
# kernel has no KASAN, lockdep or kmemleak: the rest still applies).
TROUBLE = re.compile(
    r"WARNING:|BUG:|Oops|Internal error:|Kernel panic|Unable to handle kernel|"
    r"KASAN:|UBSAN:|kmemleak: [0-9]+ new suspected|unreferenced object|"
    r"INFO: task .* blocked|INFO: rcu|possible recursive locking|"
    r"circular locking|inconsistent lock state|suspicious RCU usage|"
    r"sleeping function called")

# The two boards' network cards: board/system/50-board-*.network give each
# its address by this MAC.
BOARDS = {
    "board-a": {"mac": "52:54:00:12:00:01", "addr": "10.0.12.1"},
    "board-b": {"mac": "52:54:00:12:00:02", "addr": "10.0.12.2"},
}


class BoardError(Exception):
    """The board did not do what was asked in time, or died."""


def _run(cmd):
    out = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         text=True, check=False)
    if out.returncode != 0:
        raise BoardError("%s failed: %s" % (" ".join(cmd), out.stderr.strip()[-400:]))
    return out.stdout


def kernel_image():
    """The cached system board kernel (board/build-kernel --system builds it
    once): the board kernel without KASAN, lockdep and kmemleak, which make
    a boot of Debian under systemd several times slower under TCG; the
    busybox board runs the driver under them."""
    build = _run([os.path.join(BOARD_DIR, "build-kernel"), "--quiet", "--system"]
                 ).strip().splitlines()[-1]
    return build, os.path.join(build, "arch/arm64/boot/Image")


def root_image():
    """The cached Debian root image (board/build-system-root builds it once)."""
    return _run([os.path.join(BOARD_DIR, "build-system-root"), "--quiet"]).strip().splitlines()[-1]


def merged_dtb(out, overlays):
    """QEMU's device tree with the board overlay and OVERLAYS applied."""
    cmd = [os.path.join(BOARD_DIR, "run"), "-q", "--dtb", out]
    for dtbo in overlays:
        cmd += ["--overlay", dtbo]
    _run(cmd)
    return out


def free_udp_ports(count):
    """COUNT UDP ports on 127.0.0.1 free right now, for the boards' link."""
    socks, ports = [], []
    for _ in range(count):
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.bind(("127.0.0.1", 0))
        socks.append(s)
        ports.append(s.getsockname()[1])
    for s in socks:
        s.close()
    return ports


class SystemBoard:
    """One system board: start(), login(), run(), reboot(), poweroff()."""

    def __init__(self, name, workdir, image, dtb, root, payload=None,
                 link=None, say=None):
        """NAME is board-a or board-b (its MAC and address); WORKDIR holds
        its disk overlay, console socket and serial log; PAYLOAD, a tar
        file, becomes a read-only disk the guest finds at
        /dev/disk/by-id/virtio-payload; LINK, (local port, peer port), joins
        the board's network card to the other board's over UDP on
        127.0.0.1."""
        self.name = name
        self.workdir = workdir
        self.image = image
        self.dtb = dtb
        self.root = root
        self.payload = payload
        self.link = link
        self.say = say or (lambda msg: None)
        self.disk = os.path.join(workdir, name + ".qcow2")
        self.console_path = os.path.join(workdir, name + ".console")
        self.log = os.path.join(workdir, name + ".serial.log")
        self.transcript = os.path.join(workdir, name + ".console.log")
        self.proc = None
        self.sock = None
        self.buf = b""
        self.boots = []
        self._tfile = None

    # --- the machine ----------------------------------------------------
    def qemu_command(self, interactive=False):
        info = BOARDS[self.name]
        # Under TCG on a busy machine, services may take minutes to start:
        # their jobs get 900 s (the
        # wait for devices is raised in the image, board/system/customize,
        # as systemd 252 takes it from no kernel option). loglevel=5 keeps
        # warnings and worse (every report the log is checked for) on the
        # slow serial port, without the info lines.
        append = ["root=/dev/vda", "rw", "rootfstype=ext4", "console=ttyAMA0",
                  "printk.devkmsg=on", "loglevel=5", "systemd.hostname=" + self.name,
                  "systemd.default_timeout_start_sec=900", "panic=-1"]
        if self.name != "board-a":
            # Its own identity: the image holds board-a's machine-id.
            append.append("systemd.machine_id=" + secrets.token_hex(16))
        cmd = MACHINE + ["-kernel", self.image, "-dtb", self.dtb, "-append", " ".join(append)]
        # virt numbers its virtio-mmio slots so that the device named last
        # on the command line is probed first: the root disk comes after
        # the payload disk to be /dev/vda.
        if self.payload:
            cmd += ["-drive", "file=%s,format=raw,if=none,id=payload,readonly=on" % self.payload,
                    "-device", "virtio-blk-device,drive=payload,serial=payload"]
        cmd += ["-drive", "file=%s,format=qcow2,if=none,id=root" % self.disk,
                "-device", "virtio-blk-device,drive=root",
                "-device", "virtio-rng-device"]
        if self.link:
            local, peer = self.link
            cmd += ["-netdev", "socket,id=net,udp=127.0.0.1:%d,localaddr=127.0.0.1:%d" % (peer, local),
                    "-device", "virtio-net-device,netdev=net,mac=" + info["mac"]]
        if interactive:
            cmd += ["-serial", "mon:stdio"]
        else:
            cmd += ["-serial", "file:" + self.log,
                    "-device", "virtio-serial-device",
                    "-chardev", "socket,id=con,path=%s,server=on,wait=off" % self.console_path,
                    "-device", "virtconsole,chardev=con"]
        return cmd

    def make_disk(self):
        """A fresh copy-on-write overlay: the cached image is never written."""
        if os.path.exists(self.disk):
            os.unlink(self.disk)
        _run(["qemu-img", "create", "-q", "-f", "qcow2", "-F", "raw",
              "-b", self.root, self.disk])

    def start(self):
        os.makedirs(self.workdir, exist_ok=True)
        self.make_disk()
        self._tfile = open(self.transcript, "ab")
        qlog = open(os.path.join(self.workdir, self.name + ".qemu.log"), "wb")
        self.started = time.monotonic()
        self.proc = subprocess.Popen(self.qemu_command(), stdin=subprocess.DEVNULL,
                                     stdout=qlog, stderr=qlog, close_fds=True)
        qlog.close()
        deadline = time.monotonic() + 30
        while True:
            if self.proc.poll() is not None:
                raise BoardError("%s: qemu exited at once: %s" % (
                    self.name, self._file_tail(os.path.join(self.workdir, self.name + ".qemu.log"))))
            try:
                self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                self.sock.connect(self.console_path)
                break
            except OSError:
                self.sock.close()
                self.sock = None
                if time.monotonic() > deadline:
                    raise BoardError("%s: no console socket from qemu" % self.name)
                time.sleep(0.1)
        self.sock.setblocking(False)

    # --- the console ----------------------------------------------------
    def _file_tail(self, path, lines=8):
        try:
            with open(path, "rb") as f:
                data = f.read()[-4000:]
        except OSError:
            return ""
        return "\n".join(data.decode("utf-8", "replace").splitlines()[-lines:])

    def _fill(self, deadline):
        """Read what the console has, waiting at most until DEADLINE."""
        left = deadline - time.monotonic()
        if left <= 0:
            return False
        ready, _, _ = select.select([self.sock], [], [], min(left, 1.0))
        if not ready:
            if self.proc.poll() is not None:
                raise BoardError("%s: the machine stopped (qemu status %d); serial log:\n%s" % (
                    self.name, self.proc.returncode, self._file_tail(self.log)))
            return True
        data = self.sock.recv(65536)
        if not data:
            raise BoardError("%s: the console closed; serial log:\n%s" % (
                self.name, self._file_tail(self.log)))
        self._tfile.write(data)
        self._tfile.flush()
        self.buf += data
        return True

    def expect(self, pattern, timeout, what):
        """Wait for PATTERN (bytes regex) on the console; return the match and
        drop the console's output up to its end."""
        rx = re.compile(pattern, re.S)
        deadline = time.monotonic() + timeout
        while True:
            m = rx.search(self.buf)
            if m:
                self.buf = self.buf[m.end():]
                return m
            if not self._fill(deadline):
                tail = self.buf[-600:].decode("utf-8", "replace")
                raise BoardError("%s: no %s within %d s; console ends with:\n%s\nserial log ends with:\n%s" % (
                    self.name, what, timeout, tail, self._file_tail(self.log)))

    def send(self, text):
        data = text.encode()
        while data:
            _, ready, _ = select.select([], [self.sock], [], 30)
            if not ready:
                raise BoardError("%s: the console takes no input" % self.name)
            n = self.sock.send(data)
            data = data[n:]

    def login(self, timeout=1200):
        """Log in as root on hvc0 once the boot reaches the getty; return the
        seconds since the machine started or rebooted."""
        start = getattr(self, "boot_start", self.started)
        self.expect(rb"login: ", timeout, "login prompt")
        self.send("root\n")
        self.expect(rb"root@[^\r\n]*# ", 600, "shell prompt after logging in")
        # No echo, no prompts, no pager, no colours: only command output.
        self.send("stty -echo; export PS1= PS2= TERM=dumb PAGER=cat SYSTEMD_PAGER= "
                  "SYSTEMD_COLORS=0; echo ':ready:'\n")
        self.expect(rb":ready:\r?\n", 300, "the shell after setting it up")
        took = time.monotonic() - start
        self.boots.append(took)
        return took

    def run(self, command, timeout=600):
        """Run COMMAND (a bash script) as root; return (status, output)."""
        return self.finish(self.begin(command), timeout)

    def begin(self, command):
        """Start COMMAND without waiting for it; finish() collects it. One
        command at a time per board: boards run theirs side by side."""
        tok = secrets.token_hex(6)
        script = base64.encodebytes(command.encode()).decode()
        self.buf = b""
        self.send("base64 -d >/tmp/.cmd-%s <<'%s'\n%s%s\n" % (tok, tok, script, tok))
        self.send("echo ':%s:B'; bash /tmp/.cmd-%s </dev/null 2>&1; echo \":%s:E:$?\"; rm -f /tmp/.cmd-%s\n"
                  % (tok, tok, tok, tok))
        return tok, command.splitlines()[0][:60] if command else ""

    def finish(self, started, timeout=600):
        tok, what = started
        self.expect((":%s:B\r?\n" % tok).encode(), 300, "start of a command")
        m = self.expect((r"(.*?):%s:E:(\d+)\r?\n" % tok).encode(), timeout,
                        "end of '%s'" % what)
        out = m.group(1).decode("utf-8", "replace").replace("\r\n", "\n")
        return int(m.group(2)), out

    def reboot(self, timeout=1200):
        """A real reboot of the guest: same machine, same disk."""
        self.send("systemctl reboot\n")
        self.boot_start = time.monotonic()
        self.buf = b""
        return self.login(timeout)

    def poweroff(self, timeout=600):
        if self.proc is None or self.proc.poll() is not None:
            return
        try:
            # Ctrl-C first: after a step ran out of time its command still
            # holds the console, and the shell would read the poweroff only
            # once that command ended. The terminal acts on Ctrl-C as it
            # arrives (SIGINT to the command, what was typed before it
            # dropped) and keeps the line after it for the shell.
            self.send("\x03\nsystemctl poweroff\n")
        except (BoardError, OSError):
            pass
        try:
            self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            raise BoardError("%s: still running %d s after poweroff" % (self.name, timeout))

    def kill(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()

    def close(self):
        self.kill()
        if self.sock:
            self.sock.close()
        if self._tfile:
            self._tfile.close()
        for path in (self.disk, self.console_path):
            if os.path.exists(path):
                os.unlink(path)

    def kernel_trouble(self):
        """The first line of the serial log that reports kernel trouble."""
        try:
            with open(self.log, "rb") as f:
                for line in f:
                    text = line.decode("utf-8", "replace")
                    if TROUBLE.search(text):
                        return text.strip()
        except OSError:
            return "no serial log"
        return None


def prepare(workdir, overlays):
    """Kernel, root image and merged device tree for a run in WORKDIR."""
    _, image = kernel_image()
    root = root_image()
    dtb = merged_dtb(os.path.join(workdir, "board.dtb"), overlays)
    return image, root, dtb


def have_tools():
    """None when the host can run system boards, else why not."""
    for tool in ("qemu-system-aarch64", "qemu-img", "mmdebstrap", "mkfs.ext4"):
        if shutil.which(tool) is None:
            return "%s missing (run: make deps)" % tool
    return None
