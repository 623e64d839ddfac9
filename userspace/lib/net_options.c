// SPDX-License-Identifier: MIT
#include "net_options.h"

#include "number.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static int bad(const char *key, const char *value, const char *reason,
	       char *why, size_t size)
{
	snprintf(why, size, "option %s=%s: %s", key, value ? value : "",
		 reason);
	return -EINVAL;
}

int net_options_port(const char *port, uint16_t *ret, char *why, size_t size)
{
	if (net_port_parse(port, ret) < 0)
		return bad("port", port, net_port_check(port), why, size);
	return 0;
}

int net_options_address(const char *host, const char *port,
			const char *family, struct net_addr *ret, char *why,
			size_t size)
{
	uint16_t port_number;
	int af, r;

	r = net_options_port(port, &port_number, why, size);
	if (r < 0)
		return r;
	if (net_family_parse(family, &af) < 0)
		return bad("family", family, "use ipv4, ipv6 or any", why, size);
	r = net_addr_resolve(host, port_number, af, ret);
	if (r == -EADDRNOTAVAIL)
		return bad("host", host, af == AF_UNSPEC ?
			   "no IPv4 or IPv6 address" :
			   "no address of the requested family", why, size);
	if (r < 0)
		return bad("host", host, "not an address or a known name", why,
			   size);
	return 0;
}

int net_options_ms(const char *key, const char *value, int *ret, char *why,
		   size_t size)
{
	long long v;

	if (!value || number_parse(value, 1, 3600000, &v) < 0)
		return bad(key, value, "not a time in ms (1-3600000)", why,
			   size);
	*ret = (int)v;
	return 0;
}

int net_options_uint(const char *key, const char *value, unsigned int max,
		     unsigned int *ret, char *why, size_t size)
{
	char reason[48];
	long long v;

	if (!value || number_parse(value, 0, max, &v) < 0) {
		snprintf(reason, sizeof(reason), "not a number from 0 to %u",
			 max);
		return bad(key, value, reason, why, size);
	}
	*ret = (unsigned int)v;
	return 0;
}

int net_options_uid(const char *key, const char *value, uid_t *ret,
		    bool *ret_any, char *why, size_t size)
{
	long long v;

	*ret = geteuid();
	*ret_any = value && !strcmp(value, "any");
	if (!value || *ret_any)
		return 0;
	if (number_parse(value, 0, UINT_MAX, &v) < 0)
		return bad(key, value, "expected a uid or \"any\"", why, size);
	*ret = (uid_t)v;
	return 0;
}
