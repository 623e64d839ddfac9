// SPDX-License-Identifier: MIT
#include "mqueue_room.h"

#include "file_watch.h"

#include <errno.h>
#include <stdint.h>
#include <sys/epoll.h>
#include <unistd.h>

void mqueue_room_init(struct mqueue_room *r)
{
	r->epoll_fd = r->watch_fd = -1;
}

/* Level-triggered: readable for as long as either is ready. */
static int mqueue_room_add(int epoll_fd, int fd, uint32_t events)
{
	struct epoll_event ev = { .events = events, .data.fd = fd };

	return epoll_ctl(epoll_fd, EPOLL_CTL_ADD, fd, &ev) < 0 ? -errno : 0;
}

int mqueue_room_arm(struct mqueue_room *r, mqd_t mq)
{
	int err;

	if (r->epoll_fd >= 0)
		return file_watch_drain(r->watch_fd);
	r->watch_fd = file_watch_room_open(mq);
	if (r->watch_fd < 0) {
		err = r->watch_fd;
		r->watch_fd = -1;	/* tried again when next full */
		return err;
	}
	r->epoll_fd = epoll_create1(EPOLL_CLOEXEC);
	err = r->epoll_fd < 0 ? -errno : 0;
	if (!err)
		err = mqueue_room_add(r->epoll_fd, mq, EPOLLOUT);
	if (!err)
		err = mqueue_room_add(r->epoll_fd, r->watch_fd, EPOLLIN);
	if (err)
		mqueue_room_close(r);
	return err;	/* a new watch has no stale events */
}

void mqueue_room_close(struct mqueue_room *r)
{
	if (r->epoll_fd >= 0)
		close(r->epoll_fd);
	if (r->watch_fd >= 0)
		close(r->watch_fd);
	mqueue_room_init(r);
}
