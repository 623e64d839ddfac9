# SPDX-License-Identifier: GPL-2.0-only
# Bounded waits for shell tests and the demo, on the host or the board.
# Some conditions have no event to block on from a shell (another process
# opened a device, a tool requested a line), so these check every 10 ms for
# at most a few seconds. Product code never waits like this.

# wait_for SECONDS command args...: succeed as soon as the command does.
wait_for() {
	_wf_tries=$(($1 * 100))
	shift
	while [ "$_wf_tries" -gt 0 ]; do
		"$@" >/dev/null 2>&1 && return 0
		usleep 10000 2>/dev/null || sleep 0.01
		_wf_tries=$((_wf_tries - 1))
	done
	return 1
}

# line_requested LINE CONSUMER: the GPIO line is held by that consumer.
line_requested() {
	gpioinfo "$1" 2>/dev/null | grep -q "consumer=\"$2\""
}

# has_open PID PATH: the process holds PATH open.
has_open() {
	ls -l "/proc/$1/fd" 2>/dev/null | grep -q -- "-> $2\$"
}
