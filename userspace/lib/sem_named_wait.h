/* SPDX-License-Identifier: MIT */
/*
 * A receiver's wait on a POSIX semaphore that a stop signal (lib/stop.h)
 * ends race-free. A count already above zero is taken with sem_trywait(),
 * in user space, the stop signals left blocked: no system call. Else the
 * stop signals are let in only around sem_wait() (or sem_clockwait() when
 * a timeout is due); one that lands during it runs the program's wake
 * callback, which calls sem_named_wait_wake(): a token posted to the
 * events' semaphore (and to any other it may wait on), so the wait
 * returns. Tokens are never events: an event taken while a stop is
 * requested is given back, and the tokens are taken back before -EINTR
 * returns.
 */
#ifndef IPC_SEM_NAMED_WAIT_H
#define IPC_SEM_NAMED_WAIT_H

#include "deadline.h"

#include <semaphore.h>
#include <signal.h>

struct sem_named_wait {
	sem_t *events;			/* where the tokens go, or SEM_FAILED */
	volatile sig_atomic_t posts;	/* tokens posted */
	sig_atomic_t absorbed;		/* tokens taken back */
};

/* Take one from @sem (@w->events or another) until @d: 0, -EINTR on a
 * stop, -ETIMEDOUT, or -errno. */
int sem_named_wait_take(struct sem_named_wait *w, sem_t *sem,
			const struct deadline *d);

/* Async-signal-safe: a token to @w->events, and one to @also if not
 * SEM_FAILED (a semaphore the receiver may wait on instead). */
void sem_named_wait_wake(struct sem_named_wait *w, sem_t *also);

/* Take back the tokens posted (sem_trywait(), as far as they are there). */
void sem_named_wait_absorb(struct sem_named_wait *w);

/* Tokens posted and not taken back yet. */
int sem_named_wait_tokens(const struct sem_named_wait *w);

#endif /* IPC_SEM_NAMED_WAIT_H */
