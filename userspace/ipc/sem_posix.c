// SPDX-License-Identifier: MIT
/*
 * sem-posix: POSIX named semaphores. No payload crosses, only counts: the
 * sender validates a run of frames (up to 8), then calls sem_post() once
 * per event, back to back (whether the names are still its receiver's it
 * reads in user space: lib/sem_handshake.h); the receiver takes what
 * waits with sem_trywait(), back to back, sleeps in sem_wait()
 * (sem_clockwait() only for a timeout) only when nothing does, and
 * rebuilds the frames from the events' numbers, which it keeps and the
 * sender hands over in the handshake. No system call per event but the
 * wait's: a lone event costs the sender's futex wake and the receiver's
 * futex wait, as bare. The stop signals stay let in for good
 * (TRANSPORT_WAKE_ANYWHERE): a stop posts a token where the receiver
 * waits, and after each take a look at the stop flag gives back what a
 * token may be among (lib/sem_named_wait.h). EVENTS (0600, named by
 * transport_global_name()) outlives a killed receiver with its count.
 */
#include "transport.h"

#include "../lib/counted_event.h"
#include "../lib/deadline.h"
#include "../lib/batch_fill.h"
#include "../lib/message.h"
#include "../lib/named_object.h"
#include "../lib/sem_handshake.h"
#include "../lib/sem_named.h"
#include "../lib/sem_named_wait.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/param.h>

struct sem_posix_state {
	struct sem_named events;
	struct sem_handshake hs;	/* and the numbering, both sides' */
	struct sem_named_wait wait;	/* receiver: woken by a stop */
};

/* --- sender ------------------------------------------------------------ */

static int sem_posix_open_sender(struct sem_posix_state *st)
{
	/* REQ first: made last, it says EVENTS is this receiver's too. */
	int r = sem_handshake_open(&st->hs);

	if (r == 0)
		r = sem_named_open(&st->events);
	if (r == 0 && !sem_handshake_current(&st->hs))
		r = -ESTALE;
	/* Missing, not ours or changing: no receiver of ours (yet). */
	return r == -EPERM || r == -EACCES || r == -ESTALE ? TRANSPORT_ABSENT : r;
}

/* A post to a nameless semaphore is lost, so a new receiver is followed
 * (its mark read in user space), keeping what we know of our last event.
 * Each run of events that follow one another is posted back to back. */
static int sem_posix_send_many(struct transport *t, const uint8_t *frames,
			       size_t len, size_t count)
{
	struct sem_posix_state *st = t->priv;
	struct ipc_message m;
	size_t n = 0, run;
	int r = 0;

	if (sem_handshake_moved(&st->hs, monotonic_ns())) {
		sem_named_close(&st->events);
		sem_handshake_close(&st->hs);
		if (sem_posix_open_sender(st) < 0)
			return TRANSPORT_STALE;
	}
	/* A count cannot carry a bad frame: each run checked, then posted. */
	while (n < count && r >= 0) {
		run = MIN(count - n, SEM_HANDSHAKE_RUN_MAX);
		run = counted_event_run(frames + n * len, len, run, &m);
		if (!run)
			r = -EINVAL;
		else if (m.type != IPC_EVENT_STATE)
			r = sem_handshake_post(&st->hs, &st->events, m.seqno,
					       counted_event_phase(&m),
					       (unsigned int)run);
		else	/* an idle report: answers a waiting receiver */
			r = sem_handshake_idle(&st->hs, &st->events);
		n += r > 0 ? (size_t)r : 0;
	}
	/* -EAGAIN: until the receiver comes to our ASK; -EOVERFLOW: full. */
	return n ? (int)n : r == -EOVERFLOW ? TRANSPORT_FULL : r;
}

static int sem_posix_send(struct transport *t, const uint8_t *frame, size_t len)
{
	int r = sem_posix_send_many(t, frame, len, 1);

	return r > 0 ? 0 : r;
}

/* --- receiver ---------------------------------------------------------- */

/* EVENTS: made with 0, or adopted with its count from a killed receiver. */
static int sem_posix_create(void *ctx)
{
	return sem_named_create(ctx, 0);
}

static const struct named_object_ops sem_posix_events = {
	.create = sem_posix_create,
	.adopt = sem_named_adopt,
	.remove = sem_named_unlink,
};

static int sem_posix_open_receiver(struct sem_posix_state *st)
{
	int r = named_object_get(&sem_posix_events, &st->events);

	if (r >= 0)
		r = sem_handshake_create(&st->hs);
	if (r >= 0) {	/* wake() may post from now on */
		st->wait.sem[0] = st->events.sem;
		st->wait.sem[1] = st->hs.ans.sem;
	}
	return r < 0 ? r : 0;
}

/* One event, then up to @more waiting, taken back to back (sem_trywait():
 * no system call) before any is numbered. */
static ssize_t sem_posix_take(struct sem_posix_state *st, uint8_t *frames,
			      size_t stride, size_t more, int timeout_ms)
{
	size_t n = 0, extra = 0;
	uint32_t seqno, k;
	struct deadline d;
	uint64_t now;
	int r;

	deadline_start(&d, timeout_ms);
	sem_handshake_ask(&st->hs);	/* one a stop put off */
	do {
		r = sem_named_wait_take(&st->wait, sem_handshake_wait_on(
					&st->hs, st->events.sem), &d);
		if (r < 0)
			return r;
		/* An event, unless the handshake took a step (then wait again). */
	} while (sem_handshake_taken(&st->hs, st->events.sem, 1));
	/* None while a stop's token is not taken back yet (it cannot be). */
	if (!sem_named_wait_tokens(&st->wait))
		extra = sem_handshake_take_more(&st->hs, &st->wait,
						st->events.sem,
						(unsigned int)more);
	now = monotonic_ns();
	do {
		seqno = sem_handshake_number(&st->hs, &k);
		counted_event_frame_at(seqno, k, 0, now, frames + n * stride);
	} while (n++ < extra);
	return (ssize_t)n;
}

static ssize_t sem_posix_receive(struct transport *t, uint8_t *buf,
				 size_t size, int timeout_ms)
{
	ssize_t r = size < IPC_MESSAGE_SIZE ? -EMSGSIZE :
		    sem_posix_take(t->priv, buf, 0, 0, timeout_ms);

	return r < 0 ? r : IPC_MESSAGE_SIZE;
}

static ssize_t sem_posix_receive_many(struct transport *t,
				      struct transport_batch *batch,
				      int timeout_ms)
{
	ssize_t n = sem_posix_take(t->priv, batch->frame[0],
				   sizeof(batch->frame[0]),
				   TRANSPORT_BATCH_MAX - 1, timeout_ms);

	return batch_fill_fixed(batch, n, IPC_MESSAGE_SIZE);
}

static void sem_posix_wake(struct transport *t)
{
	struct sem_posix_state *st = t->priv;

	/* Async-signal-safe: the token goes where the receiver waits, ANS
	 * while it asks (EVENTS then stays exact for the answer). */
	if (t->role == TRANSPORT_RECEIVER && st)
		sem_named_wait_wake(&st->wait, sem_handshake_wait_on(
				    &st->hs, st->events.sem));
}

/* --- both -------------------------------------------------------------- */

static void sem_posix_close(struct transport *t)
{
	struct sem_posix_state *st = t->priv;
	int pending = 0;

	if (t->role == TRANSPORT_RECEIVER) {
		if (st->events.sem != SEM_FAILED) {
			sem_named_wait_absorb(&st->wait);
			pending = sem_named_value(&st->events);
		}
		if (pending > 0)
			snprintf(t->detail, sizeof(t->detail),
				 "%d untaken events discarded with %.160s",
				 pending, st->events.path);
		/* Unlinked only where the name still is ours. */
		sem_named_remove(&st->events);
		sem_handshake_remove(&st->hs);
	} else {
		sem_named_close(&st->events);
		sem_handshake_close(&st->hs);
	}
	free(st);
	t->priv = NULL;
}

static int sem_posix_open(struct transport *t)
{
	struct sem_posix_state *st = calloc(1, sizeof(*st));
	char base[NAME_MAX];
	int r;

	if (!st)
		return -ENOMEM;
	sem_named_wait_init(&st->wait);
	t->priv = st;
	r = transport_global_name(t, base, sizeof(base));
	if (!r)
		r = sem_named_init(&st->events, base, "");
	if (!r)
		r = sem_handshake_init(&st->hs, base);
	if (r < 0)
		goto err_free_state;	/* nothing open yet */
	r = t->role == TRANSPORT_SENDER ? sem_posix_open_sender(st) :
					  sem_posix_open_receiver(st);
	if (r < 0)
		sem_posix_close(t);
	return r;

err_free_state:
	free(st);
	t->priv = NULL;
	return r;
}

static const struct transport_ops sem_posix_ops = {
	.name = "sem-posix",
	.summary = "POSIX named semaphores, one sem_post per event, numbered by handshake",
	.flags = TRANSPORT_LOSSLESS | TRANSPORT_NO_PAYLOAD | TRANSPORT_DURABLE |
		 TRANSPORT_IDLE_REPORTS | TRANSPORT_WAKE_ANYWHERE,
	.open = sem_posix_open,
	.send = sem_posix_send,
	.send_many = sem_posix_send_many,
	.receive = sem_posix_receive,
	.receive_many = sem_posix_receive_many,
	.wake = sem_posix_wake,
	.close = sem_posix_close,
};

TRANSPORT_REGISTER(sem_posix_ops);
