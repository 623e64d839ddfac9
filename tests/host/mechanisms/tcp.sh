# SPDX-License-Identifier: MIT
# Test settings of the tcp mechanism (sourced by tests/host/lib.sh's
# hl_mechanism, which already put a free port in MECH_OPTS).
# 13-malformed: a byte stream has no frame boundaries, so only frames of
# the right length can be malformed in a way the receiver can tell; it
# closes the connection on each, and ipc-inject opens a new one.
MALFORMED_KINDS=(bad-magic bad-version bad-checksum bad-field garbage)
# The LED drops a connection with its first bad frame and whatever followed
# it, so each frame gets a connection of its own.
INJECT_ARGS=(--reopen-each)
