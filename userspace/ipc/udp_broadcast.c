// SPDX-License-Identifier: MIT
/*
 * udp-broadcast: one UDP datagram per event to the broadcast address of one
 * interface, so every LED process on that link follows one button.
 *
 * Push, lossy, in order on one link (see udp.c for how losses are counted).
 * The interface is chosen by name (option interface, default lo) and its
 * broadcast address is found at run time with getifaddrs(3), never written
 * down (lo has none of its own: its subnet's directed broadcast,
 * 127.255.255.255, is used). The SENDER sets SO_BROADCAST (to 1, explicitly)
 * and sends to that address; the kernel routes it out of that interface.
 * Each RECEIVER binds the broadcast address itself, not the wildcard, so it
 * gets broadcasts on that subnet and no unicast, with SO_REUSEADDR so that
 * several LED processes on one host can all follow. IPv4 only: IPv6 has no
 * broadcast; its all-nodes multicast is what udp-multicast family=ipv6 does.
 *
 * No object to clean up; no authentication (anyone on the link can send a
 * broadcast). Port 5558 by default.
 */
#include "udp.h"

#include "../lib/net_iface.h"
#include "../lib/net_options.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static const struct transport_option udp_broadcast_options[] = {
	{ "interface", "lo", "network interface whose IPv4 broadcast address is used", NULL },
	{ "port", "5558", "UDP port", net_port_check },
	{ "rcvbuf", "262144", "receiver: socket receive buffer in bytes (0: the system's default)", NULL },
	{ NULL, NULL, NULL, NULL },
};

static int udp_broadcast_open(struct transport *t)
{
	const char *ifname = transport_option(t, "interface");
	struct sockaddr_in to = { .sin_family = AF_INET };
	char name[INET_ADDRSTRLEN], *why = t->detail;
	size_t size = sizeof(t->detail);
	struct net_iface_ipv4 iface;
	uint16_t port;
	int fd, on = 1, r;

	r = net_options_port(transport_option(t, "port"), &port, why,
			     size);
	if (r < 0)
		return r;
	r = net_iface_ipv4_lookup(ifname, &iface);
	if (r == -ENETDOWN && t->role == TRANSPORT_SENDER)
		return TRANSPORT_ABSENT;	/* retried: the link may come up */
	if (r < 0) {
		snprintf(why, size, "interface %s", ifname);
		return r;
	}
	to.sin_addr = iface.broadcast;
	to.sin_port = htons(port);
	inet_ntop(AF_INET, &iface.broadcast, name, sizeof(name));

	fd = udp_socket(AF_INET, t->role == TRANSPORT_RECEIVER, why,
			    size);
	if (fd < 0)
		return fd;
	if (t->role == TRANSPORT_RECEIVER) {
		/* The broadcast address, not the wildcard: no unicast. */
		r = udp_setup_receiver(t, fd, why, size);
		if (r == 0 && bind(fd, (struct sockaddr *)&to, sizeof(to)) < 0) {
			r = -errno;
			snprintf(why, size, "bind %s:%u (%s)", name,
				 port, ifname);
		}
	} else if (setsockopt(fd, SOL_SOCKET, SO_BROADCAST, &on,
			      sizeof(on)) < 0) {
		r = -errno;
		snprintf(why, size, "SO_BROADCAST");
	} else if (connect(fd, (struct sockaddr *)&to, sizeof(to)) < 0) {
		r = -errno;
		snprintf(why, size, "connect %s:%u (%s)", name,
			 port, ifname);
	}
	return udp_open_finish(t, fd, r);
}

static const struct transport_ops udp_broadcast_ops = {
	.name = "udp-broadcast",
	.summary = "UDP broadcast on one interface: every LED on the link follows",
	.flags = TRANSPORT_PUSH | TRANSPORT_NETWORK | TRANSPORT_FAN_OUT |
		 TRANSPORT_WAKE_ANYWHERE,
	.options = udp_broadcast_options,
	.open = udp_broadcast_open,
	.send = udp_send,
	.receive = udp_receive,
	.send_many = udp_send_many,
	.receive_many = udp_receive_many,
	.poll_fd = udp_poll_fd,
	.wake = udp_wake,
	.unwake = udp_unwake,
	.close = udp_close,
};

TRANSPORT_REGISTER(udp_broadcast_ops);
