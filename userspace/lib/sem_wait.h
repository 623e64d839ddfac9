/* SPDX-License-Identifier: MIT */
/*
 * A receiver's wait in semop() on a System V semaphore set that a stop
 * signal (lib/stop.h) ends race-free. The signal runs the program's wake
 * callback, which calls sem_wait_wake(): one token posted to the semaphore
 * the receiver waits on, so a semop() under way or to come returns. The
 * LED and the benchmark let the stop signals in for good (no system call
 * but the semop()); a process that keeps them blocked lets them in around
 * the semop() only (two sigprocmask() more). Untimed waits (the LED's
 * default) are a plain semop(), timed ones semtimedop().
 *
 * Tokens are never events, wherever the handler lands. The receiver is
 * one thread, and the handler sets the stop flag before it posts, so
 * after any take (this sleeping one, or one that does not sleep:
 * sem_wait_stopped()) the flag says whether a token may have been taken:
 * if it is set, the take is undone and -EINTR returns, and the tokens,
 * all still in the semaphore, are taken back by count; if it is clear,
 * no token was taken, and a stop that comes later finds its token in the
 * semaphore and the flag set before the next take. Checking the flag is
 * a load, no system call.
 */
#ifndef IPC_SEM_WAIT_H
#define IPC_SEM_WAIT_H

#include <signal.h>
#include <stdbool.h>
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

/*
 * After @take (@nops operations, as for sem_wait_take()) ran without it,
 * or after a look at the set that a token would falsify (a GETALL while
 * the take is held): true if a stop came meanwhile, and then @take was
 * undone and the tokens taken back, so the caller says -EINTR.
 */
bool sem_wait_stopped(struct sem_wait *w, const struct sembuf *take,
		      unsigned int nops);

/* Async-signal-safe: post one token to @w->num (no set: nothing). */
void sem_wait_wake(struct sem_wait *w);

/* Tokens posted and not taken back yet. */
int sem_wait_tokens(const struct sem_wait *w);

#endif /* IPC_SEM_WAIT_H */
