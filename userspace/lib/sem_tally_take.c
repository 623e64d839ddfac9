// SPDX-License-Identifier: MIT
#include "sem_tally_take.h"

#include "deadline.h"
#include "stop.h"

#include <errno.h>

/* Take @count events only while MOVED is 0: a semop() of these fails
 * with EAGAIN when it is not. EVENTS is checked first, so while none
 * waits the take sleeps, whatever MOVED is. */
static void sem_tally_take_ops(struct sembuf ops[2], short count, short flags)
{
	ops[0] = (struct sembuf){ SEM_TALLY_EVENTS, (short)-count, flags };
	ops[1] = (struct sembuf){ SEM_TALLY_MOVED, 0, IPC_NOWAIT };
}

/* Numbered before: all that waits (up to 1 + @more) or a sleep for one;
 * -EAGAIN when MOVED says to number by reading. */
static ssize_t sem_tally_take_known(struct sem_tally *t, struct sem_wait *w,
				    unsigned int more, uint8_t *frames,
				    size_t stride, int timeout_ms)
{
	struct sembuf take[2];
	int waiting = 0, r;

	/* With a stop requested, sem_wait_take() says so and takes nothing. */
	if (more && !stop_requested())
		waiting = semctl(w->id, SEM_TALLY_EVENTS, GETVAL);
	if (waiting > 0) {
		waiting = waiting <= (int)more ? waiting : (int)more + 1;
		sem_tally_take_ops(take, (short)waiting, IPC_NOWAIT);
		r = semop(w->id, take, 2) < 0 ? -errno : 0;
		/* A stop since the look: its token may be among them. */
		if (!r && sem_wait_stopped(w, take, 2))
			r = -EINTR;
	} else {
		waiting = 1;
		sem_tally_take_ops(take, 1, 0);
		r = sem_wait_take(w, take, 2, timeout_ms);
	}
	if (r < 0)
		return r;
	sem_tally_follow(t, (unsigned int)waiting, monotonic_ns(), frames,
			 stride);
	return waiting;
}

/* EVENTS without SEM_UNDO, which would replay a dead receiver's takes;
 * BUSY with it: a receiver killed while numbering frees it. */
static const struct sembuf sem_tally_take_busy[2] = {
	{ SEM_TALLY_EVENTS, -1, 0 }, { SEM_TALLY_BUSY, 1, SEM_UNDO },
};

/* sem_tally_number()'s look at the values, with the event and BUSY held:
 * a stop since the take gives both back. */
static bool sem_tally_take_stopped(void *ctx)
{
	return sem_wait_stopped(ctx, sem_tally_take_busy, 2);
}

ssize_t sem_tally_take(struct sem_tally *t, struct sem_wait *w,
		       unsigned int more, uint8_t *frames, size_t stride,
		       int timeout_ms)
{
	struct sembuf take[2] = { sem_tally_take_busy[0],
				  sem_tally_take_busy[1] };
	ssize_t r = -EAGAIN;

	if (t->have_last && !sem_wait_tokens(w))
		r = sem_tally_take_known(t, w, more, frames, stride,
					 timeout_ms);
	if (r != -EAGAIN)
		return r;
	r = sem_wait_take(w, take, 2, timeout_ms);
	if (r < 0)
		return r;
	/* Numbered, BUSY given back; more only with no wake token left. A
	 * stop before its GETALL undoes the take: a token in EVENTS would
	 * number it one too low (k = POSTED - EVENTS). */
	return sem_tally_number(t, w->id, monotonic_ns(),
				sem_wait_tokens(w) ? 0 : more, frames, stride,
				sem_tally_take_stopped, w);
}
