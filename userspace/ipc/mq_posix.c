// SPDX-License-Identifier: MIT
/*
 * mq-posix: a POSIX message queue (mq_open, mq_send, mq_receive).
 *
 * Push: each frame is one message of exactly the frame's length.
 * Lossless while both run: the sender's descriptor is O_NONBLOCK, so a
 *   full queue makes send() return -EAGAIN at once; on Linux a queue
 *   descriptor can be polled, so poll_fd() is the descriptor itself and
 *   POLLOUT says when the button may retry. Nothing is dropped or blocks.
 * Ordering: FIFO; every frame has priority 0.
 * Object: the queue transport_global_name() names
 *   ("/ipc-button.<uid>.<instance>.mq-posix", visible in /dev/mqueue where
 *   that is mounted), mode 0600, mq_msgsize 256 (IPC_MESSAGE_MAX_WIRE, so
 *   an oversized frame still reaches the decoder) and mq_maxmsg
 *   fs.mqueue.msg_max, at most 64: 10 for a non-root user on a default
 *   system (--opt maxmsg=N to choose). The receiver creates it with
 *   O_CREAT|O_EXCL and unlinks it on close. At start it adopts a queue
 *   that is ours, 0600 and of our message size, left by a killed receiver,
 *   with the frames in it; anything else under the name is unlinked and
 *   recreated. The sender only opens it (-ENOENT before the receiver has
 *   made it). An unlinked queue lives on for whoever still holds it, so
 *   the sender checks before every send that its queue still has a name
 *   (fstat: st_nlink is 0 once unlinked, and a queue created under the
 *   name since is a different inode): -EPIPE when not, and the button
 *   reopens and redelivers its backlog.
 *   One receiver per instance: a queue cannot tell whether the receiver
 *   that made it still runs.
 * While the receiver restarts:
 *   - killed (SIGKILL): the queue stays; the sender keeps filling it, then
 *     waits for POLLOUT with a backlog. The next receiver adopts it and
 *     gets every frame in order. Only a frame the dead receiver had
 *     already taken out is lost.
 *   - stopped (SIGTERM, SIGINT): the receiver unlinks the queue, then
 *     empties it (stderr says how many frames it discards), so a sender
 *     waiting for POLLOUT on a full queue wakes, finds the queue nameless
 *     and gets -EPIPE.
 *
 * Descriptors: the kernel makes every message queue descriptor
 * close-on-exec itself (mq_open allocates it with O_CLOEXEC), so no flag
 * is needed and none exists.
 */
#include "transport.h"

#include "../lib/deadline.h"
#include "../lib/message.h"
#include "../lib/private_object.h"
#include "../lib/fd_wait.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <mqueue.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define MQ_POSIX_MSGSIZE	IPC_MESSAGE_MAX_WIRE
#define MQ_POSIX_MAXMSG_CAP	64	/* enough for bursts; more is memory */
#define MQ_POSIX_MSG_MAX_FILE	"/proc/sys/fs/mqueue/msg_max"
#define MQ_POSIX_MSGSIZE_MAX_FILE "/proc/sys/fs/mqueue/msgsize_max"
#define MQ_POSIX_DEFAULT_MSG_MAX 10	/* the kernel's default msg_max */

struct mq_posix {
	char name[NAME_MAX];
	mqd_t mq;
	long msgsize;			/* of the queue we hold */
	ino_t ino;			/* identity of the queue we hold */
	dev_t dev;
	uint8_t *buf;			/* receiver: one whole message */
};

static const struct transport_option mq_posix_options[] = {
	{ "maxmsg", NULL,
	  "queue depth in frames (default: fs.mqueue.msg_max, at most 64)", NULL },
	{ NULL, NULL, NULL, NULL },
};

static long read_proc_long(const char *path, long fallback)
{
	FILE *f = fopen(path, "re");
	long value;

	if (!f)
		return fallback;
	if (fscanf(f, "%ld", &value) != 1 || value <= 0)
		value = fallback;
	fclose(f);
	return value;
}

static int mq_posix_attr(struct transport *t, struct mq_attr *attr)
{
	const char *opt = transport_option(t, "maxmsg");
	long limit = read_proc_long(MQ_POSIX_MSG_MAX_FILE,
				    MQ_POSIX_DEFAULT_MSG_MAX);
	long msgsize_max = read_proc_long(MQ_POSIX_MSGSIZE_MAX_FILE,
					  MQ_POSIX_MSGSIZE);

	memset(attr, 0, sizeof(*attr));
	/* Within what a non-root user may ask for (mq_overview(7)). */
	attr->mq_maxmsg = limit < MQ_POSIX_MAXMSG_CAP ? limit :
						       MQ_POSIX_MAXMSG_CAP;
	if (opt) {
		char *end;

		errno = 0;
		attr->mq_maxmsg = strtol(opt, &end, 10);
		if (errno || *end || attr->mq_maxmsg <= 0) {
			fprintf(stderr, "%s: maxmsg=%s is not a positive number\n",
				t->ops->name, opt);
			return -EINVAL;
		}
	}
	attr->mq_msgsize = msgsize_max < MQ_POSIX_MSGSIZE ? msgsize_max :
							    MQ_POSIX_MSGSIZE;
	if (attr->mq_msgsize < IPC_MESSAGE_SIZE) {
		fprintf(stderr, "%s: fs.mqueue.msgsize_max %ld is below a frame (%d bytes)\n",
			t->ops->name, msgsize_max, IPC_MESSAGE_SIZE);
		return -EMSGSIZE;
	}
	return 0;
}

static int mq_posix_identify(struct mq_posix *q)
{
	struct stat st;

	if (fstat(q->mq, &st) < 0)
		return -errno;
	q->ino = st.st_ino;
	q->dev = st.st_dev;
	return private_object_file(&st) ? 0 : -EPERM;
}

/*
 * Adopt the queue under our name if it is ours, private and of our
 * message size: 0 adopted, 1 not usable (closed again), -ENOENT gone.
 */
static int mq_posix_adopt(struct transport *t, struct mq_posix *q,
			  const struct mq_attr *want)
{
	struct mq_attr attr;
	int r;

	q->mq = mq_open(q->name, O_RDONLY | O_NONBLOCK);
	if (q->mq == (mqd_t)-1)
		return errno == EACCES ? 1 : -errno;
	r = mq_posix_identify(q);
	if (r == 0 && mq_getattr(q->mq, &attr) == 0 &&
	    attr.mq_msgsize == want->mq_msgsize) {
		q->msgsize = attr.mq_msgsize;
		return 0;
	}
	fprintf(stderr, "%s: %s is not a queue of ours (owner, mode or message size)\n",
		t->ops->name, q->name);
	mq_close(q->mq);
	q->mq = (mqd_t)-1;
	return 1;
}

static int mq_posix_create(struct transport *t, struct mq_posix *q,
			   struct mq_attr *attr)
{
	int r = -EEXIST;

	for (int attempt = 0; attempt < 5; attempt++) {
		q->mq = mq_open(q->name, O_RDONLY | O_NONBLOCK | O_CREAT | O_EXCL,
				PRIVATE_OBJECT_MODE, attr);
		if (q->mq != (mqd_t)-1) {
			/* The umask may have taken bits away: set exactly. */
			if (fchmod(q->mq, PRIVATE_OBJECT_MODE) < 0) {
				r = -errno;
				fprintf(stderr, "%s: chmod %s: %s\n",
					t->ops->name, q->name, strerror(-r));
				return r;
			}
			r = mq_posix_identify(q);
			if (r < 0)
				return r;
			q->msgsize = attr->mq_msgsize;
			return 0;
		}
		if (errno != EEXIST) {
			r = -errno;
			fprintf(stderr, "%s: mq_open %s (maxmsg %ld, msgsize %ld): %s\n",
				t->ops->name, q->name, (long)attr->mq_maxmsg,
				(long)attr->mq_msgsize, strerror(-r));
			return r;
		}
		r = mq_posix_adopt(t, q, attr);
		if (r == 0)
			return 0;	/* left by a killed receiver */
		if (r == -ENOENT)
			continue;	/* gone meanwhile: create */
		if (r < 0)
			break;
		/* Foreign or stale: replace it. */
		if (mq_unlink(q->name) < 0 && errno != ENOENT) {
			r = -errno;
			break;
		}
		r = -EEXIST;
	}
	fprintf(stderr, "%s: cannot use or replace %s: %s\n", t->ops->name,
		q->name, strerror(-r));
	return r;
}

static int mq_posix_open_sender(struct mq_posix *q)
{
	struct mq_attr attr;

	q->mq = mq_open(q->name, O_WRONLY | O_NONBLOCK);
	if (q->mq == (mqd_t)-1)
		/* Missing, or someone else's: no receiver of ours yet. */
		return errno == ENOENT || errno == EACCES ? -ENOENT : -errno;
	if (mq_posix_identify(q) < 0)
		return -ENOENT;	/* not ours: our receiver will replace it */
	if (mq_getattr(q->mq, &attr) < 0)
		return -errno;
	q->msgsize = attr.mq_msgsize;
	return 0;
}

static void mq_posix_close(struct transport *t);

static int mq_posix_open(struct transport *t)
{
	struct mq_attr attr;
	struct mq_posix *q;
	int r;

	q = calloc(1, sizeof(*q));
	if (!q)
		return -ENOMEM;
	q->mq = (mqd_t)-1;
	t->priv = q;
	r = transport_global_name(t, q->name, sizeof(q->name));
	if (r < 0)
		goto fail;
	if (t->role == TRANSPORT_SENDER) {
		r = mq_posix_open_sender(q);
		if (r < 0)
			goto fail;
		return 0;
	}
	r = mq_posix_attr(t, &attr);
	if (r < 0)
		goto fail;
	q->buf = malloc(attr.mq_msgsize);
	if (!q->buf) {
		r = -ENOMEM;
		goto fail;
	}
	r = mq_posix_create(t, q, &attr);
	if (r < 0)
		goto fail;
	return 0;
fail:
	mq_posix_close(t);
	return r;
}

/* Is the queue we hold still the one under our name? */
static bool mq_posix_still_named(struct mq_posix *q)
{
	struct stat st;

	/* Unlinked: its link count drops to 0 (mqueue_unlink). */
	return fstat(q->mq, &st) == 0 && st.st_nlink > 0;
}

static int mq_posix_send(struct transport *t, const uint8_t *frame,
			 size_t len)
{
	struct mq_posix *q = t->priv;

	if ((long)len > q->msgsize)
		return -EMSGSIZE;
	/* Before sending: a frame put into a nameless queue is lost. */
	if (!mq_posix_still_named(q))
		return -EPIPE;
	while (mq_send(q->mq, (const char *)frame, len, 0) < 0) {
		if (errno == EINTR)
			continue;
		return -errno;	/* -EAGAIN when full: wait for POLLOUT */
	}
	return 0;
}

static ssize_t mq_posix_receive(struct transport *t, uint8_t *buf,
				size_t size, int timeout_ms)
{
	struct mq_posix *q = t->priv;
	struct deadline d;
	ssize_t n;
	int r;

	deadline_start(&d, timeout_ms);
	for (;;) {
		n = mq_receive(q->mq, (char *)q->buf, q->msgsize, NULL);
		if (n >= 0) {
			if ((size_t)n > size)
				n = size;
			memcpy(buf, q->buf, n);
			return n;
		}
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN)
			return -errno;
		r = fd_wait(q->mq, POLLIN, deadline_left_ms(&d), NULL);
		if (r < 0)
			return r;
	}
}

static int mq_posix_poll_fd(struct transport *t)
{
	struct mq_posix *q = t->priv;

	return q->mq;
}

static void mq_posix_remove(struct transport *t, struct mq_posix *q)
{
	struct mq_attr attr;
	unsigned long discarded = 0;
	struct stat st;
	mqd_t named;

	/* Unlink only the queue we made: the name may be someone else's now. */
	named = mq_open(q->name, O_RDONLY | O_NONBLOCK);
	if (named != (mqd_t)-1) {
		if (fstat(named, &st) == 0 && st.st_ino == q->ino &&
		    st.st_dev == q->dev)
			(void)mq_unlink(q->name);
		mq_close(named);
	}
	/* Empty it: a sender waiting for POLLOUT wakes and sees -EPIPE. */
	if (mq_getattr(q->mq, &attr) == 0 && attr.mq_curmsgs > 0)
		while (mq_receive(q->mq, (char *)q->buf, q->msgsize, NULL) >= 0)
			discarded++;
	if (discarded)
		fprintf(stderr, "%s: %lu unread frames discarded with %s\n",
			t->ops->name, discarded, q->name);
}

static void mq_posix_close(struct transport *t)
{
	struct mq_posix *q = t->priv;

	if (!q)
		return;
	if (q->mq != (mqd_t)-1) {
		if (t->role == TRANSPORT_RECEIVER)
			mq_posix_remove(t, q);
		mq_close(q->mq);
	}
	free(q->buf);
	free(q);
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
