/* SPDX-License-Identifier: MIT */
/*
 * TAP output for the C test programs of tests/host: one numbered result
 * line per check, diagnostics as "# " lines, the plan at the end.
 */
#ifndef IPC_TEST_TAP_H
#define IPC_TEST_TAP_H

#include <stdbool.h>

/* "ok N - what" when @good, else "not ok N - what" (and counted). */
void tap_ok(bool good, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* "ok N - what # SKIP why". */
void tap_skip(const char *why, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* "# text", for what a reader needs to understand a failure. */
void tap_diag(const char *fmt, ...)
	__attribute__((format(printf, 1, 2)));
/* Print the plan; the exit status: 0 when nothing failed, else 1. */
int tap_done(void);

#endif /* IPC_TEST_TAP_H */
