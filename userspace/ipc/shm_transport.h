/* SPDX-License-Identifier: MIT */
/*
 * What the three shared-memory mechanisms (shm-sysv, shm-posix, mmap)
 * share around their rings: the spin option (lib/shm_spin.h), receive()
 * and receive_many() through lib/shm_wait.h, and send() as a batch of
 * one. Each mechanism's state starts with its struct shm_wait, which
 * names its own sleep and wake-up counts.
 *
 * System calls per lone event (the receiver asleep when it comes): the
 * sender's one wake-up (semop(), or the futex wake of sem_post() or of
 * FUTEX_WAKE) and the receiver's one sleep, as in the bare lessons (a
 * process that keeps the stop signals blocked adds two rt_sigprocmask()
 * around the sleep, lib/shm_wait.h). No other call: shm-sysv zeroes its
 * count only when frames came without a sleep, or several per wake-up. A
 * frame the adaptive spin finds costs the receiver none at all.
 */
#ifndef IPC_SHM_TRANSPORT_H
#define IPC_SHM_TRANSPORT_H

#include "transport.h"

#include "../lib/shm_spin.h"
#include "../lib/shm_wait.h"

#include <stddef.h>

/* After a mechanism's state: its struct shm_wait must come first. */
#define SHM_TRANSPORT_STATE(type) \
	_Static_assert(offsetof(type, wait) == 0, #type ": wait comes first")

static const struct transport_option shm_transport_options[] = {
	{ SHM_SPIN_OPTION, "off",
	  "receiver: off, or adaptive (watch the ring up to 50 µs before sleeping, as recent gaps say)",
	  shm_spin_check },
	{ NULL, NULL, NULL, NULL },
};

/* The receiver's loop, once its ring is attached: @sleep and @taken as
 * struct shm_wait says, the spin as the option says. */
static inline void shm_transport_wait_init(struct transport *t,
					   struct shm_wait *w,
					   struct frame_ring *ring, void *ctx,
					   int (*sleep)(void *, const struct deadline *),
					   void (*taken)(void *, size_t))
{
	*w = (struct shm_wait){ .ring = ring, .sleep = sleep,
				.taken = taken, .ctx = ctx };
	shm_spin_init(&w->spin, transport_option(t, SHM_SPIN_OPTION));
}

static inline ssize_t shm_transport_receive(struct transport *t, uint8_t *buf,
					    size_t size, int timeout_ms)
{
	struct shm_wait *w = t->priv;	/* the state's first member */
	size_t len;
	ssize_t n = shm_wait_receive(w, buf, size, &len, 1, &t->rejected,
				     timeout_ms);

	return n < 0 ? n : (ssize_t)len;
}

/* Every frame already in the ring, at most TRANSPORT_BATCH_MAX. */
static inline ssize_t shm_transport_receive_many(struct transport *t,
						 struct transport_batch *batch,
						 int timeout_ms)
{
	struct shm_wait *w = t->priv;	/* the state's first member */
	ssize_t n = shm_wait_receive(w, batch->frame[0], TRANSPORT_FRAME_ROOM,
				     batch->len, TRANSPORT_BATCH_MAX,
				     &t->rejected, timeout_ms);

	batch->count = n > 0 ? (size_t)n : 0;
	return n;
}

static inline int shm_transport_send(struct transport *t, const uint8_t *frame,
				     size_t len)
{
	int r = t->ops->send_many(t, frame, len, 1);

	return r < 0 ? r : 0;
}

#endif /* IPC_SHM_TRANSPORT_H */
