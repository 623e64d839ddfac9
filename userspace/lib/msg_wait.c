// SPDX-License-Identifier: MIT
#include "msg_wait.h"

#include "deadline.h"
#include "stop.h"

#include <errno.h>
#include <sys/msg.h>

/* What a wake message carries: one byte, so that a watcher waiting with a
 * zero-byte buffer (lib/msg_doorbell.h) never takes it. */
struct msg_wake {
	long mtype;
	char mtext[1];
};

void msg_wait_init(struct msg_wait *w, int msqid)
{
	w->msqid = msqid;
	w->posted = 0;
	w->taken = 0;
	w->empty = false;
}

_Static_assert(sizeof(long) >= 8, "a message type holds a time in ns");

long msg_wait_stamp(void)
{
	long now = (long)monotonic_ns();

	return now > MSG_WAIT_WAKE_MTYPE ? now : MSG_WAIT_WAKE_MTYPE + 1;
}

void msg_wait_wake(struct msg_wait *w)
{
	struct msg_wake wake = { MSG_WAIT_WAKE_MTYPE, { 0 } };

	if (w->msqid < 0)
		return;
	if (msgsnd(w->msqid, &wake, sizeof(wake.mtext), IPC_NOWAIT) == 0)
		w->posted++;
}

void msg_wait_take_back(struct msg_wait *w)
{
	struct msg_wake wake;

	while (w->taken < w->posted &&
	       msgrcv(w->msqid, &wake, sizeof(wake.mtext), MSG_WAIT_WAKE_MTYPE,
		      IPC_NOWAIT | MSG_NOERROR) >= 0)
		w->taken++;
}

unsigned long msg_wait_pending(const struct msg_wait *w)
{
	sig_atomic_t posted = w->posted;

	return posted > w->taken ? (unsigned long)(posted - w->taken) : 0;
}

ssize_t msg_wait_receive(struct msg_wait *w, void *msg, size_t text_size,
			 bool block)
{
	/* Sleep at once only when the last look found the queue empty: a
	 * receiver that keeps finding messages takes them with IPC_NOWAIT,
	 * one system call each (blocked, the stop signals stay so). */
	bool sleep = block && w->empty;
	ssize_t n;
	int err;

	for (;;) {
		if (stop_requested()) {
			msg_wait_take_back(w);
			return -EINTR;
		}
		/* Blocked, stop signals land only while msgrcv() sleeps; one
		 * that lands just before it posts a wake message. */
		if (sleep)
			stop_unblock();
		n = msgrcv(w->msqid, msg, text_size, 0,
			   MSG_NOERROR | (sleep ? 0 : IPC_NOWAIT));
		err = errno;
		if (sleep)
			stop_block();
		w->empty = n < 0 && err == ENOMSG;
		if (w->empty && block) {
			sleep = true;
			continue;
		}
		if (n < 0 && err != EINTR)
			return -err;
		if (n >= 0 && *(const long *)msg != MSG_WAIT_WAKE_MTYPE)
			return n;
		/* A wake message, or a signal: look at the stop flag. One
		 * that is not ours counts as taken only while ours wait. */
		if (n >= 0 && w->taken < w->posted)
			w->taken++;
	}
}
