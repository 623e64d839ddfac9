/* SPDX-License-Identifier: MIT */
/*
 * Helpers for IPC objects that have a file behind them (a file in the
 * runtime directory, a POSIX shm object in /dev/shm): who is using it,
 * publishing a new one atomically, removing only our own. Whether one is
 * ours to use at all is private_object.h's question.
 *
 * Claims. A receiver and a sender each hold an open file description
 * (OFD) write lock on one byte of the object for as long as they have it
 * open: bytes 0 and 1. The kernel drops the lock when the process dies,
 * however it dies, so "the lock is free" means exactly "nobody alive has
 * this role". OFD locks (not classic fcntl locks) because they belong to
 * the open file, not the process: closing another descriptor of the same
 * file elsewhere in the program cannot drop them by accident. Data locks
 * (the shared-file transport) use bytes from SHARED_OBJECT_DATA_START on,
 * so they never collide with claims.
 */
#ifndef IPC_SHARED_OBJECT_H
#define IPC_SHARED_OBJECT_H

#include <stdbool.h>
#include <sys/stat.h>
#include <sys/types.h>

enum shared_object_claim {
	SHARED_OBJECT_RECEIVER = 0,	/* the byte each role locks */
	SHARED_OBJECT_SENDER = 1,
};

#define SHARED_OBJECT_DATA_START	2

/*
 * Take the @role claim on @fd without waiting: 0, -EBUSY when a live
 * process holds it, or another negative errno.
 */
int shared_object_claim(int fd, enum shared_object_claim role);

/*
 * An unnamed file (O_TMPFILE) in directory @dir, mode 0600, O_CLOEXEC:
 * it is filled in private and named with shared_object_link() only when
 * complete, so nobody ever opens a half-made object, and a crash before
 * then leaves nothing behind. Returns the fd or a negative errno.
 */
int shared_object_tmpfile(const char *dir);

/* Give the unnamed file @fd the name @path: 0, -EEXIST, or -errno. */
int shared_object_link(int fd, const char *path);

/* True when @fd's file has no name left (removed, or replaced by rename). */
bool shared_object_unlinked(int fd);

/* True when @path names the very file open as @fd. */
bool shared_object_is_named(int fd, const char *path);

/*
 * A data lock (F_RDLCK, F_WRLCK, or F_UNLCK to let go) over everything
 * from SHARED_OBJECT_DATA_START to the end, however far the file grows.
 * Waits in the kernel (F_OFD_SETLKW), never spins: 0 or a negative errno.
 */
int shared_object_lock_data(int fd, short type);

/* Remove @path only if it still names @fd's file, never a successor's. */
void shared_object_unlink(int fd, const char *path);

#endif /* IPC_SHARED_OBJECT_H */
