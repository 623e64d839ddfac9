#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
#
# Run the ipc_button selftests on the board (busybox sh), as
# tools/testing/selftests' run_kselftest.sh would: load the module if it
# is not loaded, then each test program in order. Each prints its own TAP;
# the exit status is 1 when any program failed (4, all skipped, is not).
#   run_tests.sh [DIR]   DIR holds the programs (default: this script's)
# IPC_BUTTON_TESTS="PROGRAM..." runs only those (default: all four).
dir=${1:-$(dirname "$0")}
module=${IPC_BUTTON_MODULE:-/lib/modules/ipc_button.ko}
export IPC_BUTTON_MODULE=$module

if [ ! -d /sys/module/ipc_button ]; then
	insmod "$module" || { echo "run_tests.sh: cannot load $module" >&2; exit 1; }
fi

status=0
# The 32-bit program runs where the kernel can run it (COMPAT).
tests=${IPC_BUTTON_TESTS:-ipc_button_events ipc_button_compat ipc_button_accounting ipc_button_removal}
for test in $tests; do
	"$dir/$test"
	rc=$?
	case $rc in
	0|4) ;;
	*) echo "run_tests.sh: $test exited with status $rc" >&2; status=1 ;;
	esac
done
exit $status
