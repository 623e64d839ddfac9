// SPDX-License-Identifier: MIT
/*
 * udp: one UDP datagram per event, from the button to one LED.
 *
 * Push, lossy, normally in order (loopback and one link do not reorder;
 * the LED would count a reordered frame as a gap plus a stale one). The
 * RECEIVER binds 127.0.0.1:5557 unless told otherwise (never every
 * interface by default); the SENDER sends to that address and needs nobody
 * to be there: frames sent while the LED is down are simply lost. Every loss
 * shows as a seqno gap in the next frame the LED gets, because each frame
 * carries the driver's seqno and the absolute LED state; the kernel's own
 * drops for a full receive queue (SO_RXQ_OVFL) are reported by the
 * receiver at close. Datagrams larger than the caller's buffer are refused
 * whole (MSG_TRUNC, counted in t->rejected), never cut to look like a frame.
 *
 * Per event: one send() on the sender; on the receiver one recvmmsg()
 * (recvmsg() for one frame) asleep on its blocking socket, which a stop
 * swaps for an ended pipe (wake); a timed receive waits in ppoll() first
 * when the socket is likely empty. A backlog goes out in one sendmmsg()
 * (send_many), and receive_many takes what is queued in one recvmmsg(),
 * each datagram refused or kept on its own, in order (lib/datagram_io.h).
 *
 * No object to clean up: the socket dies with the process. No
 * authentication: any local process can send to the loopback port.
 */
#include "udp.h"

#include "../lib/datagram_io.h"
#include "../lib/detail.h"
#include "../lib/net_options.h"

#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

struct udp_state {
	struct datagram_in in;	/* the socket, and what the receiver counts */
};

_Static_assert(TRANSPORT_BATCH_MAX <= DATAGRAM_BATCH_MAX,
	       "one batch is one sendmmsg() or recvmmsg()");

static const struct transport_option udp_options[] = {
	{ "host", NULL, "address or name to bind / send to (default 127.0.0.1, or ::1 with family=ipv6)", NULL },
	{ "port", "5557", "UDP port", net_port_check },
	{ "family", "any", "ipv4, ipv6 or any: which addresses of host to use", NULL },
	{ "rcvbuf", "262144", "receiver: socket receive buffer in bytes (0: the system's default)", NULL },
	{ NULL, NULL, NULL, NULL },
};

static int set_int(int fd, int level, int name, int value, const char *what,
		   char *why, size_t size)
{
	if (setsockopt(fd, level, name, &value, sizeof(value)) == 0)
		return 0;
	snprintf(why, size, "%s", what);
	return -errno;
}

int udp_socket(int family, bool shared, char *why, size_t size)
{
	int fd, r;

	fd = socket(family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		snprintf(why, size, "socket");
		return -errno;
	}
	if (shared) {
		r = set_int(fd, SOL_SOCKET, SO_REUSEADDR, 1, "SO_REUSEADDR",
			    why, size);
		if (r < 0) {
			close(fd);
			return r;
		}
	}
	return fd;
}

int udp_setup_receiver(const struct transport *t, int fd, char *why,
		       size_t size)
{
	unsigned int rcvbuf;
	int r;

	r = net_options_uint("rcvbuf", transport_option(t, "rcvbuf"),
			     64 * 1024 * 1024, &rcvbuf, why, size);
	/* The kernel caps it at net.core.rmem_max (and doubles it for its
	 * bookkeeping); a smaller buffer than asked is not an error. */
	if (r == 0 && rcvbuf)
		r = set_int(fd, SOL_SOCKET, SO_RCVBUF, (int)rcvbuf,
			    "SO_RCVBUF", why, size);
	if (r == 0)
		r = set_int(fd, SOL_SOCKET, SO_RXQ_OVFL, 1, "SO_RXQ_OVFL", why,
			    size);
	return r;
}

int udp_open_finish(struct transport *t, int fd, int r)
{
	struct udp_state *st = r < 0 ? NULL : calloc(1, sizeof(*st));

	if (!st) {
		close(fd);
		return r < 0 ? r : -ENOMEM;
	}
	st->in.fd = fd;
	t->priv = st;
	/* The receiver sleeps in recvmmsg() (lib/datagram_io.h). */
	r = t->role == TRANSPORT_RECEIVER ? datagram_in_block(&st->in) : 0;
	if (r < 0)
		udp_close(t);
	return r;
}

/* --- receiver ---------------------------------------------------------- */

static int udp_open_receiver(struct transport *t, int fd,
			     const struct net_addr *addr, char *why,
			     size_t size)
{
	char name[NET_ADDR_STRLEN];
	int r;

	r = udp_setup_receiver(t, fd, why, size);
	if (r == 0 && net_addr_family(addr) == AF_INET6)
		r = set_int(fd, IPPROTO_IPV6, IPV6_V6ONLY, 1, "IPV6_V6ONLY",
			    why, size);
	if (r == 0 && bind(fd, (const struct sockaddr *)&addr->ss,
			   addr->len) < 0) {
		r = -errno;
		snprintf(why, size, "bind %s",
			 net_addr_format(addr, name, sizeof(name)));
	}
	return r;
}

ssize_t udp_receive_many(struct transport *t, struct transport_batch *batch,
			 int timeout_ms)
{
	struct udp_state *st = t->priv;
	uint64_t refused;
	ssize_t n;

	n = datagram_receive(&st->in, &batch->frame[0][0],
			     sizeof(batch->frame[0]), batch->len,
			     TRANSPORT_BATCH_MAX, timeout_ms, &refused);
	t->rejected += refused;
	batch->count = n > 0 ? (size_t)n : 0;
	return n;
}

ssize_t udp_receive(struct transport *t, uint8_t *buf, size_t size,
		    int timeout_ms)
{
	struct udp_state *st = t->priv;
	uint64_t refused;
	size_t len;
	ssize_t n;

	n = datagram_receive(&st->in, buf, size, &len, 1, timeout_ms, &refused);
	t->rejected += refused;
	return n < 0 ? n : (ssize_t)len;
}

/* --- sender ------------------------------------------------------------ */

int udp_send_many(struct transport *t, const uint8_t *frames, size_t len,
		  size_t count)
{
	struct udp_state *st = t->priv;
	int refused = 0, n;

	for (;;) {
		n = datagram_send(st->in.fd, frames, len, count);
		switch (n) {
		case -EINTR:
			continue;
		case -ECONNREFUSED:
			/* An ICMP error about an earlier datagram (no
			 * receiver then); this one was not sent yet. */
			if (refused++)
				return 1;
			continue;
		case -EAGAIN:
			return TRANSPORT_FULL;
		case -ENOBUFS:
			/* Dropped on the way out: a loss like any other,
			 * which the receiver counts from the seqno gap. */
			return 1;
		case -ENETUNREACH:
		case -EHOSTUNREACH:
		case -ENETDOWN:
		case -EADDRNOTAVAIL:
		case -ENODEV:
			/* The interface or route is gone: reopen later,
			 * which looks the interface up again. */
			return TRANSPORT_STALE;
		default:
			return n;
		}
	}
}

int udp_send(struct transport *t, const uint8_t *frame, size_t len)
{
	int n = udp_send_many(t, frame, len, 1);

	return n < 0 ? n : 0;
}

/* --- the transport ----------------------------------------------------- */

static int udp_open(struct transport *t)
{
	char name[NET_ADDR_STRLEN], *why = t->detail;
	size_t size = sizeof(t->detail);
	struct net_addr addr;
	int fd, r;

	r = net_options_address(transport_option(t, "host"),
				transport_option(t, "port"),
				transport_option(t, "family"), &addr, why, size);
	if (r < 0)
		return r;
	fd = udp_socket(net_addr_family(&addr), false, why, size);
	if (fd < 0)
		return fd;
	if (t->role == TRANSPORT_RECEIVER) {
		r = udp_open_receiver(t, fd, &addr, why, size);
	} else if (connect(fd, (struct sockaddr *)&addr.ss, addr.len) < 0) {
		r = -errno;
		/* No route yet (a board whose network comes up later):
		 * the button retries, as when a receiver is not there. */
		if (r == -ENETUNREACH || r == -EHOSTUNREACH)
			r = TRANSPORT_ABSENT;
		else
			snprintf(why, size, "connect %s",
				 net_addr_format(&addr, name, sizeof(name)));
	}
	return udp_open_finish(t, fd, r);
}

void udp_wake(struct transport *t)
{
	datagram_in_wake(&((struct udp_state *)t->priv)->in);
}

void udp_unwake(struct transport *t)
{
	datagram_in_unwake(&((struct udp_state *)t->priv)->in);
}

int udp_poll_fd(struct transport *t)
{
	return t->priv ? ((struct udp_state *)t->priv)->in.fd : -1;
}

void udp_close(struct transport *t)
{
	struct udp_state *st = t->priv;

	if (!st)
		return;
	if (t->role == TRANSPORT_RECEIVER && st->in.kernel_drops)
		detail_add(t->detail, sizeof(t->detail), "the kernel dropped "
			   "%u datagrams for a full receive queue before the "
			   "last one received (each a lost event, in lost=, or "
			   "a lost state report)", st->in.kernel_drops);
	if (st->in.oversize)
		detail_add(t->detail, sizeof(t->detail),
			   "refused %llu oversized datagrams",
			   (unsigned long long)st->in.oversize);
	datagram_in_close(&st->in);
	free(st);
	t->priv = NULL;
}

static const struct transport_ops udp_ops = {
	.name = "udp",
	.summary = "UDP datagrams to one receiver; losses counted from seqno gaps",
	.flags = TRANSPORT_PUSH | TRANSPORT_NETWORK | TRANSPORT_WAKE_ANYWHERE,
	.options = udp_options,
	.open = udp_open,
	.send = udp_send,
	.receive = udp_receive,
	.send_many = udp_send_many,
	.receive_many = udp_receive_many,
	.poll_fd = udp_poll_fd,
	.wake = udp_wake,
	.unwake = udp_unwake,
	.close = udp_close,
};

TRANSPORT_REGISTER(udp_ops);
