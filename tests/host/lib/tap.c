// SPDX-License-Identifier: MIT
#include "tap.h"

#include <stdarg.h>
#include <stdio.h>

static int tap_n, tap_failed;

/* Each line is flushed at once: a test that hangs still shows its progress. */
static void tap_line(const char *prefix, const char *fmt, va_list ap,
		     const char *suffix)
{
	fputs(prefix, stdout);
	vprintf(fmt, ap);
	fputs(suffix, stdout);
	fflush(stdout);
}

void tap_ok(bool good, const char *fmt, ...)
{
	char prefix[32];
	va_list ap;

	snprintf(prefix, sizeof(prefix), "%s %d - ", good ? "ok" : "not ok",
		 ++tap_n);
	if (!good)
		tap_failed++;
	va_start(ap, fmt);
	tap_line(prefix, fmt, ap, "\n");
	va_end(ap);
}

void tap_skip(const char *why, const char *fmt, ...)
{
	char prefix[32];
	va_list ap;

	snprintf(prefix, sizeof(prefix), "ok %d - ", ++tap_n);
	va_start(ap, fmt);
	tap_line(prefix, fmt, ap, "");
	va_end(ap);
	printf(" # SKIP %s\n", why);
	fflush(stdout);
}

void tap_diag(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	tap_line("# ", fmt, ap, "\n");
	va_end(ap);
}

int tap_done(void)
{
	printf("1..%d\n", tap_n);
	fflush(stdout);
	return tap_failed ? 1 : 0;
}
