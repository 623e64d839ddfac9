/* SPDX-License-Identifier: MIT */
/*
 * System V semaphore sets, what the shm-sysv and sem-sysv transports both
 * need: one-semaphore operations, claims, and the test for "this set is
 * ours and ready".
 */
#ifndef IPC_SEM_SET_H
#define IPC_SEM_SET_H

#include "semun.h"

#include <stdbool.h>
#include <sys/ipc.h>
#include <sys/sem.h>

/* Add @delta to semaphore @num of set @id in one semop(): 0 or -errno. */
int sem_set_change(int id, unsigned short num, short delta, short flags);

/* semctl(@id, GETALL) into @values: 0 or -errno. */
int sem_set_values(int id, unsigned short *values);

/*
 * Take the claim semaphore @num (1 while free) without waiting, with
 * SEM_UNDO: the kernel gives it back when its holder dies, however it
 * dies, so a taken claim means a live holder. 0, -EBUSY, or -errno.
 */
int sem_set_claim(int id, unsigned short num);

/*
 * Is set @id usable: ours and 0600 (lib/private_object.h), of @nsems
 * semaphores, and initialised? semget() cannot create and initialise in
 * one step, so the creator sets the values and then does its first
 * semop(), which sets sem_otime: a set with sem_otime 0 is not ready.
 * 0 yes; -ESTALE no (someone else's, another shape, half made);
 * -ENOENT when it was removed meanwhile; another -errno.
 */
int sem_set_check(int id, unsigned short nsems);

/*
 * Initialise the new set @id: its values once (SETALL), then take the
 * claim @num. That first semop() sets sem_otime, so only now does the set
 * look ready to sem_set_check(). 0 or -errno.
 */
int sem_set_init(int id, unsigned short *values, unsigned short num);

/* The error says the set (or segment) is gone: removed, or a dead id. */
bool sem_set_removed(int err);

/*
 * A set as the receiver's named object (lib/named_object.h): the caller's
 * create() makes it under @key with semget(IPC_CREAT | IPC_EXCL) and
 * sem_set_init(); these two are adopt() and remove().
 */
struct sem_set_object {
	key_t key;
	int id;			/* once made or adopted; else -1 */
	unsigned short nsems;	/* its shape */
	unsigned short claim;	/* the receiver's claim semaphore */
};

/* The set under the key, if ours and ready, with its claim taken: a
 * killed receiver's, adopted counts and all. */
int sem_set_adopt(void *ctx);

/* Remove the set under the key, if there is one. */
int sem_set_remove(void *ctx);

#endif /* IPC_SEM_SET_H */
