#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
#
# On the emulated board (busybox sh): the dbus and mqtt mechanisms end to
# end, with their daemons running on the board itself.
#  1. A system bus with the shipped policy (io.github.ipcbutton.Led.conf):
#     the LED process runs as user ipc (group ipc-button), not root, drives
#     GPIO18 and owns its name; the button process (root) reads
#     /dev/ipc-button0; presses through gpio-sim reach GPIO18, and the
#     State property (dbus-send) says so; user nobody may read State but
#     not call SetState.
#  2. mosquitto on 127.0.0.1:1883: presses reach GPIO18 and the LED's
#     retained state topic (mosquitto_sub) follows.
#  3. The general end-to-end test (tests/board/e2e.sh: PRESSES presses,
#     counts and seqnos matched) for dbus, on a private session-like bus,
#     and mqtt, on that broker.
# Prints TAP lines without a plan: the host suite numbers them.
. /usr/lib/ipc-button/tests/lib/tap.sh
BD_TOP=/usr/lib/ipc-button
. "$BD_TOP/tests/host/bus-daemons.sh"

PRESSES=${PRESSES:-50}
dir=/run/bus-e2e
NAME=io.github.ipcbutton.Led0
OBJ=/io/github/ipcbutton/Led
IFACE=io.github.ipcbutton.Led
mkdir -p "$dir" /run/dbus
chmod 755 "$dir"
# dbus-daemon wants a machine id; a board image would have one.
[ -s /etc/machine-id ] ||
	head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n' >/etc/machine-id

# led_line_until FD REGEX: read the LED's console lines until one matches.
led_line_until() {
	while read -r -t 20 l <&"$1"; do
		case "$l" in $2) return 0 ;; esac
	done
	return 1
}

# press_and_check VIA FD N: N presses; after each, the LED's line for the
# press and GPIO18 at the new state. Prints what went wrong, if anything.
press_and_check() {
	p_state=$(led) p_i=1
	while [ "$p_i" -le "$3" ]; do
		p_state=$((1 - p_state))
		p_word=off
		[ "$p_state" = 1 ] && p_word=on
		board-gpio press
		led_line_until "$2" "led=$p_word seqno=* event=press*" ||
			{ echo "press $p_i not applied"; return; }
		[ "$(led)" = "$p_state" ] || { echo "GPIO18 $(led) after press $p_i"; return; }
		board-gpio release
		led_line_until "$2" "led=$p_word seqno=* event=release*" ||
			{ echo "release $p_i not delivered"; return; }
		p_i=$((p_i + 1))
	done
}

# The LED's console lines come on fd 7, opened read-write so that neither
# side's open() waits for the other; its readiness byte on $dir/ready.
open_led_fifos() {
	rm -f "$dir/ready" "$dir/led.out"
	mkfifo "$dir/ready" "$dir/led.out"
	exec 7<>"$dir/led.out"
}

led_ready() {
	read -r -n 1 -t 20 r <"$dir/ready" && [ "$r" = R ]
}

# start_button [ipc-button options...]: a button on /dev/ipc-button0, in
# button_pid; returns once it says it relays the device (then presses
# count), its stderr kept in $dir/button.err.
start_button() {
	rm -f "$dir/button.fifo"
	mkfifo "$dir/button.fifo"
	ipc-button "$@" --device /dev/ipc-button0 --runtime-dir "$dir/rt" \
		--verbose 2>"$dir/button.fifo" &
	button_pid=$!
	exec 8<"$dir/button.fifo"
	: >"$dir/button.err"
	while read -r -t 20 l <&8; do
		echo "$l" >>"$dir/button.err"
		case "$l" in *"relaying device /dev/ipc-button0"*) break ;; esac
	done
	cat <&8 >>"$dir/button.err" &
	exec 8<&-
}

# Stop the button start_button started, and the LED whose console
# open_led_fifos opened on fd 7.
stop_button() {
	kill -TERM "$button_pid"
	wait "$button_pid"
}

stop_led() {
	kill -TERM "$led_pid" 2>/dev/null
	wait "$led_pid"
	exec 7<&-
}

if ! insmod /lib/modules/ipc_button.ko || [ ! -c /dev/ipc-button0 ]; then
	tap_fail "the driver loads from the overlay" "$(dmesg | tail -n 3 | tr '\n' ' ')"
	exit 1
fi

# --- 1. the system bus, its policy, the LED as user ipc ----------------------
cat >"$dir/system.conf" <<CONF
<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>system</type>
  <auth>EXTERNAL</auth>
  <listen>unix:path=/run/dbus/system_bus_socket</listen>
  <policy context="default">
    <allow user="*"/>
    <deny own="*"/>
    <deny send_type="method_call"/>
    <allow send_type="signal"/>
    <allow send_requested_reply="true" send_type="method_return"/>
    <allow send_requested_reply="true" send_type="error"/>
    <allow receive_type="method_call"/>
    <allow receive_type="method_return"/>
    <allow receive_type="error"/>
    <allow receive_type="signal"/>
    <allow send_destination="org.freedesktop.DBus" send_interface="org.freedesktop.DBus"/>
    <allow send_destination="org.freedesktop.DBus" send_interface="org.freedesktop.DBus.Introspectable"/>
    <allow send_destination="org.freedesktop.DBus" send_interface="org.freedesktop.DBus.Properties"/>
  </policy>
  <include>$BD_TOP/userspace/dbus/io.github.ipcbutton.Led.conf</include>
</busconfig>
CONF
if bd_dbus_start "$dir/system" "$dir/system.conf" /run/dbus/system_bus_socket; then
	system_bus=$BD_DBUS_PID
	tap_ok "dbus-daemon runs on the board as a system bus with the shipped policy"
	# The LED line's chip, for the group as the udev rule does on a Pi.
	chgrp ipc-button /dev/gpiochip* && chmod 660 /dev/gpiochip*
	mkdir -p "$dir/ipc" && chown ipc "$dir/ipc"
	open_led_fifos
	su ipc -s /bin/sh -c "exec ipc-led --via dbus --opt bus=system --line GPIO18 \
		--console --runtime-dir $dir/ipc/rt --ready-fd 3" \
		3>"$dir/ready" >"$dir/led.out" 2>"$dir/led.err" &
	led_pid=$!
	if led_ready; then
		tap_ok "dbus: the LED runs as user ipc (group ipc-button), not root, and owns $NAME"
		start_button --via dbus --opt bus=system
		bad=$(press_and_check dbus 7 3)
		if [ -z "$bad" ]; then
			tap_ok "dbus: 3 presses through gpio-sim reach GPIO18 over the system bus"
		else
			tap_fail "dbus: presses reach GPIO18 over the system bus" "$bad: $(cat "$dir/button.err" "$dir/led.err" | tr '\n' ' ')"
		fi
		state=$(dbus-send --system --print-reply --dest=$NAME $OBJ \
			org.freedesktop.DBus.Properties.Get string:$IFACE string:State 2>&1 |
			sed -n 's/.*boolean //p')
		if [ "$state" = true ] && [ "$(led)" = 1 ]; then
			tap_ok "dbus: State (dbus-send) is true, like GPIO18, after 3 presses"
		else
			tap_fail "dbus: State follows GPIO18" "State '$state', GPIO18 $(led)"
		fi
		out=$(su nobody -s /bin/sh -c "dbus-send --system --print-reply --dest=$NAME $OBJ \
			org.freedesktop.DBus.Properties.Get string:$IFACE string:State" 2>&1)
		out2=$(su nobody -s /bin/sh -c "dbus-send --system --print-reply --dest=$NAME $OBJ \
			$IFACE.SetState array:byte:1,2,3" 2>&1)
		if echo "$out" | grep -q 'boolean true' && echo "$out2" | grep -q AccessDenied; then
			tap_ok "dbus: user nobody may read State but the policy refuses its SetState"
		else
			tap_fail "dbus: the policy on the board" "read: $out; call: $out2"
		fi
		stop_button
	else
		tap_fail "dbus: the LED runs as user ipc and owns its name" "$(tr '\n' ' ' <"$dir/led.err")"
	fi
	stop_led
	BD_DBUS_PID=$system_bus
	bd_dbus_stop
else
	tap_fail "dbus-daemon runs on the board as a system bus" "$(cat "$dir/system/dbus.log")"
fi

# --- 2. the broker, the retained state ----------------------------------------
if bd_mqtt_start "$dir/mqtt" 1883; then
	tap_ok "mosquitto runs on the board (127.0.0.1:1883, sessions kept in $dir/mqtt)"
	broker_up=1
	open_led_fifos
	ipc-led --via mqtt --opt host=127.0.0.1 --line GPIO18 --console \
		--runtime-dir "$dir/rt" --ready-fd 3 \
		3>"$dir/ready" >"$dir/led.out" 2>"$dir/led.err" &
	led_pid=$!
	if led_ready; then
		start_button --via mqtt --opt host=127.0.0.1
		bad=$(press_and_check mqtt 7 3)
		retained=$(mosquitto_sub -h 127.0.0.1 -t ipc-button/0/led -C 1 -W 5 2>&1)
		if [ -z "$bad" ] && [ "$retained" = 1 ] && [ "$(led)" = 1 ]; then
			tap_ok "mqtt: 3 presses reach GPIO18 through the broker; ipc-button/0/led retains 1"
		else
			tap_fail "mqtt: presses reach GPIO18, state retained" "${bad:-presses fine}; retained '$retained', GPIO18 $(led): $(cat "$dir/button.err" "$dir/led.err" | tr '\n' ' ')"
		fi
		stop_button
	else
		tap_fail "mqtt: the LED connects to the broker on the board" "$(tr '\n' ' ' <"$dir/led.err")"
	fi
	stop_led
else
	tap_fail "mosquitto runs on the board" "$(tail -n 3 "$dir/mqtt/mosquitto.log" 2>/dev/null | tr '\n' ' ')"
	broker_up=
fi
rmmod ipc_button

# --- 3. the general end-to-end test, for dbus and mqtt --------------------------
if bd_dbus_start "$dir/session"; then
	tap_ok "a private session-like dbus-daemon runs on the board"
	export DBUS_SESSION_BUS_ADDRESS="$BD_DBUS_ADDRESS"
fi
[ -n "$broker_up" ] && export IPC_BUTTON_E2E_BROKER=127.0.0.1:1883
# e2e.sh ends with its own plan: ours is the host's.
MECHANISMS="dbus mqtt" PRESSES=$PRESSES sh /root/e2e.sh | grep -v '^1\.\.'
bd_dbus_stop
bd_mqtt_stop
# e2e.sh's status is in its TAP lines; ours: did our own lines pass?
[ "$tap_failed" = 0 ]
