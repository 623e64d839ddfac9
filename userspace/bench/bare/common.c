// SPDX-License-Identifier: MIT
/* What the bare mechanisms share: names, keys, ports, whole transfers. */
#include "bare.h"

#include "../endpoint.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/ipc.h>
#include <unistd.h>

int bare_path(const struct bare *b, const char *leaf, char *buf, size_t size)
{
	int n = snprintf(buf, size, "%s/%s", b->dir, leaf);

	return n < 0 || (size_t)n >= size ? -ENAMETOOLONG : 0;
}

int bare_global_name(const struct bare *b, const char *leaf, char *buf,
		     size_t size)
{
	int n = snprintf(buf, size, "/ipc-bench.%s.%s", b->instance, leaf);

	return n < 0 || (size_t)n >= size ? -ENAMETOOLONG : 0;
}

int bare_sysv_key(const struct bare *b, int id, int *ret_key)
{
	key_t key = ftok(b->dir, id);

	if (key == -1)
		return -errno;
	*ret_key = key;
	return 0;
}

int bare_port(const struct bare *b, int fallback)
{
	const char *v = option_value(b->options, "port");

	return v ? atoi(v) : fallback;
}

int bare_read_full(int fd, void *buf, size_t len)
{
	size_t done = 0;

	while (done < len) {
		ssize_t n = read(fd, (char *)buf + done, len - done);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (n == 0)
			return -EPIPE;
		done += n;
	}
	return 0;
}

int bare_write_full(int fd, const void *buf, size_t len)
{
	size_t done = 0;

	while (done < len) {
		ssize_t n = write(fd, (const char *)buf + done, len - done);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		done += n;
	}
	return 0;
}
