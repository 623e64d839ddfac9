/* SPDX-License-Identifier: MIT */
/*
 * A receiver's wait on a POSIX semaphore that a stop signal (lib/stop.h)
 * ends race-free. A count already above zero is taken with sem_trywait(),
 * in user space: no system call. Else it sleeps in sem_wait() (or
 * sem_clockwait() when a timeout is due). A stop signal runs the program's
 * wake callback, which calls sem_named_wait_wake(): a token posted to the
 * semaphore the receiver waits on (the events', or another one it may
 * wait on instead), so a wait under way or to come returns. The LED and
 * the benchmark let the stop signals in for good; a process that keeps
 * them blocked lets them in around the sleep only (two sigprocmask()
 * more).
 *
 * Tokens are never events, wherever the handler lands. The receiver is
 * one thread, and the handler sets the stop flag before it posts, so
 * after any take the flag says whether a token may have been taken: if
 * it is set, what the take got goes back and -EINTR returns, and the
 * tokens, all still in their semaphores, are taken back (absorbed) by
 * count; if it is clear, what was taken was no token, and a stop that
 * comes later finds its token in the semaphore and the flag set before
 * the next take. Checking the flag is a load, no system call.
 */
#ifndef IPC_SEM_NAMED_WAIT_H
#define IPC_SEM_NAMED_WAIT_H

#include "deadline.h"

#include <semaphore.h>
#include <signal.h>
#include <stdbool.h>

/* The semaphores a receiver may wait on: the events' first. */
#define SEM_NAMED_WAIT_SEMS	2

struct sem_named_wait {
	sem_t *sem[SEM_NAMED_WAIT_SEMS];	/* or SEM_FAILED */
	volatile sig_atomic_t posts[SEM_NAMED_WAIT_SEMS]; /* tokens posted */
	sig_atomic_t absorbed[SEM_NAMED_WAIT_SEMS];	  /* taken back */
};

/* None yet: every semaphore SEM_FAILED, no token. */
void sem_named_wait_init(struct sem_named_wait *w);

/* Take one from @sem (one of @w->sem) until @d: 0, -EINTR on a stop
 * (nothing taken, the tokens taken back), -ETIMEDOUT, or -errno. */
int sem_named_wait_take(struct sem_named_wait *w, sem_t *sem,
			const struct deadline *d);

/*
 * After a take of @count from @sem that did not go through
 * sem_named_wait_take() (what else waits, taken back to back): true if a
 * stop came meanwhile, and then the @count went back and the tokens were
 * taken back, so the caller gives up the take and says -EINTR.
 */
bool sem_named_wait_stopped(struct sem_named_wait *w, sem_t *sem,
			    unsigned int count);

/* Async-signal-safe: a token to @sem, which the receiver waits on, or
 * will, if it is one of @w->sem (else nothing). */
void sem_named_wait_wake(struct sem_named_wait *w, sem_t *sem);

/* Take back the tokens posted (sem_trywait(), as far as they are there). */
void sem_named_wait_absorb(struct sem_named_wait *w);

/* Tokens posted and not taken back yet, in all. */
int sem_named_wait_tokens(const struct sem_named_wait *w);

#endif /* IPC_SEM_NAMED_WAIT_H */
