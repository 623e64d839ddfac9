/* SPDX-License-Identifier: MIT */
/*
 * Wait for a file descriptor together with the stop signals: the one place
 * a process sleeps on an fd. The stop signals stay blocked everywhere else
 * (stop.h) and are let in atomically by ppoll() here, so a stop that comes
 * just before the wait is not lost: it ends the wait at once.
 *
 * A receiver pays for that with one system call per isolated event beside
 * a lesson's blocking read(): ppoll() then read() (about 1.3 us of CPU on
 * the development host). A blocking read() has no race-free stop on a pipe
 * or FIFO: letting the signals in around it costs two sigprocmask() calls
 * and still misses a stop that comes just before it
 * (docs/architecture.md, "What a stoppable wait costs").
 */
#ifndef IPC_FD_WAIT_H
#define IPC_FD_WAIT_H

/*
 * Wait until @fd is ready for @events (POLLIN, POLLOUT) or @timeout_ms
 * (-1: forever) passes. Returns 0 when ready (revents in *ret_revents if
 * not NULL), -ETIMEDOUT, -EINTR on a stop signal, or another negative errno.
 */
int fd_wait(int fd, short events, int timeout_ms, short *ret_revents);

/*
 * fd_wait(), but signal @keep_blocked (a signal the caller reads from a
 * signalfd) stays blocked while the stop signals are let in: let in, a
 * queued one would meet its disposition instead of waiting in the
 * signalfd.
 */
int fd_wait_keep_blocked(int fd, short events, int timeout_ms,
			 int keep_blocked);

#endif /* IPC_FD_WAIT_H */
