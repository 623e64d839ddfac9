// SPDX-License-Identifier: MIT
/*
 * sem-sysv: a System V semaphore set (semget, semop, semtimedop).
 *
 * Pull, without payload: the sender adds 1 to a counting semaphore per
 *   event; the receiver sleeps in semtimedop() until it can take 1, and
 *   rebuilds the frame from the number k of that event in the stream
 *   (lib/counted_event.h: the k-th event is a press when k is odd, and the
 *   LED state follows from the number of presses). Nothing but counts
 *   crosses: the driver's timestamp, the sender's send time and the dropped
 *   count are lost; event_ns and send_ns are the time the receiver took the
 *   event. The sender refuses a frame that does not decode (-EINVAL): a
 *   count cannot carry it for the receiver to reject.
 * Lossless while both run: a post never blocks; a semaphore holds at most
 *   32767 (SEMVMX), and a post beyond that fails with ERANGE, which send()
 *   returns as -EAGAIN. Nothing is dropped.
 * Ordering: events are indistinguishable, so order is the count's order.
 * Object: one set of six semaphores, key handed out by transport_sysv_open_receiver() (ftok of
 *   the runtime directory, never a literal like 1234), mode 0600 (System V
 *   ignores the umask):
 *     EVENTS     events posted and not yet taken
 *     POSTED_LO  the sender's count of events posted, modulo 2^30, in two
 *     POSTED_HI  15-bit digits (a semaphore holds 0..32767)
 *     RECEIVER   1 while no receiver holds the set
 *     BUSY       1 while the receiver reads the count of the event it took
 *     PHASE      0..3: event k is a press or release, LED on or off, as
 *                the (k + PHASE)-th event of counted_event.h would be
 * How the receiver knows k: the sender raises EVENTS and POSTED in one
 *   atomic semop(), so POSTED - EVENTS is always the number of events
 *   taken; the receiver takes one, reads all values in one GETALL, and k
 *   is that difference. The count lives in the set, on the sender's side:
 *   a receiver that adopts the set after a crash continues the sequence
 *   exactly where the dead one stopped.
 * Keeping k in step with the button: the frame the sender is given says
 *   which event it is (seqno, press or release, LED state). When k would
 *   not match it (a new button numbering from 1, a new set counting from
 *   0, events dropped before the sender) and nothing is pending, the
 *   sender moves POSTED so that this event's k is its seqno, and PHASE so
 *   that (k + PHASE) modulo 4 gives its press/release and LED state (a new
 *   button starts with the LED off whatever its first seqno). The number
 *   and the state are kept apart on purpose: folding the state into k
 *   would move k up to 3 past the seqno at one button restart and back at
 *   the next, and the LED would count events lost that were not, or apply
 *   a number twice. Both move in one semop() with "EVENTS is 0 and BUSY is
 *   0", so no event waiting or being numbered changes its k or phase; when
 *   events are pending it posts without moving, and catches up once they
 *   are taken. So the LED follows the button across restarts of either,
 *   and after drops; k jumping forward sets the dropped flag and count.
 * SEM_UNDO: events are posted and taken without it: undoing a dead
 *   sender's posts would erase its events, undoing a dead receiver's
 *   takes would replay them. RECEIVER and BUSY use it on purpose: the
 *   kernel gives them back when their holder dies, however it dies, which
 *   is how a starting receiver tells a dead one's set from a live one's,
 *   and why a receiver killed while reading the count never blocks the
 *   sender's re-alignment.
 * Start-up without races: the receiver creates the set with
 *   IPC_CREAT|IPC_EXCL, sets the values once (SETALL) and then takes its
 *   claim; that first semop() sets sem_otime, and a sender uses only a set
 *   whose sem_otime is non-zero (the classic test, since semget() cannot
 *   create and initialise in one step). Nobody ever calls SETVAL on a set
 *   in use. The receiver removes the set (IPC_RMID) on close. A set that
 *   is ours, 0600, of six semaphores, initialised and unclaimed is
 *   adopted; a claimed one means another receiver runs (-EBUSY); anything
 *   else under the key is removed and recreated. The sender only opens the
 *   set (-ENOENT until it is initialised). A removed or replaced set makes
 *   semop() fail with EIDRM or EINVAL: -EPIPE, and the button reopens.
 *   One sender at a time: POSTED has one writer.
 * While the receiver restarts:
 *   - killed (SIGKILL): the set stays with its counts; the sender keeps
 *     posting (up to 32767 events). The next receiver adopts it and takes
 *     every event, numbered on from the dead receiver's last one.
 *   - stopped (SIGTERM, SIGINT): the set goes, with the events still
 *     counted in it (stderr says how many); the sender's next post says
 *     EIDRM and the event stays in its backlog for the next set, where the
 *     sender re-aligns the count on its first post.
 * Stop: a stop signal is let in only around semtimedop(); wake() posts one
 *   extra EVENTS token so a receiver that entered semtimedop() just after
 *   the signal still returns. Tokens are counted, and the receiver takes
 *   them back (and gives back an event it took after the stop) before it
 *   returns -EINTR, so no stop ever becomes an event.
 */
#include "transport.h"

#include "../lib/counted_event.h"
#include "../lib/deadline.h"
#include "../lib/message.h"
#include "../lib/private_object.h"
#include "../lib/semun.h"
#include "../lib/stop.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/sem.h>
#include <unistd.h>

enum {
	SEM_EVENTS,
	SEM_POSTED_LO,
	SEM_POSTED_HI,
	SEM_RECEIVER,
	SEM_BUSY,
	SEM_PHASE,
	SEM_COUNT
};

#define SEM_DIGIT	32768u			/* SEMVMX + 1 */
#define SEM_COUNT_MASK	(SEM_DIGIT * SEM_DIGIT - 1)	/* 2^30 - 1 */

struct sem_sysv {
	key_t key;
	int id;
	/* Sender: POSTED and PHASE as we last left them (only writer). */
	uint32_t posted;
	unsigned short phase;
	/* Receiver. */
	bool have_last;
	uint32_t last_k;
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

static int sem_sysv_values(int id, unsigned short values[SEM_COUNT])
{
	union semun arg = { .array = values };

	return semctl(id, 0, GETALL, arg) < 0 ? -errno : 0;
}

static uint32_t sem_sysv_posted(const unsigned short values[SEM_COUNT])
{
	return values[SEM_POSTED_HI] * SEM_DIGIT + values[SEM_POSTED_LO];
}

/* --- sender ------------------------------------------------------------ */

/*
 * The ops that move POSTED from @from to @to (mod 2^30), digit by digit,
 * after @n ops already in @ops; returns the new number of ops.
 */
static unsigned int sem_sysv_move_posted(struct sembuf *ops, unsigned int n,
					 uint32_t from, uint32_t to)
{
	int lo = (int)(to % SEM_DIGIT) - (int)(from % SEM_DIGIT);
	int hi = (int)(to / SEM_DIGIT) - (int)(from / SEM_DIGIT);

	if (lo)
		ops[n++] = (struct sembuf){ SEM_POSTED_LO, (short)lo, IPC_NOWAIT };
	if (hi)
		ops[n++] = (struct sembuf){ SEM_POSTED_HI, (short)hi, IPC_NOWAIT };
	return n;
}

/* The PHASE that makes event @m->seqno the frame's press/release and state. */
static unsigned short sem_sysv_phase(const struct ipc_message *m)
{
	/* k mod 4: 1 press on, 2 release on, 3 press off, 0 release off. */
	uint32_t want = m->type == IPC_EVENT_PRESS ? (m->led_state ? 1 : 3) :
						     (m->led_state ? 2 : 0);

	return (want - m->seqno) & 3;
}

/*
 * Move POSTED so the next post is event @seqno, and PHASE to @phase, if
 * nothing is pending.
 */
static void sem_sysv_realign(struct sem_sysv *s, uint32_t seqno,
			     unsigned short phase)
{
	uint32_t to = (seqno - 1) & SEM_COUNT_MASK;
	struct sembuf ops[5] = {
		{ SEM_EVENTS, 0, IPC_NOWAIT },	/* nothing waiting */
		{ SEM_BUSY, 0, IPC_NOWAIT },	/* nothing being numbered */
	};
	unsigned int n = sem_sysv_move_posted(ops, 2, s->posted, to);

	if (phase != s->phase)
		ops[n++] = (struct sembuf){ SEM_PHASE,
					    (short)(phase - s->phase),
					    IPC_NOWAIT };
	/* EAGAIN: events pending; they keep their numbers, we catch up later. */
	if (semop(s->id, ops, n) == 0) {
		s->posted = to;
		s->phase = phase;
	}
}

static int sem_sysv_post(struct sem_sysv *s)
{
	uint32_t next = (s->posted + 1) & SEM_COUNT_MASK;
	struct sembuf ops[3] = { { SEM_EVENTS, 1, IPC_NOWAIT } };
	unsigned int n = sem_sysv_move_posted(ops, 1, s->posted, next);

	if (semop(s->id, ops, n) < 0)
		return -errno;
	s->posted = next;
	return 0;
}

static int sem_sysv_send(struct transport *t, const uint8_t *frame,
			 size_t len)
{
	struct sem_sysv *s = t->priv;
	unsigned short values[SEM_COUNT];
	struct ipc_message m;
	unsigned short phase;
	uint32_t seqno;
	int r;

	/* A count cannot carry a malformed frame for the receiver to reject. */
	if (ipc_message_decode(frame, len, &m) != IPC_MESSAGE_OK)
		return -EINVAL;
	seqno = m.seqno & SEM_COUNT_MASK;
	phase = sem_sysv_phase(&m);
	if (seqno != ((s->posted + 1) & SEM_COUNT_MASK) || phase != s->phase)
		sem_sysv_realign(s, seqno, phase);
	r = sem_sysv_post(s);
	if (r == -ERANGE || r == -EAGAIN) {
		/*
		 * A value would leave 0..32767: EVENTS full, or our copy of
		 * POSTED out of date (a digit would overflow or go negative;
		 * another sender was here). Look, and try once more.
		 */
		r = sem_sysv_values(s->id, values);
		if (r == 0 && values[SEM_EVENTS] == SEM_DIGIT - 1)
			return -EAGAIN;		/* 32767 events waiting */
		if (r == 0) {
			s->posted = sem_sysv_posted(values);
			s->phase = values[SEM_PHASE];
			r = sem_sysv_post(s);
			if (r == -ERANGE || r == -EAGAIN)
				r = -EIO;
		}
	}
	if (r < 0 && sem_sysv_gone(-r))
		return -EPIPE;		/* removed or replaced */
	return r;
}

/* --- receiver ---------------------------------------------------------- */

/* Take back the tokens wake() posted: the stop must not count as events. */
static void sem_sysv_absorb_wakes(struct sem_sysv *s)
{
	sig_atomic_t n = s->wake_posts - s->wake_absorbed;

	if (n > 0 && sem_sysv_op(s->id, SEM_EVENTS, -(short)n, IPC_NOWAIT) == 0)
		s->wake_absorbed += n;
}

static int sem_sysv_done_numbering(struct sem_sysv *s)
{
	return sem_sysv_op(s->id, SEM_BUSY, -1, IPC_NOWAIT | SEM_UNDO);
}

/*
 * The number of the event we just took (BUSY held): POSTED - EVENTS, and
 * the PHASE it goes with (the sender changes neither while BUSY is held).
 */
static int sem_sysv_number(struct sem_sysv *s, uint32_t *ret_k,
			   uint32_t *ret_phase)
{
	unsigned short values[SEM_COUNT];
	int r = sem_sysv_values(s->id, values);

	if (r < 0)
		return r;
	*ret_k = (sem_sysv_posted(values) - values[SEM_EVENTS]) &
		 SEM_COUNT_MASK;
	*ret_phase = values[SEM_PHASE] & 3;
	return 0;
}

static ssize_t sem_sysv_receive(struct transport *t, uint8_t *buf,
				size_t size, int timeout_ms)
{
	struct sem_sysv *s = t->priv;
	struct sembuf take[2] = {
		{ SEM_EVENTS, -1, 0 },
		{ SEM_BUSY, 1, SEM_UNDO },
	};
	struct sembuf untake[2] = {
		{ SEM_EVENTS, 1, IPC_NOWAIT },
		{ SEM_BUSY, -1, IPC_NOWAIT | SEM_UNDO },
	};
	uint32_t k, phase = 0, dropped = 0;
	struct timespec left;
	struct deadline d;
	int r, err;

	if (size < IPC_MESSAGE_SIZE)
		return -EMSGSIZE;
	deadline_start(&d, timeout_ms);
	for (;;) {
		if (stop_requested()) {
			sem_sysv_absorb_wakes(s);
			return -EINTR;
		}
		left = deadline_left_timespec(&d);

		/* Stop signals may land only while we sleep; wake() posts. */
		stop_unblock();
		if (stop_requested()) {
			r = -1;
			err = EINTR;
		} else {
			r = semtimedop(s->id, take, 2, d.forever ? NULL : &left);
			err = errno;
		}
		stop_block();

		if (r == 0)
			break;
		if (err == EINTR)
			continue;	/* the loop looks at the stop flag */
		if (err == EAGAIN)
			return -ETIMEDOUT;
		if (sem_sysv_gone(err))
			fprintf(stderr, "%s: semaphore set key 0x%08x removed under the receiver\n",
				t->ops->name, (unsigned int)s->key);
		return -err;
	}
	if (stop_requested()) {
		/* Perhaps a wake token: give back what we took, uncounted. */
		(void)semop(s->id, untake, 2);
		sem_sysv_absorb_wakes(s);
		return -EINTR;
	}
	r = sem_sysv_number(s, &k, &phase);
	err = sem_sysv_done_numbering(s);
	if (r < 0 || err < 0)
		return r < 0 ? r : err;
	/* Forward by more than one: events were dropped before the sender. */
	if (s->have_last && ((k - s->last_k - 1) & SEM_COUNT_MASK) < SEM_DIGIT)
		dropped = (k - s->last_k - 1) & SEM_COUNT_MASK;
	s->have_last = true;
	s->last_k = k;
	counted_event_frame_at(k, k + phase, dropped, monotonic_ns(), buf);
	return IPC_MESSAGE_SIZE;
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

/* --- opening and closing ------------------------------------------------ */

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

/* Ours, private, six semaphores, initialised: from IPC_STAT. */
static bool sem_sysv_usable(const struct semid_ds *ds)
{
	return private_object_sysv(&ds->sem_perm) &&
	       ds->sem_nsems == SEM_COUNT && ds->sem_otime;
}

/*
 * The set under our key: 1 adopted (claimed), 0 foreign or stale (*ret_id
 * set), -ENOENT gone meanwhile, -EBUSY a live receiver holds it, or
 * another error.
 */
static int sem_sysv_adopt(struct transport *t, struct sem_sysv *s,
			  int *ret_id)
{
	struct semid_ds ds;
	union semun arg = { .buf = &ds };
	int id, r;

	id = semget(s->key, 0, 0);
	if (id < 0)
		return -errno;
	*ret_id = id;
	if (semctl(id, 0, IPC_STAT, arg) < 0) {
		if (sem_sysv_gone(errno))
			return -ENOENT;
		if (errno != EACCES)
			return -errno;
		fprintf(stderr, "%s: semaphore set key 0x%08x is someone else's\n",
			t->ops->name, (unsigned int)s->key);
		return 0;
	}
	if (!sem_sysv_usable(&ds)) {
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
	s->id = id;
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
	unsigned short values[SEM_COUNT];
	struct semid_ds ds;
	union semun arg = { .buf = &ds };
	int r;

	s->id = semget(s->key, 0, 0);
	if (s->id < 0)
		return errno == ENOENT || errno == EACCES ? -ENOENT : -errno;
	if (semctl(s->id, 0, IPC_STAT, arg) < 0)
		return sem_sysv_gone(errno) || errno == EACCES ? -ENOENT : -errno;
	/* Not ours, or not initialised yet: no receiver of ours (yet). */
	if (!sem_sysv_usable(&ds))
		return -ENOENT;
	r = sem_sysv_values(s->id, values);
	if (r < 0)
		return sem_sysv_gone(-r) ? -ENOENT : r;
	s->posted = sem_sysv_posted(values);
	s->phase = values[SEM_PHASE];
	return 0;
}

static void sem_sysv_close(struct transport *t);

static int sem_sysv_create_at(struct transport *t, int key)
{
	struct sem_sysv *s = t->priv;

	s->key = key;
	s->id = -1;
	return sem_sysv_create(t, s);
}

static int sem_sysv_open(struct transport *t)
{
	struct sem_sysv *s;
	int r;

	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->id = -1;
	t->priv = s;
	if (t->role == TRANSPORT_SENDER) {
		r = transport_sysv_key(t, &s->key);
		if (!r)
			r = sem_sysv_open_sender(s);
	} else {
		r = transport_sysv_open_receiver(t, sem_sysv_create_at);
		if (r < 0 && r != -EBUSY)
			fprintf(stderr, "%s: no System V key in %s: %s\n",
				t->ops->name, t->config->runtime_dir,
				strerror(-r));
	}
	if (r < 0)
		goto fail;
	return 0;
fail:
	/* A set we created but could not initialise goes too. */
	sem_sysv_close(t);
	return r;
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
	.summary = "System V semaphore set, one post per event, count kept in step with the button",
	.flags = TRANSPORT_LOSSLESS | TRANSPORT_NO_PAYLOAD | TRANSPORT_DURABLE,
	.open = sem_sysv_open,
	.send = sem_sysv_send,
	.receive = sem_sysv_receive,
	.wake = sem_sysv_wake,
	.close = sem_sysv_close,
};

TRANSPORT_REGISTER(sem_sysv_ops);
