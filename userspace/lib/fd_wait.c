// SPDX-License-Identifier: MIT
#include "fd_wait.h"

#include "deadline.h"
#include "stop.h"

#include <errno.h>
#include <poll.h>

int fd_wait(int fd, short events, int timeout_ms, short *ret_revents)
{
	struct pollfd pfd = { .fd = fd, .events = events };
	struct timespec ts;
	int r;

	if (timeout_ms >= 0)
		ts = ms_to_timespec(timeout_ms);
	if (stop_requested())
		return -EINTR;
	r = ppoll(&pfd, 1, timeout_ms >= 0 ? &ts : NULL, stop_wait_mask());
	if (r < 0)
		return -errno;
	if (r == 0)
		return -ETIMEDOUT;
	if (ret_revents)
		*ret_revents = pfd.revents;
	return 0;
}
