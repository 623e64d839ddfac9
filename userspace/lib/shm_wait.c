// SPDX-License-Identifier: MIT
#include "shm_wait.h"

#include "stop.h"

#include <errno.h>
#include <stdbool.h>

static size_t take_all(struct shm_wait *w, uint8_t *frames, size_t room,
		       size_t *lens, size_t max, uint64_t *rejected)
{
	size_t n = 0;
	ssize_t len;

	while (n < max) {
		len = frame_ring_pop(w->ring, frames + n * room, room, rejected);
		if (len < 0)
			break;
		lens[n++] = (size_t)len;
	}
	return n;
}

ssize_t shm_wait_receive(struct shm_wait *w, uint8_t *frames, size_t room,
			 size_t *lens, size_t max, uint64_t *rejected,
			 int timeout_ms)
{
	bool woken = false;
	struct deadline d;
	size_t n;
	int r;

	deadline_start(&d, timeout_ms);
	for (;;) {
		n = take_all(w, frames, room, lens, max, rejected);
		if (n) {
			/* One count slept on, one frame: none left over. */
			if (w->taken && !(woken && n == 1))
				w->taken(w->ctx, n);
			shm_spin_taken(&w->spin);
			return (ssize_t)n;
		}
		if (stop_requested())
			return -EINTR;
		if (!d.forever && !deadline_left_ns(&d))
			return -ETIMEDOUT;
		/* A frame the spin finds costs no system call; a stop ends
		 * it, or (signals blocked) waits at most its budget. */
		if (shm_spin_wait(&w->spin, w->ring, &d))
			continue;
		/* Blocked, stop signals land only here; a stop ends the sleep. */
		stop_unblock();
		r = stop_requested() ? -EINTR : w->sleep(w->ctx, &d);
		stop_block();
		woken = !r;
		if (r < 0 && r != -EINTR && r != -ETIMEDOUT)
			return r;
	}
}
