# SPDX-License-Identifier: MIT
# Test settings of the mqtt mechanism (sourced by tests/host/lib.sh's
# hl_mechanism, which already put a free port in MECH_OPTS): a private
# mosquitto broker on that loopback port, keeping its sessions in the
# suite's directory, started before the mechanism's tests and stopped
# after them.
. "$TOP/tests/host/bus-daemons.sh"

if ! command -v mosquitto >/dev/null; then
	MECH_SKIP="mosquitto is not installed (apt install mosquitto)"
fi

mech_setup() {
	local i port=
	for ((i = 0; i < ${#MECH_OPTS[@]}; i++)); do
		case "${MECH_OPTS[i]}" in port=*) port=${MECH_OPTS[i]#port=} ;; esac
	done
	[ -n "$port" ] || { port=$(bd_free_port); MECH_OPTS+=(--opt "port=$port"); }
	bd_mqtt_start "$HL_DIR/mqtt" "$port" || return 1
	hl_pids+=("$BD_MQTT_PID")
	MECH_OPTS+=(--opt host=127.0.0.1)
}

mech_teardown() {
	bd_mqtt_stop
}
