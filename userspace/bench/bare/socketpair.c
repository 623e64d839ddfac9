// SPDX-License-Identifier: MIT
/* Bare socketpair: a SOCK_SEQPACKET pair, one 8-byte packet per event. */
#include "bare.h"

#include <errno.h>
#include <sys/socket.h>
#include <unistd.h>

static int socketpair_make_pair(int fds[2])
{
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, fds) < 0)
		return -errno;
	return 0;
}

static int socketpair_open(struct bare *b)
{
	return b->inherited_fd < 0 ? -EBADF : 0;
}

static int socketpair_send(struct bare *b, uint64_t value)
{
	return send(b->inherited_fd, &value, sizeof(value), 0) < 0 ? -errno : 0;
}

static int socketpair_receive(struct bare *b, uint64_t *value, int timeout_ms)
{
	ssize_t n;

	(void)timeout_ms;
	n = recv(b->inherited_fd, value, sizeof(*value), 0);
	if (n < 0)
		return -errno;
	return n == sizeof(*value) ? 0 : -EPIPE;
}

static void socketpair_close(struct bare *b)
{
	close(b->inherited_fd);
}

static const struct bare_ops bare_socketpair = {
	.name = "socketpair",
	.make_pair = socketpair_make_pair,
	.open = socketpair_open,
	.send = socketpair_send,
	.receive = socketpair_receive,
	.close = socketpair_close,
};
BARE_REGISTER(bare_socketpair);
