/* SPDX-License-Identifier: MIT */
/*
 * A frame ring (frame_ring.h) in a shared file: a POSIX shared memory
 * object, or a regular file mapped MAP_SHARED. What the shm-posix and
 * mmap transports do alike around their own calls: claim an existing
 * object for a role (shared_object.h), check that it is ours alone
 * (private_object.h), map it and attach to its ring; push, telling "full"
 * from "full and nobody will ever read it"; unmap.
 */
#ifndef IPC_SHM_RING_H
#define IPC_SHM_RING_H

#include "frame_ring.h"
#include "shared_object.h"

#include <stddef.h>
#include <stdint.h>

struct shm_ring {
	int fd;			/* the object, or -1 */
	void *mem;		/* all of it, mapped; NULL when not */
	size_t size;
	struct frame_ring ring;
};

/*
 * Claim @role of the object open as @r->fd, map all of it and attach to
 * its ring (the sender as producer, the receiver as consumer). 0; -EBUSY
 * when a live process has the role; -ESTALE when it is no ring to use
 * (someone else's or loose mode, not sized or published yet, another
 * version or kind, closed): a receiver then marks a ring there abandoned,
 * so a sender still on it reopens, and replaces the object; or another
 * negative errno.
 */
int shm_ring_open(struct shm_ring *r, enum frame_ring_kind kind,
		  enum shared_object_claim role);

/*
 * Receiver, as its named_object_ops.adopt(): @fd is what opening the name
 * gave (a descriptor, which @r then owns, or a negative errno). Claim and
 * attach as shm_ring_open() does, and say what was there: a
 * NAMED_OBJECT_OURS, _STALE (no ring to use) or _GONE (the name vanished)
 * of named_object.h, or a negative errno (-EBUSY: a live receiver has it).
 */
int shm_ring_adopt(struct shm_ring *r, int fd, enum frame_ring_kind kind);

/*
 * Sender: frame_ring_push_many(), but -EPIPE instead of -EAGAIN when the
 * ring is full and its object has no name left: nobody will ever read it.
 */
int shm_ring_push(struct shm_ring *r, const uint8_t *frames, size_t len,
		  size_t count, uint32_t *ret_first);

/* Unmap and close, if mapped and open. */
void shm_ring_unmap(struct shm_ring *r);

#endif /* IPC_SHM_RING_H */
