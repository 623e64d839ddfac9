// SPDX-License-Identifier: MIT
/*
 * Bare System V semaphore: one semop(+1) per event, semop(-1) to take it.
 * No payload: the k-th post is event k, as in our transport.
 */
#include "bare.h"

#include <errno.h>
#include <stdlib.h>
#include <sys/sem.h>

struct sem_sysv {
	int id;
	uint64_t taken;
};

static int sem_sysv_open(struct bare *b)
{
	struct sem_sysv *s = calloc(1, sizeof(*s));
	int key, r;

	if (!s)
		return -ENOMEM;
	r = bare_sysv_key(b, 's', &key);
	if (r == 0) {
		/* Linux creates System V semaphores at zero. */
		s->id = semget(key, 1, b->receiver ? IPC_CREAT | IPC_EXCL | 0600 : 0);
		if (s->id < 0)
			r = -errno;
	}
	if (r < 0) {
		free(s);
		return r;
	}
	b->priv = s;
	return 0;
}

static int sem_sysv_send(struct bare *b, uint64_t value)
{
	struct sem_sysv *s = b->priv;
	struct sembuf op = { 0, 1, 0 };

	(void)value;
	if (semop(s->id, &op, 1) < 0)
		return errno == ERANGE ? -EAGAIN : -errno;	/* at SEMVMX */
	return 0;
}

static int sem_sysv_receive(struct bare *b, uint64_t *value, int timeout_ms)
{
	struct sem_sysv *s = b->priv;
	struct sembuf op = { 0, -1, 0 };

	(void)timeout_ms;
	if (semop(s->id, &op, 1) < 0)
		return -errno;
	*value = ++s->taken;
	return 0;
}

static void sem_sysv_close(struct bare *b)
{
	struct sem_sysv *s = b->priv;

	if (b->receiver)
		semctl(s->id, 0, IPC_RMID);
	free(s);
}

static const struct bare_ops bare_sem_sysv = {
	.name = "sem-sysv",
	.open = sem_sysv_open,
	.send = sem_sysv_send,
	.receive = sem_sysv_receive,
	.close = sem_sysv_close,
};
BARE_REGISTER(bare_sem_sysv);
