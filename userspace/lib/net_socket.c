// SPDX-License-Identifier: MIT
#include "net_socket.h"

#include "log.h"
#include "../ipc/transport.h"
#include "fd_wait.h"

#include <errno.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static int set_int(int fd, int level, int name, int value)
{
	return setsockopt(fd, level, name, &value, sizeof(value)) < 0 ? -errno : 0;
}

/* Accepted sockets inherit these from the listening one. */
static int set_dead_peer_detection(int fd)
{
	int r;

	r = set_int(fd, SOL_SOCKET, SO_KEEPALIVE, 1);
	if (!r)
		r = set_int(fd, IPPROTO_TCP, TCP_KEEPIDLE, NET_KEEPALIVE_IDLE_S);
	if (!r)
		r = set_int(fd, IPPROTO_TCP, TCP_KEEPINTVL,
			    NET_KEEPALIVE_INTERVAL_S);
	if (!r)
		r = set_int(fd, IPPROTO_TCP, TCP_KEEPCNT, NET_KEEPALIVE_COUNT);
	if (!r)
		r = set_int(fd, IPPROTO_TCP, TCP_USER_TIMEOUT,
			    NET_USER_TIMEOUT_MS);
	/* 40-byte frames: send each at once rather than wait to fill a
	 * segment (Nagle), the press is what the LED waits for. */
	if (!r)
		r = set_int(fd, IPPROTO_TCP, TCP_NODELAY, 1);
	return r;
}

int net_listen(const char *who, const struct net_addr *addr, int *ret_fd)
{
	char name[NET_ADDR_STRLEN];
	const char *step = "socket";
	int fd, r;

	net_addr_format(addr, name, sizeof(name));
	fd = socket(net_addr_family(addr),
		    SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		r = -errno;
		goto fail;
	}
	step = "setsockopt";
	/* A restarted LED must not wait for TIME_WAIT of its last run. */
	r = set_int(fd, SOL_SOCKET, SO_REUSEADDR, 1);
	if (!r && net_addr_family(addr) == AF_INET6)
		r = set_int(fd, IPPROTO_IPV6, IPV6_V6ONLY, 1);
	if (!r)
		r = set_dead_peer_detection(fd);
	if (r < 0)
		goto fail;
	step = "bind";
	if (bind(fd, (const struct sockaddr *)&addr->ss, addr->len) < 0) {
		r = -errno;
		goto fail;
	}
	step = "listen";
	/* Small: one sender at a time; a flood waits in a short queue and
	 * the receiver refuses what it has no room for. */
	if (listen(fd, 8) < 0) {
		r = -errno;
		goto fail;
	}
	*ret_fd = fd;
	return 0;
fail:
	log_error("%s: %s %s: %s", who, step, name, strerror(-r));
	if (fd >= 0)
		close(fd);
	return r;
}

static bool retryable(int err)
{
	return err == ECONNREFUSED || err == ETIMEDOUT || err == EHOSTUNREACH ||
	       err == ENETUNREACH || err == ECONNRESET || err == EHOSTDOWN ||
	       err == ENETDOWN;
}

int net_connect(const char *who, const struct net_addr *addr, int timeout_ms,
		int *ret_fd)
{
	char name[NET_ADDR_STRLEN];
	socklen_t len = sizeof(int);
	int fd, r, err = 0;

	fd = socket(net_addr_family(addr),
		    SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		r = -errno;
		goto fail;
	}
	r = set_dead_peer_detection(fd);
	if (r < 0)
		goto fail;
	if (connect(fd, (const struct sockaddr *)&addr->ss, addr->len) == 0)
		goto done;
	if (errno != EINPROGRESS) {
		r = -errno;
		goto fail;
	}
	r = fd_wait(fd, POLLOUT, timeout_ms, NULL);
	if (r == -ETIMEDOUT)
		r = -ECONNREFUSED;	/* nobody answered: try again later */
	if (r < 0)
		goto fail;
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0) {
		r = -errno;
		goto fail;
	}
	if (err) {
		r = -err;
		goto fail;
	}
done:
	*ret_fd = fd;
	return 0;
fail:
	if (fd >= 0)
		close(fd);
	if (r == -EINTR || r == -ECONNREFUSED || retryable(-r))
		return r == -EINTR ? r : -ECONNREFUSED;
	log_error("%s: connect %s: %s", who,
		net_addr_format(addr, name, sizeof(name)), strerror(-r));
	return r;
}

int net_peer_gone(int fd)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN | POLLRDHUP };

	if (poll(&pfd, 1, 0) < 0)
		return -errno;
	return (pfd.revents & (POLLRDHUP | POLLHUP | POLLERR)) != 0;
}
