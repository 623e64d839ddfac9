# SPDX-License-Identifier: GPL-2.0-only
"""What the system board suites share: TAP output, the payload disk (what
a user would copy to the board: the packages, or a source tree built by the
cross compiler, and the kernel headers package) and the install on the
board as a user does it."""

import os
import shlex
import subprocess
import sys
import tarfile
import time

TOP = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(TOP, "board"))
import sysboard  # noqa: E402,F401


class Tap:
    """TAP on standard output: ok/fail/skip, then done() prints the plan."""

    def __init__(self):
        self.n = 0
        self.failed = 0

    def ok(self, what):
        self.n += 1
        print("ok %d - %s" % (self.n, what), flush=True)

    def fail(self, what, why=""):
        self.n += 1
        self.failed += 1
        print("not ok %d - %s" % (self.n, what), flush=True)
        for line in str(why).strip().splitlines()[-15:]:
            print("# " + line, flush=True)

    def skip(self, what, why):
        self.n += 1
        print("ok %d - %s # SKIP %s" % (self.n, what, why), flush=True)

    def check(self, cond, what, why=""):
        (self.ok if cond else self.fail)(what, *(() if cond else (why,)))
        return cond

    def note(self, text):
        for line in str(text).rstrip().splitlines():
            print("# " + line, flush=True)

    def done(self):
        print("1..%d" % self.n, flush=True)
        return 1 if self.failed else 0


def why_not_run():
    """None when the system board suites should run here, else why not.
    They boot Debian under systemd under TCG,
    minutes per boot on a busy machine, so `make check` runs them only
    when asked (IPC_BUTTON_SYSTEM_BOARD=1) until their time fits the
    check's budget."""
    if os.environ.get("IPC_BUTTON_SYSTEM_BOARD") != "1":
        return "the system board runs with IPC_BUTTON_SYSTEM_BOARD=1 (minutes per boot under TCG)"
    why = sysboard.have_tools()
    if why:
        return why
    if os.geteuid() != 0:
        return "needs root (mmdebstrap builds the root image once)"
    return None


def sh(cmd, log, cwd=TOP):
    """Run a host command, its output into LOG; True when it succeeded."""
    with open(log, "ab") as f:
        return subprocess.call(cmd, cwd=cwd, stdout=f, stderr=subprocess.STDOUT,
                               shell=isinstance(cmd, str)) == 0


def tail(path, n=8):
    try:
        with open(path, errors="replace") as f:
            return "".join(f.readlines()[-n:])
    except OSError:
        return ""


def build_arm64_packages(work, log):
    """The arm64 .debs of this tree (debug symbols left out), cross-built
    as a Pi user's build machine would (dpkg-buildpackage -a arm64) in a
    copy of the tree, since dpkg-buildpackage writes next to it. Returns the
    list, or [] on failure (LOG says why)."""
    src = os.path.join(work, "deb", "src")
    os.makedirs(src)
    files = subprocess.run(["git", "ls-files", "-co", "--exclude-standard"], cwd=TOP,
                           stdout=subprocess.PIPE, text=True, check=True).stdout.split()
    with tarfile.open(os.path.join(work, "deb", "tree.tar"), "w") as tar:
        for f in files:
            if not f.startswith("build/") and os.path.exists(os.path.join(TOP, f)):
                tar.add(os.path.join(TOP, f), arcname=f, recursive=False)
    with tarfile.open(os.path.join(work, "deb", "tree.tar")) as tar:
        tar.extractall(src)
    if not sh(["dpkg-buildpackage", "-a", "arm64", "-us", "-uc", "-b"], log, cwd=src):
        return []
    out = os.path.join(work, "deb")
    return sorted(os.path.join(out, f) for f in os.listdir(out)
                  if (f.endswith("_arm64.deb") or f.endswith("_all.deb")) and "-dbgsym_" not in f)


def build_payload(work, tap):
    """Build what goes onto the board; returns (payload tar, install kind)
    or (None, why). The kind is "packages" (the arm64 .debs) or "source"
    (the tree with its programs cross-built, for `make install`'s second
    half, install/install-tree, run on the board)."""
    log = os.path.join(work, "host-build.log")
    headers = subprocess.run([os.path.join(TOP, "board/build-kernel-headers"), "--system"],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if headers.returncode != 0:
        return None, "board kernel headers package: " + headers.stderr.strip()[-300:]
    headers_deb = headers.stdout.strip().splitlines()[-1]

    payload = os.path.join(work, "payload.tar")
    kind = "packages"
    debs = []
    if os.path.isdir(os.path.join(TOP, "debian")):
        debs = build_arm64_packages(work, log)
        if not debs:
            return None, "dpkg-buildpackage -a arm64 failed: " + tail(log)
    else:
        kind = "source"
        ok = (sh(["make", "-s", "userspace-arm64"], log) and
              sh(["make", "-s", "-C", "dts", "OUT=%s/build/dts" % TOP,
                  "%s/build/dts/ipc-button.dtbo" % TOP], log) and
              sh(["make", "-s", "-C", "man", "OUT=%s/build/man" % TOP], log))
        if not ok:
            return None, "cross build of the programs failed: " + tail(log)
    files = subprocess.run(["git", "ls-files", "-co", "--exclude-standard"], cwd=TOP,
                           stdout=subprocess.PIPE, text=True, check=True).stdout.split()
    with tarfile.open(payload, "w") as tar:
        tar.add(headers_deb, arcname=os.path.basename(headers_deb))
        for deb in debs:
            tar.add(deb, arcname="debs/" + os.path.basename(deb))
        for f in ("press", "board-gpio", "led"):
            tar.add(os.path.join(TOP, "board/guest", f), arcname="bin/" + f)
        tar.add(os.path.join(TOP, "tests/lib/wait.sh"), arcname="lib/wait.sh")
        if kind == "source":
            for f in files:
                if os.path.exists(os.path.join(TOP, f)):
                    tar.add(os.path.join(TOP, f), arcname="src/" + f, recursive=False)
            tar.add(os.path.join(TOP, "build/arm64/bin"), arcname="src/build/host/bin")
            tar.add(os.path.join(TOP, "build/dts"), arcname="src/build/dts")
            tar.add(os.path.join(TOP, "build/man"), arcname="src/build/man")
    return payload, kind


# On the board: the payload disk unpacked into /root/payload, and the
# guest tools on PATH.
UNPACK = """set -e
mkdir -p /root/payload
tar -xf /dev/disk/by-id/virtio-payload -C /root/payload
install -m 0755 /root/payload/bin/* /usr/local/bin/
ls /root/payload
"""


def install_commands(kind):
    """The user's install on the board, as one bash script: dpkg -i, since
    the board has no apt lists (no mirror to fetch them from) and apt then
    refuses several local packages at once. Its output goes
    to /root/install.log; the console gets the last lines (a long output
    would stall the board while the driver waits on the other board)."""
    steps = ["dpkg -i linux-headers-*.deb"]
    if kind == "packages":
        steps.append("dpkg -i debs/*.deb")
    else:
        # `make install` without its build step: the programs, overlay and
        # man pages were built by the cross compiler on the build machine.
        steps.append("(cd src && BUILD=$PWD/build install/install-tree install)")
    # Progress on the console every two minutes (the log's last line and
    # the seconds so far), so a step that runs out of time shows where the
    # install was and what is slow; and each step's time at its end.
    script = ("cd /root/payload\n"
              "(while sleep 120; do echo \"install: ${SECONDS} s: $(tail -n 1 /root/install.log)\"; "
              "done) &\nticker=$!\ntrap 'kill $ticker 2>/dev/null' EXIT\n")
    for step in steps:
        script += ("start=$SECONDS; echo '# %s' >>/root/install.log\n"
                   "%s >>/root/install.log 2>&1 || { tail -n 30 /root/install.log; exit 1; }\n"
                   "echo \"install: %s: $((SECONDS - start)) s\"\n"
                   % (step, step, step))
    return script + "tail -n 4 /root/install.log\n"


def all_active(units):
    """A board command that prints each unit's state and succeeds only when
    every one is active: `systemctl is-active A B` alone succeeds as soon
    as one of them is."""
    return ("states=$(systemctl is-active %s); echo \"$states\"; "
            "! echo \"$states\" | grep -qvx active" % units)


def timed(fn, *args, **kw):
    start = time.monotonic()
    result = fn(*args, **kw)
    return result, time.monotonic() - start


def q(s):
    return shlex.quote(s)
