# SPDX-License-Identifier: GPL-2.0-only
# TAP output for shell test suites, on the host or on the board (busybox sh).
#   . tests/lib/tap.sh
#   tap_ok "what"; tap_fail "what" ["why"]; tap_skip "what" "why"
#   tap_check "what" command args...   (ok when the command succeeds)
#   tap_done                           (plan line; exit status 1 on failures)
tap_n=0
tap_failed=0

tap_ok() {
	tap_n=$((tap_n + 1))
	echo "ok $tap_n - $1"
}

tap_fail() {
	tap_n=$((tap_n + 1))
	tap_failed=$((tap_failed + 1))
	echo "not ok $tap_n - $1"
	[ -n "${2:-}" ] && echo "# $2"
	return 0
}

tap_skip() {
	tap_n=$((tap_n + 1))
	echo "ok $tap_n - $1 # SKIP $2"
}

tap_check() {
	what=$1
	shift
	if out=$("$@" 2>&1); then
		tap_ok "$what"
	else
		tap_fail "$what" "$(printf '%s' "$out" | tail -n 5 | tr '\n' ' ')"
	fi
}

tap_done() {
	echo "1..$tap_n"
	[ "$tap_failed" = 0 ]
}
