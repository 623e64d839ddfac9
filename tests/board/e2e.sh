#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
#
# On the emulated board (busybox sh): every transport end to end. The
# driver is loaded (its device comes from the Raspberry Pi overlay); then,
# for each mechanism, ipc-launch runs the LED process on GPIO18 and the
# button process on /dev/ipc-button0; PRESSES clicks go through gpio-sim
# (GPIO17), the LED's line for each event is awaited (no sleeps), the LED
# line's level is checked after each press, and the counts and seqnos are
# compared end to end: driver -> button -> transport -> LED.
. /usr/lib/ipc-button/tests/lib/tap.sh

PRESSES=${PRESSES:-50}
# All registered mechanisms unless MECHANISMS names some.
[ -n "${MECHANISMS:-}" ] || MECHANISMS=$(ipc-button --list | awk '{ print $1 }')
run=/run/e2e
mkdir -p "$run"
chmod 700 "$run"
export IPC_BUTTON_RUNTIME_DIR=$run/rt

if ! insmod /lib/modules/ipc_button.ko; then
	tap_fail "the driver loads"
	tap_done
	exit 1
fi
# The overlay's device is bound by the time insmod returns.
if [ -c /dev/ipc-button0 ]; then
	tap_ok "driver loaded from the overlay: /dev/ipc-button0 exists"
else
	tap_fail "driver loaded from the overlay: /dev/ipc-button0 exists" "$(dmesg | tail -n 3)"
	tap_done
	exit 1
fi

# The button and LED lines' gpio-sim files, found once: a press is then a
# shell builtin write and a level check a builtin read, no process each
# (board-gpio does the same through a script, costly under TCG).
button_pull=$(board-gpio path GPIO17)/pull
led_value=$(board-gpio path GPIO18)/value
press() { echo pull-down >"$button_pull"; }
release() { echo pull-up >"$button_pull"; }

# stat_of FILE PROGRAM KEY: KEY's value in PROGRAM's last stats line.
stat_of() {
	grep "^$2: stats " "$1" | tail -n 1 | tr ' ' '\n' | sed -n "s/^$3=//p"
}

# expect_event WORD TYPE: the LED's next line says led=WORD for a TYPE.
expect_event() {
	if ! read -r -t 10 line <&5; then
		echo "# no LED line (wanted led=$1 ... event=$2)"
		return 1
	fi
	case "$line" in
	"led=$1 seqno="*" event=$2"*) return 0 ;;
	esac
	echo "# LED line '$line', wanted led=$1 ... event=$2"
	return 1
}

skip_reason() {
	case "$1" in
	# tests/board/bus-e2e.sh (suite 66-board-bus-e2e) starts a bus and a
	# broker on the board, then runs this script for dbus and mqtt.
	dbus) [ -n "${DBUS_SESSION_BUS_ADDRESS:-}" ] ||
		echo "no D-Bus daemon on the board: 66-board-bus-e2e starts one" ;;
	mqtt) [ -n "${IPC_BUTTON_E2E_BROKER:-}" ] ||
		echo "no MQTT broker on the board: 66-board-bus-e2e starts one" ;;
	# 60-board-e2e adds a CA and keys made on the host (make-certs).
	tls) [ -d "${CERTS:-}" ] ||
		echo "no certificates on the board (CERTS=DIR from make-certs)" ;;
	esac
}

e2e() {
	via=$1 log=$run/$1.log
	rm -f "$run/out" "$run/err" "$log"
	mkfifo -m 600 "$run/out" "$run/err"
	opts=
	# An ECDSA handshake under TCG with KASAN may take seconds: the
	# default bound (3 s) is for real boards.
	[ "$via" = tls ] && opts="--opt cert-dir=$CERTS --opt timeout=60000"
	# shellcheck disable=SC2086
	ipc-launch --via "$via" $opts --device /dev/ipc-button0 --line GPIO18 \
		--console --verbose >"$run/out" 2>"$run/err" &
	launcher=$!
	exec 5<"$run/out" 6<"$run/err"
	# The button says when it has the device open: then presses count.
	opened=
	while read -r -t 20 l <&6; do
		echo "$l" >>"$log"
		case "$l" in
		*"ipc-button: relaying device /dev/ipc-button0"*) opened=1; break ;;
		esac
	done
	cat <&6 >>"$log" &
	drain=$!
	bad=
	if [ -z "$opened" ]; then
		bad="the button never opened the device: $(tail -n 3 "$log" | tr '\n' ' ')"
	else
		state=0 i=1
		while [ "$i" -le "$PRESSES" ] && [ -z "$bad" ]; do
			state=$((1 - state))
			word=off
			[ "$state" = 1 ] && word=on
			press
			expect_event "$word" press || bad="press $i not applied"
			read -r level <"$led_value"
			[ -z "$bad" ] && [ "$level" != "$state" ] &&
				bad="LED line $level after press $i, want $state"
			release
			[ -z "$bad" ] && { expect_event "$word" release || bad="release $i not delivered"; }
			i=$((i + 1))
		done
	fi
	kill -TERM "$launcher"
	wait "$launcher"
	status=$?
	exec 5<&-
	wait "$drain"
	exec 6<&-
	if [ -n "$bad" ]; then
		tap_fail "$via: $PRESSES presses through gpio-sim reach GPIO18" "$bad"
		return
	fi
	tap_ok "$via: $PRESSES presses through gpio-sim, GPIO18 right after each"

	n=$((2 * PRESSES))
	# A mechanism that carries no payload may number events itself.
	renumbered=
	ipc-button --list --verbose | grep "^$via " | grep -q 'no-payload' && renumbered=1
	first=$(stat_of "$log" ipc-led first-seqno)
	last=$(stat_of "$log" ipc-led last-seqno)
	got="launcher $status, LED received=$(stat_of "$log" ipc-led received) lost=$(stat_of "$log" ipc-led lost) seqnos $first..$last state=$(stat_of "$log" ipc-led state), button events=$(stat_of "$log" ipc-button events) sent=$(stat_of "$log" ipc-button sent) overflowed=$(stat_of "$log" ipc-button overflowed) last-seqno=$(stat_of "$log" ipc-button last-seqno)"
	if [ "$status" = 0 ] &&
	   [ "$(stat_of "$log" ipc-led received)" = "$n" ] &&
	   [ "$(stat_of "$log" ipc-led lost)" = 0 ] &&
	   [ "$(stat_of "$log" ipc-led rejected)" = 0 ] &&
	   [ "$(stat_of "$log" ipc-led state)" = $((PRESSES % 2)) ] &&
	   [ $((last - first + 1)) = "$n" ] &&
	   [ "$(stat_of "$log" ipc-button events)" = "$n" ] &&
	   [ "$(stat_of "$log" ipc-button sent)" = "$n" ] &&
	   [ "$(stat_of "$log" ipc-button overflowed)" = 0 ] &&
	   { [ -n "$renumbered" ] || [ "$(stat_of "$log" ipc-button last-seqno)" = "$last" ]; }; then
		note=
		[ "$(stat_of "$log" ipc-button last-seqno)" = "$last" ] ||
			note=" (the receiver numbers them: no payload)"
		tap_ok "$via: $n events, seqnos $first..$last$note, counts match end to end"
	else
		tap_fail "$via: counts and seqnos match end to end" "$got"
	fi
}

for via in $MECHANISMS; do
	reason=$(skip_reason "$via")
	if [ -n "$reason" ]; then
		tap_skip "$via: presses on the board" "$reason"
		continue
	fi
	e2e "$via"
done
rmmod ipc_button && tap_ok "the driver unloads" || tap_fail "the driver unloads"
tap_done
