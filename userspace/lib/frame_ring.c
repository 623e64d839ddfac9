// SPDX-License-Identifier: MIT
/*
 * The shared frame ring: see frame_ring.h for the layout and the rules.
 *
 * Memory ordering, in one place:
 * - The producer fills a slot with plain stores, then stores head
 *   (sequentially consistent, which includes release). The consumer loads
 *   head (acquire or stronger) before it reads the slot, so it sees the
 *   whole frame.
 * - The consumer copies a slot out, then stores tail (release). The
 *   producer loads tail (acquire) before it reuses a slot, so it never
 *   overwrites a frame still being copied.
 * - head is stored and loaded sequentially consistent, because the mmap
 *   transport's futex wake-up pairs it with a "waiting" flag (Dekker
 *   style): either the producer sees the consumer waiting, or the
 *   consumer sees the new head. Cheap on x86 and arm64.
 */
#include "frame_ring.h"

#include "message.h"

#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

/* Each slot: a u32 length, then the frame, rounded to 8 bytes. */
#define SLOT_SIZE \
	((sizeof(uint32_t) + FRAME_RING_FRAME_MAX + 7) & ~(size_t)7)
#define SLOTS_MIN	2
#define SLOTS_MAX	65536

_Static_assert(FRAME_RING_FRAME_MAX == IPC_MESSAGE_MAX_WIRE,
	       "a ring carries every frame a receive buffer can detect");
_Static_assert(ATOMIC_INT_LOCK_FREE == 2,
	       "shared rings need lock-free 32-bit atomics");
_Static_assert(sizeof(_Atomic uint32_t) == sizeof(uint32_t),
	       "an atomic u32 must be a plain u32 in shared memory");
/* The identity block every version keeps (see frame_ring_abandon). */
_Static_assert(offsetof(struct frame_ring_header, magic) == 0, "layout");
_Static_assert(offsetof(struct frame_ring_header, closed) == 12, "layout");
_Static_assert(offsetof(struct frame_ring_header, sync) == 64, "layout");
_Static_assert(offsetof(struct frame_ring_header, head) == 128, "layout");
_Static_assert(offsetof(struct frame_ring_header, tail) == 192, "layout");
_Static_assert(offsetof(struct frame_ring_header, slots) == 256, "layout");

static bool is_power_of_two(uint32_t n)
{
	return n && !(n & (n - 1));
}

size_t frame_ring_bytes(uint32_t slot_count)
{
	return offsetof(struct frame_ring_header, slots) +
	       (size_t)slot_count * SLOT_SIZE;
}

void frame_ring_create(struct frame_ring *ret, void *mem, size_t size,
		       uint32_t slot_count, enum frame_ring_kind kind,
		       uid_t creator)
{
	struct frame_ring_header *hdr = mem;

	/* Everything but the sync area, which the transport set up. */
	memset(hdr, 0, offsetof(struct frame_ring_header, sync));
	memset((uint8_t *)hdr + offsetof(struct frame_ring_header, head), 0,
	       size - offsetof(struct frame_ring_header, head));
	hdr->version = FRAME_RING_VERSION;
	hdr->kind = kind;
	hdr->creator_uid = creator;
	hdr->slot_count = slot_count;
	hdr->slot_size = SLOT_SIZE;
	hdr->total_size = frame_ring_bytes(slot_count);
	atomic_store_explicit(&hdr->closed, 0, memory_order_relaxed);
	atomic_store_explicit(&hdr->head, 0, memory_order_relaxed);
	atomic_store_explicit(&hdr->tail, 0, memory_order_relaxed);
	/* Last: whoever sees the magic sees all of the above. */
	atomic_store_explicit(&hdr->magic, FRAME_RING_MAGIC,
			      memory_order_release);
	ret->hdr = hdr;
	ret->slot_count = slot_count;
	ret->slot_size = SLOT_SIZE;
	ret->index = 0;
	ret->producer = false;
}

int frame_ring_attach(struct frame_ring *ret, void *mem, size_t size,
		      enum frame_ring_kind kind, uid_t creator, bool producer)
{
	struct frame_ring_header *hdr = mem;
	uint32_t magic, slot_count, slot_size;

	if (size < offsetof(struct frame_ring_header, slots))
		return -ESTALE;	/* not sized yet */
	/* The magic is stored last: without it, the creator is not done. */
	magic = atomic_load_explicit(&hdr->magic, memory_order_acquire);
	if (magic != FRAME_RING_MAGIC || hdr->version != FRAME_RING_VERSION ||
	    hdr->kind != kind || hdr->creator_uid != (uint32_t)creator)
		return -ESTALE;

	/* Copy the geometry once; later changes to it are ignored. */
	slot_count = hdr->slot_count;
	slot_size = hdr->slot_size;
	if (!is_power_of_two(slot_count) || slot_count < SLOTS_MIN ||
	    slot_count > SLOTS_MAX || slot_size != SLOT_SIZE ||
	    hdr->total_size != frame_ring_bytes(slot_count) ||
	    hdr->total_size > size)
		return -ESTALE;
	if (atomic_load(&hdr->closed))
		return -ESTALE;	/* its receiver left, or was replaced */

	ret->hdr = hdr;
	ret->slot_count = slot_count;
	ret->slot_size = slot_size;
	ret->producer = producer;
	/* Each side continues from the index it owns. */
	if (producer)
		ret->index = atomic_load(&hdr->head);
	else
		ret->index = atomic_load_explicit(&hdr->tail,
						  memory_order_relaxed);
	return 0;
}

void *frame_ring_sync(struct frame_ring *ring)
{
	return ring->hdr->sync;
}

void *frame_ring_sync_of(void *mem)
{
	return ((struct frame_ring_header *)mem)->sync;
}

static uint8_t *slot_at(const struct frame_ring *ring, uint32_t index)
{
	/* Masked with the validated count: always inside the slots. */
	return ring->hdr->slots +
	       (size_t)(index & (ring->slot_count - 1)) * ring->slot_size;
}

/* Room for how many more frames: 0 when full; -EPIPE when closed or the
 * indices are impossible. */
static int ring_room(struct frame_ring *ring)
{
	struct frame_ring_header *hdr = ring->hdr;
	uint32_t used;

	if (atomic_load(&hdr->closed))
		return -EPIPE;
	used = ring->index - atomic_load_explicit(&hdr->tail,
						  memory_order_acquire);
	if (used > ring->slot_count)
		return -EPIPE;
	return (int)(ring->slot_count - used);
}

static void put_slot(struct frame_ring *ring, const void *frame, size_t len)
{
	uint32_t len32 = (uint32_t)len;
	uint8_t *slot = slot_at(ring, ring->index++);

	memcpy(slot, &len32, sizeof(len32));
	memcpy(slot + sizeof(len32), frame, len);
}

int frame_ring_push_many(struct frame_ring *ring, const uint8_t *frames,
			 size_t len, size_t count, uint32_t *ret_first)
{
	int room;

	if (len > FRAME_RING_FRAME_MAX)
		return -EMSGSIZE;
	room = ring_room(ring);
	if (room <= 0)
		return room < 0 ? room : -EAGAIN;
	if (count > (size_t)room)
		count = (size_t)room;
	*ret_first = ring->index;
	for (size_t i = 0; i < count; i++)
		put_slot(ring, frames + i * len, len);
	/* One store of head publishes them all (the ordering: above). */
	atomic_store(&ring->hdr->head, ring->index);
	return (int)count;
}

size_t frame_ring_confirmed(struct frame_ring *ring, uint32_t first,
			    size_t count)
{
	uint32_t taken;

	if (!atomic_load(&ring->hdr->closed))
		return count;
	/* The consumer stops popping before it sets closed: tail is final. */
	taken = atomic_load(&ring->hdr->tail) - first;
	return (int32_t)taken <= 0 ? 0 : taken < count ? taken : count;
}

ssize_t frame_ring_pop(struct frame_ring *ring, void *buf, size_t size,
		       uint64_t *rejected)
{
	struct frame_ring_header *hdr = ring->hdr;
	uint32_t head, avail, len;
	size_t copy;
	uint8_t *slot;

	head = atomic_load(&hdr->head);
	avail = head - ring->index;
	if (avail > ring->slot_count) {
		/* Not written by our producer: drop to its head, carry on. */
		ring->index = head;
		atomic_store_explicit(&hdr->tail, ring->index,
				      memory_order_release);
		(*rejected)++;
		head = atomic_load(&hdr->head);
		avail = head - ring->index;
	}
	if (!avail || avail > ring->slot_count)
		return -EAGAIN;

	slot = slot_at(ring, ring->index);
	memcpy(&len, slot, sizeof(len));
	copy = len;
	if (copy > ring->slot_size - sizeof(len))
		copy = ring->slot_size - sizeof(len);
	if (copy > size)
		copy = size;
	memcpy(buf, slot + sizeof(len), copy);
	ring->index++;
	atomic_store_explicit(&hdr->tail, ring->index, memory_order_release);
	return (ssize_t)copy;
}

void frame_ring_close(struct frame_ring *ring, const char *object,
		      char *detail, size_t size)
{
	uint32_t unread;

	atomic_store(&ring->hdr->closed, 1);
	/* Closed first: the producer stops, the count is then final. */
	unread = atomic_load(&ring->hdr->head) - ring->index;
	if (unread && unread <= ring->slot_count)
		snprintf(detail, size, "%u unread frames discarded with %s",
			 unread, object);
}

bool frame_ring_pending(const struct frame_ring *ring)
{
	return atomic_load_explicit(&ring->hdr->head, memory_order_relaxed) !=
	       ring->index;
}

bool frame_ring_closed(const struct frame_ring *ring)
{
	return atomic_load(&ring->hdr->closed) != 0;
}

void frame_ring_abandon(void *mem, size_t size)
{
	struct frame_ring_header *hdr = mem;

	if (size < offsetof(struct frame_ring_header, sync))
		return;
	if (atomic_load(&hdr->magic) == FRAME_RING_MAGIC)
		atomic_store(&hdr->closed, 1);
}
