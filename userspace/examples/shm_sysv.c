// SPDX-License-Identifier: MIT
/*
 * System V shared memory: the ring of ring.h in a shmget segment, a
 * System V semaphore counting the values in it (semop +1 per put, -1 per
 * get), as our shm-sysv transport wakes its receiver.
 */
#include "lesson.h"
#include "ring.h"

#include <errno.h>
#include <sys/sem.h>
#include <sys/shm.h>

struct shm_sysv_state {
	int shm_id;
	int sem_id;
	struct ring *ring;
};

/* lesson-excerpt: begin */
static int shm_sysv_open(struct lesson *l)
{
	int flags = l->receiver ? IPC_CREAT | IPC_EXCL | 0600 : 0;
	struct shm_sysv_state *st = l->priv;
	int shm_key, sem_key, r;

	/* Two objects, two keys from one directory: ftok()'s second argument. */
	r = lesson_sysv_key(l, 'm', &shm_key);
	if (r == 0)
		r = lesson_sysv_key(l, 'w', &sem_key);
	if (r < 0)
		return r;
	st->shm_id = shmget(shm_key, sizeof(struct ring), flags);
	if (st->shm_id < 0)
		return -errno;
	st->sem_id = semget(sem_key, 1, flags);
	if (st->sem_id < 0) {
		r = -errno;
		goto err_remove_shm;
	}
	st->ring = shmat(st->shm_id, NULL, 0);
	if (st->ring == (void *)-1) {
		r = -errno;
		goto err_remove_sem;
	}
	return 0;
err_remove_sem:
	if (l->receiver)
		semctl(st->sem_id, 0, IPC_RMID);
err_remove_shm:
	if (l->receiver)
		shmctl(st->shm_id, IPC_RMID, NULL);
	return r;
}

static int shm_sysv_send(struct lesson *l, uint64_t value)
{
	struct shm_sysv_state *st = l->priv;
	struct sembuf op = { 0, 1, 0 };
	int r = ring_put(st->ring, value);

	if (r < 0)
		return r;
	return semop(st->sem_id, &op, 1) < 0 ? -errno : 0;
}

static int shm_sysv_receive(struct lesson *l, uint64_t *value, int timeout_ms)
{
	struct shm_sysv_state *st = l->priv;
	struct sembuf op = { 0, -1, 0 };

	(void)timeout_ms;
	if (semop(st->sem_id, &op, 1) < 0)
		return -errno;
	return ring_get(st->ring, value) ? 0 : -EPROTO;
}
/* lesson-excerpt: end */

static void shm_sysv_close(struct lesson *l)
{
	struct shm_sysv_state *st = l->priv;

	shmdt(st->ring);
	if (l->receiver) {
		shmctl(st->shm_id, IPC_RMID, NULL);
		semctl(st->sem_id, 0, IPC_RMID);
	}
}

static const struct lesson_ops lesson_shm_sysv = {
	.name = "shm-sysv",
	.state_size = sizeof(struct shm_sysv_state),
	.open = shm_sysv_open,
	.send = shm_sysv_send,
	.receive = shm_sysv_receive,
	.close = shm_sysv_close,
};
LESSON_REGISTER(lesson_shm_sysv);
