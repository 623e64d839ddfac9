// SPDX-License-Identifier: MIT
#include "seqpacket_server.h"

#include "fd_wait.h"
#include "stop.h"

#include <errno.h>
#include <poll.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

void seqpacket_server_clear(struct seqpacket_server *s)
{
	s->listen_fd = s->conn = s->epoll = -1;
	s->listen_wake = (struct wake_fd){ .fd = -1, .kept = -1, .ended = -1 };
	s->rd.blocking = false;
}

/* Swap what epoll watches: the listening socket or the sender. Their kept
 * copies: the numbers a stop swaps may be the ended pipe right now. */
static void watch(struct seqpacket_server *s, int old_fd, int new_fd)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.fd = new_fd };

	if (old_fd >= 0)
		(void)epoll_ctl(s->epoll, EPOLL_CTL_DEL, old_fd, NULL);
	(void)epoll_ctl(s->epoll, EPOLL_CTL_ADD, new_fd, &ev);
}

int seqpacket_server_open(struct seqpacket_server *s, int listen_fd)
{
	struct epoll_event ev = { .events = EPOLLIN };
	int r;

	s->epoll = epoll_create1(EPOLL_CLOEXEC);
	if (s->epoll < 0)
		return -errno;
	r = wake_fd_init(&s->listen_wake, listen_fd);
	if (r < 0)
		return r;
	s->listen_fd = listen_fd;
	ev.data.fd = s->listen_wake.kept;
	if (epoll_ctl(s->epoll, EPOLL_CTL_ADD, s->listen_wake.kept, &ev) < 0)
		return -errno;
	return 0;
}

int seqpacket_server_take(struct seqpacket_server *s, int conn)
{
	int r = packet_reader_block(&s->rd, conn);

	if (r < 0) {
		close(conn);
		return r;
	}
	s->conn = conn;
	/* packet_reader_more() must never read the blocking @conn: it adds
	 * only what is left of the last batch. */
	s->rd.idle = true;
	watch(s, s->listen_wake.kept, s->rd.wake.kept);
	return 0;
}

void seqpacket_server_drop(struct seqpacket_server *s)
{
	watch(s, s->rd.wake.kept, s->listen_wake.kept);
	packet_reader_close(&s->rd);
	close(s->conn);
	s->conn = -1;
	s->rd.zero = false;
}

/* After a recv() of 0: whether the sender closed, or only sent an empty
 * record. On the kept copy: the number recv() used may be swapped now. */
static bool peer_closed(const struct seqpacket_server *s)
{
	struct pollfd pfd = { .fd = s->rd.wake.kept,
			      .events = POLLIN | POLLRDHUP };

	return poll(&pfd, 1, 0) == 1 && pfd.revents & (POLLHUP | POLLRDHUP);
}

ssize_t seqpacket_server_recv(struct seqpacket_server *s, uint8_t *buf,
			      size_t size, int timeout_ms, uint64_t *rejected)
{
	/* Untimed with the stop signals let in: sleep in recv() itself. */
	bool sleep = timeout_ms < 0 && stop_is_let_in();
	ssize_t n = -EAGAIN;
	int r;

	/* A stop that came before @conn could be swapped, or one not yet
	 * taken back (stop_rearm) whose swap was undone (unwake). */
	if (sleep && stop_requested())
		return -EINTR;
	if (!sleep) {
		r = fd_wait(s->conn, POLLIN, timeout_ms, NULL);
		if (r < 0)
			return r;
	}
	while (n == -EAGAIN) {
		n = recv(s->conn, s->rd.buf, sizeof(s->rd.buf),
			 sleep ? 0 : MSG_DONTWAIT);
		if (n < 0 && errno == ENOTSOCK)
			return -EINTR;	/* swapped: a stop */
		if (n < 0)
			return errno == ECONNRESET ? -EPIPE : -errno;
		if (n == 0)
			return peer_closed(s) ? -EPIPE : 0;
		n = packet_reader_split(&s->rd, (size_t)n, buf, size,
					rejected);
	}
	return n;
}

void seqpacket_server_wake(struct seqpacket_server *s)
{
	wake_fd_wake(&s->listen_wake);
	packet_reader_wake(&s->rd);
}

void seqpacket_server_unwake(struct seqpacket_server *s)
{
	wake_fd_restore(&s->listen_wake);
	packet_reader_unwake(&s->rd);
}

void seqpacket_server_close(struct seqpacket_server *s)
{
	if (s->conn >= 0)
		seqpacket_server_drop(s);
	wake_fd_close(&s->listen_wake);
	if (s->epoll >= 0)
		close(s->epoll);
	s->epoll = -1;
}
