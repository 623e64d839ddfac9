// SPDX-License-Identifier: MIT
/*
 * shm-sysv: a frame ring (lib/frame_ring.h) in a System V shared memory
 * segment, and a System V semaphore set beside it whose first semaphore
 * counts the frames, so the receiver sleeps in semtimedop().
 *
 * Both objects live under the key transport_sysv_open_receiver() hands
 * out (never a fixed number), mode 0600. The set:
 *   FRAMES    frames published (a wake-up count; the ring is the truth)
 *   SENDER    1 while no sender holds it
 *   RECEIVER  1 while no receiver holds it
 * The claims are taken with SEM_UNDO on purpose: the kernel gives them
 * back when their holder dies, so the next receiver knows the objects it
 * finds have no live owner, adopts them and gets the frames queued there.
 *
 * Start-up without races: the receiver makes and fills the segment first,
 * then creates the set, sets its values once (SETALL) and takes its claim,
 * whose semop() sets sem_otime; a sender uses only a set whose sem_otime
 * is set (lib/sem_set.h). On close the receiver marks the ring closed and
 * removes the set first, so a sender's next semop() fails (-EPIPE) and it
 * reopens once the next receiver is there.
 */
#include "transport.h"

#include "../lib/deadline.h"
#include "../lib/frame_ring.h"
#include "../lib/private_object.h"
#include "../lib/sem_set.h"
#include "../lib/stop.h"

#include <errno.h>
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

/*
 * Attach segment st->shmid and its ring. -EPERM: not ours alone; -EIDRM:
 * removed; -ENODATA, -EPROTO: not a ring to use (frame_ring_attach()).
 */
static int shm_sysv_attach(struct shm_sysv_state *st, bool producer)
{
	struct shmid_ds ds;

	if (shmctl(st->shmid, IPC_STAT, &ds) < 0)
		return -errno;
	if (!private_object_sysv(&ds.shm_perm))
		return -EPERM;
	if (ds.shm_perm.mode & SHM_DEST)
		return -EIDRM;	/* removed, waiting for its last detach */
	st->mem = shmat(st->shmid, NULL, 0);
	if (st->mem == (void *)-1) {
		st->mem = NULL;
		return -errno;
	}
	st->size = ds.shm_segsz;
	return frame_ring_attach(&st->ring, st->mem, st->size,
				 FRAME_RING_SHM_SYSV, geteuid(), producer);
}

static void shm_sysv_detach(struct shm_sysv_state *st)
{
	if (st->mem)
		shmdt(st->mem);
	st->mem = NULL;
}

/* --- sender ------------------------------------------------------------ */

static int shm_sysv_open_sender(struct shm_sysv_state *st)
{
	int r;

	st->semid = semget(st->key, 0, 0);
	if (st->semid < 0)
		return -errno;
	/* Not ours, or not initialised yet: the receiver will see to it. */
	r = sem_set_check(st->semid, SEM_COUNT);
	if (r == -ESTALE)
		return -ENOENT;
	if (r < 0)
		return r;
	st->shmid = shmget(st->key, 0, 0);
	if (st->shmid < 0)
		return -errno;
	r = shm_sysv_attach(st, true);
	if (r == -EPERM || r == -EIDRM || r == -ENODATA || r == -EPROTO ||
	    r == -EINVAL)
		return -ENOENT;
	if (r < 0)
		return r;
	return sem_set_claim(st->semid, SEM_SENDER);
}

static int shm_sysv_send(struct transport *t, const uint8_t *frame,
			 size_t len)
{
	struct shm_sysv_state *st = t->priv;
	struct shmid_ds ds;
	uint32_t index;
	int r;

	r = frame_ring_push(&st->ring, frame, len, &index);
	if (r == -EAGAIN) {
		/* Full: still read by someone, or removed under us? */
		if (semctl(st->semid, SEM_FRAMES, GETVAL) < 0 ||
		    shmctl(st->shmid, IPC_STAT, &ds) < 0 ||
		    (ds.shm_perm.mode & SHM_DEST))
			return -EPIPE;
		return -EAGAIN;
	}
	if (r < 0)
		return r;
	r = sem_set_change(st->semid, SEM_FRAMES, 1, 0);
	if (r < 0 && !sem_set_removed(r))
		return r;
	if (frame_ring_confirm(&st->ring, index) < 0)
		return -EPIPE;	/* the receiver left it unread */
	if (r < 0 && !frame_ring_closed(&st->ring))
		return -EPIPE;	/* removed by someone else: unread */
	return 0;		/* delivered, perhaps just before it left */
}

/* --- receiver ---------------------------------------------------------- */

/* Remove whatever sits under our key, set first so senders see EIDRM. */
static int shm_sysv_remove_all(struct shm_sysv_state *st)
{
	int semid = semget(st->key, 0, 0), shmid = shmget(st->key, 0, 0);
	struct shmid_ds ds;
	void *mem;

	if (semid >= 0 && semctl(semid, 0, IPC_RMID) < 0 &&
	    !sem_set_removed(-errno))
		return -errno;
	if (shmid < 0)
		return 0;
	/* A sender still on a stale ring is told to reopen. */
	mem = shmat(shmid, NULL, 0);
	if (mem != (void *)-1) {
		if (!shmctl(shmid, IPC_STAT, &ds))
			frame_ring_abandon(mem, ds.shm_segsz);
		shmdt(mem);
	}
	if (shmctl(shmid, IPC_RMID, NULL) < 0 && !sem_set_removed(-errno))
		return -errno;
	return 0;
}

/*
 * Adopt the objects under our key: 0 adopted (their queued frames will be
 * delivered), 1 nothing usable was there (and is removed now), -EBUSY a
 * live receiver holds them, or another negative errno.
 */
static int shm_sysv_adopt(struct shm_sysv_state *st)
{
	int r;

	st->semid = semget(st->key, 0, 0);
	if (st->semid < 0 && errno != ENOENT)
		return -errno;
	if (st->semid >= 0 && sem_set_check(st->semid, SEM_COUNT) == 0) {
		r = sem_set_claim(st->semid, SEM_RECEIVER);
		if (r < 0)
			return r;
		st->shmid = shmget(st->key, 0, 0);
		if (st->shmid >= 0 && !shm_sysv_attach(st, false))
			return 0;
		shm_sysv_detach(st);
	}
	/* Stale, half made or foreign: clear the key. */
	r = shm_sysv_remove_all(st);
	return r < 0 ? r : 1;
}

static int shm_sysv_create(struct shm_sysv_state *st)
{
	unsigned short values[SEM_COUNT] = {
		[SEM_FRAMES] = 0, [SEM_SENDER] = 1, [SEM_RECEIVER] = 1,
	};
	union semun arg = { .array = values };
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

	/* 2. The set: created, given its values once, then claimed. */
	st->semid = semget(st->key, SEM_COUNT, IPC_CREAT | IPC_EXCL | 0600);
	if (st->semid < 0) {
		r = -errno;
		goto err_remove_segment;
	}
	r = semctl(st->semid, 0, SETALL, arg) < 0 ? -errno : 0;
	if (!r)
		r = sem_set_claim(st->semid, SEM_RECEIVER); /* sets sem_otime */
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

/* transport_sysv_open_receiver() calls this with each key it tries. */
static int shm_sysv_open_receiver(struct transport *t, int key)
{
	struct shm_sysv_state *st = t->priv;
	int r;

	shm_sysv_detach(st);
	st->key = key;
	/* Create, or adopt what a killed receiver left; replace the rest. */
	for (int attempt = 0; attempt < 3; attempt++) {
		st->shmid = st->semid = -1;
		r = shm_sysv_adopt(st);
		if (r <= 0)
			return r;
		r = shm_sysv_create(st);
		if (r != -EEXIST)
			return r;
	}
	return -EBUSY;
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
			r = shm_sysv_open_sender(st);
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

	if (t->role == TRANSPORT_RECEIVER) {
		frame_ring_close(&st->ring);
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
