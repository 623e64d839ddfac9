// SPDX-License-Identifier: MIT
/* Unix domain socket: a SOCK_SEQPACKET socket file, one sender accepted. */
#include "lesson.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

struct unix_state {
	int listen_fd;
	int fd;
	struct sockaddr_un addr;
};

/* lesson-excerpt: begin */
static int unix_open(struct lesson *l)
{
	struct unix_state *st = l->priv;
	int fd, r;

	st->listen_fd = st->fd = -1;
	st->addr.sun_family = AF_UNIX;
	r = lesson_path(l, "unix.sock", st->addr.sun_path, sizeof(st->addr.sun_path));
	if (r < 0)
		return r;
	/* SOCK_SEQPACKET: connected like a stream, bounded like datagrams. */
	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (!l->receiver) {
		if (connect(fd, (struct sockaddr *)&st->addr, sizeof(st->addr)) < 0) {
			r = -errno;
			goto err_close;
		}
		st->fd = fd;
		return 0;
	}
	if (bind(fd, (struct sockaddr *)&st->addr, sizeof(st->addr)) < 0) {
		r = -errno;	/* EADDRINUSE: the path exists, not ours */
		goto err_close;
	}
	if (listen(fd, 1) < 0) {
		r = -errno;
		goto err_unlink;
	}
	st->listen_fd = fd;
	return 0;
err_unlink:
	unlink(st->addr.sun_path);	/* bind() made it */
err_close:
	close(fd);
	return r;
}

static int unix_send(struct lesson *l, uint64_t value)
{
	struct unix_state *st = l->priv;

	return send(st->fd, &value, sizeof(value), 0) < 0 ? -errno : 0;
}

static int unix_receive(struct lesson *l, uint64_t *value, int timeout_ms)
{
	struct unix_state *st = l->priv;
	ssize_t n;

	(void)timeout_ms;
	if (st->fd < 0) {
		st->fd = accept4(st->listen_fd, NULL, NULL, SOCK_CLOEXEC);
		if (st->fd < 0)
			return -errno;
	}
	n = recv(st->fd, value, sizeof(*value), 0);
	if (n < 0)
		return -errno;
	return n == sizeof(*value) ? 0 : -EPIPE;
}
/* lesson-excerpt: end */

static void unix_close(struct lesson *l)
{
	struct unix_state *st = l->priv;

	if (st->fd >= 0)
		close(st->fd);
	if (st->listen_fd >= 0) {
		close(st->listen_fd);
		unlink(st->addr.sun_path);
	}
}

static const struct lesson_ops lesson_unix = {
	.name = "unix",
	.state_size = sizeof(struct unix_state),
	.open = unix_open,
	.send = unix_send,
	.receive = unix_receive,
	.close = unix_close,
};
LESSON_REGISTER(lesson_unix);
