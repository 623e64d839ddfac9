// SPDX-License-Identifier: MIT
/*
 * mq-posix: a POSIX message queue (mq_open, mq_send, mq_receive), one
 * message per frame (the frame, then its send time), all of priority 0:
 * FIFO. Push, lossless while both run: the sender is O_NONBLOCK, so a full
 * queue is TRANSPORT_FULL at once and POLLOUT says when to go on. Durable.
 * Object: the queue transport_global_name() names, 0600, 264-byte messages;
 * who makes, adopts and removes it: docs/mechanisms/mq-posix.md.
 *
 * Receive, by timeout: -1 (the LED's) sleeps in mq_receive() itself on
 * a blocking descriptor, as bare (a stop posts the wake message of
 * lib/mqueue_wait.h; blocked stop signals add two sigprocmask() around
 * it, one after the wake-up); after a backlog it looks
 * first. 0: a look only (an absolute timeout long past). Above 0: ppoll()
 * then a look. Each message carries its send time after the frame, so
 * receive_many() (lib/stamped_batch.h) tells a lone event (one
 * mq_receive(), as bare) from a backlog without a failing look.
 * Send: mq_send() alone. A receiver that leaves empties its queue,
 * seals it full (lib/mqueue_wait.h) and unlinks it, so a sender finds
 * out at its next mq_send(): a queue full and nameless (fstat(), only
 * when full) has no reader, TRANSPORT_STALE, the frame kept. A full one
 * with a name is TRANSPORT_FULL, and poll_fd() is readable when it has
 * room or loses its name (lib/mqueue_room.h).
 */
#include "transport.h"

#include "../lib/message.h"
#include "../lib/mqueue_object.h"
#include "../lib/mqueue_room.h"
#include "../lib/mqueue_wait.h"
#include "../lib/named_object.h"
#include "../lib/number.h"
#include "../lib/send_stamp.h"
#include "../lib/stamped_batch.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <mqueue.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define MQ_POSIX_MSGSIZE	(IPC_MESSAGE_MAX_WIRE + SEND_STAMP_SIZE)
#define MQ_POSIX_MAXMSG_CAP	64	/* enough for bursts; more is memory */

struct mq_posix_state {
	struct mqueue_object q;		/* name, descriptor, shape */
	uint8_t buf[MQ_POSIX_MSGSIZE];	/* one whole message */
	struct mqueue_wait wait;	/* receiver: its descriptor, blocking */
	struct mqueue_room room;	/* sender: its wait, once full */
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
	if (r < 0)
		return r;
	mqueue_wait_init(&st->wait, st->q.mq);
	return 0;
}

/* One frame; its send time in st->sent. The receiver waits in
 * mq_receive() itself, woken by a stop (lib/mqueue_wait.h). */
static ssize_t mq_posix_receive(struct transport *t, uint8_t *buf,
				size_t size, int timeout_ms)
{
	struct mq_posix_state *st = t->priv;
	ssize_t n = mqueue_wait_receive(&st->wait, st->buf, sizeof(st->buf),
					timeout_ms);

	if (n < 0)
		return n;
	n = send_stamp_strip(st->buf, n, &st->sent);
	if ((size_t)n > size)
		n = size;
	memcpy(buf, st->buf, n);
	return n;
}

static ssize_t mq_posix_receive_many(struct transport *t,
				     struct transport_batch *batch,
				     int timeout_ms)
{
	struct mq_posix_state *st = t->priv;

	/* After a lone frame, the next wait sleeps at once. */
	return stamped_batch_receive(t, batch, timeout_ms, &st->sent,
				     &st->wait.empty);
}

/* Async-signal-safe: a stop ends a receive asleep in mq_receive(). */
static void mq_posix_wake(struct transport *t)
{
	struct mq_posix_state *st = t->priv;

	if (t->role == TRANSPORT_RECEIVER && st)
		mqueue_wait_wake(&st->wait);
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

/*
 * Full, or sealed by a receiver that left: the wait for room armed first,
 * then a look at the name, so that a removal after the look wakes the
 * poll. With no wait (no /proc, no inotify watches left) poll_fd() says
 * -1 and the caller backs off, and its next send looks again.
 */
static int mq_posix_full(struct mq_posix_state *st)
{
	struct stat sb;

	(void)mqueue_room_arm(&st->room, st->q.mq);
	if (fstat(st->q.mq, &sb) < 0 || sb.st_nlink == 0)
		return TRANSPORT_STALE;
	return TRANSPORT_FULL;
}

static int mq_posix_send(struct transport *t, const uint8_t *frame,
			 size_t len)
{
	struct mq_posix_state *st = t->priv;

	if (len > IPC_MESSAGE_MAX_WIRE)
		return -EMSGSIZE;
	len = send_stamp_append(st->buf, frame, len);
	/* O_NONBLOCK: never interrupted; -EMSGSIZE for a frame too long. */
	if (mq_send(st->q.mq, (const char *)st->buf, len, 0) == 0)
		return 0;
	return errno == EAGAIN ? mq_posix_full(st) : -errno;
}

/* ---- both -------------------------------------------------------------- */

static void mq_posix_close(struct transport *t)
{
	struct mq_posix_state *st = t->priv;
	unsigned long discarded = 0;
	struct stat sb;
	ssize_t n;

	/* The receiver empties its queue, seals it full, and only then
	 * unlinks it, while the name is still its own (a queue has one name
	 * at most): a sender's next mq_send() fails, one asleep for room
	 * wakes (the unlink), and both find it nameless. What a sender put in
	 * after the emptying, before it met the seal, is counted with the
	 * rest. Killed before the unlink, it leaves a queue the next receiver
	 * adopts: its frames, and the seal's wake messages, never events. */
	if (t->role == TRANSPORT_RECEIVER && st->q.mq != (mqd_t)-1) {
		struct mqueue_wait last;
		long late;

		st->wait.mq = (mqd_t)-1;	/* a stop now posts nothing */
		mqueue_wait_init(&last, st->q.mq);
		while ((n = mqueue_wait_take(&last, st->buf, sizeof(st->buf))) >= 0)
			discarded += n > 0;	/* a wake message is no frame */
		late = mqueue_wait_seal(&last);
		discarded += late > 0 ? (unsigned long)late : 0;
		if (fstat(st->q.mq, &sb) == 0 && sb.st_nlink > 0)
			(void)mq_unlink(st->q.name);
		if (discarded)
			snprintf(t->detail, sizeof(t->detail),
				 "%lu unread frames discarded with %s", discarded, st->q.name);
	}
	mqueue_room_close(&st->room);
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
	st->wait.mq = (mqd_t)-1;
	mqueue_room_init(&st->room);
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

/* The receiver's queue; the sender's wait for room, -1 until it was full. */
static int mq_posix_poll_fd(struct transport *t)
{
	struct mq_posix_state *st = t->priv;

	return t->role == TRANSPORT_RECEIVER ? st->q.mq : st->room.epoll_fd;
}

static const struct transport_ops mq_posix_ops = {
	.name = "mq-posix",
	.summary = "POSIX message queue, pollable descriptor, O_NONBLOCK sender",
	.flags = TRANSPORT_LOSSLESS | TRANSPORT_PUSH | TRANSPORT_DURABLE |
		 TRANSPORT_WAKE_ANYWHERE | TRANSPORT_ROOM_READABLE,
	.options = mq_posix_options,
	.open = mq_posix_open,
	.send = mq_posix_send,
	.receive = mq_posix_receive,
	.receive_many = mq_posix_receive_many,
	.poll_fd = mq_posix_poll_fd,
	.wake = mq_posix_wake,
	.close = mq_posix_close,
};

TRANSPORT_REGISTER(mq_posix_ops);
