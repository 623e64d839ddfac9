// SPDX-License-Identifier: MIT
#include "proc_syscall.h"

#include <stdio.h>
#include <stdlib.h>
#include <time.h>

bool proc_in_syscall(pid_t pid, long nr)
{
	char path[64], text[32] = "";
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/syscall", (int)pid);
	f = fopen(path, "re");
	if (!f)
		return false;
	if (!fgets(text, sizeof(text), f))
		text[0] = 0;
	fclose(f);
	return strtol(text, NULL, 10) == nr;
}

bool proc_await_syscall(pid_t pid, long nr, int wait_ms)
{
	/* Polling is the only way: /proc has no notification of it. */
	for (int i = 0; !proc_in_syscall(pid, nr); i++)
		if (i >= wait_ms ||
		    nanosleep(&(struct timespec){ .tv_nsec = 1000000 }, NULL) < 0)
			return false;
	return true;
}
