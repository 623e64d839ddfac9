// SPDX-License-Identifier: MIT
#include "shm_wait.h"

#include "stop.h"

#include <errno.h>

ssize_t shm_wait_pop(struct frame_ring *ring, void *buf, size_t size,
		     uint64_t *rejected, const struct deadline *d)
{
	ssize_t n = frame_ring_pop(ring, buf, size, rejected);

	if (n != -EAGAIN)
		return n;
	if (stop_requested())
		return -EINTR;
	if (!d->forever && !deadline_left_ns(d))
		return -ETIMEDOUT;
	return -EAGAIN;
}
