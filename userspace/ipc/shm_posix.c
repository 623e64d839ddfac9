// SPDX-License-Identifier: MIT
/*
 * shm-posix: a frame ring (lib/frame_ring.h) in a POSIX shared memory
 * object, with an unnamed process-shared semaphore in the ring's header
 * that counts the frames, so the receiver sleeps in sem_clockwait().
 *
 * The receiver creates "/ipc-button.<uid>.<instance>.shm-posix" (0600),
 * fills in the whole ring before the ring's magic publishes it, and on
 * close marks it closed and removes the name. A receiver killed with
 * SIGKILL leaves the object, and the frames queued in it: the next
 * receiver adopts it. A sender on a closed or replaced ring gets
 * TRANSPORT_STALE, keeps its frame and reopens. One sender at a time (a
 * claim, lib/shared_object.h). The ring is the truth, the semaphore only
 * a wake-up (docs/mechanisms/shm-posix.md, "Pull or push"). Batches both
 * ways, one sem_post() per batch; the calls per event and the
 * spin=adaptive receiver: shm_transport.h.
 */
#include "shm_transport.h"

#include "../lib/deadline.h"
#include "../lib/named_object.h"
#include "../lib/shm_ring.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <semaphore.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

_Static_assert(sizeof(sem_t) <= FRAME_RING_SYNC_SIZE,
	       "the semaphore lives in the ring's sync area");

struct shm_posix_state {
	struct shm_wait wait;	/* first (shm_transport.h): the receive loop */
	char name[NAME_MAX];
	struct shm_ring shm;	/* the object, mapped, and its ring */
	sem_t *frames;		/* published frames: a wake-up hint */
};
SHM_TRANSPORT_STATE(struct shm_posix_state);

/* --- sender ------------------------------------------------------------ */

static int shm_posix_open_sender(struct shm_posix_state *st)
{
	int r;

	st->shm.fd = shm_open(st->name, O_RDWR, 0);
	if (st->shm.fd < 0)
		return -errno;
	r = shm_ring_open(&st->shm, FRAME_RING_SHM_POSIX, SHARED_OBJECT_SENDER);
	return r == -ESTALE ? TRANSPORT_ABSENT : r; /* the receiver replaces it */
}

/* Several frames, one post: the receiver takes all it finds per wake-up. */
static int shm_posix_send_many(struct transport *t, const uint8_t *frames,
			       size_t len, size_t count)
{
	struct shm_posix_state *st = t->priv;
	uint32_t first;
	size_t taken;
	int r;

	r = shm_ring_push(&st->shm, frames, len, count, &first);
	if (r < 0)
		return r;
	if (sem_post(st->frames) < 0)
		return -errno;
	taken = frame_ring_confirmed(&st->shm.ring, first, (size_t)r);
	return taken ? (int)taken : TRANSPORT_STALE;	/* the rest: again */
}

/* --- receiver ---------------------------------------------------------- */

/* Remove the name, but only while it is still the object we hold. */
static int shm_posix_unlink(struct shm_posix_state *st)
{
	int fd = shm_open(st->name, O_RDONLY, 0);
	struct stat held, named;
	int r = 0;

	if (fd < 0)
		return 0;
	if (!fstat(fd, &named) && !fstat(st->shm.fd, &held) &&
	    held.st_dev == named.st_dev && held.st_ino == named.st_ino &&
	    shm_unlink(st->name) < 0)
		r = -errno;
	close(fd);
	return r;
}

/* A new object, complete before anyone can use it; -EEXIST if one came. */
static int shm_posix_create(void *ctx)
{
	struct shm_posix_state *st = ctx;
	size_t size = frame_ring_bytes(FRAME_RING_SLOTS);
	void *mem;
	int r;

	/* shm_open() always sets FD_CLOEXEC (POSIX requires it). */
	st->shm.fd = shm_open(st->name, O_RDWR | O_CREAT | O_EXCL, 0600);
	if (st->shm.fd < 0)
		return -errno;
	/* Claim first: another receiver now sees a live owner, not junk. */
	r = shared_object_claim(st->shm.fd, SHARED_OBJECT_RECEIVER);
	/* fchmod: the umask must not decide the mode. */
	if (!r && (fchmod(st->shm.fd, 0600) < 0 ||
		   ftruncate(st->shm.fd, size) < 0))
		r = -errno;
	if (r < 0)
		goto err_unlink;
	mem = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED,
		   st->shm.fd, 0);
	if (mem == MAP_FAILED) {
		r = -errno;
		goto err_unlink;
	}
	st->shm.mem = mem;
	st->shm.size = size;
	st->frames = frame_ring_sync_of(mem);
	if (sem_init(st->frames, 1, 0) < 0) {
		r = -errno;
		goto err_unlink;
	}
	/* Publishes the ring, semaphore included. */
	frame_ring_create(&st->shm.ring, mem, size, FRAME_RING_SLOTS,
			  FRAME_RING_SHM_POSIX, geteuid());
	return 0;

err_unlink:
	(void)shm_unlink(st->name);
	shm_ring_unmap(&st->shm);	/* and close */
	return r;
}

/* What is under our name: a killed receiver's ring to adopt, or stale. */
static int shm_posix_adopt(void *ctx)
{
	struct shm_posix_state *st = ctx;
	int fd = shm_open(st->name, O_RDWR, 0);

	return shm_ring_adopt(&st->shm, fd < 0 ? -errno : fd,
			      FRAME_RING_SHM_POSIX);
}

static int shm_posix_remove(void *ctx)
{
	struct shm_posix_state *st = ctx;
	int r = shm_posix_unlink(st);

	shm_ring_unmap(&st->shm);
	return r;
}

static const struct named_object_ops shm_posix_object = {
	.create = shm_posix_create,
	.adopt = shm_posix_adopt,
	.remove = shm_posix_remove,
};

static int shm_posix_sleep(void *ctx, const struct deadline *d)
{
	struct shm_posix_state *st = ctx;
	struct timespec end = deadline_end_timespec(d);
	int r = d->forever ? sem_wait(st->frames) :
		sem_clockwait(st->frames, CLOCK_MONOTONIC, &end);

	return r < 0 ? -errno : 0;
}

/* Their counts, those posted yet (a batch of frames may have posted one). */
static void shm_posix_taken(void *ctx, size_t count)
{
	struct shm_posix_state *st = ctx;

	while (count-- && !sem_trywait(st->frames))
		;
}

static void shm_posix_wake(struct transport *t)
{
	struct shm_posix_state *st = t->priv;

	/* sem_post() is async-signal-safe; the receiver then sees the stop. */
	if (st && st->frames)
		(void)sem_post(st->frames);
}

/* --- both -------------------------------------------------------------- */

static int shm_posix_open(struct transport *t)
{
	struct shm_posix_state *st = calloc(1, sizeof(*st));
	int r;

	if (!st)
		return -ENOMEM;
	st->shm.fd = -1;
	r = transport_global_name(t, st->name, sizeof(st->name));
	if (!r)
		r = t->role == TRANSPORT_RECEIVER ?
			named_object_get(&shm_posix_object, st) :
			shm_posix_open_sender(st);
	if (r < 0) {
		shm_ring_unmap(&st->shm);
		free(st);
		return r;
	}
	st->frames = frame_ring_sync(&st->shm.ring);
	shm_transport_wait_init(t, &st->wait, &st->shm.ring, st,
				shm_posix_sleep, shm_posix_taken);
	t->priv = st;
	return 0;
}

static void shm_posix_close(struct transport *t)
{
	struct shm_posix_state *st = t->priv;

	/* Closed first: a sender stops and learns if its last frame was
	 * read. No sem_destroy(): it may post until it sees "closed". */
	if (t->role == TRANSPORT_RECEIVER) {
		frame_ring_close(&st->shm.ring, st->name, t->detail,
				 sizeof(t->detail));
		(void)shm_posix_unlink(st);
	}
	shm_ring_unmap(&st->shm);
	free(st);
}

static const struct transport_ops shm_posix_ops = {
	.name = "shm-posix",
	.summary = "POSIX shared memory ring, process-shared semaphore wake-up",
	.flags = TRANSPORT_LOSSLESS | TRANSPORT_DURABLE |
		 TRANSPORT_WAKE_ANYWHERE,
	.options = shm_transport_options,
	.open = shm_posix_open,
	.send = shm_transport_send,
	.receive = shm_transport_receive,
	.send_many = shm_posix_send_many,
	.receive_many = shm_transport_receive_many,
	.wake = shm_posix_wake,
	.close = shm_posix_close,
};

TRANSPORT_REGISTER(shm_posix_ops);
