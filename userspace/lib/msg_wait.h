/* SPDX-License-Identifier: MIT */
/*
 * Wait for a System V message in msgrcv() itself, with the stop signals
 * let in (for good in the LED and the benchmark; else around msgrcv(), two
 * sigprocmask() more), without a race. msgrcv() is never restarted after
 * a signal handler (signal(7)), so a stop signal that lands while it
 * sleeps ends it with EINTR. One that lands after the check of the stop
 * flag and before msgrcv() sleeps would be missed: for that,
 * msg_wait_wake() (the stop handler's wake callback) posts a wake message
 * of a reserved type, MSG_WAIT_WAKE_MTYPE, which ends the wait like any
 * message. If the queue is full the post fails, but then msgrcv() does
 * not sleep either, and the stop flag is checked after every message.
 *
 * A wake message is never a frame. Whoever posted it (ours, a killed
 * receiver's leftover, or a sender's forgery), receiving one costs only a
 * look at the stop flag; the ones still queued when a receive ends on a
 * stop are taken back (msg_wait_take_back()), so a stop never counts as
 * an event and is never left behind.
 */
#ifndef IPC_MSG_WAIT_H
#define IPC_MSG_WAIT_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/* The wake message's type. Frames use others (mq-sysv: the send time,
 * always above it); receivers take any type in arrival order (msgtyp 0),
 * so the queue stays FIFO. */
#define MSG_WAIT_WAKE_MTYPE	2

struct msg_wait {
	int msqid;
	volatile sig_atomic_t posted;	/* wake messages msg_wait_wake() posted */
	sig_atomic_t taken;		/* of those, received or taken back */
	/* The last msgrcv() found nothing, or the last frame came alone
	 * (lib/stamped_batch.h): the next blocking receive sleeps at once,
	 * sparing an IPC_NOWAIT look that would fail. */
	bool empty;
};

void msg_wait_init(struct msg_wait *w, int msqid);

/*
 * The next message of any type but a wake one, into @msg (a long mtype,
 * then @text_size bytes; a longer message is cut, MSG_NOERROR). @block:
 * sleep in msgrcv() (at once when the last
 * msgrcv() found the queue empty, else after one with IPC_NOWAIT found it
 * so: a receiver that keeps finding messages makes one system call per
 * message); else IPC_NOWAIT only.
 * Returns the text's length, -EINTR once a stop was requested (the wake
 * messages still queued taken back), -ENOMSG (not @block: the queue holds
 * nothing), or another negative errno (EIDRM: the queue was removed).
 */
ssize_t msg_wait_receive(struct msg_wait *w, void *msg, size_t text_size,
			 bool block);

/*
 * Now as a message type: CLOCK_MONOTONIC in ns, always above the wake
 * type. A frame typed with its send time tells its receiver, by comparing
 * with its own stamp taken before it began to wait, whether the queue was
 * empty then (the frame is younger) or held a backlog; no extra call.
 */
long msg_wait_stamp(void);

/* Async-signal-safe: post one wake message (IPC_NOWAIT). */
void msg_wait_wake(struct msg_wait *w);

/* Take back the wake messages posted and not yet received. */
void msg_wait_take_back(struct msg_wait *w);

/* Wake messages posted and not yet received or taken back (for the
 * count of frames a queue still holds). */
unsigned long msg_wait_pending(const struct msg_wait *w);

#endif /* IPC_MSG_WAIT_H */
