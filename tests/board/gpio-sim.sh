#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
#
# Runs on the emulated board: the ground the driver and LED tests stand on.
# The board overlay gives a gpio-sim chip with the Pi header's line names;
# pressing GPIO17 through gpio-sim changes what a reader of the line sees,
# with an edge interrupt; GPIO18 reads as an LED line.
. /usr/lib/ipc-button/tests/lib/tap.sh

# Wait (bounded) until a line is held by a consumer. The tools give no
# readiness signal, so this test helper polls gpioinfo; product code never
# waits like this.
wait_requested() { # line consumer
	i=0
	while [ $i -lt 200 ]; do
		gpioinfo "$1" 2>/dev/null | grep -q "consumer=\"$2\"" && return 0
		usleep 10000
		i=$((i + 1))
	done
	return 1
}

info=$(gpioinfo 2>&1)
if echo "$info" | grep -q '^gpiochip0 - 54 lines' &&
	echo "$info" | grep -q 'line  17:.*"GPIO17"' &&
	echo "$info" | grep -q 'line  53:.*"GPIO53"'; then
	tap_ok "the board has a 54-line GPIO chip named like the Pi header"
else
	tap_fail "the board has a 54-line GPIO chip named like the Pi header" "$(echo "$info" | head -3)"
fi

label=$(gpiodetect | sed -n 's/^gpiochip0 \[\(.*\)\].*/\1/p')
[ "$label" = ipc-button-board ] && tap_ok "the chip's label is ipc-button-board" ||
	tap_fail "the chip's label is ipc-button-board" "got '$label'"

board-gpio release GPIO17
v1=$(gpioget --numeric GPIO17)
board-gpio press GPIO17
v2=$(gpioget --numeric GPIO17)
board-gpio release GPIO17
v3=$(gpioget --numeric GPIO17)
[ "$v1$v2$v3" = 101 ] && tap_ok "pressing GPIO17 pulls the line low, releasing lets it high (read $v1 $v2 $v3)" ||
	tap_fail "pressing GPIO17 pulls the line low, releasing lets it high" "read $v1 $v2 $v3"

# Edge interrupts: a monitor sees exactly the press and the release.
gpiomon --num-events=2 --edges=both --format='%E' GPIO17 >/tmp/edges 2>&1 &
mon=$!
if wait_requested GPIO17 gpiomon; then
	board-gpio press GPIO17
	board-gpio release GPIO17
	wait $mon
	edges=$(tr '\n' ' ' </tmp/edges)
	[ "$edges" = "falling rising " ] && tap_ok "gpiomon sees the press and the release as edges ($edges)" ||
		tap_fail "gpiomon sees the press and the release as edges" "got '$edges'"
else
	kill $mon 2>/dev/null
	tap_fail "gpiomon sees the press and the release as edges" "gpiomon never requested GPIO17"
fi

# The LED line: its level follows whoever drives it, and falls back to the
# pull when released.
before=$(led)
gpioset --consumer=ledtest GPIO18=1 &
setter=$!
if wait_requested GPIO18 ledtest; then
	during=$(led)
	kill $setter
	wait $setter 2>/dev/null
	after=$(led)
	[ "$before$during$after" = 010 ] && tap_ok "GPIO18 reads 0, 1 while driven high, 0 once released" ||
		tap_fail "GPIO18 reads 0, 1 while driven high, 0 once released" "read $before $during $after"
else
	kill $setter 2>/dev/null
	tap_fail "GPIO18 reads 0, 1 while driven high, 0 once released" "gpioset never requested GPIO18"
fi

board-gpio get GPIO99 >/dev/null 2>&1 && tap_fail "board-gpio refuses a line the header lacks" ||
	tap_ok "board-gpio refuses a line the header lacks"

tap_done
