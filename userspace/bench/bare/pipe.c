// SPDX-License-Identifier: MIT
/* Bare pipe: 8 bytes written, 8 bytes read, the fds from the harness. */
#include "bare.h"

#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

static int pipe_make_pair(int fds[2])
{
	return pipe2(fds, O_CLOEXEC) < 0 ? -errno : 0;
}

static int pipe_open(struct bare *b)
{
	return b->inherited_fd < 0 ? -EBADF : 0;
}

static int pipe_send(struct bare *b, uint64_t value)
{
	return bare_write_full(b->inherited_fd, &value, sizeof(value));
}

static int pipe_receive(struct bare *b, uint64_t *value, int timeout_ms)
{
	(void)timeout_ms;
	return bare_read_full(b->inherited_fd, value, sizeof(*value));
}

static void pipe_close(struct bare *b)
{
	close(b->inherited_fd);
}

static const struct bare_ops bare_pipe = {
	.name = "pipe",
	.make_pair = pipe_make_pair,
	.open = pipe_open,
	.send = pipe_send,
	.receive = pipe_receive,
	.close = pipe_close,
};
BARE_REGISTER(bare_pipe);
