// SPDX-License-Identifier: MIT
#include "sem_set.h"

#include "named_object.h"
#include "private_object.h"

#include <errno.h>

int sem_set_change(int id, unsigned short num, short delta, short flags)
{
	struct sembuf op = { .sem_num = num, .sem_op = delta, .sem_flg = flags };

	return semop(id, &op, 1) < 0 ? -errno : 0;
}

int sem_set_values(int id, unsigned short *values)
{
	union semun arg = { .array = values };

	return semctl(id, 0, GETALL, arg) < 0 ? -errno : 0;
}

int sem_set_claim(int id, unsigned short num)
{
	int r = sem_set_change(id, num, -1, IPC_NOWAIT | SEM_UNDO);

	return r == -EAGAIN ? -EBUSY : r;
}

int sem_set_check(int id, unsigned short nsems)
{
	struct semid_ds ds;
	union semun arg = { .buf = &ds };

	if (semctl(id, 0, IPC_STAT, arg) < 0) {
		if (sem_set_removed(-errno))
			return -ENOENT;
		return errno == EACCES ? -ESTALE : -errno;
	}
	if (!private_object_sysv(&ds.sem_perm) || ds.sem_nsems != nsems ||
	    !ds.sem_otime)
		return -ESTALE;
	return 0;
}

int sem_set_init(int id, unsigned short *values, unsigned short num)
{
	union semun arg = { .array = values };

	if (semctl(id, 0, SETALL, arg) < 0)
		return -errno;
	return sem_set_claim(id, num);
}

bool sem_set_removed(int err)
{
	return err == -EIDRM || err == -EINVAL;
}

int sem_set_adopt(void *ctx)
{
	struct sem_set_object *set = ctx;
	int id = semget(set->key, 0, 0);
	int r = id < 0 ? -errno : sem_set_check(id, set->nsems);

	if (!r)
		r = sem_set_claim(id, set->claim);
	if (!r)
		set->id = id;
	if (r == -ENOENT || sem_set_removed(r))
		return NAMED_OBJECT_GONE;
	if (r == -ESTALE)
		return NAMED_OBJECT_STALE;
	return r < 0 ? r : NAMED_OBJECT_OURS;
}

int sem_set_remove(void *ctx)
{
	struct sem_set_object *set = ctx;
	int id = semget(set->key, 0, 0);

	if (id >= 0 && semctl(id, 0, IPC_RMID) < 0 && !sem_set_removed(-errno))
		return -errno;
	return 0;
}
