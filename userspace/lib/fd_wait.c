// SPDX-License-Identifier: MIT
#include "fd_wait.h"

#include "deadline.h"
#include "stop.h"

#include <errno.h>
#include <poll.h>

static int wait_with_mask(int fd, short events, int timeout_ms,
			  const sigset_t *mask, short *ret_revents)
{
	struct pollfd pfd = { .fd = fd, .events = events };
	struct timespec ts;
	int r;

	if (timeout_ms >= 0)
		ts = ms_to_timespec(timeout_ms);
	if (stop_requested())
		return -EINTR;
	r = ppoll(&pfd, 1, timeout_ms >= 0 ? &ts : NULL, mask);
	if (r < 0)
		return -errno;
	if (r == 0)
		return -ETIMEDOUT;
	if (ret_revents)
		*ret_revents = pfd.revents;
	return 0;
}

int fd_wait(int fd, short events, int timeout_ms, short *ret_revents)
{
	return wait_with_mask(fd, events, timeout_ms, stop_wait_mask(),
			      ret_revents);
}

int fd_wait_keep_blocked(int fd, short events, int timeout_ms,
			 int keep_blocked)
{
	sigset_t mask = *stop_wait_mask();

	sigaddset(&mask, keep_blocked);
	return wait_with_mask(fd, events, timeout_ms, &mask, NULL);
}
