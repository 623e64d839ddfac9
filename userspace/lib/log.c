// SPDX-License-Identifier: MIT
#include "log.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <syslog.h>
#include <systemd/sd-daemon.h>
#include <unistd.h>

static const char *program = "ipc-button";
static bool verbose;
static bool to_journal;

/*
 * Whether stderr is the journal: systemd sets $JOURNAL_STREAM to the
 * device and inode of the stream it connected, so a program whose stderr
 * was redirected elsewhere (by a shell, a launcher) does not take it for
 * the journal.
 */
static bool stderr_is_journal(void)
{
	const char *env = getenv("JOURNAL_STREAM");
	unsigned long long dev, ino;
	struct stat st;

	if (!env || sscanf(env, "%llu:%llu", &dev, &ino) != 2)
		return false;
	if (fstat(STDERR_FILENO, &st) < 0)
		return false;
	return (unsigned long long)st.st_dev == dev &&
	       (unsigned long long)st.st_ino == ino;
}

void log_init(const char *argv0)
{
	const char *slash = argv0 ? strrchr(argv0, '/') : NULL;

	if (argv0 && *argv0)
		program = slash ? slash + 1 : argv0;
	to_journal = stderr_is_journal();
}

const char *log_program(void)
{
	return program;
}

void log_set_verbose(bool on)
{
	verbose = on;
}

bool log_is_verbose(void)
{
	return verbose;
}

/*
 * One fprintf per line, so lines of concurrent processes do not mix. In
 * the journal the line starts with its syslog priority ("<3>", sd-daemon(3)),
 * which journald strips and records, so `journalctl -p err` finds errors.
 */
static void log_line(const char *prio, const char *fmt, va_list ap, int err)
{
	char msg[512];

	vsnprintf(msg, sizeof(msg), fmt, ap);
	if (!to_journal)
		prio = "";
	if (err)
		fprintf(stderr, "%s%s: %s: %s\n", prio, program, msg, strerror(abs(err)));
	else
		fprintf(stderr, "%s%s: %s\n", prio, program, msg);
}

void log_error(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_line(SD_ERR, fmt, ap, 0);
	va_end(ap);
}

void log_errno(int err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_line(SD_ERR, fmt, ap, err);
	va_end(ap);
}

void log_warning(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_line(SD_WARNING, fmt, ap, 0);
	va_end(ap);
}

void log_verbose(const char *fmt, ...)
{
	va_list ap;

	if (!verbose)
		return;
	va_start(ap, fmt);
	log_line(SD_INFO, fmt, ap, 0);
	va_end(ap);
}

void log_relay(void *ctx, int priority, const char *text)
{
	(void)ctx;
	if (priority <= LOG_ERR)
		log_error("%s", text);
	else if (priority <= LOG_NOTICE)
		log_warning("%s", text);
	else
		log_verbose("%s", text);
}
