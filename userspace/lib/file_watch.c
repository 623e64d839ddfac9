// SPDX-License-Identifier: MIT
#include "file_watch.h"

#include "private_object.h"

#include <errno.h>
#include <stdbool.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

int file_watch_open(const char *path)
{
	int fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC), r;

	if (fd < 0)
		return -errno;
	if (inotify_add_watch(fd, path, IN_MODIFY | IN_ATTRIB) < 0) {
		r = -errno;
		close(fd);
		return r;
	}
	return fd;
}

/* Would a process starting now still find and trust the file? */
static bool file_usable(int file_fd)
{
	struct stat sb;

	return fstat(file_fd, &sb) < 0 ||	/* cannot tell: carry on */
	       (sb.st_nlink > 0 && private_object_file(&sb));
}

int file_watch_drain(int fd, int file_fd)
{
	char events[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
	const struct inotify_event *e;
	bool look = false;
	ssize_t n, at;

	do {
		n = read(fd, events, sizeof(events));
		for (at = 0; at + (ssize_t)sizeof(*e) <= n; at += sizeof(*e) + e->len) {
			e = (const struct inotify_event *)(events + at);
			/* Its links, owner or mode changed, or events were
			 * dropped. */
			look |= (e->mask & (IN_ATTRIB | IN_Q_OVERFLOW)) != 0;
		}
	} while (n == sizeof(events));
	if (n < 0 && errno != EAGAIN)
		return -errno;
	return look && !file_usable(file_fd) ? -EIDRM : 0;
}
