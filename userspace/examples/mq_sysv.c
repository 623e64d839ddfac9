// SPDX-License-Identifier: MIT
/* System V message queue: msgsnd/msgrcv of an 8-byte mtext. */
#include "lesson.h"

#include <errno.h>
#include <sys/msg.h>

struct mq_sysv_state {
	int id;
};

struct mq_sysv_msg {
	long mtype;
	uint64_t value;
};

/* lesson-excerpt: begin */
static int mq_sysv_open(struct lesson *l)
{
	struct mq_sysv_state *st = l->priv;
	int key, r;

	r = lesson_sysv_key(l, 'q', &key);
	if (r < 0)
		return r;
	st->id = msgget(key, l->receiver ? IPC_CREAT | IPC_EXCL | 0600 : 0);
	return st->id < 0 ? -errno : 0;
}

static int mq_sysv_send(struct lesson *l, uint64_t value)
{
	struct mq_sysv_state *st = l->priv;
	struct mq_sysv_msg m = { 1, value };	/* mtype must be > 0 */

	while (msgsnd(st->id, &m, sizeof(m.value), 0) < 0)
		if (errno != EINTR)
			return -errno;
	return 0;
}

static int mq_sysv_receive(struct lesson *l, uint64_t *value, int timeout_ms)
{
	struct mq_sysv_state *st = l->priv;
	struct mq_sysv_msg m;

	(void)timeout_ms;
	if (msgrcv(st->id, &m, sizeof(m.value), 0, 0) < 0)
		return -errno;
	*value = m.value;
	return 0;
}
/* lesson-excerpt: end */

static void mq_sysv_close(struct lesson *l)
{
	struct mq_sysv_state *st = l->priv;

	if (l->receiver)
		msgctl(st->id, IPC_RMID, NULL);
}

static const struct lesson_ops lesson_mq_sysv = {
	.name = "mq-sysv",
	.state_size = sizeof(struct mq_sysv_state),
	.open = mq_sysv_open,
	.send = mq_sysv_send,
	.receive = mq_sysv_receive,
	.close = mq_sysv_close,
};
LESSON_REGISTER(lesson_mq_sysv);
