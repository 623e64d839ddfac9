/* SPDX-License-Identifier: MIT */
/*
 * What the programs print about themselves: one line each, the program's
 * name first, the object concerned next, the system's reason last, e.g.
 * "ipc-led: fifo /run/ipc-button/fifo.0: No such file or directory".
 * Library and transport code never print: they return errors (a
 * transport also its detail) or hand a notice to the program's callback
 * (log_relay() below), and the program prints them here, once.
 */
#ifndef IPC_LOG_H
#define IPC_LOG_H

#include <stdbool.h>

#define LOG_PRINTF(fmt, args) __attribute__((format(printf, fmt, args)))

/* The name printed first: the basename of argv[0] unless set otherwise. */
void log_init(const char *argv0);
const char *log_program(void);

/* Whether log_verbose() prints (--verbose). */
void log_set_verbose(bool verbose);
bool log_is_verbose(void);

void log_error(const char *fmt, ...) LOG_PRINTF(1, 2);
/* Appends ": strerror(|err|)"; @err may be an errno or a negative errno. */
void log_errno(int err, const char *fmt, ...) LOG_PRINTF(2, 3);
/* Something the user should know that is not a failure. */
void log_warning(const char *fmt, ...) LOG_PRINTF(1, 2);
void log_verbose(const char *fmt, ...) LOG_PRINTF(1, 2);

/*
 * Print @text, a line library code handed over, at syslog @priority:
 * LOG_ERR and worse as log_error, LOG_WARNING and LOG_NOTICE as
 * log_warning, the rest as log_verbose. Its shape fits a callback such
 * as a transport's notice (ipc/transport.h); @ctx is unused.
 */
void log_relay(void *ctx, int priority, const char *text);

#endif /* IPC_LOG_H */
