// SPDX-License-Identifier: MIT
/*
 * Shared file: the sender appends 8 bytes with O_APPEND, the receiver
 * reads on from its offset and, when there is nothing new, sleeps in
 * read() on an inotify descriptor watching the file for IN_MODIFY. No
 * locks, no truncation: the file only grows while the run lasts.
 */
#include "lesson.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sys/inotify.h>
#include <unistd.h>

struct shared_file_state {
	int fd;
	int inotify_fd;
	off_t offset;
	char path[PATH_MAX];
};

/* lesson-excerpt: begin */
static int shared_file_open(struct lesson *l)
{
	struct shared_file_state *st = l->priv;
	int r;

	st->inotify_fd = -1;
	r = lesson_path(l, "shared-file", st->path, sizeof(st->path));
	if (r < 0)
		return r;
	if (!l->receiver) {
		/* O_APPEND: every write() lands at the end, whoever wrote last. */
		st->fd = open(st->path, O_WRONLY | O_APPEND | O_CLOEXEC);
		return st->fd < 0 ? -errno : 0;
	}
	st->fd = open(st->path, O_RDONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (st->fd < 0)
		return -errno;
	st->inotify_fd = inotify_init1(IN_CLOEXEC);
	if (st->inotify_fd < 0 ||
	    inotify_add_watch(st->inotify_fd, st->path, IN_MODIFY) < 0) {
		r = -errno;
		goto err_unlink;
	}
	return 0;
err_unlink:
	if (st->inotify_fd >= 0)
		close(st->inotify_fd);
	close(st->fd);
	unlink(st->path);
	return r;
}

static int shared_file_send(struct lesson *l, uint64_t value)
{
	struct shared_file_state *st = l->priv;

	return lesson_write_full(st->fd, &value, sizeof(value));
}

static int shared_file_receive(struct lesson *l, uint64_t *value, int timeout_ms)
{
	struct shared_file_state *st = l->priv;
	char events[4096];
	ssize_t n;

	(void)timeout_ms;
	for (;;) {
		n = pread(st->fd, value, sizeof(*value), st->offset);
		if (n == sizeof(*value)) {
			st->offset += n;
			return 0;
		}
		if (n < 0)
			return -errno;
		/* Nothing new (or half a value): sleep until the next write. */
		if (read(st->inotify_fd, events, sizeof(events)) < 0 && errno != EINTR)
			return -errno;
	}
}
/* lesson-excerpt: end */

static void shared_file_close(struct lesson *l)
{
	struct shared_file_state *st = l->priv;

	close(st->fd);
	if (st->inotify_fd >= 0)
		close(st->inotify_fd);
	if (l->receiver)
		unlink(st->path);
}

static const struct lesson_ops lesson_shared_file = {
	.name = "shared-file",
	.state_size = sizeof(struct shared_file_state),
	.open = shared_file_open,
	.send = shared_file_send,
	.receive = shared_file_receive,
	.close = shared_file_close,
};
LESSON_REGISTER(lesson_shared_file);
