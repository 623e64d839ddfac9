// SPDX-License-Identifier: MIT
#include "net_server.h"

#include "message.h"
#include "backoff.h"
#include "deadline.h"
#include "stop.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

struct net_server {
	const struct net_server_ops *ops;
	void *user;
	int listen_fd;
	int epoll_fd;
	int timeout_ms;
	struct backoff accept_backoff;	/* out of fds: pause accept */
	bool listener_paused;
	uint64_t *rejected;			/* the transport's counter */
	uint64_t accepted;			/* connections so far */
	uint64_t refusals;			/* in all */
	uint64_t log_window_ns;			/* rate limit of their logs */
	unsigned int logged_in_window;
	uint64_t unlogged;			/* since the last one logged */
	struct net_conn conns[NET_SERVER_MAX_CONNS];
};

/*
 * Every refusal is logged, except under a flood: at most LOG_BURST lines a
 * second, and the next line logged says how many were not.
 */
#define LOG_BURST	10

static void notice(struct net_server *s, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void notice(struct net_server *s, const char *fmt, ...)
{
	char line[320];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	s->ops->notice(s->user, line);
}

static void refuse(struct net_server *s, const char *peer, const char *why)
{
	uint64_t now = monotonic_ns();

	s->refusals++;
	if (s->rejected)
		(*s->rejected)++;
	if (now - s->log_window_ns >= 1000000000u) {
		s->log_window_ns = now;
		s->logged_in_window = 0;
	}
	if (s->logged_in_window >= LOG_BURST) {
		s->unlogged++;
		return;
	}
	s->logged_in_window++;
	if (s->unlogged)
		notice(s, "refused %s: %s (%llu refused in all, %llu of "
		       "them not logged)", peer, why,
		       (unsigned long long)s->refusals,
		       (unsigned long long)s->unlogged);
	else
		notice(s, "refused %s: %s", peer, why);
	s->unlogged = 0;
}

static void conn_close(struct net_server *s, struct net_conn *c)
{
	if (c->fd < 0)
		return;
	if (s->ops->conn_free)
		s->ops->conn_free(s->user, c);
	(void)epoll_ctl(s->epoll_fd, EPOLL_CTL_DEL, c->fd, NULL);
	close(c->fd);
	memset(c, 0, sizeof(*c));
	c->fd = -1;
}

/*
 * From now on, closing @c resets it (SO_LINGER 0) rather than ending it
 * with a FIN: the sender's next send then fails at once and the frame
 * stays its own, where after a FIN it would succeed into a socket that
 * nobody reads any more, and be lost. So a sender need not look for a FIN
 * before every send. Nothing the LED would send is lost (it sends
 * nothing once established); what it has not read when it closes is lost
 * either way (a close with unread data resets too).
 */
static void conn_reset_on_close(struct net_server *s, struct net_conn *c)
{
	struct linger l = { .l_onoff = 1, .l_linger = 0 };

	if (setsockopt(c->fd, SOL_SOCKET, SO_LINGER, &l, sizeof(l)) < 0)
		notice(s, "connection from %s: SO_LINGER: %s", c->name,
		       strerror(errno));
}

static int conn_watch(struct net_server *s, struct net_conn *c, uint32_t events)
{
	struct epoll_event ev = { .events = events, .data.ptr = c };

	if (events == c->events)
		return 0;
	if (epoll_ctl(s->epoll_fd, EPOLL_CTL_MOD, c->fd, &ev) < 0)
		return -errno;
	c->events = events;
	return 0;
}

static int listener_watch(struct net_server *s, bool on)
{
	struct epoll_event ev = { .events = on ? EPOLLIN : 0 };

	if (epoll_ctl(s->epoll_fd, EPOLL_CTL_MOD, s->listen_fd, &ev) < 0)
		return -errno;
	s->listener_paused = !on;
	return 0;
}

static void expire_candidates(struct net_server *s, uint64_t now)
{
	for (size_t i = 0; i < NET_SERVER_MAX_CONNS; i++) {
		struct net_conn *c = &s->conns[i];

		if (c->fd < 0 || c->active || !c->deadline_ns ||
		    c->deadline_ns > now)
			continue;
		refuse(s, c->name, c->established ?
		       "no complete frame within the timeout" :
		       "no handshake within the timeout");
		conn_close(s, c);
	}
}

/* A free slot, or the oldest candidate's, which a newer connection takes. */
static struct net_conn *take_slot(struct net_server *s)
{
	struct net_conn *oldest = NULL;

	for (size_t i = 0; i < NET_SERVER_MAX_CONNS; i++) {
		struct net_conn *c = &s->conns[i];

		if (c->fd < 0)
			return c;
		if (!c->active && (!oldest || c->serial < oldest->serial))
			oldest = c;
	}
	if (oldest) {
		refuse(s, oldest->name, "a newer connection needs its slot");
		conn_close(s, oldest);
	}
	return oldest;
}

static uint64_t candidate_deadline(const struct net_server *s)
{
	return monotonic_ns() + (uint64_t)s->timeout_ms * 1000000u;
}

static void conn_add(struct net_server *s, int fd,
		     const struct sockaddr_storage *peer, socklen_t len)
{
	struct net_addr addr = { .len = len };
	struct epoll_event ev = { .events = EPOLLIN };
	char name[NET_ADDR_STRLEN];
	struct net_conn *c;
	int r;

	memcpy(&addr.ss, peer, len <= sizeof(addr.ss) ? len : sizeof(addr.ss));
	net_addr_format(&addr, name, sizeof(name));
	expire_candidates(s, monotonic_ns());
	c = take_slot(s);
	if (!c) {
		close(fd);
		refuse(s, name, "too many connections");
		return;
	}
	memset(c, 0, sizeof(*c));
	c->fd = fd;
	c->serial = ++s->accepted;
	memcpy(c->name, name, sizeof(c->name));
	/* A handshake starts at once, and must end in time. Without one,
	 * a connection that has said nothing yet may be a button with no
	 * press to send: it waits, and gives way only to a newer one. */
	if (s->ops->handshake)
		c->deadline_ns = candidate_deadline(s);
	c->events = EPOLLIN;
	if (s->ops->conn_init) {
		r = s->ops->conn_init(s->user, c);
		if (r < 0) {
			notice(s, "connection from %s: %s", name,
			       strerror(-r));
			close(fd);
			c->fd = -1;
			return;
		}
	}
	/* TLS: once the handshake is done, so that a refused peer reads
	 * the alert that says why. */
	if (!s->ops->handshake)
		conn_reset_on_close(s, c);
	ev.data.ptr = c;
	if (epoll_ctl(s->epoll_fd, EPOLL_CTL_ADD, fd, &ev) < 0) {
		notice(s, "epoll add %s: %s", name, strerror(errno));
		conn_close(s, c);
	}
}

static int accept_all(struct net_server *s)
{
	for (;;) {
		struct sockaddr_storage peer;
		socklen_t len = sizeof(peer);
		int fd, err;

		fd = s->ops->accept(s->user, s->listen_fd, &peer, &len);
		if (fd >= 0) {
			backoff_reset(&s->accept_backoff);
			conn_add(s, fd, &peer, len);
			continue;
		}
		err = errno;
		switch (err) {
		case EAGAIN:
			return 0;
		case EMFILE:
		case ENFILE:
		case ENOBUFS:
		case ENOMEM:
			/* The listener stays readable while a connection
			 * waits, so retrying now would spin: pause instead. */
			backoff_fail(&s->accept_backoff, monotonic_ns());
			notice(s, "accept: %s (pausing for %d ms)",
			       strerror(err),
			       backoff_remaining_ms(&s->accept_backoff,
							monotonic_ns()));
			return listener_watch(s, false);
		case EINTR:
		case ECONNABORTED:
		case EPROTO:
		case ENETDOWN:
		case ENOPROTOOPT:
		case EHOSTDOWN:
		case ENONET:
		case EHOSTUNREACH:
		case EOPNOTSUPP:
		case ENETUNREACH:
		case EPERM:
			/* That connection's trouble, not the listener's. */
			continue;
		default:
			notice(s, "accept: %s", strerror(err));
			return -err;
		}
	}
}

/* The first valid frame of a candidate makes it the one sender. */
static void promote(struct net_server *s, struct net_conn *c)
{
	for (size_t i = 0; i < NET_SERVER_MAX_CONNS; i++) {
		struct net_conn *old = &s->conns[i];

		if (old == c || old->fd < 0 || !old->active)
			continue;
		notice(s, "sender %s replaces %s", c->name, old->name);
		conn_close(s, old);
	}
	c->active = true;
	c->deadline_ns = 0;
}

/* Make progress on one connection; the frame's length when one is ready. */
static ssize_t conn_service(struct net_server *s, struct net_conn *c,
			    uint8_t *buf)
{
	struct ipc_message msg;
	enum ipc_message_error err;
	ssize_t n;
	size_t len;
	uint8_t *space;
	int r;

	if (!c->established) {
		r = s->ops->handshake ? s->ops->handshake(s->user, c) : 0;
		if (r == -EAGAIN) {
			r = conn_watch(s, c, c->want ? c->want : EPOLLIN);
			return r < 0 ? r : 0;
		}
		if (r < 0) {
			refuse(s, c->name, c->why[0] ? c->why :
			       "handshake failed");
			conn_close(s, c);
			return 0;
		}
		c->established = true;
		r = conn_watch(s, c, EPOLLIN);
		if (r < 0)
			return r;
		/* The peer proved who it is: the sender now, no deadline. */
		if (s->ops->handshake) {
			conn_reset_on_close(s, c);
			promote(s, c);
		}
	}
	/* Read only when no whole frame is left from the last read. */
	while (!net_frame_ready(&c->frame)) {
		space = net_frame_space(&c->frame, &len);
		n = s->ops->read(s->user, c, space, len);
		if (n == -EAGAIN) {
			r = conn_watch(s, c, c->want ? c->want : EPOLLIN);
			return r < 0 ? r : 0;
		}
		if (n <= 0) {
			if (net_frame_partial(&c->frame))
				refuse(s, c->name,
				       "stream ended inside a frame");
			else if (n < 0)
				notice(s, "connection from %s: %s", c->name,
				       c->why[0] ? c->why : strerror((int)-n));
			conn_close(s, c);
			return 0;
		}
		if (net_frame_commit(&c->frame, (size_t)n))
			break;
		/* Part of a frame from an unproven peer: the rest must come
		 * in time (a peer trickling bytes holds no slot for ever). */
		if (!c->active && !c->deadline_ns)
			c->deadline_ns = candidate_deadline(s);
	}
	memcpy(buf, net_frame_take(&c->frame), IPC_MESSAGE_SIZE);
	err = ipc_message_decode(buf, IPC_MESSAGE_SIZE, &msg);
	if (err != IPC_MESSAGE_OK) {
		/* Returned all the same: the caller counts it by reason. */
		notice(s, "bad frame from %s (%s): closing it", c->name,
		       ipc_message_error_name(err));
		conn_close(s, c);
		return IPC_MESSAGE_SIZE;
	}
	if (!c->active)
		promote(s, c);
	return IPC_MESSAGE_SIZE;
}

static int next_wait_ms(struct net_server *s, uint64_t now, uint64_t end)
{
	uint64_t soonest = end;

	for (size_t i = 0; i < NET_SERVER_MAX_CONNS; i++) {
		const struct net_conn *c = &s->conns[i];

		if (c->fd >= 0 && !c->active && c->deadline_ns &&
		    (!soonest || c->deadline_ns < soonest))
			soonest = c->deadline_ns;
	}
	if (s->listener_paused &&
	    (!soonest || s->accept_backoff.until_ns < soonest))
		soonest = s->accept_backoff.until_ns;
	if (!soonest)
		return -1;
	if (soonest <= now)
		return 0;
	return (int)((soonest - now + 999999) / 1000000);
}

/* A frame from a connection that holds one already read; 0 if none. */
static ssize_t serve_buffered(struct net_server *s, uint8_t *buf)
{
	ssize_t got;

	for (size_t i = 0; i < NET_SERVER_MAX_CONNS; i++) {
		struct net_conn *c = &s->conns[i];

		if (c->fd < 0 || !c->established ||
		    (!net_frame_ready(&c->frame) && !(s->ops->has_pending &&
		      s->ops->has_pending(s->user, c))))
			continue;
		got = conn_service(s, c, buf);
		if (got)
			return got;
	}
	return 0;
}

/*
 * epoll_pwait with the stop signals let in (fd_wait.h says why), in one
 * system call: how many events, 0 on timeout, -EINTR, or a negative errno.
 */
static int wait_events(struct net_server *s, struct epoll_event *ev, int max,
		       int timeout_ms)
{
	int n;

	if (stop_requested())
		return -EINTR;
	n = epoll_pwait(s->epoll_fd, ev, max, timeout_ms, stop_wait_mask());
	return n < 0 ? -errno : n;
}

ssize_t net_server_receive(struct net_server *s, uint8_t *buf, size_t size,
			   int timeout_ms, uint64_t *rejected)
{
	uint64_t end = 0, now = monotonic_ns();
	struct epoll_event ev[16];
	ssize_t got;
	int r, n;

	if (size < IPC_MESSAGE_SIZE)
		return -EINVAL;
	s->rejected = rejected;
	if (timeout_ms >= 0)
		end = now + (uint64_t)timeout_ms * 1000000u + 1;
	for (;;) {
		now = monotonic_ns();
		if (s->listener_paused &&
		    !backoff_active(&s->accept_backoff, now)) {
			r = listener_watch(s, true);
			if (r < 0)
				return r;
		}
		expire_candidates(s, now);
		/* Frames read ahead, or TLS records already read from the
		 * socket, are served before any wait: poll cannot see them. */
		got = serve_buffered(s, buf);
		if (got)
			return got;
		n = wait_events(s, ev, sizeof(ev) / sizeof(ev[0]),
				next_wait_ms(s, now, end));
		if (n == 0) {
			if (end && monotonic_ns() >= end)
				return -ETIMEDOUT;
			continue;
		}
		if (n < 0)
			return n;
		for (int i = 0; i < n; i++) {
			struct net_conn *c = ev[i].data.ptr;

			if (!c) {
				r = accept_all(s);
				if (r < 0)
					return r;
				continue;
			}
			/* Level-triggered: what is left is reported again. */
			if (got || c->fd < 0)
				continue;
			got = conn_service(s, c, buf);
			if (got < 0)
				return got;
		}
		if (got)
			return got;
		if (end && monotonic_ns() >= end)
			return -ETIMEDOUT;
	}
}

ssize_t net_server_receive_many(struct net_server *s,
				uint8_t (*frames)[IPC_MESSAGE_MAX_WIRE],
				size_t *lens, size_t max, int timeout_ms,
				uint64_t *rejected)
{
	ssize_t n = net_server_receive(s, frames[0], IPC_MESSAGE_MAX_WIRE,
				       timeout_ms, rejected);
	size_t count = 0;

	while (n > 0) {
		lens[count++] = (size_t)n;
		n = count < max ? serve_buffered(s, frames[count]) : 0;
	}
	return count ? (ssize_t)count : n;
}

int net_server_open(int listen_fd, int timeout_ms,
		    const struct net_server_ops *ops, void *user,
		    struct net_server **ret)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.ptr = NULL };
	struct net_server *s;
	int r;

	s = calloc(1, sizeof(*s));
	if (!s) {
		close(listen_fd);
		return -ENOMEM;
	}
	s->listen_fd = listen_fd;
	s->ops = ops;
	s->user = user;
	s->timeout_ms = timeout_ms;
	s->epoll_fd = -1;
	for (size_t i = 0; i < NET_SERVER_MAX_CONNS; i++)
		s->conns[i].fd = -1;
	backoff_init(&s->accept_backoff, 50, 1000);
	s->epoll_fd = epoll_create1(EPOLL_CLOEXEC);
	if (s->epoll_fd < 0 ||
	    epoll_ctl(s->epoll_fd, EPOLL_CTL_ADD, s->listen_fd, &ev) < 0) {
		r = -errno;
		net_server_close(s);
		return r;
	}
	*ret = s;
	return 0;
}

int net_server_poll_fd(const struct net_server *s)
{
	return s->epoll_fd;
}

void net_server_close(struct net_server *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < NET_SERVER_MAX_CONNS; i++)
		conn_close(s, &s->conns[i]);
	if (s->epoll_fd >= 0)
		close(s->epoll_fd);
	if (s->listen_fd >= 0)
		close(s->listen_fd);
	free(s);
}
