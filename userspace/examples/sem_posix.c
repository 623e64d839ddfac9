// SPDX-License-Identifier: MIT
/*
 * POSIX named semaphore: sem_post per event, sem_wait to take it.
 * No payload: the k-th post is event k, as in our transport.
 */
#include "lesson.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <semaphore.h>

struct sem_posix_state {
	sem_t *sem;
	uint64_t taken;
	char name[NAME_MAX];
};

/* lesson-excerpt: begin */
static int sem_posix_open(struct lesson *l)
{
	struct sem_posix_state *st = l->priv;
	int r;

	r = lesson_global_name(l, "sem", st->name, sizeof(st->name));
	if (r < 0)
		return r;
	/* The receiver's starts at 0: nothing to take yet. */
	st->sem = l->receiver ? sem_open(st->name, O_CREAT | O_EXCL, 0600, 0) :
				sem_open(st->name, 0);
	return st->sem == SEM_FAILED ? -errno : 0;
}

static int sem_posix_send(struct lesson *l, uint64_t value)
{
	struct sem_posix_state *st = l->priv;

	(void)value;
	return sem_post(st->sem) < 0 ? -errno : 0;
}

static int sem_posix_receive(struct lesson *l, uint64_t *value, int timeout_ms)
{
	struct sem_posix_state *st = l->priv;

	(void)timeout_ms;
	while (sem_wait(st->sem) < 0)
		if (errno != EINTR)
			return -errno;
	*value = ++st->taken;
	return 0;
}
/* lesson-excerpt: end */

static void sem_posix_close(struct lesson *l)
{
	struct sem_posix_state *st = l->priv;

	sem_close(st->sem);
	if (l->receiver)
		sem_unlink(st->name);
}

static const struct lesson_ops lesson_sem_posix = {
	.name = "sem-posix",
	.state_size = sizeof(struct sem_posix_state),
	.open = sem_posix_open,
	.send = sem_posix_send,
	.receive = sem_posix_receive,
	.close = sem_posix_close,
};
LESSON_REGISTER(lesson_sem_posix);
