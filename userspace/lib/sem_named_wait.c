// SPDX-License-Identifier: MIT
#include "sem_named_wait.h"

#include "stop.h"

#include <errno.h>
#include <time.h>

int sem_named_wait_take(struct sem_named_wait *w, sem_t *sem,
			const struct deadline *d)
{
	struct timespec end;
	int r;

	/* One already there: no wait, so the stop signals stay blocked. */
	if (!stop_requested() && sem_trywait(sem) == 0)
		return 0;
	end = deadline_end_timespec(d);
	while (!stop_requested()) {
		/* Stop signals may land only while we sleep; the wake posts. */
		stop_unblock();
		if (stop_requested())
			r = -EINTR;
		else if (d->forever ? sem_wait(sem) :
			 sem_clockwait(sem, CLOCK_MONOTONIC, &end))
			r = -errno;
		else
			r = 0;
		stop_block();
		if (!r && !stop_requested())
			return 0;
		if (!r && sem == w->events)
			sem_post(sem);	/* taken after the stop: give it back */
		if (r && r != -EINTR)
			return r;
	}
	sem_named_wait_absorb(w);
	return -EINTR;
}

void sem_named_wait_wake(struct sem_named_wait *w, sem_t *also)
{
	/* Async-signal-safe: sem_post(), a counter only the handler raises. */
	if (w->events == SEM_FAILED)
		return;
	w->posts++;
	sem_post(w->events);
	if (also != SEM_FAILED)
		sem_post(also);
}

void sem_named_wait_absorb(struct sem_named_wait *w)
{
	while (w->absorbed < w->posts && sem_trywait(w->events) == 0)
		w->absorbed++;
}

int sem_named_wait_tokens(const struct sem_named_wait *w)
{
	return w->posts - w->absorbed;
}
