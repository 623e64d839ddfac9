// SPDX-License-Identifier: MIT
#include "msg_queue.h"

#include "private_object.h"

#include <errno.h>
#include <stddef.h>
#include <sys/msg.h>

bool msg_queue_gone(int err)
{
	return err == EIDRM || err == EINVAL;
}

static int msg_queue_create(void *ctx)
{
	struct msg_queue_object *q = ctx;

	q->id = msgget(q->key, IPC_CREAT | IPC_EXCL | PRIVATE_OBJECT_MODE);
	return q->id >= 0 ? 0 : -errno;
}

static int msg_queue_adopt(void *ctx)
{
	struct msg_queue_object *q = ctx;
	struct msqid_ds ds;

	q->found_id = msgget(q->key, 0);
	if (q->found_id < 0)
		return errno == ENOENT ? NAMED_OBJECT_GONE : -errno;
	if (msgctl(q->found_id, IPC_STAT, &ds) < 0)
		return msg_queue_gone(errno) ? NAMED_OBJECT_GONE :
		       errno == EACCES ? NAMED_OBJECT_STALE : -errno;
	if (!private_object_sysv(&ds.msg_perm))
		return NAMED_OBJECT_STALE;
	q->id = q->found_id;		/* left by a killed receiver */
	return NAMED_OBJECT_OURS;
}

static int msg_queue_remove(void *ctx)
{
	struct msg_queue_object *q = ctx;

	/* Gone by itself meanwhile is fine too. */
	return msgctl(q->found_id, IPC_RMID, NULL) == 0 ||
	       msg_queue_gone(errno) ? 0 : -errno;
}

const struct named_object_ops msg_queue_object_ops = {
	.create = msg_queue_create,
	.adopt = msg_queue_adopt,
	.remove = msg_queue_remove,
};
