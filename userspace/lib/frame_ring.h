/* SPDX-License-Identifier: MIT */
/*
 * A single-producer, single-consumer ring of fixed-size frame slots, laid
 * out in memory that two processes share (a SysV segment, a POSIX shm
 * object, a file mapped MAP_SHARED). The shm-sysv, shm-posix and mmap
 * transports put one at offset 0 of their object and add their own
 * wake-up (SysV semaphore, process-shared POSIX semaphore, futex) in the
 * header's sync area; the ring itself never blocks and never sleeps.
 *
 * Layout (offsets in bytes, every field in host byte order: both ends run
 * on the same machine):
 *
 *     0  identity   magic, version, kind, creator uid, closed flag,
 *                   geometry; the first 16 bytes keep this layout in
 *                   every version, so any version can recognise, and tell
 *                   to go away, a ring made by any other
 *    64  sync       64 bytes for the transport's wake-up object
 *   128  head       next slot the producer fills (free-running u32)
 *   192  tail       next slot the consumer empties (free-running u32)
 *   256  slots      slot_count slots of slot_size bytes: u32 length, frame
 *
 * Head and tail sit on their own cache lines, so the two sides do not
 * bounce one line between CPUs on every frame.
 *
 * Publication: the creator fills everything and stores the magic last
 * (release); an opener that loads the magic (acquire) and finds it sees a
 * complete header, and one that does not is told "not ready yet".
 *
 * Nothing read from shared memory is trusted: the geometry is validated
 * once and kept in the process's own struct frame_ring, slot indices are
 * masked, lengths are clamped, and indices that cannot be right (more
 * frames than slots) make the consumer resynchronise instead of reading
 * past its slots. A foreign writer can garble frames (the caller's decoder
 * rejects them by CRC) but never make either side touch memory outside
 * the ring.
 */
#ifndef IPC_FRAME_RING_H
#define IPC_FRAME_RING_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define FRAME_RING_MAGIC	0x49424652u	/* "IBFR" */
#define FRAME_RING_VERSION	1
/* Largest frame: IPC_MESSAGE_MAX_WIRE, so oversized ones reach the decoder. */
#define FRAME_RING_FRAME_MAX	256
#define FRAME_RING_SLOTS	1024	/* per ring, a power of two: 10 ms at 100 k/s */
#define FRAME_RING_SYNC_SIZE	64

/* Which transport made the ring: one never adopts another's object. */
enum frame_ring_kind {
	FRAME_RING_SHM_SYSV = 1,
	FRAME_RING_SHM_POSIX = 2,
	FRAME_RING_MMAP = 3,
};

/* The shared header, at offset 0 of the object. */
struct frame_ring_header {
	_Atomic uint32_t magic;		/* stored last */
	uint16_t version;		/* FRAME_RING_VERSION */
	uint16_t kind;			/* enum frame_ring_kind */
	uint32_t creator_uid;		/* the creating receiver's euid */
	_Atomic uint32_t closed;	/* 1: the receiver left, send no more */
	uint32_t slot_count;
	uint32_t slot_size;
	uint64_t total_size;		/* header and slots */
	uint8_t reserved[32];
	_Alignas(64) uint8_t sync[FRAME_RING_SYNC_SIZE];
	_Alignas(64) _Atomic uint32_t head;	/* written by the producer */
	_Alignas(64) _Atomic uint32_t tail;	/* written by the consumer */
	_Alignas(64) uint8_t slots[];
};

/* One side's view of a ring: validated copies, never re-read. */
struct frame_ring {
	struct frame_ring_header *hdr;
	uint32_t slot_count;
	uint32_t slot_size;
	uint32_t index;		/* producer: next head; consumer: tail */
	bool producer;
};

/* Bytes an object needs for a ring of @slot_count slots. */
size_t frame_ring_bytes(uint32_t slot_count);

/*
 * Lay out an empty ring in @mem (@size bytes, at least
 * frame_ring_bytes(@slot_count), zero-filled or not), publish it, and
 * attach @ret to it as its consumer. Call it only on memory no one else
 * can see as a ring yet; initialise the sync area (frame_ring_sync_of())
 * *before*, since the publication covers it.
 */
void frame_ring_create(struct frame_ring *ret, void *mem, size_t size,
		       uint32_t slot_count, enum frame_ring_kind kind,
		       uid_t creator);

/*
 * Validate the ring in @mem (@size bytes mapped) and attach @ret to it as
 * producer or consumer. 0 on success; -ESTALE when there is no ring to
 * use: none published yet (its creator may still be writing it), another
 * magic, version, kind or creator, an impossible geometry, or closed (its
 * receiver left). A receiver replaces such an object; a sender waits for
 * it to.
 */
int frame_ring_attach(struct frame_ring *ret, void *mem, size_t size,
		      enum frame_ring_kind kind, uid_t creator, bool producer);

/* The transport's 64-byte wake-up area in the header. */
void *frame_ring_sync(struct frame_ring *ring);
void *frame_ring_sync_of(void *mem);

/*
 * Producer. Copy @count frames of @len bytes each, back to back at
 * @frames, into the next slots, as many as there is room for, and publish
 * them with one store. How many it pushed (1..@count), with the first
 * one's index in *ret_first (for frame_ring_confirmed()); -EAGAIN when
 * the ring is full (nothing is ever overwritten); -EMSGSIZE when @len
 * exceeds FRAME_RING_FRAME_MAX; -EPIPE when the consumer closed the ring,
 * or the indices are impossible (someone else wrote them; the consumer
 * resynchronises): either way the caller keeps its frames and reopens.
 */
int frame_ring_push_many(struct frame_ring *ring, const uint8_t *frames,
			 size_t len, size_t count, uint32_t *ret_first);

/*
 * Producer, after the wake-up for @count frames from index @first: how
 * many of them, from the front, were or will be delivered: all of them
 * while the ring is open, else those the consumer took before it closed
 * it (the caller keeps the rest and sends them again).
 */
size_t frame_ring_confirmed(struct frame_ring *ring, uint32_t first,
			    size_t count);

/*
 * Consumer. Copy the oldest frame into @buf (at most @size bytes; longer
 * frames are cut, and the caller's decoder rejects them) and free its
 * slot. Returns the number of bytes copied, or -EAGAIN when empty. When
 * the indices are impossible it skips to the producer's head, adds one
 * to *@rejected (what lay between is lost) and goes on from there.
 */
ssize_t frame_ring_pop(struct frame_ring *ring, void *buf, size_t size,
		       uint64_t *rejected);

/*
 * Consumer, on close: tell the producer to stop (it gets -EPIPE). Frames
 * published and not popped go with the ring: if there are any, say how
 * many in @detail (@size bytes), naming @object.
 */
void frame_ring_close(struct frame_ring *ring, const char *object,
		      char *detail, size_t size);

/* Consumer: true when a frame (or an impossible head) waits to be popped. */
bool frame_ring_pending(const struct frame_ring *ring);

/* True once the consumer closed the ring. */
bool frame_ring_closed(const struct frame_ring *ring);

/*
 * A stale object being replaced: if @mem (@size bytes) holds a ring of
 * any version, mark it closed, so a producer still attached to it stops
 * and reopens the new one instead of filling a ring nobody reads.
 */
void frame_ring_abandon(void *mem, size_t size);

#endif /* IPC_FRAME_RING_H */
