/* SPDX-License-Identifier: MIT */
/*
 * Create or adopt a named IPC object: the receiver's one way to get hold
 * of the object under its name (a FIFO, a file, a POSIX queue, a System V
 * key), whatever it finds there.
 *
 *   - nothing: it creates the object (exclusively, so it is its own);
 *   - an object of ours left by a killed receiver: it adopts it, so the
 *     frames queued in it survive;
 *   - anything else (another user's, the wrong kind or shape, a receiver's
 *     that was stopped): it is stale; it removes it and creates its own.
 *
 * The name can change between any two of these steps (another receiver,
 * an object removed by hand), so the steps are retried a bounded number
 * of times: the one retry loop, written once, here. Who else may use the
 * object (claims) is shared_object.h's business; whether one found is ours
 * to use at all, private_object.h's; removing only our own on close,
 * shared_object_unlink() or the mechanism's own identity check.
 */
#ifndef IPC_NAMED_OBJECT_H
#define IPC_NAMED_OBJECT_H

/* What adopt() makes of the object it found under the name. */
enum named_object_found {
	NAMED_OBJECT_OURS,	/* adopted: it is in use now */
	NAMED_OBJECT_STALE,	/* not usable: remove it, then create */
	NAMED_OBJECT_GONE,	/* vanished meanwhile: create again */
};

struct named_object_ops {
	/* Create exclusively: 0, -EEXIST when the name is taken, or -errno. */
	int (*create)(void *ctx);
	/* Look at what has the name: enum named_object_found, or -errno
	 * (-EBUSY: a live receiver has it). */
	int (*adopt)(void *ctx);
	/* Remove the stale object under the name: 0 or -errno (-ENOENT is
	 * fine: it went by itself). */
	int (*remove)(void *ctx);
};

/* What named_object_get() did. */
enum named_object_outcome {
	NAMED_OBJECT_CREATED,
	NAMED_OBJECT_ADOPTED,
	NAMED_OBJECT_REPLACED,	/* created after removing a stale one */
};

/*
 * Create, adopt or replace, as above: an enum named_object_outcome, or a
 * negative errno (-EBUSY when the name kept changing under us, or adopt()
 * said so).
 */
int named_object_get(const struct named_object_ops *ops, void *ctx);

#endif /* IPC_NAMED_OBJECT_H */
