// SPDX-License-Identifier: MIT
#include "net_socket.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

int net_set_int(int fd, int level, int name, int value)
{
	return setsockopt(fd, level, name, &value, sizeof(value)) < 0 ? -errno : 0;
}

int net_stream_tune(int fd)
{
	int r;

	r = net_set_int(fd, SOL_SOCKET, SO_KEEPALIVE, 1);
	if (!r)
		r = net_set_int(fd, IPPROTO_TCP, TCP_KEEPIDLE, NET_KEEPALIVE_IDLE_S);
	if (!r)
		r = net_set_int(fd, IPPROTO_TCP, TCP_KEEPINTVL,
			    NET_KEEPALIVE_INTERVAL_S);
	if (!r)
		r = net_set_int(fd, IPPROTO_TCP, TCP_KEEPCNT, NET_KEEPALIVE_COUNT);
	if (!r)
		r = net_set_int(fd, IPPROTO_TCP, TCP_USER_TIMEOUT,
			    NET_USER_TIMEOUT_MS);
	/* 40-byte frames: send each at once rather than wait to fill a
	 * segment (Nagle), the press is what the LED waits for. */
	if (!r)
		r = net_set_int(fd, IPPROTO_TCP, TCP_NODELAY, 1);
	return r;
}

bool net_unreachable(int err)
{
	return err == ECONNREFUSED || err == ETIMEDOUT || err == EHOSTUNREACH ||
	       err == ENETUNREACH || err == ECONNRESET || err == EHOSTDOWN ||
	       err == ENETDOWN;
}
