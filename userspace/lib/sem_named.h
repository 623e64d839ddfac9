/* SPDX-License-Identifier: MIT */
/*
 * A POSIX named semaphore that can be told apart from its successor.
 *
 * glibc (and musl) keep the semaphore "/NAME" as the file
 * /dev/shm/sem.NAME. An unlinked semaphore lives on for whoever still has
 * it open, and nothing in it says so: so we remember the inode of the file
 * we made or opened, and compare it with what the name leads to now,
 * before we trust it (a post to a nameless semaphore is lost) and before
 * we unlink the name (which may be another's by then).
 */
#ifndef IPC_SEM_NAMED_H
#define IPC_SEM_NAMED_H

#include <limits.h>
#include <semaphore.h>
#include <stdbool.h>
#include <sys/types.h>

struct sem_named {
	char name[NAME_MAX];		/* "/..." for sem_open() */
	char path[PATH_MAX];		/* the file behind the name */
	sem_t *sem;			/* SEM_FAILED while not open */
	ino_t ino;			/* identity of the one we hold */
	dev_t dev;
};

/* Name @o "@base@suffix" (@base starts with '/'), not open yet. */
int sem_named_init(struct sem_named *o, const char *base, const char *suffix);

/* Make it, 0600, with @value: 0, -EEXIST when the name is taken, -errno. */
int sem_named_create(struct sem_named *o, unsigned int value);

/*
 * Just made by the caller's own sem_open(O_CREAT | O_EXCL, 0600): remember
 * which file it is, and set the mode exactly (the umask may have taken
 * bits away). 0 or -errno.
 */
int sem_named_created(struct sem_named *o);

/*
 * Open the existing one if it is ours alone (lib/private_object.h): 0;
 * -EPERM or -EACCES when it is not; -ESTALE when the name changed while
 * we opened it; -ENOENT; or another -errno.
 */
int sem_named_open(struct sem_named *o);

/*
 * named_object_ops (lib/named_object.h) for @ctx, a struct sem_named:
 * adopt the semaphore under the name, count and all, if it is ours
 * (sem_named_open()), else say it is stale or gone; unlink a stale one.
 */
int sem_named_adopt(void *ctx);
int sem_named_unlink(void *ctx);

/* Is the semaphore we hold still the one under its name? */
bool sem_named_current(const struct sem_named *o);

/* Its value; 0 if it cannot be read. */
int sem_named_value(const struct sem_named *o);

/* Bring its value to @value by posts and takes: for a one-writer value. */
void sem_named_set(struct sem_named *o, int value);

/* Unlink the name if it still is ours; then close. */
void sem_named_remove(struct sem_named *o);

/* Close, if open. */
void sem_named_close(struct sem_named *o);

#endif /* IPC_SEM_NAMED_H */
