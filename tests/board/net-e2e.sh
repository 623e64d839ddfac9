#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
#
# On the emulated board (busybox sh): the network transports over
# loopback, end to end. The driver is loaded (its device comes from the
# Raspberry Pi overlay), then for each of tcp, udp, udp-broadcast,
# udp-multicast and tls: the LED process on GPIO18 and the button process
# on /dev/ipc-button0, PRESSES clicks through gpio-sim, the LED line's level
# awaited after each press (the LED process drives it through libgpiod),
# then the counts and seqnos compared end to end.
# The tls certificates are in /root/certs (made on the host by make-certs).
. /usr/lib/ipc-button/tests/lib/tap.sh
. /usr/lib/ipc-button/tests/lib/wait.sh

PRESSES=${PRESSES:-3}
MECHANISMS=${MECHANISMS:-tcp udp udp-broadcast udp-multicast tls}
run=/run/net-e2e
mkdir -p "$run"
chmod 700 "$run"

if ! insmod /lib/modules/ipc_button.ko || ! wait_for 5 test -c /dev/ipc-button0; then
	tap_fail "the driver is loaded and /dev/ipc-button0 exists"
	tap_done
	exit 1
fi

# stat FILE KEY: the value in the last stats line of FILE.
stat_of() {
	grep ': stats ' "$1" | tail -n 1 | tr ' ' '\n' | sed -n "s/^$2=//p"
}

e2e() {
	via=$1
	opts=
	# An ECDSA handshake under TCG with KASAN may take seconds: the
	# default bound (3 s) is for real boards.
	[ "$via" = tls ] && opts="--opt cert-dir=/root/certs --opt timeout=60000"
	events=$((2 * PRESSES))
	rm -f "$run/ready"
	mkfifo -m 600 "$run/ready"
	# The real LED: GPIO18 through libgpiod. It ends by itself after the
	# last event (--count), which is how we know every one arrived.
	# shellcheck disable=SC2086
	ipc-led --via "$via" $opts --count "$events" --ready-fd 4 \
		4>"$run/ready" 2>"$run/led.err" &
	led_pid=$!
	if [ "$(cat "$run/ready")" != R ]; then
		tap_fail "$via: the LED process starts" "$(cat "$run/led.err")"
		wait "$led_pid"
		return
	fi
	# shellcheck disable=SC2086
	ipc-button --via "$via" $opts --device /dev/ipc-button0 2>"$run/button.err" &
	button=$!
	if ! wait_for 10 has_open "$button" /dev/ipc-button0; then
		tap_fail "$via: the button process opens the device" "$(cat "$run/button.err")"
	fi
	state=$(led) bad= i=1
	while [ "$i" -le "$PRESSES" ]; do
		state=$((1 - state))
		board-gpio press
		wait_for 30 sh -c "[ \$(board-gpio get GPIO18) = $state ]" ||
			bad="$bad LED line $(led) after press $i;"
		board-gpio release
		i=$((i + 1))
	done
	if [ -z "$bad" ]; then
		tap_ok "$via: $PRESSES presses on the board drive the LED line (GPIO18)"
	else
		tap_fail "$via: $PRESSES presses on the board drive the LED line (GPIO18)" "$bad"
	fi
	wait "$led_pid"
	ls=$?
	kill -TERM "$button"
	wait "$button"
	bs=$?
	f=$run/led.err
	first=$(stat_of "$f" first-seqno) last=$(stat_of "$f" last-seqno)
	if [ "$bs" = 0 ] && [ "$ls" = 0 ] &&
	   [ "$(stat_of "$f" received)" = "$events" ] &&
	   [ "$(stat_of "$f" lost)" = 0 ] && [ "$(stat_of "$f" rejected)" = 0 ] &&
	   [ $((last - first + 1)) = "$events" ] &&
	   [ "$(stat_of "$run/button.err" events)" = "$events" ] &&
	   [ "$(stat_of "$run/button.err" last-seqno)" = "$last" ]; then
		tap_ok "$via: $events events, seqnos $first..$last, none lost, both exit 0"
	else
		tap_fail "$via: counts and seqnos match end to end" \
			"button $bs, LED $ls: $(grep -h stats "$run/button.err" "$f" | tr '\n' ' ')"
	fi
}

for via in $MECHANISMS; do
	e2e "$via"
done
rmmod ipc_button
tap_done
