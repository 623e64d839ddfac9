// SPDX-License-Identifier: MIT
/*
 * Bare UDP, and the broadcast and multicast variants of it: one 8-byte
 * datagram per event on loopback. The three differ only in the address
 * and one or two socket options, so they share this file; each registers
 * under its own mechanism's name.
 */
#include "bare.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

enum udp_kind { UDP_UNICAST, UDP_BROADCAST, UDP_MULTICAST };

struct udp {
	int fd;
	int timeout_ms;		/* the SO_RCVTIMEO in force */
	struct sockaddr_in to;
};

static const char *const udp_address[] = {
	[UDP_UNICAST] = "127.0.0.1",
	[UDP_BROADCAST] = "127.255.255.255",	/* lo's directed broadcast */
	[UDP_MULTICAST] = "239.255.73.66",
};

static int udp_setup(struct bare *b, enum udp_kind kind, int port)
{
	struct udp *u = calloc(1, sizeof(*u));
	struct in_addr lo = { htonl(INADDR_LOOPBACK) };
	int one = 1, r = 0;

	if (!u)
		return -ENOMEM;
	u->to.sin_family = AF_INET;
	u->to.sin_port = htons(bare_port(b, port));
	inet_pton(AF_INET, udp_address[kind], &u->to.sin_addr);
	u->fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (u->fd < 0) {
		r = -errno;
		goto fail;
	}
	if (b->receiver) {
		int rcvbuf = 262144;	/* as our transports ask */

		if (setsockopt(u->fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
		    setsockopt(u->fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf)) < 0 ||
		    bind(u->fd, (struct sockaddr *)&u->to, sizeof(u->to)) < 0) {
			r = -errno;
			goto fail;
		}
		if (kind == UDP_MULTICAST) {
			struct ip_mreq mreq = { u->to.sin_addr, lo };

			if (setsockopt(u->fd, IPPROTO_IP, IP_ADD_MEMBERSHIP,
				       &mreq, sizeof(mreq)) < 0) {
				r = -errno;
				goto fail;
			}
		}
	} else if (kind == UDP_BROADCAST) {
		if (setsockopt(u->fd, SOL_SOCKET, SO_BROADCAST, &one, sizeof(one)) < 0)
			r = -errno;
	} else if (kind == UDP_MULTICAST) {
		if (setsockopt(u->fd, IPPROTO_IP, IP_MULTICAST_IF, &lo, sizeof(lo)) < 0 ||
		    setsockopt(u->fd, IPPROTO_IP, IP_MULTICAST_LOOP, &one, sizeof(one)) < 0)
			r = -errno;
	}
	if (r < 0)
		goto fail;
	u->timeout_ms = -1;
	b->priv = u;
	return 0;
fail:
	if (u->fd >= 0)
		close(u->fd);
	free(u);
	return r;
}

static int udp_open(struct bare *b)
{
	return udp_setup(b, UDP_UNICAST, 5657);
}

static int udp_broadcast_open(struct bare *b)
{
	return udp_setup(b, UDP_BROADCAST, 5658);
}

static int udp_multicast_open(struct bare *b)
{
	return udp_setup(b, UDP_MULTICAST, 5659);
}

static int udp_send(struct bare *b, uint64_t value)
{
	struct udp *u = b->priv;

	if (sendto(u->fd, &value, sizeof(value), 0, (struct sockaddr *)&u->to,
		   sizeof(u->to)) < 0)
		return -errno;
	return 0;
}

static int udp_receive(struct bare *b, uint64_t *value, int timeout_ms)
{
	struct udp *u = b->priv;
	ssize_t n;

	/* A timeout of the socket itself: no extra system call per event. */
	if (timeout_ms != u->timeout_ms) {
		struct timeval tv = { timeout_ms / 1000, (timeout_ms % 1000) * 1000 };

		if (timeout_ms < 0)
			tv = (struct timeval){ 0, 0 };
		if (setsockopt(u->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) < 0)
			return -errno;
		u->timeout_ms = timeout_ms;
	}
	n = recv(u->fd, value, sizeof(*value), 0);
	if (n < 0)
		return errno == EAGAIN ? -ETIMEDOUT : -errno;
	return n == sizeof(*value) ? 0 : -EBADMSG;
}

static void udp_close(struct bare *b)
{
	struct udp *u = b->priv;

	close(u->fd);
	free(u);
}

static const struct bare_ops bare_udp = {
	.name = "udp",
	.lossy = true,
	.open = udp_open,
	.send = udp_send,
	.receive = udp_receive,
	.close = udp_close,
};
BARE_REGISTER(bare_udp);

static const struct bare_ops bare_udp_broadcast = {
	.name = "udp-broadcast",
	.lossy = true,
	.open = udp_broadcast_open,
	.send = udp_send,
	.receive = udp_receive,
	.close = udp_close,
};
BARE_REGISTER(bare_udp_broadcast);

static const struct bare_ops bare_udp_multicast = {
	.name = "udp-multicast",
	.lossy = true,
	.open = udp_multicast_open,
	.send = udp_send,
	.receive = udp_receive,
	.close = udp_close,
};
BARE_REGISTER(bare_udp_multicast);
