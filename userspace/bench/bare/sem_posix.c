// SPDX-License-Identifier: MIT
/*
 * Bare POSIX named semaphore: sem_post per event, sem_wait to take it.
 * No payload: the k-th post is event k, as in our transport.
 */
#include "bare.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <semaphore.h>
#include <stdlib.h>

struct sem_posix {
	sem_t *sem;
	uint64_t taken;
	char name[NAME_MAX];
};

static int sem_posix_open(struct bare *b)
{
	struct sem_posix *s = calloc(1, sizeof(*s));
	int r;

	if (!s)
		return -ENOMEM;
	r = bare_global_name(b, "sem", s->name, sizeof(s->name));
	if (r == 0) {
		s->sem = b->receiver ? sem_open(s->name, O_CREAT | O_EXCL, 0600, 0) :
				       sem_open(s->name, 0);
		if (s->sem == SEM_FAILED)
			r = -errno;
	}
	if (r < 0) {
		free(s);
		return r;
	}
	b->priv = s;
	return 0;
}

static int sem_posix_send(struct bare *b, uint64_t value)
{
	struct sem_posix *s = b->priv;

	(void)value;
	return sem_post(s->sem) < 0 ? -errno : 0;
}

static int sem_posix_receive(struct bare *b, uint64_t *value, int timeout_ms)
{
	struct sem_posix *s = b->priv;

	(void)timeout_ms;
	while (sem_wait(s->sem) < 0)
		if (errno != EINTR)
			return -errno;
	*value = ++s->taken;
	return 0;
}

static void sem_posix_close(struct bare *b)
{
	struct sem_posix *s = b->priv;

	sem_close(s->sem);
	if (b->receiver)
		sem_unlink(s->name);
	free(s);
}

static const struct bare_ops bare_sem_posix = {
	.name = "sem-posix",
	.open = sem_posix_open,
	.send = sem_posix_send,
	.receive = sem_posix_receive,
	.close = sem_posix_close,
};
BARE_REGISTER(bare_sem_posix);
