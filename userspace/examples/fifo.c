// SPDX-License-Identifier: MIT
/* FIFO: a named pipe made by mkfifo() in the lesson's directory. */
#include "lesson.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sys/stat.h>
#include <unistd.h>

struct fifo_state {
	int fd;
	char path[PATH_MAX];
};

/* lesson-excerpt: begin */
static int fifo_open(struct lesson *l)
{
	struct fifo_state *st = l->priv;
	int r;

	r = lesson_path(l, "fifo", st->path, sizeof(st->path));
	if (r < 0)
		return r;
	if (l->receiver && mkfifo(st->path, 0600) < 0)
		return -errno;	/* EEXIST: not ours, leave it */
	/*
	 * The receiver opens both ends: open() does not wait for a writer,
	 * and a sender that leaves is no end of file.
	 */
	st->fd = open(st->path, (l->receiver ? O_RDWR : O_WRONLY) | O_CLOEXEC);
	if (st->fd < 0) {
		r = -errno;
		goto err_unlink;
	}
	return 0;
err_unlink:
	if (l->receiver)
		unlink(st->path);
	return r;
}

static int fifo_send(struct lesson *l, uint64_t value)
{
	struct fifo_state *st = l->priv;

	return lesson_write_full(st->fd, &value, sizeof(value));
}

static int fifo_receive(struct lesson *l, uint64_t *value, int timeout_ms)
{
	struct fifo_state *st = l->priv;

	(void)timeout_ms;
	return lesson_read_full(st->fd, value, sizeof(*value));
}
/* lesson-excerpt: end */

static void fifo_close(struct lesson *l)
{
	struct fifo_state *st = l->priv;

	close(st->fd);
	if (l->receiver)
		unlink(st->path);
}

static const struct lesson_ops lesson_fifo = {
	.name = "fifo",
	.state_size = sizeof(struct fifo_state),
	.open = fifo_open,
	.send = fifo_send,
	.receive = fifo_receive,
	.close = fifo_close,
};
LESSON_REGISTER(lesson_fifo);
