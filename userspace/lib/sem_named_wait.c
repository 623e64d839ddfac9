// SPDX-License-Identifier: MIT
#include "sem_named_wait.h"

#include "stop.h"

#include <errno.h>
#include <time.h>

void sem_named_wait_init(struct sem_named_wait *w)
{
	for (int i = 0; i < SEM_NAMED_WAIT_SEMS; i++) {
		w->sem[i] = SEM_FAILED;
		w->posts[i] = 0;
		w->absorbed[i] = 0;
	}
}

int sem_named_wait_take(struct sem_named_wait *w, sem_t *sem,
			const struct deadline *d)
{
	struct timespec end;
	int r;

	/* One already there: taken in user space, no system call. */
	if (!stop_requested() && sem_trywait(sem) == 0)
		return sem_named_wait_stopped(w, sem, 1) ? -EINTR : 0;
	end = deadline_end_timespec(d);
	while (!stop_requested()) {
		/* Blocked, the stop signals land only here; the wake posts. */
		stop_unblock();
		if (stop_requested())
			r = -EINTR;
		else if (d->forever ? sem_wait(sem) :
			 sem_clockwait(sem, CLOCK_MONOTONIC, &end))
			r = -errno;
		else
			r = 0;
		stop_block();
		if (!r)
			return sem_named_wait_stopped(w, sem, 1) ? -EINTR : 0;
		if (r != -EINTR)
			return r;
	}
	sem_named_wait_absorb(w);
	return -EINTR;
}

bool sem_named_wait_stopped(struct sem_named_wait *w, sem_t *sem,
			    unsigned int count)
{
	/* Clear: the handler has not run, so no token was there to take. */
	if (!stop_requested())
		return false;
	/* Set: perhaps a token among them; back, all of them, by count. */
	while (count--)
		sem_post(sem);
	sem_named_wait_absorb(w);
	return true;
}

void sem_named_wait_wake(struct sem_named_wait *w, sem_t *sem)
{
	/* Async-signal-safe: sem_post(), a counter only the handler raises. */
	for (int i = 0; i < SEM_NAMED_WAIT_SEMS; i++)
		if (sem != SEM_FAILED && w->sem[i] == sem) {
			w->posts[i]++;
			sem_post(sem);
			return;
		}
}

void sem_named_wait_absorb(struct sem_named_wait *w)
{
	for (int i = 0; i < SEM_NAMED_WAIT_SEMS; i++)
		while (w->absorbed[i] < w->posts[i] &&
		       sem_trywait(w->sem[i]) == 0)
			w->absorbed[i]++;
}

int sem_named_wait_tokens(const struct sem_named_wait *w)
{
	int n = 0;

	for (int i = 0; i < SEM_NAMED_WAIT_SEMS; i++)
		n += w->posts[i] - w->absorbed[i];
	return n;
}
