# SPDX-License-Identifier: MIT
# Shared by the network suites (tests/suites/3x-net-*), after tap.sh and
# lib.sh: a private network namespace for the whole suite, so that only its
# own loopback is ever addressed and no port clashes with anything else,
# and starting the LED or the button inside one of the suite's namespaces.

# net_private_netns "$@": run this suite again inside a new network
# namespace with only lo, up. Skips the whole suite (TAP) where that is
# not possible (not root, no unshare).
net_private_netns() {
	if [ -z "${NET_SUITE_INSIDE:-}" ]; then
		if ! unshare -n true 2>/dev/null; then
			echo "ok 1 - network suite # SKIP needs root for a private network namespace (unshare -n)"
			echo "1..1"
			exit 0
		fi
		NET_SUITE_INSIDE=1 exec unshare -n "$0" "$@"
	fi
	ip link set lo up
}

# The LED's stats line, and the kernel's datagram drops it reported.
net_kernel_drops() {
	local n
	n=$(sed -n 's/.*the kernel dropped \([0-9]*\) datagrams.*/\1/p' "$1" | tail -n 1)
	echo "${n:-0}"
}

# net_start_led NAME NETNS [ipc-led args...]: hl_start_led inside NETNS
# (empty: this one).
net_start_led() {
	local name=$1 ns=$2 fd byte
	shift 2
	local prefix=()
	[ -n "$ns" ] && prefix=(ip netns exec "$ns")
	exec {fd}< <(hl_close_handles
		exec "${prefix[@]}" "$BIN/ipc-led" --via "$VIA" "${MECH_OPTS[@]}" \
		--ready-fd 3 "$@" 3>&1 2>"$HL_DIR/$name.err")
	LED_PID[$name]=$!
	LED_FD[$name]=$fd
	LED_LINES[$name]=0
	LED_LAST[$name]=
	hl_pids+=("$!")
	if ! read -r -N 1 -t "$WAIT_S" -u "$fd" byte || [ "$byte" != R ]; then
		echo "# $name not ready: $(tr '\n' ' ' <"$HL_DIR/$name.err")"
		return 1
	fi
}

# net_button NAME NETNS [ipc-button args...]: run a button to its end
# (stderr in $HL_DIR/NAME.err); returns its status.
net_button() {
	local name=$1 ns=$2
	shift 2
	local prefix=()
	[ -n "$ns" ] && prefix=(ip netns exec "$ns")
	timeout "$WAIT_S" "${prefix[@]}" "$BIN/ipc-button" --via "$VIA" \
		"${MECH_OPTS[@]}" "$@" 2>"$HL_DIR/$name.err"
}

# net_wait_log FILE REGEX: block (at most WAIT_S) until a line matching
# REGEX is in FILE, a log another process is writing.
net_wait_log() {
	timeout "$WAIT_S" grep -q -m 1 -e "$2" <(exec tail -n +1 -f "$1") 2>/dev/null
}

# net_check WHAT FILE key=value...: one TAP line from the LED's stats.
net_check() {
	local what=$1 bad
	shift
	bad=$(hl_expect_stats "$@")
	if [ -z "$bad" ]; then tap_ok "$what"; else tap_fail "$what" "$bad $(tail -n 4 "$1" | tr '\n' ' ')"; fi
}

# net_mechanism VIA: hl_mechanism plus its setup hook (a free port, tls
# certificates). Undo with net_mechanism_end.
net_mechanism() {
	hl_mechanism "$1"
	if declare -F mech_setup >/dev/null; then mech_setup || return 1; fi
	return 0
}

net_mechanism_end() {
	if declare -F mech_teardown >/dev/null; then mech_teardown; fi
	return 0
}
