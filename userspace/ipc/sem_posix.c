// SPDX-License-Identifier: MIT
/*
 * sem-posix: a POSIX named semaphore (sem_open, sem_post, sem_clockwait).
 *
 * Pull, without payload: the sender calls sem_post() once per event; the
 *   receiver sleeps in sem_wait() (sem_clockwait() on CLOCK_MONOTONIC for a
 *   timeout) and rebuilds the frame from the position of the event in the
 *   stream (lib/counted_event.h: the k-th event is a press when k is odd,
 *   and the LED state follows from the number of presses). Nothing but
 *   the count crosses: the driver's timestamp, the sender's send time, the
 *   real seqno after a drop and the dropped count are lost; event_ns and
 *   send_ns are the time the receiver took the event. The sender refuses a
 *   frame that does not decode (-EINVAL): a count cannot carry it for the
 *   receiver to reject.
 * Lossless while both run: sem_post() never blocks; at SEM_VALUE_MAX
 *   (2^31 - 1) waiting events it fails with EOVERFLOW, which send()
 *   returns as -EAGAIN. Nothing is dropped.
 * Ordering: events are indistinguishable, so order is the count's order.
 * Object: the semaphore transport_global_name() names
 *   ("/ipc-button.<uid>.<instance>.sem-posix"), which glibc keeps as the
 *   file /dev/shm/sem.ipc-button.<uid>.<instance>.sem-posix, mode 0600.
 *   The receiver creates it with O_CREAT|O_EXCL and the value 0 (glibc
 *   initialises a new semaphore in a temporary file and links it in, so
 *   nobody ever sees it half made: no initialisation race) and unlinks it
 *   on close. At start it adopts a semaphore that is ours and 0600, left
 *   by a killed receiver, with its count; anything else under the name is
 *   unlinked and recreated. The sender only opens it (-ENOENT before the
 *   receiver has made it). An unlinked semaphore lives on for whoever still
 *   has it mapped, and nothing in the semaphore says so; so the sender
 *   remembers the inode of the file it opened, and before every post checks
 *   that the name still leads to that inode: -EPIPE when not (unlinked or
 *   replaced), and the button reopens and redelivers its backlog.
 *   One receiver per instance: a semaphore cannot tell whether the
 *   receiver that made it still runs.
 * While the receiver restarts:
 *   - killed (SIGKILL): the semaphore stays with its count; the sender
 *     keeps posting. The next receiver adopts it and takes every event.
 *     But the count of events taken so far lived in the dead receiver: the
 *     new one numbers from 1 again, so the first event it takes is rebuilt
 *     as a press, and press/release and the LED state come out inverted
 *     whenever the dead receiver had taken an odd number of events. A named
 *     semaphore has no room to keep that count atomically with the take;
 *     sem-sysv does keep it (a semop() changes several semaphores at once).
 *   - stopped (SIGTERM, SIGINT): the semaphore goes, with the events still
 *     counted in it (stderr says how many); the sender's next post sees
 *     the name gone, returns -EPIPE and keeps the event in its backlog.
 *     The new semaphore counts from 1 again.
 * Stop: a stop signal is let in only around sem_wait(); wake() posts one
 *   extra token (sem_post() is async-signal-safe) so a receiver that
 *   entered sem_wait() just after the signal still returns. Tokens are
 *   counted and the receiver takes them back (and gives back an event it
 *   took after the stop) before it returns -EINTR, so no stop ever becomes
 *   an event.
 */
#include "transport.h"

#include "../lib/counted_event.h"
#include "../lib/deadline.h"
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

struct sem_posix {
	char name[NAME_MAX];
	char path[PATH_MAX];		/* the file behind the name */
	sem_t *sem;
	ino_t ino;			/* identity of the one we hold */
	dev_t dev;
	uint32_t taken;			/* receiver: events taken */
	volatile sig_atomic_t wake_posts;	/* tokens wake() added */
	sig_atomic_t wake_absorbed;		/* tokens taken back */
};

/* Does the name lead to a private file? 0 yes (identity in *st). */
static int sem_posix_stat(const struct sem_posix *p, struct stat *st)
{
	if (lstat(p->path, st) < 0)
		return -errno;
	return private_object_file(st) ? 0 : -EPERM;
}

/*
 * Open the existing semaphore and make sure it is the private file we
 * looked at: stat, sem_open, stat again (the name may change in between).
 */
static int sem_posix_open_existing(struct sem_posix *p)
{
	struct stat before, after;
	int r;

	r = sem_posix_stat(p, &before);
	if (r < 0)
		return r;
	p->sem = sem_open(p->name, 0);
	if (p->sem == SEM_FAILED)
		return -errno;
	r = sem_posix_stat(p, &after);
	if (r == 0 && (after.st_ino != before.st_ino ||
		       after.st_dev != before.st_dev))
		r = -ESTALE;
	if (r < 0) {
		sem_close(p->sem);
		p->sem = SEM_FAILED;
		return r;
	}
	p->ino = after.st_ino;
	p->dev = after.st_dev;
	return 0;
}

static int sem_posix_create(struct transport *t, struct sem_posix *p)
{
	struct stat st;
	int r = -EEXIST;

	for (int attempt = 0; attempt < 5; attempt++) {
		p->sem = sem_open(p->name, O_CREAT | O_EXCL,
				  PRIVATE_OBJECT_MODE, 0);
		if (p->sem != SEM_FAILED) {
			if (lstat(p->path, &st) < 0) {
				r = -errno;
				fprintf(stderr, "%s: %s: %s\n", t->ops->name,
					p->path, strerror(-r));
				return r;
			}
			p->ino = st.st_ino;
			p->dev = st.st_dev;
			/* The umask may have taken bits away: set exactly. */
			if ((st.st_mode & 07777) != PRIVATE_OBJECT_MODE &&
			    chmod(p->path, PRIVATE_OBJECT_MODE) < 0) {
				r = -errno;
				fprintf(stderr, "%s: chmod %s: %s\n",
					t->ops->name, p->path, strerror(-r));
				return r;
			}
			return 0;
		}
		if (errno != EEXIST) {
			r = -errno;
			fprintf(stderr, "%s: sem_open %s: %s\n", t->ops->name,
				p->name, strerror(-r));
			return r;
		}
		r = sem_posix_open_existing(p);
		if (r == 0)
			return 0;	/* left by a killed receiver: adopt */
		if (r == -ENOENT || r == -ESTALE)
			continue;	/* changed meanwhile: look again */
		if (r != -EPERM && r != -EACCES)
			break;
		fprintf(stderr, "%s: %s is not ours (owner or mode), replacing it\n",
			t->ops->name, p->path);
		if (sem_unlink(p->name) < 0 && errno != ENOENT) {
			r = -errno;
			break;
		}
		r = -EEXIST;
	}
	fprintf(stderr, "%s: cannot use or replace %s: %s\n", t->ops->name,
		p->path, strerror(-r));
	return r;
}

static void sem_posix_close(struct transport *t);

static int sem_posix_open(struct transport *t)
{
	struct sem_posix *p;
	int n, r;

	p = calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	p->sem = SEM_FAILED;
	t->priv = p;
	r = transport_global_name(t, p->name, sizeof(p->name));
	if (r < 0)
		goto fail;
	n = snprintf(p->path, sizeof(p->path), SEM_POSIX_DIR "%s", p->name + 1);
	if (n < 0 || (size_t)n >= sizeof(p->path)) {
		r = -ENAMETOOLONG;
		goto fail;
	}
	if (t->role == TRANSPORT_SENDER) {
		r = sem_posix_open_existing(p);
		if (r < 0) {
			/* Missing, not ours or changing: no receiver of ours yet. */
			if (r == -ENOENT || r == -EPERM || r == -EACCES ||
			    r == -ESTALE)
				r = -ENOENT;
			goto fail;
		}
		return 0;
	}
	r = sem_posix_create(t, p);
	if (r < 0)
		goto fail;
	return 0;
fail:
	sem_posix_close(t);
	return r;
}

/* Is the semaphore we hold still the one under our name? */
static bool sem_posix_still_named(const struct sem_posix *p)
{
	struct stat st;

	return lstat(p->path, &st) == 0 && st.st_ino == p->ino &&
	       st.st_dev == p->dev;
}

static int sem_posix_send(struct transport *t, const uint8_t *frame,
			  size_t len)
{
	struct sem_posix *p = t->priv;
	int r;

	r = counted_event_check(frame, len);
	if (r < 0)
		return r;
	/* Before posting: a post to a nameless semaphore is lost. */
	if (!sem_posix_still_named(p))
		return -EPIPE;
	if (sem_post(p->sem) < 0)
		return errno == EOVERFLOW ? -EAGAIN : -errno;
	return 0;
}

/* Take back the tokens wake() posted: the stop must not count as events. */
static void sem_posix_absorb_wakes(struct sem_posix *p)
{
	while (p->wake_absorbed < p->wake_posts && sem_trywait(p->sem) == 0)
		p->wake_absorbed++;
}

static ssize_t sem_posix_receive(struct transport *t, uint8_t *buf,
				 size_t size, int timeout_ms)
{
	struct sem_posix *p = t->priv;
	struct timespec end;
	struct deadline d;
	int r, err;

	if (size < IPC_MESSAGE_SIZE)
		return -EMSGSIZE;
	deadline_start(&d, timeout_ms);
	end = deadline_end_timespec(&d);
	for (;;) {
		if (stop_requested()) {
			sem_posix_absorb_wakes(p);
			return -EINTR;
		}

		/* Stop signals may land only while we sleep; wake() posts. */
		stop_unblock();
		if (stop_requested()) {
			r = -1;
			err = EINTR;
		} else {
			r = d.forever ? sem_wait(p->sem) :
				sem_clockwait(p->sem, CLOCK_MONOTONIC, &end);
			err = errno;
		}
		stop_block();

		if (r == 0) {
			if (stop_requested()) {
				sem_post(p->sem);	/* give it back */
				continue;
			}
			p->taken++;
			counted_event_frame(p->taken, 0, monotonic_ns(), buf);
			return IPC_MESSAGE_SIZE;
		}
		if (err == EINTR)
			continue;	/* the loop looks at the stop flag */
		if (err == ETIMEDOUT)
			return -ETIMEDOUT;
		return -err;
	}
}

static void sem_posix_wake(struct transport *t)
{
	struct sem_posix *p = t->priv;

	/* Async-signal-safe: sem_post(), one counter only the handler raises. */
	if (t->role != TRANSPORT_RECEIVER || !p || p->sem == SEM_FAILED)
		return;
	p->wake_posts++;
	sem_post(p->sem);
}

static void sem_posix_remove(struct transport *t, struct sem_posix *p)
{
	int pending = 0;

	/* Unlink only the semaphore we made: the name may be another's now. */
	if (sem_posix_still_named(p))
		(void)sem_unlink(p->name);
	sem_posix_absorb_wakes(p);
	if (sem_getvalue(p->sem, &pending) == 0 && pending > 0)
		fprintf(stderr, "%s: %d untaken events discarded with %s\n",
			t->ops->name, pending, p->path);
}

static void sem_posix_close(struct transport *t)
{
	struct sem_posix *p = t->priv;

	if (!p)
		return;
	if (p->sem != SEM_FAILED) {
		if (t->role == TRANSPORT_RECEIVER)
			sem_posix_remove(t, p);
		sem_close(p->sem);
	}
	free(p);
	t->priv = NULL;
}

static const struct transport_ops sem_posix_ops = {
	.name = "sem-posix",
	.summary = "POSIX named semaphore, one sem_post per event, no payload",
	.flags = TRANSPORT_LOSSLESS | TRANSPORT_NO_PAYLOAD | TRANSPORT_DURABLE,
	.open = sem_posix_open,
	.send = sem_posix_send,
	.receive = sem_posix_receive,
	.wake = sem_posix_wake,
	.close = sem_posix_close,
};

TRANSPORT_REGISTER(sem_posix_ops);
