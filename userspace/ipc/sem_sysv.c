// SPDX-License-Identifier: MIT
/*
 * sem-sysv: a System V semaphore set. No payload crosses, only counts: the
 * sender adds 1 to EVENTS per event, the receiver sleeps in semtimedop()
 * until it can take 1 and rebuilds the frame from the event's number k
 * (lib/counted_event.h). The set, 0600, under the key
 * transport_sysv_open_receiver() hands out:
 *   EVENTS      events posted and not taken yet
 *   POSTED_LO   events ever posted, modulo 2^30, in two 15-bit digits
 *   POSTED_HI   (a semaphore holds 0..32767)
 *   RECEIVER    1 while no receiver holds the set
 *   BUSY        1 while the receiver numbers the event it took
 *   PHASE       0..3: event k is a press or release, LED on or off, as
 *               event k + PHASE of lib/counted_event.h would be
 * k is POSTED - EVENTS: the sender raises both in one semop(), and the
 * receiver takes one event and reads every value in one GETALL. So the
 * count lives in the set, and a receiver that adopts a killed one's set
 * numbers on where it stopped.
 */
#include "transport.h"

#include "../lib/counted_event.h"
#include "../lib/deadline.h"
#include "../lib/message.h"
#include "../lib/named_object.h"
#include "../lib/sem_set.h"
#include "../lib/stop.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/ipc.h>
#include <sys/sem.h>

enum {
	SEM_EVENTS, SEM_POSTED_LO, SEM_POSTED_HI, SEM_RECEIVER, SEM_BUSY,
	SEM_PHASE, SEM_COUNT
};

#define SEM_DIGIT	32768u				/* SEMVMX + 1 */
#define SEM_COUNT_MASK	(SEM_DIGIT * SEM_DIGIT - 1)	/* 2^30 - 1 */

struct sem_sysv_state {
	key_t key;
	int id;
	/* Sender: POSTED and PHASE as we last left them (the only writer). */
	uint32_t posted;
	unsigned short phase;
	/* Receiver. */
	bool have_last;
	uint32_t last_k;
	volatile sig_atomic_t wake_posts;	/* tokens wake() added */
	sig_atomic_t wake_absorbed;		/* tokens taken back */
};

static uint32_t sem_sysv_posted(const unsigned short values[SEM_COUNT])
{
	return values[SEM_POSTED_HI] * SEM_DIGIT + values[SEM_POSTED_LO];
}

/* Sender: our copies of POSTED and PHASE from the set; EVENTS too. */
static int sem_sysv_load(struct sem_sysv_state *st, unsigned short *events)
{
	unsigned short values[SEM_COUNT];
	int r = sem_set_values(st->id, values);

	if (r < 0)
		return r;
	st->posted = sem_sysv_posted(values);
	st->phase = values[SEM_PHASE];
	*events = values[SEM_EVENTS];
	return 0;
}

/* --- sender ------------------------------------------------------------ */

/* Append to @ops the ops that move POSTED from @from to @to, digit-wise. */
static unsigned int sem_sysv_move_posted(struct sembuf *ops, unsigned int n,
					 uint32_t from, uint32_t to)
{
	int lo = (int)(to % SEM_DIGIT) - (int)(from % SEM_DIGIT);
	int hi = (int)(to / SEM_DIGIT) - (int)(from / SEM_DIGIT);

	if (lo)
		ops[n++] = (struct sembuf){ SEM_POSTED_LO, (short)lo, IPC_NOWAIT };
	if (hi)
		ops[n++] = (struct sembuf){ SEM_POSTED_HI, (short)hi, IPC_NOWAIT };
	return n;
}

/*
 * Keep k in step with the button (a new button, a new set, events dropped
 * before the sender): move POSTED and PHASE so that this frame's seqno and
 * press/release follow from them, in one semop() that also asks "EVENTS
 * and BUSY are 0", so no event waiting or being numbered changes its k.
 * While events wait it fails (EAGAIN), and a later post catches up.
 */
static void sem_sysv_realign(struct sem_sysv_state *st,
			     const struct ipc_message *m)
{
	unsigned short phase = counted_event_phase(m);
	uint32_t to = (m->seqno - 1) & SEM_COUNT_MASK;
	struct sembuf ops[5] = {
		{ SEM_EVENTS, 0, IPC_NOWAIT },	/* nothing waiting */
		{ SEM_BUSY, 0, IPC_NOWAIT },	/* nothing being numbered */
	};
	unsigned int n;

	if (to == st->posted && phase == st->phase)
		return;
	n = sem_sysv_move_posted(ops, 2, st->posted, to);
	if (phase != st->phase)
		ops[n++] = (struct sembuf){ SEM_PHASE, (short)(phase - st->phase),
					    IPC_NOWAIT };
	if (semop(st->id, ops, n) == 0) {
		st->posted = to;
		st->phase = phase;
	}
}

/* EVENTS and POSTED up by one, in one semop(); no SEM_UNDO, which would
 * erase a dead sender's events. */
static int sem_sysv_post(struct sem_sysv_state *st)
{
	uint32_t next = (st->posted + 1) & SEM_COUNT_MASK;
	struct sembuf ops[3] = { { SEM_EVENTS, 1, IPC_NOWAIT } };
	unsigned int n = sem_sysv_move_posted(ops, 1, st->posted, next);

	if (semop(st->id, ops, n) < 0)
		return -errno;
	st->posted = next;
	return 0;
}

static int sem_sysv_send(struct transport *t, const uint8_t *frame,
			 size_t len)
{
	struct sem_sysv_state *st = t->priv;
	struct ipc_message m;
	unsigned short events;
	int r;

	/* A count cannot carry a malformed frame for the receiver to reject. */
	if (ipc_message_decode(frame, len, &m) != IPC_MESSAGE_OK)
		return -EINVAL;
	sem_sysv_realign(st, &m);
	r = sem_sysv_post(st);
	/*
	 * A value would leave 0..32767: EVENTS full, or our copy of POSTED
	 * out of date (another sender was here). Look, and try once more.
	 */
	if (r == -ERANGE || r == -EAGAIN) {
		r = sem_sysv_load(st, &events);
		if (!r && events == SEM_DIGIT - 1)
			return TRANSPORT_FULL;	/* 32767 events waiting */
		r = r < 0 ? r : sem_sysv_post(st);
		if (r == -ERANGE || r == -EAGAIN)
			r = -EIO;
	}
	return sem_set_removed(r) ? TRANSPORT_STALE : r; /* removed, replaced */
}

static int sem_sysv_open_sender(struct transport *t,
				struct sem_sysv_state *st)
{
	unsigned short events;
	int r;

	r = transport_sysv_key(t, &st->key);
	if (!r) {
		st->id = semget(st->key, 0, 0);
		r = st->id < 0 ? -errno : sem_set_check(st->id, SEM_COUNT);
	}
	if (!r)
		r = sem_sysv_load(st, &events);
	/* Missing, not ours or not initialised yet: no receiver (yet). */
	return r == -EACCES || r == -ESTALE || sem_set_removed(r) ?
		TRANSPORT_ABSENT : r;
}

/* --- receiver ---------------------------------------------------------- */

/* Take back the tokens wake() posted: a stop must not count as events. */
static void sem_sysv_absorb_wakes(struct sem_sysv_state *st)
{
	sig_atomic_t n = st->wake_posts - st->wake_absorbed;

	if (n > 0 && sem_set_change(st->id, SEM_EVENTS, -(short)n,
				    IPC_NOWAIT) == 0)
		st->wake_absorbed += n;
}

/* Number the event taken with BUSY held, then give BUSY back. */
static int sem_sysv_number(struct sem_sysv_state *st, uint8_t *buf)
{
	unsigned short values[SEM_COUNT];
	uint32_t k, dropped = 0;
	int r, done;

	r = sem_set_values(st->id, values);
	done = sem_set_change(st->id, SEM_BUSY, -1, IPC_NOWAIT | SEM_UNDO);
	if (r < 0 || done < 0)
		return r < 0 ? r : done;
	k = (sem_sysv_posted(values) - values[SEM_EVENTS]) & SEM_COUNT_MASK;
	/* Forward by more than one: events were dropped before the sender. */
	if (st->have_last && ((k - st->last_k - 1) & SEM_COUNT_MASK) < SEM_DIGIT)
		dropped = (k - st->last_k - 1) & SEM_COUNT_MASK;
	st->have_last = true;
	st->last_k = k;
	counted_event_frame_at(k, k + (values[SEM_PHASE] & 3), dropped,
			       monotonic_ns(), buf);
	return IPC_MESSAGE_SIZE;
}

static ssize_t sem_sysv_receive(struct transport *t, uint8_t *buf,
				size_t size, int timeout_ms)
{
	struct sem_sysv_state *st = t->priv;
	/* EVENTS without SEM_UNDO, which would replay a dead receiver's
	 * takes; BUSY with it: a receiver killed while numbering frees it. */
	struct sembuf take[2] = {
		{ SEM_EVENTS, -1, 0 }, { SEM_BUSY, 1, SEM_UNDO },
	};
	struct sembuf untake[2] = {
		{ SEM_EVENTS, 1, IPC_NOWAIT }, { SEM_BUSY, -1, IPC_NOWAIT | SEM_UNDO },
	};
	struct timespec left;
	struct deadline d;
	int r = -EINTR;

	if (size < IPC_MESSAGE_SIZE)
		return -EMSGSIZE;
	deadline_start(&d, timeout_ms);
	while (!stop_requested()) {
		left = deadline_left_timespec(&d);
		/* Stop signals may land only while we sleep; wake() posts. */
		stop_unblock();
		if (stop_requested())
			r = -EINTR;
		else if (semtimedop(st->id, take, 2, d.forever ? NULL : &left))
			r = -errno;
		else
			r = 0;
		stop_block();
		if (!r && !stop_requested())
			return sem_sysv_number(st, buf);
		if (!r)		/* perhaps a wake token: give it back */
			(void)semop(st->id, untake, 2);
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
	if (t->role != TRANSPORT_RECEIVER || !st || st->id < 0)
		return;
	st->wake_posts++;
	(void)sem_set_change(st->id, SEM_EVENTS, 1, IPC_NOWAIT);
}

static int sem_sysv_create(void *ctx)
{
	unsigned short values[SEM_COUNT] = { [SEM_RECEIVER] = 1 };
	struct sem_sysv_state *st = ctx;

	st->id = semget(st->key, SEM_COUNT, IPC_CREAT | IPC_EXCL | 0600);
	if (st->id < 0)
		return -errno;
	return sem_set_init(st->id, values, SEM_RECEIVER);
}

/* The set under our key: a killed receiver's to adopt, counts and all. */
static int sem_sysv_adopt(void *ctx)
{
	struct sem_sysv_state *st = ctx;
	int id = semget(st->key, 0, 0);
	int r = id < 0 ? -errno : sem_set_check(id, SEM_COUNT);

	if (!r)
		r = sem_set_claim(id, SEM_RECEIVER);
	if (!r)
		st->id = id;
	if (r == -ENOENT || sem_set_removed(r))
		return NAMED_OBJECT_GONE;
	if (r == -ESTALE)
		return NAMED_OBJECT_STALE;
	return r < 0 ? r : NAMED_OBJECT_OURS;
}

static int sem_sysv_remove(void *ctx)
{
	struct sem_sysv_state *st = ctx;
	int id = semget(st->key, 0, 0);

	if (id >= 0 && semctl(id, 0, IPC_RMID) < 0 && !sem_set_removed(-errno))
		return -errno;
	return 0;
}

static const struct named_object_ops sem_sysv_object = {
	.create = sem_sysv_create,
	.adopt = sem_sysv_adopt,
	.remove = sem_sysv_remove,
};

/* transport_sysv_open_receiver() calls this with each key it tries. */
static int sem_sysv_open_receiver(struct transport *t, int key)
{
	struct sem_sysv_state *st = t->priv;
	int r;

	st->key = key;
	r = named_object_get(&sem_sysv_object, st);
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
	if (t->role == TRANSPORT_RECEIVER && st->id >= 0) {
		pending = semctl(st->id, SEM_EVENTS, GETVAL) -
			  (st->wake_posts - st->wake_absorbed);
		if (pending > 0)
			snprintf(t->detail, sizeof(t->detail),
				 "%d untaken events discarded with semaphore set key 0x%08x",
				 pending, (unsigned int)st->key);
		semctl(st->id, 0, IPC_RMID);
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
	st->id = -1;
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
