# SPDX-License-Identifier: MIT
# Private message bus daemons for the dbus and mqtt tests, on the host
# (bash) and on the board (busybox sh): a dbus-daemon and a mosquitto
# broker that belong to the test, live in a directory of the test (never
# /tmp), and are ready when the start function returns: readiness comes
# from the daemons themselves (the address dbus-daemon prints once it
# listens, the line mosquitto logs once its listener is open), no sleeps.
#
#   . tests/host/bus-daemons.sh
#   bd_dbus_start DIR [CONFIG [SOCKET]]
#                                 BD_DBUS_ADDRESS, BD_DBUS_PID
#   bd_dbus_stop
#   bd_mqtt_start DIR PORT [EXTRA_CONFIG]
#                                 BD_MQTT_PID; listens on BD_MQTT_BIND
#                                 (default 127.0.0.1), keeps its sessions in
#                                 DIR/mosquitto, logs to DIR/mosquitto.log
#   bd_mqtt_stop [SIGNAL]         TERM (default) saves its sessions
#   bd_free_port                  a free loopback TCP port
# BD_EXEC, when set, prefixes the daemons' command lines (e.g.
# "ip netns exec NAME" to run the broker inside a network namespace).
# Every function returns non-zero, with a line on stderr, when it fails.

BD_TOP=${BD_TOP:-$(cd "$(dirname "${BASH_SOURCE:-$0}")/../.." 2>/dev/null && pwd)}
BD_DBUS_PID=
BD_MQTT_PID=
BD_MQTT_DRAIN=

# In a daemon's subshell: close what the test holds open (the write ends of
# its programs' input pipes...), or the daemon would keep those open, and
# a program reading one would never see its end. Descriptors 0-9 are the
# shell's own; bash numbers the ones it allocates from 10 on.
bd_close_inherited() {
	[ -n "${BASH_VERSION:-}" ] || return 0
	for bd_fd in /proc/$BASHPID/fd/*; do
		bd_fd=${bd_fd##*/}
		[ "$bd_fd" -gt 9 ] 2>/dev/null && eval "exec $bd_fd>&-"
	done 2>/dev/null
	return 0
}

# bd_dbus_start DIR [CONFIG [SOCKET]]: a bus listening on SOCKET (default
# DIR/bus), by default like a session bus (userspace/dbus/private-bus.conf).
bd_dbus_start() {
	bd_dir=$1
	bd_conf=${2:-$BD_TOP/userspace/dbus/private-bus.conf}
	bd_socket=${3:-$1/bus}
	mkdir -p "$bd_dir" || return 1
	rm -f "$bd_dir/dbus.address"
	mkfifo -m 600 "$bd_dir/dbus.address" || return 1
	# The daemon writes its address to fd 3 once it accepts connections.
	(bd_close_inherited
	 exec ${BD_EXEC:-} dbus-daemon --config-file="$bd_conf" --nofork --nosyslog \
		--address="unix:path=$bd_socket" --print-address=3 \
		3>"$bd_dir/dbus.address" </dev/null 2>"$bd_dir/dbus.log") &
	BD_DBUS_PID=$!
	BD_DBUS_ADDRESS=
	read -r BD_DBUS_ADDRESS <"$bd_dir/dbus.address"
	rm -f "$bd_dir/dbus.address"
	if [ -z "$BD_DBUS_ADDRESS" ]; then
		echo "bus-daemons: dbus-daemon did not start: $(cat "$bd_dir/dbus.log")" >&2
		wait "$BD_DBUS_PID" 2>/dev/null
		BD_DBUS_PID=
		return 1
	fi
	# Clients need only the path: drop the guid.
	BD_DBUS_ADDRESS=${BD_DBUS_ADDRESS%%,guid=*}
}

bd_dbus_stop() {
	[ -n "$BD_DBUS_PID" ] || return 0
	kill -TERM "$BD_DBUS_PID" 2>/dev/null
	wait "$BD_DBUS_PID" 2>/dev/null
	BD_DBUS_PID=
}

# bd_mqtt_start DIR PORT [EXTRA_CONFIG]: a broker that keeps sessions
# (persistence, unlimited queues for absent clients), anonymous unless
# EXTRA_CONFIG (appended to the listener) says otherwise.
bd_mqtt_start() {
	bd_dir=$1
	bd_port=$2
	bd_extra=${3:-}
	bd_ready=
	mkdir -p "$bd_dir/mosquitto" || return 1
	{
		echo "listener $bd_port ${BD_MQTT_BIND:-127.0.0.1}"
		if [ -n "$bd_extra" ]; then
			cat "$bd_extra"
		else
			echo "allow_anonymous true"
		fi
		echo "persistence true"
		echo "persistence_location $bd_dir/mosquitto/"
		# An absent LED's events wait for it, however many.
		echo "max_queued_messages 0"
		echo "log_dest stderr"
		echo "log_type error"
		echo "log_type warning"
		echo "log_type notice"
		echo "log_type information"
		# As root mosquitto would switch to a "mosquitto" user that
		# cannot write the test's directory.
		[ "$(id -u)" = 0 ] && echo "user root"
	} >"$bd_dir/mosquitto.conf"
	rm -f "$bd_dir/mosquitto.fifo"
	mkfifo -m 600 "$bd_dir/mosquitto.fifo" || return 1
	(bd_close_inherited
	 exec ${BD_EXEC:-} mosquitto -c "$bd_dir/mosquitto.conf" </dev/null 2>"$bd_dir/mosquitto.fifo") &
	BD_MQTT_PID=$!
	# "mosquitto version X running" comes after its listeners are open.
	exec 8<"$bd_dir/mosquitto.fifo"
	rm -f "$bd_dir/mosquitto.fifo"
	while IFS= read -r bd_line <&8; do
		echo "$bd_line" >>"$bd_dir/mosquitto.log"
		case "$bd_line" in
		*" running") bd_ready=1; break ;;
		esac
	done
	# Keep draining its log, or it would block on a full pipe.
	(bd_close_inherited; exec cat <&8 >>"$bd_dir/mosquitto.log") &
	BD_MQTT_DRAIN=$!
	exec 8<&-
	if [ -z "$bd_ready" ]; then
		echo "bus-daemons: mosquitto did not start: $(tail -n 3 "$bd_dir/mosquitto.log" | tr '\n' ' ')" >&2
		bd_mqtt_stop KILL
		return 1
	fi
}

bd_mqtt_stop() {
	[ -n "$BD_MQTT_PID" ] || return 0
	kill "-${1:-TERM}" "$BD_MQTT_PID" 2>/dev/null
	wait "$BD_MQTT_PID" 2>/dev/null
	wait "$BD_MQTT_DRAIN" 2>/dev/null
	BD_MQTT_PID=
	BD_MQTT_DRAIN=
}

bd_free_port() {
	python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
