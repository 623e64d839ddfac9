// SPDX-License-Identifier: MIT
/*
 * UDP broadcast: the UDP lesson (udp.c) sent to a broadcast address, here
 * loopback's 127.255.255.255, so every socket bound to the port on that
 * network receives it. The kernel refuses a send to a broadcast address
 * (EACCES) unless the sender asked for it with SO_BROADCAST.
 */
#include "udp.h"

#include <errno.h>
#include <sys/socket.h>

/* lesson-excerpt: begin */
static int udp_broadcast_open(struct lesson *l)
{
	int one = 1, r;
	struct udp_state *st;

	r = lesson_udp_open(l, "127.255.255.255", 5658);
	if (r < 0 || l->receiver)
		return r;
	st = l->priv;
	if (setsockopt(st->fd, SOL_SOCKET, SO_BROADCAST, &one, sizeof(one)) < 0) {
		r = -errno;
		lesson_udp_close(l);
	}
	return r;
}
/* lesson-excerpt: end */

static const struct lesson_ops lesson_udp_broadcast = {
	.name = "udp-broadcast",
	.state_size = sizeof(struct udp_state),
	.lossy = true,
	.open = udp_broadcast_open,
	.send = lesson_udp_send,
	.receive = lesson_udp_receive,
	.close = lesson_udp_close,
};
LESSON_REGISTER(lesson_udp_broadcast);
