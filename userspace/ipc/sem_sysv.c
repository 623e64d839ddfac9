// SPDX-License-Identifier: MIT
/*
 * sem-sysv: a System V semaphore set (semget, semop, semtimedop).
 *
 * Pull, without payload: the sender adds 1 to a counting semaphore per
 *   event; the receiver sleeps in semtimedop() until it can take 1, and
 *   rebuilds the frame from the position of that event in the stream
 *   (lib/counted_event.h: the k-th event is a press when k is odd, and the
 *   LED state follows from the number of presses). Nothing but the count
 *   crosses: the driver's timestamp, the sender's send time, the real
 *   seqno after a drop and the dropped count are lost; event_ns and
 *   send_ns are the time the receiver took the event. The sender refuses a
 *   frame that does not decode (-EINVAL): a count cannot carry it for the
 *   receiver to reject.
 * Lossless while both run: a post never blocks; a semaphore holds at most
 *   32767 (SEMVMX), and a post beyond that fails with ERANGE, which send()
 *   returns as -EAGAIN. Nothing is dropped.
 * Ordering: events are indistinguishable, so order is the count's order.
 * Object: one set of four semaphores, key transport_sysv_key() (ftok of
 *   the runtime directory, never a literal like 1234), mode 0600 (System V
 *   ignores the umask):
 *     EVENTS    events posted and not yet taken
 *     TAKEN_LO  events taken so far, modulo 2^30, in two 15-bit digits
 *     TAKEN_HI  (a semaphore holds 0..32767)
 *     RECEIVER  1 while no receiver holds the set
 *   The receiver takes an event and counts it in one atomic semop(), so
 *   the count of events taken lives in the set itself: a receiver that
 *   adopts the set after a crash continues the sequence (seqno, press or
 *   release, LED state) exactly where the dead one stopped.
 *   Events are posted and taken without SEM_UNDO: undoing a dead sender's
 *   posts would erase its events, undoing a dead receiver's takes would
 *   replay them. Only the RECEIVER claim uses SEM_UNDO, deliberately: the
 *   kernel gives it back when its holder dies, however it dies, which is
 *   how a starting receiver tells a dead one's set from a live one's.
 * Start-up without races: the receiver creates the set with
 *   IPC_CREAT|IPC_EXCL, sets the values once (SETALL) and then takes its
 *   claim; that first semop() sets sem_otime, and a sender uses only a set
 *   whose sem_otime is non-zero (the classic test, since semget() cannot
 *   create and initialise in one step). Nobody ever calls SETVAL on a set
 *   in use. The receiver removes the set (IPC_RMID) on close. A set that
 *   is ours, 0600, of four semaphores, initialised and unclaimed is
 *   adopted; a claimed one means another receiver runs (-EBUSY); anything
 *   else under the key is removed and recreated. The sender only opens the
 *   set (-ENOENT until it is initialised). A removed or replaced set makes
 *   semop() fail with EIDRM or EINVAL: -EPIPE, and the button reopens.
 * While the receiver restarts:
 *   - killed (SIGKILL): the set stays with its count; the sender keeps
 *     posting (up to 32767 events). The next receiver adopts it and takes
 *     every event, numbered on from the dead receiver's last one.
 *   - stopped (SIGTERM, SIGINT): the set goes, with the events still
 *     counted in it (stderr says how many); the sender's next post says
 *     EIDRM and the event stays in its backlog. The new set counts from 0
 *     again, so its first event is rebuilt as a press whatever it was.
 * Stop: a stop signal is let in only around semtimedop(); wake() posts one
 *   extra EVENTS token so a receiver that entered semtimedop() just after
 *   the signal still returns. Tokens are counted, and the receiver takes
 *   them back (and gives back an event it took after the stop) before it
 *   returns -EINTR, so no stop ever becomes an event.
 */
#include "transport.h"

#include "../lib/counted_event.h"
#include "../lib/deadline.h"
#include "../lib/private_object.h"
#include "../lib/stop.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/sem.h>
#include <unistd.h>

enum { SEM_EVENTS, SEM_TAKEN_LO, SEM_TAKEN_HI, SEM_RECEIVER, SEM_COUNT };

#define SEM_DIGIT	32768u			/* SEMVMX + 1 */
#define SEM_TAKEN_MASK	(SEM_DIGIT * SEM_DIGIT - 1)	/* 2^30 - 1 */

/* glibc leaves this union to the program (semctl(2)). */
union semun {
	int val;
	struct semid_ds *buf;
	unsigned short *array;
};

struct sem_sysv {
	key_t key;
	int id;
	uint32_t taken;			/* receiver: events taken, mod 2^30 */
	volatile sig_atomic_t wake_posts;	/* tokens wake() added */
	sig_atomic_t wake_absorbed;		/* tokens taken back */
};

static bool sem_sysv_gone(int err)
{
	return err == EIDRM || err == EINVAL;
}

static int sem_sysv_op(int id, unsigned short num, short delta, short flags)
{
	struct sembuf op = { .sem_num = num, .sem_op = delta, .sem_flg = flags };

	return semop(id, &op, 1) < 0 ? -errno : 0;
}

/*
 * Take one event and count it, in one atomic operation: EVENTS - 1 and
 * the 30-bit count + 1, carrying from the low digit into the high one.
 */
static unsigned int sem_sysv_take_ops(const struct sem_sysv *s,
				      struct sembuf ops[3])
{
	ops[0] = (struct sembuf){ .sem_num = SEM_EVENTS, .sem_op = -1 };
	ops[1] = (struct sembuf){ .sem_num = SEM_TAKEN_LO, .sem_op = 1 };
	if (s->taken % SEM_DIGIT != SEM_DIGIT - 1)
		return 2;
	ops[1].sem_op = -(short)(SEM_DIGIT - 1);
	ops[2] = (struct sembuf){ .sem_num = SEM_TAKEN_HI, .sem_op = 1 };
	if (s->taken / SEM_DIGIT == SEM_DIGIT - 1)
		ops[2].sem_op = -(short)(SEM_DIGIT - 1);	/* 2^30 wraps */
	return 3;
}

/* Take back the tokens wake() posted: the stop must not count as events. */
static void sem_sysv_absorb_wakes(struct sem_sysv *s)
{
	sig_atomic_t n = s->wake_posts - s->wake_absorbed;

	if (n > 0 && sem_sysv_op(s->id, SEM_EVENTS, -(short)n, IPC_NOWAIT) == 0)
		s->wake_absorbed += n;
}

/* A stop came while we took an event: give it back, uncounted. */
static void sem_sysv_untake(struct sem_sysv *s, struct sembuf *ops,
			    unsigned int nops)
{
	for (unsigned int i = 0; i < nops; i++) {
		ops[i].sem_op = -ops[i].sem_op;
		ops[i].sem_flg = IPC_NOWAIT;
	}
	(void)semop(s->id, ops, nops);
}

static int sem_sysv_initialise(struct transport *t, struct sem_sysv *s)
{
	unsigned short values[SEM_COUNT] = { [SEM_RECEIVER] = 1 };
	union semun arg = { .array = values };
	int r;

	/* Once, before anyone can use it: senders wait for sem_otime. */
	if (semctl(s->id, 0, SETALL, arg) < 0) {
		r = -errno;
		fprintf(stderr, "%s: SETALL: %s\n", t->ops->name, strerror(-r));
		return r;
	}
	/* The claim; as the first semop() it also sets sem_otime. */
	r = sem_sysv_op(s->id, SEM_RECEIVER, -1, IPC_NOWAIT | SEM_UNDO);
	if (r < 0)
		fprintf(stderr, "%s: claim: %s\n", t->ops->name, strerror(-r));
	return r;
}

/*
 * The set under our key: 1 adopted (claimed, count read), 0 foreign or
 * stale (*ret_id set), -ENOENT gone meanwhile, -EBUSY a live receiver
 * holds it, or another error.
 */
static int sem_sysv_adopt(struct transport *t, struct sem_sysv *s,
			  int *ret_id)
{
	unsigned short values[SEM_COUNT];
	union semun arg;
	struct semid_ds ds;
	int id, r;

	id = semget(s->key, 0, 0);
	if (id < 0)
		return -errno;
	*ret_id = id;
	arg.buf = &ds;
	if (semctl(id, 0, IPC_STAT, arg) < 0) {
		if (sem_sysv_gone(errno))
			return -ENOENT;
		if (errno != EACCES)
			return -errno;
		fprintf(stderr, "%s: semaphore set key 0x%08x is someone else's\n",
			t->ops->name, (unsigned int)s->key);
		return 0;
	}
	if (!private_object_sysv(&ds.sem_perm) || ds.sem_nsems != SEM_COUNT ||
	    !ds.sem_otime) {
		fprintf(stderr, "%s: semaphore set key 0x%08x (uid %u, mode %03o, %lu semaphores%s) is not ours\n",
			t->ops->name, (unsigned int)s->key,
			(unsigned int)ds.sem_perm.uid,
			ds.sem_perm.mode & 0777, (unsigned long)ds.sem_nsems,
			ds.sem_otime ? "" : ", never initialised");
		return 0;
	}
	r = sem_sysv_op(id, SEM_RECEIVER, -1, IPC_NOWAIT | SEM_UNDO);
	if (r == -EAGAIN) {
		fprintf(stderr, "%s: another receiver holds semaphore set key 0x%08x\n",
			t->ops->name, (unsigned int)s->key);
		return -EBUSY;
	}
	if (r < 0)
		return sem_sysv_gone(-r) ? -ENOENT : r;
	arg.array = values;
	if (semctl(id, 0, GETALL, arg) < 0)
		return -errno;
	s->id = id;
	s->taken = values[SEM_TAKEN_HI] * SEM_DIGIT + values[SEM_TAKEN_LO];
	return 1;
}

static int sem_sysv_create(struct transport *t, struct sem_sysv *s)
{
	int id = -1, r = -EEXIST;

	for (int attempt = 0; attempt < 5; attempt++) {
		s->id = semget(s->key, SEM_COUNT,
			       IPC_CREAT | IPC_EXCL | PRIVATE_OBJECT_MODE);
		if (s->id >= 0)
			return sem_sysv_initialise(t, s);
		if (errno != EEXIST) {
			r = -errno;
			fprintf(stderr, "%s: semget key 0x%08x: %s\n",
				t->ops->name, (unsigned int)s->key,
				strerror(-r));
			return r;
		}
		r = sem_sysv_adopt(t, s, &id);
		if (r == 1)
			return 0;	/* left by a killed receiver */
		if (r == -EBUSY)
			return r;
		if (r == -ENOENT)
			continue;	/* removed meanwhile: create */
		if (r < 0)
			break;
		/* Foreign or stale: replace it, if we may. */
		if (semctl(id, 0, IPC_RMID) < 0 && !sem_sysv_gone(errno)) {
			r = -errno;
			break;
		}
		fprintf(stderr, "%s: removed it, creating a new one\n",
			t->ops->name);
		r = -EEXIST;
	}
	fprintf(stderr, "%s: cannot use or remove semaphore set key 0x%08x: %s (see ipcs -s; ipcrm -S 0x%08x)\n",
		t->ops->name, (unsigned int)s->key, strerror(-r),
		(unsigned int)s->key);
	return r;
}

static int sem_sysv_open_sender(struct sem_sysv *s)
{
	struct semid_ds ds;
	union semun arg = { .buf = &ds };

	s->id = semget(s->key, 0, 0);
	if (s->id < 0)
		return errno == ENOENT || errno == EACCES ? -ENOENT : -errno;
	if (semctl(s->id, 0, IPC_STAT, arg) < 0)
		return sem_sysv_gone(errno) || errno == EACCES ? -ENOENT : -errno;
	/* Not ours, or not initialised yet: no receiver of ours (yet). */
	if (!private_object_sysv(&ds.sem_perm) || ds.sem_nsems != SEM_COUNT ||
	    !ds.sem_otime)
		return -ENOENT;
	return 0;
}

static void sem_sysv_close(struct transport *t);

static int sem_sysv_open(struct transport *t)
{
	struct sem_sysv *s;
	int r;

	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->id = -1;
	t->priv = s;
	r = transport_sysv_key(t, &s->key);
	if (r < 0) {
		fprintf(stderr, "%s: ftok %s: %s\n", t->ops->name,
			t->config->runtime_dir, strerror(-r));
		goto fail;
	}
	r = t->role == TRANSPORT_SENDER ? sem_sysv_open_sender(s) :
					  sem_sysv_create(t, s);
	if (r < 0)
		goto fail;
	return 0;
fail:
	/* A set we created but could not initialise goes too. */
	sem_sysv_close(t);
	return r;
}

static int sem_sysv_send(struct transport *t, const uint8_t *frame,
			 size_t len)
{
	struct sem_sysv *s = t->priv;
	int r;

	r = counted_event_check(frame, len);
	if (r < 0)
		return r;
	r = sem_sysv_op(s->id, SEM_EVENTS, 1, IPC_NOWAIT);
	if (r == -ERANGE)
		return -EAGAIN;		/* 32767 events waiting */
	if (r < 0 && sem_sysv_gone(-r))
		return -EPIPE;		/* removed or replaced */
	return r;
}

static ssize_t sem_sysv_receive(struct transport *t, uint8_t *buf,
				size_t size, int timeout_ms)
{
	struct sem_sysv *s = t->priv;
	struct timespec left;
	struct sembuf ops[3];
	struct deadline d;
	unsigned int nops;
	int r, err;

	if (size < IPC_MESSAGE_SIZE)
		return -EMSGSIZE;
	deadline_start(&d, timeout_ms);
	for (;;) {
		if (stop_requested()) {
			sem_sysv_absorb_wakes(s);
			return -EINTR;
		}
		nops = sem_sysv_take_ops(s, ops);
		left = deadline_left_timespec(&d);

		/* Stop signals may land only while we sleep; wake() posts. */
		stop_unblock();
		if (stop_requested()) {
			r = -1;
			err = EINTR;
		} else {
			r = semtimedop(s->id, ops, nops, d.forever ? NULL : &left);
			err = errno;
		}
		stop_block();

		if (r == 0) {
			if (stop_requested()) {
				sem_sysv_untake(s, ops, nops);
				continue;
			}
			s->taken = (s->taken + 1) & SEM_TAKEN_MASK;
			counted_event_frame(s->taken, transport_now_ns(), buf);
			return IPC_MESSAGE_SIZE;
		}
		if (err == EINTR)
			continue;	/* the loop looks at the stop flag */
		if (err == EAGAIN)
			return -ETIMEDOUT;
		if (sem_sysv_gone(err))
			fprintf(stderr, "%s: semaphore set key 0x%08x removed under the receiver\n",
				t->ops->name, (unsigned int)s->key);
		return -err;
	}
}

static void sem_sysv_wake(struct transport *t)
{
	struct sem_sysv *s = t->priv;

	/* Async-signal-safe: one semop(), one counter only the handler raises. */
	if (t->role != TRANSPORT_RECEIVER || !s || s->id < 0)
		return;
	s->wake_posts++;
	(void)sem_sysv_op(s->id, SEM_EVENTS, 1, IPC_NOWAIT);
}

static void sem_sysv_close(struct transport *t)
{
	struct sem_sysv *s = t->priv;
	int pending;

	if (!s)
		return;
	if (t->role == TRANSPORT_RECEIVER && s->id >= 0) {
		pending = semctl(s->id, SEM_EVENTS, GETVAL);
		pending -= s->wake_posts - s->wake_absorbed;
		if (pending > 0)
			fprintf(stderr, "%s: %d untaken events discarded with semaphore set key 0x%08x\n",
				t->ops->name, pending, (unsigned int)s->key);
		/* A sender's next semop() says EIDRM at once. */
		if (semctl(s->id, 0, IPC_RMID) < 0 && !sem_sysv_gone(errno))
			fprintf(stderr, "%s: cannot remove semaphore set key 0x%08x: %s\n",
				t->ops->name, (unsigned int)s->key,
				strerror(errno));
	}
	free(s);
	t->priv = NULL;
}

static const struct transport_ops sem_sysv_ops = {
	.name = "sem-sysv",
	.summary = "System V semaphore set, one post per event, count kept in the set",
	.flags = TRANSPORT_LOSSLESS | TRANSPORT_NO_PAYLOAD,
	.open = sem_sysv_open,
	.send = sem_sysv_send,
	.receive = sem_sysv_receive,
	.wake = sem_sysv_wake,
	.close = sem_sysv_close,
};

TRANSPORT_REGISTER(sem_sysv_ops);
