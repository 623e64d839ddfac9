// SPDX-License-Identifier: MIT
/*
 * Bare shared file: the sender appends 8 bytes with O_APPEND, the receiver
 * reads on from its offset and, when there is nothing new, sleeps in
 * read() on an inotify descriptor watching the file for IN_MODIFY. No
 * locks, no truncation: the file only grows while the run lasts.
 */
#include "bare.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <sys/inotify.h>
#include <unistd.h>

struct shared_file {
	int fd;
	int inotify_fd;
	off_t offset;
	char path[PATH_MAX];
};

static int shared_file_open(struct bare *b)
{
	struct shared_file *f = calloc(1, sizeof(*f));
	int r;

	if (!f)
		return -ENOMEM;
	f->fd = f->inotify_fd = -1;
	r = bare_path(b, "shared-file", f->path, sizeof(f->path));
	if (r < 0)
		goto fail;
	if (b->receiver) {
		f->fd = open(f->path, O_RDONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
		if (f->fd >= 0) {
			f->inotify_fd = inotify_init1(IN_CLOEXEC);
			if (f->inotify_fd < 0 ||
			    inotify_add_watch(f->inotify_fd, f->path, IN_MODIFY) < 0)
				r = -errno;
		}
	} else {
		f->fd = open(f->path, O_WRONLY | O_APPEND | O_CLOEXEC);
	}
	if (f->fd < 0)
		r = -errno;
	if (r == 0) {
		b->priv = f;
		return 0;
	}
fail:
	if (f->fd >= 0)
		close(f->fd);
	if (f->inotify_fd >= 0)
		close(f->inotify_fd);
	if (b->receiver)
		unlink(f->path);
	free(f);
	return r;
}

static int shared_file_send(struct bare *b, uint64_t value)
{
	struct shared_file *f = b->priv;

	return bare_write_full(f->fd, &value, sizeof(value));
}

static int shared_file_receive(struct bare *b, uint64_t *value, int timeout_ms)
{
	struct shared_file *f = b->priv;
	char events[4096];
	ssize_t n;

	(void)timeout_ms;
	for (;;) {
		n = pread(f->fd, value, sizeof(*value), f->offset);
		if (n == sizeof(*value)) {
			f->offset += n;
			return 0;
		}
		if (n < 0)
			return -errno;
		/* Nothing new (or half a value): sleep until the next write. */
		if (read(f->inotify_fd, events, sizeof(events)) < 0 && errno != EINTR)
			return -errno;
	}
}

static void shared_file_close(struct bare *b)
{
	struct shared_file *f = b->priv;

	close(f->fd);
	if (f->inotify_fd >= 0)
		close(f->inotify_fd);
	if (b->receiver)
		unlink(f->path);
	free(f);
}

static const struct bare_ops bare_shared_file = {
	.name = "shared-file",
	.open = shared_file_open,
	.send = shared_file_send,
	.receive = shared_file_receive,
	.close = shared_file_close,
};
BARE_REGISTER(bare_shared_file);
