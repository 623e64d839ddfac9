// SPDX-License-Identifier: MIT
/*
 * System V semaphore: one semop(+1) per event, semop(-1) to take it.
 * No payload: the k-th post is event k, as in our transport.
 */
#include "lesson.h"

#include <errno.h>
#include <sys/sem.h>

struct sem_sysv_state {
	int id;
	uint64_t taken;
};

/* lesson-excerpt: begin */
static int sem_sysv_open(struct lesson *l)
{
	struct sem_sysv_state *st = l->priv;
	int key, r;

	r = lesson_sysv_key(l, 's', &key);
	if (r < 0)
		return r;
	/* One semaphore in the set; Linux creates it at zero. */
	st->id = semget(key, 1, l->receiver ? IPC_CREAT | IPC_EXCL | 0600 : 0);
	return st->id < 0 ? -errno : 0;
}

static int sem_sysv_send(struct lesson *l, uint64_t value)
{
	struct sem_sysv_state *st = l->priv;
	struct sembuf op = { 0, 1, 0 };

	(void)value;
	if (semop(st->id, &op, 1) < 0)
		return errno == ERANGE ? -EAGAIN : -errno;	/* at SEMVMX */
	return 0;
}

static int sem_sysv_receive(struct lesson *l, uint64_t *value, int timeout_ms)
{
	struct sem_sysv_state *st = l->priv;
	struct sembuf op = { 0, -1, 0 };

	(void)timeout_ms;
	if (semop(st->id, &op, 1) < 0)
		return -errno;
	*value = ++st->taken;
	return 0;
}
/* lesson-excerpt: end */

static void sem_sysv_close(struct lesson *l)
{
	struct sem_sysv_state *st = l->priv;

	if (l->receiver)
		semctl(st->id, 0, IPC_RMID);
}

static const struct lesson_ops lesson_sem_sysv = {
	.name = "sem-sysv",
	.state_size = sizeof(struct sem_sysv_state),
	.open = sem_sysv_open,
	.send = sem_sysv_send,
	.receive = sem_sysv_receive,
	.close = sem_sysv_close,
};
LESSON_REGISTER(lesson_sem_sysv);
