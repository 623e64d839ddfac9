// SPDX-License-Identifier: MIT
/*
 * mq-sysv: a System V message queue (msgget, msgsnd, msgrcv), one message
 * of the frame's length per frame, taken in arrival order whatever its
 * type (msgtyp 0): FIFO. Push, lossless while both run: the sender uses
 * IPC_NOWAIT, so a full queue is TRANSPORT_FULL at once. Durable. Object:
 * one queue, mode 0600, under a key the registry hands out
 * (transport_sysv_open_receiver()); who makes, adopts and removes it:
 * docs/mechanisms/mq-sysv.md.
 *
 * Receiver, by timeout: -1 (the LED's) takes what is queued with
 * IPC_NOWAIT, then sleeps in msgrcv() itself, as bare (a stop posts the
 * wake message of lib/msg_wait.h; blocked stop signals add two
 * sigprocmask() around it). 0: IPC_NOWAIT only. Above 0: a doorbell
 * thread makes the queue pollable (lib/msg_doorbell.h). A frame's type is
 * its send time, so receive_many() (lib/stamped_batch.h) tells a lone
 * event (one msgrcv(), as bare) from a backlog without a failing call.
 */
#include "transport.h"

#include "../lib/message.h"
#include "../lib/msg_doorbell.h"
#include "../lib/msg_queue.h"
#include "../lib/msg_wait.h"
#include "../lib/named_object.h"
#include "../lib/private_object.h"
#include "../lib/stamped_batch.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/msg.h>

struct mq_sysv_state {
	struct msg_queue_object q;	/* its key and id */
	struct msg_doorbell *doorbell;	/* receiver, once a wait had a timeout */
	struct msg_wait wait;		/* receiver */
	uint64_t sent;			/* receiver: the last frame's send time */
	struct {
		long mtype;
		/* +1: a foreign message longer than a frame stays longer */
		uint8_t mtext[IPC_MESSAGE_MAX_WIRE + 1];
	} msg;
};

/* ---- receiver ---------------------------------------------------------- */

/* Called by the registry with each key it may hand out. */
static int mq_sysv_open_at(struct transport *t, int key)
{
	struct mq_sysv_state *st = t->priv;
	int r;

	st->q.key = key;
	r = named_object_get(&msg_queue_object_ops, &st->q);
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

	if (r == 0)
		msg_wait_init(&st->wait, st->q.id);
	return r;
}

/* What msg_wait or the doorbell returned: the frame copied out. */
static ssize_t mq_sysv_copy(struct transport *t, ssize_t n, uint8_t *buf,
			    size_t size)
{
	struct mq_sysv_state *st = t->priv;

	if (msg_queue_gone(-n))
		snprintf(t->detail, sizeof(t->detail),
			 "queue key 0x%08x removed under the receiver",
			 (unsigned int)st->q.key);
	if (n == -ENOMSG)
		return -ETIMEDOUT;
	if (n < 0)
		return n;
	if ((size_t)n > size)
		n = size;
	memcpy(buf, st->msg.mtext, n);
	return n;
}

/* One frame; its send time, the message's type, in st->sent. */
static ssize_t mq_sysv_receive(struct transport *t, uint8_t *buf,
			       size_t size, int timeout_ms)
{
	struct mq_sysv_state *st = t->priv;
	ssize_t n;

	/* msgrcv() has no timeout: a timed wait rings the doorbell. */
	if (timeout_ms > 0) {
		n = msg_doorbell_receive(&st->doorbell, &st->wait, &st->msg,
					 sizeof(st->msg.mtext), timeout_ms);
		if (n == -ECHILD)
			snprintf(t->detail, sizeof(t->detail), "doorbell thread");
	} else {
		n = msg_wait_receive(&st->wait, &st->msg,
				     sizeof(st->msg.mtext), timeout_ms < 0);
	}
	st->sent = (uint64_t)st->msg.mtype;
	return mq_sysv_copy(t, n, buf, size);
}

static ssize_t mq_sysv_receive_many(struct transport *t,
				    struct transport_batch *batch,
				    int timeout_ms)
{
	struct mq_sysv_state *st = t->priv;

	/* After a lone frame, the next wait sleeps at once. */
	return stamped_batch_receive(t, batch, timeout_ms, &st->sent,
				     &st->wait.empty);
}

/* Async-signal-safe: a stop ends a receive asleep in msgrcv(). */
static void mq_sysv_wake(struct transport *t)
{
	struct mq_sysv_state *st = t->priv;

	if (t->role == TRANSPORT_RECEIVER && st && st->q.id >= 0)
		msg_wait_wake(&st->wait);
}

/* ---- sender ------------------------------------------------------------ */

static int mq_sysv_open_sender(struct transport *t, struct mq_sysv_state *st)
{
	struct msqid_ds ds;
	int r = transport_sysv_key(t, &st->q.key);

	if (r < 0)
		return r;
	/* Missing, or closed to us, or not ours: no receiver of ours yet. */
	st->q.id = msgget(st->q.key, 0);
	if (st->q.id < 0)
		return errno == ENOENT || errno == EACCES ? TRANSPORT_ABSENT : -errno;
	if (msgctl(st->q.id, IPC_STAT, &ds) < 0)
		return msg_queue_gone(errno) || errno == EACCES ? TRANSPORT_ABSENT : -errno;
	return private_object_sysv(&ds.msg_perm) ? 0 : TRANSPORT_ABSENT;
}

static int mq_sysv_send(struct transport *t, const uint8_t *frame, size_t len)
{
	struct mq_sysv_state *st = t->priv;

	/* An empty message would be lost to the doorbell; nothing sends one. */
	if (len == 0 || len > IPC_MESSAGE_MAX_WIRE)
		return -EMSGSIZE;
	st->msg.mtype = msg_wait_stamp();	/* its send time */
	memcpy(st->msg.mtext, frame, len);
	/* IPC_NOWAIT: never interrupted. A removed or replaced queue (a new
	 * one has a new id) is stale: the button reopens. */
	if (msgsnd(st->q.id, &st->msg, len, IPC_NOWAIT) == 0)
		return 0;
	if (errno == EAGAIN)
		return TRANSPORT_FULL;		/* msg_qbytes reached */
	return msg_queue_gone(errno) ? TRANSPORT_STALE : -errno;
}

/* ---- both -------------------------------------------------------------- */

static void mq_sysv_close(struct transport *t)
{
	struct mq_sysv_state *st = t->priv;
	struct msqid_ds ds;
	bool removed;

	/* The receiver removes its queue, with what it still holds. */
	if (t->role == TRANSPORT_RECEIVER && st->q.id >= 0) {
		if (msgctl(st->q.id, IPC_STAT, &ds) == 0 &&
		    ds.msg_qnum > msg_wait_pending(&st->wait))
			snprintf(t->detail, sizeof(t->detail),
				 "%lu unread frames discarded with queue key 0x%08x",
				 (unsigned long)ds.msg_qnum - msg_wait_pending(&st->wait),
				 (unsigned int)st->q.key);
		/* Removal also ends the doorbell's msgrcv() with EIDRM. */
		removed = msgctl(st->q.id, IPC_RMID, NULL) == 0 || msg_queue_gone(errno);
		if (!removed)
			snprintf(t->detail, sizeof(t->detail),
				 "cannot remove queue key 0x%08x", (unsigned int)st->q.key);
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
	st->q.id = -1;
	st->wait.msqid = -1;
	t->priv = st;
	r = t->role == TRANSPORT_RECEIVER ? mq_sysv_open_receiver(t, st) :
					    mq_sysv_open_sender(t, st);
	if (r < 0)
		mq_sysv_close(t);
	return r;
}

static int mq_sysv_poll_fd(struct transport *t)
{
	/* -1 for a sender, and for a receiver until a timed wait started the
	 * doorbell: TRANSPORT_FULL means back off. */
	return msg_doorbell_fd(((struct mq_sysv_state *)t->priv)->doorbell);
}

static const struct transport_ops mq_sysv_ops = {
	.name = "mq-sysv",
	.summary = "System V message queue, one message per frame, IPC_NOWAIT sender",
	.flags = TRANSPORT_LOSSLESS | TRANSPORT_PUSH | TRANSPORT_DURABLE |
		 TRANSPORT_WAKE_ANYWHERE,
	.open = mq_sysv_open,
	.send = mq_sysv_send,
	.receive = mq_sysv_receive,
	.receive_many = mq_sysv_receive_many,
	.poll_fd = mq_sysv_poll_fd,
	.wake = mq_sysv_wake,
	.close = mq_sysv_close,
};

TRANSPORT_REGISTER(mq_sysv_ops);
