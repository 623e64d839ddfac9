/* SPDX-License-Identifier: MIT */
/*
 * A POSIX message queue as the receiver's named object
 * (lib/named_object.h): made exclusively under its name, mode exactly
 * 0600, open for reading and writing (the receiver posts its own wake
 * messages, lib/mqueue_wait.h) and blocking; one of ours with the same
 * message size that a killed receiver left is adopted with what it
 * holds; any other under the name is stale.
 */
#ifndef IPC_MQUEUE_OBJECT_H
#define IPC_MQUEUE_OBJECT_H

#include "named_object.h"

#include <limits.h>
#include <mqueue.h>
#include <stdbool.h>

struct mqueue_object {
	char name[NAME_MAX];	/* "/..." */
	mqd_t mq;		/* once made or adopted; else (mqd_t)-1 */
	struct mq_attr attr;	/* the shape create() makes */
};

/* create, adopt and remove, for named_object_get(&.., &object). */
extern const struct named_object_ops mqueue_object_ops;

/* Is the queue open as @mq ours and private (0600)? */
bool mqueue_object_ours(mqd_t mq);

#endif /* IPC_MQUEUE_OBJECT_H */
