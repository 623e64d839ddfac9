// SPDX-License-Identifier: MIT
#include "sem_handshake.h"

#include "stop.h"

#include <errno.h>

#define SEM_HANDSHAKE_SEMS	6

/* Every semaphore, in the order a receiver makes them: REQ last. */
static void sem_handshake_all(struct sem_handshake *h,
			      struct sem_named *all[SEM_HANDSHAKE_SEMS])
{
	all[0] = &h->ans;
	all[1] = &h->ask;
	all[2] = &h->digit[0];
	all[3] = &h->digit[1];
	all[4] = &h->digit[2];
	all[5] = &h->req;
}

static void sem_handshake_drain(sem_t *sem)
{
	while (sem_trywait(sem) == 0)
		;
}

int sem_handshake_init(struct sem_handshake *h, const char *base)
{
	static const char *const suffix[SEM_HANDSHAKE_SEMS] = {
		".ans", ".ask", ".d0", ".d1", ".d2", ".req",
	};
	struct sem_named *all[SEM_HANDSHAKE_SEMS];
	int r = 0;

	sem_handshake_all(h, all);
	/* Each one, even after a failure: then all are closed (SEM_FAILED). */
	for (int i = 0; i < SEM_HANDSHAKE_SEMS; i++) {
		int e = sem_named_init(all[i], base, suffix[i]);

		if (e < 0)
			r = e;
	}
	return r;
}

/* Raise @req to SEM_HANDSHAKE_GONE or above: its senders open anew. */
static void sem_handshake_mark_gone(sem_t *req)
{
	for (int i = 0; i < SEM_HANDSHAKE_GONE && sem_post(req) == 0; i++)
		;
}

int sem_handshake_create(struct sem_handshake *h)
{
	struct sem_named *all[SEM_HANDSHAKE_SEMS];
	struct sem_named left = h->req;
	int r = 0;

	sem_handshake_all(h, all);
	/* A killed receiver's REQ, if ours: its senders must follow us. */
	if (sem_named_open(&left) == 0) {
		sem_handshake_mark_gone(left.sem);
		sem_named_close(&left);
	}
	/* Nothing of a killed receiver's: its answers are not ours. */
	for (int i = 0; r == 0 && i < SEM_HANDSHAKE_SEMS; i++) {
		if (sem_unlink(all[i]->name) < 0 && errno != ENOENT)
			r = -errno;
		else
			r = sem_named_create(all[i], all[i] == &h->req ? 1 : 0);
	}
	h->asking = true;	/* REQ is made with 1 */
	h->req_owed = false;
	return r;
}

int sem_handshake_open(struct sem_handshake *h)
{
	struct sem_named *all[SEM_HANDSHAKE_SEMS];
	int r = 0;

	sem_handshake_all(h, all);
	h->asked = false;	/* an ASK to another receiver is lost */
	for (int i = SEM_HANDSHAKE_SEMS - 1; r == 0 && i >= 0; i--)
		r = sem_named_open(all[i]);
	return r;
}

/* sem_getvalue() reads the shared page: no system call. */
static bool sem_handshake_gone(const struct sem_handshake *h)
{
	return h->req.sem == SEM_FAILED ||
	       sem_named_value(&h->req) >= SEM_HANDSHAKE_GONE;
}

bool sem_handshake_current(const struct sem_handshake *h)
{
	return !sem_handshake_gone(h) && sem_named_current(&h->req);
}

bool sem_handshake_moved(struct sem_handshake *h, uint64_t now_ns)
{
	if (sem_handshake_gone(h))
		return true;
	if (now_ns - h->looked_ns < SEM_HANDSHAKE_LOOK_NS)
		return false;
	h->looked_ns = now_ns;
	return !sem_named_current(&h->req);
}

/*
 * With the receiver waiting for ANS (taking nothing): number the events
 * waiting on @events so that the last one posted is last_seqno, and
 * answer. ANS, then REQ taken: a sender killed in between leaves the
 * request to the next one.
 */
static void sem_handshake_answer(struct sem_handshake *h,
				 const struct sem_named *events)
{
	uint32_t base = h->last_seqno - (uint32_t)sem_named_value(events);

	/* 12, 11 and 11 bits: each digit well below SEM_VALUE_MAX. */
	sem_named_set(&h->digit[0], (int)((base & 0x3ff) << 2 | h->last_phase));
	sem_named_set(&h->digit[1], (int)((base >> 10) & 0x7ff));
	sem_named_set(&h->digit[2], (int)(base >> 21));
	sem_handshake_drain(h->ask.sem);	/* answered too */
	sem_post(h->ans.sem);
	(void)sem_trywait(h->req.sem);
	h->asked = false;
}

int sem_handshake_prepare(struct sem_handshake *h,
			  const struct sem_named *events, uint32_t seqno,
			  uint32_t phase)
{
	if (sem_named_value(&h->req) > 0) {
		/* A new sender answers for this event. */
		if (!h->have_last)
			sem_handshake_posted(h, seqno - 1, phase);
		sem_handshake_answer(h, events);
	} else if (h->asked) {
		return -EAGAIN;
	}
	if (!h->have_last || seqno != h->last_seqno + 1 ||
	    phase != h->last_phase) {
		/* Renumber: ASK, then this event, which the receiver gives
		 * back when it finds the ASK. */
		if (sem_post(h->ask.sem) < 0)
			return -errno;
		h->asked = true;
	}
	return 0;
}

void sem_handshake_posted(struct sem_handshake *h, uint32_t seqno,
			  uint32_t phase)
{
	h->have_last = true;
	h->last_seqno = seqno;
	h->last_phase = phase;
}

int sem_handshake_post(struct sem_handshake *h, const struct sem_named *events,
		       uint32_t seqno, uint32_t phase, unsigned int count)
{
	unsigned int n = 0;
	int r = sem_handshake_prepare(h, events, seqno, phase);

	if (r < 0)
		return r;
	/* Renumbered: the ASK waits for the receiver; the rest, later. */
	if (h->asked)
		count = 1;
	/* Back to back: EVENTS's line stays in this CPU's cache meanwhile. */
	while (n < count && sem_post(events->sem) == 0)
		n++;
	if (!n)
		return -errno;
	sem_handshake_posted(h, seqno + n - 1, phase);
	return (int)n;
}

int sem_handshake_idle(struct sem_handshake *h, const struct sem_named *events)
{
	if (h->have_last && sem_named_value(&h->req) > 0)
		sem_handshake_answer(h, events);
	return 1;
}

sem_t *sem_handshake_wait_on(const struct sem_handshake *h, sem_t *events)
{
	return h->asking ? h->ans.sem : events;
}

void sem_handshake_ask(struct sem_handshake *h)
{
	/* Asking already, a stop's token goes to ANS from now on: a stop
	 * still clear here leaves EVENTS exact for the answer. */
	if (h->req_owed && !stop_requested()) {
		sem_post(h->req.sem);
		h->req_owed = false;
	}
}

bool sem_handshake_taken(struct sem_handshake *h, sem_t *events,
			 unsigned int count)
{
	uint32_t d0;

	if (h->asking) {	/* answered: go on from BASE, PHASE */
		d0 = (uint32_t)sem_named_value(&h->digit[0]);
		h->k = d0 >> 2 |
		       (uint32_t)sem_named_value(&h->digit[1]) << 10 |
		       (uint32_t)sem_named_value(&h->digit[2]) << 21;
		h->phase = d0 & 3;
		h->asking = false;
		return true;
	}
	if (sem_trywait(h->ask.sem) < 0)
		return false;
	/* Give the events back, all before the REQ that has them numbered
	 * (the answer counts what waits), and ask (a stale ANS out). */
	while (count--)
		sem_post(events);
	/* No stop token is in ANS while we do not ask: none drained. */
	sem_handshake_drain(h->ans.sem);
	h->asking = true;
	/* A stop before this line may have its token in EVENTS: then the
	 * REQ waits for the tokens to be taken back (sem_handshake_ask()). */
	h->req_owed = true;
	sem_handshake_ask(h);
	return true;
}

unsigned int sem_handshake_take_more(struct sem_handshake *h,
				     struct sem_named_wait *w, sem_t *events,
				     unsigned int more)
{
	unsigned int n = 0;

	/* Back to back, none numbered yet: EVENTS's line stays here. */
	while (n < more && sem_trywait(events) == 0)
		n++;
	/* A stop meanwhile: perhaps its token among them, all given back. */
	if (!n || sem_named_wait_stopped(w, events, n))
		return 0;
	/* An ASK among them: all given back, for the answer to number. */
	return sem_handshake_taken(h, events, n) ? 0 : n;
}

uint32_t sem_handshake_number(struct sem_handshake *h, uint32_t *k)
{
	h->k++;
	*k = h->k + h->phase;
	return h->k;
}

void sem_handshake_remove(struct sem_handshake *h)
{
	struct sem_named *all[SEM_HANDSHAKE_SEMS];

	if (h->req.sem != SEM_FAILED)
		sem_handshake_mark_gone(h->req.sem);
	sem_handshake_all(h, all);
	for (int i = 0; i < SEM_HANDSHAKE_SEMS; i++)
		sem_named_remove(all[i]);
}

void sem_handshake_close(struct sem_handshake *h)
{
	struct sem_named *all[SEM_HANDSHAKE_SEMS];

	sem_handshake_all(h, all);
	for (int i = 0; i < SEM_HANDSHAKE_SEMS; i++)
		sem_named_close(all[i]);
}
