// SPDX-License-Identifier: MIT
/*
 * net-peer: a test peer for the network transports, driven by the
 * tests/suites/3x-net-* suites through the transport interface, so it
 * works before and besides the real button and LED programs.
 *
 *   net-peer receive VIA [--opt K=V]... [--count N] [--idle MS]
 *       Open the receiver, print "ready", then receive frames until N
 *       valid ones arrived (or nothing came for MS ms, or a stop signal)
 *       and print one line of counts:
 *         received=N valid=N invalid=N rejected=N lost=N gaps=N
 *         reordered=N last-seqno=N state=N
 *       lost is the sum of the seqno gaps, which tests compare with the
 *       number of frames dropped on purpose.
 *   net-peer send VIA [--opt K=V]... --count N [--first S] [--skip-every K]
 *       Send N events with seqnos from S (default 1); with --skip-every K,
 *       every K-th seqno is skipped (never sent), a loss the receiver must
 *       count exactly. Handles -EAGAIN (waits for writability) and -EPIPE
 *       or a refused open (reconnects with a back-off) like the button.
 *   net-peer batch VIA [--opt K=V]... --to HOST
 *       A datagram mechanism's batches: open both ends, send frames 1..10
 *       with one transport_send_many(), then frame 11, 40 bytes of garbage
 *       and a 300-byte datagram (both from a plain socket aimed at HOST,
 *       the receiver's address) and frame 12, all before the first
 *       receive; then receive_many until the 12 frames came, and print
 *       "sent-many=N batches=N frames=N invalid=N rejected=N order=ok|bad
 *       middle=yes|no" (middle: one batch held a frame on each side of the
 *       garbage).
 *   net-peer ttl GROUP [--opt port=P] [--opt interface=NAME]
 *       Join multicast GROUP on the interface, print "ready", and print
 *       the TTL (IPv4) or hop limit (IPv6) of the first datagram to it:
 *       "ttl=N". Shows what the sender put on the wire.
 *   net-peer hostile KIND [--opt K=V]... [--count N] [--hold MS]
 *       Misbehave towards the receiver of VIA's address: udp-garbage,
 *       udp-oversize, tcp-garbage, tcp-partial, tcp-silent, tcp-flood
 *       (option interface=NAME: where a multicast target is sent, lo).
 *       Connections are held for MS ms (or until stdin closes).
 */
#include "../../userspace/ipc/transport.h"
#include "../../userspace/lib/log.h"
#include "../../userspace/lib/message.h"
#include "../../userspace/lib/net_addr.h"
#include "../../userspace/lib/stop.h"
#include "../../userspace/lib/deadline.h"
#include "../../userspace/lib/fd_wait.h"

#include <errno.h>
#include <net/if.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define MAX_OPTS 16

static const char *opts[MAX_OPTS + 1];
static size_t nopts;
static unsigned long count = 10;
static unsigned long first = 1;
static unsigned long skip_every;
static int idle_ms = -1;
static int hold_ms = 1000;
static const char *to_host;	/* batch: where the garbage goes */

static int usage(void)
{
	fprintf(stderr, "usage: net-peer receive|send VIA [--opt K=V]... "
		"[--count N] [--first S] [--skip-every K] [--idle MS]\n"
		"       net-peer hostile KIND [--opt K=V]... [--count N] "
		"[--hold MS]\n"
		"       net-peer batch VIA [--opt K=V]... --to HOST\n"
		"       net-peer ttl GROUP [--opt port=P] [--opt interface=I]\n");
	return 2;
}

static int parse_args(int argc, char **argv)
{
	for (int i = 3; i < argc; i++) {
		const char *arg = argv[i], *val = i + 1 < argc ? argv[i + 1] : NULL;

		if (!val)
			return -1;
		if (!strcmp(arg, "--opt")) {
			if (nopts == MAX_OPTS)
				return -1;
			opts[nopts++] = val;
		} else if (!strcmp(arg, "--count")) {
			count = strtoul(val, NULL, 10);
		} else if (!strcmp(arg, "--first")) {
			first = strtoul(val, NULL, 10);
		} else if (!strcmp(arg, "--skip-every")) {
			skip_every = strtoul(val, NULL, 10);
		} else if (!strcmp(arg, "--idle")) {
			idle_ms = atoi(val);
		} else if (!strcmp(arg, "--to")) {
			to_host = val;
		} else if (!strcmp(arg, "--hold")) {
			hold_ms = atoi(val);
		} else {
			return -1;
		}
		i++;
	}
	return 0;
}

static struct transport_config config = { .inherited_fd = -1 };

static int receive_main(const struct transport_ops *ops)
{
	unsigned long received = 0, valid = 0, invalid = 0, lost = 0, gaps = 0;
	unsigned long reordered = 0;
	uint32_t last = 0;
	int state = -1;
	struct transport *t;
	int r;

	r = transport_open(ops, TRANSPORT_RECEIVER, &config, &t, NULL);
	if (r < 0) {
		fprintf(stderr, "net-peer: open %s receiver: %s\n", ops->name,
			strerror(-r));
		return 1;
	}
	printf("ready\n");
	fflush(stdout);
	while (valid < count) {
		uint8_t buf[IPC_MESSAGE_MAX_WIRE];
		struct ipc_message msg;
		ssize_t n = transport_receive(t, buf, sizeof(buf), idle_ms);

		if (n == -ETIMEDOUT || n == -EINTR)
			break;
		if (n < 0) {
			fprintf(stderr, "net-peer: receive: %s\n",
				strerror((int)-n));
			transport_close(t, NULL);
			return 1;
		}
		received++;
		if (ipc_message_decode(buf, (size_t)n, &msg) != IPC_MESSAGE_OK) {
			invalid++;
			continue;
		}
		valid++;
		if (valid > 1 && msg.seqno <= last) {
			reordered++;
			continue;
		}
		if (valid > 1 && msg.seqno != last + 1) {
			gaps++;
			lost += msg.seqno - last - 1;
		}
		last = msg.seqno;
		state = msg.led_state;
	}
	printf("received=%lu valid=%lu invalid=%lu rejected=%llu lost=%lu "
	       "gaps=%lu reordered=%lu last-seqno=%u state=%d\n", received,
	       valid, invalid, (unsigned long long)t->rejected, lost, gaps,
	       reordered, last, state);
	fflush(stdout);
	transport_close(t, NULL);
	return 0;
}

/* The button's back-off, in small: wait without spinning, stop-aware. */
static int pause_ms(int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000 };

	if (ppoll(NULL, 0, &ts, stop_wait_mask()) < 0 && errno == EINTR)
		return -EINTR;
	return stop_requested() ? -EINTR : 0;
}

static int open_sender(const struct transport_ops *ops, struct transport **t,
		       unsigned long *reconnects)
{
	int backoff = 10, r;

	for (;;) {
		r = transport_open(ops, TRANSPORT_SENDER, &config, t, NULL);
		if (r != -ECONNREFUSED && r != -ENOENT && r != -ENXIO)
			return r;
		(*reconnects)++;
		if (pause_ms(backoff) < 0)
			return -EINTR;
		backoff = backoff >= 500 ? 1000 : backoff * 2;
	}
}

static int send_main(const struct transport_ops *ops)
{
	unsigned long sent = 0, eagain = 0, reconnects = 0, skipped = 0;
	unsigned long seq = first;
	struct transport *t;
	int led = 0, r;

	r = open_sender(ops, &t, &reconnects);
	if (r < 0) {
		fprintf(stderr, "net-peer: open %s sender: %s\n", ops->name,
			strerror(-r));
		return 1;
	}
	for (unsigned long i = 0; i < count; seq++) {
		struct ipc_message msg = { 0 };
		uint8_t frame[IPC_MESSAGE_SIZE];

		if (skip_every && (seq - first + 1) % skip_every == 0) {
			skipped++;
			continue;
		}
		msg.type = (seq & 1) ? IPC_EVENT_PRESS : IPC_EVENT_RELEASE;
		if (msg.type == IPC_EVENT_PRESS)
			led = !led;
		msg.led_state = led;
		msg.seqno = (uint32_t)seq;
		msg.event_ns = monotonic_ns();
		msg.send_ns = monotonic_ns();
		ipc_message_encode(&msg, frame);
		r = transport_send(t, frame, sizeof(frame));
		if (r == -EAGAIN) {
			int fd = transport_poll_fd(t);

			eagain++;
			r = fd >= 0 ? fd_wait(fd, transport_room_events(t), -1, NULL)
				    : pause_ms(1);
			if (r < 0)
				break;
			seq--;
			continue;
		}
		if (r == -EPIPE) {
			transport_close(t, NULL);
			r = open_sender(ops, &t, &reconnects);
			if (r < 0) {
				fprintf(stderr, "net-peer: reopen: %s\n",
					strerror(-r));
				return 1;
			}
			reconnects++;
			seq--;
			continue;
		}
		if (r < 0) {
			fprintf(stderr, "net-peer: send: %s\n", strerror(-r));
			transport_close(t, NULL);
			return 1;
		}
		sent++;
		i++;
	}
	printf("sent=%lu skipped=%lu eagain=%lu reconnects=%lu last-seqno=%lu\n",
	       sent, skipped, eagain, reconnects, seq - 1);
	fflush(stdout);
	transport_close(t, NULL);
	return stop_requested() ? 1 : 0;
}

/* Where the hostile peer aims: the receiver's host and port options. */
static int target(int type, struct net_addr *addr, int *ret_fd)
{
	const char *host = NULL, *port = "5555", *family = NULL;
	const char *ifname = "lo";
	uint16_t p;
	int fam, fd;

	host = to_host;
	for (size_t i = 0; i < nopts; i++) {
		if (!strncmp(opts[i], "host=", 5))
			host = opts[i] + 5;
		else if (!strncmp(opts[i], "port=", 5))
			port = opts[i] + 5;
		else if (!strncmp(opts[i], "family=", 7))
			family = opts[i] + 7;
		else if (!strncmp(opts[i], "interface=", 10))
			ifname = opts[i] + 10;
	}
	if (net_port_parse(port, &p) < 0 || net_family_parse(family, &fam) < 0 ||
	    net_addr_resolve(host, p, fam, addr) < 0)
		return -EINVAL;
	fd = socket(net_addr_family(addr), type | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (type == SOCK_DGRAM) {
		int on = 1, ifindex = (int)if_nametoindex(ifname);
		struct ip_mreqn mreq = { .imr_ifindex = ifindex };

		(void)setsockopt(fd, SOL_SOCKET, SO_BROADCAST, &on, sizeof(on));
		/* A group on an interface without a multicast route (lo). */
		if (net_addr_is_multicast(addr) && net_addr_family(addr) == AF_INET)
			(void)setsockopt(fd, IPPROTO_IP, IP_MULTICAST_IF, &mreq,
					 sizeof(mreq));
		if (net_addr_is_multicast(addr) && net_addr_family(addr) == AF_INET6) {
			((struct sockaddr_in6 *)&addr->ss)->sin6_scope_id = ifindex;
			(void)setsockopt(fd, IPPROTO_IPV6, IPV6_MULTICAST_IF,
					 &ifindex, sizeof(ifindex));
		}
	}
	if (connect(fd, (struct sockaddr *)&addr->ss, addr->len) < 0) {
		int err = -errno;

		close(fd);
		return err;
	}
	*ret_fd = fd;
	return 0;
}

/* Hold connections until @hold_ms passed or stdin closed. */
static void hold(void)
{
	struct pollfd pfd = { .fd = 0, .events = POLLIN };
	struct timespec ts = { hold_ms / 1000, (long)(hold_ms % 1000) * 1000000 };
	char c;

	while (ppoll(&pfd, 1, &ts, stop_wait_mask()) > 0 &&
	       read(0, &c, 1) > 0)
		;
}

static const char *opt_value(const char *key, const char *def)
{
	size_t len = strlen(key);

	for (size_t i = 0; i < nopts; i++)
		if (!strncmp(opts[i], key, len) && opts[i][len] == '=')
			return opts[i] + len + 1;
	return def;
}

static int ttl_main(const char *group)
{
	const char *ifname = opt_value("interface", "lo");
	unsigned int ifindex = if_nametoindex(ifname);
	union {
		struct cmsghdr align;
		char buf[CMSG_SPACE(sizeof(int))];
	} control;
	struct net_addr addr;
	uint8_t buf[IPC_MESSAGE_MAX_WIRE];
	struct iovec iov = { .iov_base = buf, .iov_len = sizeof(buf) };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1,
			     .msg_control = control.buf,
			     .msg_controllen = sizeof(control.buf) };
	uint16_t port;
	int fd, on = 1, v6, r;

	if (net_port_parse(opt_value("port", "5559"), &port) < 0 ||
	    net_addr_numeric(group, port, &addr) < 0 || !ifindex)
		return 2;
	v6 = net_addr_family(&addr) == AF_INET6;
	fd = socket(net_addr_family(&addr), SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return 1;
	(void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on));
	if (v6) {
		struct ipv6_mreq mreq = {
			.ipv6mr_multiaddr = ((struct sockaddr_in6 *)&addr.ss)->sin6_addr,
			.ipv6mr_interface = ifindex,
		};

		((struct sockaddr_in6 *)&addr.ss)->sin6_scope_id = ifindex;
		r = setsockopt(fd, IPPROTO_IPV6, IPV6_RECVHOPLIMIT, &on, sizeof(on));
		r |= setsockopt(fd, IPPROTO_IPV6, IPV6_JOIN_GROUP, &mreq, sizeof(mreq));
	} else {
		struct ip_mreqn mreq = {
			.imr_multiaddr = ((struct sockaddr_in *)&addr.ss)->sin_addr,
			.imr_ifindex = (int)ifindex,
		};

		r = setsockopt(fd, IPPROTO_IP, IP_RECVTTL, &on, sizeof(on));
		r |= setsockopt(fd, IPPROTO_IP, IP_ADD_MEMBERSHIP, &mreq, sizeof(mreq));
	}
	if (r || bind(fd, (struct sockaddr *)&addr.ss, addr.len) < 0) {
		fprintf(stderr, "net-peer: ttl: join %s: %s\n", group,
			strerror(errno));
		close(fd);
		return 1;
	}
	printf("ready\n");
	fflush(stdout);
	if (recvmsg(fd, &mh, 0) < 0) {
		close(fd);
		return 1;
	}
	for (struct cmsghdr *c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c)) {
		int ttl;

		if ((c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_TTL) ||
		    (c->cmsg_level == IPPROTO_IPV6 &&
		     c->cmsg_type == IPV6_HOPLIMIT)) {
			memcpy(&ttl, CMSG_DATA(c), sizeof(ttl));
			printf("ttl=%d\n", ttl);
		}
	}
	fflush(stdout);
	close(fd);
	return 0;
}

static int hostile_main(const char *kind)
{
	struct net_addr addr;
	int fds[64], nfd = 0, r = 0;
	uint8_t junk[2048];

	srand(42);
	for (size_t i = 0; i < sizeof(junk); i++)
		junk[i] = (uint8_t)rand();
	if (!strcmp(kind, "udp-garbage") || !strcmp(kind, "udp-oversize")) {
		bool big = !strcmp(kind, "udp-oversize");

		r = target(SOCK_DGRAM, &addr, &fds[0]);
		if (r < 0)
			goto fail;
		nfd = 1;
		for (unsigned long i = 0; i < count; i++) {
			/* garbage: every length from 0, frames of 40 junk
			 * bytes among them; oversize: up to 2 KiB. */
			size_t len = big ? 257 + (i * 97) % (sizeof(junk) - 257)
					 : i % 80;

			if (send(fds[0], junk + i % 64, len, 0) < 0 &&
			    errno != ECONNREFUSED)
				goto fail_errno;
		}
	} else if (!strcmp(kind, "tcp-garbage") || !strcmp(kind, "tcp-partial") ||
		   !strcmp(kind, "tcp-silent") || !strcmp(kind, "tcp-flood")) {
		unsigned long n = !strcmp(kind, "tcp-flood") ? count : 1;

		if (n > sizeof(fds) / sizeof(fds[0]))
			n = sizeof(fds) / sizeof(fds[0]);
		for (unsigned long i = 0; i < n; i++) {
			r = target(SOCK_STREAM, &addr, &fds[nfd]);
			if (r < 0)
				goto fail;
			nfd++;
		}
		if (!strcmp(kind, "tcp-garbage") &&
		    send(fds[0], junk, IPC_MESSAGE_SIZE, MSG_NOSIGNAL) < 0)
			goto fail_errno;
		if (!strcmp(kind, "tcp-partial") &&
		    send(fds[0], junk, IPC_MESSAGE_SIZE / 2, MSG_NOSIGNAL) < 0)
			goto fail_errno;
	} else {
		fprintf(stderr, "net-peer: unknown hostile kind %s\n", kind);
		return 2;
	}
	printf("hostile %s: %d sockets\n", kind, nfd);
	fflush(stdout);
	hold();
	for (int i = 0; i < nfd; i++)
		close(fds[i]);
	return 0;
fail_errno:
	r = -errno;
fail:
	fprintf(stderr, "net-peer: %s: %s\n", kind, strerror(-r));
	for (int i = 0; i < nfd; i++)
		close(fds[i]);
	return 1;
}

static void frame_of(uint32_t seq, uint8_t frame[IPC_MESSAGE_SIZE])
{
	struct ipc_message msg = {
		.type = (seq & 1) ? IPC_EVENT_PRESS : IPC_EVENT_RELEASE,
		.led_state = (seq + 1) / 2 % 2,
		.seqno = seq,
		.event_ns = monotonic_ns(),
	};

	msg.send_ns = msg.event_ns;
	ipc_message_encode(&msg, frame);
}

static int batch_main(const struct transport_ops *ops)
{
	static struct transport_batch batch;
	uint8_t frames[10][IPC_MESSAGE_SIZE], frame[IPC_MESSAGE_SIZE];
	uint8_t junk[300];
	unsigned long batches = 0, got = 0, invalid = 0, valid = 0;
	bool order = true, middle = false;
	struct transport *rx = NULL, *tx = NULL;
	struct net_addr addr;
	int fd = -1, many = 0, r;

	memset(junk, 0x5a, sizeof(junk));
	r = transport_open(ops, TRANSPORT_RECEIVER, &config, &rx, NULL);
	if (r == 0)
		r = transport_open(ops, TRANSPORT_SENDER, &config, &tx, NULL);
	if (r == 0)
		r = target(SOCK_DGRAM, &addr, &fd);
	if (r < 0) {
		fprintf(stderr, "net-peer: batch %s: %s\n", ops->name, strerror(-r));
		transport_close(tx, NULL);
		transport_close(rx, NULL);
		return 1;
	}
	for (uint32_t i = 0; i < 10; i++)
		frame_of(i + 1, frames[i]);
	many = transport_send_many(tx, &frames[0][0], IPC_MESSAGE_SIZE, 10);
	frame_of(11, frame);
	transport_send(tx, frame, sizeof(frame));
	(void)!send(fd, junk, IPC_MESSAGE_SIZE, 0);
	(void)!send(fd, junk, sizeof(junk), 0);
	frame_of(12, frame);
	transport_send(tx, frame, sizeof(frame));
	while (valid < 12 && transport_receive_many(rx, &batch, 2000) > 0) {
		bool before = false, bad = false;

		batches++;
		for (size_t i = 0; i < batch.count; i++) {
			struct ipc_message msg;

			got++;
			if (ipc_message_decode(batch.frame[i], batch.len[i],
					       &msg) != IPC_MESSAGE_OK) {
				invalid++;
				bad = before;
				continue;
			}
			order = order && msg.seqno == ++valid;
			before = true;
			middle = middle || bad;
		}
	}
	printf("sent-many=%d batches=%lu frames=%lu invalid=%lu rejected=%llu order=%s middle=%s\n",
	       many, batches, got, invalid, (unsigned long long)rx->rejected,
	       order && valid == 12 ? "ok" : "bad", middle ? "yes" : "no");
	fflush(stdout);
	close(fd);
	transport_close(tx, NULL);
	transport_close(rx, NULL);
	return 0;
}

int main(int argc, char **argv)
{
	const struct transport_ops *ops = NULL;
	const char *dir = getenv("XDG_RUNTIME_DIR");

	if (argc < 3 || parse_args(argc, argv) < 0)
		return usage();
	log_init(argv[0]);
	if (stop_init() < 0)
		return 1;
	config.runtime_dir = dir ? dir : "/run";
	config.options = opts;
	if (!strcmp(argv[1], "hostile"))
		return hostile_main(argv[2]);
	if (!strcmp(argv[1], "ttl"))
		return ttl_main(argv[2]);
	ops = transport_find(argv[2]);
	if (!ops) {
		fprintf(stderr, "net-peer: unknown mechanism %s\n", argv[2]);
		return 2;
	}
	if (!strcmp(argv[1], "receive"))
		return receive_main(ops);
	if (!strcmp(argv[1], "send"))
		return send_main(ops);
	if (!strcmp(argv[1], "batch"))
		return batch_main(ops);
	return usage();
}
