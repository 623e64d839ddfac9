# SPDX-License-Identifier: MIT
# Test settings of the signal mechanism (sourced by tests/host/lib.sh's
# hl_mechanism). Its sender needs pidfd_open() and pidfd_send_signal(),
# which valgrind 3.19 (Debian 12) does not know: traced by valgrind, the
# button fails with ENOSYS. So the valgrind suite runs the button natively
# and checks the LED's side; the sender's code runs under ASan+UBSan in
# 16-sanitizers and 22-queue-transports.
VALGRIND_TRACE_SKIP='*/ipc-button'
