/* SPDX-License-Identifier: MIT */
/*
 * Wait for a POSIX message in mq_receive() itself, with the stop signals
 * let in, without a race (the POSIX queue's twin of lib/msg_wait.h). The
 * descriptor is blocking; a look that must not wait passes an absolute
 * timeout of zero, long past: mq_timedreceive() then fails at once with
 * ETIMEDOUT on an empty queue and takes a queued message as usual.
 * The LED and the benchmark let the stop signals in for good (SA_RESTART:
 * a stop that lands while mq_receive() sleeps restarts it); a process
 * that keeps them blocked lets them in around mq_receive() only, two
 * sigprocmask() more (no SA_RESTART: EINTR). Either way
 * mqueue_wait_wake() (the stop handler's wake callback) posts a wake
 * message, zero bytes long, which ends the wait like any message, also a
 * wait the signal landed just before.
 * If the queue is full the post fails, but then mq_receive() does not
 * sleep either.
 *
 * A message of zero bytes is never a frame (a frame has at least its
 * send time, lib/send_stamp.h): whoever posted it, receiving one costs a
 * look at the stop flag. One still queued when the receiver leaves goes
 * with the queue (its close empties it) and is not counted as a frame.
 */
#ifndef IPC_MQUEUE_WAIT_H
#define IPC_MQUEUE_WAIT_H

#include <mqueue.h>
#include <stdbool.h>
#include <sys/types.h>

struct mqueue_wait {
	mqd_t mq;	/* blocking, opened for reading and writing */
	/* The queue is most likely empty: the last look found nothing,
	 * the last receive slept, or its frame came alone
	 * (lib/stamped_batch.h). An untimed receive then sleeps at once. */
	bool empty;
};

/* @mq: the receiver's descriptor, blocking (no O_NONBLOCK), O_RDWR. */
void mqueue_wait_init(struct mqueue_wait *w, mqd_t mq);

/*
 * The next message that is not a wake message, into @buf (@size bytes,
 * at least the queue's message size). @timeout_ms -1: sleep in
 * mq_receive() (at once when the last look
 * found the queue empty, else after a look that finds it so: a receiver
 * that keeps finding messages makes one system call per message); 0: a
 * look only; above 0: ppoll() then a look, until the timeout.
 * Returns the message's length, -EINTR once a stop was requested,
 * -ETIMEDOUT (nothing came in time), or another negative errno.
 */
ssize_t mqueue_wait_receive(struct mqueue_wait *w, void *buf, size_t size,
			    int timeout_ms);

/* A look without waiting, whatever the message (wake ones included):
 * its length, or -ETIMEDOUT on an empty queue, or another -errno. */
ssize_t mqueue_wait_take(const struct mqueue_wait *w, void *buf, size_t size);

/* Async-signal-safe: post one wake message, never blocking. */
void mqueue_wait_wake(const struct mqueue_wait *w);

/*
 * A receiver that leaves, once it emptied its queue and before it
 * unlinks it: fill it with wake messages until it is full, so that a
 * sender's next mq_send() fails and it looks for the name
 * (lib/mqueue_room.h). Returns how many messages others put in since it
 * was emptied (frames of a sender that had not met the seal yet, which
 * go with the queue), or a negative errno.
 */
long mqueue_wait_seal(const struct mqueue_wait *w);

#endif /* IPC_MQUEUE_WAIT_H */
