# SPDX-License-Identifier: GPL-2.0-only
# Bounded waits for shell tests and the demo, on the host or the board.
# Some conditions have no event to block on from a shell (another process
# opened a device, a tool requested a line), so these check every 10 ms for
# at most a few seconds. Product code never waits like this.

# wait_for SECONDS command args...: succeed as soon as the command does.
# The limit is a deadline on the clock, not a number of tries: under TCG
# one try of a command can take a large part of a second.
wait_for() {
	_wf_end=$(($(date +%s) + $1 + 1))
	shift
	while :; do
		"$@" >/dev/null 2>&1 && return 0
		[ "$(date +%s)" -lt "$_wf_end" ] || return 1
		usleep 10000 2>/dev/null || sleep 0.01
	done
}

# line_requested LINE CONSUMER: the GPIO line is held by that consumer.
line_requested() {
	gpioinfo "$1" 2>/dev/null | grep -q "consumer=\"$2\""
}

# has_open PID PATH: the process holds PATH open.
has_open() {
	ls -l "/proc/$1/fd" 2>/dev/null | grep -q -- "-> $2\$"
}
