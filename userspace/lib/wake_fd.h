/* SPDX-License-Identifier: MIT */
/*
 * Wake a receiver asleep in read() on its descriptor, from the stop
 * signal's handler, with no race and no system call per event.
 *
 * A blocking read() cannot be told "a stop came just before you": a
 * signal that lands between the last look at the stop flag and the call
 * is over before the call starts, and the call sleeps until the next
 * event. The handler therefore swaps the descriptor itself: dup3() puts
 * the read end of an empty pipe with no writer in its place, so whatever
 * the receiver does next with that number (read, recvmmsg, poll) returns
 * at once, at end of file or with an error, and it looks at the stop
 * flag. A call already asleep is interrupted by the signal and restarted
 * on the new descriptor (SA_RESTART, lib/stop.h). The mechanism's own
 * descriptor is kept under a second number, and put back (wake_fd_restore)
 * once the stop is taken, so that what is queued can still be read.
 *
 * The same idea frees a thread blocked in I/O in other runtimes; here it
 * is what lets a receiver make exactly the system calls of a lesson.
 */
#ifndef IPC_WAKE_FD_H
#define IPC_WAKE_FD_H

#include <signal.h>

struct wake_fd {
	int fd;			/* the number the receiver reads from */
	int kept;		/* the mechanism's descriptor, kept aside */
	/* An empty pipe with no writer, always at EOF; -1: never swap. */
	volatile sig_atomic_t ended;
	volatile sig_atomic_t swapped;
};

/* Get ready to swap @fd. Returns 0 or -errno; wake_fd_close() after. */
int wake_fd_init(struct wake_fd *w, int fd);

/* wake_fd_init() on @fd made blocking first (O_NONBLOCK cleared): a
 * receiver that sleeps in its read, or recv, itself. */
int wake_fd_block(struct wake_fd *w, int fd);

/* Async-signal-safe: put the ended pipe in @w->fd's place (once). */
void wake_fd_wake(struct wake_fd *w);

/* Put the mechanism's descriptor back (not from a handler). */
void wake_fd_restore(struct wake_fd *w);

/* True while @w->fd is the ended pipe: an EOF or an error from it means
 * only "stop". */
static inline int wake_fd_swapped(const struct wake_fd *w)
{
	return w->swapped;
}

/* Swap no more, put the mechanism's descriptor back if it was swapped
 * (its close must see the real one), and close the two extra ones. */
void wake_fd_close(struct wake_fd *w);

#endif /* IPC_WAKE_FD_H */
