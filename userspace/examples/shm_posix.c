// SPDX-License-Identifier: MIT
/*
 * POSIX shared memory: the ring of ring.h in a shm_open object, with a
 * process-shared unnamed semaphore inside it counting the values, as our
 * shm-posix transport wakes its receiver.
 */
#include "lesson.h"
#include "ring.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <semaphore.h>
#include <sys/mman.h>
#include <unistd.h>

struct shm_posix_area {
	sem_t items;
	struct ring ring;
};

struct shm_posix_state {
	struct shm_posix_area *area;
	char name[NAME_MAX];
};

/* lesson-excerpt: begin */
static int shm_posix_open(struct lesson *l)
{
	struct shm_posix_state *st = l->priv;
	int fd, r;

	r = lesson_global_name(l, "shm", st->name, sizeof(st->name));
	if (r < 0)
		return r;
	if (l->receiver)
		fd = shm_open(st->name, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	else
		fd = shm_open(st->name, O_RDWR | O_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (l->receiver && ftruncate(fd, sizeof(*st->area)) < 0) {
		r = -errno;
		goto err_unlink;
	}
	st->area = mmap(NULL, sizeof(*st->area), PROT_READ | PROT_WRITE,
			MAP_SHARED, fd, 0);
	if (st->area == MAP_FAILED) {
		r = -errno;
		goto err_unlink;
	}
	/* pshared = 1: the semaphore lives in the shared object itself. */
	if (l->receiver && sem_init(&st->area->items, 1, 0) < 0) {
		r = -errno;
		goto err_unmap;
	}
	close(fd);	/* the mapping keeps the object */
	return 0;
err_unmap:
	munmap(st->area, sizeof(*st->area));
err_unlink:
	close(fd);
	if (l->receiver)
		shm_unlink(st->name);
	return r;
}

static int shm_posix_send(struct lesson *l, uint64_t value)
{
	struct shm_posix_state *st = l->priv;
	int r = ring_put(&st->area->ring, value);

	if (r < 0)
		return r;
	return sem_post(&st->area->items) < 0 ? -errno : 0;
}

static int shm_posix_receive(struct lesson *l, uint64_t *value, int timeout_ms)
{
	struct shm_posix_state *st = l->priv;

	(void)timeout_ms;
	while (sem_wait(&st->area->items) < 0)
		if (errno != EINTR)
			return -errno;
	return ring_get(&st->area->ring, value) ? 0 : -EPROTO;
}
/* lesson-excerpt: end */

static void shm_posix_close(struct lesson *l)
{
	struct shm_posix_state *st = l->priv;

	munmap(st->area, sizeof(*st->area));
	if (l->receiver)
		shm_unlink(st->name);
}

static const struct lesson_ops lesson_shm_posix = {
	.name = "shm-posix",
	.state_size = sizeof(struct shm_posix_state),
	.open = shm_posix_open,
	.send = shm_posix_send,
	.receive = shm_posix_receive,
	.close = shm_posix_close,
};
LESSON_REGISTER(lesson_shm_posix);
