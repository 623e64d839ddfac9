/* SPDX-License-Identifier: MIT */
/*
 * Is a named IPC object found at start-up ours to use? Only when it belongs
 * to us and nobody else can touch it: owned (and, for System V, created) by
 * our effective uid, with mode exactly 0600. Anything else found under our
 * name or key is foreign or stale, and the receiver replaces it rather than
 * adopting what another user could read, write or remove.
 */
#ifndef IPC_PRIVATE_OBJECT_H
#define IPC_PRIVATE_OBJECT_H

#include <stdbool.h>
#include <sys/ipc.h>
#include <sys/stat.h>

#define PRIVATE_OBJECT_MODE	0600

/* A System V queue, semaphore set or segment (from IPC_STAT). */
bool private_object_sysv(const struct ipc_perm *perm);

/*
 * A file: a POSIX semaphore in /dev/shm, a message queue (fstat of its
 * descriptor), a pid file. Must be a regular file.
 */
bool private_object_file(const struct stat *st);

#endif /* IPC_PRIVATE_OBJECT_H */
