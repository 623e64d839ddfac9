// SPDX-License-Identifier: MIT
/*
 * mmap: a frame ring (lib/frame_ring.h) in a file of the runtime directory
 * that both processes map MAP_SHARED. The receiver sleeps on a futex, a
 * word in the mapping, shared (no FUTEX_PRIVATE_FLAG: the kernel keys it
 * by file and offset, so two processes meet on it); while frames keep
 * coming, neither side makes a system call. The receiver makes
 * <runtime dir>/mmap.<instance> (0600) unnamed (O_TMPFILE) and names it
 * once the ring is complete; what a killed or a stopped receiver leaves
 * behind: docs/mechanisms/mmap.md, "Lossless or lossy". Batches both ways,
 * one FUTEX_WAKE at most per batch; the calls per event and the
 * spin=adaptive receiver, which takes a frame before it says "waiting":
 * shm_transport.h.
 */
#include "shm_transport.h"

#include "../lib/deadline.h"
#include "../lib/named_object.h"
#include "../lib/shm_ring.h"
#include "../lib/stop.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/futex.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

struct mmap_sync {	/* in the ring's sync area; a new file is zeros */
	_Atomic uint32_t seq;		/* the futex word: +1 a frame, or stop */
	_Atomic uint32_t waiting;	/* the receiver is going to sleep */
};

_Static_assert(sizeof(struct mmap_sync) <= FRAME_RING_SYNC_SIZE,
	       "the futex words live in the ring's sync area");

struct mmap_state {
	struct shm_wait wait;	/* first (shm_transport.h): the receive loop */
	const char *dir;	/* the runtime directory */
	char path[PATH_MAX];
	struct shm_ring shm;	/* the file, mapped, and its ring */
	struct mmap_sync *sync;
};
SHM_TRANSPORT_STATE(struct mmap_state);

static long futex(_Atomic uint32_t *word, int op, uint32_t value,
		  const struct timespec *timeout)
{
	return syscall(SYS_futex, (uint32_t *)word, op, value, timeout, NULL, 0);
}

/* --- sender ------------------------------------------------------------ */

static int mmap_open_sender(struct mmap_state *st)
{
	int r;

	st->shm.fd = open(st->path, O_RDWR | O_CLOEXEC | O_NOFOLLOW);
	if (st->shm.fd < 0)
		return errno == ELOOP ? TRANSPORT_ABSENT : -errno;
	r = shm_ring_open(&st->shm, FRAME_RING_MMAP, SHARED_OBJECT_SENDER);
	return r == -ESTALE ? TRANSPORT_ABSENT : r; /* the receiver replaces it */
}

/* Several frames, at most one wake-up: the receiver takes them all. */
static int mmap_send_many(struct transport *t, const uint8_t *frames,
			  size_t len, size_t count)
{
	struct mmap_state *st = t->priv;
	uint32_t first;
	int r = shm_ring_push(&st->shm, frames, len, count, &first);
	size_t taken;

	if (r < 0)
		return r;
	/* After the head store (frame_ring.c explains the ordering). */
	atomic_fetch_add(&st->sync->seq, 1);
	if (atomic_load(&st->sync->waiting))
		(void)futex(&st->sync->seq, FUTEX_WAKE, 1, NULL);
	taken = frame_ring_confirmed(&st->shm.ring, first, (size_t)r);
	return taken ? (int)taken : TRANSPORT_STALE;	/* the rest: again */
}

/* --- receiver ---------------------------------------------------------- */

/* A new file, named only once complete; -EEXIST if one came meanwhile. */
static int mmap_create(void *ctx)
{
	size_t size = frame_ring_bytes(FRAME_RING_SLOTS);
	struct mmap_state *st = ctx;
	int r;

	r = shared_object_tmpfile(st->dir);
	if (r < 0)
		return r;
	st->shm.fd = r;
	r = shared_object_claim(st->shm.fd, SHARED_OBJECT_RECEIVER);
	if (!r && ftruncate(st->shm.fd, size) < 0)
		r = -errno;
	if (r < 0)
		goto err_close;
	st->shm.mem = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED,
			   st->shm.fd, 0);
	if (st->shm.mem == MAP_FAILED) {
		r = -errno;
		st->shm.mem = NULL;
		goto err_close;
	}
	st->shm.size = size;
	frame_ring_create(&st->shm.ring, st->shm.mem, size, FRAME_RING_SLOTS,
			  FRAME_RING_MMAP, geteuid());
	r = shared_object_link(st->shm.fd, st->path);
	if (r < 0)
		goto err_close;
	return 0;

err_close:
	shm_ring_unmap(&st->shm);	/* unnamed: gone with its last fd */
	return r;
}

/* What is under our name: a killed receiver's ring to adopt, or stale. */
static int mmap_adopt(void *ctx)
{
	struct mmap_state *st = ctx;
	int fd = open(st->path, O_RDWR | O_CLOEXEC | O_NOFOLLOW);

	if (fd < 0 && errno == ELOOP)
		return NAMED_OBJECT_STALE;	/* a symlink: not ours */
	return shm_ring_adopt(&st->shm, fd < 0 ? -errno : fd, FRAME_RING_MMAP);
}

static int mmap_remove(void *ctx)
{
	struct mmap_state *st = ctx;
	int r = 0;

	if (st->shm.fd >= 0)
		shared_object_unlink(st->shm.fd, st->path);
	else if (unlink(st->path) < 0)	/* the symlink */
		r = -errno;
	shm_ring_unmap(&st->shm);
	return r;
}

static const struct named_object_ops mmap_object = {
	.create = mmap_create,
	.adopt = mmap_adopt,
	.remove = mmap_remove,
};

/* Say we go to sleep, then look once more: this catches a sender that
 * published before it saw "waiting", and a stop that came before @seq. */
static int mmap_sleep(void *ctx, const struct deadline *d)
{
	struct mmap_state *st = ctx;
	uint32_t seq = atomic_load(&st->sync->seq);
	struct timespec buf;
	int r = 0;

	atomic_store(&st->sync->waiting, 1);
	if (!frame_ring_pending(&st->shm.ring) && !stop_requested()) {
		/* Sleeps only while seq is unchanged: no frame, no stop since
		 * (docs/mechanisms/mmap.md, "Pull or push"). */
		r = futex(&st->sync->seq, FUTEX_WAIT, seq,
			  deadline_left_timeout(d, &buf)) < 0 ? -errno : 0;
	}
	atomic_store(&st->sync->waiting, 0);
	return r == -EAGAIN ? 0 : r;
}

static void mmap_wake(struct transport *t)
{
	struct mmap_state *st = t->priv;

	/* Change the word, then wake: a receiver about to sleep won't. */
	if (st && st->sync) {
		atomic_fetch_add(&st->sync->seq, 1);
		(void)futex(&st->sync->seq, FUTEX_WAKE, INT_MAX, NULL);
	}
}

/* --- both -------------------------------------------------------------- */

static int mmap_open(struct transport *t)
{
	struct mmap_state *st = calloc(1, sizeof(*st));
	int r;

	if (!st)
		return -ENOMEM;
	st->shm.fd = -1;
	st->dir = t->config->runtime_dir;
	r = transport_object_path(t, st->path, sizeof(st->path));
	if (!r && t->role == TRANSPORT_RECEIVER)
		r = named_object_get(&mmap_object, st);
	else if (!r)
		r = mmap_open_sender(st);
	if (r >= 0) {
		st->sync = frame_ring_sync(&st->shm.ring);
		shm_transport_wait_init(t, &st->wait, &st->shm.ring, st,
					mmap_sleep, NULL);
		t->priv = st;
		return 0;
	}
	shm_ring_unmap(&st->shm);
	free(st);
	return r;
}

static void mmap_close(struct transport *t)
{
	struct mmap_state *st = t->priv;

	/* Closed first: a sender stops and learns if its last frame was read. */
	if (t->role == TRANSPORT_RECEIVER) {
		frame_ring_close(&st->shm.ring, st->path, t->detail,
				 sizeof(t->detail));
		shared_object_unlink(st->shm.fd, st->path);
	}
	shm_ring_unmap(&st->shm);
	free(st);
}

static const struct transport_ops mmap_ops = {
	.name = "mmap",
	.summary = "ring in a MAP_SHARED file in the runtime dir, futex wake-up",
	.flags = TRANSPORT_LOSSLESS | TRANSPORT_DURABLE |
		 TRANSPORT_WAKE_ANYWHERE,
	.options = shm_transport_options,
	.open = mmap_open,
	.send = shm_transport_send,
	.receive = shm_transport_receive,
	.send_many = mmap_send_many,
	.receive_many = shm_transport_receive_many,
	.wake = mmap_wake,
	.close = mmap_close,
};

TRANSPORT_REGISTER(mmap_ops);
