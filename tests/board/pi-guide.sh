#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
#
# Guest side of tests/suites/75-board-pi-guide: docs/raspberry-pi.md from
# step 4 on, on the emulated board booted with the installed overlay. The
# host put the installed tree in place and wrote /root/pi-guide.env:
#   KO          the module DKMS built from /usr/src/ipc-button-VERSION
#   RULE        the installed udev rule
#   LED_CMD     ExecStart of ipc-button-led@fifo.service, settings applied
#   BUTTON_CMD  ExecStart of ipc-button-button@fifo.service, settings applied
#   DEBOUNCE    the debounce= of the guide's dtoverlay= line ('' if unused)
. /usr/lib/ipc-button/tests/lib/tap.sh
. /usr/lib/ipc-button/tests/lib/wait.sh
. /root/pi-guide.env

run_dir=/run/ipc-button
cleanup() {
	[ -n "${button_pid:-}" ] && kill "$button_pid" 2>/dev/null
	[ -n "${led_pid:-}" ] && kill "$led_pid" 2>/dev/null
	wait 2>/dev/null
}
trap cleanup EXIT

# Step 4: the module DKMS built, where dkms install puts it.
if insmod "$KO"; then
	tap_ok "the DKMS-built module loads: insmod $KO"
else
	tap_fail "the DKMS-built module loads: insmod $KO" "$(dmesg | tail -n 3)"
	tap_done
	exit 1
fi
grep -q "^ipc_button " /proc/modules && tap_ok "ipc_button is in /proc/modules" ||
	tap_fail "ipc_button is in /proc/modules"

# Step 5: the overlay's node made a device, with the dtoverlay= parameters.
if wait_for 5 test -c /dev/ipc-button0; then
	tap_ok "/dev/ipc-button0 appears for the installed overlay's node"
else
	tap_fail "/dev/ipc-button0 appears" "$(dmesg | grep -i ipc | tail -n 3)"
	tap_done
	exit 1
fi
sys=/sys/class/ipc-button/ipc-button0
if [ -n "$DEBOUNCE" ]; then
	got=$(cat "$sys/debounce_ms" 2>&1)
	[ "$got" = "$DEBOUNCE" ] && tap_ok "dtoverlay=ipc-button,debounce=$DEBOUNCE reaches the driver (debounce_ms $got)" ||
		tap_fail "dtoverlay=ipc-button,debounce=$DEBOUNCE reaches the driver" "debounce_ms: $got"
fi
state=$(cat "$sys/state" 2>&1)
[ "$state" = released ] && tap_ok "the button reads released through the pull-up" ||
	tap_fail "the button reads released through the pull-up" "state: $state"

# The board has no udev: apply the installed rule's group and mode for the
# button device (its line names KERNEL=="ipc-button..."; another line is
# for the GPIO chips) the way udev would, then check them as the guide
# does (ls -l).
group=$(sed -n '/KERNEL=="ipc-button/ s/.*GROUP="\([^"]*\)".*/\1/p' "$RULE")
mode=$(sed -n '/KERNEL=="ipc-button/ s/.*MODE="\([^"]*\)".*/\1/p' "$RULE")
chgrp "$group" /dev/ipc-button0 && chmod "$mode" /dev/ipc-button0
perms=$(stat -c '%A %U %G' /dev/ipc-button0)
[ "$perms" = "crw-rw---- root ipc-button" ] && tap_ok "the udev rule's device: $perms" ||
	tap_fail "the udev rule's device is crw-rw---- root ipc-button" "$perms"
if su -s /bin/sh nobody -c 'exec 3</dev/ipc-button0' 2>/dev/null; then
	tap_fail "someone outside the group ipc-button cannot open the device"
else
	tap_ok "someone outside the group ipc-button cannot open the device"
fi

# Step 6: the services' commands, as their unit runs them. The board has no
# systemd: what the unit sets up is done here by hand. User: the board's
# ipc, a member of ipc-button as the service user is. RuntimeDirectory=:
# /run/ipc-button, 0700, owned by that user. The GPIO chips: group gpio on
# Raspberry Pi OS; here the same group as the device.
chgrp ipc-button /dev/gpiochip* && chmod 0660 /dev/gpiochip*
mkdir -p "$run_dir" && chown ipc:ipc "$run_dir" && chmod 0700 "$run_dir"
# As the service user, with the unit's environment. Run in the background
# (a subshell): exec, so that $! is the program itself, as systemd's
# main PID is, and SIGTERM reaches it.
as_service() {
	exec su -s /bin/sh ipc -c "IPC_BUTTON_RUNTIME_DIR=$run_dir exec $*"
}

echo "# uptime $(cut -d' ' -f1 /proc/uptime) s: starting the LED service command"
as_service "$LED_CMD" >/tmp/led.log 2>&1 &
led_pid=$!
if wait_for 10 line_requested GPIO18 ipc-led; then
	tap_ok "LED service command holds GPIO18: $LED_CMD"
else
	tap_fail "LED service command holds GPIO18: $LED_CMD" "$(cat /tmp/led.log)"
fi
echo "# uptime $(cut -d' ' -f1 /proc/uptime) s: starting the button service command"
as_service "$BUTTON_CMD" >/tmp/button.log 2>&1 &
button_pid=$!
if wait_for 10 sh -c 'pid=$(pidof ipc-button) && ls -l /proc/$pid/fd | grep -q ipc-button0'; then
	tap_ok "button service command opens the device as user ipc: $BUTTON_CMD"
else
	tap_fail "button service command opens the device as user ipc" "$(cat /tmp/button.log)"
fi

# Press: the LED toggles on; press again: off.
want=1
for click in 1 2; do
	press GPIO17
	if wait_for 5 sh -c "[ \$(led) = $want ]"; then
		tap_ok "click $click: the LED is $want"
	else
		tap_fail "click $click: the LED is $want" "led: $(led); $(tail -n 2 /tmp/led.log)"
	fi
	want=$((1 - want))
done

# Objects 0600 (or a directory 0700) in the runtime directory, owned by
# the service user, and nothing left behind once both stop (SIGTERM, as
# systemctl stop sends).
objects=$(ls -ln "$run_dir" | awk 'NR > 1 && ($3 != 1000 || $1 !~ /^.rw-------|^drwx------|^srwx------/)')
[ -z "$objects" ] && tap_ok "objects in $run_dir belong to the service user, mode 0600" ||
	tap_fail "objects in $run_dir belong to the service user, mode 0600" "$objects"
kill -TERM "$button_pid" "$led_pid"
wait "$button_pid"
bs=$?
wait "$led_pid"
ls=$?
button_pid= led_pid=
[ "$bs" = 0 ] && [ "$ls" = 0 ] && tap_ok "both stop cleanly on SIGTERM (systemctl stop)" ||
	tap_fail "both stop cleanly on SIGTERM" "button $bs, led $ls: $(tail -n 2 /tmp/led.log /tmp/button.log)"
left=$(ls -A "$run_dir")
[ -z "$left" ] && tap_ok "no object left in $run_dir after the services stop" ||
	tap_fail "no object left in $run_dir after the services stop" "$left"
grep -q 'stats via=fifo .*changes=2 .*state=0' /tmp/led.log &&
	tap_ok "the LED counted 2 changes and ended off: $(grep -o 'received=[0-9]* rejected=[0-9]*' /tmp/led.log)" ||
	tap_fail "the LED counted 2 changes" "$(tail -n 1 /tmp/led.log)"

rmmod ipc_button && tap_ok "the module unloads (rmmod ipc_button)" ||
	tap_fail "the module unloads"
tap_done
