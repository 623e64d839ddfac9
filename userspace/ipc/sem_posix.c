// SPDX-License-Identifier: MIT
/*
 * sem-posix: POSIX named semaphores. No payload crosses, only counts: the
 * sender calls sem_post() on EVENTS once per event, the receiver sleeps in
 * sem_wait() (sem_clockwait() for a timeout) and rebuilds the frame from
 * the event's number, which it keeps and the sender hands over in the
 * handshake of lib/sem_handshake.h. EVENTS (0600, named by
 * transport_global_name()) outlives a killed receiver with its count.
 */
#include "transport.h"

#include "../lib/counted_event.h"
#include "../lib/deadline.h"
#include "../lib/message.h"
#include "../lib/named_object.h"
#include "../lib/private_object.h"
#include "../lib/sem_handshake.h"
#include "../lib/sem_named.h"
#include "../lib/stop.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

struct sem_posix_state {
	struct sem_named events;
	struct sem_handshake hs;	/* and the numbering, both sides' */
	volatile sig_atomic_t wake_posts;	/* EVENTS tokens wake() added */
	sig_atomic_t wake_absorbed;		/* tokens taken back */
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

static int sem_posix_send(struct transport *t, const uint8_t *frame,
			  size_t len)
{
	struct sem_posix_state *st = t->priv;
	struct ipc_message m;
	uint32_t phase;
	int r;

	/* A count cannot carry a malformed frame for the receiver to reject. */
	if (ipc_message_decode(frame, len, &m) != IPC_MESSAGE_OK)
		return -EINVAL;
	/* A post to a nameless semaphore is lost: follow a new receiver,
	 * keeping what we know of our last event. */
	if (!sem_handshake_current(&st->hs)) {
		sem_named_close(&st->events);
		sem_handshake_close(&st->hs);
		if (sem_posix_open_sender(st) < 0)
			return TRANSPORT_STALE;
	}
	if (m.type == IPC_EVENT_STATE) {
		/* The button is idle: no event, but a waiting receiver's answer. */
		sem_handshake_idle(&st->hs, &st->events);
		return 0;
	}
	phase = counted_event_phase(&m);
	r = sem_handshake_prepare(&st->hs, &st->events, m.seqno, phase);
	if (r < 0)	/* -EAGAIN: until the receiver comes to our ASK */
		return r == -EAGAIN ? TRANSPORT_FULL : r;
	if (sem_post(st->events.sem) < 0)
		return errno == EOVERFLOW ? TRANSPORT_FULL : -errno;
	sem_handshake_posted(&st->hs, m.seqno, phase);
	return 0;
}

/* --- receiver ---------------------------------------------------------- */

/* EVENTS: made with 0, or adopted with its count from a killed receiver. */
static int sem_posix_create(void *ctx)
{
	struct sem_named *ev = ctx;

	ev->sem = sem_open(ev->name, O_CREAT | O_EXCL, PRIVATE_OBJECT_MODE, 0);
	return ev->sem == SEM_FAILED ? -errno : sem_named_created(ev);
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
	return r < 0 ? r : 0;
}

/* Take back the tokens wake() posted: a stop must not count as events. */
static void sem_posix_absorb_wakes(struct sem_posix_state *st)
{
	while (st->wake_absorbed < st->wake_posts &&
	       sem_trywait(st->events.sem) == 0)
		st->wake_absorbed++;
}

/* Take one from EVENTS, or ANS while the handshake waits for an answer:
 * 0, -EINTR on a stop (its wake tokens taken back), -ETIMEDOUT, -errno. */
static int sem_posix_wait(struct sem_posix_state *st, const struct deadline *d)
{
	sem_t *sem = sem_handshake_wait_on(&st->hs, st->events.sem);
	struct timespec end = deadline_end_timespec(d);
	int r;

	while (!stop_requested()) {
		/* Stop signals may land only while we sleep; wake() posts. */
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
		if (!r && sem == st->events.sem)
			sem_post(sem);	/* taken after the stop: give it back */
		if (r && r != -EINTR)
			return r;
	}
	sem_posix_absorb_wakes(st);
	return -EINTR;
}

static ssize_t sem_posix_receive(struct transport *t, uint8_t *buf,
				 size_t size, int timeout_ms)
{
	struct sem_posix_state *st = t->priv;
	struct deadline d;
	uint32_t seqno, k;
	int r;

	if (size < IPC_MESSAGE_SIZE)
		return -EMSGSIZE;
	deadline_start(&d, timeout_ms);
	do {
		r = sem_posix_wait(st, &d);
		if (r < 0)
			return r;
		/* An event, unless the handshake took a step (then wait again). */
	} while (sem_handshake_taken(&st->hs, st->events.sem));
	seqno = sem_handshake_number(&st->hs, &k);
	counted_event_frame_at(seqno, k, 0, monotonic_ns(), buf);
	return IPC_MESSAGE_SIZE;
}

static void sem_posix_wake(struct transport *t)
{
	struct sem_posix_state *st = t->priv;

	/* Async-signal-safe: sem_post(), a counter only the handler raises. */
	if (t->role != TRANSPORT_RECEIVER || !st || st->hs.req.sem == SEM_FAILED)
		return;
	st->wake_posts++;
	sem_post(st->events.sem);
	sem_post(st->hs.ans.sem);
}

/* --- both -------------------------------------------------------------- */

static void sem_posix_close(struct transport *t)
{
	struct sem_posix_state *st = t->priv;
	int pending = 0;

	if (t->role == TRANSPORT_RECEIVER) {
		if (st->events.sem != SEM_FAILED) {
			sem_posix_absorb_wakes(st);
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
		 TRANSPORT_IDLE_REPORTS,
	.open = sem_posix_open,
	.send = sem_posix_send,
	.receive = sem_posix_receive,
	.wake = sem_posix_wake,
	.close = sem_posix_close,
};

TRANSPORT_REGISTER(sem_posix_ops);
