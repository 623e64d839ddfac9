/* SPDX-License-Identifier: MIT */
/*
 * Network interfaces by name, for broadcast and multicast: the interface is
 * found with getifaddrs(3) at run time, never assumed. Its broadcast address
 * is the one the kernel reports (or, on loopback, which has none, the
 * directed broadcast of its subnet, 127.255.255.255).
 */
#ifndef IPC_NET_IFACE_H
#define IPC_NET_IFACE_H

#include <netinet/in.h>

struct net_iface_ipv4 {
	unsigned int ifindex;
	struct in_addr address;		/* its first IPv4 address */
	struct in_addr broadcast;	/* where a broadcast on it goes */
};

/*
 * Look up @name. Returns 0, -ENODEV (no such interface), -ENETDOWN (not
 * up), -EADDRNOTAVAIL (no IPv4 address, or no broadcast on a point to
 * point link), or another negative errno.
 */
int net_iface_ipv4_lookup(const char *name, struct net_iface_ipv4 *ret);

/* The interface index of @name, which must be up: 0, -ENODEV, -ENETDOWN. */
int net_iface_index(const char *name, unsigned int *ret);

#endif /* IPC_NET_IFACE_H */
