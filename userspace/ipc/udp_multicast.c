// SPDX-License-Identifier: MIT
/*
 * udp-multicast: one UDP datagram per event to a multicast group, so every
 * LED process that joined the group, on any host of the link, follows one
 * button.
 *
 * Push, lossy, in order on one link (see udp.c for how losses are counted).
 * The group is an option: IPv4 239.255.73.66 by default (239.255.0.0/16 is
 * the administratively scoped "local" range, never routed off site), IPv6
 * ff02::4942 with family=ipv6 (link-local scope). The interface is chosen
 * by name (default lo; IPv6 multicast needs a real or veth link, Linux does
 * not loop it on lo) and found at run time. The SENDER sets the outgoing
 * interface (IP_MULTICAST_IF / IPV6_MULTICAST_IF), TTL or hop limit 1 by
 * default so nothing leaves the link, and loopback on so LED processes on
 * the button's own host follow too. Each RECEIVER binds the group address
 * (not the wildcard: no unicast or other groups), joins it on that
 * interface only, sets IP_MULTICAST_ALL off so other groups joined on the
 * host do not leak in, and shares the port (SO_REUSEADDR) with other LED
 * processes of the host. The kernel leaves the group when the socket closes.
 *
 * No object to clean up; no authentication (anyone on the link can send to
 * the group). Port 5559 by default.
 */
#include "udp.h"

#include "../lib/net_iface.h"
#include "../lib/net_options.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#ifndef IP_MULTICAST_ALL
#define IP_MULTICAST_ALL	49
#endif
#ifndef IPV6_MULTICAST_ALL
#define IPV6_MULTICAST_ALL	29
#endif

#define GROUP_IPV4	"239.255.73.66"		/* 73, 66: 'I', 'B' */
#define GROUP_IPV6	"ff02::4942"

static const struct transport_option udp_multicast_options[] = {
	{ "group", NULL, "multicast group address (default " GROUP_IPV4 ", or " GROUP_IPV6 " with family=ipv6)", NULL },
	{ "family", "any", "ipv4 or ipv6 when no group is given; any: IPv4", NULL },
	{ "interface", "lo", "network interface to send on and join the group on", NULL },
	{ "port", "5559", "UDP port", net_port_check },
	{ "ttl", "1", "sender: IPv4 TTL or IPv6 hop limit (1: this link only)", NULL },
	{ "rcvbuf", "262144", "receiver: socket receive buffer in bytes (0: the system's default)", NULL },
	{ NULL, NULL, NULL, NULL },
};

struct group {
	struct net_addr addr;
	unsigned int ifindex;
	char name[NET_ADDR_STRLEN];
	const char *ifname;
	char *why;		/* t->detail: what went wrong */
	size_t why_size;
};

static int set(int fd, int level, int opt, const void *val, socklen_t len,
	       const char *what, struct group *g)
{
	if (setsockopt(fd, level, opt, val, len) == 0)
		return 0;
	snprintf(g->why, g->why_size, "%s", what);
	return -errno;
}

static int group_resolve(struct transport *t, struct group *g)
{
	const char *group = transport_option(t, "group");
	const char *family_text = transport_option(t, "family");
	uint16_t port;
	int family, r;

	r = net_options_port(transport_option(t, "port"), &port, g->why,
			     g->why_size);
	if (r < 0)
		return r;
	if (net_family_parse(family_text, &family) < 0) {
		snprintf(g->why, g->why_size,
			 "option family=%s: use ipv4 or ipv6", family_text);
		return -EINVAL;
	}
	if (!group)
		group = family == AF_INET6 ? GROUP_IPV6 : GROUP_IPV4;
	if (net_addr_numeric(group, port, &g->addr) < 0 ||
	    !net_addr_is_multicast(&g->addr) ||
	    (family != AF_UNSPEC && family != net_addr_family(&g->addr))) {
		snprintf(g->why, g->why_size, "option group=%s: not a "
			 "multicast address%s", group, family != AF_UNSPEC ?
			 " of the requested family" : "");
		return -EINVAL;
	}
	g->ifname = transport_option(t, "interface");
	r = net_iface_index(g->ifname, &g->ifindex);
	if (r == -ENETDOWN && t->role == TRANSPORT_SENDER)
		return TRANSPORT_ABSENT;	/* retried: the link may come up */
	if (r < 0) {
		snprintf(g->why, g->why_size, "interface %s", g->ifname);
		return r;
	}
	/* Link-local groups (ff02::) mean nothing without their link. */
	if (net_addr_family(&g->addr) == AF_INET6)
		((struct sockaddr_in6 *)&g->addr.ss)->sin6_scope_id = g->ifindex;
	net_addr_format(&g->addr, g->name, sizeof(g->name));
	return 0;
}

static int join(int fd, struct group *g)
{
	int off = 0, on = 1, r;

	if (net_addr_family(&g->addr) == AF_INET) {
		struct ip_mreqn mreq = {
			.imr_multiaddr =
				((const struct sockaddr_in *)&g->addr.ss)->sin_addr,
			.imr_ifindex = (int)g->ifindex,
		};

		r = set(fd, IPPROTO_IP, IP_MULTICAST_ALL, &off, sizeof(off),
			"IP_MULTICAST_ALL", g);
		if (!r)
			r = set(fd, IPPROTO_IP, IP_ADD_MEMBERSHIP, &mreq,
				sizeof(mreq), "join the group", g);
	} else {
		struct ipv6_mreq mreq = {
			.ipv6mr_multiaddr =
				((const struct sockaddr_in6 *)&g->addr.ss)->sin6_addr,
			.ipv6mr_interface = g->ifindex,
		};

		r = set(fd, IPPROTO_IPV6, IPV6_V6ONLY, &on, sizeof(on),
			"IPV6_V6ONLY", g);
		if (!r)
			r = set(fd, IPPROTO_IPV6, IPV6_MULTICAST_ALL, &off,
				sizeof(off), "IPV6_MULTICAST_ALL", g);
		if (!r)
			r = set(fd, IPPROTO_IPV6, IPV6_JOIN_GROUP, &mreq,
				sizeof(mreq), "join the group", g);
	}
	return r;
}

static int sender_setup(struct transport *t, int fd, struct group *g)
{
	unsigned int ttl_opt;
	int ttl, on = 1, r;

	r = net_options_uint("ttl", transport_option(t, "ttl"), 255, &ttl_opt,
			     g->why, g->why_size);
	if (r < 0)
		return r;
	ttl = (int)ttl_opt;
	if (net_addr_family(&g->addr) == AF_INET) {
		struct ip_mreqn mreq = { .imr_ifindex = (int)g->ifindex };

		r = set(fd, IPPROTO_IP, IP_MULTICAST_IF, &mreq, sizeof(mreq),
			"IP_MULTICAST_IF", g);
		if (!r)
			r = set(fd, IPPROTO_IP, IP_MULTICAST_TTL, &ttl,
				sizeof(ttl), "IP_MULTICAST_TTL", g);
		if (!r)
			r = set(fd, IPPROTO_IP, IP_MULTICAST_LOOP, &on,
				sizeof(on), "IP_MULTICAST_LOOP", g);
	} else {
		int ifindex = (int)g->ifindex;

		r = set(fd, IPPROTO_IPV6, IPV6_MULTICAST_IF, &ifindex,
			sizeof(ifindex), "IPV6_MULTICAST_IF", g);
		if (!r)
			r = set(fd, IPPROTO_IPV6, IPV6_MULTICAST_HOPS, &ttl,
				sizeof(ttl), "IPV6_MULTICAST_HOPS", g);
		if (!r)
			r = set(fd, IPPROTO_IPV6, IPV6_MULTICAST_LOOP, &on,
				sizeof(on), "IPV6_MULTICAST_LOOP", g);
	}
	return r;
}

static int udp_multicast_open(struct transport *t)
{
	bool receiver = t->role == TRANSPORT_RECEIVER;
	struct group g = { .why = t->detail, .why_size = sizeof(t->detail) };
	int fd, r;

	r = group_resolve(t, &g);
	if (r < 0)
		return r;
	fd = udp_socket(net_addr_family(&g.addr), receiver, g.why,
			g.why_size);
	if (fd < 0)
		return fd;
	if (receiver) {
		r = udp_setup_receiver(t, fd, g.why, g.why_size);
		if (r == 0)
			r = join(fd, &g);
		if (r == 0 && bind(fd, (struct sockaddr *)&g.addr.ss,
				   g.addr.len) < 0) {
			r = -errno;
			snprintf(g.why, g.why_size, "bind %s (%s)",
				 g.name, g.ifname);
		}
	} else {
		r = sender_setup(t, fd, &g);
		if (r == 0 && connect(fd, (struct sockaddr *)&g.addr.ss,
				      g.addr.len) < 0) {
			r = -errno;
			snprintf(g.why, g.why_size, "connect %s (%s)",
				 g.name, g.ifname);
		}
	}
	return udp_open_finish(t, fd, r);
}

static const struct transport_ops udp_multicast_ops = {
	.name = "udp-multicast",
	.summary = "UDP multicast group, TTL 1: every LED that joined follows",
	.flags = TRANSPORT_PUSH | TRANSPORT_NETWORK | TRANSPORT_FAN_OUT |
		 TRANSPORT_WAKE_ANYWHERE,
	.options = udp_multicast_options,
	.open = udp_multicast_open,
	.send = udp_send,
	.receive = udp_receive,
	.send_many = udp_send_many,
	.receive_many = udp_receive_many,
	.poll_fd = udp_poll_fd,
	.wake = udp_wake,
	.unwake = udp_unwake,
	.close = udp_close,
};

TRANSPORT_REGISTER(udp_multicast_ops);
