// SPDX-License-Identifier: MIT
/*
 * mq-posix: a POSIX message queue (mq_open, mq_send, mq_receive), one
 * message per frame (the frame, then its send time), all of priority 0:
 * FIFO. Push, lossless while both run: the sender is O_NONBLOCK, so a full
 * queue is TRANSPORT_FULL at once and POLLOUT says when to go on. Durable.
 * Object: the queue transport_global_name() names, 0600, 264-byte messages;
 * who makes, adopts and removes it: docs/mechanisms/mq-posix.md.
 *
 * Receive: ppoll() then mq_receive() when the last receive waited, else
 * mq_receive() first; receive_many() adds what is queued, unless the first
 * frame's send time says the queue was empty when it began (a lone event:
 * no failing look). Send: fstat() (a queue whose name is gone has no
 * reader: TRANSPORT_STALE, not a lost frame), then mq_send().
 */
#include "transport.h"

#include "../lib/deadline.h"
#include "../lib/fd_wait.h"
#include "../lib/message.h"
#include "../lib/mqueue_object.h"
#include "../lib/named_object.h"
#include "../lib/number.h"
#include "../lib/send_stamp.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <mqueue.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define MQ_POSIX_MSGSIZE	(IPC_MESSAGE_MAX_WIRE + SEND_STAMP_SIZE)
#define MQ_POSIX_MAXMSG_CAP	64	/* enough for bursts; more is memory */

struct mq_posix_state {
	struct mqueue_object q;		/* name, descriptor, shape */
	uint8_t buf[MQ_POSIX_MSGSIZE];	/* one whole message */
	bool idle;			/* receiver: the last receive waited */
	uint64_t sent;			/* receiver: the last frame's send time */
};

static const struct transport_option mq_posix_options[] = {
	{ "maxmsg", NULL, "queue depth in frames (default: fs.mqueue.msg_max, at most 64)",
	  number_check_positive },
	{ NULL, NULL, NULL, NULL },
};

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
	attr->mq_msgsize = size_max < MQ_POSIX_MSGSIZE ? size_max : (long)MQ_POSIX_MSGSIZE;
	return 0;
}

static int mq_posix_open_receiver(struct transport *t,
				  struct mq_posix_state *st)
{
	int r = mq_posix_shape(t, &st->q.attr);

	if (r < 0)
		return r;
	r = named_object_get(&mqueue_object_ops, &st->q);
	if (r == NAMED_OBJECT_REPLACED)
		snprintf(t->detail, sizeof(t->detail),
			 "%s: replaced a queue that was not ours (owner, mode or message size)",
			 st->q.name);
	return r < 0 ? r : 0;
}

/*
 * One message. When the last receive had to wait, the next message is most
 * likely not there yet either: wait first (ppoll, the stop signals let
 * in), sparing the mq_receive() that would fail with EAGAIN.
 */
static ssize_t mq_posix_receive(struct transport *t, uint8_t *buf,
				size_t size, int timeout_ms)
{
	struct mq_posix_state *st = t->priv;
	bool waited = false;
	struct deadline d;
	ssize_t n;
	int r;

	deadline_start(&d, timeout_ms);
	for (;;) {
		if ((st->idle || waited) && timeout_ms) {
			r = fd_wait(st->q.mq, POLLIN, deadline_left_ms(&d), NULL);
			if (r < 0)
				return r;
			waited = true;
		}
		n = mq_receive(st->q.mq, (char *)st->buf, sizeof(st->buf), NULL);
		if (n >= 0) {
			st->idle = waited;
			n = send_stamp_strip(st->buf, n, &st->sent);
			if ((size_t)n > size)
				n = size;
			memcpy(buf, st->buf, n);
			return n;
		}
		/* O_NONBLOCK: it never sleeps, so no signal interrupts it. */
		if (errno != EAGAIN)
			return -errno;
		if (!timeout_ms)
			return -ETIMEDOUT;
		waited = true;
	}
}

/*
 * The first frame as receive(). One sent after this call began found the
 * queue empty: it is the batch (what came with it, the next call takes at
 * once). After an older one, what is queued, without waiting.
 */
static ssize_t mq_posix_receive_many(struct transport *t,
				     struct transport_batch *batch,
				     int timeout_ms)
{
	struct mq_posix_state *st = t->priv;
	uint64_t begun = monotonic_ns();
	ssize_t n = mq_posix_receive(t, batch->frame[0],
				     sizeof(batch->frame[0]), timeout_ms);
	bool lone = n >= 0 && st->sent >= begun;

	while (n >= 0) {
		batch->len[batch->count++] = (size_t)n;
		if (lone || batch->count == TRANSPORT_BATCH_MAX)
			break;
		n = mq_posix_receive(t, batch->frame[batch->count],
				     sizeof(batch->frame[0]), 0);
	}
	/* Emptied: the next receive waits first. What else ended it comes again. */
	if (lone || n == -ETIMEDOUT)
		st->idle = true;
	return batch->count ? (ssize_t)batch->count : n;
}

/* ---- sender ------------------------------------------------------------ */

static int mq_posix_open_sender(struct mq_posix_state *st)
{
	st->q.mq = mq_open(st->q.name, O_WRONLY | O_NONBLOCK | O_CLOEXEC);
	/* Missing, someone else's, or not ours: our receiver is not there. */
	if (st->q.mq == (mqd_t)-1)
		return errno == ENOENT || errno == EACCES ? TRANSPORT_ABSENT : -errno;
	return mqueue_object_ours(st->q.mq) ? 0 : TRANSPORT_ABSENT;
}

static int mq_posix_send(struct transport *t, const uint8_t *frame,
			 size_t len)
{
	struct mq_posix_state *st = t->priv;
	struct stat sb;

	if (len > IPC_MESSAGE_MAX_WIRE)
		return -EMSGSIZE;
	/* Before sending: a frame put into a nameless queue is lost. */
	if (fstat(st->q.mq, &sb) < 0 || sb.st_nlink == 0)
		return TRANSPORT_STALE;
	len = send_stamp_append(st->buf, frame, len);
	/* O_NONBLOCK: never interrupted; -EMSGSIZE for a frame too long. */
	if (mq_send(st->q.mq, (const char *)st->buf, len, 0) < 0)
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
	if (t->role == TRANSPORT_RECEIVER && st->q.mq != (mqd_t)-1) {
		if (fstat(st->q.mq, &sb) == 0 && sb.st_nlink > 0)
			(void)mq_unlink(st->q.name);
		while (mq_receive(st->q.mq, (char *)st->buf, sizeof(st->buf), NULL) >= 0)
			discarded++;
		if (discarded)
			snprintf(t->detail, sizeof(t->detail),
				 "%lu unread frames discarded with %s", discarded, st->q.name);
	}
	if (st->q.mq != (mqd_t)-1)
		mq_close(st->q.mq);
	free(st);
	t->priv = NULL;
}

static int mq_posix_open(struct transport *t)
{
	struct mq_posix_state *st = calloc(1, sizeof(*st));
	int r;

	if (!st)
		return -ENOMEM;
	st->q.mq = (mqd_t)-1;
	t->priv = st;
	r = transport_global_name(t, st->q.name, sizeof(st->q.name));
	if (r == 0)
		r = t->role == TRANSPORT_RECEIVER ? mq_posix_open_receiver(t, st) :
						    mq_posix_open_sender(st);
	if (r < 0) {
		if (!t->detail[0])
			snprintf(t->detail, sizeof(t->detail), "%s", st->q.name);
		mq_posix_close(t);
	}
	return r;
}

static int mq_posix_poll_fd(struct transport *t)
{
	return ((struct mq_posix_state *)t->priv)->q.mq;
}

static const struct transport_ops mq_posix_ops = {
	.name = "mq-posix",
	.summary = "POSIX message queue, pollable descriptor, O_NONBLOCK sender",
	.flags = TRANSPORT_LOSSLESS | TRANSPORT_PUSH | TRANSPORT_DURABLE,
	.options = mq_posix_options,
	.open = mq_posix_open,
	.send = mq_posix_send,
	.receive = mq_posix_receive,
	.receive_many = mq_posix_receive_many,
	.poll_fd = mq_posix_poll_fd,
	.close = mq_posix_close,
};

TRANSPORT_REGISTER(mq_posix_ops);
