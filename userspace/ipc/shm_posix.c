// SPDX-License-Identifier: MIT
/*
 * shm-posix: POSIX shared memory holding a frame ring (lib/frame_ring.h),
 * with a process-shared unnamed POSIX semaphore inside the segment that
 * counts the frames, so the receiver sleeps in sem_clockwait() until one
 * arrives.
 *
 * Pull: the sender copies the frame into the next slot and posts the
 *   semaphore; the receiver wakes and copies it out of shared memory.
 * Lossless while both run: a full ring (1024 frames) makes send() return
 *   -EAGAIN and the button keeps the frame; nothing is overwritten.
 * Ordering: FIFO; one sender at a time (a claim, see lib/shared_object.h;
 *   a second sender gets -EBUSY).
 * Object: "/ipc-button.<uid>.<instance>.shm-posix" (transport_global_name)
 *   in /dev/shm, mode 0600, created by the receiver, which fills in the
 *   whole ring before it stores the magic that makes it valid; removed by
 *   the receiver on close (only if the name still is its object).
 * Receiver restart:
 *   - SIGTERM/SIGINT: the receiver marks the ring closed and removes it.
 *     The sender's next send() gets -EPIPE (or right away, if a frame it
 *     just published was not taken), keeps its backlog, reopens once the
 *     new receiver has made a new object, and delivers the backlog.
 *     Frames still unread in the ring at that moment are discarded, and
 *     the receiver says how many on stderr (normally none: it reads as
 *     fast as they come).
 *   - SIGKILL: the object stays. The sender keeps filling the ring, then
 *     keeps a backlog. The next receiver adopts the ring (same owner,
 *     version and geometry, no live receiver holding its claim) and gets
 *     every queued frame; only a frame the killed receiver had already
 *     taken out is lost. A ring it cannot use (older version, another
 *     owner, closed) is marked closed and replaced, so a sender attached
 *     to it gets -EPIPE and reopens.
 *
 * Why a semaphore, and the same in all three shared-memory transports:
 * the ring is the truth, the semaphore only a wake-up. The receiver always
 * tries the ring before it sleeps and takes one token per frame when there
 * is one, so a token lost (sender killed between publishing and posting)
 * or left over (the stop wake-up, a receiver killed after taking a frame)
 * costs at most a spurious wake-up, never a stuck frame.
 */
#include "transport.h"

#include "../lib/deadline.h"
#include "../lib/frame_ring.h"
#include "../lib/private_object.h"
#include "../lib/shared_object.h"
#include "../lib/stop.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <semaphore.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

_Static_assert(sizeof(sem_t) <= FRAME_RING_SYNC_SIZE,
	       "the semaphore lives in the ring's sync area");

struct shm_posix {
	char name[NAME_MAX];
	int fd;
	void *mem;
	size_t size;
	struct frame_ring ring;
	sem_t *frames;		/* published frames: a wake-up hint */
};

static void shm_posix_unmap(struct shm_posix *p)
{
	if (p->mem)
		munmap(p->mem, p->size);
	p->mem = NULL;
	if (p->fd >= 0)
		close(p->fd);
	p->fd = -1;
}

/* Map the object open as p->fd, all of it. */
static int shm_posix_map(struct shm_posix *p, const struct stat *st)
{
	void *mem;

	if (st->st_size <= 0)
		return -ENODATA;
	mem = mmap(NULL, st->st_size, PROT_READ | PROT_WRITE, MAP_SHARED,
		   p->fd, 0);
	if (mem == MAP_FAILED)
		return -errno;
	p->mem = mem;
	p->size = st->st_size;
	return 0;
}

/* Remove the name only while it still is the object we hold. */
static void shm_posix_unlink(struct shm_posix *p)
{
	struct stat held, named;
	int fd = shm_open(p->name, O_RDONLY, 0);

	if (fd < 0)
		return;
	if (!fstat(fd, &named) && !fstat(p->fd, &held) &&
	    held.st_dev == named.st_dev && held.st_ino == named.st_ino)
		(void)shm_unlink(p->name);
	close(fd);
}

/*
 * Receiver: look at an existing object. 0: adopted (its frames will be
 * delivered); 1: it was stale or foreign and is gone now; -EBUSY: a live
 * receiver holds it; other negative errno: fatal.
 */
static int shm_posix_adopt(struct transport *t, struct shm_posix *p)
{
	struct stat st;
	int r;

	if (fstat(p->fd, &st) < 0)
		return -errno;
	if (!private_object_file(&st)) {
		/* Someone else's, or loose permissions: never use it. */
		if (shm_unlink(p->name) < 0 && errno != ENOENT) {
			r = -errno;
			fprintf(stderr, "%s: %s is not ours (uid %u, mode %04o) and cannot be removed: %s\n",
				t->ops->name, p->name, (unsigned int)st.st_uid,
				(unsigned int)(st.st_mode & 07777), strerror(-r));
			return r;
		}
		shm_posix_unmap(p);
		return 1;
	}
	r = shared_object_claim(p->fd, SHARED_OBJECT_RECEIVER);
	if (r < 0)
		return r;
	r = shm_posix_map(p, &st);
	if (!r)
		r = frame_ring_attach(&p->ring, p->mem, p->size,
				      FRAME_RING_SHM_POSIX, geteuid(), false);
	if (!r && frame_ring_closed(&p->ring))
		r = -EPROTO;	/* its receiver was already leaving */
	if (!r) {
		p->frames = frame_ring_sync(&p->ring);
		return 0;
	}
	if (r != -ENODATA && r != -EPROTO)
		return r;
	/* A stale ring: tell any sender still on it, then drop it. */
	if (p->mem)
		frame_ring_abandon(p->mem, p->size);
	shm_posix_unlink(p);
	shm_posix_unmap(p);
	return 1;
}

/* Receiver: make a new object. -EEXIST if another receiver was faster. */
static int shm_posix_create(struct shm_posix *p)
{
	size_t size = frame_ring_bytes(FRAME_RING_SLOTS);
	struct stat st;
	int r;

	/* shm_open() always sets FD_CLOEXEC (POSIX requires it). */
	p->fd = shm_open(p->name, O_RDWR | O_CREAT | O_EXCL, 0600);
	if (p->fd < 0)
		return -errno;
	/* Claim first: another receiver now sees a live owner, not junk. */
	r = shared_object_claim(p->fd, SHARED_OBJECT_RECEIVER);
	if (!r && fchmod(p->fd, 0600) < 0)
		r = -errno;		/* the umask must not decide */
	if (!r && ftruncate(p->fd, size) < 0)
		r = -errno;
	if (!r && fstat(p->fd, &st) < 0)
		r = -errno;
	if (!r)
		r = shm_posix_map(p, &st);
	if (!r && sem_init(frame_ring_sync_of(p->mem), 1, 0) < 0)
		r = -errno;
	if (r < 0) {
		(void)shm_unlink(p->name);
		shm_posix_unmap(p);
		return r;
	}
	/* Publishes the ring, semaphore included. */
	frame_ring_format(p->mem, p->size, FRAME_RING_SLOTS,
			  FRAME_RING_SHM_POSIX, geteuid());
	r = frame_ring_attach(&p->ring, p->mem, p->size, FRAME_RING_SHM_POSIX,
			      geteuid(), false);
	if (r < 0)
		return r;
	p->frames = frame_ring_sync(&p->ring);
	return 0;
}

static int shm_posix_open_receiver(struct transport *t, struct shm_posix *p)
{
	int r;

	/* Twice at most: once more if a stale object was in the way. */
	for (int attempt = 0; attempt < 3; attempt++) {
		p->fd = shm_open(p->name, O_RDWR, 0);
		if (p->fd >= 0) {
			r = shm_posix_adopt(t, p);
			if (r <= 0)
				return r;
		} else if (errno != ENOENT) {
			return -errno;
		}
		r = shm_posix_create(p);
		if (r != -EEXIST)
			return r;
	}
	return -EBUSY;
}

static int shm_posix_open_sender(struct shm_posix *p)
{
	struct stat st;
	int r;

	p->fd = shm_open(p->name, O_RDWR, 0);
	if (p->fd < 0)
		return errno == ENOENT ? -ENOENT : -errno;
	if (fstat(p->fd, &st) < 0)
		return -errno;
	/* Not ours, not ready or stale: wait for the receiver to fix it. */
	if (!private_object_file(&st))
		return -ENOENT;
	r = shm_posix_map(p, &st);
	if (r == -ENODATA)
		return -ENOENT;
	if (r < 0)
		return r;
	r = frame_ring_attach(&p->ring, p->mem, p->size, FRAME_RING_SHM_POSIX,
			      geteuid(), true);
	if (!r && frame_ring_closed(&p->ring))
		r = -EPROTO;	/* its receiver is leaving */
	if (r == -ENODATA || r == -EPROTO)
		return -ENOENT;
	if (r < 0)
		return r;
	r = shared_object_claim(p->fd, SHARED_OBJECT_SENDER);
	if (r < 0)
		return r;
	p->frames = frame_ring_sync(&p->ring);
	return 0;
}

static void shm_posix_close(struct transport *t);

static int shm_posix_open(struct transport *t)
{
	struct shm_posix *p = calloc(1, sizeof(*p));
	int r;

	if (!p)
		return -ENOMEM;
	p->fd = -1;
	t->priv = p;
	r = transport_global_name(t, p->name, sizeof(p->name));
	if (!r)
		r = t->role == TRANSPORT_RECEIVER ?
			shm_posix_open_receiver(t, p) :
			shm_posix_open_sender(p);
	if (r < 0) {
		shm_posix_unmap(p);
		free(p);
		t->priv = NULL;
	}
	return r;
}

static int shm_posix_send(struct transport *t, const uint8_t *frame,
			  size_t len)
{
	struct shm_posix *p = t->priv;
	uint32_t index;
	int r;

	r = frame_ring_push(&p->ring, frame, len, &index);
	if (r == -EAGAIN && shared_object_unlinked(p->fd))
		return -EPIPE;	/* full, and nobody will ever read it */
	if (r == -EPROTO)
		return -EPIPE;	/* garbled indices: the receiver resyncs */
	if (r < 0)
		return r;
	if (sem_post(p->frames) < 0)
		return -errno;
	return frame_ring_confirm(&p->ring, index);
}

static ssize_t shm_posix_receive(struct transport *t, uint8_t *buf,
				 size_t size, int timeout_ms)
{
	struct shm_posix *p = t->priv;
	struct timespec end;
	struct deadline deadline;
	ssize_t n;
	int r, err;

	/* One deadline for the whole call, however often we wake. */
	deadline_start(&deadline, timeout_ms);
	end = deadline_end_timespec(&deadline);
	for (;;) {
		n = frame_ring_pop(&p->ring, buf, size);
		if (n >= 0) {
			/* This frame's token, if it was posted yet. */
			(void)sem_trywait(p->frames);
			return n;
		}
		if (n == -EBADMSG) {
			t->rejected++;
			continue;
		}
		if (stop_requested())
			return -EINTR;

		/* Stop signals may land only while we sleep; wake() posts. */
		stop_unblock();
		if (timeout_ms < 0)
			r = sem_wait(p->frames);
		else
			r = sem_clockwait(p->frames, CLOCK_MONOTONIC, &end);
		err = errno;
		stop_block();
		if (!r)
			continue;
		if (err == ETIMEDOUT)
			return -ETIMEDOUT;
		if (err != EINTR)
			return -err;
		if (stop_requested())
			return -EINTR;
	}
}

static void shm_posix_wake(struct transport *t)
{
	struct shm_posix *p = t->priv;

	/* sem_post is async-signal-safe; the receiver then sees the stop. */
	if (p && p->frames)
		(void)sem_post(p->frames);
}

static void shm_posix_close(struct transport *t)
{
	struct shm_posix *p = t->priv;

	if (!p)
		return;
	if (t->role == TRANSPORT_RECEIVER && p->frames) {
		uint32_t unread;

		/*
		 * Closed first, so the sender stops and learns whether its
		 * last frame was taken; then the name goes. No sem_destroy():
		 * the sender may still post until it sees "closed", and the
		 * semaphore disappears with the memory anyway.
		 */
		frame_ring_close(&p->ring);
		unread = frame_ring_pending(&p->ring);
		if (unread)
			fprintf(stderr, "%s: %u unread frames discarded with %s\n",
				t->ops->name, unread, p->name);
		shm_posix_unlink(p);
	}
	shm_posix_unmap(p);
	free(p);
	t->priv = NULL;
}

static const struct transport_ops shm_posix_ops = {
	.name = "shm-posix",
	.summary = "POSIX shared memory ring, process-shared semaphore wake-up",
	.flags = TRANSPORT_LOSSLESS | TRANSPORT_DURABLE,
	.open = shm_posix_open,
	.send = shm_posix_send,
	.receive = shm_posix_receive,
	.wake = shm_posix_wake,
	.close = shm_posix_close,
};

TRANSPORT_REGISTER(shm_posix_ops);
