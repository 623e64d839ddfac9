// SPDX-License-Identifier: MIT
#include "mqueue_object.h"

#include "private_object.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>

bool mqueue_object_ours(mqd_t mq)
{
	struct stat sb;

	return fstat(mq, &sb) == 0 && private_object_file(&sb);
}

static int mqueue_object_create(void *ctx)
{
	struct mqueue_object *q = ctx;

	q->mq = mq_open(q->name,
			O_RDWR | O_CLOEXEC | O_CREAT | O_EXCL,
			PRIVATE_OBJECT_MODE, &q->attr);
	if (q->mq == (mqd_t)-1)
		return -errno;
	/* The umask may have taken bits away: set exactly. */
	if (fchmod(q->mq, PRIVATE_OBJECT_MODE) < 0)
		return -errno;
	return mqueue_object_ours(q->mq) ? 0 : -EPERM;
}

static int mqueue_object_adopt(void *ctx)
{
	struct mqueue_object *q = ctx;
	struct mq_attr found;

	q->mq = mq_open(q->name, O_RDWR | O_CLOEXEC);
	if (q->mq == (mqd_t)-1)
		return errno == ENOENT ? NAMED_OBJECT_GONE :
		       errno == EACCES ? NAMED_OBJECT_STALE : -errno;
	if (mqueue_object_ours(q->mq) && mq_getattr(q->mq, &found) == 0 &&
	    found.mq_msgsize == q->attr.mq_msgsize)
		return NAMED_OBJECT_OURS;	/* left by a killed receiver */
	mq_close(q->mq);
	q->mq = (mqd_t)-1;
	return NAMED_OBJECT_STALE;
}

static int mqueue_object_remove(void *ctx)
{
	struct mqueue_object *q = ctx;

	return mq_unlink(q->name) == 0 ? 0 : -errno;
}

const struct named_object_ops mqueue_object_ops = {
	.create = mqueue_object_create,
	.adopt = mqueue_object_adopt,
	.remove = mqueue_object_remove,
};
