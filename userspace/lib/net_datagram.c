// SPDX-License-Identifier: MIT
#include "net_datagram.h"

#include "log.h"
#include "net_options.h"
#include "../ipc/transport.h"
#include "deadline.h"
#include "fd_wait.h"

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

struct net_dgram {
	int fd;
	uint32_t kernel_drops;	/* SO_RXQ_OVFL as of the last datagram */
	uint64_t oversize;	/* refused with MSG_TRUNC */
};

int net_dgram_socket(const struct transport *t, int family, int shared,
		     int *ret_fd)
{
	int fd, on = 1;

	fd = socket(family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		log_errno(errno, "%s: socket", t->ops->name);
		return -errno;
	}
	if (shared &&
	    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on)) < 0) {
		int err = errno;

		log_errno(err, "%s: SO_REUSEADDR", t->ops->name);
		close(fd);
		return -err;
	}
	*ret_fd = fd;
	return 0;
}

int net_dgram_setup_receiver(const struct transport *t, int fd)
{
	unsigned int rcvbuf;
	int on = 1, size, r;

	r = net_options_uint(t, "rcvbuf", 64 * 1024 * 1024, &rcvbuf);
	if (r < 0)
		return r;
	/* The kernel caps it at net.core.rmem_max (and doubles it for its
	 * bookkeeping); a smaller buffer than asked is not an error. */
	size = (int)rcvbuf;
	if (size && setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size,
			       sizeof(size)) < 0) {
		log_errno(errno, "%s: SO_RCVBUF %d", t->ops->name, size);
		return -errno;
	}
	if (setsockopt(fd, SOL_SOCKET, SO_RXQ_OVFL, &on, sizeof(on)) < 0) {
		log_errno(errno, "%s: SO_RXQ_OVFL", t->ops->name);
		return -errno;
	}
	return 0;
}

int net_dgram_attach(struct transport *t, int fd)
{
	struct net_dgram *d = calloc(1, sizeof(*d));

	if (!d)
		return -ENOMEM;
	d->fd = fd;
	t->priv = d;
	return 0;
}

int net_dgram_send(struct transport *t, const uint8_t *frame, size_t len)
{
	struct net_dgram *d = t->priv;
	int refused = 0;

	for (;;) {
		if (send(d->fd, frame, len, MSG_DONTWAIT | MSG_NOSIGNAL) >= 0)
			return 0;
		switch (errno) {
		case EINTR:
			continue;
		case ECONNREFUSED:
			/* An ICMP error about an earlier datagram (no
			 * receiver then); this one was not sent yet. */
			if (refused++)
				return 0;
			continue;
		case EAGAIN:
			return -EAGAIN;
		case ENOBUFS:
			/* Dropped on the way out: a loss like any other,
			 * which the receiver counts from the seqno gap. */
			return 0;
		case ENETUNREACH:
		case EHOSTUNREACH:
		case ENETDOWN:
		case EADDRNOTAVAIL:
		case ENODEV:
			/* The interface or route is gone: reopen later,
			 * which looks the interface up again. */
			return -EPIPE;
		default:
			log_errno(errno, "%s: send", t->ops->name);
			return -errno;
		}
	}
}

static void note_drops(struct net_dgram *d, struct msghdr *mh)
{
	for (struct cmsghdr *c = CMSG_FIRSTHDR(mh); c; c = CMSG_NXTHDR(mh, c))
		if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SO_RXQ_OVFL &&
		    c->cmsg_len >= CMSG_LEN(sizeof(uint32_t)))
			memcpy(&d->kernel_drops, CMSG_DATA(c), sizeof(uint32_t));
}

ssize_t net_dgram_receive(struct transport *t, uint8_t *buf, size_t size,
			  int timeout_ms)
{
	struct net_dgram *d = t->priv;
	uint64_t end = 0;

	if (timeout_ms >= 0)
		end = monotonic_ns() + (uint64_t)timeout_ms * 1000000u;
	for (;;) {
		union {
			struct cmsghdr align;
			char buf[CMSG_SPACE(sizeof(uint32_t))];
		} control;
		struct iovec iov = { .iov_base = buf, .iov_len = size };
		struct msghdr mh = {
			.msg_iov = &iov, .msg_iovlen = 1,
			.msg_control = control.buf,
			.msg_controllen = sizeof(control.buf),
		};
		ssize_t n;
		int wait_ms = -1, r;

		n = recvmsg(d->fd, &mh, MSG_DONTWAIT | MSG_TRUNC |
			    MSG_CMSG_CLOEXEC);
		if (n >= 0) {
			note_drops(d, &mh);
			if ((size_t)n <= size && !(mh.msg_flags & MSG_TRUNC))
				return n;
			/* Bigger than any frame and than the buffer: refuse
			 * it whole instead of passing a cut piece on. */
			d->oversize++;
			t->rejected++;
			continue;
		}
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN) {
			/* A pending ICMP error on a socket is not ours to
			 * keep; anything else is real trouble. */
			if (errno == ECONNREFUSED)
				continue;
			log_errno(errno, "%s: receive", t->ops->name);
			return -errno;
		}
		if (end) {
			uint64_t now = monotonic_ns();

			if (now >= end)
				return -ETIMEDOUT;
			wait_ms = (int)((end - now + 999999) / 1000000);
		}
		r = fd_wait(d->fd, POLLIN, wait_ms, NULL);
		if (r < 0)
			return r;
	}
}

int net_dgram_poll_fd(struct transport *t)
{
	struct net_dgram *d = t->priv;

	return d ? d->fd : -1;
}

void net_dgram_close(struct transport *t)
{
	struct net_dgram *d = t->priv;

	if (!d)
		return;
	if (t->role == TRANSPORT_RECEIVER && d->kernel_drops)
		log_error("%s: the kernel dropped %u datagrams for a full "
			  "receive queue before the last one received "
			  "(each a lost event, in lost=, or a lost state "
			  "report)", t->ops->name,
			  d->kernel_drops);
	if (d->oversize)
		log_error("%s: refused %llu oversized datagrams", t->ops->name,
			  (unsigned long long)d->oversize);
	close(d->fd);
	free(d);
	t->priv = NULL;
}
