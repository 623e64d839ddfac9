// SPDX-License-Identifier: MIT
/*
 * sem-posix: POSIX named semaphores (sem_open, sem_post, sem_clockwait).
 *
 * Pull, without payload: the sender calls sem_post() on EVENTS once per
 *   event; the receiver sleeps in sem_wait() (sem_clockwait() on
 *   CLOCK_MONOTONIC for a timeout) and rebuilds the frame from the number
 *   k of the event and a phase (lib/counted_event.h: event k is a press or
 *   release, LED on or off, as the (k + phase)-th event of the counted
 *   stream). Nothing but counts crosses: the driver's timestamp and the
 *   sender's send time are lost; event_ns and send_ns are the time the
 *   receiver took the event. The sender refuses a frame that does not
 *   decode (-EINVAL): a count cannot carry it for the receiver to reject.
 * Lossless while both run: sem_post() never blocks; at SEM_VALUE_MAX
 *   (2^31 - 1) waiting events it fails with EOVERFLOW, which send()
 *   returns as -EAGAIN. Nothing is dropped.
 * Ordering: events are indistinguishable, so order is the count's order.
 *
 * Numbering (k is the button's seqno). A POSIX semaphore changes one value
 *   at a time and has no SEM_UNDO, so unlike sem-sysv the count cannot live
 *   in the object atomically with the take: a receiver killed between its
 *   take and its record, or a sender killed between its post and its
 *   record, would leave them one apart for good. So the count lives in the
 *   receiver (k, phase), and is handed over in a handshake whenever it may
 *   be wrong: a new receiver, a new sender, a seqno that jumps (events
 *   dropped before the sender), a phase that changes (a new button starts
 *   with the LED off). The handshake semaphores, all made new by every
 *   receiver (so nothing of a killed one's handshake survives it):
 *     REQ   the receiver waits for its numbering (1), having given back
 *           what it had taken and not numbered; made with 1
 *     ASK   the sender asks for a handshake
 *     ANS   the sender's answer is written
 *     D0..2 the answer: BASE (32 bits) and PHASE (2 bits), in three digits
 *           of 12, 11 and 11 bits (a semaphore is set by posts and takes)
 *   While the receiver waits for ANS it takes nothing, and the sender is
 *   the only one to post: so the number v of events waiting in EVENTS is
 *   exact, and the sender answers BASE = (seqno of the last event it
 *   posted) - v, PHASE = that event's phase: the v waiting events are
 *   numbered BASE + 1 .. last, and k never goes back (the seqnos of events
 *   waiting are at most those numbers). A new sender, knowing no last
 *   event yet, answers for the frame it is about to post. When the sender
 *   must renumber while the receiver runs, it posts ASK and then its
 *   event, and waits (send() says -EAGAIN, the button keeps its frames)
 *   until the receiver, at its next take, sees ASK, gives that event
 *   back, posts REQ and waits for the answer. Events that waited across a
 *   jump are numbered up to the jump's far side: the LED sees the gap
 *   before them rather than after, and every number once.
 *   The sender answers and then takes REQ. Killed before posting ANS, the
 *   next sender answers in its place; killed between the two, a REQ is
 *   left that the next sender answers once more, needlessly. The one case
 *   left open: that needless answer landing while the receiver waits for
 *   an answer to a request of its own made in the same instant (a sender
 *   killed within microseconds of answering, its successor's first send in
 *   those same microseconds).
 * Object: EVENTS is the semaphore transport_global_name() names
 *   ("/ipc-button.<uid>.<instance>.sem-posix"), which glibc keeps as the
 *   file /dev/shm/sem.ipc-button.<uid>.<instance>.sem-posix, mode 0600;
 *   the handshake semaphores add .req, .ask, .ans, .d0, .d1, .d2 to it.
 *   The receiver creates EVENTS with O_CREAT|O_EXCL and the value 0 (glibc
 *   initialises a new semaphore in a temporary file and links it in, so
 *   nobody ever sees it half made) and unlinks everything on close. At
 *   start it adopts an EVENTS that is ours and 0600, left by a killed
 *   receiver, with its count; anything else under the name is unlinked and
 *   recreated. The handshake semaphores are always made new, REQ last.
 *   The sender only opens them (-ENOENT before the receiver has made
 *   them), REQ first. An unlinked semaphore lives on for whoever still has
 *   it mapped, and nothing in it says so; so the sender remembers the
 *   inode of the REQ it opened, and before every post checks that the name
 *   still leads to it: -EPIPE when not (the receiver closed, or a new one
 *   came), and the button reopens and redelivers its backlog.
 *   One receiver per instance: the instance lock (transport.h).
 * While the receiver restarts:
 *   - killed (SIGKILL): EVENTS stays with its count; the sender keeps
 *     posting. The next receiver adopts it, makes a new handshake, and
 *     takes every event once the sender (at its next send) has answered:
 *     numbered on from the button's seqno, in the button's phase. What the
 *     dead receiver had taken and not shown is a gap the LED counts.
 *   - stopped (SIGTERM, SIGINT): the semaphores go, with the events still
 *     counted in EVENTS (stderr says how many); the sender's next post sees
 *     the name gone, returns -EPIPE and keeps the event in its backlog.
 * Stop: a stop signal is let in only around sem_wait(); wake() posts one
 *   extra token to EVENTS and one to ANS (sem_post() is async-signal-safe)
 *   so a receiver that entered either wait just after the signal still
 *   returns. EVENTS tokens are counted and the receiver takes them back
 *   (and gives back an event it took after the stop) before it returns
 *   -EINTR, so no stop ever becomes an event; after a stop the receiver
 *   never waits for ANS again.
 */
#include "transport.h"

#include "../lib/counted_event.h"
#include "../lib/deadline.h"
#include "../lib/message.h"
#include "../lib/private_object.h"
#include "../lib/stop.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <semaphore.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* Where glibc (and musl) keep the named semaphore "/NAME". */
#define SEM_POSIX_DIR	"/dev/shm/sem."

enum {
	SP_EVENTS,	/* one post per event */
	SP_ANS,		/* the handshake, see the header comment */
	SP_ASK,
	SP_D0,
	SP_D1,
	SP_D2,
	SP_REQ,		/* made last: the sender opens it first */
	SP_COUNT
};

static const char *const sp_suffix[SP_COUNT] = {
	[SP_EVENTS] = "", [SP_ANS] = ".ans", [SP_ASK] = ".ask",
	[SP_D0] = ".d0", [SP_D1] = ".d1", [SP_D2] = ".d2", [SP_REQ] = ".req",
};

struct sp_sem {
	char name[NAME_MAX];
	char path[PATH_MAX];		/* the file behind the name */
	sem_t *sem;
	ino_t ino;			/* identity of the one we hold */
	dev_t dev;
};

struct sem_posix {
	struct sp_sem s[SP_COUNT];
	/* Receiver: the numbering, and whether it waits for an answer. */
	bool asking;
	uint32_t k;
	uint32_t phase;
	volatile sig_atomic_t wake_posts;	/* EVENTS tokens wake() added */
	sig_atomic_t wake_absorbed;		/* tokens taken back */
	/* Sender: the last event posted (seqno, phase), and a pending ASK. */
	bool have_last;
	bool asked;
	uint32_t last;
	uint32_t last_phase;
};

/* --- one named semaphore --------------------------------------------- */

/* Does the name lead to a private file? 0 yes (identity in *st). */
static int sp_stat(const struct sp_sem *o, struct stat *st)
{
	if (lstat(o->path, st) < 0)
		return -errno;
	return private_object_file(st) ? 0 : -EPERM;
}

/* Is the semaphore we hold still the one under its name? */
static bool sp_still_named(const struct sp_sem *o)
{
	struct stat st;

	return lstat(o->path, &st) == 0 && st.st_ino == o->ino &&
	       st.st_dev == o->dev;
}

/*
 * Open the existing semaphore and make sure it is the private file we
 * looked at: stat, sem_open, stat again (the name may change in between).
 */
static int sp_open_existing(struct sp_sem *o)
{
	struct stat before, after;
	int r;

	r = sp_stat(o, &before);
	if (r < 0)
		return r;
	o->sem = sem_open(o->name, 0);
	if (o->sem == SEM_FAILED)
		return -errno;
	r = sp_stat(o, &after);
	if (r == 0 && (after.st_ino != before.st_ino ||
		       after.st_dev != before.st_dev))
		r = -ESTALE;
	if (r < 0) {
		sem_close(o->sem);
		o->sem = SEM_FAILED;
		return r;
	}
	o->ino = after.st_ino;
	o->dev = after.st_dev;
	return 0;
}

/* Create it with @value; -EEXIST when the name is taken. */
static int sp_create(struct sp_sem *o, unsigned int value)
{
	struct stat st;

	o->sem = sem_open(o->name, O_CREAT | O_EXCL, PRIVATE_OBJECT_MODE, value);
	if (o->sem == SEM_FAILED)
		return -errno;
	if (lstat(o->path, &st) < 0)
		return -errno;
	o->ino = st.st_ino;
	o->dev = st.st_dev;
	/* The umask may have taken bits away: set exactly. */
	if ((st.st_mode & 07777) != PRIVATE_OBJECT_MODE &&
	    chmod(o->path, PRIVATE_OBJECT_MODE) < 0)
		return -errno;
	return 0;
}

static int sp_value(const struct sp_sem *o)
{
	int v = 0;

	return sem_getvalue(o->sem, &v) < 0 ? 0 : v;
}

/* Only its one writer sets a digit: by posts and takes, to @value. */
static void sp_set(struct sp_sem *o, int value)
{
	int v = sp_value(o);

	for (; v > value && sem_trywait(o->sem) == 0; v--)
		;
	for (; v < value && sem_post(o->sem) == 0; v++)
		;
}

static void sp_drain(struct sp_sem *o)
{
	while (sem_trywait(o->sem) == 0)
		;
}

/* --- the handshake ----------------------------------------------------- */

/* The phase that makes event @m->seqno the frame's press/release and state. */
static uint32_t sem_posix_phase(const struct ipc_message *m)
{
	/* k mod 4: 1 press on, 2 release on, 3 press off, 0 release off. */
	uint32_t want = m->type == IPC_EVENT_PRESS ? (m->led_state ? 1 : 3) :
						     (m->led_state ? 2 : 0);

	return (want - m->seqno) & 3;
}

/*
 * Sender, with the receiver waiting for ANS (taking nothing): number the
 * events waiting so that the last one posted is p->last, and answer.
 */
static void sem_posix_answer(struct sem_posix *p)
{
	uint32_t base = p->last - (uint32_t)sp_value(&p->s[SP_EVENTS]);

	sp_set(&p->s[SP_D0], (int)((base & 0x3ff) << 2 | p->last_phase));
	sp_set(&p->s[SP_D1], (int)((base >> 10) & 0x7ff));
	sp_set(&p->s[SP_D2], (int)(base >> 21));
	sp_drain(&p->s[SP_ASK]);	/* answered too */
	sem_post(p->s[SP_ANS].sem);
	/* After ANS: killed before it, the next sender answers instead. */
	(void)sem_trywait(p->s[SP_REQ].sem);
	p->asked = false;
}

/* Receiver, after ANS: the numbering to go on from. */
static void sem_posix_take_answer(struct sem_posix *p)
{
	uint32_t d0 = (uint32_t)sp_value(&p->s[SP_D0]);
	uint32_t d1 = (uint32_t)sp_value(&p->s[SP_D1]);
	uint32_t d2 = (uint32_t)sp_value(&p->s[SP_D2]);

	p->k = (d0 >> 2) | d1 << 10 | d2 << 21;
	p->phase = d0 & 3;
	p->asking = false;
}

/* Receiver: give back the event just taken and ask to be numbered. */
static void sem_posix_ask(struct sem_posix *p)
{
	sem_post(p->s[SP_EVENTS].sem);
	sp_drain(&p->s[SP_ANS]);	/* a needless answer (header comment) */
	sem_post(p->s[SP_REQ].sem);
	p->asking = true;
}

/* --- sender ------------------------------------------------------------ */

static int sem_posix_open_sender(struct sem_posix *p);

static void sem_posix_close_all(struct sem_posix *p)
{
	for (int i = 0; i < SP_COUNT; i++) {
		if (p->s[i].sem != SEM_FAILED)
			sem_close(p->s[i].sem);
		p->s[i].sem = SEM_FAILED;
	}
}

/*
 * Is the receiver we opened still there? If a new one came meanwhile,
 * open its semaphores, keeping what we know of our last event: its
 * handshake is then answered like any other. -EPIPE when none is there.
 */
static int sem_posix_follow_receiver(struct sem_posix *p)
{
	if (p->s[SP_REQ].sem != SEM_FAILED && sp_still_named(&p->s[SP_REQ]))
		return 0;
	sem_posix_close_all(p);
	p->asked = false;
	return sem_posix_open_sender(p) < 0 ? -EPIPE : 0;
}

static int sem_posix_send(struct transport *t, const uint8_t *frame,
			  size_t len)
{
	struct sem_posix *p = t->priv;
	struct ipc_message m;
	uint32_t phase;
	int r;

	/* A count cannot carry a malformed frame for the receiver to reject. */
	if (ipc_message_decode(frame, len, &m) != IPC_MESSAGE_OK)
		return -EINVAL;
	/* Before posting: a post to a nameless semaphore is lost. */
	r = sem_posix_follow_receiver(p);
	if (r < 0)
		return r;
	if (m.type == IPC_EVENT_STATE) {
		/* The button is idle: no event, but a waiting receiver's answer. */
		if (p->have_last && sp_value(&p->s[SP_REQ]) > 0)
			sem_posix_answer(p);
		return 0;
	}
	phase = sem_posix_phase(&m);
	if (sp_value(&p->s[SP_REQ]) > 0) {
		/* The receiver waits; a new sender answers for this frame. */
		if (!p->have_last) {
			p->last = m.seqno - 1;
			p->last_phase = phase;
			p->have_last = true;
		}
		sem_posix_answer(p);
	} else if (p->asked) {
		return -EAGAIN;		/* until the receiver comes to our ASK */
	}
	if (!p->have_last || m.seqno != p->last + 1 || phase != p->last_phase) {
		/* Renumber: ASK, then this event, which the receiver gives back. */
		if (sem_post(p->s[SP_ASK].sem) < 0)
			return -errno;
		p->asked = true;
	}
	if (sem_post(p->s[SP_EVENTS].sem) < 0)
		return errno == EOVERFLOW ? -EAGAIN : -errno;
	p->have_last = true;
	p->last = m.seqno;
	p->last_phase = phase;
	return 0;
}

/* --- receiver ---------------------------------------------------------- */

/* Take back the tokens wake() posted: the stop must not count as events. */
static void sem_posix_absorb_wakes(struct sem_posix *p)
{
	while (p->wake_absorbed < p->wake_posts &&
	       sem_trywait(p->s[SP_EVENTS].sem) == 0)
		p->wake_absorbed++;
}

/*
 * Wait for @sem (stop signals let in only meanwhile). 0 taken, -EINTR on
 * a stop (an event taken after it given back), -ETIMEDOUT, or an error.
 */
static int sem_posix_wait(struct sem_posix *p, sem_t *sem,
			  const struct deadline *d, const struct timespec *end)
{
	int r, err;

	for (;;) {
		if (stop_requested())
			return -EINTR;
		stop_unblock();
		if (stop_requested()) {
			r = -1;
			err = EINTR;
		} else {
			r = d->forever ? sem_wait(sem) :
				sem_clockwait(sem, CLOCK_MONOTONIC, end);
			err = errno;
		}
		stop_block();
		if (r == 0) {
			if (!stop_requested())
				return 0;
			if (sem == p->s[SP_EVENTS].sem)
				sem_post(sem);	/* give it back */
			return -EINTR;
		}
		if (err != EINTR)
			return -err;
	}
}

static ssize_t sem_posix_receive(struct transport *t, uint8_t *buf,
				 size_t size, int timeout_ms)
{
	struct sem_posix *p = t->priv;
	struct timespec end;
	struct deadline d;
	int r;

	if (size < IPC_MESSAGE_SIZE)
		return -EMSGSIZE;
	deadline_start(&d, timeout_ms);
	end = deadline_end_timespec(&d);
	for (;;) {
		r = sem_posix_wait(p, p->s[p->asking ? SP_ANS : SP_EVENTS].sem,
				   &d, &end);
		if (r == -EINTR)
			sem_posix_absorb_wakes(p);
		if (r < 0)
			return r;
		if (p->asking) {
			sem_posix_take_answer(p);
			continue;
		}
		if (sem_trywait(p->s[SP_ASK].sem) == 0) {
			sem_posix_ask(p);
			continue;
		}
		p->k++;
		counted_event_frame_at(p->k, p->k + p->phase, 0,
				       transport_now_ns(), buf);
		return IPC_MESSAGE_SIZE;
	}
}

static void sem_posix_wake(struct transport *t)
{
	struct sem_posix *p = t->priv;

	/* Async-signal-safe: sem_post(), one counter only the handler raises. */
	if (t->role != TRANSPORT_RECEIVER || !p ||
	    p->s[SP_REQ].sem == SEM_FAILED)
		return;
	p->wake_posts++;
	sem_post(p->s[SP_EVENTS].sem);
	sem_post(p->s[SP_ANS].sem);
}

/* --- opening and closing ------------------------------------------------ */

/* EVENTS: adopt a private one left by a killed receiver, else make it. */
static int sem_posix_create_events(struct transport *t, struct sp_sem *o)
{
	int r = -EEXIST;

	for (int attempt = 0; attempt < 5; attempt++) {
		r = sp_create(o, 0);
		if (r != -EEXIST)
			return r;
		r = sp_open_existing(o);
		if (r == 0)
			return 0;	/* left by a killed receiver: adopt */
		if (r == -ENOENT || r == -ESTALE)
			continue;	/* changed meanwhile: look again */
		if (r != -EPERM && r != -EACCES)
			break;
		fprintf(stderr, "%s: %s is not ours (owner or mode), replacing it\n",
			t->ops->name, o->path);
		if (sem_unlink(o->name) < 0 && errno != ENOENT) {
			r = -errno;
			break;
		}
		r = -EEXIST;
	}
	return r;
}

static int sem_posix_open_receiver(struct transport *t, struct sem_posix *p)
{
	int r = sem_posix_create_events(t, &p->s[SP_EVENTS]);

	/* The handshake is always new: nothing of a killed receiver's. */
	for (int i = SP_EVENTS + 1; r == 0 && i < SP_COUNT; i++) {
		if (sem_unlink(p->s[i].name) < 0 && errno != ENOENT)
			r = -errno;
		else
			r = sp_create(&p->s[i], i == SP_REQ ? 1 : 0);
		if (r < 0) {
			fprintf(stderr, "%s: %s: %s\n", t->ops->name,
				p->s[i].path, strerror(-r));
			return r;
		}
	}
	if (r < 0)
		fprintf(stderr, "%s: cannot use or replace %s: %s\n",
			t->ops->name, p->s[SP_EVENTS].path, strerror(-r));
	p->asking = true;	/* REQ is made with 1 */
	return r;
}

static int sem_posix_open_sender(struct sem_posix *p)
{
	struct sp_sem *req = &p->s[SP_REQ];
	int r = sp_open_existing(req);

	/* REQ first: made last, it says the others are this receiver's. */
	for (int i = 0; r == 0 && i < SP_REQ; i++)
		r = sp_open_existing(&p->s[i]);
	if (r == 0 && !sp_still_named(req))
		r = -ESTALE;
	/* Missing, not ours or changing: no receiver of ours (yet). */
	if (r == -EPERM || r == -EACCES || r == -ESTALE)
		r = -ENOENT;
	return r;
}

static void sem_posix_close(struct transport *t);

static int sem_posix_open(struct transport *t)
{
	struct sem_posix *p;
	char base[NAME_MAX];
	int n, r;

	p = calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	for (int i = 0; i < SP_COUNT; i++)
		p->s[i].sem = SEM_FAILED;
	t->priv = p;
	r = transport_global_name(t, base, sizeof(base));
	for (int i = 0; r == 0 && i < SP_COUNT; i++) {
		n = snprintf(p->s[i].name, sizeof(p->s[i].name), "%s%s", base,
			     sp_suffix[i]);
		if (n < 0 || (size_t)n >= sizeof(p->s[i].name))
			r = -ENAMETOOLONG;
		n = snprintf(p->s[i].path, sizeof(p->s[i].path),
			     SEM_POSIX_DIR "%s", p->s[i].name + 1);
		if (n < 0 || (size_t)n >= sizeof(p->s[i].path))
			r = -ENAMETOOLONG;
	}
	if (r == 0)
		r = t->role == TRANSPORT_SENDER ? sem_posix_open_sender(p) :
						  sem_posix_open_receiver(t, p);
	if (r < 0) {
		sem_posix_close(t);
		return r;
	}
	return 0;
}

static void sem_posix_remove(struct transport *t, struct sem_posix *p)
{
	struct sp_sem *ev = &p->s[SP_EVENTS];
	int pending;

	/* Unlink only the semaphores we made: a name may be another's now. */
	for (int i = 0; i < SP_COUNT; i++)
		if (p->s[i].sem != SEM_FAILED && sp_still_named(&p->s[i]))
			(void)sem_unlink(p->s[i].name);
	if (ev->sem == SEM_FAILED)
		return;
	sem_posix_absorb_wakes(p);
	pending = sp_value(ev);
	if (pending > 0)
		fprintf(stderr, "%s: %d untaken events discarded with %s\n",
			t->ops->name, pending, ev->path);
}

static void sem_posix_close(struct transport *t)
{
	struct sem_posix *p = t->priv;

	if (!p)
		return;
	if (t->role == TRANSPORT_RECEIVER)
		sem_posix_remove(t, p);
	sem_posix_close_all(p);
	free(p);
	t->priv = NULL;
}

static const struct transport_ops sem_posix_ops = {
	.name = "sem-posix",
	.summary = "POSIX named semaphores, one sem_post per event, numbered by handshake",
	.flags = TRANSPORT_LOSSLESS | TRANSPORT_NO_PAYLOAD | TRANSPORT_DURABLE |
		 TRANSPORT_IDLE_REPORTS,
	.open = sem_posix_open,
	.send = sem_posix_send,
	.receive = sem_posix_receive,
	.wake = sem_posix_wake,
	.close = sem_posix_close,
};

TRANSPORT_REGISTER(sem_posix_ops);
