// SPDX-License-Identifier: MIT
/*
 * Bare file-backed mmap: the ring of ring.h in a file of the bare directory
 * mapped MAP_SHARED; the receiver sleeps in FUTEX_WAIT on the ring's head
 * while it is empty and the sender wakes it after each put, as our mmap
 * transport does.
 */
#include "bare.h"
#include "ring.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

struct mmap_bare {
	struct bare_ring *ring;
	char path[PATH_MAX];
};

static int mmap_open(struct bare *b)
{
	struct mmap_bare *m = calloc(1, sizeof(*m));
	int fd = -1, r;

	if (!m)
		return -ENOMEM;
	r = bare_path(b, "mmap", m->path, sizeof(m->path));
	if (r < 0)
		goto fail;
	fd = open(m->path, b->receiver ? O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC :
					 O_RDWR | O_CLOEXEC, 0600);
	if (fd < 0 || (b->receiver && ftruncate(fd, sizeof(*m->ring)) < 0)) {
		r = -errno;
		goto fail;
	}
	m->ring = mmap(NULL, sizeof(*m->ring), PROT_READ | PROT_WRITE,
		       MAP_SHARED, fd, 0);
	if (m->ring == MAP_FAILED) {
		r = -errno;
		goto fail;
	}
	close(fd);
	b->priv = m;
	return 0;
fail:
	if (fd >= 0)
		close(fd);
	if (b->receiver)
		unlink(m->path);
	free(m);
	return r;
}

static int mmap_send(struct bare *b, uint64_t value)
{
	struct mmap_bare *m = b->priv;
	int r = bare_ring_put(m->ring, value);

	if (r == 0)
		futex_wake_shared(&m->ring->head);
	return r;
}

static int mmap_receive(struct bare *b, uint64_t *value, int timeout_ms)
{
	struct mmap_bare *m = b->priv;
	int r;

	while (!bare_ring_get(m->ring, value)) {
		r = futex_wait_shared(&m->ring->head,
				      atomic_load(&m->ring->tail), timeout_ms);
		if (r == -ETIMEDOUT)
			return r;
	}
	return 0;
}

static void mmap_close(struct bare *b)
{
	struct mmap_bare *m = b->priv;

	munmap(m->ring, sizeof(*m->ring));
	if (b->receiver)
		unlink(m->path);
	free(m);
}

static const struct bare_ops bare_mmap = {
	.name = "mmap",
	.open = mmap_open,
	.send = mmap_send,
	.receive = mmap_receive,
	.close = mmap_close,
};
BARE_REGISTER(bare_mmap);
