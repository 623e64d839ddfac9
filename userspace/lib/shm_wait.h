/* SPDX-License-Identifier: MIT */
/*
 * The look a shared-memory receiver (shm-sysv, shm-posix, mmap) takes
 * before it sleeps. The ring is the truth and the wake-up only a hint, so
 * every turn of the receive loop first takes a frame if there is one, and
 * sleeps on the wake-up only when the ring is empty, no stop signal came
 * (stop.h) and the call's one deadline (deadline.h) has not passed. It
 * sleeps with the stop signals let in (stop_unblock()), and its wake()
 * makes that sleep return, so a stop is never missed.
 */
#ifndef IPC_SHM_WAIT_H
#define IPC_SHM_WAIT_H

#include "deadline.h"
#include "frame_ring.h"

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/*
 * frame_ring_pop() into @buf: the frame's length; or, the ring being
 * empty, -EINTR once a stop signal came, -ETIMEDOUT once @d passed, and
 * else -EAGAIN: sleep on the wake-up, then look again.
 */
ssize_t shm_wait_pop(struct frame_ring *ring, void *buf, size_t size,
		     uint64_t *rejected, const struct deadline *d);

#endif /* IPC_SHM_WAIT_H */
