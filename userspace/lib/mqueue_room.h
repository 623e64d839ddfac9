/* SPDX-License-Identifier: MIT */
/*
 * A POSIX queue sender's wait for room, made the first time it finds the
 * queue full: one epoll descriptor, readable when the queue has room
 * (EPOLLOUT of the queue) or when the queue lost its name (IN_ATTRIB of
 * an inotify watch on /proc/self/fd/N, the very queue the sender holds:
 * mq_unlink() changes its link count). mq_send() and mq_receive() queue
 * no inotify event, so the watch stays quiet while both run.
 *
 * Why the name: a receiver that leaves seals its queue full
 * (mqueue_wait_seal()), then unlinks it. A sender asleep for room wakes
 * at the unlink, its next mq_send() fails with EAGAIN, and a look at the
 * link count (fstat()) tells a sealed queue from a full one, once per
 * full queue, not once per frame.
 */
#ifndef IPC_MQUEUE_ROOM_H
#define IPC_MQUEUE_ROOM_H

#include <mqueue.h>

struct mqueue_room {
	int epoll_fd;	/* what the sender polls, readable; -1: none yet */
	int watch_fd;	/* inotify, non-blocking, inside epoll_fd */
};

/* Nothing open yet: mqueue_room_close() may follow. */
void mqueue_room_init(struct mqueue_room *r);

/*
 * Before the sender's look at the name, each time it finds @mq full:
 * make the wait, or empty its watch of what came before, so that a
 * removal after the look wakes the poll and none before it does.
 * 0, or a negative errno when no wait can be made (no /proc, no inotify
 * watches left): epoll_fd stays -1, and the sender backs off instead.
 */
int mqueue_room_arm(struct mqueue_room *r, mqd_t mq);

void mqueue_room_close(struct mqueue_room *r);

#endif /* IPC_MQUEUE_ROOM_H */
