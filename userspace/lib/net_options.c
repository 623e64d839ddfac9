// SPDX-License-Identifier: MIT
#include "net_options.h"

#include "log.h"
#include "../ipc/transport.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int bad(const struct transport *t, const char *key, const char *value,
	       const char *why)
{
	log_error("%s: option %s=%s: %s", t->ops->name, key,
		value ? value : "", why);
	return -EINVAL;
}

int net_options_port(const struct transport *t, uint16_t *ret)
{
	const char *port = transport_option(t, "port");

	if (net_port_parse(port, ret) < 0)
		return bad(t, "port", port, net_port_check(port));
	return 0;
}

int net_options_address(const struct transport *t, struct net_addr *ret)
{
	const char *host = transport_option(t, "host");
	const char *family_text = transport_option(t, "family");
	uint16_t port;
	int family, r;

	r = net_options_port(t, &port);
	if (r < 0)
		return r;
	if (net_family_parse(family_text, &family) < 0)
		return bad(t, "family", family_text, "use ipv4, ipv6 or any");
	r = net_addr_resolve(host, port, family, ret);
	if (r == -EADDRNOTAVAIL)
		return bad(t, "host", host, family == AF_UNSPEC ?
			   "no IPv4 or IPv6 address" :
			   "no address of the requested family");
	if (r < 0)
		return bad(t, "host", host, "not an address or a known name");
	return 0;
}

int net_options_ms(const struct transport *t, const char *key, int *ret)
{
	const char *value = transport_option(t, key);
	unsigned long v;
	char *end;

	if (!value || !*value)
		return bad(t, key, value, "missing");
	errno = 0;
	v = strtoul(value, &end, 10);
	if (errno || *end || v == 0 || v > 3600000 || value[0] == '-')
		return bad(t, key, value, "not a time in ms (1-3600000)");
	*ret = (int)v;
	return 0;
}

int net_options_uint(const struct transport *t, const char *key,
		     unsigned int max, unsigned int *ret)
{
	const char *value = transport_option(t, key);
	unsigned long v;
	char *end;

	if (!value || !*value)
		return bad(t, key, value, "missing");
	errno = 0;
	v = strtoul(value, &end, 10);
	if (errno || *end || v > max || value[0] == '-') {
		char why[48];

		snprintf(why, sizeof(why), "not a number from 0 to %u", max);
		return bad(t, key, value, why);
	}
	*ret = (unsigned int)v;
	return 0;
}
