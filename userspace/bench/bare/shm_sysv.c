// SPDX-License-Identifier: MIT
/*
 * Bare System V shared memory: the ring of ring.h in a shmget segment, a
 * System V semaphore counting the values in it (semop +1 per put, -1 per
 * get), as our shm-sysv transport wakes its receiver.
 */
#include "bare.h"
#include "ring.h"

#include <errno.h>
#include <stdlib.h>
#include <sys/sem.h>
#include <sys/shm.h>

struct shm_sysv {
	int shm_id;
	int sem_id;
	struct bare_ring *ring;
};

static int shm_sysv_open(struct bare *b)
{
	int flags = b->receiver ? IPC_CREAT | IPC_EXCL | 0600 : 0;
	struct shm_sysv *s = calloc(1, sizeof(*s));
	int shm_key, sem_key, r;

	if (!s)
		return -ENOMEM;
	s->shm_id = s->sem_id = -1;
	r = bare_sysv_key(b, 'm', &shm_key);
	if (r == 0)
		r = bare_sysv_key(b, 'w', &sem_key);
	if (r < 0)
		goto fail;
	s->shm_id = shmget(shm_key, sizeof(struct bare_ring), flags);
	s->sem_id = s->shm_id < 0 ? -1 : semget(sem_key, 1, flags);
	if (s->sem_id < 0) {
		r = -errno;
		goto fail;
	}
	s->ring = shmat(s->shm_id, NULL, 0);
	if (s->ring == (void *)-1) {
		r = -errno;
		goto fail;
	}
	b->priv = s;
	return 0;
fail:
	if (b->receiver && s->shm_id >= 0)
		shmctl(s->shm_id, IPC_RMID, NULL);
	if (b->receiver && s->sem_id >= 0)
		semctl(s->sem_id, 0, IPC_RMID);
	free(s);
	return r;
}

static int shm_sysv_send(struct bare *b, uint64_t value)
{
	struct shm_sysv *s = b->priv;
	struct sembuf op = { 0, 1, 0 };
	int r = bare_ring_put(s->ring, value);

	if (r < 0)
		return r;
	return semop(s->sem_id, &op, 1) < 0 ? -errno : 0;
}

static int shm_sysv_receive(struct bare *b, uint64_t *value, int timeout_ms)
{
	struct shm_sysv *s = b->priv;
	struct sembuf op = { 0, -1, 0 };

	(void)timeout_ms;
	if (semop(s->sem_id, &op, 1) < 0)
		return -errno;
	return bare_ring_get(s->ring, value) ? 0 : -EPROTO;
}

static void shm_sysv_close(struct bare *b)
{
	struct shm_sysv *s = b->priv;

	shmdt(s->ring);
	if (b->receiver) {
		shmctl(s->shm_id, IPC_RMID, NULL);
		semctl(s->sem_id, 0, IPC_RMID);
	}
	free(s);
}

static const struct bare_ops bare_shm_sysv = {
	.name = "shm-sysv",
	.open = shm_sysv_open,
	.send = shm_sysv_send,
	.receive = shm_sysv_receive,
	.close = shm_sysv_close,
};
BARE_REGISTER(bare_shm_sysv);
