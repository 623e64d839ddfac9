/* SPDX-License-Identifier: MIT */
/*
 * The numbering handshake of events counted on a POSIX named semaphore
 * (the sem-posix transport: one sem_post() per event on EVENTS, no
 * payload). Such a semaphore has no SEM_UNDO and changes one value at a
 * time, so the number k of an event cannot live in it atomically with the
 * take: the receiver keeps k itself, and the sender hands it over whenever
 * it may be wrong (a new receiver or sender, a seqno that jumps, a phase
 * that changes). This file holds the handshake's own semaphores and
 * decides each step; it also posts a run of events and takes what waits
 * after a receiver's first take, each back to back, so that the handshake
 * is asked once per run or batch, not once per event (EVENTS's cache line
 * then stays with one CPU for the whole run). The first take of a wait is
 * the caller's (lib/sem_named_wait.h).
 * docs/mechanisms/sem-posix.md, "Lossless or lossy", tells it in order.
 *
 * Every receiver makes the handshake's semaphores new (lib/sem_named.h),
 * named "<base>.req", ".ans", ".ask", ".d0", ".d1", ".d2":
 *   REQ     made with 1, and made last: "I wait for my numbering"; a
 *           sender that holds the REQ under its name knows the rest (and
 *           EVENTS) are this receiver's
 *   ASK     the sender wants to renumber, from the event it posts next
 *   ANS     the answer is in the digits
 *   D0..D2  the answer: BASE (32 bits), the number of the event before the
 *           first one waiting, and PHASE (0..3, lib/counted_event.h)
 * While the receiver waits for ANS it takes nothing, so the count of
 * events waiting is exact and BASE follows from the last seqno posted.
 *
 * A receiver that leaves the names (it closes, or a new one replaces a
 * killed one's) first raises the REQ it leaves to SEM_HANDSHAKE_GONE or
 * above: a sender that holds it sees so in sem_getvalue(), which reads the
 * shared page and makes no system call, and opens the names again.
 */
#ifndef IPC_SEM_HANDSHAKE_H
#define IPC_SEM_HANDSHAKE_H

#include "sem_named.h"
#include "sem_named_wait.h"

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>

/* REQ at or above: its receiver left the names (a request is 0 or 1). */
#define SEM_HANDSHAKE_GONE	1024
/* The most events a sender checks and then posts back to back: a few, so
 * that EVENTS's cache line moves once per run, not per event, while the
 * receiver still gets the first of a backlog early and keeps busy. */
#define SEM_HANDSHAKE_RUN_MAX	8
/* How often a sender looks whether the names were removed under it. */
#define SEM_HANDSHAKE_LOOK_NS	100000000ULL	/* 100 ms */

struct sem_handshake {
	struct sem_named ans, ask, digit[3], req;
	/* Sender: the last event it posted, and an ASK not answered yet. */
	bool have_last, asked;
	uint32_t last_seqno, last_phase;
	uint64_t looked_ns;	/* its last look at the name */
	/* Receiver: waiting for ANS (read by the stop handler: a stop's
	 * token goes to ANS then, else to EVENTS, lib/sem_named_wait.h); a
	 * REQ not posted yet; the last event's number and phase. */
	volatile sig_atomic_t asking;
	bool req_owed;
	uint32_t k, phase;
};

/* Name the semaphores after @base (a "/..." name), none open yet (even
 * on failure). 0 or -ENAMETOOLONG. */
int sem_handshake_init(struct sem_handshake *h, const char *base);

/* --- receiver --- */

/* Make them all new, REQ last, after marking the REQ of a killed
 * receiver gone: the receiver then waits for ANS. */
int sem_handshake_create(struct sem_handshake *h);

/* The semaphore to take next: ANS while waiting for an answer, else
 * @events. Async-signal-safe: the stop's wake posts its token there. */
sem_t *sem_handshake_wait_on(const struct sem_handshake *h, sem_t *events);

/*
 * Before a wait: post the REQ that a stop put off (below), unless a stop
 * is still requested. A token of that stop may have gone to EVENTS, which
 * the answer counts: the REQ waits until the tokens are taken back.
 */
void sem_handshake_ask(struct sem_handshake *h);

/*
 * @count were taken from what sem_handshake_wait_on() said (one from ANS,
 * or @count events taken back to back, none numbered yet, with no stop
 * requested after the take): true if that was a step of the handshake
 * (the answer read; or an ASK found, so the events taken are given back
 * and an answer asked for), and the caller waits again; false for events
 * to number.
 */
bool sem_handshake_taken(struct sem_handshake *h, sem_t *events,
			 unsigned int count);

/*
 * After an event to number: take up to @more of those waiting on @events
 * too, back to back (sem_trywait(), no system call), then look for an ASK
 * once; how many to number after it (0 when an ASK came, or a stop whose
 * token may be among them: all given back, @w's tokens taken back).
 * Only while no stop token waits in @events (lib/sem_named_wait.h).
 */
unsigned int sem_handshake_take_more(struct sem_handshake *h,
				     struct sem_named_wait *w, sem_t *events,
				     unsigned int more);

/* The event just taken: its number (the button's seqno), and in *@k its
 * place in the counted stream (for counted_event_frame_at()). */
uint32_t sem_handshake_number(struct sem_handshake *h, uint32_t *k);

/* Mark the REQ gone, unlink the names still ours, and close. */
void sem_handshake_remove(struct sem_handshake *h);

/* --- sender --- */

/* Open them, REQ first: 0 or as sem_named_open(). */
int sem_handshake_open(struct sem_handshake *h);

/* Is the REQ we hold still the one under its name (the same receiver)?
 * One lstat(). */
bool sem_handshake_current(const struct sem_handshake *h);

/*
 * Has the receiver of the REQ we hold left (then open them again)? Its
 * mark is read every call, in user space; the name is looked at (one
 * lstat()) at most every SEM_HANDSHAKE_LOOK_NS, from @now_ns on, for names
 * removed by anyone else.
 */
bool sem_handshake_moved(struct sem_handshake *h, uint64_t now_ns);

/*
 * Before posting event @seqno of @phase on @events: answer a waiting
 * receiver, and ask to renumber when this event does not follow the last
 * one. 0: post it now, then call sem_handshake_posted(); -EAGAIN: not yet,
 * an ASK waits for the receiver to come to it; or -errno.
 */
int sem_handshake_prepare(struct sem_handshake *h,
			  const struct sem_named *events, uint32_t seqno,
			  uint32_t phase);
void sem_handshake_posted(struct sem_handshake *h, uint32_t seqno,
			  uint32_t phase);

/*
 * Post @count events that follow one another (@seqno, @seqno + 1, ...,
 * all of @phase): prepare for the first, sem_post() them back to back on
 * @events (one only when the first is renumbered), posted. How many were
 * posted (1..@count), or, with none, -EAGAIN (not yet, as prepare),
 * -EOVERFLOW (@events full) or -errno.
 */
int sem_handshake_post(struct sem_handshake *h, const struct sem_named *events,
		       uint32_t seqno, uint32_t phase, unsigned int count);

/* No event to post (the button is idle): answer a waiting receiver.
 * Returns 1: the report is taken as one frame, as a post would be. */
int sem_handshake_idle(struct sem_handshake *h, const struct sem_named *events);

/* Close what is open. */
void sem_handshake_close(struct sem_handshake *h);

#endif /* IPC_SEM_HANDSHAKE_H */
