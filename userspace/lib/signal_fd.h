/* SPDX-License-Identifier: MIT */
/*
 * A signal read through a signalfd by a receiver that sleeps in read():
 * the signal held (lib/signal_hold.h), so that it waits in the signalfd
 * and never runs its action, and a blocking signalfd, so that a lone
 * event costs one read(), as sigtimedwait() would. Its number is one a
 * stop can swap (lib/wake_fd.h): with the stop signals let in
 * (stop_let_in()), an untimed read sleeps in read() itself; otherwise, and
 * for a timed read, ppoll() waits first, with the held signal kept
 * blocked (fd_wait_keep_blocked()). A signalfd read() takes every record
 * queued, up to the buffer, and waits only when there is none.
 */
#ifndef IPC_SIGNAL_FD_H
#define IPC_SIGNAL_FD_H

#include "signal_hold.h"
#include "wake_fd.h"

#include <stddef.h>
#include <sys/signalfd.h>
#include <sys/types.h>

struct signal_fd {
	int fd;			/* the signalfd, blocking; -1: none yet */
	struct signal_hold hold;
	struct wake_fd wake;	/* a stop swaps @fd (signal_fd_wake) */
};

/* Nothing open yet: signal_fd_close() may follow. */
void signal_fd_init(struct signal_fd *s);

/* Hold @signo and open its signalfd: 0 or -errno. */
int signal_fd_open(struct signal_fd *s, int signo);

/*
 * One wait of up to @timeout_ms (-1: none) and one read() of up to @max
 * records into @si: how many were read (0 when another signal ended the
 * wait: again), -EINTR on a stop, -ETIMEDOUT, or another negative errno.
 */
ssize_t signal_fd_read(struct signal_fd *s, struct signalfd_siginfo *si,
		       size_t max, int timeout_ms);

/* The transport's wake() (async-signal-safe) and unwake(). */
void signal_fd_wake(struct signal_fd *s);
void signal_fd_unwake(struct signal_fd *s);

/* Swap no more and read what is left without waiting, one record at a
 * time into @si: 1 while there is one, then 0. */
int signal_fd_take_left(struct signal_fd *s, struct signalfd_siginfo *si);

/* Close the signalfd; what is still queued is discarded with the hold. */
void signal_fd_close(struct signal_fd *s);

#endif /* IPC_SIGNAL_FD_H */
