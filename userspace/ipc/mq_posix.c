// SPDX-License-Identifier: MIT
/*
 * mq-posix: a POSIX message queue (mq_open, mq_send, mq_receive).
 *
 * Push: each frame is one message of exactly the frame's length, priority
 * 0, so FIFO. Lossless while both run: the sender's descriptor is
 * O_NONBLOCK, so a full queue is TRANSPORT_FULL at once; on Linux a queue
 * descriptor can be polled, so POLLOUT says when to go on.
 * Object: the queue transport_global_name() names
 * ("/ipc-button.<uid>.<instance>.mq-posix", in /dev/mqueue where that is
 * mounted), mode 0600, mq_msgsize 256 (IPC_MESSAGE_MAX_WIRE, so an
 * oversized frame still reaches the decoder), mq_maxmsg fs.mqueue.msg_max
 * up to 64 (--opt maxmsg=N to choose).
 * Receiver: creates it O_CREAT|O_EXCL, adopting a queue of ours (owner,
 * 0600, message size) a killed receiver left, with the frames in it, and
 * replacing anything else. On close it unlinks it if the name is still
 * its queue, then empties it, so a sender waiting for POLLOUT wakes and
 * finds it nameless.
 * Sender: only opens it. An unlinked queue lives on for whoever holds it,
 * so before every send it checks the queue still has a name (st_nlink):
 * TRANSPORT_STALE when not, and the button reopens and sends its backlog.
 * Descriptors: mq_open makes every queue descriptor close-on-exec itself.
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
	long msgsize;			/* of the queue we hold */
	struct stat held;		/* identity of the queue we hold */
	uint8_t *buf;			/* receiver: one whole message */
};

static const struct transport_option mq_posix_options[] = {
	{ "maxmsg", NULL, "queue depth in frames (default: fs.mqueue.msg_max, at most 64)",
	  number_check_positive },
	{ NULL, NULL, NULL, NULL },
};

/* Ours and private (0600); remember which queue it is. */
static bool mq_posix_ours(struct mq_posix_state *st)
{
	return fstat(st->mq, &st->held) == 0 && private_object_file(&st->held);
}

/* ---- receiver ---------------------------------------------------------- */

/* The shape: within what a non-root user may ask for (mq_overview(7)). */
static int mq_posix_shape(struct transport *t, struct mq_attr *attr)
{
	const char *opt = transport_option(t, "maxmsg");
	long long msg_max = number_read_file("/proc/sys/fs/mqueue/msg_max", 10);
	long long size_max = number_read_file("/proc/sys/fs/mqueue/msgsize_max",
					      MQ_POSIX_MSGSIZE);
	long long maxmsg = msg_max < MQ_POSIX_MAXMSG_CAP ? msg_max :
							  MQ_POSIX_MAXMSG_CAP;

	/* The programs checked the option's value (number_check_positive). */
	if (opt && number_parse(opt, 1, LONG_MAX, &maxmsg) < 0)
		return -EINVAL;
	attr->mq_maxmsg = maxmsg;
	attr->mq_msgsize = size_max < MQ_POSIX_MSGSIZE ? size_max : MQ_POSIX_MSGSIZE;
	if (attr->mq_msgsize < IPC_MESSAGE_SIZE) {
		snprintf(t->detail, sizeof(t->detail),
			 "fs.mqueue.msgsize_max %lld is below a frame (%d bytes)",
			 size_max, IPC_MESSAGE_SIZE);
		return -EMSGSIZE;
	}
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
	if (!mq_posix_ours(st))
		return -EPERM;
	st->msgsize = st->attr.mq_msgsize;
	return 0;
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
	    found.mq_msgsize == st->attr.mq_msgsize) {
		st->msgsize = found.mq_msgsize;
		return NAMED_OBJECT_OURS;	/* left by a killed receiver */
	}
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
	st->buf = malloc(st->attr.mq_msgsize);
	if (!st->buf)
		return -ENOMEM;
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
		n = mq_receive(st->mq, (char *)st->buf, st->msgsize, NULL);
		if (n >= 0) {
			if ((size_t)n > size)
				n = size;
			memcpy(buf, st->buf, n);
			return n;
		}
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN)
			return -errno;
		r = fd_wait(st->mq, POLLIN, deadline_left_ms(&d), NULL);
		if (r < 0)
			return r;
	}
}

/* Unlink only the queue we made (the name may be another's now), then
 * empty it: a sender waiting for POLLOUT wakes and finds it nameless. */
static void mq_posix_remove_ours(struct transport *t, struct mq_posix_state *st)
{
	unsigned long discarded = 0;
	struct stat named;
	mqd_t mq;

	mq = mq_open(st->name, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	if (mq != (mqd_t)-1) {
		if (fstat(mq, &named) == 0 && named.st_ino == st->held.st_ino &&
		    named.st_dev == st->held.st_dev)
			(void)mq_unlink(st->name);
		mq_close(mq);
	}
	while (mq_receive(st->mq, (char *)st->buf, st->msgsize, NULL) >= 0)
		discarded++;
	if (discarded)
		snprintf(t->detail, sizeof(t->detail),
			 "%lu unread frames discarded with %s", discarded, st->name);
}

/* ---- sender ------------------------------------------------------------ */

static int mq_posix_open_sender(struct mq_posix_state *st)
{
	struct mq_attr attr;

	st->mq = mq_open(st->name, O_WRONLY | O_NONBLOCK | O_CLOEXEC);
	/* Missing, someone else's, or not ours: our receiver is not there. */
	if (st->mq == (mqd_t)-1)
		return errno == ENOENT || errno == EACCES ? TRANSPORT_ABSENT : -errno;
	if (!mq_posix_ours(st))
		return TRANSPORT_ABSENT;
	if (mq_getattr(st->mq, &attr) < 0)
		return -errno;
	st->msgsize = attr.mq_msgsize;
	return 0;
}

static int mq_posix_send(struct transport *t, const uint8_t *frame,
			 size_t len)
{
	struct mq_posix_state *st = t->priv;
	struct stat sb;

	if ((long)len > st->msgsize)
		return -EMSGSIZE;
	/* Before sending: a frame put into a nameless queue is lost. */
	if (fstat(st->mq, &sb) < 0 || sb.st_nlink == 0)
		return TRANSPORT_STALE;
	while (mq_send(st->mq, (const char *)frame, len, 0) < 0) {
		if (errno == EINTR)
			continue;
		return errno == EAGAIN ? TRANSPORT_FULL : -errno;
	}
	return 0;
}

/* ---- both -------------------------------------------------------------- */

static void mq_posix_close(struct transport *t);

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

static void mq_posix_close(struct transport *t)
{
	struct mq_posix_state *st = t->priv;

	if (!st)
		return;
	if (st->mq != (mqd_t)-1) {
		if (t->role == TRANSPORT_RECEIVER)
			mq_posix_remove_ours(t, st);
		mq_close(st->mq);
	}
	free(st->buf);
	free(st);
	t->priv = NULL;
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
