// SPDX-License-Identifier: MIT
/*
 * mq-posix: a POSIX message queue (mq_open, mq_send, mq_receive), one
 * message of the frame's length per frame, all of priority 0, so FIFO.
 * Push, lossless while both run: the sender is O_NONBLOCK, so a full queue
 * is TRANSPORT_FULL at once and POLLOUT says when to go on. Durable.
 * Object: the queue transport_global_name() names, 0600, 256-byte messages;
 * who makes, adopts and removes it: docs/mechanisms/mq-posix.md.
 */
#include "transport.h"

#include "../lib/deadline.h"
#include "../lib/fd_wait.h"
#include "../lib/message.h"
#include "../lib/named_object.h"
#include "../lib/number.h"
#include "../lib/private_object.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <mqueue.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define MQ_POSIX_MSGSIZE	IPC_MESSAGE_MAX_WIRE
#define MQ_POSIX_MAXMSG_CAP	64	/* enough for bursts; more is memory */

struct mq_posix_state {
	char name[NAME_MAX];
	mqd_t mq;
	struct mq_attr attr;		/* receiver: what it creates */
	uint8_t buf[MQ_POSIX_MSGSIZE];	/* receiver: one whole message */
};

static const struct transport_option mq_posix_options[] = {
	{ "maxmsg", NULL, "queue depth in frames (default: fs.mqueue.msg_max, at most 64)",
	  number_check_positive },
	{ NULL, NULL, NULL, NULL },
};

/* Ours and private (0600). */
static bool mq_posix_ours(struct mq_posix_state *st)
{
	struct stat sb;

	return fstat(st->mq, &sb) == 0 && private_object_file(&sb);
}

/* ---- receiver ---------------------------------------------------------- */

/* The shape: within what a non-root user may ask for (mq_overview(7));
 * fs.mqueue.msgsize_max is at least 128, so a frame always fits. */
static int mq_posix_shape(struct transport *t, struct mq_attr *attr)
{
	const char *opt = transport_option(t, "maxmsg");
	long long maxmsg = number_read_file("/proc/sys/fs/mqueue/msg_max", 10);
	long long size_max = number_read_file("/proc/sys/fs/mqueue/msgsize_max",
					      MQ_POSIX_MSGSIZE);

	if (maxmsg > MQ_POSIX_MAXMSG_CAP)
		maxmsg = MQ_POSIX_MAXMSG_CAP;
	/* The programs checked the option's value (number_check_positive). */
	if (opt && number_parse(opt, 1, LONG_MAX, &maxmsg) < 0)
		return -EINVAL;
	attr->mq_maxmsg = maxmsg;
	attr->mq_msgsize = size_max < MQ_POSIX_MSGSIZE ? size_max : MQ_POSIX_MSGSIZE;
	return 0;
}

static int mq_posix_create(void *ctx)
{
	struct mq_posix_state *st = ctx;

	st->mq = mq_open(st->name,
			 O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_CREAT | O_EXCL,
			 PRIVATE_OBJECT_MODE, &st->attr);
	if (st->mq == (mqd_t)-1)
		return -errno;
	/* The umask may have taken bits away: set exactly. */
	if (fchmod(st->mq, PRIVATE_OBJECT_MODE) < 0)
		return -errno;
	return mq_posix_ours(st) ? 0 : -EPERM;
}

static int mq_posix_adopt(void *ctx)
{
	struct mq_posix_state *st = ctx;
	struct mq_attr found;

	st->mq = mq_open(st->name, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	if (st->mq == (mqd_t)-1)
		return errno == ENOENT ? NAMED_OBJECT_GONE :
		       errno == EACCES ? NAMED_OBJECT_STALE : -errno;
	if (mq_posix_ours(st) && mq_getattr(st->mq, &found) == 0 &&
	    found.mq_msgsize == st->attr.mq_msgsize)
		return NAMED_OBJECT_OURS;	/* left by a killed receiver */
	mq_close(st->mq);
	st->mq = (mqd_t)-1;
	return NAMED_OBJECT_STALE;
}

static int mq_posix_remove(void *ctx)
{
	struct mq_posix_state *st = ctx;

	return mq_unlink(st->name) == 0 ? 0 : -errno;
}

static const struct named_object_ops mq_posix_object = {
	.create = mq_posix_create,
	.adopt = mq_posix_adopt,
	.remove = mq_posix_remove,
};

static int mq_posix_open_receiver(struct transport *t,
				  struct mq_posix_state *st)
{
	int r = mq_posix_shape(t, &st->attr);

	if (r < 0)
		return r;
	r = named_object_get(&mq_posix_object, st);
	if (r == NAMED_OBJECT_REPLACED)
		snprintf(t->detail, sizeof(t->detail),
			 "%s: replaced a queue that was not ours (owner, mode or message size)",
			 st->name);
	return r < 0 ? r : 0;
}

static ssize_t mq_posix_receive(struct transport *t, uint8_t *buf,
				size_t size, int timeout_ms)
{
	struct mq_posix_state *st = t->priv;
	struct deadline d;
	ssize_t n;
	int r;

	deadline_start(&d, timeout_ms);
	for (;;) {
		n = mq_receive(st->mq, (char *)st->buf, sizeof(st->buf), NULL);
		if (n >= 0) {
			if ((size_t)n > size)
				n = size;
			memcpy(buf, st->buf, n);
			return n;
		}
		/* O_NONBLOCK: it never sleeps, so no signal interrupts it. */
		if (errno != EAGAIN)
			return -errno;
		r = fd_wait(st->mq, POLLIN, deadline_left_ms(&d), NULL);
		if (r < 0)
			return r;
	}
}

/* ---- sender ------------------------------------------------------------ */

static int mq_posix_open_sender(struct mq_posix_state *st)
{
	st->mq = mq_open(st->name, O_WRONLY | O_NONBLOCK | O_CLOEXEC);
	/* Missing, someone else's, or not ours: our receiver is not there. */
	if (st->mq == (mqd_t)-1)
		return errno == ENOENT || errno == EACCES ? TRANSPORT_ABSENT : -errno;
	return mq_posix_ours(st) ? 0 : TRANSPORT_ABSENT;
}

static int mq_posix_send(struct transport *t, const uint8_t *frame,
			 size_t len)
{
	struct mq_posix_state *st = t->priv;
	struct stat sb;

	/* Before sending: a frame put into a nameless queue is lost. */
	if (fstat(st->mq, &sb) < 0 || sb.st_nlink == 0)
		return TRANSPORT_STALE;
	/* O_NONBLOCK: never interrupted; -EMSGSIZE for a frame too long. */
	if (mq_send(st->mq, (const char *)frame, len, 0) < 0)
		return errno == EAGAIN ? TRANSPORT_FULL : -errno;
	return 0;
}

/* ---- both -------------------------------------------------------------- */

static void mq_posix_close(struct transport *t)
{
	struct mq_posix_state *st = t->priv;
	unsigned long discarded = 0;
	struct stat sb;

	/* The receiver unlinks its queue only while the name is its own (a
	 * queue has one name at most), then empties it: a sender waiting for
	 * POLLOUT wakes and finds it nameless. */
	if (t->role == TRANSPORT_RECEIVER && st->mq != (mqd_t)-1) {
		if (fstat(st->mq, &sb) == 0 && sb.st_nlink > 0)
			(void)mq_unlink(st->name);
		while (mq_receive(st->mq, (char *)st->buf, sizeof(st->buf), NULL) >= 0)
			discarded++;
		if (discarded)
			snprintf(t->detail, sizeof(t->detail),
				 "%lu unread frames discarded with %s", discarded, st->name);
	}
	if (st->mq != (mqd_t)-1)
		mq_close(st->mq);
	free(st);
	t->priv = NULL;
}

static int mq_posix_open(struct transport *t)
{
	struct mq_posix_state *st = calloc(1, sizeof(*st));
	int r;

	if (!st)
		return -ENOMEM;
	st->mq = (mqd_t)-1;
	t->priv = st;
	r = transport_global_name(t, st->name, sizeof(st->name));
	if (r == 0)
		r = t->role == TRANSPORT_RECEIVER ? mq_posix_open_receiver(t, st) :
						    mq_posix_open_sender(st);
	if (r < 0) {
		if (!t->detail[0])
			snprintf(t->detail, sizeof(t->detail), "%s", st->name);
		mq_posix_close(t);
	}
	return r;
}

static int mq_posix_poll_fd(struct transport *t)
{
	return ((struct mq_posix_state *)t->priv)->mq;
}

static const struct transport_ops mq_posix_ops = {
	.name = "mq-posix",
	.summary = "POSIX message queue, pollable descriptor, O_NONBLOCK sender",
	.flags = TRANSPORT_LOSSLESS | TRANSPORT_PUSH | TRANSPORT_DURABLE,
	.options = mq_posix_options,
	.open = mq_posix_open,
	.send = mq_posix_send,
	.receive = mq_posix_receive,
	.poll_fd = mq_posix_poll_fd,
	.close = mq_posix_close,
};

TRANSPORT_REGISTER(mq_posix_ops);
