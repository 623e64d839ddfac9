// SPDX-License-Identifier: MIT
/*
 * The registry of lessons, their opening and closing, and what they share:
 * names, keys, addresses, whole transfers.
 */
#include "lesson.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ipc.h>
#include <unistd.h>

extern const struct lesson_ops *const __start_lessons[];
extern const struct lesson_ops *const __stop_lessons[];

const struct lesson_ops *const *lesson_all(size_t *ret_count)
{
	*ret_count = __stop_lessons - __start_lessons;
	return __start_lessons;
}

const struct lesson_ops *lesson_find(const char *name)
{
	for (const struct lesson_ops *const *p = __start_lessons;
	     p < __stop_lessons; p++)
		if (!strcmp((*p)->name, name))
			return *p;
	return NULL;
}

int lesson_open(struct lesson *l)
{
	int r;

	l->priv = NULL;
	if (l->ops->state_size) {
		l->priv = calloc(1, l->ops->state_size);
		if (!l->priv)
			return -ENOMEM;
	}
	r = l->ops->open(l);
	if (r < 0) {
		free(l->priv);
		l->priv = NULL;
	}
	return r;
}

void lesson_close(struct lesson *l)
{
	if (l->ops->close)
		l->ops->close(l);
	free(l->priv);
	l->priv = NULL;
}

int lesson_path(const struct lesson *l, const char *leaf, char *buf, size_t size)
{
	int n = snprintf(buf, size, "%s/%s", l->dir, leaf);

	return n < 0 || (size_t)n >= size ? -ENAMETOOLONG : 0;
}

int lesson_global_name(const struct lesson *l, const char *leaf, char *buf,
		       size_t size)
{
	int n = snprintf(buf, size, "/ipc-lesson.%s.%s", l->instance, leaf);

	return n < 0 || (size_t)n >= size ? -ENAMETOOLONG : 0;
}

int lesson_sysv_key(const struct lesson *l, int id, int *ret_key)
{
	key_t key = ftok(l->dir, id);

	if (key == -1)
		return -errno;
	*ret_key = key;
	return 0;
}

const char *lesson_option(const struct lesson *l, const char *key)
{
	size_t n = strlen(key);

	for (const char *const *o = l->options; o && *o; o++)
		if (!strncmp(*o, key, n) && (*o)[n] == '=')
			return *o + n + 1;
	return NULL;
}

int lesson_port(const struct lesson *l, int fallback)
{
	const char *v = lesson_option(l, "port");
	char *end;
	long port;

	if (!v)
		return fallback;
	errno = 0;
	port = strtol(v, &end, 10);
	if (errno || end == v || *end || port < 1 || port > 65535)
		return -EINVAL;
	return port;
}

int lesson_inet_address(const struct lesson *l, const char *ip,
			int default_port, struct sockaddr_in *ret_addr)
{
	int port = lesson_port(l, default_port);

	if (port < 0)
		return port;
	*ret_addr = (struct sockaddr_in){ .sin_family = AF_INET,
					  .sin_port = htons(port) };
	return inet_pton(AF_INET, ip, &ret_addr->sin_addr) == 1 ? 0 : -EINVAL;
}

int lesson_read_full(int fd, void *buf, size_t len)
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

int lesson_write_full(int fd, const void *buf, size_t len)
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
