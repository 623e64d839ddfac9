/* SPDX-License-Identifier: MIT */
/*
 * A System V message queue as the receiver's named object
 * (lib/named_object.h): made exclusively under its key, mode 0600; one of
 * ours that a killed receiver left is adopted with what it holds; any
 * other under the key is stale.
 */
#ifndef IPC_MSG_QUEUE_H
#define IPC_MSG_QUEUE_H

#include "named_object.h"

#include <stdbool.h>

struct msg_queue_object {
	int key;
	int id;			/* once made or adopted; else -1 */
	int found_id;		/* what adopt() looked at */
};

/* create, adopt and remove, for named_object_get(&.., &object). */
extern const struct named_object_ops msg_queue_object_ops;

/* The error says the queue is gone: EIDRM (removed while in use) or
 * EINVAL (the id no longer exists). */
bool msg_queue_gone(int err);

#endif /* IPC_MSG_QUEUE_H */
