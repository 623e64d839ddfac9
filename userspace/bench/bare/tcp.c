// SPDX-License-Identifier: MIT
/* Bare TCP on loopback: one connection, TCP_NODELAY, 8 bytes per event. */
#include "bare.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

struct tcp {
	int listen_fd;
	int fd;
};

static int tcp_open(struct bare *b)
{
	struct sockaddr_in addr = {
		.sin_family = AF_INET,
		.sin_port = htons(bare_port(b, 5655)),
		.sin_addr.s_addr = htonl(INADDR_LOOPBACK),
	};
	struct tcp *t = calloc(1, sizeof(*t));
	int one = 1, r = 0;

	if (!t)
		return -ENOMEM;
	t->listen_fd = t->fd = -1;
	if (b->receiver) {
		t->listen_fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (t->listen_fd < 0 ||
		    setsockopt(t->listen_fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
		    bind(t->listen_fd, (struct sockaddr *)&addr, sizeof(addr)) < 0 ||
		    listen(t->listen_fd, 1) < 0)
			r = -errno;
	} else {
		t->fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (t->fd < 0 ||
		    setsockopt(t->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)) < 0 ||
		    connect(t->fd, (struct sockaddr *)&addr, sizeof(addr)) < 0)
			r = -errno;
	}
	if (r < 0) {
		if (t->listen_fd >= 0)
			close(t->listen_fd);
		if (t->fd >= 0)
			close(t->fd);
		free(t);
		return r;
	}
	b->priv = t;
	return 0;
}

static int tcp_send(struct bare *b, uint64_t value)
{
	struct tcp *t = b->priv;

	return bare_write_full(t->fd, &value, sizeof(value));
}

static int tcp_receive(struct bare *b, uint64_t *value, int timeout_ms)
{
	struct tcp *t = b->priv;

	(void)timeout_ms;
	if (t->fd < 0) {
		t->fd = accept4(t->listen_fd, NULL, NULL, SOCK_CLOEXEC);
		if (t->fd < 0)
			return -errno;
	}
	return bare_read_full(t->fd, value, sizeof(*value));
}

static void tcp_close(struct bare *b)
{
	struct tcp *t = b->priv;

	if (t->fd >= 0)
		close(t->fd);
	if (t->listen_fd >= 0)
		close(t->listen_fd);
	free(t);
}

static const struct bare_ops bare_tcp = {
	.name = "tcp",
	.open = tcp_open,
	.send = tcp_send,
	.receive = tcp_receive,
	.close = tcp_close,
};
BARE_REGISTER(bare_tcp);
