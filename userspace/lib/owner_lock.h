/* SPDX-License-Identifier: MIT */
/*
 * One owner at a time: a lock file whose open file description (OFD) write
 * lock is held for the owner's whole life, e.g. "<runtime dir>/<mechanism>.
 * <instance>.lock" for the receiver of one instance of one mechanism.
 *
 * The kernel drops the lock when the owner dies, however it dies, so a
 * taken lock means exactly "a live process owns this"; a file left by a
 * killed owner is simply locked again by the next one. The owner writes its
 * PID into the file, only so that a refused process can say who is there.
 *
 * The owner removes the file when it is done, while still holding the lock.
 * A process that opened the file just before that and gets the lock after
 * it would hold a lock on a nameless file: owner_lock_take() checks, after
 * locking, that the path still names the file it locked, and starts over
 * if not. So two processes can never both believe they own one path.
 */
#ifndef IPC_OWNER_LOCK_H
#define IPC_OWNER_LOCK_H

#include <sys/types.h>

/*
 * Take the lock at @path (created 0600 if missing; a symlink is refused)
 * without waiting. Returns the descriptor (close-on-exec) that holds it,
 * -EBUSY when a live process holds it (its PID in *@ret_holder if it wrote
 * one yet, else 0), or another negative errno.
 */
int owner_lock_take(const char *path, pid_t *ret_holder);

/* Remove @path if it still names @fd's file, then close @fd (the lock). */
void owner_lock_release(int fd, const char *path);

/*
 * For others who opened the file (read-only is enough): 1 while a live
 * owner holds the lock, 0 when nobody does, or a negative errno.
 */
int owner_lock_held(int fd);

/*
 * For a process that addresses the owner itself (to signal it): open
 * @path read-only if it is a file of ours (lib/private_object.h) whose
 * lock a live owner holds, with the PID it wrote in *@ret_holder. The
 * descriptor (close-on-exec; owner_lock_held() on it says later whether
 * that owner still lives), -ENOENT when there is no such owner (no file, a
 * symlink, not ours, unlocked, no PID yet), or another negative errno.
 */
int owner_lock_open_held(const char *path, pid_t *ret_holder);

#endif /* IPC_OWNER_LOCK_H */
