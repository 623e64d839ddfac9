// SPDX-License-Identifier: MIT
/*
 * mmap: a regular file in the runtime directory, mapped MAP_SHARED by both
 * processes, holding a frame ring (lib/frame_ring.h); the receiver sleeps
 * on a futex, a word in the mapping, and the sender wakes it.
 *
 * Pull: the sender copies the frame into the next slot, bumps the futex
 *   word and, only when the receiver said it is going to sleep, calls
 *   FUTEX_WAKE; the receiver copies the frame out of the mapping. While
 *   frames keep coming, neither side makes a system call at all: that is
 *   what a futex is for.
 * Lossless while both run: a full ring (1024 frames) makes send() return
 *   -EAGAIN and the button keeps the frame; nothing is overwritten.
 * Ordering: FIFO; one sender at a time (a claim, see lib/shared_object.h;
 *   a second sender gets -EBUSY).
 * Object: <runtime dir>/mmap.<instance>, mode 0600, created by the
 *   receiver as an unnamed file (O_TMPFILE), filled in, and only then
 *   linked under its name, so nobody ever maps a half-made ring and a
 *   crash leaves no debris; removed by the receiver on close (only if the
 *   name still is its file). The futex is shared (FUTEX_WAIT/FUTEX_WAKE without
 *   FUTEX_PRIVATE_FLAG): the kernel keys it by file and offset, which is
 *   what lets two processes meet on it.
 * Receiver restart:
 *   - SIGTERM/SIGINT: the receiver marks the ring closed and removes the
 *     file. The sender's next send() gets -EPIPE (or right away, if the
 *     frame it just published was not taken), keeps its backlog, reopens
 *     once the new receiver has made a new file, and delivers the backlog.
 *     Frames still unread at that moment are discarded, and the receiver
 *     says how many on stderr (normally none).
 *   - SIGKILL: the file stays. The sender keeps filling the ring, then
 *     keeps a backlog. The next receiver adopts the ring (same owner,
 *     version and geometry, no live receiver holding its claim) and gets
 *     every queued frame; only a frame the killed receiver had already
 *     taken out is lost. A file it cannot use (another owner, loose mode,
 *     older version, closed) is marked closed when it is a ring, and
 *     replaced; a sender attached to it gets -EPIPE and reopens.
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
#include <linux/futex.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

/* What this transport keeps in the ring's sync area. */
struct mmap_sync {
	/*
	 * The futex word: bumped after every published frame and by the
	 * stop wake-up. The receiver sleeps only while it still holds the
	 * value it read before it last found the ring empty, so a wake-up
	 * that comes before it is asleep is never missed.
	 */
	_Atomic uint32_t seq;
	/* Set by the receiver before it sleeps: only then is a wake needed. */
	_Atomic uint32_t waiting;
};

_Static_assert(sizeof(struct mmap_sync) <= FRAME_RING_SYNC_SIZE,
	       "the futex words live in the ring's sync area");

struct mmap_transport {
	char path[PATH_MAX];
	int fd;
	void *mem;
	size_t size;
	struct frame_ring ring;
	struct mmap_sync *sync;
};

static long futex(_Atomic uint32_t *word, int op, uint32_t value,
		  const struct timespec *timeout)
{
	return syscall(SYS_futex, (uint32_t *)word, op, value, timeout, NULL,
		       0);
}

static void mmap_unmap(struct mmap_transport *m)
{
	if (m->mem)
		munmap(m->mem, m->size);
	m->mem = NULL;
	if (m->fd >= 0)
		close(m->fd);
	m->fd = -1;
}

static int mmap_map(struct mmap_transport *m, const struct stat *st)
{
	void *mem;

	if (st->st_size <= 0)
		return -ENODATA;
	mem = mmap(NULL, st->st_size, PROT_READ | PROT_WRITE, MAP_SHARED,
		   m->fd, 0);
	if (mem == MAP_FAILED)
		return -errno;
	m->mem = mem;
	m->size = st->st_size;
	return 0;
}

/*
 * Receiver: look at the existing file. 0: adopted; 1: it was stale or
 * foreign and is gone now; -EBUSY: a live receiver holds it; other
 * negative errno: fatal.
 */
static int mmap_adopt(struct transport *t, struct mmap_transport *m)
{
	struct stat st;
	int r;

	if (fstat(m->fd, &st) < 0)
		return -errno;
	if (!private_object_file(&st)) {
		if (unlink(m->path) < 0 && errno != ENOENT) {
			r = -errno;
			fprintf(stderr, "%s: %s is not ours (uid %u, mode %04o) and cannot be removed: %s\n",
				t->ops->name, m->path, (unsigned int)st.st_uid,
				(unsigned int)(st.st_mode & 07777), strerror(-r));
			return r;
		}
		mmap_unmap(m);
		return 1;
	}
	r = shared_object_claim(m->fd, SHARED_OBJECT_RECEIVER);
	if (r < 0)
		return r;
	r = mmap_map(m, &st);
	if (!r)
		r = frame_ring_attach(&m->ring, m->mem, m->size,
				      FRAME_RING_MMAP, geteuid(), false);
	if (!r && frame_ring_closed(&m->ring))
		r = -EPROTO;	/* its receiver was already leaving */
	if (!r) {
		m->sync = frame_ring_sync(&m->ring);
		return 0;
	}
	if (r != -ENODATA && r != -EPROTO)
		return r;
	if (m->mem)
		frame_ring_abandon(m->mem, m->size);
	shared_object_unlink(m->fd, m->path);
	mmap_unmap(m);
	return 1;
}

/* Receiver: make a new file. -EEXIST if another receiver was faster. */
static int mmap_create(struct transport *t, struct mmap_transport *m)
{
	size_t size = frame_ring_bytes(FRAME_RING_SLOTS);
	struct mmap_sync *sync;
	struct stat st;
	int r;

	r = shared_object_tmpfile(t->config->runtime_dir);
	if (r < 0) {
		fprintf(stderr, "%s: unnamed file in %s: %s\n", t->ops->name,
			t->config->runtime_dir, strerror(-r));
		return r;
	}
	m->fd = r;
	r = shared_object_claim(m->fd, SHARED_OBJECT_RECEIVER);
	if (!r && ftruncate(m->fd, size) < 0)
		r = -errno;
	if (!r && fstat(m->fd, &st) < 0)
		r = -errno;
	if (!r)
		r = mmap_map(m, &st);
	if (r < 0)
		return r;
	sync = frame_ring_sync_of(m->mem);
	atomic_init(&sync->seq, 0);
	atomic_init(&sync->waiting, 0);
	frame_ring_format(m->mem, m->size, FRAME_RING_SLOTS, FRAME_RING_MMAP,
			  geteuid());
	r = frame_ring_attach(&m->ring, m->mem, m->size, FRAME_RING_MMAP,
			      geteuid(), false);
	if (r < 0)
		return r;
	m->sync = sync;
	/* Complete: now it may have a name. */
	return shared_object_link(m->fd, m->path);
}

static int mmap_open_receiver(struct transport *t, struct mmap_transport *m)
{
	int r;

	for (int attempt = 0; attempt < 3; attempt++) {
		m->fd = open(m->path, O_RDWR | O_CLOEXEC | O_NOFOLLOW);
		if (m->fd >= 0) {
			r = mmap_adopt(t, m);
			if (r <= 0)
				return r;
		} else if (errno == ELOOP) {
			/* A symlink where our file belongs: not ours. */
			if (unlink(m->path) < 0 && errno != ENOENT)
				return -errno;
		} else if (errno != ENOENT) {
			return -errno;
		}
		r = mmap_create(t, m);
		if (r != -EEXIST)
			return r;
		mmap_unmap(m);
	}
	return -EBUSY;
}

static int mmap_open_sender(struct mmap_transport *m)
{
	struct stat st;
	int r;

	m->fd = open(m->path, O_RDWR | O_CLOEXEC | O_NOFOLLOW);
	if (m->fd < 0)
		return errno == ENOENT || errno == ELOOP ? -ENOENT : -errno;
	if (fstat(m->fd, &st) < 0)
		return -errno;
	/* Not ours or stale: wait for the receiver to replace it. */
	if (!private_object_file(&st))
		return -ENOENT;
	r = mmap_map(m, &st);
	if (r == -ENODATA)
		return -ENOENT;
	if (r < 0)
		return r;
	r = frame_ring_attach(&m->ring, m->mem, m->size, FRAME_RING_MMAP,
			      geteuid(), true);
	if (!r && frame_ring_closed(&m->ring))
		r = -EPROTO;	/* its receiver is leaving */
	if (r == -ENODATA || r == -EPROTO)
		return -ENOENT;
	if (r < 0)
		return r;
	r = shared_object_claim(m->fd, SHARED_OBJECT_SENDER);
	if (r < 0)
		return r;
	m->sync = frame_ring_sync(&m->ring);
	return 0;
}

static int mmap_open(struct transport *t)
{
	struct mmap_transport *m = calloc(1, sizeof(*m));
	int r;

	if (!m)
		return -ENOMEM;
	m->fd = -1;
	t->priv = m;
	r = transport_object_path(t, m->path, sizeof(m->path));
	if (!r)
		r = t->role == TRANSPORT_RECEIVER ?
			mmap_open_receiver(t, m) : mmap_open_sender(m);
	if (r < 0) {
		mmap_unmap(m);
		free(m);
		t->priv = NULL;
	}
	return r;
}

static int mmap_send(struct transport *t, const uint8_t *frame, size_t len)
{
	struct mmap_transport *m = t->priv;
	uint32_t index;
	int r;

	r = frame_ring_push(&m->ring, frame, len, &index);
	if (r == -EAGAIN && shared_object_unlinked(m->fd))
		return -EPIPE;	/* full, and nobody will ever read it */
	if (r == -EPROTO)
		return -EPIPE;	/* garbled indices: the receiver resyncs */
	if (r < 0)
		return r;
	/* After the head store (frame_ring.c explains the ordering). */
	atomic_fetch_add(&m->sync->seq, 1);
	if (atomic_load(&m->sync->waiting))
		(void)futex(&m->sync->seq, FUTEX_WAKE, 1, NULL);
	return frame_ring_confirm(&m->ring, index);
}

static ssize_t mmap_receive(struct transport *t, uint8_t *buf, size_t size,
			    int timeout_ms)
{
	struct mmap_transport *m = t->priv;
	struct deadline deadline;
	struct timespec left;
	uint32_t seq = 0;
	ssize_t n;
	long r;
	int err;

	/* One deadline for the whole call, however often we wake. */
	deadline_start(&deadline, timeout_ms);
	for (;;) {
		n = frame_ring_pop(&m->ring, buf, size);
		if (n == -EAGAIN) {
			/*
			 * Empty. Read the value to sleep on, say we are
			 * going to sleep, then look once more: a sender that
			 * published before it could see "waiting" is caught
			 * by this second look.
			 */
			seq = atomic_load(&m->sync->seq);
			atomic_store(&m->sync->waiting, 1);
			n = frame_ring_pop(&m->ring, buf, size);
			if (n != -EAGAIN)
				atomic_store(&m->sync->waiting, 0);
		}
		if (n >= 0)
			return n;
		if (n == -EBADMSG) {
			t->rejected++;
			continue;
		}
		if (stop_requested()) {
			atomic_store(&m->sync->waiting, 0);
			return -EINTR;
		}
		if (!deadline.forever && !deadline_left_ns(&deadline)) {
			atomic_store(&m->sync->waiting, 0);
			return -ETIMEDOUT;
		}
		left = deadline_left_timespec(&deadline);

		/*
		 * Sleeps only if seq is unchanged: a frame published (or a
		 * stop) since we read it makes FUTEX_WAIT return at once.
		 */
		stop_unblock();
		r = futex(&m->sync->seq, FUTEX_WAIT, seq,
			  deadline.forever ? NULL : &left);
		err = errno;
		stop_block();
		atomic_store(&m->sync->waiting, 0);
		if (r < 0 && err != EAGAIN && err != EINTR && err != ETIMEDOUT)
			return -err;
		/* Woken, timed out or interrupted: the loop looks again. */
	}
}

static void mmap_wake(struct transport *t)
{
	struct mmap_transport *m = t->priv;

	/* Change the word, then wake: a receiver about to sleep won't. */
	if (m && m->sync) {
		atomic_fetch_add(&m->sync->seq, 1);
		(void)futex(&m->sync->seq, FUTEX_WAKE, INT_MAX, NULL);
	}
}

static void mmap_close(struct transport *t)
{
	struct mmap_transport *m = t->priv;

	if (!m)
		return;
	if (t->role == TRANSPORT_RECEIVER && m->sync) {
		uint32_t unread;

		frame_ring_close(&m->ring);
		unread = frame_ring_pending(&m->ring);
		if (unread)
			fprintf(stderr, "%s: %u unread frames discarded with %s\n",
				t->ops->name, unread, m->path);
		shared_object_unlink(m->fd, m->path);
	}
	mmap_unmap(m);
	free(m);
	t->priv = NULL;
}

static const struct transport_ops mmap_ops = {
	.name = "mmap",
	.summary = "ring in a MAP_SHARED file in the runtime dir, futex wake-up",
	.flags = TRANSPORT_LOSSLESS | TRANSPORT_DURABLE,
	.open = mmap_open,
	.send = mmap_send,
	.receive = mmap_receive,
	.wake = mmap_wake,
	.close = mmap_close,
};

TRANSPORT_REGISTER(mmap_ops);
