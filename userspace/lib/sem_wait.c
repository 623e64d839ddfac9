// SPDX-License-Identifier: MIT
#include "sem_wait.h"

#include "deadline.h"
#include "sem_set.h"
#include "stop.h"

#include <errno.h>

/* Take back the tokens sem_wait_wake() posted: a stop is not an event. */
static void sem_wait_absorb(struct sem_wait *w)
{
	sig_atomic_t n = w->posts - w->absorbed;

	if (n > 0 && sem_set_change(w->id, w->num, -(short)n, IPC_NOWAIT) == 0)
		w->absorbed += n;
}

/* The operations that undo @take, without waiting: how many. A test for
 * zero changed nothing, and must not stop the undo. */
static unsigned int sem_wait_undo(const struct sembuf *take, unsigned int nops,
				  struct sembuf *undo)
{
	unsigned int n = 0;

	for (unsigned int i = 0; i < nops; i++) {
		if (!take[i].sem_op)
			continue;
		undo[n] = take[i];
		undo[n].sem_op = (short)-take[i].sem_op;
		undo[n++].sem_flg |= IPC_NOWAIT;
	}
	return n;
}

bool sem_wait_stopped(struct sem_wait *w, const struct sembuf *take,
		      unsigned int nops)
{
	struct sembuf untake[SEM_WAIT_OPS_MAX];

	/* Clear: the handler has not run, so no token was there to take. */
	if (!stop_requested())
		return false;
	/* Set: perhaps a token taken; the take undone, then all by count. */
	(void)semop(w->id, untake, sem_wait_undo(take, nops, untake));
	sem_wait_absorb(w);
	return true;
}

int sem_wait_take(struct sem_wait *w, struct sembuf *take, unsigned int nops,
		  int timeout_ms)
{
	struct timespec buf;
	struct deadline d;
	int r;

	if (nops > SEM_WAIT_OPS_MAX)
		return -EINVAL;
	deadline_start(&d, timeout_ms);
	while (!stop_requested()) {
		/* Blocked, the stop signals land only here; the wake posts. */
		stop_unblock();
		r = stop_requested() ? -EINTR : 0;
		if (!r && (d.forever ? semop(w->id, take, nops) :
			   semtimedop(w->id, take, nops,
				      deadline_left_timeout(&d, &buf))) < 0)
			r = -errno;
		stop_block();
		if (!r)
			return sem_wait_stopped(w, take, nops) ? -EINTR : 0;
		/* semtimedop() says EAGAIN for its timeout too. */
		if (r == -EAGAIN)
			return d.forever || deadline_left_ns(&d) ? -EAGAIN :
								   -ETIMEDOUT;
		if (r < 0 && r != -EINTR)
			return r;
	}
	sem_wait_absorb(w);
	return -EINTR;
}

void sem_wait_wake(struct sem_wait *w)
{
	/* Async-signal-safe: one semop(), a counter only the handler raises. */
	if (w->id < 0)
		return;
	w->posts++;
	(void)sem_set_change(w->id, w->num, 1, IPC_NOWAIT);
}

int sem_wait_tokens(const struct sem_wait *w)
{
	return w->posts - w->absorbed;
}
