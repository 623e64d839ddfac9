/* SPDX-License-Identifier: MIT */
/*
 * A receiver's wait in semop() on a System V semaphore set that a stop
 * signal (lib/stop.h) ends race-free. Stop signals are let in only around
 * the semop(); one that lands before it is seen, and one that lands during
 * it runs the program's wake callback, which calls sem_wait_wake(): one
 * token posted to the semaphore the receiver waits on, so the semop()
 * returns. Tokens are never events: a take made while a stop is requested
 * is given back, and the tokens are taken back before -EINTR returns.
 * Untimed waits (the LED's default) are a plain semop(), timed ones
 * semtimedop().
 */
#ifndef IPC_SEM_WAIT_H
#define IPC_SEM_WAIT_H

#include <signal.h>
#include <sys/sem.h>

struct sem_wait {
	int id;				/* the set, or -1 */
	unsigned short num;		/* the semaphore the take waits on */
	volatile sig_atomic_t posts;	/* tokens sem_wait_wake() added */
	sig_atomic_t absorbed;		/* tokens taken back */
};

#define SEM_WAIT_OPS_MAX	4

/*
 * Run the @nops (up to SEM_WAIT_OPS_MAX) operations @take (waiting, the
 * first one -1 on @w->num) up to @timeout_ms (-1: forever): 0 when they
 * ran with no stop requested, -EINTR on a stop (a take made meanwhile
 * undone, the tokens taken back), -ETIMEDOUT, -EAGAIN when an IPC_NOWAIT
 * operation of @take failed before the deadline, or -errno.
 */
int sem_wait_take(struct sem_wait *w, struct sembuf *take, unsigned int nops,
		  int timeout_ms);

/* Async-signal-safe: post one token to @w->num (no set: nothing). */
void sem_wait_wake(struct sem_wait *w);

/* Tokens posted and not taken back yet. */
int sem_wait_tokens(const struct sem_wait *w);

#endif /* IPC_SEM_WAIT_H */
