// SPDX-License-Identifier: MIT
/*
 * Bare POSIX shared memory: the ring of ring.h in a shm_open object, with a
 * process-shared unnamed semaphore inside it counting the values, as our
 * shm-posix transport wakes its receiver.
 */
#include "bare.h"
#include "ring.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <semaphore.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

struct shm_posix_area {
	sem_t items;
	struct bare_ring ring;
};

struct shm_posix {
	struct shm_posix_area *area;
	char name[NAME_MAX];
};

static int shm_posix_open(struct bare *b)
{
	struct shm_posix *s = calloc(1, sizeof(*s));
	int fd = -1, r;

	if (!s)
		return -ENOMEM;
	r = bare_global_name(b, "shm", s->name, sizeof(s->name));
	if (r < 0)
		goto fail;
	fd = shm_open(s->name, b->receiver ? O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC :
					     O_RDWR | O_CLOEXEC, 0600);
	if (fd < 0 || (b->receiver && ftruncate(fd, sizeof(*s->area)) < 0)) {
		r = -errno;
		goto fail;
	}
	s->area = mmap(NULL, sizeof(*s->area), PROT_READ | PROT_WRITE,
		       MAP_SHARED, fd, 0);
	if (s->area == MAP_FAILED) {
		r = -errno;
		goto fail;
	}
	close(fd);
	if (b->receiver && sem_init(&s->area->items, 1, 0) < 0) {
		r = -errno;
		munmap(s->area, sizeof(*s->area));
		fd = -1;
		goto fail;
	}
	b->priv = s;
	return 0;
fail:
	if (fd >= 0)
		close(fd);
	if (b->receiver)
		shm_unlink(s->name);
	free(s);
	return r;
}

static int shm_posix_send(struct bare *b, uint64_t value)
{
	struct shm_posix *s = b->priv;
	int r = bare_ring_put(&s->area->ring, value);

	if (r < 0)
		return r;
	return sem_post(&s->area->items) < 0 ? -errno : 0;
}

static int shm_posix_receive(struct bare *b, uint64_t *value, int timeout_ms)
{
	struct shm_posix *s = b->priv;

	(void)timeout_ms;
	while (sem_wait(&s->area->items) < 0)
		if (errno != EINTR)
			return -errno;
	return bare_ring_get(&s->area->ring, value) ? 0 : -EPROTO;
}

static void shm_posix_close(struct bare *b)
{
	struct shm_posix *s = b->priv;

	munmap(s->area, sizeof(*s->area));
	if (b->receiver)
		shm_unlink(s->name);
	free(s);
}

static const struct bare_ops bare_shm_posix = {
	.name = "shm-posix",
	.open = shm_posix_open,
	.send = shm_posix_send,
	.receive = shm_posix_receive,
	.close = shm_posix_close,
};
BARE_REGISTER(bare_shm_posix);
