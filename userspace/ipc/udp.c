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
 * drops for a full receive queue are reported by the receiver at close.
 * Oversized datagrams are refused whole (MSG_TRUNC). See lib/net_datagram.h.
 *
 * No object to clean up: the socket dies with the process. No
 * authentication: any local process can send to the loopback port.
 */
#include "transport.h"

#include "../lib/log.h"
#include "../lib/net_datagram.h"
#include "../lib/net_options.h"

#include <errno.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

static const struct transport_option udp_options[] = {
	{ "host", NULL, "address or name to bind / send to (default 127.0.0.1, or ::1 with family=ipv6)", NULL },
	{ "port", "5557", "UDP port", net_port_check },
	{ "family", "any", "ipv4, ipv6 or any: which addresses of host to use", NULL },
	{ "rcvbuf", "262144", "receiver: socket receive buffer in bytes (0: the system's default)", NULL },
	{ NULL, NULL, NULL, NULL },
};

static int udp_open(struct transport *t)
{
	char name[NET_ADDR_STRLEN];
	struct net_addr addr;
	int fd, on = 1, r;

	r = net_options_address(t, &addr);
	if (r < 0)
		return r;
	net_addr_format(&addr, name, sizeof(name));
	r = net_dgram_socket(t, net_addr_family(&addr), 0, &fd);
	if (r < 0)
		return r;
	if (t->role == TRANSPORT_RECEIVER) {
		r = net_dgram_setup_receiver(t, fd);
		if (r < 0)
			goto fail;
		if (net_addr_family(&addr) == AF_INET6 &&
		    setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &on,
			       sizeof(on)) < 0) {
			r = -errno;
			log_errno(r, "udp: IPV6_V6ONLY");
			goto fail;
		}
		if (bind(fd, (struct sockaddr *)&addr.ss, addr.len) < 0) {
			r = -errno;
			log_errno(r, "udp: bind %s", name);
			goto fail;
		}
	} else if (connect(fd, (struct sockaddr *)&addr.ss, addr.len) < 0) {
		r = -errno;
		/* No route yet (a board whose network comes up later):
		 * the button retries, as when a receiver is not there. */
		if (r == -ENETUNREACH || r == -EHOSTUNREACH) {
			r = -ECONNREFUSED;
			goto fail;
		}
		log_errno(r, "udp: connect %s", name);
		goto fail;
	}
	r = net_dgram_attach(t, fd);
	if (r < 0)
		goto fail;
	return 0;
fail:
	close(fd);
	return r;
}

static const struct transport_ops udp_ops = {
	.name = "udp",
	.summary = "UDP datagrams to one receiver; losses counted from seqno gaps",
	.flags = TRANSPORT_PUSH | TRANSPORT_NETWORK,
	.options = udp_options,
	.open = udp_open,
	.send = net_dgram_send,
	.receive = net_dgram_receive,
	.poll_fd = net_dgram_poll_fd,
	.close = net_dgram_close,
};

TRANSPORT_REGISTER(udp_ops);
