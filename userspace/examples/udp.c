// SPDX-License-Identifier: MIT
/*
 * UDP on loopback: one 8-byte datagram per press. The receiver binds the
 * address, the sender sends to it: no connection, no acknowledgement, so
 * a datagram the receiver has no room for is lost (the lesson is lossy).
 */
#include "udp.h"

#include <errno.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

/* lesson-excerpt: begin */
int lesson_udp_open(struct lesson *l, const char *address, int default_port)
{
	int rcvbuf = 262144;	/* room for bursts, as our transports ask */
	struct udp_state *st = l->priv;
	int one = 1, r;

	r = lesson_inet_address(l, address, default_port, &st->to);
	if (r < 0)
		return r;
	st->timeout_ms = -1;
	st->fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (st->fd < 0)
		return -errno;
	if (l->receiver &&
	    (setsockopt(st->fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
	     setsockopt(st->fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf)) < 0 ||
	     bind(st->fd, (struct sockaddr *)&st->to, sizeof(st->to)) < 0)) {
		r = -errno;
		goto err_close;
	}
	return 0;
err_close:
	close(st->fd);
	return r;
}

int lesson_udp_send(struct lesson *l, uint64_t value)
{
	struct udp_state *st = l->priv;

	if (sendto(st->fd, &value, sizeof(value), 0, (struct sockaddr *)&st->to,
		   sizeof(st->to)) < 0)
		return -errno;
	return 0;
}

int lesson_udp_receive(struct lesson *l, uint64_t *value, int timeout_ms)
{
	struct udp_state *st = l->priv;
	ssize_t n;

	/* The socket's own timeout: no extra system call per datagram. */
	if (timeout_ms != st->timeout_ms) {
		struct timeval tv = { 0, 0 };	/* 0: wait forever */

		if (timeout_ms >= 0)
			tv = (struct timeval){ timeout_ms / 1000, (timeout_ms % 1000) * 1000 };
		if (setsockopt(st->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) < 0)
			return -errno;
		st->timeout_ms = timeout_ms;
	}
	n = recv(st->fd, value, sizeof(*value), 0);
	if (n < 0)
		return errno == EAGAIN ? -ETIMEDOUT : -errno;
	return n == sizeof(*value) ? 0 : -EBADMSG;
}
/* lesson-excerpt: end */

void lesson_udp_close(struct lesson *l)
{
	struct udp_state *st = l->priv;

	close(st->fd);
}

static int udp_open(struct lesson *l)
{
	return lesson_udp_open(l, "127.0.0.1", 5657);
}

static const struct lesson_ops lesson_udp = {
	.name = "udp",
	.state_size = sizeof(struct udp_state),
	.lossy = true,
	.open = udp_open,
	.send = lesson_udp_send,
	.receive = lesson_udp_receive,
	.close = lesson_udp_close,
};
LESSON_REGISTER(lesson_udp);
