// SPDX-License-Identifier: MIT
/*
 * sem-sysv: a System V semaphore set. No payload crosses, only counts: the
 * sender adds to EVENTS one per event, a run of events in one semop(); the
 * receiver takes all that waits in one semop(), or sleeps in semop()
 * (semtimedop() when a timeout is due) until it can take 1, and rebuilds
 * the frames from the events' numbers, which the set keeps beside the
 * events (lib/sem_tally.h), so a receiver that adopts a killed one's set
 * numbers on where it stopped; once it numbered an event it counts on
 * itself until the sender moves the numbering (lib/sem_tally_take.h: a
 * lone event costs each side one semop()). The stop signals stay let in
 * for good (TRANSPORT_WAKE_ANYWHERE): a stop adds a token to EVENTS, and
 * after each take a look at the stop flag undoes one a token may be in
 * (lib/sem_wait.h). The set is 0600, under the key
 * transport_sysv_open_receiver() hands out.
 */
#include "transport.h"

#include "../lib/counted_event.h"
#include "../lib/batch_fill.h"
#include "../lib/message.h"
#include "../lib/named_object.h"
#include "../lib/sem_set.h"
#include "../lib/sem_tally.h"
#include "../lib/sem_tally_take.h"
#include "../lib/sem_wait.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/ipc.h>
#include <sys/sem.h>

/* The tally's semaphores (EVENTS, BUSY...), then the receiver's claim. */
enum { SEM_RECEIVER = SEM_TALLY_COUNT, SEM_COUNT };
_Static_assert(SEM_COUNT <= SEM_TALLY_SET_MAX, "a set sem_tally can read");

struct sem_sysv_state {
	struct sem_set_object set;
	struct sem_tally tally;
	struct sem_wait wait;	/* receiver: on EVENTS, woken by a stop */
};

/* --- sender ------------------------------------------------------------ */

/* EVENTS, POSTED up by @count in one semop(); no SEM_UNDO (dead senders'). */
static int sem_sysv_post(struct sem_sysv_state *st, unsigned int count)
{
	struct sem_tally next = sem_tally_next(&st->tally, count);
	struct sembuf ops[4] = { { SEM_TALLY_EVENTS, (short)count, IPC_NOWAIT } };
	unsigned int n = sem_tally_move(ops, 1, &st->tally, &next);

	if (semop(st->set.id, ops, n) < 0)
		return -errno;
	st->tally = next;
	return (int)count;
}

static int sem_sysv_send_many(struct transport *t, const uint8_t *frames,
			      size_t len, size_t count)
{
	struct sem_sysv_state *st = t->priv;
	struct ipc_message m;
	unsigned int n = counted_event_run(frames, len, count, &m);
	int r;

	/* A count cannot carry a malformed frame for the receiver to reject. */
	if (!n)
		return -EINVAL;
	/* A new button, a new set, events dropped before us: in step again. */
	sem_tally_realign(&st->tally, st->set.id, &m);
	r = sem_sysv_post(st, n);
	/*
	 * A value would leave 0..32767: EVENTS full, or our copy of POSTED
	 * out of date (another sender was here). Look, and post what fits.
	 */
	if (r == -ERANGE || r == -EAGAIN) {
		r = sem_tally_load(&st->tally, st->set.id);
		if (r == SEM_TALLY_EVENTS_MAX)
			return TRANSPORT_FULL;
		if (r >= 0 && n > (unsigned int)(SEM_TALLY_EVENTS_MAX - r))
			n = SEM_TALLY_EVENTS_MAX - r;
		r = r < 0 ? r : sem_sysv_post(st, n);
		if (r == -ERANGE || r == -EAGAIN)
			r = -EIO;
	}
	return sem_set_removed(r) ? TRANSPORT_STALE : r; /* removed, replaced */
}

static int sem_sysv_send(struct transport *t, const uint8_t *frame, size_t len)
{
	int r = sem_sysv_send_many(t, frame, len, 1);

	return r > 0 ? 0 : r;
}

static int sem_sysv_open_sender(struct transport *t,
				struct sem_sysv_state *st)
{
	int r = transport_sysv_key(t, &st->set.key);

	if (!r) {
		st->set.id = semget(st->set.key, 0, 0);
		r = st->set.id < 0 ? -errno : sem_set_check(st->set.id, SEM_COUNT);
	}
	if (!r)
		r = sem_tally_load(&st->tally, st->set.id);
	/* Missing, not ours or not initialised yet: no receiver (yet). */
	if (r == -EACCES || r == -ESTALE || sem_set_removed(r))
		return TRANSPORT_ABSENT;
	return r < 0 ? r : 0;
}

/* --- receiver ---------------------------------------------------------- */

/* Wait for one event, then take up to @more of those waiting with it. */
static ssize_t sem_sysv_take(struct transport *t, uint8_t *frames,
			     size_t stride, unsigned int more, int timeout_ms)
{
	struct sem_sysv_state *st = t->priv;

	return sem_tally_take(&st->tally, &st->wait, more, frames, stride,
			      timeout_ms);
}

static ssize_t sem_sysv_receive(struct transport *t, uint8_t *buf,
				size_t size, int timeout_ms)
{
	ssize_t r;

	if (size < IPC_MESSAGE_SIZE)
		return -EMSGSIZE;
	r = sem_sysv_take(t, buf, 0, 0, timeout_ms);
	return r < 0 ? r : IPC_MESSAGE_SIZE;
}

static ssize_t sem_sysv_receive_many(struct transport *t,
				     struct transport_batch *batch,
				     int timeout_ms)
{
	ssize_t n = sem_sysv_take(t, batch->frame[0], sizeof(batch->frame[0]),
				  TRANSPORT_BATCH_MAX - 1, timeout_ms);

	return batch_fill_fixed(batch, n, IPC_MESSAGE_SIZE);
}

static void sem_sysv_wake(struct transport *t)
{
	if (t->role == TRANSPORT_RECEIVER && t->priv)	/* async-signal-safe */
		sem_wait_wake(&((struct sem_sysv_state *)t->priv)->wait);
}

/* The set, made exclusively, given its values once and claimed. */
static int sem_sysv_create(void *ctx)
{
	unsigned short values[SEM_COUNT] = { [SEM_RECEIVER] = 1 };
	struct sem_set_object *set = ctx;

	set->id = semget(set->key, SEM_COUNT, IPC_CREAT | IPC_EXCL | 0600);
	if (set->id < 0)
		return -errno;
	return sem_set_init(set->id, values, SEM_RECEIVER);
}

static const struct named_object_ops sem_sysv_object = {
	.create = sem_sysv_create,
	.adopt = sem_set_adopt,		/* a killed receiver's: counts and all */
	.remove = sem_set_remove,
};

/* transport_sysv_open_receiver() calls this with each key it tries. */
static int sem_sysv_open_receiver(struct transport *t, int key)
{
	struct sem_sysv_state *st = t->priv;
	int r;

	st->set.key = key;
	r = named_object_get(&sem_sysv_object, &st->set);
	if (r == -EPERM || r == -EACCES)
		snprintf(t->detail, sizeof(t->detail),
			 "semaphore set key 0x%08x is not ours and may not be removed (ipcs -s; ipcrm -S 0x%08x)",
			 (unsigned int)key, (unsigned int)key);
	return r < 0 ? r : 0;
}

/* --- both -------------------------------------------------------------- */

static void sem_sysv_close(struct transport *t)
{
	struct sem_sysv_state *st = t->priv;
	int pending;

	/* Removed with any events still in it: a sender's next post fails. */
	if (t->role == TRANSPORT_RECEIVER && st->set.id >= 0) {
		pending = semctl(st->set.id, SEM_TALLY_EVENTS, GETVAL) -
			  sem_wait_tokens(&st->wait);
		if (pending > 0)
			snprintf(t->detail, sizeof(t->detail),
				 "%d untaken events discarded with semaphore set key 0x%08x",
				 pending, (unsigned int)st->set.key);
		semctl(st->set.id, 0, IPC_RMID);
	}
	free(st);
	t->priv = NULL;
}

static int sem_sysv_open(struct transport *t)
{
	struct sem_sysv_state *st = calloc(1, sizeof(*st));
	int r;

	if (!st)
		return -ENOMEM;
	st->set = (struct sem_set_object){ .id = -1, .nsems = SEM_COUNT,
					   .claim = SEM_RECEIVER };
	st->wait.id = -1;
	t->priv = st;
	if (t->role == TRANSPORT_RECEIVER) {
		r = transport_sysv_open_receiver(t, sem_sysv_open_receiver);
		st->wait.num = SEM_TALLY_EVENTS;
		st->wait.id = st->set.id;	/* wake() may post from now on */
	} else {
		r = sem_sysv_open_sender(t, st);
	}
	if (r < 0)
		sem_sysv_close(t);	/* a set made but not initialised too */
	return r;
}

static const struct transport_ops sem_sysv_ops = {
	.name = "sem-sysv",
	.summary = "System V semaphore set, one post per event or batch, count kept in step with the button",
	.flags = TRANSPORT_LOSSLESS | TRANSPORT_NO_PAYLOAD | TRANSPORT_DURABLE |
		 TRANSPORT_WAKE_ANYWHERE,
	.open = sem_sysv_open,
	.send = sem_sysv_send,
	.send_many = sem_sysv_send_many,
	.receive = sem_sysv_receive,
	.receive_many = sem_sysv_receive_many,
	.wake = sem_sysv_wake,
	.close = sem_sysv_close,
};

TRANSPORT_REGISTER(sem_sysv_ops);
