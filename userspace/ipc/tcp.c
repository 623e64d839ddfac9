// SPDX-License-Identifier: MIT
/*
 * tcp: one persistent TCP connection from the button to the LED.
 *
 * Push, lossless while both run, in order. The RECEIVER listens (on
 * 127.0.0.1:5555 unless told otherwise, never every interface by default)
 * and serves one sender at a time without ever blocking on a silent, slow
 * or hostile client (lib/net_server.h says how; refusals are counted in
 * t->rejected). The SENDER connects once and keeps the connection. A
 * stream has no message boundaries: both ends move fixed 40-byte frames
 * and reassemble them from partial reads and writes (lib/net_frame.h).
 * A backlog goes in one send() (send_many); the receiver reads ahead and
 * hands out whole frames, so a burst costs one read for many.
 *
 * When the LED goes away, send() returns -EPIPE: the LED resets every
 * connection it closes (lib/net_server.c), so the send fails and the
 * frame stays in the button's backlog, with no poll() for a FIN before
 * each send (one send per lone event, as bare). open() returns
 * TRANSPORT_ABSENT until it listens again. Frames in flight when the LED
 * dies are lost with its socket (seqno gap). Keepalive and
 * TCP_USER_TIMEOUT notice a vanished host. Nothing to clean up; no
 * authentication (tls).
 */
#include "tcp.h"

#include "../lib/fd_wait.h"
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
#include <syslog.h>
#include <unistd.h>

struct tcp_state {
	struct net_server *server;	/* receiver; first: tcp_receive() */
	int fd;				/* sender: the connection */
	struct net_tail tail;		/* sender: a frame half sent */
};

static const struct transport_option tcp_options[] = {
	{ "host", NULL, "address or name to listen on / connect to (default 127.0.0.1, or ::1 with family=ipv6)", NULL },
	{ "port", "5555", "TCP port", net_port_check },
	{ "family", "any", "ipv4, ipv6 or any: which addresses of host to use", NULL },
	{ "timeout", "2000", "ms: sender's connect limit; receiver's limit for finishing a frame a new connection began", NULL },
	{ NULL, NULL, NULL, NULL },
};

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

/* The LED's end: bound and listening on @fd. 0 or a negative errno. */
static int tcp_bind_listen(int fd, const struct net_addr *addr,
			   const char **step)
{
	*step = "bind";
	if (bind(fd, (const struct sockaddr *)&addr->ss, addr->len) < 0)
		return -errno;
	*step = "listen";
	/* Small: one sender at a time; a flood waits in a short queue and
	 * the receiver refuses what it has no room for. */
	return listen(fd, 8) < 0 ? -errno : 0;
}

/* The button's end: connected within @timeout_ms. 0 or a negative errno. */
static int tcp_connect_fd(int fd, const struct net_addr *addr,
			  int timeout_ms)
{
	socklen_t len = sizeof(int);
	int r, err = 0;

	if (connect(fd, (const struct sockaddr *)&addr->ss, addr->len) == 0)
		return 0;
	if (errno != EINPROGRESS)
		return -errno;
	/* Non-blocking: wait for the answer, stop signals let in. */
	r = fd_wait(fd, POLLOUT, timeout_ms, NULL);
	if (r == -ETIMEDOUT)
		return TRANSPORT_ABSENT;	/* nobody answered: try again later */
	if (r == 0)	/* the connection's outcome */
		r = getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0 ?
		    -errno : -err;
	return r;
}

int tcp_socket(const struct net_addr *addr, bool listening, int timeout_ms,
	       char *why, size_t size)
{
	const char *step = listening ? "socket" : "connect";
	char name[NET_ADDR_STRLEN];
	int fd, r;

	fd = socket(net_addr_family(addr),
		    SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		r = -errno;
		goto err;
	}
	r = listening ? net_set_int(fd, SOL_SOCKET, SO_REUSEADDR, 1) : 0;
	if (!r && listening && net_addr_family(addr) == AF_INET6)
		r = net_set_int(fd, IPPROTO_IPV6, IPV6_V6ONLY, 1);
	if (!r)		/* accepted sockets inherit keepalive and the rest */
		r = net_stream_tune(fd);
	if (r < 0 && listening)
		step = "setsockopt";
	if (!r)
		r = listening ? tcp_bind_listen(fd, addr, &step) :
				tcp_connect_fd(fd, addr, timeout_ms);
	if (!r)
		return fd;
	close(fd);
err:
	if (!listening && (r == -EINTR || net_unreachable(-r)))
		return r == -EINTR ? r : TRANSPORT_ABSENT;
	snprintf(why, size, "%s %s", step,
		 net_addr_format(addr, name, sizeof(name)));
	return r;
}

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
	if (errno == EAGAIN)
		c->want = EPOLLIN;
	return -errno;
}

/* Told at once: receive() may wait for hours before t->detail is read. */
static void tcp_notice(void *user, const char *line)
{
	transport_notice(user, LOG_WARNING, "tcp: %s", line);
}

static const struct net_server_ops tcp_server_ops = {
	.accept = tcp_accept,
	.notice = tcp_notice,
	.read = tcp_conn_read,
};

ssize_t tcp_receive(struct transport *t, uint8_t *buf, size_t size,
		    int timeout_ms)
{
	struct net_server **server = t->priv;

	return net_server_receive(*server, buf, size, timeout_ms,
				  &t->rejected);
}

ssize_t tcp_receive_many(struct transport *t, struct transport_batch *batch,
			 int timeout_ms)
{
	struct net_server **server = t->priv;
	ssize_t n = net_server_receive_many(*server, batch->frame, batch->len,
					    TRANSPORT_BATCH_MAX, timeout_ms,
					    &t->rejected);

	batch->count = n > 0 ? (size_t)n : 0;
	return n;
}

/* One send() of the lot; a frame cut short is finished first next time. */
static int tcp_send_many(struct transport *t, const uint8_t *frames,
			 size_t len, size_t count)
{
	struct tcp_state *st = t->priv;

	/* -EAGAIN is TRANSPORT_FULL, -EPIPE TRANSPORT_STALE (transport.h). */
	return net_frame_send(st->fd, &st->tail, frames, len, count);
}

static int tcp_send(struct transport *t, const uint8_t *frame, size_t len)
{
	int r = tcp_send_many(t, frame, len, 1);

	return r < 0 ? r : 0;
}

static int tcp_open(struct transport *t)
{
	struct net_addr addr;
	struct tcp_state *st;
	char *why = t->detail;
	size_t size = sizeof(t->detail);
	int timeout_ms, r;

	r = tcp_parse_options(t, &addr, &timeout_ms, why, size);
	if (r < 0)
		return r;
	st = calloc(1, sizeof(*st));
	if (!st)
		return -ENOMEM;
	if (t->role == TRANSPORT_RECEIVER) {
		st->fd = -1;
		r = tcp_socket(&addr, true, 0, why, size);
		if (r >= 0)	/* its user: @t, for tcp_notice */
			r = net_server_open(r, timeout_ms, &tcp_server_ops, t,
					    &st->server);
	} else {
		r = st->fd = tcp_socket(&addr, false, timeout_ms, why, size);
	}
	if (r >= 0) {
		t->priv = st;
		return 0;
	}
	free(st);
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
	.send_many = tcp_send_many,
	.receive_many = tcp_receive_many,
	.poll_fd = tcp_poll_fd,
	.close = tcp_close,
};

TRANSPORT_REGISTER(tcp_ops);
