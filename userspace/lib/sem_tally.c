// SPDX-License-Identifier: MIT
#include "sem_tally.h"

#include "counted_event.h"
#include "sem_set.h"

#include <errno.h>

#define SEM_TALLY_DIGIT	32768u				/* SEMVMX + 1 */
#define SEM_TALLY_MASK	(SEM_TALLY_DIGIT * SEM_TALLY_DIGIT - 1)	/* 2^30 - 1 */

static uint32_t sem_tally_posted(const unsigned short *values)
{
	return values[SEM_TALLY_POSTED_HI] * SEM_TALLY_DIGIT +
	       values[SEM_TALLY_POSTED_LO];
}

int sem_tally_load(struct sem_tally *t, int id)
{
	unsigned short values[SEM_TALLY_SET_MAX];
	int r = sem_set_values(id, values);

	if (r < 0)
		return r;
	t->posted = sem_tally_posted(values);
	t->phase = values[SEM_TALLY_PHASE];
	return values[SEM_TALLY_EVENTS];
}

struct sem_tally sem_tally_next(const struct sem_tally *t, uint32_t count)
{
	struct sem_tally next = *t;

	next.posted = (t->posted + count) & SEM_TALLY_MASK;
	return next;
}

unsigned int sem_tally_move(struct sembuf *ops, unsigned int n,
			    const struct sem_tally *from,
			    const struct sem_tally *to)
{
	int lo = (int)(to->posted % SEM_TALLY_DIGIT) -
		 (int)(from->posted % SEM_TALLY_DIGIT);
	int hi = (int)(to->posted / SEM_TALLY_DIGIT) -
		 (int)(from->posted / SEM_TALLY_DIGIT);
	int phase = (int)to->phase - (int)from->phase;

	/* Digit-wise: each semaphore stays within 0..32767. */
	if (lo)
		ops[n++] = (struct sembuf){ SEM_TALLY_POSTED_LO, (short)lo,
					    IPC_NOWAIT };
	if (hi)
		ops[n++] = (struct sembuf){ SEM_TALLY_POSTED_HI, (short)hi,
					    IPC_NOWAIT };
	if (phase)
		ops[n++] = (struct sembuf){ SEM_TALLY_PHASE, (short)phase,
					    IPC_NOWAIT };
	return n;
}

void sem_tally_realign(struct sem_tally *t, int id,
		       const struct ipc_message *m)
{
	struct sem_tally to = *t;
	struct sembuf ops[6] = {
		{ SEM_TALLY_EVENTS, 0, IPC_NOWAIT },	/* nothing waiting */
		{ SEM_TALLY_BUSY, 0, IPC_NOWAIT },	/* nothing numbered */
		{ SEM_TALLY_MOVED, 1, IPC_NOWAIT },	/* the receiver reads */
	};
	unsigned int n;

	to.posted = (m->seqno - 1) & SEM_TALLY_MASK;
	to.phase = counted_event_phase(m);
	n = sem_tally_move(ops, 3, t, &to);
	if (n > 3 && semop(id, ops, n) == 0)
		*t = to;
}

/* Give BUSY back, taking @take more events and MOVED down by @moved. */
static int sem_tally_release(int id, short take, short moved)
{
	struct sembuf ops[3];
	unsigned int n = 0;

	/* An op of 0 would wait for zero: none where nothing is taken. */
	if (take)
		ops[n++] = (struct sembuf){ SEM_TALLY_EVENTS, (short)-take,
					    IPC_NOWAIT };
	if (moved)
		ops[n++] = (struct sembuf){ SEM_TALLY_MOVED, (short)-moved,
					    IPC_NOWAIT };
	ops[n++] = (struct sembuf){ SEM_TALLY_BUSY, -1, IPC_NOWAIT | SEM_UNDO };
	return semop(id, ops, n) < 0 ? -errno : 0;
}

int sem_tally_number(struct sem_tally *t, int id, uint64_t now_ns,
		     unsigned int more, uint8_t *frames, size_t stride,
		     bool (*stopped)(void *ctx), void *ctx)
{
	unsigned short values[SEM_TALLY_SET_MAX];
	unsigned int take = 0;
	uint32_t k, gap;
	int r, done;

	/* The values first, BUSY given back even when they fail. */
	r = sem_set_values(id, values);
	if (r == 0 && stopped && stopped(ctx))
		return -EINTR;	/* perhaps a token counted in EVENTS */
	if (r == 0)
		take = more < values[SEM_TALLY_EVENTS] ? more :
		       values[SEM_TALLY_EVENTS];
	/* MOVED cannot rise while we hold BUSY: the value read is it. */
	done = sem_tally_release(id, (short)take,
				 r ? 0 : (short)values[SEM_TALLY_MOVED]);
	if (done < 0 && take) {
		take = 0;
		done = sem_tally_release(id, 0, 0);
	}
	if (r < 0 || done < 0)
		return r < 0 ? r : done;
	k = (sem_tally_posted(values) - values[SEM_TALLY_EVENTS]) &
	    SEM_TALLY_MASK;
	gap = (k - t->last_k - 1) & SEM_TALLY_MASK;
	/* Within one digit ahead: dropped; further is a renumbering back. */
	if (!t->have_last || gap >= SEM_TALLY_DIGIT)
		gap = 0;
	/* Those taken after it follow it: EVENTS is counted off in order. */
	t->last_phase = values[SEM_TALLY_PHASE] & 3;
	for (unsigned int i = 0; i <= take; i++, k = (k + 1) & SEM_TALLY_MASK)
		counted_event_frame_at(k, k + t->last_phase, i ? 0 : gap,
				       now_ns, frames + i * stride);
	t->have_last = true;
	t->last_k = (k - 1) & SEM_TALLY_MASK;
	return (int)take + 1;
}

void sem_tally_follow(struct sem_tally *t, unsigned int count, uint64_t now_ns,
		      uint8_t *frames, size_t stride)
{
	uint32_t k = t->last_k;

	for (unsigned int i = 0; i < count; i++) {
		k = (k + 1) & SEM_TALLY_MASK;
		counted_event_frame_at(k, k + t->last_phase, 0, now_ns,
				       frames + i * stride);
	}
	t->last_k = k;
}
