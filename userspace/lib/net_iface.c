// SPDX-License-Identifier: MIT
#include "net_iface.h"

#include <errno.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <stdbool.h>
#include <string.h>

int net_iface_ipv4_lookup(const char *name, struct net_iface_ipv4 *ret)
{
	struct ifaddrs *list, *ifa;
	bool seen = false, up = false;
	int r = -EADDRNOTAVAIL;

	if (getifaddrs(&list) < 0)
		return -errno;
	for (ifa = list; ifa; ifa = ifa->ifa_next) {
		const struct sockaddr_in *addr, *mask, *brd;

		if (strcmp(ifa->ifa_name, name))
			continue;
		seen = true;
		up = ifa->ifa_flags & IFF_UP;
		if (!ifa->ifa_addr || ifa->ifa_addr->sa_family != AF_INET)
			continue;
		addr = (const void *)ifa->ifa_addr;
		mask = (const void *)ifa->ifa_netmask;
		brd = (const void *)ifa->ifa_broadaddr;
		if (ifa->ifa_flags & IFF_BROADCAST) {
			if (!brd)
				continue;
			ret->broadcast = brd->sin_addr;
		} else if ((ifa->ifa_flags & IFF_LOOPBACK) && mask) {
			/* lo has no IFF_BROADCAST, yet its /8 has a directed
			 * broadcast that the local routing table delivers. */
			ret->broadcast.s_addr = addr->sin_addr.s_addr |
						~mask->sin_addr.s_addr;
		} else {
			continue;	/* point to point: no broadcast */
		}
		ret->address = addr->sin_addr;
		r = 0;
		break;
	}
	freeifaddrs(list);
	if (!seen)
		return -ENODEV;
	if (!up)
		return -ENETDOWN;
	if (r == 0) {
		ret->ifindex = if_nametoindex(name);
		if (!ret->ifindex)
			return -ENODEV;
	}
	return r;
}

int net_iface_index(const char *name, unsigned int *ret)
{
	struct ifaddrs *list, *ifa;
	int r = -ENODEV;

	if (getifaddrs(&list) < 0)
		return -errno;
	for (ifa = list; ifa; ifa = ifa->ifa_next) {
		if (strcmp(ifa->ifa_name, name))
			continue;
		r = (ifa->ifa_flags & IFF_UP) ? 0 : -ENETDOWN;
		break;
	}
	freeifaddrs(list);
	if (r < 0)
		return r;
	*ret = if_nametoindex(name);
	return *ret ? 0 : -ENODEV;
}
