// SPDX-License-Identifier: MIT
#include "sysv_record.h"

#include <limits.h>
#include <stdio.h>
#include <sys/ipc.h>
#include <sys/stat.h>

int sysv_record_key(const struct transport_ops *ops,
		    const struct transport_config *config,
		    struct sysv_key_memo *memo)
{
	struct transport t = { .ops = ops, .config = config };
	int key;

	if (transport_sysv_key(&t, &key) == 0) {
		memo->key = key;
		memo->have = true;
	}
	return memo->have ? memo->key : -1;
}

int sysv_record_plant(const struct transport_ops *ops,
		      const struct transport_config *config,
		      const char *dir, const char *via, const char *instance,
		      struct sysv_key_memo *memo)
{
	char path[PATH_MAX + 64];
	int key = sysv_record_key(ops, config, memo);
	FILE *f;

	if (key == -1)
		key = ftok(dir, 1);
	snprintf(path, sizeof(path), "%s/%s.%s.key", dir, via, instance);
	f = fopen(path, "we");
	if (f) {
		fprintf(f, "0x%08x\n", (unsigned int)key);
		fclose(f);
		chmod(path, 0600);
	}
	memo->key = key;
	memo->have = true;
	return key;
}
