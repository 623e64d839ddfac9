# SPDX-License-Identifier: MIT
# Shared by the host suites (bash): where the programs are, a private
# runtime directory and instance per suite, starting the LED with its
# readiness byte, reading its console lines, parsing stats lines, and
# looking for IPC objects left behind. Source it after tests/lib/tap.sh.

TOP=${TOP:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
BUILD=${IPC_BUTTON_BUILD:-$TOP/build/host}
BIN=$BUILD/bin
TESTBIN=$BUILD/tests
# Upper bound of any single wait, so a broken mechanism fails, never hangs.
WAIT_S=${IPC_BUTTON_TEST_WAIT:-20}
# Set, the suite's directory (the programs' stderr, a broker's log...)
# stays for a look after the run, its path on a TAP comment line.
KEEP_DIR=${IPC_BUTTON_TEST_KEEP:-}

hl_pids=()

# Ports: where it may (root, unshare), a host suite runs in a network
# namespace of its own with only its loopback, so two runs at once (two
# clones, two `make check`) never meet on a port: a free port found by one
# run can never be taken by the other meanwhile. Elsewhere the suite runs
# as it is, on ports the kernel says are free. The network suites make
# their namespace themselves (net_private_netns).
hl_private_net() {
	[ -n "${NET_SUITE_INSIDE:-}" ] && return 0
	[ "$(id -u)" = 0 ] && unshare -n true 2>/dev/null || return 0
	NET_SUITE_INSIDE=1 exec unshare -n bash -c 'ip link set lo up && exec "$@"' \
		suite "$0"
}

# A private directory under the runtime root (never /tmp), the runtime
# directory the programs will create 0700 inside it, and an instance name
# no concurrent run shares: the runtime directory and with it the System V
# keys (lib/key_record.h) are this run's, POSIX names carry the instance.
hl_setup() {
	local root=${XDG_RUNTIME_DIR:-/run}
	[ -x "$BIN/ipc-led" ] || { echo "Bail out! no programs in $BIN (run: make userspace)"; exit 1; }
	hl_private_net
	HL_DIR=$(mktemp -d "$root/ipc-button-test.XXXXXX") || exit 1
	chmod 700 "$HL_DIR"
	RUNTIME=$HL_DIR/rt
	INSTANCE=t$$
	export IPC_BUTTON_RUNTIME_DIR=$RUNTIME IPC_BUTTON_INSTANCE=$INSTANCE
	read -r HL_MAIN_PID _ </proc/self/stat
	# A program that ended must fail our writes to it, not kill the suite.
	trap '' PIPE
	# Subshells inherit the trap (one killed before it execs runs it),
	# and $BASHPID can be stale there: ask the kernel who we are; only
	# the suite itself cleans up.
	hl_cleanup_also :
}

# hl_cleanup_also FUNCTION: at exit the suite runs hl_cleanup, then
# FUNCTION (its own namespaces, daemons...). Never $BASHPID for "are we
# the suite": in a subshell forked for `cmd &` and killed before it
# execs (hl_reap's watchdog), it can still read the suite's PID, and that
# subshell would then kill the suite's processes and remove HL_DIR.
hl_cleanup_also() {
	trap "{ read -r hl_self _ </proc/self/stat; [ \"\$hl_self\" = \"\$HL_MAIN_PID\" ] && { hl_cleanup; $1; }; } 2>/dev/null" EXIT
}

hl_cleanup() {
	local pid
	for pid in "${hl_pids[@]}"; do
		kill -KILL "$pid" 2>/dev/null
	done
	wait 2>/dev/null
	if [ -n "$KEEP_DIR" ]; then
		echo "# kept $HL_DIR (IPC_BUTTON_TEST_KEEP)"
	else
		rm -rf "$HL_DIR"
	fi
}

# Read the mechanism's test settings: MECH_OPTS (extra arguments for every
# program), MECH_SKIP (a reason not to test it here), and optional
# mech_setup / mech_teardown functions, from tests/host/mechanisms/NAME.sh
# when the mechanism needs more than its defaults. An option named port
# gets a free port, so concurrent runs do not collide.
hl_mechanism() {
	VIA=$1
	MECH_OPTS=()
	MECH_SKIP=
	unset -f mech_setup mech_teardown
	MECH_FLAGS=$("$BIN/ipc-button" --list --verbose |
		awk -v m="$VIA" '$1 == m { f = $NF; if (f !~ /^\[/) f = ""; print $2, $3, f }')
	if "$BIN/ipc-button" --list-options "$VIA" | grep -q '^port='; then
		MECH_OPTS+=(--opt "port=$(hl_free_port)")
	fi
	local hook=$TOP/tests/host/mechanisms/$VIA.sh
	# shellcheck disable=SC1090
	[ -e "$hook" ] && . "$hook"
	return 0
}

hl_lossless() { case "$MECH_FLAGS" in *lossless*) return 0 ;; esac; return 1; }

hl_free_port() {
	python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# Mechanisms the suite covers: all registered, or $IPC_BUTTON_TEST_VIA.
hl_mechanisms() {
	if [ -n "${IPC_BUTTON_TEST_VIA:-}" ]; then
		echo "$IPC_BUTTON_TEST_VIA" | tr ', ' '\n\n' | grep .
	else
		"$BIN/ipc-button" --list | awk '{ print $1 }'
	fi
}

# hl_run_halves SUITE: run SUITE as two halves of hl_mechanisms at once
# and re-emit their results, in order, as ours. Suites that are mostly
# the programs waiting on each other halve their time so; each half is a
# run of its own (directory, instance name, network namespace), exactly
# as two `make check` runs at once are.
hl_run_halves() {
	local suite=$1 all half=() i=0 m line text pids=() out
	mapfile -t all < <(hl_mechanisms)
	for m in "${all[@]}"; do
		half[i % 2]+="${half[i % 2]:+,}$m"
		i=$((i + 1))
	done
	out=$(mktemp -d "${XDG_RUNTIME_DIR:-/run}/ipc-button-halves.XXXXXX") || return 1
	for i in 0 1; do
		[ -n "${half[i]:-}" ] || continue
		IPC_BUTTON_TEST_VIA=${half[i]} "$suite" >"$out/$i" 2>&1 &
		pids+=($!)
	done
	for i in "${!pids[@]}"; do
		wait "${pids[i]}" || echo $? >"$out/status.$i"
	done
	for i in 0 1; do
		[ -f "$out/$i" ] || continue
		# A half that ended in error without saying which test failed.
		if [ -f "$out/status.$i" ] && ! grep -q '^not ok' "$out/$i"; then
			tap_fail "the half ${half[i]} exited with status $(cat "$out/status.$i")"
		fi
		while IFS= read -r line; do
			case "$line" in
			"not ok "*) tap_fail "${line#*- }" ;;
			"ok "*"# SKIP"*)
				text=${line#*- }
				tap_skip "${text%% # SKIP*}" "${text#* # SKIP }" ;;
			"ok "*) tap_ok "${line#*- }" ;;
			1..*) ;;
			*) echo "$line" ;;
			esac
		done <"$out/$i"
	done
	rm -rf "$out"
}

hl_inherited() { case "$MECH_FLAGS" in *inherited*) return 0 ;; esac; return 1; }
hl_durable() { case "$MECH_FLAGS" in *durable*) return 0 ;; esac; return 1; }
hl_no_payload() { case "$MECH_FLAGS" in *no-payload*) return 0 ;; esac; return 1; }

# In a child: close the ends of the other processes' pipes we hold, or
# a button would never see the end of its input while a LED started after
# it lives.
hl_close_handles() {
	local fd
	trap - EXIT
	for fd in "${BUTTON_IN[@]}" "${LED_FD[@]}"; do
		# Closing a process substitution's end makes bash try to reap
		# it, which only its parent can: hush that attempt.
		[ -n "$fd" ] && { eval "exec $fd>&-"; } 2>/dev/null
	done
	return 0
}

# hl_start_led NAME [ipc-led args...]: start the LED with its console
# lines on a pipe we read (fd in LED_FD[NAME]), stderr in $HL_DIR/NAME.err,
# and wait for its readiness byte. PID in LED_PID[NAME].
declare -A LED_FD LED_PID LED_LINES LED_LAST
hl_start_led() {
	local name=$1 fd byte
	shift
	exec {fd}< <(hl_close_handles
		exec "$BIN/ipc-led" --via "$VIA" "${MECH_OPTS[@]}" \
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
	hl_note_keys	# its System V key, if it recorded one
}

# hl_led_lines NAME N: block until the LED printed N lines in all.
hl_led_lines() {
	local name=$1 want=$2 line
	while [ "${LED_LINES[$name]}" -lt "$want" ]; do
		if ! read -r -t "$WAIT_S" -u "${LED_FD[$name]}" line; then
			echo "# $name: only ${LED_LINES[$name]} of $want lines"
			return 1
		fi
		LED_LINES[$name]=$((LED_LINES[$name] + 1))
		LED_LAST[$name]=$line
	done
}

# hl_stop_led NAME [SIGNAL]: stop it (SIGTERM by default), reap it, close
# our end; its exit status in LED_STATUS.
hl_stop_led() {
	local name=$1 sig=${2:-TERM}
	kill "-$sig" "${LED_PID[$name]}" 2>/dev/null
	hl_wait_led "$name"
}

# hl_freeze_led NAME: SIGSTOP the LED and return once it has stopped.
# kill(2) only queues the stop: a LED asleep in msgrcv(), semop() or
# mq_receive() can still be handed an event by the kernel (these calls
# complete a sleeper's operation on its behalf) until it runs and stops.
# An event taken so is not "unread", so tests of unread events must start
# sending only once the LED is really stopped (state T in /proc).
hl_freeze_led() {
	local pid=${LED_PID[$1]} state i
	kill -STOP "$pid" || return 1
	for ((i = 0; i < WAIT_S * 100; i++)); do
		state=$(sed 's/.*) //' "/proc/$pid/stat" 2>/dev/null) || return 1
		case "$state" in T*|t*) return 0 ;; esac
		sleep 0.01
	done
	echo "# $1: pid $pid did not stop within ${WAIT_S} s"
	return 1
}

hl_wait_led() {
	local name=$1 line
	# Drain its output so it cannot block on a full pipe while exiting;
	# end of file is its exit. A watchdog bounds a LED that never ends.
	while read -r -t "$WAIT_S" -u "${LED_FD[$name]}" line; do :; done
	hl_reap "${LED_PID[$name]}"
	LED_STATUS=$HL_STATUS
	exec {LED_FD[$name]}<&-
}

# hl_stat FILE KEY: the value of KEY=... in the last stats line of FILE.
hl_stat() {
	grep ': stats ' "$1" | tail -n 1 | tr ' ' '\n' | sed -n "s/^$2=//p"
}

# hl_expect_stats FILE key=value...: empty when all match, else what differs.
hl_expect_stats() {
	local file=$1 kv got bad=
	shift
	for kv in "$@"; do
		got=$(hl_stat "$file" "${kv%%=*}")
		[ "$got" = "${kv#*=}" ] || bad+="${kv%%=*}=${got:-missing} (want ${kv#*=}) "
	done
	[ -z "$bad" ] || echo "$bad| $(grep ': stats ' "$file" | tail -n 1)"
}

# System V keys are handed out and recorded by the receivers
# (<runtime dir>/<mechanism>.<instance>.key, lib/key_record.h), not derived
# from names: the keys of our objects are the ones recorded. A record goes
# with its objects on a clean exit, so the keys seen are also remembered
# (hl_note_keys, called once a LED is ready; hl_remember_keys for keys
# learnt elsewhere): an object whose record went without it is still
# found. Never the ftok() bits of our directory: another run's directory
# may share them, and its objects are not ours to report or remove.
hl_note_keys() {
	local f
	[ -d "$RUNTIME" ] || return 0
	for f in "$RUNTIME"/*.key; do
		[ -e "$f" ] && hl_remember_keys "$(cat "$f" 2>/dev/null)"
	done
	return 0
}

# hl_remember_keys KEY...: keys (0x... or decimal, comma or space separated).
hl_remember_keys() {
	local k
	for k in $(echo "$*" | tr ',' ' '); do
		printf '0x%08x\n' "$((k & 0xffffffff))" >>"$HL_DIR/sysv-keys" 2>/dev/null
	done
	return 0
}

# Our System V keys, one a line (0x%08x, as ipcs prints them).
hl_sysv_keys() {
	hl_note_keys
	[ -s "$HL_DIR/sysv-keys" ] && sort -u "$HL_DIR/sysv-keys"
	return 0
}

# ipcs lines of System V objects under our keys, "TYPE key ipcs-fields".
hl_sysv_objects() {
	local keys
	keys=$(hl_sysv_keys | tr '\n' ',')
	[ -n "$keys" ] || return 0
	ipcs -m -q -s 2>/dev/null | awk -v keys=",$keys" '
		/Shared Memory/ { t = "M" } /Message Queues/ { t = "Q" } /Semaphore/ { t = "S" }
		$1 ~ /^0x/ && index(keys, "," tolower($1) ",") { print t, $0 }'
}

# What our runs left: runtime directory entries, POSIX shm, semaphores and
# queues of our instance, System V objects under our keys. Empty if none.
hl_leftovers() {
	local uid
	uid=$(id -u)
	# Keys first: the records themselves are runtime-directory entries.
	hl_note_keys
	[ -d "$RUNTIME" ] && find "$RUNTIME" -mindepth 1 -printf 'runtime-dir: %p\n'
	ls /dev/shm /dev/mqueue 2>/dev/null |
		grep -F "ipc-button.$uid.$INSTANCE." | sed 's/^/posix: /'
	hl_sysv_objects | cut -d' ' -f2- | sed 's/^/sysv: /'
}

# After a mechanism's tests: remove what it left (already reported), so
# the next mechanism's checks see only its own objects.
hl_purge() {
	local uid t key
	uid=$(id -u)
	hl_note_keys
	hl_sysv_objects | while read -r t key _; do ipcrm "-$t" "$key" 2>/dev/null; done
	[ -d "$RUNTIME" ] && find "$RUNTIME" -mindepth 1 -delete
	find /dev/shm /dev/mqueue -maxdepth 1 -name "*ipc-button.$uid.$INSTANCE.*" -delete 2>/dev/null
	return 0
}

# Modes of our objects: "path mode" lines for anything not 0600.
hl_bad_modes() {
	local uid
	uid=$(id -u)
	[ -d "$RUNTIME" ] && find "$RUNTIME" -mindepth 1 ! -perm 0600 -printf '%p %m\n'
	find /dev/shm /dev/mqueue -maxdepth 1 -name "*ipc-button.$uid.$INSTANCE.*" \
		! -perm 0600 -printf '%p %m\n' 2>/dev/null
	hl_sysv_objects | awk '$5 != "600" { print "sysv " $2 " " $5 }'
}

# Files the processes hold open in /tmp, or socket files there: none allowed.
hl_tmp_use() {
	local pid
	for pid in "$@"; do
		# Descriptors 0-2 come from whoever runs the tests.
		ls -l "/proc/$pid/fd" 2>/dev/null | awk '$9 > 2' |
			grep -E -- '-> /tmp/' | sed "s/^/pid $pid: /"
	done
	awk '$NF ~ /^\/tmp\// { print "unix socket: " $NF }' /proc/net/unix
}

# Write N clicks (lines) to the fd given.
hl_clicks() {
	local fd=$1 n=$2 i
	for ((i = 0; i < n; i++)); do echo; done 2>/dev/null >&"$fd"
}

# hl_led_until NAME REGEX: block until the LED prints a line matching REGEX.
hl_led_until() {
	local name=$1 re=$2 line
	while read -r -t "$WAIT_S" -u "${LED_FD[$name]}" line; do
		LED_LINES[$name]=$((LED_LINES[$name] + 1))
		LED_LAST[$name]=$line
		[[ $line =~ $re ]] && return 0
	done
	echo "# $name: no line matching '$re' (last: ${LED_LAST[$name]:-none})"
	return 1
}

# hl_start_button NAME [ipc-button args...]: a button reading our clicks
# (write them with hl_clicks "${BUTTON_IN[NAME]}" N); PID in BUTTON_PID.
declare -A BUTTON_IN BUTTON_PID
hl_start_button() {
	local name=$1 fd
	shift
	exec {fd}> >(hl_close_handles
		exec "$BIN/ipc-button" --via "$VIA" "${MECH_OPTS[@]}" \
		--stdin "$@" 2>"$HL_DIR/$name.err")
	BUTTON_PID[$name]=$!
	BUTTON_IN[$name]=$fd
	hl_pids+=("$!")
}

# hl_end_button NAME [SIGNAL]: end of input (or the signal), then reap it;
# its status in BUTTON_STATUS.
hl_end_button() {
	local name=$1 sig=${2:-}
	[ -n "$sig" ] && kill "-$sig" "${BUTTON_PID[$name]}" 2>/dev/null
	exec {BUTTON_IN[$name]}>&-
	hl_reap "${BUTTON_PID[$name]}"
	BUTTON_STATUS=$HL_STATUS
}

# hl_reap PID: wait for it, at most WAIT_S seconds (then SIGKILL: 137).
# The watchdog is a separate bash, not a subshell of ours, so it carries
# none of our traps. It is one process with no child (it times out in
# `read -t` on a pipe it holds both ends of, never in a sleep), so it is
# cancelled with SIGKILL, which cannot be lost. A SIGTERM can: a process
# started with & is a copy of this shell until it execs, and bash there
# can lose a SIGTERM (neither acted on before the exec nor pending after
# it). A reaped process that ended at once had its watchdog told to stop
# in that window, and the watchdog then slept its whole WAIT_S (20 s)
# before the suite went on: the stalls at varying steps seen under load.
hl_reap() {
	local pid=$1 watchdog
	bash -c 'exec 0<> <(:)
		read -r -t "$1" _
		kill -KILL "$2" 2>/dev/null' watchdog "$WAIT_S" "$pid" 2>/dev/null &
	watchdog=$!
	wait "$pid"
	HL_STATUS=$?
	kill -KILL "$watchdog" 2>/dev/null
	wait "$watchdog" 2>/dev/null
	return 0
}
