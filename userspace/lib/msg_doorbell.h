/* SPDX-License-Identifier: MIT */
/*
 * A System V message queue made pollable. A queue has no file descriptor
 * and msgrcv() has no timeout, so a thread blocks in msgrcv() with a
 * zero-byte buffer: when a message arrives, the kernel answers E2BIG and
 * leaves it queued (no MSG_NOERROR). The thread then rings an eventfd and
 * waits until the reader, dequeuing with IPC_NOWAIT, finds the queue empty
 * and re-arms it (msg_doorbell_wait()). The reader waits on the eventfd
 * like on any descriptor (timeouts, stop signals: fd_wait.h), and the
 * eventfd is its poll fd. The thread never holds a message, so a killed
 * reader loses none of them. After a burst the eventfd may stay readable
 * once with nothing queued.
 */
#ifndef IPC_MSG_DOORBELL_H
#define IPC_MSG_DOORBELL_H

#include "msg_wait.h"

#include <stdbool.h>
#include <sys/types.h>

struct msg_doorbell;

/* Start watching queue @msqid: 0 and *@ret, or a negative errno. Call it
 * from the thread that handles signals: the watcher blocks them all. */
int msg_doorbell_start(int msqid, struct msg_doorbell **ret);

/* The eventfd: readable while the queue (probably) holds a message; -1
 * for NULL (no doorbell). */
int msg_doorbell_fd(const struct msg_doorbell *d);

/* 0 while watching, else the errno that ended the watch (EIDRM...). */
int msg_doorbell_error(const struct msg_doorbell *d);

/*
 * The reader found the queue empty: re-arm, then wait up to @timeout_ms
 * (-1: forever) for the bell with fd_wait(). 0 when it rang, -ETIMEDOUT,
 * -EINTR (a stop signal), or a negative errno; when the watch has ended,
 * its errno at once (msg_doorbell_error() then says so).
 */
int msg_doorbell_wait(struct msg_doorbell *d, int timeout_ms);

/* True (once per message) when the watcher took an empty message: a
 * zero-length one is taken by its zero-byte msgrcv(), never ours. */
bool msg_doorbell_took_empty(struct msg_doorbell *d);

/*
 * A receive of up to @timeout_ms (above 0) from @w's queue: the doorbell
 * *@d, started at the first call (-ECHILD when it cannot be), rings when
 * a message is there, which msg_wait_receive() then takes without
 * waiting. As msg_wait_receive() (0: an empty message the watcher took),
 * or -ETIMEDOUT; a stop (-EINTR) takes back the wake messages it posted.
 */
ssize_t msg_doorbell_receive(struct msg_doorbell **d, struct msg_wait *w,
			     void *msg, size_t text_size, int timeout_ms);

/* Stop and free. @queue_removed: the caller removed the queue (IPC_RMID),
 * which ended the watcher's msgrcv(); else a one-byte message ends it. */
void msg_doorbell_stop(struct msg_doorbell *d, bool queue_removed);

#endif /* IPC_MSG_DOORBELL_H */
