// SPDX-License-Identifier: MIT
/* Bare System V message queue: msgsnd/msgrcv of an 8-byte mtext. */
#include "bare.h"

#include <errno.h>
#include <stdlib.h>
#include <sys/msg.h>

struct mq_sysv_msg {
	long mtype;
	uint64_t value;
};

static int mq_sysv_open(struct bare *b)
{
	int key, id, r;

	r = bare_sysv_key(b, 'q', &key);
	if (r < 0)
		return r;
	id = msgget(key, b->receiver ? IPC_CREAT | IPC_EXCL | 0600 : 0);
	if (id < 0)
		return -errno;
	b->priv = (void *)(intptr_t)id;
	return 0;
}

static int mq_sysv_send(struct bare *b, uint64_t value)
{
	struct mq_sysv_msg m = { 1, value };

	for (;;) {
		if (msgsnd((int)(intptr_t)b->priv, &m, sizeof(m.value), 0) == 0)
			return 0;
		if (errno != EINTR)
			return -errno;
	}
}

static int mq_sysv_receive(struct bare *b, uint64_t *value, int timeout_ms)
{
	struct mq_sysv_msg m;

	(void)timeout_ms;
	if (msgrcv((int)(intptr_t)b->priv, &m, sizeof(m.value), 0, 0) < 0)
		return -errno;
	*value = m.value;
	return 0;
}

static void mq_sysv_close(struct bare *b)
{
	if (b->receiver)
		msgctl((int)(intptr_t)b->priv, IPC_RMID, NULL);
}

static const struct bare_ops bare_mq_sysv = {
	.name = "mq-sysv",
	.open = mq_sysv_open,
	.send = mq_sysv_send,
	.receive = mq_sysv_receive,
	.close = mq_sysv_close,
};
BARE_REGISTER(bare_mq_sysv);
