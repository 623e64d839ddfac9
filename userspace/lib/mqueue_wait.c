// SPDX-License-Identifier: MIT
#include "mqueue_wait.h"

#include "deadline.h"
#include "fd_wait.h"
#include "stop.h"

#include <errno.h>
#include <poll.h>
#include <time.h>

/* Absolute CLOCK_REALTIME zero: always past, so a timed call on a
 * blocking descriptor never sleeps (and the kernel skips arming a timer
 * for a zero expiry). */
static const struct timespec mqueue_wait_past = { 0, 0 };

void mqueue_wait_init(struct mqueue_wait *w, mqd_t mq)
{
	w->mq = mq;
	w->empty = false;
}

void mqueue_wait_wake(const struct mqueue_wait *w)
{
	if (w->mq != (mqd_t)-1)
		(void)mq_timedsend(w->mq, "", 0, 0, &mqueue_wait_past);
}

long mqueue_wait_seal(const struct mqueue_wait *w)
{
	struct mq_attr attr;
	long own = 0;

	while (mq_timedsend(w->mq, "", 0, 0, &mqueue_wait_past) == 0)
		own++;
	/* Full: ETIMEDOUT on a blocking descriptor, EAGAIN on another. */
	if (errno != ETIMEDOUT && errno != EAGAIN)
		return -errno;
	if (mq_getattr(w->mq, &attr) < 0)
		return -errno;
	return attr.mq_curmsgs - own;
}

ssize_t mqueue_wait_take(const struct mqueue_wait *w, void *buf, size_t size)
{
	ssize_t n = mq_timedreceive(w->mq, buf, size, NULL, &mqueue_wait_past);

	return n >= 0 ? n : -errno;
}

/* Sleep in mq_receive(); blocked, stop signals land only here. A stop
 * posts a wake message, also one that lands just before. */
static ssize_t mqueue_wait_sleep(struct mqueue_wait *w, void *buf, size_t size)
{
	ssize_t n;
	int err;

	stop_unblock();
	n = mq_receive(w->mq, buf, size, NULL);
	err = errno;
	stop_block();
	/* Empty stays true: a receiver that had to wait most likely waits
	 * again next time, and sleeps at once. */
	return n >= 0 ? n : -err;
}

ssize_t mqueue_wait_receive(struct mqueue_wait *w, void *buf, size_t size,
			    int timeout_ms)
{
	bool sleep = timeout_ms < 0 && w->empty;
	struct deadline d;
	ssize_t n;
	int r;

	deadline_start(&d, timeout_ms);
	for (;;) {
		if (stop_requested())
			return -EINTR;
		if (sleep) {
			n = mqueue_wait_sleep(w, buf, size);
		} else {
			n = mqueue_wait_take(w, buf, size);
			w->empty = n == -ETIMEDOUT;
			if (w->empty && timeout_ms < 0) {
				sleep = true;
				continue;
			}
			if (w->empty && timeout_ms > 0) {
				r = fd_wait(w->mq, POLLIN, deadline_left_ms(&d), NULL);
				if (r < 0)
					return r;
				continue;
			}
		}
		/* A wake message or a signal: look at the stop flag. */
		if (n > 0 || (n < 0 && n != -EINTR))
			return n;
	}
}
