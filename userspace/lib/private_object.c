// SPDX-License-Identifier: MIT
#include "private_object.h"

#include <unistd.h>

bool private_object_sysv(const struct ipc_perm *perm)
{
	uid_t me = geteuid();

	return perm->uid == me && perm->cuid == me &&
	       (perm->mode & 0777) == PRIVATE_OBJECT_MODE;
}

bool private_object_file(const struct stat *st)
{
	return S_ISREG(st->st_mode) && st->st_uid == geteuid() &&
	       (st->st_mode & 07777) == PRIVATE_OBJECT_MODE;
}
