/* SPDX-License-Identifier: MIT */
/*
 * The argument of semctl(2) for System V semaphore sets. glibc leaves the
 * definition of this union to the program; it is defined once, here.
 */
#ifndef IPC_SEMUN_H
#define IPC_SEMUN_H

#include <sys/sem.h>

union semun {
	int val;
	struct semid_ds *buf;
	unsigned short *array;
};

#endif /* IPC_SEMUN_H */
