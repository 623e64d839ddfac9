// SPDX-License-Identifier: MIT
/* Bare Unix socket: SOCK_SEQPACKET socket file, one sender accepted. */
#include "bare.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

struct unix_bare {
	int listen_fd;
	int fd;
	struct sockaddr_un addr;
};

static int unix_open(struct bare *b)
{
	struct unix_bare *u = calloc(1, sizeof(*u));
	int r;

	if (!u)
		return -ENOMEM;
	u->listen_fd = u->fd = -1;
	u->addr.sun_family = AF_UNIX;
	r = bare_path(b, "unix.sock", u->addr.sun_path, sizeof(u->addr.sun_path));
	if (r < 0)
		goto fail;
	if (b->receiver) {
		u->listen_fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
		if (u->listen_fd < 0 ||
		    bind(u->listen_fd, (struct sockaddr *)&u->addr, sizeof(u->addr)) < 0 ||
		    listen(u->listen_fd, 1) < 0) {
			r = -errno;
			goto fail;
		}
	} else {
		u->fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
		if (u->fd < 0 ||
		    connect(u->fd, (struct sockaddr *)&u->addr, sizeof(u->addr)) < 0) {
			r = -errno;
			goto fail;
		}
	}
	b->priv = u;
	return 0;
fail:
	if (u->listen_fd >= 0) {
		close(u->listen_fd);
		unlink(u->addr.sun_path);
	}
	if (u->fd >= 0)
		close(u->fd);
	free(u);
	return r;
}

static int unix_send(struct bare *b, uint64_t value)
{
	struct unix_bare *u = b->priv;

	return send(u->fd, &value, sizeof(value), 0) < 0 ? -errno : 0;
}

static int unix_receive(struct bare *b, uint64_t *value, int timeout_ms)
{
	struct unix_bare *u = b->priv;
	ssize_t n;

	(void)timeout_ms;
	if (u->fd < 0) {
		u->fd = accept4(u->listen_fd, NULL, NULL, SOCK_CLOEXEC);
		if (u->fd < 0)
			return -errno;
	}
	n = recv(u->fd, value, sizeof(*value), 0);
	if (n < 0)
		return -errno;
	return n == sizeof(*value) ? 0 : -EPIPE;
}

static void unix_close(struct bare *b)
{
	struct unix_bare *u = b->priv;

	if (u->fd >= 0)
		close(u->fd);
	if (u->listen_fd >= 0) {
		close(u->listen_fd);
		unlink(u->addr.sun_path);
	}
	free(u);
}

static const struct bare_ops bare_unix = {
	.name = "unix",
	.open = unix_open,
	.send = unix_send,
	.receive = unix_receive,
	.close = unix_close,
};
BARE_REGISTER(bare_unix);
