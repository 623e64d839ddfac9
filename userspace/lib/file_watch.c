// SPDX-License-Identifier: MIT
#include "file_watch.h"

#include <errno.h>
#include <sys/inotify.h>
#include <unistd.h>

int file_watch_open(const char *path)
{
	int fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC), r;

	if (fd < 0)
		return -errno;
	if (inotify_add_watch(fd, path, IN_MODIFY) < 0) {
		r = -errno;
		close(fd);
		return r;
	}
	return fd;
}

int file_watch_drain(int fd)
{
	char events[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
	ssize_t r;

	while ((r = read(fd, events, sizeof(events))) == sizeof(events))
		;
	return r < 0 && errno != EAGAIN ? -errno : 0;
}
