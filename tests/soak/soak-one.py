#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Soak one mechanism: N events through ipc-button and ipc-led while both
are SIGKILLed and restarted at random moments, and account for every event.

The event source plays the ipc_button driver on a FIFO the button opens
with --device: records (struct ipc_button_event, driver/uapi/ipc_button.h)
numbered 1..N, odd seqnos presses, even ones releases, made at a steady
rate. Like the driver, when its queue (the FIFO) is full an event is
dropped, its seqno used, and the next record carries the dropped count.
The FIFO stays open here, so records queued in it survive the button's
death and the next button takes them: seqnos run on across button
restarts, and what a killed button held is a seqno gap at the LED.

The LED runs with --console: one line per frame it applied, so what a
SIGKILLed LED had received is known even though it cannot print its
stats. Frames it took but had not shown, and what the mechanism dropped
with it, are the gap between its last seqno and its successor's first.

pipe and socketpair are descriptors ipc-launch makes and hands to its two
children; nothing else can reopen them, so killing one child ends the
launcher (the other child ends at end of file or on EPIPE), and a restart
is a new launcher: a new pair, a new LED and a new button.

Writes key=value lines to --result; progress and errors to stderr.
Exit 0 when the run was carried out (the checks are the caller's), 1 when
it could not be (a program did not start, a wait timed out).
"""
import argparse
import errno
import fcntl
import os
import random
import re
import select
import signal
import struct
import subprocess
import sys
import time

RECORD = struct.Struct("=QIIII2I")   # timestamp, seqno, type, flags, dropped, pad
PRESS, RELEASE, F_DROPPED = 1, 2, 1
BATCH = 16              # records per write: 512 bytes, atomic in a FIFO
TICK_S = 0.005          # the source makes events every 5 ms
STALL_S = 0.05          # behind by more than this: we stalled, not the button
WAIT_S = 20             # bound of any single wait for a program

ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
ap.add_argument("--via", required=True)
ap.add_argument("--bin", required=True)
ap.add_argument("--dir", required=True, help="private directory for the FIFO and logs")
ap.add_argument("--events", type=int, default=1000000)
ap.add_argument("--seed", type=int, required=True)
ap.add_argument("--led-kills", type=int, default=5)
ap.add_argument("--button-kills", type=int, default=5)
ap.add_argument("--rate", type=int, default=20000, help="events per second")
ap.add_argument("--warm", type=int, default=2000,
                help="events an incarnation relays before its first RSS sample")
ap.add_argument("--kind", choices=["payload", "no-payload"], default="payload")
ap.add_argument("--lossy", action="store_true")
ap.add_argument("--inherited", action="store_true")
ap.add_argument("--result", required=True)
ap.add_argument("--keep-lines", action="store_true",
                help="keep each LED's console lines, in ERRFILE.out")
ap.add_argument("opts", nargs="*", help="mechanism options (after --)")
A = ap.parse_args()


def log(msg):
    print(f"soak[{A.via}]: {msg}", file=sys.stderr, flush=True)


def rss_kib(pid):
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return None


def stats_of(path, program):
    """key=value pairs of the last 'PROGRAM: stats' line in the file."""
    found = None
    try:
        with open(path, errors="replace") as f:
            for line in f:
                if line.startswith(program + ": stats "):
                    found = line
    except OSError:
        return None
    if found is None:
        return None
    return dict(w.split("=", 1) for w in found.split()[2:] if "=" in w)


class Failure(Exception):
    pass


# --- the driver on a FIFO ----------------------------------------------------

class Source:
    def __init__(self, path, total):
        os.mkfifo(path, 0o600)
        # Read-write: open without a reader, and the FIFO (with what is
        # queued in it) outlives every button.
        self.fd = os.open(path, os.O_RDWR | os.O_NONBLOCK | os.O_CLOEXEC)
        self.path = path
        self.total = total
        self.made = 0            # events made, dropped ones included
        self.dropped = 0         # dropped here, queue full
        self.pending = 0         # dropped since the last record queued
        self.t0 = None
        self.paced = 0

    def _records(self, first, n):
        buf = bytearray(RECORD.size * n)
        now = time.monotonic_ns()
        for i in range(n):
            s = first + i
            d = self.pending if i == 0 else 0
            RECORD.pack_into(buf, i * RECORD.size, now, s,
                             PRESS if s % 2 else RELEASE,
                             F_DROPPED if d else 0, min(d, 0xFFFFFFFF), 0, 0)
        return bytes(buf)

    def tick(self, now):
        """Make the events due by now. Returns True when all are made."""
        if self.t0 is None:
            self.t0 = now
        due = self.paced + int((now - self.t0) * A.rate)
        # Behind by more than a stall: we were busy (a restart), do not
        # burst; a real button's presses do not pile up meanwhile.
        if due - self.made > A.rate * STALL_S:
            self.paced = self.made
            self.t0 = now
            due = self.made + int(A.rate * TICK_S)
        due = min(due, self.total)
        while self.made < due:
            n = min(BATCH, due - self.made)
            last_batch = self.made + n == self.total
            try:
                os.write(self.fd, self._records(self.made + 1, n))
                self.pending = 0
            except BlockingIOError:
                if last_batch:
                    return False     # the last events wait for room
                self.pending += n
                self.dropped += n
            self.made += n
        return self.made == self.total

    def queued(self):
        b = fcntl.ioctl(self.fd, 0x541B, b"\0\0\0\0")   # FIONREAD
        return struct.unpack("i", b)[0] // RECORD.size


# --- the programs ------------------------------------------------------------

LINE_RE = re.compile(rb"^led=(on|off) seqno=(\d+) ")


class Led:
    """One LED incarnation and the console lines it printed."""
    n = 0

    def __init__(self, acct, proc, out_fd, err, pid=None):
        Led.n += 1
        self.acct = acct
        self.proc = proc
        self.fd = out_fd
        self.err = err
        self.pid = pid if pid is not None else proc.pid
        self.buf = b""
        self.lines = 0
        self.first = self.last = None
        self.lost = 0           # seqno gaps inside this incarnation
        self.state = None
        self.rss_warm = self.rss_end = None
        self.keep = open(err + ".out", "wb") if A.keep_lines else None
        os.set_blocking(out_fd, False)

    def read(self):
        """Parse what is there. False at end of file."""
        try:
            data = os.read(self.fd, 1 << 16)
        except BlockingIOError:
            return True
        if not data:
            return False
        if self.keep:
            self.keep.write(data)
        lines = (self.buf + data).split(b"\n")
        self.buf = lines.pop()
        for line in lines:
            m = LINE_RE.match(line)
            if not m:
                continue
            if line[m.end():].startswith(b"report"):
                self.acct.report(self, int(m.group(2)), m.group(1) == b"on")
            else:
                self.acct.frame(self, int(m.group(2)), m.group(1) == b"on")
        return True

    def drain(self):
        fds = [self.fd]
        deadline = time.monotonic() + WAIT_S
        while time.monotonic() < deadline:
            r, _, _ = select.select(fds, [], [], deadline - time.monotonic())
            if r and not self.read():
                os.close(self.fd)
                self.fd = None
                return
        raise Failure("the LED's output did not end")


class Account:
    """Where every event went, across all incarnations."""

    def __init__(self):
        self.received = 0
        self.last = 0           # last seqno applied by any LED
        self.lost_led = 0       # gaps inside an incarnation (the LED counts them)
        self.lost_restart = 0   # gaps across an LED restart
        self.disorder = 0       # an LED applied a seqno not above its last
        self.redelivered = 0    # applied again by the LED after a restart
        self.unique = 0         # distinct seqnos applied
        self.last_state = None

    def frame(self, led, seqno, on):
        self.received += 1
        led.lines += 1
        led.state = self.last_state = on
        if A.kind == "no-payload":
            # The receiver numbers what it takes: nothing to follow.
            led.last = seqno
            return
        if led.last is not None and seqno <= led.last:
            # The LED drops what is not newer than its last frame, unless
            # sent later (a new sender starting over): never the case here.
            self.disorder += 1
        elif led.last is not None:
            led.lost += seqno - led.last - 1
        if led.first is None:
            led.first = seqno
        if seqno <= self.last:
            # Applied already by an LED that died before the mechanism
            # knew: durable mechanisms deliver at least once.
            self.redelivered += 1
        elif led.last == self.last:
            self.lost_led += seqno - self.last - 1
        else:
            # The first new frame after a restart: what is missing died
            # with the LED before it (or the LED that follows never saw it).
            self.lost_restart += seqno - self.last - 1
        if seqno > self.last:
            self.unique += 1
        led.last = seqno
        self.last = max(self.last, seqno)


    def report(self, led, seqno, on):
        """A state report the LED printed (lossy mechanisms: the button's
        last seqno and state, printed when it corrected something): the
        LED counts every event up to it that did not arrive as lost."""
        led.state = self.last_state = on
        if A.kind == "no-payload":
            return
        if led.last is not None and seqno > led.last:
            led.lost += seqno - led.last
        if seqno > self.last:
            if led.last == self.last:
                self.lost_led += seqno - self.last
            else:
                self.lost_restart += seqno - self.last
            self.last = seqno
        if led.first is None:
            led.first = seqno + 1
        led.last = seqno if led.last is None else max(led.last, seqno)


class Button:
    def __init__(self, proc, err, received_at_start, pid=None):
        self.proc = proc
        self.err = err
        self.pid = pid if pid is not None else proc.pid
        self.start = received_at_start
        self.rss_warm = self.rss_end = None


def reap(proc, what):
    try:
        return proc.wait(timeout=WAIT_S)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
        raise Failure(f"{what} did not end within {WAIT_S} s")


class Soak:
    def __init__(self):
        self.acct = Account()
        self.src = Source(os.path.join(A.dir, "device"), A.events)
        self.leds, self.buttons, self.launchers = [], [], []
        self.led = self.button = self.launcher = None
        self.kills = {"led": 0, "button": 0}
        self.keys = set()
        self.exits = []          # unexpected exits: (who, status)
        rng = random.Random(A.seed)
        lo, hi = int(A.events * 0.05), int(A.events * 0.9)
        plan = [(rng.randint(lo, hi), "led") for _ in range(A.led_kills)]
        plan += [(rng.randint(lo, hi), "button") for _ in range(A.button_kills)]
        self.plan = sorted(plan)
        self.seq = 0

    def cmd(self, program, *args):
        return [f"{A.bin}/{program}", "--via", A.via] + A.opts + list(args)

    def errfile(self, name):
        self.seq += 1
        return os.path.join(A.dir, f"{self.seq:03d}-{name}.err")

    # --- named mechanisms: each program on its own

    def start_led(self):
        r, w = os.pipe2(os.O_CLOEXEC)
        err = self.errfile("led")
        with open(err, "w") as ef:
            proc = subprocess.Popen(
                self.cmd("ipc-led", "--console", "--ready-fd", str(w)),
                start_new_session=True, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=ef,
                pass_fds=(w,))
        os.close(w)
        ready, _, _ = select.select([r], [], [], WAIT_S)
        byte = os.read(r, 1) if ready else b""
        os.close(r)
        led = Led(self.acct, proc, os.dup(proc.stdout.fileno()), err)
        proc.stdout.close()
        self.leds.append(led)
        self.led = led
        self.note_keys()
        if byte != b"R":
            raise Failure(f"LED not ready: {open(err).read().strip()}")

    def note_keys(self):
        """System V keys the receiver recorded in the runtime directory
        (<mechanism>.<instance>.key): the record goes with the objects,
        so remember the keys to look for leftovers under afterwards."""
        rt = os.environ.get("IPC_BUTTON_RUNTIME_DIR")
        try:
            names = os.listdir(rt) if rt else []
        except OSError:
            return
        for name in names:
            if name.endswith(".key"):
                try:
                    with open(os.path.join(rt, name)) as f:
                        self.keys.add(int(f.read().strip(), 0))
                except (OSError, ValueError):
                    pass

    def start_button(self):
        err = self.errfile("button")
        with open(err, "w") as ef:
            proc = subprocess.Popen(
                self.cmd("ipc-button", "--device", self.src.path),
                start_new_session=True, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=ef)
        self.button = Button(proc, err, self.acct.received)
        self.buttons.append(self.button)

    # --- pipe, socketpair: one launcher, two children

    def start_launcher(self):
        err = self.errfile("launch")
        with open(err, "w") as ef:
            proc = subprocess.Popen(
                self.cmd("ipc-launch", "--device", self.src.path, "--console"),
                start_new_session=True, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=ef)
        self.launcher = proc
        self.launchers.append(proc)
        self.led = Led(self.acct, proc, os.dup(proc.stdout.fileno()), err, pid=0)
        proc.stdout.close()
        self.leds.append(self.led)
        self.button = Button(proc, err, self.acct.received, pid=0)
        self.buttons.append(self.button)

    def launcher_children(self):
        """Fill in the LED's and the button's pids once both run."""
        if self.led.pid and self.button.pid:
            return True
        lp = self.launcher.pid
        try:
            with open(f"/proc/{lp}/task/{lp}/children") as f:
                kids = f.read().split()
        except OSError:
            return False
        for k in kids:
            try:
                with open(f"/proc/{k}/comm") as f:
                    comm = f.read().strip()
            except OSError:
                continue
            if comm == "ipc-led":
                self.led.pid = int(k)
            elif comm == "ipc-button":
                self.button.pid = int(k)
        return bool(self.led.pid and self.button.pid)

    # --- chaos

    def sample_end(self):
        if self.led.pid:
            self.led.rss_end = rss_kib(self.led.pid)
        if self.button.pid:
            self.button.rss_end = rss_kib(self.button.pid)

    def sample_warm(self):
        if A.inherited and not self.launcher_children():
            return
        if self.led.rss_warm is None and self.led.lines >= A.warm:
            self.led.rss_warm = rss_kib(self.led.pid)
        if (self.button.rss_warm is None and
                self.acct.received - self.button.start >= A.warm):
            self.button.rss_warm = rss_kib(self.button.pid)

    def check_alive(self):
        """A program that ended by itself, unasked, is a failure."""
        procs = [("launcher", self.launcher)] if A.inherited else \
            [("LED", self.led.proc), ("button", self.button.proc)]
        for who, p in procs:
            if p.poll() is not None:
                raise Failure(f"the {who} ended by itself with status {p.returncode}"
                              f" (see {A.dir})")

    def kill(self, who):
        self.kills[who] += 1
        self.sample_end()
        if A.inherited:
            self.launcher_children()
            pid = self.led.pid if who == "led" else self.button.pid
            if pid:
                os.kill(pid, signal.SIGKILL)
            else:
                self.launcher.kill()    # a child not there yet: take all down
            reap(self.launcher, "the launcher")
            self.led.drain()
            self.start_launcher()
            return
        if who == "led":
            self.led.proc.kill()
            reap(self.led.proc, "the LED")
            self.led.drain()
            self.start_led()
        else:
            self.button.proc.kill()
            reap(self.button.proc, "the button")
            self.start_button()

    # --- the run

    def run(self):
        t_start = time.monotonic()
        if A.inherited:
            self.start_launcher()
        else:
            self.start_led()
            self.start_button()
        limit = t_start + 60 + 4 * A.events / A.rate
        all_made = False
        idle_since = None
        while True:
            now = time.monotonic()
            if now > limit:
                raise Failure("the run took too long")
            if not all_made:
                all_made = self.src.tick(now)
                while self.plan and self.src.made >= self.plan[0][0]:
                    self.kill(self.plan.pop(0)[1])
            self.check_alive()
            if all_made and self.finished(idle_since, now):
                break
            want_w = [self.src.fd] if not all_made and self.src.made + BATCH >= A.events else []
            r, w, _ = select.select([self.led.fd], want_w, [], TICK_S)
            if r:
                before = self.acct.received
                if not self.led.read():
                    raise Failure("the LED's output ended")
                idle_since = None if self.acct.received != before else idle_since
            if idle_since is None and all_made:
                idle_since = time.monotonic()
            self.sample_warm()
        self.stop()
        self.seconds = time.monotonic() - t_start

    def finished(self, idle_since, now):
        """All made: is all that will arrive there?"""
        if self.src.queued():
            return False
        if A.kind == "payload" and self.acct.last >= A.events:
            return True
        # No seqno to wait for (or lossy, the tail lost): quiet for 3 s.
        return idle_since is not None and now - idle_since > 3

    def stop(self):
        self.sample_end()
        self.note_keys()
        if A.inherited:
            self.launcher.send_signal(signal.SIGTERM)
            self.led.drain()
            self.launcher_status = reap(self.launcher, "the launcher")
            self.button_status = self.led_status = self.launcher_status
            return
        self.button.proc.send_signal(signal.SIGTERM)
        self.button_status = reap(self.button.proc, "the button")
        self.led.proc.send_signal(signal.SIGTERM)
        self.led.drain()
        self.led_status = reap(self.led.proc, "the LED")

    def cleanup(self):
        """On an error or Ctrl-C: stop what runs, politely, then not."""
        procs = self.launchers if A.inherited else \
            [x.proc for x in self.leds] + [x.proc for x in self.buttons]
        for p in procs:
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
        for p in procs:
            try:
                p.wait(timeout=5)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()

    def report(self):
        a = self.acct
        led_stats = stats_of(self.led.err, "ipc-led") or {}
        button_stats = stats_of(self.button.err, "ipc-button") or {}
        out = {
            "via": A.via, "events": A.events, "seed": A.seed,
            "seconds": f"{self.seconds:.1f}",
            "led_kills": self.kills["led"], "button_kills": self.kills["button"],
            "led_runs": len(self.leds), "button_runs": len(self.buttons),
            "received": a.received, "source_dropped": self.src.dropped,
            "sysv_keys": ",".join(f"0x{k & 0xffffffff:08x}" for k in sorted(self.keys)),
            "disorder": a.disorder, "redelivered": a.redelivered,
            "unique": a.unique,
            "led_status": self.led_status, "button_status": self.button_status,
            "final_led_state": led_stats.get("state", "missing"),
            "final_button_state": button_stats.get("state", "missing"),
            "final_led_received": led_stats.get("received", "missing"),
            "final_led_lines": self.led.lines,
            "final_led_lost": led_stats.get("lost", "missing"),
            "final_led_lost_lines": self.led.lost,
            "final_led_dropped": led_stats.get("dropped", "missing"),
            "final_led_stale": led_stats.get("stale", "missing"),
            "final_led_last": led_stats.get("last-seqno", "missing"),
            "final_led_last_line": self.led.last if self.led.last is not None else 0,
            "final_button_unsent": button_stats.get("unsent", "missing"),
            "final_button_overflowed": button_stats.get("overflowed", "missing"),
            "last_line_state": int(a.last_state) if a.last_state is not None else "missing",
        }
        if A.kind == "payload":
            # Seqnos the LED that followed saw missing, or that no LED ever
            # got before the first one's first frame.
            tail_counted = 0
            try:
                # The last LED may know of seqnos after its last frame (a
                # state report of a lossy mechanism) and count them.
                tail_counted = max(0, int(out["final_led_last"]) - (self.led.last or 0))
            except ValueError:
                pass
            tail = A.events - a.last - tail_counted
            out.update(lost_led=a.lost_led + tail_counted,
                       lost_restart=a.lost_restart,
                       lost_uncounted=tail,
                       last_seqno=a.last + tail_counted)
        growth = {}
        for who, runs in (("led", self.leds), ("button", self.buttons)):
            sampled = [x for x in runs if x.rss_warm and x.rss_end]
            out[f"{who}_rss_first"] = sampled[0].rss_warm if sampled else "-"
            out[f"{who}_rss_last"] = sampled[-1].rss_end if sampled else "-"
            out[f"{who}_rss_growth_max"] = max((x.rss_end - x.rss_warm for x in sampled), default=0)
            out[f"{who}_rss_sampled"] = len(sampled)
            growth[who] = out[f"{who}_rss_growth_max"]
        with open(A.result, "w") as f:
            for k, v in out.items():
                f.write(f"{k}={v}\n")


def main():
    soak = None
    stop = {"sig": None}

    def on_signal(sig, frame):
        # Once: the cleanup that follows must not be cut short.
        for s in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            signal.signal(s, signal.SIG_IGN)
        stop["sig"] = sig
        raise KeyboardInterrupt

    # The programs run in sessions of their own, so Ctrl-C reaches only
    # us: we stop them (SIGTERM, they remove what they made), then end.
    for s in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(s, on_signal)
    signal.signal(signal.SIGPIPE, signal.SIG_DFL)
    try:
        soak = Soak()
        soak.run()
        soak.report()
        return 0
    except Failure as e:
        log(str(e))
        return 1
    except KeyboardInterrupt:
        log("interrupted")
        return 130
    finally:
        if soak:
            soak.cleanup()


if __name__ == "__main__":
    sys.exit(main())
