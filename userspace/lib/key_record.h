/* SPDX-License-Identifier: MIT */
/*
 * System V keys handed out, not hashed: which key an instance's object
 * uses is written in a record file in the runtime directory, e.g.
 * "<runtime dir>/mq-sysv.<instance>.key" holding "0x6f0a1b01".
 *
 * Hashing names into keys (ftok of the directory with a project id made
 * from the instance name) lets two names share a key: there are only 255
 * project ids. Instead the receiver, under a lock on the directory itself,
 * takes a key no other record of the directory names and under which no
 * System V object of any kind exists, and records it; the sender reads the
 * record. Records are written and removed only under that lock, so no two
 * records of one directory ever name the same key, and a key whose object
 * exists (anyone's, from any directory) is never handed out: distinct
 * instances cannot share a key or an object, whatever their names.
 *
 * The one case outside this: a receiver killed (SIGKILL) leaves its record
 * and its object; if someone then removes the object by hand (ipcrm) and
 * another runtime directory of the same user, whose ftok() bits happen to
 * match, takes that key before the receiver restarts, the restarted
 * receiver adopts an object of the same owner and shape there. Within one
 * runtime directory it cannot happen: the records exclude it.
 */
#ifndef IPC_KEY_RECORD_H
#define IPC_KEY_RECORD_H

#include <stdbool.h>

/*
 * Lock directory @dir (flock on the directory itself, so nothing is left
 * in it). Waits: holders keep it for a few system calls. Returns the
 * descriptor that holds it (close it to unlock) or a negative errno.
 */
int key_record_lock_dir(const char *dir);

/* The key recorded in @path: 0, -ENOENT when there is none, -EINVAL. */
int key_record_read(const char *path, int *ret_key);

/*
 * Whether a record in @dir other than the file named @except (a leaf name)
 * names @key. Call with the directory locked.
 */
bool key_record_taken(const char *dir, const char *except, int key);

/* Record @key in @path (in @dir), replacing what was there, mode 0600. */
int key_record_write(const char *dir, const char *path, int key);

/*
 * The receiver's whole hand-out, under the directory's lock: call
 * @open_at(@ctx, key) with the key recorded in @path before (its objects,
 * left by a killed receiver, are adopted there), else with the first key
 * ftok(@dir, 1..255) that no other record names and under which no System
 * V object exists, and record it. @open_at returns 0, -EEXIST (the key was
 * taken meanwhile: the next is tried) or an error. 0 and the key in
 * *@ret_key, -ENOSPC when every key of the directory is taken, or -errno.
 */
int key_record_claim(const char *dir, const char *path,
		     int (*open_at)(void *ctx, int key), void *ctx,
		     int *ret_key);

/* Remove @path if it still records @key. */
void key_record_remove(const char *path, int key);

#endif /* IPC_KEY_RECORD_H */
