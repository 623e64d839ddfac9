// SPDX-License-Identifier: MIT
/*
 * shm-sysv: a frame ring (lib/frame_ring.h) in a System V shared memory
 * segment and a System V semaphore set (FRAMES, the wake-up; SENDER and
 * RECEIVER, the claims), 0600, under the key transport_sysv_open_receiver()
 * hands out; docs/mechanisms/shm-sysv.md tells how they are made and removed.
 * Batches both ways, one semop() each; calls per event, spin=adaptive: shm_transport.h.
 */
#include "shm_transport.h"

#include "../lib/named_object.h"
#include "../lib/sem_set.h"
#include "../lib/shm_segment.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/sem.h>
#include <sys/shm.h>
#include <unistd.h>

enum { SEM_FRAMES, SEM_SENDER, SEM_RECEIVER, SEM_COUNT };

struct shm_sysv_state {
	struct shm_wait wait;	/* first (shm_transport.h): the receive loop */
	int key;
	int semid;
	struct shm_segment shm;	/* the segment, attached, and its ring */
};
SHM_TRANSPORT_STATE(struct shm_sysv_state);

/* Claim @role of the objects under st->key and attach their ring: 0;
 * -EBUSY: a live holder; -ESTALE: missing, foreign, half made; -errno. */
static int shm_sysv_find(struct shm_sysv_state *st, unsigned short role)
{
	bool producer = role == SEM_SENDER;
	int r;

	st->semid = semget(st->key, 0, 0);
	r = st->semid < 0 ? -errno : sem_set_check(st->semid, SEM_COUNT);
	/* The receiver claims first: then what it finds is a dead one's. */
	if (!r && !producer)
		r = sem_set_claim(st->semid, role);
	if (r < 0)
		return r == -ENOENT ? -ESTALE : r;
	st->shm.id = shmget(st->key, 0, 0);
	r = st->shm.id < 0 ? -errno : shm_segment_open(&st->shm, FRAME_RING_SHM_SYSV, producer);
	if (!r && producer)
		r = sem_set_claim(st->semid, role);
	return r == -ENOENT ? -ESTALE : r;
}

/* --- sender ------------------------------------------------------------ */

/* Several frames, one semop: the receiver takes all it finds per wake-up. */
static int shm_sysv_send_many(struct transport *t, const uint8_t *frames,
			      size_t len, size_t count)
{
	struct shm_sysv_state *st = t->priv;
	uint32_t first;
	int r = shm_segment_push(&st->shm, frames, len, count, &first), up;

	if (r == -EAGAIN && semctl(st->semid, SEM_FRAMES, GETVAL) < 0)
		return TRANSPORT_STALE;	/* full, the set removed: nobody reads it */
	if (r < 0)
		return r;
	up = sem_set_change(st->semid, SEM_FRAMES, 1, 0);
	/* The set removed without closing the ring: nobody will read it. */
	if (up < 0 && (!sem_set_removed(up) || !frame_ring_closed(&st->shm.ring)))
		return sem_set_removed(up) ? TRANSPORT_STALE : up;
	count = frame_ring_confirmed(&st->shm.ring, first, (size_t)r);
	return count ? (int)count : TRANSPORT_STALE;	/* the rest: again */
}

/* --- receiver ---------------------------------------------------------- */

/* Remove whatever is under our key, the set first: senders see EIDRM. */
static int shm_sysv_remove(void *ctx)
{
	struct shm_sysv_state *st = ctx;
	int semid = semget(st->key, 0, 0), shmid = shmget(st->key, 0, 0);

	if (semid >= 0 && semctl(semid, 0, IPC_RMID) < 0 && !sem_set_removed(-errno))
		return -errno;
	if (shmid >= 0 && shmctl(shmid, IPC_RMID, NULL) < 0 && !sem_set_removed(-errno))
		return -errno;
	return 0;
}

static int shm_sysv_create(void *ctx)
{
	unsigned short values[SEM_COUNT] = { [SEM_SENDER] = 1, [SEM_RECEIVER] = 1 };
	struct shm_sysv_state *st = ctx;
	size_t size = frame_ring_bytes(FRAME_RING_SLOTS);
	int r;

	/* 1. The segment, filled in before anyone can find the set. */
	st->shm.id = shmget(st->key, size, IPC_CREAT | IPC_EXCL | 0600);
	if (st->shm.id < 0)
		return -errno;
	st->shm.mem = shmat(st->shm.id, NULL, 0);
	if (st->shm.mem == (void *)-1) {
		r = -errno;
		st->shm.mem = NULL;
		goto err_remove_segment;
	}
	frame_ring_create(&st->shm.ring, st->shm.mem, size, FRAME_RING_SLOTS,
			  FRAME_RING_SHM_SYSV, geteuid());
	/* 2. The set, given its values once, then claimed: now it is ready. */
	st->semid = semget(st->key, SEM_COUNT, IPC_CREAT | IPC_EXCL | 0600);
	if (st->semid < 0) {
		r = -errno;
		goto err_remove_segment;
	}
	r = sem_set_init(st->semid, values, SEM_RECEIVER);
	if (r < 0)
		goto err_remove_set;
	return 0;

err_remove_set:
	semctl(st->semid, 0, IPC_RMID);
err_remove_segment:
	shm_segment_detach(&st->shm);
	shmctl(st->shm.id, IPC_RMID, NULL);
	return r;
}

/* What is under our key: a killed receiver's objects to adopt, or stale. */
static int shm_sysv_adopt(void *ctx)
{
	int r = shm_sysv_find(ctx, SEM_RECEIVER);

	if (r == -ESTALE)
		return NAMED_OBJECT_STALE;
	return r < 0 ? r : NAMED_OBJECT_OURS;
}

static const struct named_object_ops shm_sysv_objects = {
	.create = shm_sysv_create,
	.adopt = shm_sysv_adopt,
	.remove = shm_sysv_remove,
};

/* transport_sysv_open_receiver() calls this with each key it tries. */
static int shm_sysv_open_receiver(struct transport *t, int key)
{
	struct shm_sysv_state *st = t->priv;
	int r;

	st->key = key;
	r = named_object_get(&shm_sysv_objects, st);
	if (r == -EPERM || r == -EACCES)
		snprintf(t->detail, sizeof(t->detail),
			 "key 0x%08x holds objects we may not use or remove (ipcs -a; ipcrm)",
			 (unsigned int)key);
	return r < 0 ? r : 0;
}

static int shm_sysv_sleep(void *ctx, const struct deadline *d)
{
	struct shm_sysv_state *st = ctx;
	struct sembuf take = { .sem_num = SEM_FRAMES, .sem_op = -1 };
	struct timespec buf;

	if (semtimedop(st->semid, &take, 1, deadline_left_timeout(d, &buf)) < 0)
		return errno == EAGAIN ? -ETIMEDOUT : -errno;
	return 0;
}

/* Zero the count: what it announced is taken, or seen before a sleep. */
static void shm_sysv_taken(void *ctx, size_t count __attribute__((unused)))
{
	(void)semctl(((struct shm_sysv_state *)ctx)->semid, SEM_FRAMES, SETVAL,
		     (union semun){ .val = 0 });
}

static void shm_sysv_wake(struct transport *t)
{
	struct shm_sysv_state *st = t->priv;

	/* One more count: a receiver in semtimedop returns, sees the stop. */
	if (st && st->semid >= 0)
		(void)sem_set_change(st->semid, SEM_FRAMES, 1, IPC_NOWAIT);
}

/* --- both -------------------------------------------------------------- */

static int shm_sysv_open(struct transport *t)
{
	struct shm_sysv_state *st = calloc(1, sizeof(*st));
	int r;

	if (!st)
		return -ENOMEM;
	st->shm.id = st->semid = -1;
	t->priv = st;
	if (t->role == TRANSPORT_RECEIVER) {
		r = transport_sysv_open_receiver(t, shm_sysv_open_receiver);
	} else {
		r = transport_sysv_key(t, &st->key);
		if (!r)
			r = shm_sysv_find(st, SEM_SENDER);
		if (r == -ESTALE)
			r = TRANSPORT_ABSENT;	/* the receiver replaces them */
	}
	if (r < 0) {
		shm_segment_detach(&st->shm);
		free(st);
		t->priv = NULL;
	} else {
		shm_transport_wait_init(t, &st->wait, &st->shm.ring, st,
					shm_sysv_sleep, shm_sysv_taken);
	}
	return r;
}

static void shm_sysv_close(struct transport *t)
{
	struct shm_sysv_state *st = t->priv;
	char key[16];

	if (t->role == TRANSPORT_RECEIVER) {
		snprintf(key, sizeof(key), "key 0x%08x", (unsigned int)st->key);
		frame_ring_close(&st->shm.ring, key, t->detail, sizeof(t->detail));
		/* Set first: a sender's next semop() says EIDRM at once. */
		semctl(st->semid, 0, IPC_RMID);
		shmctl(st->shm.id, IPC_RMID, NULL);
	} else {
		/* Give the claim back; also cancels its SEM_UNDO entry. */
		(void)sem_set_change(st->semid, SEM_SENDER, 1, SEM_UNDO);
	}
	shm_segment_detach(&st->shm);
	free(st);
}

static const struct transport_ops shm_sysv_ops = {
	.name = "shm-sysv",
	.summary = "System V shared memory ring, System V semaphore wake-up",
	.flags = TRANSPORT_LOSSLESS | TRANSPORT_DURABLE |
		 TRANSPORT_WAKE_ANYWHERE,
	.options = shm_transport_options,
	.open = shm_sysv_open,
	.send = shm_transport_send,
	.receive = shm_transport_receive,
	.send_many = shm_sysv_send_many,
	.receive_many = shm_transport_receive_many,
	.wake = shm_sysv_wake,
	.close = shm_sysv_close,
};

TRANSPORT_REGISTER(shm_sysv_ops);
