#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Judge soak results (key=value files written by tests/soak/run) and
print them as a table.

  table.py --row NAME FILE     one table line, then '#' lines saying why
                               it failed, if it did
  table.py --summary DIR       the whole table (DIR/*/result), then
                               "N passed, N failed"; exit 1 on a failure
"""
import os
import sys

HEADER = ("| mechanism | events | restarts LED/button | received (again after a restart) | lost, LED-counted"
          " | lost at a restart | source dropped | made = received + lost"
          " | LED = button state | left: ipcs/shm/mqueue/rt-dir"
          " | LED RSS KiB (growth) | button RSS KiB (growth) | s | result |")
RULE = "|" + "---|" * (HEADER.count("|") - 1)


def load(path):
    r = {}
    with open(path) as f:
        for line in f:
            k, _, v = line.rstrip("\n").partition("=")
            r[k] = v
    return r


def num(r, k):
    try:
        return int(r[k])
    except (KeyError, ValueError):
        return None


def judge(r):
    """Reasons the run failed; empty when it passed."""
    why = []
    if "skip" in r:
        return why
    if "error" in r:
        why.append(r["error"])
    if "events" not in r:
        return why or ["no result"]
    events, received = num(r, "events"), num(r, "received")
    payload = r.get("no_payload") != "1"
    if payload:
        if num(r, "disorder"):
            why.append(f"{r['disorder']} frame(s) applied out of order or twice by one LED")
        uncounted = num(r, "lost_uncounted")
        if uncounted and uncounted > 0:
            why.append(f"{uncounted} event(s) at the end lost without being counted")
        elif uncounted:
            why.append(f"the LED numbered {-uncounted} beyond the last event made"
                       f" (it counted {-uncounted} lost that were never made)")
        lost = sum(num(r, k) or 0 for k in ("lost_led", "lost_restart", "lost_uncounted"))
        unique = num(r, "unique")
        if unique is None or events != unique + lost:
            why.append(f"made {events} != received {unique} + lost {lost}")
        # The last LED's own stats agree with the lines it printed.
        fr, fl, fs = num(r, "final_led_received"), num(r, "final_led_lines"), num(r, "final_led_stale")
        if None in (fr, fl, fs) or fr != fl + fs:
            why.append(f"the last LED's stats say received={r.get('final_led_received')}"
                       f" stale={r.get('final_led_stale')}, it printed {fl} frames")
        lost_s, lost_l = num(r, "final_led_lost"), num(r, "final_led_lost_lines")
        last_s, last_l = num(r, "final_led_last"), num(r, "final_led_last_line")
        if None in (lost_s, last_s) or lost_s - lost_l != last_s - last_l:
            why.append(f"the last LED's stats say lost={r.get('final_led_lost')}"
                       f" last-seqno={r.get('final_led_last')}; its lines: {lost_l} missing up to {last_l}")
    elif received is None or received > events:
        why.append(f"received {received} of {events} made")
    states = {r.get("final_led_state"), r.get("final_button_state")}
    if payload:
        states.add(r.get("last_line_state"))
    if len(states) != 1 or "missing" in states:
        why.append(f"LED state {r.get('final_led_state')}, button state {r.get('final_button_state')}")
    if r.get("led_status") != "0" or r.get("button_status") != "0":
        why.append(f"exit status: LED {r.get('led_status')}, button {r.get('button_status')}")
    left = [k for k in ("left_ipcs", "left_shm", "left_mqueue", "left_rtdir") if num(r, k)]
    if left:
        why.append("left behind: " + ", ".join(f"{k[5:]} {r[k]}" for k in left))
    slack = num(r, "rss_slack") or 0
    for who in ("led", "button"):
        if not num(r, f"{who}_rss_sampled"):
            why.append(f"the {who}'s memory was never sampled")
        elif num(r, f"{who}_rss_growth_max") > slack:
            why.append(f"the {who}'s VmRSS grew by {r[who + '_rss_growth_max']} KiB"
                       f" in one run (allowed {slack})")
    return why


def row(name, r):
    if "skip" in r:
        return f"| {name} | skipped: {r['skip']} |" + " |" * 12, []
    why = judge(r)
    if "events" not in r:
        return f"| {name} | " + " | ".join(["-"] * 12) + " | FAIL |", why
    payload = r.get("no_payload") != "1"
    events, received = num(r, "events"), num(r, "received")
    if payload:
        received = r.get("unique")
        if num(r, "redelivered"):
            received += f" (+{r['redelivered']} again)"
        lost_led, lost_restart = r.get("lost_led"), r.get("lost_restart")
        ident = "no" if any("made " in w or "order" in w or "counted" in w
                             for w in why) else "yes"
    else:
        lost_led = "n/a"
        lost_restart = f"{events - received} (by difference)"
        ident = "n/a: no seqno crosses"
    state = "yes" if not any("state" in w for w in why) else \
        f"no ({r.get('final_led_state')}/{r.get('final_button_state')})"
    left = "/".join(r.get(k, "?") for k in ("left_ipcs", "left_shm", "left_mqueue", "left_rtdir"))
    rss = {w: f"{r.get(w + '_rss_first')}→{r.get(w + '_rss_last')} (+{r.get(w + '_rss_growth_max')})"
           for w in ("led", "button")}
    return (f"| {name} | {events} | {int(r['led_runs']) - 1}/"
            f"{int(r['button_runs']) - 1} | {received} | {lost_led} | {lost_restart}"
            f" | {r.get('source_dropped')} | {ident} | {state} | {left}"
            f" | {rss['led']} | {rss['button']} | {r.get('seconds')}"
            f" | {'FAIL' if why else 'pass'} |"), why


def main():
    if len(sys.argv) == 4 and sys.argv[1] == "--row":
        line, why = row(sys.argv[2], load(sys.argv[3]))
        print(line)
        for w in why:
            print(f"#   {w}")
        return 0
    if len(sys.argv) == 3 and sys.argv[1] == "--summary":
        base = sys.argv[2]
        passed = failed = skipped = 0
        lines, reasons = [], []
        for name in sorted(os.listdir(base), key=lambda n: os.path.getmtime(os.path.join(base, n))):
            path = os.path.join(base, name, "result")
            if not os.path.exists(path):
                continue
            r = load(path)
            line, why = row(name, r)
            lines.append(line)
            if "skip" in r:
                skipped += 1
            elif why:
                failed += 1
                reasons += [f"# {name}: {w}" for w in why]
            else:
                passed += 1
        print()
        print(HEADER)
        print(RULE)
        print("\n".join(lines))
        for w in reasons:
            print(w)
        print(f"{passed} passed, {failed} failed" + (f", {skipped} skipped" if skipped else ""))
        return 1 if failed or not passed else 0
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
