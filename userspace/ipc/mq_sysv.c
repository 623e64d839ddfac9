// SPDX-License-Identifier: MIT
/*
 * mq-sysv: a System V message queue (msgget, msgsnd, msgrcv), one message
 * of the frame's length per frame, all of one type, so FIFO. Push,
 * lossless while both run: the sender uses IPC_NOWAIT, so a full queue is
 * TRANSPORT_FULL at once. Durable. Object: one queue, mode 0600, under a
 * key the registry hands out (transport_sysv_open_receiver()); it has no
 * descriptor, so the receiver waits on a doorbell (lib/msg_doorbell.h).
 * Who makes, adopts and removes it: docs/mechanisms/mq-sysv.md.
 */
#include "transport.h"

#include "../lib/deadline.h"
#include "../lib/message.h"
#include "../lib/msg_doorbell.h"
#include "../lib/named_object.h"
#include "../lib/private_object.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/msg.h>

struct mq_sysv_state {
	int key;
	int id;
	int found_id;			/* receiver: what adopt() looked at */
	struct msg_doorbell *doorbell;	/* receiver */
	struct {
		long mtype;
		/* +1: a foreign message longer than a frame stays longer */
		uint8_t mtext[IPC_MESSAGE_MAX_WIRE + 1];
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

	/* Gone by itself meanwhile is fine too. */
	return msgctl(st->found_id, IPC_RMID, NULL) == 0 || mq_sysv_gone(errno) ?
	       0 : -errno;
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
		/* IPC_NOWAIT: it never sleeps, so no signal interrupts it. */
		r = -errno;
		if (mq_sysv_gone(-r))
			snprintf(t->detail, sizeof(t->detail),
				 "queue key 0x%08x removed under the receiver",
				 (unsigned int)st->key);
		if (r != -ENOMSG)
			return r;
		r = msg_doorbell_wait(st->doorbell, deadline_left_ms(&d));
		if (r < 0 && -r == msg_doorbell_error(st->doorbell))
			snprintf(t->detail, sizeof(t->detail), "doorbell: msgrcv");
		if (r < 0)
			return r;
	}
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
	st->msg.mtype = 1;	/* one type for every frame: FIFO */
	memcpy(st->msg.mtext, frame, len);
	/* IPC_NOWAIT: never interrupted. A removed or replaced queue (a new
	 * one has a new id) is stale: the button reopens. */
	if (msgsnd(st->id, &st->msg, len, IPC_NOWAIT) == 0)
		return 0;
	if (errno == EAGAIN)
		return TRANSPORT_FULL;		/* msg_qbytes reached */
	return mq_sysv_gone(errno) ? TRANSPORT_STALE : -errno;
}

/* ---- both -------------------------------------------------------------- */

static void mq_sysv_close(struct transport *t)
{
	struct mq_sysv_state *st = t->priv;
	struct msqid_ds ds;
	bool removed;

	/* The receiver removes its queue, with what it still holds. */
	if (t->role == TRANSPORT_RECEIVER && st->id >= 0) {
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
	free(st);
	t->priv = NULL;
}

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
	/* -1 for a sender (no doorbell): TRANSPORT_FULL means back off. */
	return msg_doorbell_fd(((struct mq_sysv_state *)t->priv)->doorbell);
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
