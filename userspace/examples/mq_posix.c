// SPDX-License-Identifier: MIT
/* POSIX message queue: blocking mq_send/mq_receive of 8 bytes. */
#include "lesson.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <mqueue.h>
#include <time.h>

struct mq_posix_state {
	mqd_t mq;
	char name[NAME_MAX];
};

/* lesson-excerpt: begin */
static int mq_posix_open(struct lesson *l)
{
	struct mq_attr attr = { .mq_maxmsg = 10, .mq_msgsize = sizeof(uint64_t) };
	struct mq_posix_state *st = l->priv;
	int r;

	r = lesson_global_name(l, "mq", st->name, sizeof(st->name));
	if (r < 0)
		return r;
	if (l->receiver)
		st->mq = mq_open(st->name, O_RDONLY | O_CREAT | O_EXCL | O_CLOEXEC,
				 0600, &attr);
	else
		st->mq = mq_open(st->name, O_WRONLY | O_CLOEXEC);
	return st->mq == (mqd_t)-1 ? -errno : 0;
}

static int mq_posix_send(struct lesson *l, uint64_t value)
{
	struct mq_posix_state *st = l->priv;

	return mq_send(st->mq, (const char *)&value, sizeof(value), 0) < 0 ? -errno : 0;
}

static int mq_posix_receive(struct lesson *l, uint64_t *value, int timeout_ms)
{
	struct mq_posix_state *st = l->priv;

	(void)timeout_ms;
	if (mq_receive(st->mq, (char *)value, sizeof(*value), NULL) < 0)
		return -errno;
	return 0;
}
/* lesson-excerpt: end */

static void mq_posix_close(struct lesson *l)
{
	struct mq_posix_state *st = l->priv;

	mq_close(st->mq);
	if (l->receiver)
		mq_unlink(st->name);
}

static const struct lesson_ops lesson_mq_posix = {
	.name = "mq-posix",
	.state_size = sizeof(struct mq_posix_state),
	.open = mq_posix_open,
	.send = mq_posix_send,
	.receive = mq_posix_receive,
	.close = mq_posix_close,
};
LESSON_REGISTER(lesson_mq_posix);
