/* SPDX-License-Identifier: MIT */
/*
 * The smallest ring a shared-memory mechanism needs: 8-byte values, one
 * producer, one consumer, C11 atomics. No header, no magic, no bounds
 * checks against a hostile peer: that is what makes it bare. A full ring
 * makes the send return -EAGAIN, as in our transports.
 */
#ifndef BENCH_RING_H
#define BENCH_RING_H

#include <errno.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#define RING_SLOTS	256	/* as userspace/lib/frame_ring.h */

struct ring {
	_Atomic uint32_t head __attribute__((aligned(64)));	/* next to write */
	_Atomic uint32_t tail __attribute__((aligned(64)));	/* next to read */
	uint64_t slot[RING_SLOTS];
};

static inline int ring_put(struct ring *r, uint64_t value)
{
	uint32_t head = atomic_load_explicit(&r->head, memory_order_relaxed);

	if (head - atomic_load_explicit(&r->tail, memory_order_acquire) ==
	    RING_SLOTS)
		return -EAGAIN;
	r->slot[head % RING_SLOTS] = value;
	atomic_store_explicit(&r->head, head + 1, memory_order_release);
	return 0;
}

static inline bool ring_get(struct ring *r, uint64_t *value)
{
	uint32_t tail = atomic_load_explicit(&r->tail, memory_order_relaxed);

	if (tail == atomic_load_explicit(&r->head, memory_order_acquire))
		return false;
	*value = r->slot[tail % RING_SLOTS];
	atomic_store_explicit(&r->tail, tail + 1, memory_order_release);
	return true;
}

#endif /* BENCH_RING_H */
