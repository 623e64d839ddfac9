// SPDX-License-Identifier: MIT
/* socketpair: a SOCK_SEQPACKET pair, one 8-byte packet per event. */
#include "lesson.h"

#include <errno.h>
#include <sys/socket.h>
#include <unistd.h>

/* lesson-excerpt: begin */
static int socketpair_make_pair(int fds[2])
{
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, fds) < 0)
		return -errno;
	return 0;
}

static int socketpair_open(struct lesson *l)
{
	return l->inherited_fd < 0 ? -EBADF : 0;
}

static int socketpair_send(struct lesson *l, uint64_t value)
{
	return send(l->inherited_fd, &value, sizeof(value), 0) < 0 ? -errno : 0;
}

static int socketpair_receive(struct lesson *l, uint64_t *value, int timeout_ms)
{
	ssize_t n;

	(void)timeout_ms;
	n = recv(l->inherited_fd, value, sizeof(*value), 0);
	if (n < 0)
		return -errno;
	return n == sizeof(*value) ? 0 : -EPIPE;
}
/* lesson-excerpt: end */

static void socketpair_close(struct lesson *l)
{
	close(l->inherited_fd);
}

static const struct lesson_ops lesson_socketpair = {
	.name = "socketpair",
	.make_pair = socketpair_make_pair,
	.open = socketpair_open,
	.send = socketpair_send,
	.receive = socketpair_receive,
	.close = socketpair_close,
};
LESSON_REGISTER(lesson_socketpair);
