// SPDX-License-Identifier: MIT
#include "file_watch.h"

#include "fd_wait.h"
#include "private_object.h"
#include "stop.h"

#include <errno.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

void file_watch_init(struct file_watch *w)
{
	w->fd = -1;
	w->wake.fd = w->wake.kept = w->wake.ended = -1;
	w->wake.swapped = 0;
}

int file_watch_open(struct file_watch *w, const char *path)
{
	w->fd = inotify_init1(IN_CLOEXEC);
	if (w->fd < 0)
		return -errno;
	if (inotify_add_watch(w->fd, path, IN_MODIFY | IN_ATTRIB) < 0)
		return -errno;
	return wake_fd_init(&w->wake, w->fd);
}

/* Would a process starting now still find and trust the file? */
static bool file_usable(int file_fd)
{
	struct stat sb;

	return fstat(file_fd, &sb) < 0 ||	/* cannot tell: carry on */
	       (sb.st_nlink > 0 && private_object_file(&sb));
}

int file_watch_wait(struct file_watch *w, int file_fd, int timeout_ms)
{
	char events[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
	const struct inotify_event *e;
	bool look = false;
	ssize_t n, at;
	int r;

	if (timeout_ms >= 0 || !stop_is_let_in()) {
		/* After it, the read() does not block. */
		r = fd_wait(w->fd, POLLIN, timeout_ms, NULL);
		if (r < 0)
			return r;
	}
	n = read(w->fd, events, sizeof(events));
	if (n <= 0)		/* 0: the ended pipe a stop put there */
		return n == 0 || errno == EINTR ? -EINTR : -errno;
	for (at = 0; at + (ssize_t)sizeof(*e) <= n; at += sizeof(*e) + e->len) {
		e = (const struct inotify_event *)(events + at);
		/* Its links, owner or mode changed, or events were dropped. */
		look |= (e->mask & (IN_ATTRIB | IN_Q_OVERFLOW)) != 0;
	}
	return look && !file_usable(file_fd) ? -EIDRM : 0;
}

void file_watch_wake(struct file_watch *w)
{
	wake_fd_wake(&w->wake);
}

void file_watch_unwake(struct file_watch *w)
{
	wake_fd_restore(&w->wake);
}

void file_watch_close(struct file_watch *w)
{
	wake_fd_close(&w->wake);	/* w->fd is the inotify one again */
	if (w->fd >= 0)
		close(w->fd);
	w->fd = -1;
}

int file_watch_room_open(int file_fd)
{
	char proc[64];
	int fd, r;

	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", file_fd);
	fd = inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
	if (fd < 0)
		return -errno;
	if (inotify_add_watch(fd, proc, IN_MODIFY | IN_ATTRIB) < 0) {
		r = -errno;
		close(fd);
		return r;
	}
	return fd;
}

int file_watch_drain(int fd)
{
	char events[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
	ssize_t n;

	/* Identical events in a row are merged: this is one read() or two. */
	while ((n = read(fd, events, sizeof(events))) > 0)
		;
	return n == 0 || errno == EAGAIN ? 0 : -errno;
}
