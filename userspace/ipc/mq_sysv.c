// SPDX-License-Identifier: MIT
/*
 * mq-sysv: a System V message queue (msgget, msgsnd, msgrcv).
 *
 * Push: each frame is one message of exactly the frame's length (not a
 *   fixed 1024-byte buffer), which the kernel hands to the receiver.
 * Lossless while both run: the sender uses IPC_NOWAIT, so a full queue
 *   (msg_qbytes, 16 KiB by default: 409 frames of 40 bytes) makes send()
 *   return -EAGAIN at once; the button keeps the frame in its backlog and
 *   retries. Nothing is dropped, nothing blocks.
 * Ordering: FIFO; every frame has the same message type.
 * Object: one queue, key handed out by transport_sysv_open_receiver() (ftok of the runtime
 *   directory, never a literal like 200), mode 0600 (System V ignores the
 *   umask). The receiver creates it with IPC_CREAT|IPC_EXCL and removes it
 *   (IPC_RMID) on close. At start it adopts a queue that is ours and 0600,
 *   left by a killed receiver, with the frames still in it; a queue of
 *   another owner or mode is removed and recreated. The sender only opens
 *   it: -ENOENT until the receiver has made it. A removed or replaced queue
 *   makes msgsnd() fail with EIDRM or EINVAL (a new queue has a new id),
 *   which send() reports as -EPIPE, so the button reopens and redelivers.
 *   A queue cannot tell whether the receiver that made it still runs: one
 *   receiver per instance is the instance lock's job (transport.h).
 * While the receiver restarts:
 *   - killed (SIGKILL): the queue stays; the sender keeps filling it, then
 *     keeps a backlog. The next receiver adopts it and gets every frame in
 *     order. Only a frame the dead receiver had already taken out is lost.
 *   - stopped (SIGTERM, SIGINT): the queue goes with whatever it held (the
 *     receiver says how many frames on stderr); the sender's next msgsnd()
 *     says EIDRM, it keeps that frame and its backlog for the next queue.
 *
 * Waiting without polling: a System V queue has no file descriptor, and
 * msgrcv() has no timeout. So the receiver runs a doorbell thread that
 * blocks in msgrcv() with a zero-byte buffer: when a message arrives, the
 * kernel answers E2BIG and leaves the message queued (no MSG_NOERROR). The
 * thread rings an eventfd and waits until the receiver, dequeuing with
 * IPC_NOWAIT, finds the queue empty and re-arms it. The receiver therefore
 * waits on the eventfd with ppoll (fd_wait): timeouts and stop
 * signals work as for any descriptor, and the eventfd is the poll_fd. The
 * thread never holds a message, so a killed receiver loses none of them.
 * After a burst the eventfd may stay readable once with nothing queued:
 * receive(..., 0) then returns -ETIMEDOUT.
 */
#include "transport.h"

#include "../lib/deadline.h"
#include "../lib/message.h"
#include "../lib/private_object.h"
#include "../lib/fd_wait.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <semaphore.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/msg.h>
#include <unistd.h>

#define MQ_SYSV_TYPE	1	/* the type of every frame we send */

/* One spare byte: a foreign message longer than any frame stays longer. */
#define MQ_SYSV_TEXT_MAX	(IPC_MESSAGE_MAX_WIRE + 1)

struct mq_sysv_msg {
	long mtype;
	uint8_t mtext[MQ_SYSV_TEXT_MAX];
};

struct mq_sysv {
	key_t key;
	int id;
	/* Receiver only: the doorbell thread and what it shares with us. */
	int doorbell;			/* eventfd, readable while it rang */
	sem_t rearm;			/* posted when we found the queue empty */
	pthread_t thread;
	bool thread_started;
	atomic_bool closing;
	atomic_int thread_error;	/* errno that ended the thread, or 0 */
	atomic_uint empty_taken;	/* empty messages the thread took */
	struct mq_sysv_msg msg;
};

static bool mq_sysv_gone(int err)
{
	/* EIDRM: removed while we used it; EINVAL: the id no longer exists. */
	return err == EIDRM || err == EINVAL;
}

static void *mq_sysv_doorbell(void *arg)
{
	struct mq_sysv *q = arg;
	const uint64_t ring = 1;
	long mtype;	/* where msgrcv() stores the type of an empty message */

	while (!atomic_load(&q->closing)) {
		/*
		 * Block until the queue holds a message. With room for no
		 * text, a non-empty message is refused with E2BIG and stays
		 * queued; only an empty one (never ours) is taken.
		 */
		if (msgrcv(q->id, &mtype, 0, 0, 0) == 0) {
			atomic_fetch_add(&q->empty_taken, 1);
			continue;
		}
		if (errno == EINTR)
			continue;
		if (errno != E2BIG)
			atomic_store(&q->thread_error, errno);
		while (write(q->doorbell, &ring, sizeof(ring)) < 0 &&
		       errno == EINTR)
			;
		if (atomic_load(&q->thread_error))
			break;
		while (sem_wait(&q->rearm) < 0 && errno == EINTR)
			;
	}
	return NULL;
}

/* The queue is empty: clear the doorbell and let the thread watch again. */
static void mq_sysv_rearm(struct mq_sysv *q)
{
	uint64_t rings;

	if (read(q->doorbell, &rings, sizeof(rings)) == sizeof(rings))
		sem_post(&q->rearm);
}

static int mq_sysv_start_doorbell(struct transport *t, struct mq_sysv *q)
{
	sigset_t all, old;
	int r;

	q->doorbell = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (q->doorbell < 0) {
		r = -errno;
		fprintf(stderr, "%s: eventfd: %s\n", t->ops->name, strerror(-r));
		return r;
	}
	if (sem_init(&q->rearm, 0, 0) < 0) {
		r = -errno;
		fprintf(stderr, "%s: sem_init: %s\n", t->ops->name, strerror(-r));
		return r;
	}
	/* Every signal stays with the caller's thread (stop signals, ppoll). */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	r = -pthread_create(&q->thread, NULL, mq_sysv_doorbell, q);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (r < 0) {
		sem_destroy(&q->rearm);
		fprintf(stderr, "%s: doorbell thread: %s\n", t->ops->name,
			strerror(-r));
		return r;
	}
	q->thread_started = true;
	return 0;
}

/*
 * What is under our key: 1 ours to adopt, 0 foreign or stale (*ret_id set
 * when we may try to remove it), -ENOENT gone meanwhile, or an error.
 */
static int mq_sysv_inspect(struct transport *t, struct mq_sysv *q,
			   int *ret_id)
{
	struct msqid_ds ds;
	int id;

	id = msgget(q->key, 0);
	if (id < 0)
		return -errno;
	*ret_id = id;
	if (msgctl(id, IPC_STAT, &ds) < 0) {
		if (mq_sysv_gone(errno))
			return -ENOENT;
		if (errno != EACCES)
			return -errno;
		fprintf(stderr, "%s: queue key 0x%08x is someone else's\n",
			t->ops->name, (unsigned int)q->key);
		return 0;
	}
	if (private_object_sysv(&ds.msg_perm))
		return 1;
	fprintf(stderr, "%s: queue key 0x%08x has uid %u mode %03o, not ours\n",
		t->ops->name, (unsigned int)q->key,
		(unsigned int)ds.msg_perm.uid, ds.msg_perm.mode & 0777);
	return 0;
}

static int mq_sysv_create(struct transport *t, struct mq_sysv *q)
{
	int id = -1, r = -EEXIST;

	for (int attempt = 0; attempt < 5; attempt++) {
		q->id = msgget(q->key, IPC_CREAT | IPC_EXCL |
				       PRIVATE_OBJECT_MODE);
		if (q->id >= 0)
			return 0;
		if (errno != EEXIST) {
			r = -errno;
			fprintf(stderr, "%s: msgget key 0x%08x: %s\n",
				t->ops->name, (unsigned int)q->key,
				strerror(-r));
			return r;
		}
		r = mq_sysv_inspect(t, q, &id);
		if (r == 1) {
			q->id = id;	/* left by a killed receiver: adopt */
			return 0;
		}
		if (r == -ENOENT)
			continue;	/* removed meanwhile: create */
		if (r < 0)
			break;
		/* Foreign or stale: replace it, if we may. */
		if (msgctl(id, IPC_RMID, NULL) < 0 && !mq_sysv_gone(errno)) {
			r = -errno;
			break;
		}
		fprintf(stderr, "%s: removed it, creating a new one\n",
			t->ops->name);
	}
	fprintf(stderr, "%s: cannot use or remove queue key 0x%08x: %s (see ipcs -q; ipcrm -Q 0x%08x)\n",
		t->ops->name, (unsigned int)q->key, strerror(-r),
		(unsigned int)q->key);
	return r;
}

static int mq_sysv_open_sender(struct mq_sysv *q)
{
	struct msqid_ds ds;

	q->id = msgget(q->key, 0);
	if (q->id < 0)
		/* Missing, or foreign and closed to us: no receiver of ours. */
		return errno == ENOENT || errno == EACCES ? -ENOENT : -errno;
	if (msgctl(q->id, IPC_STAT, &ds) < 0)
		return mq_sysv_gone(errno) || errno == EACCES ? -ENOENT : -errno;
	/* Someone else's queue under our key: our receiver will replace it. */
	if (!private_object_sysv(&ds.msg_perm))
		return -ENOENT;
	return 0;
}

static void mq_sysv_close(struct transport *t);

static int mq_sysv_create_at(struct transport *t, int key)
{
	struct mq_sysv *q = t->priv;

	q->key = key;
	q->id = -1;
	return mq_sysv_create(t, q);
}

static int mq_sysv_open(struct transport *t)
{
	struct mq_sysv *q;
	int r;

	q = calloc(1, sizeof(*q));
	if (!q)
		return -ENOMEM;
	q->id = -1;
	q->doorbell = -1;
	t->priv = q;
	if (t->role == TRANSPORT_SENDER) {
		r = transport_sysv_key(t, &q->key);
		if (!r)
			r = mq_sysv_open_sender(q);
		if (r < 0)
			goto fail;
		return 0;
	}
	r = transport_sysv_open_receiver(t, mq_sysv_create_at);
	if (r < 0) {
		fprintf(stderr, "%s: no System V key in %s: %s\n",
			t->ops->name, t->config->runtime_dir, strerror(-r));
		goto fail;
	}
	r = mq_sysv_start_doorbell(t, q);
	if (r < 0)
		goto fail;
	return 0;
fail:
	mq_sysv_close(t);
	return r;
}

static int mq_sysv_send(struct transport *t, const uint8_t *frame, size_t len)
{
	struct mq_sysv *q = t->priv;

	/* An empty message would be lost to the doorbell; nothing sends one. */
	if (len == 0 || len > IPC_MESSAGE_MAX_WIRE)
		return -EMSGSIZE;
	q->msg.mtype = MQ_SYSV_TYPE;
	memcpy(q->msg.mtext, frame, len);
	while (msgsnd(q->id, &q->msg, len, IPC_NOWAIT) < 0) {
		if (errno == EINTR)
			continue;
		if (errno == EAGAIN)
			return -EAGAIN;		/* full: msg_qbytes reached */
		if (mq_sysv_gone(errno))
			return -EPIPE;		/* removed or replaced */
		return -errno;
	}
	return 0;
}

static ssize_t mq_sysv_receive(struct transport *t, uint8_t *buf,
			       size_t size, int timeout_ms)
{
	struct mq_sysv *q = t->priv;
	struct deadline d;
	ssize_t n;
	int r;

	deadline_start(&d, timeout_ms);
	for (;;) {
		unsigned int empty = atomic_load(&q->empty_taken);

		/* An empty message the doorbell took: the caller rejects it. */
		if (empty && atomic_compare_exchange_strong(&q->empty_taken,
							    &empty, empty - 1))
			return 0;
		n = msgrcv(q->id, &q->msg, sizeof(q->msg.mtext), 0,
			   IPC_NOWAIT | MSG_NOERROR);
		if (n >= 0) {
			if ((size_t)n > size)
				n = size;
			memcpy(buf, q->msg.mtext, n);
			return n;
		}
		if (errno == EINTR)
			continue;
		if (errno != ENOMSG) {
			r = -errno;
			if (mq_sysv_gone(-r))
				fprintf(stderr, "%s: queue key 0x%08x removed under the receiver\n",
					t->ops->name, (unsigned int)q->key);
			return r;
		}
		r = atomic_load(&q->thread_error);
		if (r) {
			fprintf(stderr, "%s: doorbell: msgrcv: %s\n",
				t->ops->name, strerror(r));
			return -r;
		}
		mq_sysv_rearm(q);
		r = fd_wait(q->doorbell, POLLIN, deadline_left_ms(&d),
				      NULL);
		if (r < 0)
			return r;
	}
}

static int mq_sysv_poll_fd(struct transport *t)
{
	struct mq_sysv *q = t->priv;

	/* A sender has nothing to poll: -EAGAIN means back off and retry. */
	return t->role == TRANSPORT_RECEIVER ? q->doorbell : -1;
}

static void mq_sysv_stop_doorbell(struct transport *t, struct mq_sysv *q)
{
	struct msqid_ds ds;

	atomic_store(&q->closing, true);
	if (msgctl(q->id, IPC_STAT, &ds) == 0 && ds.msg_qnum)
		fprintf(stderr, "%s: %lu unread frames discarded with queue key 0x%08x\n",
			t->ops->name, (unsigned long)ds.msg_qnum,
			(unsigned int)q->key);
	/* Removal ends the thread's msgrcv() with EIDRM. */
	if (msgctl(q->id, IPC_RMID, NULL) < 0 && !mq_sysv_gone(errno)) {
		fprintf(stderr, "%s: cannot remove queue key 0x%08x: %s\n",
			t->ops->name, (unsigned int)q->key, strerror(errno));
		/* Then a message ends it: msgrcv() says E2BIG. */
		q->msg.mtype = MQ_SYSV_TYPE;
		q->msg.mtext[0] = 0;
		(void)msgsnd(q->id, &q->msg, 1, IPC_NOWAIT);
	}
	sem_post(&q->rearm);	/* in case it waits to be re-armed */
	pthread_join(q->thread, NULL);
	sem_destroy(&q->rearm);
}

static void mq_sysv_close(struct transport *t)
{
	struct mq_sysv *q = t->priv;

	if (!q)
		return;
	if (t->role == TRANSPORT_RECEIVER) {
		if (q->thread_started)
			mq_sysv_stop_doorbell(t, q);
		else if (q->id >= 0)
			(void)msgctl(q->id, IPC_RMID, NULL);
		if (q->doorbell >= 0)
			close(q->doorbell);
	}
	free(q);
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
