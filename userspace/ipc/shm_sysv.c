// SPDX-License-Identifier: MIT
/*
 * shm-sysv: a System V shared memory segment holding a frame ring
 * (lib/frame_ring.h), and a System V semaphore set beside it whose first
 * semaphore counts the frames, so the receiver sleeps in semtimedop()
 * until one arrives.
 *
 * Pull: the sender copies the frame into the next slot and raises the
 *   count; the receiver wakes and copies it out of the segment.
 * Lossless while both run: a full ring (1024 frames) makes send() return
 *   -EAGAIN and the button keeps the frame; nothing is overwritten.
 * Ordering: FIFO; one sender at a time.
 * Objects: one segment and one set of three semaphores, both under the key
 *   transport_sysv_open_receiver() hands out in the runtime directory (never a fixed
 *   number), mode 0600 (SysV modes ignore the umask), created by the
 *   receiver, removed (IPC_RMID) by the receiver on close. The set:
 *     FRAMES    frames published (a wake-up count; the ring is the truth)
 *     SENDER    1 while no sender holds it
 *     RECEIVER  1 while no receiver holds it
 *   The two claims are taken with SEM_UNDO on purpose: the kernel gives
 *   them back when their holder dies, however it dies, which is how the
 *   next receiver knows the segment it finds has no live owner.
 * Start-up without races: the receiver creates and fills the segment
 *   first, then creates the set (IPC_EXCL), sets its values once (SETALL)
 *   and takes its claim. That first semop() sets sem_otime, and a sender
 *   uses the set only once sem_otime is non-zero: the classic test for "a
 *   SysV semaphore set is initialised", since semget() cannot create and
 *   initialise in one step.
 * Receiver restart:
 *   - SIGTERM/SIGINT: the receiver marks the ring closed and removes both
 *     objects. The sender's next send() gets -EPIPE (the closed flag, or
 *     EIDRM from the removed set), keeps its backlog, reopens once the
 *     new receiver has made new ones, and delivers the backlog. Frames
 *     still unread at that moment are discarded, and the receiver says
 *     how many on stderr (normally none).
 *   - SIGKILL: both objects stay. The sender keeps filling the ring, then
 *     keeps a backlog. The next receiver adopts them (same owner, mode,
 *     version and geometry, RECEIVER claim free) and gets every queued
 *     frame; only a frame the killed receiver had already taken out is
 *     lost. Objects it cannot use are removed and replaced; a sender on
 *     them gets EIDRM, so -EPIPE, and reopens.
 */
#include "transport.h"

#include "../lib/deadline.h"
#include "../lib/frame_ring.h"
#include "../lib/private_object.h"
#include "../lib/semun.h"
#include "../lib/stop.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/sem.h>
#include <sys/shm.h>
#include <time.h>
#include <unistd.h>

enum { SEM_FRAMES, SEM_SENDER, SEM_RECEIVER, SEM_COUNT };

struct shm_sysv {
	int key;
	int shmid;
	int semid;
	void *mem;
	size_t size;
	struct frame_ring ring;
	bool ready;		/* ring attached */
	bool claimed;		/* our claim semaphore is taken */
};

static int sem_change(int semid, unsigned short num, short delta, short flags)
{
	struct sembuf op = {
		.sem_num = num, .sem_op = delta, .sem_flg = flags,
	};

	return semop(semid, &op, 1) < 0 ? -errno : 0;
}

static int take_claim(struct shm_sysv *s, unsigned short num)
{
	int r = sem_change(s->semid, num, -1, IPC_NOWAIT | SEM_UNDO);

	if (r == -EAGAIN)
		return -EBUSY;	/* its holder is alive */
	if (!r)
		s->claimed = true;
	return r;
}

static void shm_sysv_detach(struct shm_sysv *s)
{
	if (s->mem)
		shmdt(s->mem);
	s->mem = NULL;
	s->ready = false;
}

static int shm_sysv_attach(struct shm_sysv *s, bool producer)
{
	struct shmid_ds ds;
	void *mem;
	int r;

	if (shmctl(s->shmid, IPC_STAT, &ds) < 0)
		return -errno;
	if (!private_object_sysv(&ds.shm_perm))
		return -EPERM;
	if (ds.shm_perm.mode & SHM_DEST)
		return -EIDRM;	/* removed, waiting for its last detach */
	mem = shmat(s->shmid, NULL, 0);
	if (mem == (void *)-1)
		return -errno;
	s->mem = mem;
	s->size = ds.shm_segsz;
	r = frame_ring_attach(&s->ring, mem, s->size, FRAME_RING_SHM_SYSV,
			      geteuid(), producer);
	if (!r && frame_ring_closed(&s->ring))
		r = -EPROTO;
	if (!r)
		s->ready = true;
	return r;
}

/* Remove whatever sits under our key, set first so senders see EIDRM. */
static int shm_sysv_remove_all(struct transport *t, struct shm_sysv *s)
{
	int semid = semget(s->key, 0, 0), shmid = shmget(s->key, 0, 0);
	int r;

	if (semid >= 0 && semctl(semid, 0, IPC_RMID) < 0 && errno != EIDRM &&
	    errno != EINVAL)
		goto fail;
	if (shmid >= 0) {
		void *mem = shmat(shmid, NULL, 0);

		if (mem != (void *)-1) {
			struct shmid_ds ds;

			if (!shmctl(shmid, IPC_STAT, &ds))
				frame_ring_abandon(mem, ds.shm_segsz);
			shmdt(mem);
		}
		if (shmctl(shmid, IPC_RMID, NULL) < 0 && errno != EIDRM &&
		    errno != EINVAL)
			goto fail;
	}
	return 0;
fail:
	r = -errno;
	fprintf(stderr, "%s: key 0x%08x is taken by objects we cannot remove (ipcs -a; ipcrm): %s\n",
		t->ops->name, (unsigned int)s->key, strerror(-r));
	return r;
}

/*
 * Receiver: adopt the objects under our key. 0: adopted; 1: nothing
 * usable there (what was there is removed); -EBUSY: a live receiver.
 */
static int shm_sysv_adopt(struct transport *t, struct shm_sysv *s)
{
	struct semid_ds ds;
	union semun arg = { .buf = &ds };
	int r;

	s->semid = semget(s->key, 0, 0);
	if (s->semid < 0 && errno != ENOENT)
		return -errno;
	if (s->semid >= 0) {
		if (semctl(s->semid, 0, IPC_STAT, arg) < 0)
			return -errno;
		if (private_object_sysv(&ds.sem_perm) &&
		    ds.sem_nsems == SEM_COUNT && ds.sem_otime) {
			r = take_claim(s, SEM_RECEIVER);
			if (r < 0)
				return r;
			s->shmid = shmget(s->key, 0, 0);
			if (s->shmid >= 0 && !shm_sysv_attach(s, false))
				return 0;
			shm_sysv_detach(s);
		}
	}
	/* Stale, half made or foreign: clear the key. */
	s->claimed = false;
	r = shm_sysv_remove_all(t, s);
	return r < 0 ? r : 1;
}

static int shm_sysv_create(struct shm_sysv *s)
{
	unsigned short values[SEM_COUNT] = {
		[SEM_FRAMES] = 0, [SEM_SENDER] = 1, [SEM_RECEIVER] = 1,
	};
	union semun arg = { .array = values };
	size_t size = frame_ring_bytes(FRAME_RING_SLOTS);
	int r;

	/* 1. The segment, filled in before anyone can find the set. */
	s->shmid = shmget(s->key, size, IPC_CREAT | IPC_EXCL | 0600);
	if (s->shmid < 0)
		return -errno;
	s->mem = shmat(s->shmid, NULL, 0);
	if (s->mem == (void *)-1) {
		r = -errno;
		s->mem = NULL;
		goto fail_shm;
	}
	s->size = size;
	frame_ring_format(s->mem, size, FRAME_RING_SLOTS, FRAME_RING_SHM_SYSV,
			  geteuid());
	r = frame_ring_attach(&s->ring, s->mem, size, FRAME_RING_SHM_SYSV,
			      geteuid(), false);
	if (r < 0)
		goto fail_shm;
	s->ready = true;

	/* 2. The set: created, given its values once, then claimed. */
	s->semid = semget(s->key, SEM_COUNT, IPC_CREAT | IPC_EXCL | 0600);
	if (s->semid < 0) {
		r = -errno;
		goto fail_shm;
	}
	if (semctl(s->semid, 0, SETALL, arg) < 0) {
		r = -errno;
		goto fail_sem;
	}
	r = take_claim(s, SEM_RECEIVER);	/* sets sem_otime: ready */
	if (r < 0)
		goto fail_sem;
	return 0;

fail_sem:
	semctl(s->semid, 0, IPC_RMID);
	s->semid = -1;
fail_shm:
	shm_sysv_detach(s);
	shmctl(s->shmid, IPC_RMID, NULL);
	s->shmid = -1;
	return r;
}

static int shm_sysv_open_receiver(struct transport *t, struct shm_sysv *s)
{
	int r;

	for (int attempt = 0; attempt < 3; attempt++) {
		r = shm_sysv_adopt(t, s);
		if (r <= 0)
			return r;
		r = shm_sysv_create(s);
		if (r != -EEXIST)
			return r;
	}
	return -EBUSY;
}

static int shm_sysv_open_sender(struct shm_sysv *s)
{
	struct semid_ds ds;
	union semun arg = { .buf = &ds };
	int r;

	s->semid = semget(s->key, 0, 0);
	if (s->semid < 0)
		return errno == ENOENT ? -ENOENT : -errno;
	if (semctl(s->semid, 0, IPC_STAT, arg) < 0)
		return errno == EIDRM || errno == EINVAL ? -ENOENT : -errno;
	/* Not ours, or not initialised yet: the receiver will see to it. */
	if (!private_object_sysv(&ds.sem_perm) || ds.sem_nsems != SEM_COUNT ||
	    !ds.sem_otime)
		return -ENOENT;
	s->shmid = shmget(s->key, 0, 0);
	if (s->shmid < 0)
		return errno == ENOENT ? -ENOENT : -errno;
	r = shm_sysv_attach(s, true);
	if (r == -EPERM || r == -EIDRM || r == -ENODATA || r == -EPROTO ||
	    r == -EINVAL)
		return -ENOENT;
	if (r < 0)
		return r;
	return take_claim(s, SEM_SENDER);
}

static void shm_sysv_close(struct transport *t);

static int shm_sysv_open_at(struct transport *t, int key)
{
	struct shm_sysv *s = t->priv;

	shm_sysv_detach(s);
	s->key = key;
	s->shmid = s->semid = -1;
	s->claimed = false;
	return shm_sysv_open_receiver(t, s);
}

static int shm_sysv_open(struct transport *t)
{
	struct shm_sysv *s = calloc(1, sizeof(*s));
	int r;

	if (!s)
		return -ENOMEM;
	s->shmid = s->semid = -1;
	t->priv = s;
	if (t->role == TRANSPORT_SENDER) {
		r = transport_sysv_key(t, &s->key);
		if (!r)
			r = shm_sysv_open_sender(s);
	} else {
		r = transport_sysv_open_receiver(t, shm_sysv_open_at);
	}
	if (r < 0) {
		shm_sysv_detach(s);
		free(s);
		t->priv = NULL;
	}
	return r;
}

/* The objects were removed (EIDRM) or their id is dead (EINVAL). */
static bool removed(int err)
{
	return err == -EIDRM || err == -EINVAL;
}

static int shm_sysv_send(struct transport *t, const uint8_t *frame,
			 size_t len)
{
	struct shm_sysv *s = t->priv;
	struct shmid_ds ds;
	uint32_t index;
	int r;

	r = frame_ring_push(&s->ring, frame, len, &index);
	if (r == -EAGAIN) {
		/* Full: still read by someone, or removed under us? */
		if (semctl(s->semid, SEM_FRAMES, GETVAL) < 0 ||
		    shmctl(s->shmid, IPC_STAT, &ds) < 0 ||
		    (ds.shm_perm.mode & SHM_DEST))
			return -EPIPE;
		return -EAGAIN;
	}
	if (r == -EPROTO)
		return -EPIPE;
	if (r < 0)
		return r;
	r = sem_change(s->semid, SEM_FRAMES, 1, 0);
	if (r < 0 && !removed(r))
		return r;
	if (frame_ring_confirm(&s->ring, index) < 0)
		return -EPIPE;		/* the receiver left it unread */
	if (r < 0 && !frame_ring_closed(&s->ring))
		return -EPIPE;	/* removed by someone else: unread */
	/* Delivered (perhaps just before the receiver left). */
	return 0;
}

static ssize_t shm_sysv_receive(struct transport *t, uint8_t *buf,
				size_t size, int timeout_ms)
{
	struct shm_sysv *s = t->priv;
	struct sembuf take = { .sem_num = SEM_FRAMES, .sem_op = -1 };
	struct deadline deadline;
	struct timespec left;
	ssize_t n;
	int r, err;

	/* One deadline for the whole call, however often we wake. */
	deadline_start(&deadline, timeout_ms);
	for (;;) {
		n = frame_ring_pop(&s->ring, buf, size);
		if (n >= 0) {
			/* This frame's count, if it was raised yet. */
			(void)sem_change(s->semid, SEM_FRAMES, -1, IPC_NOWAIT);
			return n;
		}
		if (n == -EBADMSG) {
			t->rejected++;
			continue;
		}
		if (stop_requested())
			return -EINTR;
		if (!deadline.forever) {
			if (!deadline_left_ns(&deadline))
				return -ETIMEDOUT;
			left = deadline_left_timespec(&deadline);
		}

		/* Stop signals may land only while we sleep; wake() raises. */
		stop_unblock();
		r = semtimedop(s->semid, &take, 1,
			       deadline.forever ? NULL : &left);
		err = errno;
		stop_block();
		if (!r || err == EAGAIN || err == EINTR)
			continue;	/* the loop looks again */
		if (err == EIDRM || err == EINVAL)
			fprintf(stderr, "%s: semaphore set removed under the receiver\n",
				t->ops->name);
		return -err;
	}
}

static void shm_sysv_wake(struct transport *t)
{
	struct shm_sysv *s = t->priv;

	/* One more count: a receiver in semtimedop returns, sees the stop. */
	if (s && s->semid >= 0)
		(void)sem_change(s->semid, SEM_FRAMES, 1, IPC_NOWAIT);
}

static void shm_sysv_close(struct transport *t)
{
	struct shm_sysv *s = t->priv;

	if (!s)
		return;
	if (t->role == TRANSPORT_RECEIVER) {
		if (s->ready) {
			uint32_t unread;

			frame_ring_close(&s->ring);
			unread = frame_ring_pending(&s->ring);
			if (unread)
				fprintf(stderr, "%s: %u unread frames discarded with key 0x%08x\n",
					t->ops->name, unread, (unsigned int)s->key);
		}
		/* Set first: a sender's next semop says EIDRM at once. */
		if (s->semid >= 0)
			semctl(s->semid, 0, IPC_RMID);
		if (s->shmid >= 0)
			shmctl(s->shmid, IPC_RMID, NULL);
	} else if (s->claimed) {
		/* Give the claim back; also cancels its SEM_UNDO entry. */
		(void)sem_change(s->semid, SEM_SENDER, 1, SEM_UNDO);
	}
	shm_sysv_detach(s);
	free(s);
	t->priv = NULL;
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
