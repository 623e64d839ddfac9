// SPDX-License-Identifier: MIT
#include "named_object.h"

#include <errno.h>
#include <stdbool.h>

/* Turns of create/adopt/remove before giving up on a name that keeps
 * changing: each turn needs another process to act in between. */
#define NAMED_OBJECT_ATTEMPTS	5

int named_object_get(const struct named_object_ops *ops, void *ctx)
{
	bool removed = false;
	int r;

	for (int attempt = 0; attempt < NAMED_OBJECT_ATTEMPTS; attempt++) {
		r = ops->create(ctx);
		if (r == 0)
			return removed ? NAMED_OBJECT_REPLACED : NAMED_OBJECT_CREATED;
		if (r != -EEXIST)
			return r;
		r = ops->adopt(ctx);
		if (r == NAMED_OBJECT_OURS)
			return NAMED_OBJECT_ADOPTED;
		if (r < 0)
			return r;
		if (r == NAMED_OBJECT_GONE)
			continue;
		r = ops->remove(ctx);
		if (r < 0 && r != -ENOENT)
			return r;
		removed = true;
	}
	return -EBUSY;
}
