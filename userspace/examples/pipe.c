// SPDX-License-Identifier: MIT
/* Pipe: 8 bytes written, 8 bytes read; the two ends come from the parent. */
#include "lesson.h"

#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

/* lesson-excerpt: begin */
static int pipe_make_pair(int fds[2])
{
	return pipe2(fds, O_CLOEXEC) < 0 ? -errno : 0;
}

static int pipe_open(struct lesson *l)
{
	return l->inherited_fd < 0 ? -EBADF : 0;
}

static int pipe_send(struct lesson *l, uint64_t value)
{
	return lesson_write_full(l->inherited_fd, &value, sizeof(value));
}

static int pipe_receive(struct lesson *l, uint64_t *value, int timeout_ms)
{
	(void)timeout_ms;
	return lesson_read_full(l->inherited_fd, value, sizeof(*value));
}
/* lesson-excerpt: end */

static void pipe_close(struct lesson *l)
{
	close(l->inherited_fd);
}

static const struct lesson_ops lesson_pipe = {
	.name = "pipe",
	.make_pair = pipe_make_pair,
	.open = pipe_open,
	.send = pipe_send,
	.receive = pipe_receive,
	.close = pipe_close,
};
LESSON_REGISTER(lesson_pipe);
