// SPDX-License-Identifier: MIT
/*
 * sem-posix: POSIX named semaphores. No payload crosses, only counts: the
 * sender calls sem_post() on EVENTS once per event, the receiver sleeps in
 * sem_wait() (sem_clockwait() for a timeout) and rebuilds the frame from
 * the event's number k, the button's seqno, and a phase
 * (lib/counted_event.h).
 *
 * A POSIX semaphore has no SEM_UNDO and changes one value at a time, so k
 * cannot live in it atomically with the take: it lives in the receiver,
 * and is handed over whenever it may be wrong (a new receiver or sender, a
 * seqno jump, a phase change) in a handshake on semaphores every receiver
 * makes new: REQ (made with 1), ASK, ANS and the answer's digits D0..D2.
 * docs/mechanisms/sem-posix.md tells it step by step. EVENTS,
 * "/ipc-button.<uid>.<instance>.sem-posix" (0600), outlives a killed
 * receiver with its count; the handshake's names add .req, .ask, ...
 */
#include "transport.h"

#include "../lib/counted_event.h"
#include "../lib/deadline.h"
#include "../lib/message.h"
#include "../lib/named_object.h"
#include "../lib/sem_named.h"
#include "../lib/stop.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

enum { SP_EVENTS, SP_ANS, SP_ASK, SP_D0, SP_D1, SP_D2, SP_REQ, SP_COUNT };

static const char *const sp_suffix[SP_COUNT] = {
	[SP_EVENTS] = "", [SP_ANS] = ".ans", [SP_ASK] = ".ask",
	[SP_D0] = ".d0", [SP_D1] = ".d1", [SP_D2] = ".d2", [SP_REQ] = ".req",
};

struct sem_posix_state {
	struct sem_named s[SP_COUNT];
	/* Receiver: the numbering, and whether it waits for an answer. */
	bool asking;
	uint32_t k;
	uint32_t phase;
	volatile sig_atomic_t wake_posts;	/* EVENTS tokens wake() added */
	sig_atomic_t wake_absorbed;		/* tokens taken back */
	/* Sender: the last event posted (seqno, phase), and a pending ASK. */
	bool have_last;
	bool asked;
	uint32_t last;
	uint32_t last_phase;
};

static void sem_posix_drain(sem_t *sem)
{
	while (sem_trywait(sem) == 0)
		;
}

/* --- sender ------------------------------------------------------------ */

static int sem_posix_open_sender(struct sem_posix_state *st)
{
	int r = 0;

	/* REQ first: made last, it says the others are this receiver's. */
	for (int i = SP_COUNT - 1; r == 0 && i >= 0; i--)
		r = sem_named_open(&st->s[i]);
	if (r == 0 && !sem_named_current(&st->s[SP_REQ]))
		r = -ESTALE;
	/* Missing, not ours or changing: no receiver of ours (yet). */
	return r == -EPERM || r == -EACCES || r == -ESTALE ? TRANSPORT_ABSENT : r;
}

/*
 * With the receiver waiting for ANS (taking nothing): number the events
 * waiting so that the last one posted is st->last, and answer. Answered,
 * then REQ taken: a sender killed before ANS leaves it to the next one.
 */
static void sem_posix_answer(struct sem_posix_state *st)
{
	uint32_t base = st->last - (uint32_t)sem_named_value(&st->s[SP_EVENTS]);

	sem_named_set(&st->s[SP_D0], (int)((base & 0x3ff) << 2 | st->last_phase));
	sem_named_set(&st->s[SP_D1], (int)((base >> 10) & 0x7ff));
	sem_named_set(&st->s[SP_D2], (int)(base >> 21));
	sem_posix_drain(st->s[SP_ASK].sem);	/* answered too */
	sem_post(st->s[SP_ANS].sem);
	(void)sem_trywait(st->s[SP_REQ].sem);
	st->asked = false;
}

static int sem_posix_send(struct transport *t, const uint8_t *frame,
			  size_t len)
{
	struct sem_posix_state *st = t->priv;
	bool waiting;
	struct ipc_message m;
	uint32_t phase;

	/* A count cannot carry a malformed frame for the receiver to reject. */
	if (ipc_message_decode(frame, len, &m) != IPC_MESSAGE_OK)
		return -EINVAL;
	/* A post to a nameless semaphore is lost: follow a new receiver,
	 * keeping what we know of our last event. */
	if (!sem_named_current(&st->s[SP_REQ])) {
		for (int i = 0; i < SP_COUNT; i++)
			sem_named_close(&st->s[i]);
		st->asked = false;
		if (sem_posix_open_sender(st) < 0)
			return TRANSPORT_STALE;
	}
	waiting = sem_named_value(&st->s[SP_REQ]) > 0;
	if (m.type == IPC_EVENT_STATE) {
		/* The button is idle: no event, but a waiting receiver's answer. */
		if (st->have_last && waiting)
			sem_posix_answer(st);
		return 0;
	}
	phase = counted_event_phase(&m);
	if (waiting) {
		/* A new sender answers for this frame. */
		if (!st->have_last) {
			st->last = m.seqno - 1;
			st->last_phase = phase;
			st->have_last = true;
		}
		sem_posix_answer(st);
	} else if (st->asked) {
		return TRANSPORT_FULL;	/* until the receiver comes to our ASK */
	}
	if (!st->have_last || m.seqno != st->last + 1 || phase != st->last_phase) {
		/* Renumber: ASK, then this event, which the receiver gives back. */
		if (sem_post(st->s[SP_ASK].sem) < 0)
			return -errno;
		st->asked = true;
	}
	if (sem_post(st->s[SP_EVENTS].sem) < 0)
		return errno == EOVERFLOW ? TRANSPORT_FULL : -errno;
	st->have_last = true;
	st->last = m.seqno;
	st->last_phase = phase;
	return 0;
}

/* --- receiver ---------------------------------------------------------- */

/* EVENTS: created, or adopted with its count from a killed receiver. */
static int sem_posix_create(void *ctx)
{
	return sem_named_create(ctx, 0);
}

static int sem_posix_adopt(void *ctx)
{
	int r = sem_named_open(ctx);

	if (r == -EPERM || r == -EACCES)
		return NAMED_OBJECT_STALE;	/* not ours */
	if (r == -ENOENT || r == -ESTALE)
		return NAMED_OBJECT_GONE;	/* changed meanwhile */
	return r < 0 ? r : NAMED_OBJECT_OURS;
}

static int sem_posix_remove(void *ctx)
{
	struct sem_named *ev = ctx;

	return sem_unlink(ev->name) < 0 ? -errno : 0;
}

static const struct named_object_ops sem_posix_events = {
	.create = sem_posix_create,
	.adopt = sem_posix_adopt,
	.remove = sem_posix_remove,
};

static int sem_posix_open_receiver(struct sem_posix_state *st)
{
	int r = named_object_get(&sem_posix_events, &st->s[SP_EVENTS]);

	/* The handshake is always new: nothing of a killed receiver's. */
	for (int i = SP_EVENTS + 1; r >= 0 && i < SP_COUNT; i++) {
		if (sem_unlink(st->s[i].name) < 0 && errno != ENOENT)
			r = -errno;
		else
			r = sem_named_create(&st->s[i], i == SP_REQ ? 1 : 0);
	}
	st->asking = true;	/* REQ is made with 1 */
	return r < 0 ? r : 0;
}

/* Take back the tokens wake() posted: a stop must not count as events. */
static void sem_posix_absorb_wakes(struct sem_posix_state *st)
{
	while (st->wake_absorbed < st->wake_posts &&
	       sem_trywait(st->s[SP_EVENTS].sem) == 0)
		st->wake_absorbed++;
}

/* Wait for @sem: 0, -EINTR on a stop, -ETIMEDOUT or an error. */
static int sem_posix_wait(struct sem_posix_state *st, sem_t *sem,
			  const struct deadline *d, const struct timespec *end)
{
	int r;

	while (!stop_requested()) {
		/* Stop signals may land only while we sleep; wake() posts. */
		stop_unblock();
		if (stop_requested())
			r = -EINTR;
		else if (d->forever ? sem_wait(sem) :
			 sem_clockwait(sem, CLOCK_MONOTONIC, end))
			r = -errno;
		else
			r = 0;
		stop_block();
		if (!r && !stop_requested())
			return 0;
		if (!r && sem == st->s[SP_EVENTS].sem)
			sem_post(sem);	/* taken after the stop: give it back */
		if (r && r != -EINTR)
			return r;
	}
	return -EINTR;
}

static ssize_t sem_posix_receive(struct transport *t, uint8_t *buf,
				 size_t size, int timeout_ms)
{
	struct sem_posix_state *st = t->priv;
	struct timespec end;
	struct deadline d;
	int r;

	if (size < IPC_MESSAGE_SIZE)
		return -EMSGSIZE;
	deadline_start(&d, timeout_ms);
	end = deadline_end_timespec(&d);
	for (;;) {
		r = sem_posix_wait(st, st->s[st->asking ? SP_ANS : SP_EVENTS].sem,
				   &d, &end);
		if (r == -EINTR)
			sem_posix_absorb_wakes(st);
		if (r < 0)
			return r;
		if (st->asking) {	/* answered: go on from BASE, PHASE */
			uint32_t d0 = sem_named_value(&st->s[SP_D0]);

			st->k = d0 >> 2 | sem_named_value(&st->s[SP_D1]) << 10 |
				(uint32_t)sem_named_value(&st->s[SP_D2]) << 21;
			st->phase = d0 & 3;
			st->asking = false;
		} else if (sem_trywait(st->s[SP_ASK].sem) == 0) {
			/* Give the event back and ask to be numbered. */
			sem_post(st->s[SP_EVENTS].sem);
			sem_posix_drain(st->s[SP_ANS].sem); /* a needless one */
			sem_post(st->s[SP_REQ].sem);
			st->asking = true;
		} else {
			st->k++;
			counted_event_frame_at(st->k, st->k + st->phase, 0,
					       monotonic_ns(), buf);
			return IPC_MESSAGE_SIZE;
		}
	}
}

static void sem_posix_wake(struct transport *t)
{
	struct sem_posix_state *st = t->priv;

	/* Async-signal-safe: sem_post(), a counter only the handler raises. */
	if (t->role != TRANSPORT_RECEIVER || !st ||
	    st->s[SP_REQ].sem == SEM_FAILED)
		return;
	st->wake_posts++;
	sem_post(st->s[SP_EVENTS].sem);
	sem_post(st->s[SP_ANS].sem);
}

/* --- both -------------------------------------------------------------- */

static void sem_posix_close(struct transport *t)
{
	struct sem_posix_state *st = t->priv;
	int pending;

	if (t->role == TRANSPORT_RECEIVER && st->s[SP_EVENTS].sem != SEM_FAILED) {
		sem_posix_absorb_wakes(st);
		pending = sem_named_value(&st->s[SP_EVENTS]);
		if (pending > 0)
			snprintf(t->detail, sizeof(t->detail),
				 "%d untaken events discarded with %.160s",
				 pending, st->s[SP_EVENTS].path);
	}
	/* The receiver unlinks only what is still its own. */
	for (int i = 0; i < SP_COUNT; i++) {
		if (t->role == TRANSPORT_RECEIVER)
			sem_named_remove(&st->s[i]);
		else
			sem_named_close(&st->s[i]);
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
	for (int i = 0; i < SP_COUNT; i++)
		st->s[i].sem = SEM_FAILED;
	r = transport_global_name(t, base, sizeof(base));
	for (int i = 0; !r && i < SP_COUNT; i++)
		r = sem_named_init(&st->s[i], base, sp_suffix[i]);
	if (!r)
		r = t->role == TRANSPORT_SENDER ? sem_posix_open_sender(st) :
						  sem_posix_open_receiver(st);
	if (r < 0)
		sem_posix_close(t);
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
