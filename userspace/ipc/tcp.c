// SPDX-License-Identifier: MIT
/*
 * tcp: one persistent TCP connection from the button to the LED.
 *
 * Push, lossless while both run, in order. The RECEIVER listens (on
 * 127.0.0.1:5555 unless told otherwise: never on every interface by
 * default) and serves one sender at a time without ever blocking on a
 * silent, slow or hostile client: see lib/net_server.h for the policy
 * (a bound on connections, the oldest unproven one gives way to a newer
 * one, a frame once begun must end in time, a bad frame closes its
 * connection, refusals counted in t->rejected). The SENDER connects
 * once and keeps the connection; a stream has no message boundaries, so
 * both ends move fixed 40-byte frames and reassemble them from partial
 * reads and writes (lib/net_frame.h).
 *
 * Peer restarts: when the LED goes away, send() returns -EPIPE (the FIN is
 * noticed before writing, so the frame stays in the button's backlog) and
 * open() -ECONNREFUSED until it listens again. Frames in flight when the
 * LED dies are lost with its socket; the LED counts them from the seqno
 * gap. A vanished host is noticed by keepalive and TCP_USER_TIMEOUT.
 * Nothing to clean up; no authentication (use tls for that).
 */
#include "tcp.h"
#include "transport.h"

#include "../lib/log.h"
#include "../lib/net_frame.h"
#include "../lib/net_options.h"
#include "../lib/net_server.h"
#include "../lib/net_socket.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>


struct tcp_state {
	int fd;				/* sender: the connection */
	struct net_tail tail;		/* sender: a frame half sent */
	struct net_server *server;	/* receiver */
};

static const struct transport_option tcp_options[] = {
	{ "host", NULL, "address or name to listen on / connect to (default 127.0.0.1, or ::1 with family=ipv6)", NULL },
	{ "port", "5555", "TCP port", net_port_check },
	{ "family", "any", "ipv4, ipv6 or any: which addresses of host to use", NULL },
	{ "timeout", "2000", "ms: sender's connect limit; receiver's limit for finishing a frame a new connection began", NULL },
	{ NULL, NULL, NULL, NULL },
};

/* --- the TCP calls tls.c shares ---------------------------------------- */

static int set_int(int fd, int level, int name, int value)
{
	return setsockopt(fd, level, name, &value, sizeof(value)) < 0 ? -errno : 0;
}

int tcp_listen(const struct net_addr *addr, char *why, size_t size)
{
	char name[NET_ADDR_STRLEN];
	const char *step = "socket";
	int fd, r;

	net_addr_format(addr, name, sizeof(name));
	fd = socket(net_addr_family(addr),
		    SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		r = -errno;
		goto err;
	}
	step = "setsockopt";
	r = set_int(fd, SOL_SOCKET, SO_REUSEADDR, 1);
	if (!r && net_addr_family(addr) == AF_INET6)
		r = set_int(fd, IPPROTO_IPV6, IPV6_V6ONLY, 1);
	if (!r)		/* accepted sockets inherit keepalive and the rest */
		r = net_stream_tune(fd);
	if (r < 0)
		goto err_close_fd;
	step = "bind";
	if (bind(fd, (const struct sockaddr *)&addr->ss, addr->len) < 0) {
		r = -errno;
		goto err_close_fd;
	}
	step = "listen";
	/* Small: one sender at a time; a flood waits in a short queue and
	 * the receiver refuses what it has no room for. */
	if (listen(fd, 8) < 0) {
		r = -errno;
		goto err_close_fd;
	}
	return fd;

err_close_fd:
	close(fd);
err:
	snprintf(why, size, "%s %s: %s", step, name, strerror(-r));
	return r;
}

int tcp_accept(void *user, int listen_fd, struct sockaddr_storage *peer,
	       socklen_t *len)
{
	(void)user;
	return accept4(listen_fd, (struct sockaddr *)peer, len,
		       SOCK_NONBLOCK | SOCK_CLOEXEC);
}

int tcp_parse_options(const struct transport *t, struct net_addr *addr,
		int *timeout_ms, char *why, size_t size)
{
	int r;

	r = net_options_address(transport_option(t, "host"),
				transport_option(t, "port"),
				transport_option(t, "family"), addr, why, size);
	if (r == 0)
		r = net_options_ms("timeout", transport_option(t, "timeout"),
				   timeout_ms, why, size);
	return r;
}

/* Nobody there now, or no way there now: the sender tries again later. */
static bool retryable(int err)
{
	return err == ECONNREFUSED || err == ETIMEDOUT || err == EHOSTUNREACH ||
	       err == ENETUNREACH || err == ECONNRESET || err == EHOSTDOWN ||
	       err == ENETDOWN;
}

int tcp_connect(const struct net_addr *addr, int timeout_ms, char *why,
		size_t size)
{
	char name[NET_ADDR_STRLEN];
	socklen_t len = sizeof(int);
	int fd, r, err = 0;

	fd = socket(net_addr_family(addr),
		    SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		r = -errno;
		goto err;
	}
	r = net_stream_tune(fd);
	if (r < 0)
		goto err_close_fd;
	if (connect(fd, (const struct sockaddr *)&addr->ss, addr->len) == 0)
		return fd;
	if (errno != EINPROGRESS) {
		r = -errno;
		goto err_close_fd;
	}
	/* Non-blocking: wait for the answer, stop signals let in. */
	r = transport_wait_fd(fd, POLLOUT, timeout_ms, NULL);
	if (r == -ETIMEDOUT)
		r = -ECONNREFUSED;	/* nobody answered: try again later */
	if (r == 0 && getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
		r = -errno;
	if (r == 0 && err)
		r = -err;
	if (r == 0)
		return fd;
err_close_fd:
	close(fd);
err:
	if (r == -EINTR || retryable(-r))
		return r == -EINTR ? r : -ECONNREFUSED;
	snprintf(why, size, "connect %s: %s",
		 net_addr_format(addr, name, sizeof(name)), strerror(-r));
	return r;
}

/* --- receiver ---------------------------------------------------------- */

static ssize_t tcp_conn_read(void *user, struct net_conn *c, void *buf,
			     size_t len)
{
	ssize_t n;

	(void)user;
	do
		n = recv(c->fd, buf, len, MSG_DONTWAIT);
	while (n < 0 && errno == EINTR);
	if (n >= 0)
		return n;
	if (errno == EAGAIN) {
		c->want = EPOLLIN;
		return -EAGAIN;
	}
	return -errno;
}

static void tcp_notice(void *user, const char *line)
{
	(void)user;
	log_error("tcp: %s", line);
}

static const struct net_server_ops tcp_server_ops = {
	.accept = tcp_accept,
	.notice = tcp_notice,
	.read = tcp_conn_read,
};

static ssize_t tcp_receive(struct transport *t, uint8_t *buf, size_t size,
			   int timeout_ms)
{
	struct tcp_state *st = t->priv;

	return net_server_receive(st->server, buf, size, timeout_ms,
				  &t->rejected);
}

/* --- sender ------------------------------------------------------------ */

/* Map a failed send to the interface's meaning: full, or gone. */
static int tcp_send_error(int err)
{
	if (err == EAGAIN || err == ENOBUFS)
		return -EAGAIN;
	if (err == EPIPE || err == ENOTCONN || retryable(err))
		return -EPIPE;
	log_error("tcp: send: %s", strerror(err));
	return -err;
}

/* Send what is left of the previous frame first: never interleave two. */
static int tcp_flush_tail(struct tcp_state *st)
{
	while (!net_tail_empty(&st->tail)) {
		ssize_t n = send(st->fd, st->tail.buf + st->tail.off,
				 st->tail.len - st->tail.off,
				 MSG_NOSIGNAL | MSG_DONTWAIT);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return tcp_send_error(errno);
		}
		st->tail.off += (size_t)n;
	}
	return 0;
}

static int tcp_send(struct transport *t, const uint8_t *frame, size_t len)
{
	struct tcp_state *st = t->priv;
	ssize_t n;
	int r;

	r = tcp_flush_tail(st);
	if (r < 0)
		return r;
	/* A FIN from the LED side means its process is gone: keep this frame
	 * for the next connection rather than write it into the void. */
	r = net_peer_gone(st->fd);
	if (r)
		return r > 0 ? -EPIPE : r;
	do
		n = send(st->fd, frame, len, MSG_NOSIGNAL | MSG_DONTWAIT);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return tcp_send_error(errno);
	if ((size_t)n < len)
		net_tail_keep(&st->tail, frame, len, (size_t)n);
	return 0;
}

/* --- the transport ----------------------------------------------------- */

static int tcp_open(struct transport *t)
{
	struct net_addr addr;
	struct tcp_state *st;
	char why[256] = "";
	int timeout_ms, r;

	r = tcp_parse_options(t, &addr, &timeout_ms, why, sizeof(why));
	if (r < 0)
		goto err;
	st = calloc(1, sizeof(*st));
	if (!st)
		return -ENOMEM;
	st->fd = -1;
	if (t->role == TRANSPORT_RECEIVER) {
		r = tcp_listen(&addr, why, sizeof(why));
		if (r >= 0)
			r = net_server_open(r, timeout_ms, &tcp_server_ops, st,
					    &st->server);
	} else {
		r = st->fd = tcp_connect(&addr, timeout_ms, why, sizeof(why));
	}
	if (r < 0)
		goto err_free_state;
	t->priv = st;
	return 0;

err_free_state:
	free(st);
err:
	if (why[0])
		log_error("tcp: %s", why);
	return r;
}

static int tcp_poll_fd(struct transport *t)
{
	struct tcp_state *st = t->priv;

	return st->server ? net_server_poll_fd(st->server) : st->fd;
}

static void tcp_close(struct transport *t)
{
	struct tcp_state *st = t->priv;

	if (!st)
		return;
	net_server_close(st->server);
	if (st->fd >= 0)
		close(st->fd);
	free(st);
	t->priv = NULL;
}

static const struct transport_ops tcp_ops = {
	.name = "tcp",
	.summary = "TCP stream, one persistent connection, 40-byte frames",
	.flags = TRANSPORT_LOSSLESS | TRANSPORT_PUSH | TRANSPORT_NETWORK,
	.options = tcp_options,
	.open = tcp_open,
	.send = tcp_send,
	.receive = tcp_receive,
	.poll_fd = tcp_poll_fd,
	.close = tcp_close,
};

TRANSPORT_REGISTER(tcp_ops);
