// SPDX-License-Identifier: MIT
/*
 * shm-sysv: a frame ring (lib/frame_ring.h) in a System V shared memory
 * segment, and beside it a System V semaphore set: FRAMES counts the
 * frames published (a wake-up; the ring is the truth) and the receiver
 * sleeps in semtimedop() on it; SENDER and RECEIVER are 1 while nobody
 * holds that role. Claims are taken with SEM_UNDO: the kernel gives them
 * back when their holder dies, so a receiver that finds a killed one's
 * objects adopts them, frames and all. Both are 0600, under the key
 * transport_sysv_open_receiver() hands out. The segment is filled in
 * before the set exists, and a sender uses only an initialised set
 * (lib/sem_set.h). On close the receiver removes the set first: a
 * sender's next semop() fails, and it reopens (TRANSPORT_STALE).
 */
#include "transport.h"

#include "../lib/deadline.h"
#include "../lib/frame_ring.h"
#include "../lib/named_object.h"
#include "../lib/private_object.h"
#include "../lib/sem_set.h"
#include "../lib/stop.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/ipc.h>
#include <sys/sem.h>
#include <sys/shm.h>
#include <unistd.h>

enum { SEM_FRAMES, SEM_SENDER, SEM_RECEIVER, SEM_COUNT };

struct shm_sysv_state {
	int key;
	int shmid;
	int semid;
	void *mem;
	size_t size;
	struct frame_ring ring;
};

static void shm_sysv_detach(struct shm_sysv_state *st)
{
	if (st->mem)
		shmdt(st->mem);
	st->mem = NULL;
}

/*
 * The objects under st->key, if ours and ready: claim the @role semaphore
 * and attach to the ring. 0; -EBUSY: a live process has the role;
 * -ESTALE: missing, foreign, half made or stale; or another -errno.
 */
static int shm_sysv_find(struct shm_sysv_state *st, unsigned short role)
{
	bool producer = role == SEM_SENDER;
	struct shmid_ds ds;
	int r;

	st->semid = semget(st->key, 0, 0);
	if (st->semid < 0)
		return errno == ENOENT ? -ESTALE : -errno;
	r = sem_set_check(st->semid, SEM_COUNT);
	/* The receiver claims first: then what it finds is a dead one's. */
	if (!r && !producer)
		r = sem_set_claim(st->semid, role);
	if (r < 0)
		return r == -ENOENT ? -ESTALE : r;
	st->shmid = shmget(st->key, 0, 0);
	if (st->shmid < 0 || shmctl(st->shmid, IPC_STAT, &ds) < 0)
		return errno == ENOENT || sem_set_removed(-errno) ?
			-ESTALE : -errno;
	/* Not ours alone, or removed and waiting for its last detach. */
	if (!private_object_sysv(&ds.shm_perm) || ds.shm_perm.mode & SHM_DEST)
		return -ESTALE;
	st->mem = shmat(st->shmid, NULL, 0);
	if (st->mem == (void *)-1) {
		st->mem = NULL;
		return -errno;
	}
	st->size = ds.shm_segsz;
	r = frame_ring_attach(&st->ring, st->mem, st->size,
			      FRAME_RING_SHM_SYSV, geteuid(), producer);
	if (!r && producer)
		r = sem_set_claim(st->semid, role);
	return r;
}

/* --- sender ------------------------------------------------------------ */

static int shm_sysv_send(struct transport *t, const uint8_t *frame,
			 size_t len)
{
	struct shm_sysv_state *st = t->priv;
	struct shmid_ds ds;
	uint32_t index;
	int r;

	r = frame_ring_push(&st->ring, frame, len, &index);
	if (r == -EAGAIN && (semctl(st->semid, SEM_FRAMES, GETVAL) < 0 ||
			     shmctl(st->shmid, IPC_STAT, &ds) < 0 ||
			     ds.shm_perm.mode & SHM_DEST))
		return TRANSPORT_STALE;	/* full, removed: nobody reads it */
	if (r < 0)
		return r;
	r = sem_set_change(st->semid, SEM_FRAMES, 1, 0);
	if (r < 0 && !sem_set_removed(r))
		return r;
	/* Unread: the receiver closed the ring first, or someone removed
	 * the set without closing it. */
	if (frame_ring_confirm(&st->ring, index) < 0 ||
	    (r < 0 && !frame_ring_closed(&st->ring)))
		return TRANSPORT_STALE;
	return 0;
}

/* --- receiver ---------------------------------------------------------- */

/* Remove whatever is under our key, the set first: senders see EIDRM. */
static int shm_sysv_remove(void *ctx)
{
	struct shm_sysv_state *st = ctx;
	int semid = semget(st->key, 0, 0), shmid = shmget(st->key, 0, 0);

	if (semid >= 0 && semctl(semid, 0, IPC_RMID) < 0 &&
	    !sem_set_removed(-errno))
		return -errno;
	if (shmid >= 0 && shmctl(shmid, IPC_RMID, NULL) < 0 &&
	    !sem_set_removed(-errno))
		return -errno;
	return 0;
}

static int shm_sysv_create(void *ctx)
{
	unsigned short values[SEM_COUNT] = {
		[SEM_FRAMES] = 0, [SEM_SENDER] = 1, [SEM_RECEIVER] = 1,
	};
	struct shm_sysv_state *st = ctx;
	size_t size = frame_ring_bytes(FRAME_RING_SLOTS);
	int r;

	/* 1. The segment, filled in before anyone can find the set. */
	st->shmid = shmget(st->key, size, IPC_CREAT | IPC_EXCL | 0600);
	if (st->shmid < 0)
		return -errno;
	st->mem = shmat(st->shmid, NULL, 0);
	if (st->mem == (void *)-1) {
		r = -errno;
		st->mem = NULL;
		goto err_remove_segment;
	}
	st->size = size;
	frame_ring_create(&st->ring, st->mem, size, FRAME_RING_SLOTS,
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
	shm_sysv_detach(st);
	shmctl(st->shmid, IPC_RMID, NULL);
	return r;
}

/* What is under our key: a killed receiver's objects to adopt, or stale. */
static int shm_sysv_adopt(void *ctx)
{
	struct shm_sysv_state *st = ctx;
	int r = shm_sysv_find(st, SEM_RECEIVER);

	if (r == -ESTALE) {
		shm_sysv_detach(st);
		return NAMED_OBJECT_STALE;
	}
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

	shm_sysv_detach(st);	/* from the key tried before, if any */
	st->key = key;
	r = named_object_get(&shm_sysv_objects, st);
	if (r == -EPERM || r == -EACCES)
		snprintf(t->detail, sizeof(t->detail),
			 "key 0x%08x holds objects we may not use or remove (ipcs -a; ipcrm)",
			 (unsigned int)key);
	return r < 0 ? r : 0;
}

static ssize_t shm_sysv_receive(struct transport *t, uint8_t *buf,
				size_t size, int timeout_ms)
{
	struct shm_sysv_state *st = t->priv;
	struct sembuf take = { .sem_num = SEM_FRAMES, .sem_op = -1 };
	struct deadline d;
	struct timespec left;
	ssize_t n;
	int r;

	/* One deadline for the whole call, however often we wake. */
	deadline_start(&d, timeout_ms);
	for (;;) {
		n = frame_ring_pop(&st->ring, buf, size, &t->rejected);
		if (n >= 0) {
			/* This frame's count, if it was raised yet. */
			(void)sem_set_change(st->semid, SEM_FRAMES, -1,
					     IPC_NOWAIT);
			return n;
		}
		if (stop_requested())
			return -EINTR;
		if (!d.forever && !deadline_left_ns(&d))
			return -ETIMEDOUT;
		left = deadline_left_timespec(&d);
		/* Stop signals may land only while we sleep; wake() raises. */
		stop_unblock();
		r = semtimedop(st->semid, &take, 1, d.forever ? NULL : &left);
		r = r < 0 ? -errno : 0;
		stop_block();
		if (r < 0 && r != -EAGAIN && r != -EINTR)
			return r;	/* the set was removed, or an error */
	}
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
	st->shmid = st->semid = -1;
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
		shm_sysv_detach(st);
		free(st);
		t->priv = NULL;
	}
	return r;
}

static void shm_sysv_close(struct transport *t)
{
	struct shm_sysv_state *st = t->priv;
	char key[16];

	if (t->role == TRANSPORT_RECEIVER) {
		snprintf(key, sizeof(key), "key 0x%08x", (unsigned int)st->key);
		frame_ring_close(&st->ring, key, t->detail, sizeof(t->detail));
		/* Set first: a sender's next semop() says EIDRM at once. */
		semctl(st->semid, 0, IPC_RMID);
		shmctl(st->shmid, IPC_RMID, NULL);
	} else {
		/* Give the claim back; also cancels its SEM_UNDO entry. */
		(void)sem_set_change(st->semid, SEM_SENDER, 1, SEM_UNDO);
	}
	shm_sysv_detach(st);
	free(st);
}

static const struct transport_ops shm_sysv_ops = {
	.name = "shm-sysv",
	.summary = "System V shared memory ring, System V semaphore wake-up",
	.flags = TRANSPORT_LOSSLESS | TRANSPORT_DURABLE,
	.open = shm_sysv_open,
	.send = shm_sysv_send,
	.receive = shm_sysv_receive,
	.wake = shm_sysv_wake,
	.close = shm_sysv_close,
};

TRANSPORT_REGISTER(shm_sysv_ops);
