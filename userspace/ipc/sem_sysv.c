// SPDX-License-Identifier: MIT
/*
 * sem-sysv: a System V semaphore set. No payload crosses, only counts: the
 * sender adds 1 to EVENTS per event, the receiver sleeps in semtimedop()
 * until it can take 1 and rebuilds the frame from the event's number,
 * which the set keeps beside the events (lib/sem_tally.h), so a receiver
 * that adopts a killed one's set numbers on where it stopped. The set is
 * 0600, under the key transport_sysv_open_receiver() hands out.
 */
#include "transport.h"

#include "../lib/deadline.h"
#include "../lib/message.h"
#include "../lib/named_object.h"
#include "../lib/sem_set.h"
#include "../lib/sem_tally.h"
#include "../lib/stop.h"

#include <errno.h>
#include <signal.h>
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
	/* Receiver. */
	volatile sig_atomic_t wake_posts;	/* tokens wake() added */
	sig_atomic_t wake_absorbed;		/* tokens taken back */
};

/* --- sender ------------------------------------------------------------ */

/* EVENTS and POSTED up by one, in one semop(); no SEM_UNDO, which would
 * erase a dead sender's events. */
static int sem_sysv_post(struct sem_sysv_state *st)
{
	struct sem_tally next = sem_tally_next(&st->tally);
	struct sembuf ops[4] = { { SEM_TALLY_EVENTS, 1, IPC_NOWAIT } };
	unsigned int n = sem_tally_move(ops, 1, &st->tally, &next);

	if (semop(st->set.id, ops, n) < 0)
		return -errno;
	st->tally = next;
	return 0;
}

static int sem_sysv_send(struct transport *t, const uint8_t *frame,
			 size_t len)
{
	struct sem_sysv_state *st = t->priv;
	struct ipc_message m;
	int r;

	/* A count cannot carry a malformed frame for the receiver to reject. */
	if (ipc_message_decode(frame, len, &m) != IPC_MESSAGE_OK)
		return -EINVAL;
	/* A new button, a new set, events dropped before us: in step again. */
	sem_tally_realign(&st->tally, st->set.id, &m);
	r = sem_sysv_post(st);
	/*
	 * A value would leave 0..32767: EVENTS full, or our copy of POSTED
	 * out of date (another sender was here). Look, and try once more.
	 */
	if (r == -ERANGE || r == -EAGAIN) {
		r = sem_tally_load(&st->tally, st->set.id);
		if (r == SEM_TALLY_EVENTS_MAX)
			return TRANSPORT_FULL;
		r = r < 0 ? r : sem_sysv_post(st);
		if (r == -ERANGE || r == -EAGAIN)
			r = -EIO;
	}
	return sem_set_removed(r) ? TRANSPORT_STALE : r; /* removed, replaced */
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

/* Take back the tokens wake() posted: a stop must not count as events. */
static void sem_sysv_absorb_wakes(struct sem_sysv_state *st)
{
	sig_atomic_t n = st->wake_posts - st->wake_absorbed;

	if (n > 0 && sem_set_change(st->set.id, SEM_TALLY_EVENTS, -(short)n,
				    IPC_NOWAIT) == 0)
		st->wake_absorbed += n;
}

static ssize_t sem_sysv_receive(struct transport *t, uint8_t *buf,
				size_t size, int timeout_ms)
{
	struct sem_sysv_state *st = t->priv;
	/* EVENTS without SEM_UNDO, which would replay a dead receiver's
	 * takes; BUSY with it: a receiver killed while numbering frees it. */
	struct sembuf take[2] = {
		{ SEM_TALLY_EVENTS, -1, 0 }, { SEM_TALLY_BUSY, 1, SEM_UNDO },
	};
	struct sembuf untake[2] = {
		{ SEM_TALLY_EVENTS, 1, IPC_NOWAIT },
		{ SEM_TALLY_BUSY, -1, IPC_NOWAIT | SEM_UNDO },
	};
	struct timespec left;
	struct deadline d;
	int r;

	if (size < IPC_MESSAGE_SIZE)
		return -EMSGSIZE;
	deadline_start(&d, timeout_ms);
	while (!stop_requested()) {
		left = deadline_left_timespec(&d);
		/* Stop signals may land only while we sleep; wake() posts. */
		stop_unblock();
		r = stop_requested() ? -EINTR : 0;
		if (!r && semtimedop(st->set.id, take, 2,
				     d.forever ? NULL : &left) < 0)
			r = -errno;
		stop_block();
		if (!r && !stop_requested())	/* numbered, BUSY given back */
			return sem_tally_number(&st->tally, st->set.id,
						monotonic_ns(), buf);
		if (!r)		/* perhaps a wake token: give it back */
			(void)semop(st->set.id, untake, 2);
		if (r == -EAGAIN)
			return -ETIMEDOUT;
		if (r < 0 && r != -EINTR)
			return r;
	}
	sem_sysv_absorb_wakes(st);
	return -EINTR;
}

static void sem_sysv_wake(struct transport *t)
{
	struct sem_sysv_state *st = t->priv;

	/* Async-signal-safe: one semop(), a counter only the handler raises. */
	if (t->role != TRANSPORT_RECEIVER || !st || st->set.id < 0)
		return;
	st->wake_posts++;
	(void)sem_set_change(st->set.id, SEM_TALLY_EVENTS, 1, IPC_NOWAIT);
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
			  (st->wake_posts - st->wake_absorbed);
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
	t->priv = st;
	if (t->role == TRANSPORT_RECEIVER)
		r = transport_sysv_open_receiver(t, sem_sysv_open_receiver);
	else
		r = sem_sysv_open_sender(t, st);
	if (r < 0)
		sem_sysv_close(t);	/* a set made but not initialised too */
	return r;
}

static const struct transport_ops sem_sysv_ops = {
	.name = "sem-sysv",
	.summary = "System V semaphore set, one post per event, count kept in step with the button",
	.flags = TRANSPORT_LOSSLESS | TRANSPORT_NO_PAYLOAD | TRANSPORT_DURABLE,
	.open = sem_sysv_open,
	.send = sem_sysv_send,
	.receive = sem_sysv_receive,
	.wake = sem_sysv_wake,
	.close = sem_sysv_close,
};

TRANSPORT_REGISTER(sem_sysv_ops);
