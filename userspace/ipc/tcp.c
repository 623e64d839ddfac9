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
 * Peer restarts: when the LED side goes away, send() returns -EPIPE (the
 * FIN is noticed before writing, so the frame stays in the button's backlog
 * and goes out again on the next connection) and open() returns
 * -ECONNREFUSED until it listens again; the button's back-off does the
 * timing. Frames already in flight when the LED process dies are lost with
 * its socket; the LED counts them from the seqno gap. A peer whose host
 * vanishes is noticed by keepalive (receiver) and TCP_USER_TIMEOUT (sender).
 *
 * No object to clean up: the listening socket dies with the process, and
 * SO_REUSEADDR lets a restarted receiver bind at once. There is no
 * authentication: any local process can connect to the loopback port. Use
 * tls to cross a network you do not trust.
 */
#include "../lib/log.h"
#include "transport.h"

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
#include <sys/socket.h>
#include <unistd.h>

struct tcp {
	/* sender */
	int fd;
	struct net_tail tail;
	/* receiver */
	struct net_server *server;
};

static const struct transport_option tcp_options[] = {
	{ "host", NULL, "address or name to listen on / connect to (default 127.0.0.1, or ::1 with family=ipv6)", NULL },
	{ "port", "5555", "TCP port", net_port_check },
	{ "family", "any", "ipv4, ipv6 or any: which addresses of host to use", NULL },
	{ "timeout", "2000", "ms: sender's connect limit; receiver's limit for finishing a frame a new connection began", NULL },
	{ NULL, NULL, NULL, NULL },
};

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

static const struct net_server_ops tcp_server_ops = {
	.read = tcp_conn_read,
};

static int tcp_open(struct transport *t)
{
	struct net_addr addr;
	struct tcp *tcp;
	int timeout_ms, r;

	r = net_options_address(t, &addr);
	if (r < 0)
		return r;
	r = net_options_ms(t, "timeout", &timeout_ms);
	if (r < 0)
		return r;
	tcp = calloc(1, sizeof(*tcp));
	if (!tcp)
		return -ENOMEM;
	tcp->fd = -1;
	if (t->role == TRANSPORT_RECEIVER)
		r = net_server_open("tcp", &addr, timeout_ms, &tcp_server_ops,
				    tcp, &tcp->server);
	else
		r = net_connect("tcp", &addr, timeout_ms, &tcp->fd);
	if (r < 0) {
		free(tcp);
		return r;
	}
	t->priv = tcp;
	return 0;
}

/* Map a failed send to the interface's meaning. */
static int tcp_send_error(int err)
{
	switch (err) {
	case EAGAIN:
	case ENOBUFS:
		return -EAGAIN;
	case EPIPE:
	case ECONNRESET:
	case ETIMEDOUT:
	case ENOTCONN:
	case EHOSTUNREACH:
	case ENETUNREACH:
	case ENETDOWN:
		return -EPIPE;
	default:
		log_error("tcp: send: %s", strerror(err));
		return -err;
	}
}

/* Send what is left of the previous frame first: never interleave two. */
static int tcp_flush_tail(struct tcp *tcp)
{
	while (!net_tail_empty(&tcp->tail)) {
		ssize_t n = send(tcp->fd, tcp->tail.buf + tcp->tail.off,
				 tcp->tail.len - tcp->tail.off,
				 MSG_NOSIGNAL | MSG_DONTWAIT);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return tcp_send_error(errno);
		}
		tcp->tail.off += (size_t)n;
	}
	return 0;
}

static int tcp_send(struct transport *t, const uint8_t *frame, size_t len)
{
	struct tcp *tcp = t->priv;
	ssize_t n;
	int r;

	r = tcp_flush_tail(tcp);
	if (r < 0)
		return r;
	/* A FIN from the LED side means its process is gone: keep this frame
	 * for the next connection rather than write it into the void. */
	r = net_peer_gone(tcp->fd);
	if (r)
		return r > 0 ? -EPIPE : r;
	do
		n = send(tcp->fd, frame, len, MSG_NOSIGNAL | MSG_DONTWAIT);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return tcp_send_error(errno);
	if ((size_t)n < len)
		net_tail_keep(&tcp->tail, frame, len, (size_t)n);
	return 0;
}

static ssize_t tcp_receive(struct transport *t, uint8_t *buf, size_t size,
			   int timeout_ms)
{
	struct tcp *tcp = t->priv;

	return net_server_receive(tcp->server, buf, size, timeout_ms,
				  &t->rejected);
}

static int tcp_poll_fd(struct transport *t)
{
	struct tcp *tcp = t->priv;

	return tcp->server ? net_server_poll_fd(tcp->server) : tcp->fd;
}

static void tcp_close(struct transport *t)
{
	struct tcp *tcp = t->priv;

	if (!tcp)
		return;
	net_server_close(tcp->server);
	if (tcp->fd >= 0)
		close(tcp->fd);
	free(tcp);
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
