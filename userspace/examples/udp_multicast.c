// SPDX-License-Identifier: MIT
/*
 * UDP multicast: the UDP lesson (udp.c) sent to a group address
 * (239.255.73.66, administratively scoped). The receiver joins the group
 * on an interface (IP_ADD_MEMBERSHIP); the sender picks the interface the
 * datagrams leave by (IP_MULTICAST_IF) and keeps the copy for local
 * members (IP_MULTICAST_LOOP). Here both are loopback.
 */
#include "udp.h"

#include <arpa/inet.h>
#include <errno.h>
#include <sys/socket.h>

/* lesson-excerpt: begin */
static int udp_multicast_open(struct lesson *l)
{
	struct in_addr lo = { htonl(INADDR_LOOPBACK) };
	struct udp_state *st;
	int one = 1, r;

	r = lesson_udp_open(l, "239.255.73.66", 5659);
	if (r < 0)
		return r;
	st = l->priv;
	if (l->receiver) {
		struct ip_mreq mreq = { st->to.sin_addr, lo };

		if (setsockopt(st->fd, IPPROTO_IP, IP_ADD_MEMBERSHIP,
			       &mreq, sizeof(mreq)) < 0)
			r = -errno;
	} else if (setsockopt(st->fd, IPPROTO_IP, IP_MULTICAST_IF, &lo, sizeof(lo)) < 0 ||
		   setsockopt(st->fd, IPPROTO_IP, IP_MULTICAST_LOOP, &one, sizeof(one)) < 0) {
		r = -errno;
	}
	if (r < 0)
		lesson_udp_close(l);
	return r;
}
/* lesson-excerpt: end */

static const struct lesson_ops lesson_udp_multicast = {
	.name = "udp-multicast",
	.state_size = sizeof(struct udp_state),
	.lossy = true,
	.open = udp_multicast_open,
	.send = lesson_udp_send,
	.receive = lesson_udp_receive,
	.close = lesson_udp_close,
};
LESSON_REGISTER(lesson_udp_multicast);
