# SPDX-License-Identifier: MIT
# Test settings of the tls mechanism (sourced by tests/host/lib.sh's
# hl_mechanism, which already put a free port in MECH_OPTS): a CA, keys and
# certificates of the suite's own, made by scripts/make-certs in the
# suite's private directory, never the user's certificate directory.

if ! command -v openssl >/dev/null; then
	MECH_SKIP="openssl is not installed (apt install openssl)"
fi

mech_setup() {
	"$TOP/scripts/make-certs" "$HL_DIR/certs" >/dev/null || return 1
	MECH_OPTS+=(--opt "cert-dir=$HL_DIR/certs")
}

# 13-malformed: a byte stream (see tcp.sh).
MALFORMED_KINDS=(bad-magic bad-version bad-checksum bad-field garbage)
# The LED drops a connection with its first bad frame and whatever followed
# it, so each frame gets a connection of its own.
INJECT_ARGS=(--reopen-each)
