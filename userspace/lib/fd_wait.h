/* SPDX-License-Identifier: MIT */
/*
 * Wait for a file descriptor together with the stop signals. Where they
 * stay blocked everywhere else (stop.h), ppoll() here lets them in
 * atomically, so a stop that comes just before the wait is not lost: it
 * ends the wait at once.
 *
 * A receiver that waits here pays one system call per isolated event
 * beside a lesson's blocking read(): ppoll() then read(). Those of pipe,
 * fifo and socketpair spare it where the stop signals are let in for good
 * (the LED, the benchmark): they sleep in read() itself, and a stop swaps
 * their descriptor (lib/wake_fd.h; docs/architecture.md, "What a
 * stoppable wait costs"). Timed waits still come here.
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
