// SPDX-License-Identifier: MIT
#include "sem_named.h"

#include "named_object.h"
#include "private_object.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>

/* Where glibc (and musl) keep the named semaphore "/NAME". */
#define SEM_NAMED_DIR	"/dev/shm/sem."

int sem_named_init(struct sem_named *o, const char *base, const char *suffix)
{
	int n = snprintf(o->name, sizeof(o->name), "%s%s", base, suffix);

	o->sem = SEM_FAILED;
	if (n < 0 || (size_t)n >= sizeof(o->name))
		return -ENAMETOOLONG;
	n = snprintf(o->path, sizeof(o->path), SEM_NAMED_DIR "%s", o->name + 1);
	if (n < 0 || (size_t)n >= sizeof(o->path))
		return -ENAMETOOLONG;
	return 0;
}

/* Does the name lead to a private file? 0 yes (identity in *st). */
static int stat_private(const struct sem_named *o, struct stat *st)
{
	if (lstat(o->path, st) < 0)
		return -errno;
	return private_object_file(st) ? 0 : -EPERM;
}

int sem_named_create(struct sem_named *o, unsigned int value)
{
	o->sem = sem_open(o->name, O_CREAT | O_EXCL, PRIVATE_OBJECT_MODE, value);
	return o->sem == SEM_FAILED ? -errno : sem_named_created(o);
}

int sem_named_created(struct sem_named *o)
{
	struct stat st;

	if (lstat(o->path, &st) < 0)
		return -errno;
	o->ino = st.st_ino;
	o->dev = st.st_dev;
	/* The umask may have taken bits away: set exactly. */
	if ((st.st_mode & 07777) != PRIVATE_OBJECT_MODE &&
	    chmod(o->path, PRIVATE_OBJECT_MODE) < 0)
		return -errno;
	return 0;
}

int sem_named_open(struct sem_named *o)
{
	struct stat before, after;
	int r;

	/* stat, sem_open, stat again: the name may change in between. */
	r = stat_private(o, &before);
	if (r < 0)
		return r;
	o->sem = sem_open(o->name, 0);
	if (o->sem == SEM_FAILED)
		return -errno;
	r = stat_private(o, &after);
	if (r == 0 && (after.st_ino != before.st_ino ||
		       after.st_dev != before.st_dev))
		r = -ESTALE;
	if (r < 0) {
		sem_named_close(o);
		return r;
	}
	o->ino = after.st_ino;
	o->dev = after.st_dev;
	return 0;
}

int sem_named_adopt(void *ctx)
{
	int r = sem_named_open(ctx);

	if (r == -EPERM || r == -EACCES)
		return NAMED_OBJECT_STALE;	/* not ours */
	if (r == -ENOENT || r == -ESTALE)
		return NAMED_OBJECT_GONE;	/* changed meanwhile */
	return r < 0 ? r : NAMED_OBJECT_OURS;
}

int sem_named_unlink(void *ctx)
{
	struct sem_named *o = ctx;

	return sem_unlink(o->name) < 0 ? -errno : 0;
}

bool sem_named_current(const struct sem_named *o)
{
	struct stat st;

	return o->sem != SEM_FAILED && lstat(o->path, &st) == 0 &&
	       st.st_ino == o->ino && st.st_dev == o->dev;
}

int sem_named_value(const struct sem_named *o)
{
	int v = 0;

	return sem_getvalue(o->sem, &v) < 0 ? 0 : v;
}

void sem_named_set(struct sem_named *o, int value)
{
	int v = sem_named_value(o);

	for (; v > value && sem_trywait(o->sem) == 0; v--)
		;
	for (; v < value && sem_post(o->sem) == 0; v++)
		;
}

void sem_named_remove(struct sem_named *o)
{
	if (sem_named_current(o))
		(void)sem_unlink(o->name);
	sem_named_close(o);
}

void sem_named_close(struct sem_named *o)
{
	if (o->sem != SEM_FAILED)
		sem_close(o->sem);
	o->sem = SEM_FAILED;
}
