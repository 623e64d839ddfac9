/* SPDX-License-Identifier: MIT */
/*
 * The number of each event, kept in a System V semaphore set beside the
 * events themselves (the sem-sysv transport), so that a receiver that
 * adopts a killed one's set numbers on where it stopped. No payload
 * crosses: the receiver rebuilds each frame from the number k of the
 * event it took and a phase (lib/counted_event.h), with
 *     k = POSTED - EVENTS (modulo 2^30)
 * because the sender raises EVENTS and POSTED in one semop(), and the
 * receiver takes one event and then reads every value in one GETALL,
 * holding BUSY meanwhile. When the button's seqno and k part (a new
 * button, events dropped before the sender), the sender moves POSTED and
 * PHASE in one semop() that also asks "EVENTS and BUSY are 0", so no event
 * waiting or being numbered changes its number, and raises MOVED.
 *
 * So a receiver that numbered an event once knows the next ones without
 * reading: k goes up by one per event taken, PHASE stays, as long as MOVED
 * is 0. Its take asks that too ({ EVENTS, -n }, { MOVED, 0, IPC_NOWAIT }:
 * lib/sem_tally_take.h); when it fails with EAGAIN the receiver numbers
 * by reading, as above, which gives MOVED back to 0.
 *
 * The event's own semop()s, the post and the take, are the caller's (the
 * ops for the post's POSTED come from sem_tally_move()); the realignment
 * and the numbering are here. docs/mechanisms/sem-sysv.md, "Lossless or
 * lossy", tells why k and the phase are kept apart.
 */
#ifndef IPC_SEM_TALLY_H
#define IPC_SEM_TALLY_H

#include "message.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/sem.h>

/* The first semaphores of the set; the caller's own (claims) follow, up
 * to SEM_TALLY_SET_MAX in all. */
enum sem_tally_num {
	SEM_TALLY_EVENTS,	/* events posted and not taken yet */
	SEM_TALLY_POSTED_LO,	/* events ever posted, modulo 2^30, in two */
	SEM_TALLY_POSTED_HI,	/* 15-bit digits (a semaphore holds 0..32767) */
	SEM_TALLY_BUSY,		/* 1 while the receiver numbers its take */
	SEM_TALLY_PHASE,	/* 0..3: event k is as event k + PHASE would be */
	SEM_TALLY_MOVED,	/* not 0: POSTED or PHASE moved since numbered */
	SEM_TALLY_COUNT
};

#define SEM_TALLY_EVENTS_MAX	32767	/* SEMVMX: the most that can wait */
#define SEM_TALLY_SET_MAX	8	/* semaphores in the set, in all */
_Static_assert(SEM_TALLY_COUNT <= SEM_TALLY_SET_MAX, "room in the set");

struct sem_tally {
	/* Sender: POSTED and PHASE as it last left them (the only writer). */
	uint32_t posted;
	uint32_t phase;
	/* Receiver: the number and phase of the last event it took. */
	bool have_last;
	uint32_t last_k;
	uint32_t last_phase;
};

/* Sender: its copy from set @id (one GETALL): EVENTS, or -errno. */
int sem_tally_load(struct sem_tally *t, int id);

/*
 * Sender: move POSTED and PHASE of set @id so that event @m comes with its
 * own seqno and phase, if they differ, in one semop() that also asks
 * "EVENTS and BUSY are 0". While events wait it fails, and a later post
 * catches up.
 */
void sem_tally_realign(struct sem_tally *t, int id,
		       const struct ipc_message *m);

/* @t with @count more events posted. */
struct sem_tally sem_tally_next(const struct sem_tally *t, uint32_t count);

/*
 * Append to @ops, which holds @n, the IPC_NOWAIT operations that move
 * POSTED and PHASE from @from to @to (none if equal, at most 3); returns
 * the new count.
 */
unsigned int sem_tally_move(struct sembuf *ops, unsigned int n,
			    const struct sem_tally *from,
			    const struct sem_tally *to);

/*
 * Receiver, with one event taken from set @id and BUSY raised in the same
 * semop(): read every value (one GETALL), then take up to @more of the
 * events still waiting and give BUSY back, in one semop() (BUSY held, no
 * realignment renumbers them), and rebuild each event's frame, received
 * at @now_ns, @stride bytes apart from @frames: number k, press or release
 * and LED state as event k + PHASE of the counted stream, and the events
 * dropped since the last one taken (a jump forward of more than one).
 * How many frames (1 + those taken), or -errno. Between the GETALL and
 * the rest, @stopped(@ctx) (may be NULL) says whether the values may hold
 * what is no event (a stop's token, lib/sem_wait.h): if so it has given
 * the event and BUSY back, nothing is numbered, and -EINTR returns.
 */
int sem_tally_number(struct sem_tally *t, int id, uint64_t now_ns,
		     unsigned int more, uint8_t *frames, size_t stride,
		     bool (*stopped)(void *ctx), void *ctx);

/*
 * Receiver, once numbered (@t->have_last), with @count events taken by
 * { EVENTS, -count }, { MOVED, 0, IPC_NOWAIT } (so nothing moved since):
 * rebuild their frames, numbered on from the last one, as above.
 */
void sem_tally_follow(struct sem_tally *t, unsigned int count, uint64_t now_ns,
		      uint8_t *frames, size_t stride);

#endif /* IPC_SEM_TALLY_H */
