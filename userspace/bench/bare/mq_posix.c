// SPDX-License-Identifier: MIT
/* Bare POSIX message queue: blocking mq_send/mq_receive of 8 bytes. */
#include "bare.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <mqueue.h>
#include <stdlib.h>
#include <time.h>

struct mq_posix {
	mqd_t mq;
	char name[NAME_MAX];
};

static int mq_posix_open(struct bare *b)
{
	struct mq_attr attr = { .mq_maxmsg = 10, .mq_msgsize = sizeof(uint64_t) };
	struct mq_posix *m = calloc(1, sizeof(*m));
	int r;

	if (!m)
		return -ENOMEM;
	r = bare_global_name(b, "mq", m->name, sizeof(m->name));
	if (r == 0) {
		if (b->receiver)
			m->mq = mq_open(m->name, O_RDONLY | O_CREAT | O_EXCL | O_CLOEXEC,
					0600, &attr);
		else
			m->mq = mq_open(m->name, O_WRONLY | O_CLOEXEC);
		if (m->mq == (mqd_t)-1)
			r = -errno;
	}
	if (r < 0) {
		free(m);
		return r;
	}
	b->priv = m;
	return 0;
}

static int mq_posix_send(struct bare *b, uint64_t value)
{
	struct mq_posix *m = b->priv;

	return mq_send(m->mq, (const char *)&value, sizeof(value), 0) < 0 ? -errno : 0;
}

static int mq_posix_receive(struct bare *b, uint64_t *value, int timeout_ms)
{
	struct mq_posix *m = b->priv;

	(void)timeout_ms;
	if (mq_receive(m->mq, (char *)value, sizeof(*value), NULL) < 0)
		return -errno;
	return 0;
}

static void mq_posix_close(struct bare *b)
{
	struct mq_posix *m = b->priv;

	mq_close(m->mq);
	if (b->receiver)
		mq_unlink(m->name);
	free(m);
}

static const struct bare_ops bare_mq_posix = {
	.name = "mq-posix",
	.open = mq_posix_open,
	.send = mq_posix_send,
	.receive = mq_posix_receive,
	.close = mq_posix_close,
};
BARE_REGISTER(bare_mq_posix);
