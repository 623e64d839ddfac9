/* SPDX-License-Identifier: MIT */
/*
 * A frame ring (frame_ring.h) in a System V shared memory segment, the
 * twin of shm_ring.h for objects found under a key rather than a name:
 * what a user of such a segment does around its own shmget() and
 * shmctl(IPC_RMID). Check that the segment is ours alone
 * (private_object.h) and not removed, attach it and its ring; push,
 * telling "full" from "full and nobody will ever read it"; detach.
 */
#ifndef IPC_SHM_SEGMENT_H
#define IPC_SHM_SEGMENT_H

#include "frame_ring.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct shm_segment {
	int id;			/* the segment, or -1 */
	void *mem;		/* all of it, attached; NULL when not */
	struct frame_ring ring;
};

/*
 * Attach segment @s->id and its ring, as producer or consumer. 0; -ESTALE
 * when it is no ring to use: someone else's or a loose mode, removed
 * (also while it waits for its last detach), not published yet, another
 * version or kind, closed; or another negative errno. On failure nothing
 * stays attached.
 */
int shm_segment_open(struct shm_segment *s, enum frame_ring_kind kind,
		     bool producer);

/*
 * Producer: frame_ring_push_many(), but -EPIPE instead of -EAGAIN when the
 * ring is full and the segment is removed: nobody will ever read it.
 */
int shm_segment_push(struct shm_segment *s, const uint8_t *frames, size_t len,
		     size_t count, uint32_t *ret_first);

/* Detach, if attached. */
void shm_segment_detach(struct shm_segment *s);

#endif /* IPC_SHM_SEGMENT_H */
