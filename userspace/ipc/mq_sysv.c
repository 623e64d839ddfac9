// SPDX-License-Identifier: MIT
/*
 * mq-sysv: a System V message queue (msgget, msgsnd, msgrcv).
 *
 * Push: each frame is one message of exactly the frame's length, all of
 * one type, so FIFO. Lossless while both run: the sender uses IPC_NOWAIT,
 * so a full queue (msg_qbytes, 16 KiB by default: 409 frames of 40 bytes)
 * is TRANSPORT_FULL at once; the sender has no fd to wait on and backs off.
 * Object: one queue, mode 0600 (System V ignores the umask), under a key
 * the registry hands out and records for the sender
 * (transport_sysv_open_receiver(), never a literal like 200).
 * Receiver: creates it IPC_CREAT|IPC_EXCL, adopting a queue of ours a
 * killed receiver left, with the frames in it, and replacing anything
 * else; removes it (IPC_RMID) on close, with whatever it still held.
 * Sender: only opens it (TRANSPORT_ABSENT until the receiver made it). A
 * removed or replaced queue makes msgsnd() fail with EIDRM or EINVAL (a
 * new queue has a new id): TRANSPORT_STALE, and the button reopens.
 * Waiting: a queue has no descriptor, so the receiver watches it with a
 * doorbell thread and waits on its eventfd (lib/msg_doorbell.h).
 */
#include "transport.h"

#include "../lib/deadline.h"
#include "../lib/fd_wait.h"
#include "../lib/message.h"
#include "../lib/msg_doorbell.h"
#include "../lib/named_object.h"
#include "../lib/private_object.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/msg.h>

#define MQ_SYSV_TYPE	1	/* the type of every frame we send */

/* One spare byte: a foreign message longer than any frame stays longer. */
#define MQ_SYSV_TEXT_MAX	(IPC_MESSAGE_MAX_WIRE + 1)

struct mq_sysv_state {
	int key;
	int id;
	int found_id;			/* receiver: what adopt() looked at */
	struct msg_doorbell *doorbell;	/* receiver */
	struct {
		long mtype;
		uint8_t mtext[MQ_SYSV_TEXT_MAX];
	} msg;
};

/* EIDRM: removed while we used it; EINVAL: the id no longer exists. */
static bool mq_sysv_gone(int err)
{
	return err == EIDRM || err == EINVAL;
}

/* ---- receiver ---------------------------------------------------------- */

static int mq_sysv_create(void *ctx)
{
	struct mq_sysv_state *st = ctx;

	st->id = msgget(st->key, IPC_CREAT | IPC_EXCL | PRIVATE_OBJECT_MODE);
	return st->id >= 0 ? 0 : -errno;
}

static int mq_sysv_adopt(void *ctx)
{
	struct mq_sysv_state *st = ctx;
	struct msqid_ds ds;

	st->found_id = msgget(st->key, 0);
	if (st->found_id < 0)
		return errno == ENOENT ? NAMED_OBJECT_GONE : -errno;
	if (msgctl(st->found_id, IPC_STAT, &ds) < 0)
		return mq_sysv_gone(errno) ? NAMED_OBJECT_GONE :
		       errno == EACCES ? NAMED_OBJECT_STALE : -errno;
	if (!private_object_sysv(&ds.msg_perm))
		return NAMED_OBJECT_STALE;
	st->id = st->found_id;		/* left by a killed receiver */
	return NAMED_OBJECT_OURS;
}

static int mq_sysv_remove(void *ctx)
{
	struct mq_sysv_state *st = ctx;

	if (msgctl(st->found_id, IPC_RMID, NULL) < 0 && !mq_sysv_gone(errno))
		return -errno;
	return 0;
}

static const struct named_object_ops mq_sysv_object = {
	.create = mq_sysv_create,
	.adopt = mq_sysv_adopt,
	.remove = mq_sysv_remove,
};

/* Called by the registry with each key it may hand out. */
static int mq_sysv_open_at(struct transport *t, int key)
{
	struct mq_sysv_state *st = t->priv;
	int r;

	st->key = key;
	r = named_object_get(&mq_sysv_object, st);
	if (r == NAMED_OBJECT_REPLACED)
		snprintf(t->detail, sizeof(t->detail),
			 "queue key 0x%08x was not ours: replaced", (unsigned int)key);
	else if (r < 0)
		snprintf(t->detail, sizeof(t->detail),
			 "queue key 0x%08x (see ipcs -q; ipcrm -Q 0x%08x)",
			 (unsigned int)key, (unsigned int)key);
	return r < 0 ? r : 0;
}

static int mq_sysv_open_receiver(struct transport *t, struct mq_sysv_state *st)
{
	int r = transport_sysv_open_receiver(t, mq_sysv_open_at);

	if (r < 0)
		return r;
	r = msg_doorbell_start(st->id, &st->doorbell);
	if (r < 0)
		snprintf(t->detail, sizeof(t->detail), "doorbell thread");
	return r;
}

static ssize_t mq_sysv_receive(struct transport *t, uint8_t *buf,
			       size_t size, int timeout_ms)
{
	struct mq_sysv_state *st = t->priv;
	struct deadline d;
	ssize_t n;
	int r;

	deadline_start(&d, timeout_ms);
	for (;;) {
		/* An empty message the doorbell took: the caller rejects it. */
		if (msg_doorbell_took_empty(st->doorbell))
			return 0;
		n = msgrcv(st->id, &st->msg, sizeof(st->msg.mtext), 0,
			   IPC_NOWAIT | MSG_NOERROR);
		if (n >= 0) {
			if ((size_t)n > size)
				n = size;
			memcpy(buf, st->msg.mtext, n);
			return n;
		}
		if (errno == EINTR)
			continue;
		if (errno != ENOMSG) {
			r = -errno;
			if (mq_sysv_gone(-r))
				snprintf(t->detail, sizeof(t->detail),
					 "queue key 0x%08x removed under the receiver",
					 (unsigned int)st->key);
			return r;
		}
		r = msg_doorbell_error(st->doorbell);
		if (r) {
			snprintf(t->detail, sizeof(t->detail), "doorbell: msgrcv");
			return -r;
		}
		msg_doorbell_rearm(st->doorbell);
		r = fd_wait(msg_doorbell_fd(st->doorbell), POLLIN,
			    deadline_left_ms(&d), NULL);
		if (r < 0)
			return r;
	}
}

static void mq_sysv_close_receiver(struct transport *t,
				   struct mq_sysv_state *st)
{
	struct msqid_ds ds;
	bool removed;

	if (st->id < 0)
		return;
	if (msgctl(st->id, IPC_STAT, &ds) == 0 && ds.msg_qnum)
		snprintf(t->detail, sizeof(t->detail),
			 "%lu unread frames discarded with queue key 0x%08x",
			 (unsigned long)ds.msg_qnum, (unsigned int)st->key);
	/* Removal also ends the doorbell's msgrcv() with EIDRM. */
	removed = msgctl(st->id, IPC_RMID, NULL) == 0 || mq_sysv_gone(errno);
	if (!removed)
		snprintf(t->detail, sizeof(t->detail),
			 "cannot remove queue key 0x%08x", (unsigned int)st->key);
	msg_doorbell_stop(st->doorbell, removed);
}

/* ---- sender ------------------------------------------------------------ */

static int mq_sysv_open_sender(struct transport *t, struct mq_sysv_state *st)
{
	struct msqid_ds ds;
	int r = transport_sysv_key(t, &st->key);

	if (r < 0)
		return r;
	/* Missing, or closed to us, or not ours: no receiver of ours yet. */
	st->id = msgget(st->key, 0);
	if (st->id < 0)
		return errno == ENOENT || errno == EACCES ? TRANSPORT_ABSENT : -errno;
	if (msgctl(st->id, IPC_STAT, &ds) < 0)
		return mq_sysv_gone(errno) || errno == EACCES ? TRANSPORT_ABSENT : -errno;
	return private_object_sysv(&ds.msg_perm) ? 0 : TRANSPORT_ABSENT;
}

static int mq_sysv_send(struct transport *t, const uint8_t *frame, size_t len)
{
	struct mq_sysv_state *st = t->priv;

	/* An empty message would be lost to the doorbell; nothing sends one. */
	if (len == 0 || len > IPC_MESSAGE_MAX_WIRE)
		return -EMSGSIZE;
	st->msg.mtype = MQ_SYSV_TYPE;
	memcpy(st->msg.mtext, frame, len);
	while (msgsnd(st->id, &st->msg, len, IPC_NOWAIT) < 0) {
		if (errno == EINTR)
			continue;
		if (errno == EAGAIN)
			return TRANSPORT_FULL;		/* msg_qbytes reached */
		if (mq_sysv_gone(errno))
			return TRANSPORT_STALE;		/* removed or replaced */
		return -errno;
	}
	return 0;
}

/* ---- both -------------------------------------------------------------- */

static void mq_sysv_close(struct transport *t);

static int mq_sysv_open(struct transport *t)
{
	struct mq_sysv_state *st = calloc(1, sizeof(*st));
	int r;

	if (!st)
		return -ENOMEM;
	st->id = -1;
	t->priv = st;
	r = t->role == TRANSPORT_RECEIVER ? mq_sysv_open_receiver(t, st) :
					    mq_sysv_open_sender(t, st);
	if (r < 0)
		mq_sysv_close(t);
	return r;
}

static int mq_sysv_poll_fd(struct transport *t)
{
	struct mq_sysv_state *st = t->priv;

	/* A sender has nothing to poll: TRANSPORT_FULL means back off. */
	return t->role == TRANSPORT_RECEIVER ? msg_doorbell_fd(st->doorbell) : -1;
}

static void mq_sysv_close(struct transport *t)
{
	struct mq_sysv_state *st = t->priv;

	if (!st)
		return;
	if (t->role == TRANSPORT_RECEIVER)
		mq_sysv_close_receiver(t, st);
	free(st);
	t->priv = NULL;
}

static const struct transport_ops mq_sysv_ops = {
	.name = "mq-sysv",
	.summary = "System V message queue, one message per frame, IPC_NOWAIT sender",
	.flags = TRANSPORT_LOSSLESS | TRANSPORT_PUSH | TRANSPORT_DURABLE,
	.open = mq_sysv_open,
	.send = mq_sysv_send,
	.receive = mq_sysv_receive,
	.poll_fd = mq_sysv_poll_fd,
	.close = mq_sysv_close,
};

TRANSPORT_REGISTER(mq_sysv_ops);
