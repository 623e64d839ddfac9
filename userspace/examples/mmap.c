// SPDX-License-Identifier: MIT
/*
 * File-backed mmap: the ring of ring.h in a file of the lesson's directory
 * mapped MAP_SHARED; the receiver sleeps in FUTEX_WAIT on the ring's head
 * while it is empty and the sender wakes it after each put, as our mmap
 * transport does.
 */
#include "lesson.h"
#include "ring.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/futex.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

struct mmap_state {
	struct ring *ring;
	char path[PATH_MAX];
};

/* Sleep while *@word == @val (a shared futex: the word is in a shared map). */
static int futex_wait(_Atomic uint32_t *word, uint32_t val, int timeout_ms)
{
	struct timespec ts = { timeout_ms / 1000, (timeout_ms % 1000) * 1000000L };

	if (syscall(SYS_futex, word, FUTEX_WAIT, val, timeout_ms < 0 ? NULL : &ts,
		    NULL, 0) < 0 && errno != EAGAIN && errno != EINTR)
		return -errno;	/* EAGAIN: the word had changed already */
	return 0;
}

/* lesson-excerpt: begin */
static int mmap_open(struct lesson *l)
{
	int flags = l->receiver ? O_RDWR | O_CREAT | O_EXCL : O_RDWR;
	struct mmap_state *st = l->priv;
	int fd, r;

	r = lesson_path(l, "mmap", st->path, sizeof(st->path));
	if (r < 0)
		return r;
	fd = open(st->path, flags | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	/* A new file is empty: give it the ring's size before mapping it. */
	if (l->receiver && ftruncate(fd, sizeof(*st->ring)) < 0) {
		r = -errno;
		goto err_close;
	}
	st->ring = mmap(NULL, sizeof(*st->ring), PROT_READ | PROT_WRITE,
			MAP_SHARED, fd, 0);
	if (st->ring == MAP_FAILED) {
		r = -errno;
		goto err_close;
	}
	close(fd);	/* the mapping keeps the file */
	return 0;
err_close:
	close(fd);
	if (l->receiver)
		unlink(st->path);
	return r;
}

static int mmap_send(struct lesson *l, uint64_t value)
{
	struct mmap_state *st = l->priv;
	int r = ring_put(st->ring, value);

	if (r == 0 && syscall(SYS_futex, &st->ring->head, FUTEX_WAKE, 1,
			      NULL, NULL, 0) < 0)
		return -errno;
	return r;
}

static int mmap_receive(struct lesson *l, uint64_t *value, int timeout_ms)
{
	struct mmap_state *st = l->priv;
	int r;

	while (!ring_get(st->ring, value)) {
		r = futex_wait(&st->ring->head, atomic_load(&st->ring->tail),
			       timeout_ms);
		if (r < 0)
			return r;
	}
	return 0;
}
/* lesson-excerpt: end */

static void mmap_close(struct lesson *l)
{
	struct mmap_state *st = l->priv;

	munmap(st->ring, sizeof(*st->ring));
	if (l->receiver)
		unlink(st->path);
}

static const struct lesson_ops lesson_mmap = {
	.name = "mmap",
	.state_size = sizeof(struct mmap_state),
	.open = mmap_open,
	.send = mmap_send,
	.receive = mmap_receive,
	.close = mmap_close,
};
LESSON_REGISTER(lesson_mmap);
