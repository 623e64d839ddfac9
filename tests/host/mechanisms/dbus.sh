# SPDX-License-Identifier: MIT
# Test settings of the dbus mechanism (sourced by tests/host/lib.sh's
# hl_mechanism): a private bus of the suite's own, like a session bus,
# started before the mechanism's tests and stopped after them.
. "$TOP/tests/host/bus-daemons.sh"

if ! command -v dbus-daemon >/dev/null; then
	MECH_SKIP="dbus-daemon is not installed (apt install dbus-daemon)"
fi

mech_setup() {
	bd_dbus_start "$HL_DIR/dbus" || return 1
	hl_pids+=("$BD_DBUS_PID")
	MECH_OPTS+=(--opt "bus=$BD_DBUS_ADDRESS")
}

mech_teardown() {
	bd_dbus_stop
}
