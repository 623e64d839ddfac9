// SPDX-License-Identifier: MIT
/*
 * The ready set: an epoll fd over a library's socket, an eventfd used as a
 * "pending" flag and a timerfd used as a deadline. See ready_set.h.
 */
#include "ready_set.h"

#include "deadline.h"
#include "fd_wait.h"

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/timerfd.h>
#include <unistd.h>

struct ready_set {
	int epoll_fd;
	int pending_fd;		/* eventfd: counter > 0 while marked */
	int deadline_fd;	/* timerfd: readable once the deadline passed */
	uint64_t deadline_ns;	/* what deadline_fd is armed for; 0: none */
	int watched_fd;		/* the library's socket, -1 when none */
	uint32_t watched_events;
	bool marked;
};

static int ready_set_add(struct ready_set *set, int fd)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.fd = fd };

	return epoll_ctl(set->epoll_fd, EPOLL_CTL_ADD, fd, &ev) < 0 ? -errno : 0;
}

int ready_set_new(struct ready_set **ret)
{
	struct ready_set *set;
	int r;

	set = calloc(1, sizeof(*set));
	if (!set)
		return -ENOMEM;
	set->watched_fd = -1;
	set->epoll_fd = epoll_create1(EPOLL_CLOEXEC);
	set->pending_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	set->deadline_fd = timerfd_create(CLOCK_MONOTONIC,
					  TFD_CLOEXEC | TFD_NONBLOCK);
	if (set->epoll_fd < 0 || set->pending_fd < 0 || set->deadline_fd < 0) {
		r = -errno;
		goto err_free;
	}
	r = ready_set_add(set, set->pending_fd);
	if (r < 0)
		goto err_free;
	r = ready_set_add(set, set->deadline_fd);
	if (r < 0)
		goto err_free;
	*ret = set;
	return 0;

err_free:
	ready_set_free(set);
	return r;
}

void ready_set_free(struct ready_set *set)
{
	if (!set)
		return;
	if (set->epoll_fd >= 0)
		close(set->epoll_fd);
	if (set->pending_fd >= 0)
		close(set->pending_fd);
	if (set->deadline_fd >= 0)
		close(set->deadline_fd);
	free(set);
}

int ready_set_fd(const struct ready_set *set)
{
	return set->epoll_fd;
}

int ready_set_watch(struct ready_set *set, int fd, short events)
{
	struct epoll_event ev = { .data.fd = fd };

	if (events & POLLIN)
		ev.events |= EPOLLIN;
	if (events & POLLOUT)
		ev.events |= EPOLLOUT;

	if (fd == set->watched_fd) {
		if (fd < 0 || ev.events == set->watched_events)
			return 0;
		if (epoll_ctl(set->epoll_fd, EPOLL_CTL_MOD, fd, &ev) == 0) {
			set->watched_events = ev.events;
			return 0;
		}
		if (errno != ENOENT)
			return -errno;
		/* A new socket that got the old number: add it below. */
	}
	/*
	 * The old socket may already be closed by the library (closing an fd
	 * removes it from every epoll set), so ENOENT and EBADF are expected.
	 */
	if (set->watched_fd >= 0 &&
	    epoll_ctl(set->epoll_fd, EPOLL_CTL_DEL, set->watched_fd, NULL) < 0 &&
	    errno != ENOENT && errno != EBADF)
		return -errno;
	set->watched_fd = -1;
	if (fd < 0)
		return 0;
	if (epoll_ctl(set->epoll_fd, EPOLL_CTL_ADD, fd, &ev) < 0)
		return -errno;
	set->watched_fd = fd;
	set->watched_events = ev.events;
	return 0;
}

int ready_set_mark(struct ready_set *set, bool pending)
{
	uint64_t value = 1;

	if (pending == set->marked)
		return 0;
	if (pending) {
		if (write(set->pending_fd, &value, sizeof(value)) < 0)
			return -errno;
	} else {
		if (read(set->pending_fd, &value, sizeof(value)) < 0 &&
		    errno != EAGAIN)
			return -errno;
	}
	set->marked = pending;
	return 0;
}

int ready_set_deadline(struct ready_set *set, uint64_t when_ns)
{
	struct itimerspec its;

	/* A later deadline can wait: the one armed comes first, and its
	 * wake-up ("call the transport now") arms the later one then. That
	 * saves a timerfd_settime() per call to a transport that pushes a
	 * keep-alive back on every event. One that may have passed is armed
	 * anew: only that clears an expiry nobody read yet. */
	if (when_ns && set->deadline_ns && when_ns >= set->deadline_ns &&
	    set->deadline_ns > monotonic_ns())
		return 0;
	memset(&its, 0, sizeof(its));
	if (when_ns) {
		its.it_value.tv_sec = when_ns / 1000000000u;
		its.it_value.tv_nsec = when_ns % 1000000000u;
		/* A zero it_value would disarm: "now" must stay armed. */
		if (!its.it_value.tv_sec && !its.it_value.tv_nsec)
			its.it_value.tv_nsec = 1;
	}
	if (timerfd_settime(set->deadline_fd, TFD_TIMER_ABSTIME, &its, NULL) < 0)
		return -errno;
	set->deadline_ns = when_ns;
	return 0;
}

int ready_set_wait(struct ready_set *set, int timeout_ms)
{
	return fd_wait(set->epoll_fd, POLLIN, timeout_ms, NULL);
}
