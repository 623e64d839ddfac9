// SPDX-License-Identifier: MIT
/* TCP on loopback: one connection, TCP_NODELAY, 8 bytes per event. */
#include "lesson.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

struct tcp_state {
	int listen_fd;
	int fd;
};

/* lesson-excerpt: begin */
static int tcp_open(struct lesson *l)
{
	struct tcp_state *st = l->priv;
	struct sockaddr_in addr;
	int one = 1, fd, r;

	r = lesson_inet_address(l, "127.0.0.1", 5655, &addr);
	if (r < 0)
		return r;
	st->listen_fd = st->fd = -1;
	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (l->receiver) {
		/* SO_REUSEADDR: a restart need not wait out TIME_WAIT. */
		if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
		    bind(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0 ||
		    listen(fd, 1) < 0)
			goto err_close;
		st->listen_fd = fd;	/* accept4() comes with the first receive */
	} else {
		/* TCP_NODELAY: send each 8 bytes now, not batched (Nagle). */
		if (setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)) < 0 ||
		    connect(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0)
			goto err_close;
		st->fd = fd;
	}
	return 0;
err_close:
	r = -errno;
	close(fd);
	return r;
}

static int tcp_send(struct lesson *l, uint64_t value)
{
	struct tcp_state *st = l->priv;

	return lesson_write_full(st->fd, &value, sizeof(value));
}

static int tcp_receive(struct lesson *l, uint64_t *value, int timeout_ms)
{
	struct tcp_state *st = l->priv;

	(void)timeout_ms;
	if (st->fd < 0) {
		st->fd = accept4(st->listen_fd, NULL, NULL, SOCK_CLOEXEC);
		if (st->fd < 0)
			return -errno;
	}
	return lesson_read_full(st->fd, value, sizeof(*value));
}
/* lesson-excerpt: end */

static void tcp_close(struct lesson *l)
{
	struct tcp_state *st = l->priv;

	if (st->fd >= 0)
		close(st->fd);
	if (st->listen_fd >= 0)
		close(st->listen_fd);
}

static const struct lesson_ops lesson_tcp = {
	.name = "tcp",
	.state_size = sizeof(struct tcp_state),
	.open = tcp_open,
	.send = tcp_send,
	.receive = tcp_receive,
	.close = tcp_close,
};
LESSON_REGISTER(lesson_tcp);
