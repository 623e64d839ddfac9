// SPDX-License-Identifier: MIT
#include "net_addr.h"

#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

int net_family_parse(const char *text, int *ret)
{
	if (!text || !strcasecmp(text, "any") || !*text)
		*ret = AF_UNSPEC;
	else if (!strcasecmp(text, "ipv4") || !strcmp(text, "4") ||
		 !strcasecmp(text, "inet"))
		*ret = AF_INET;
	else if (!strcasecmp(text, "ipv6") || !strcmp(text, "6") ||
		 !strcasecmp(text, "inet6"))
		*ret = AF_INET6;
	else
		return -EINVAL;
	return 0;
}

int net_port_parse(const char *text, uint16_t *ret)
{
	unsigned long v;
	char *end;

	if (!text || !*text)
		return -EINVAL;
	errno = 0;
	v = strtoul(text, &end, 10);
	if (errno || *end || v == 0 || v > 65535 || text[0] == '-' ||
	    text[0] == '+')
		return -EINVAL;
	*ret = (uint16_t)v;
	return 0;
}

const char *net_port_check(const char *text)
{
	uint16_t port;

	return net_port_parse(text, &port) < 0 ?
	       "not a port number (1-65535)" : NULL;
}

static int resolve(const char *host, uint16_t port, int family, int flags,
		   struct net_addr *ret)
{
	struct addrinfo hints, *res, *ai;
	char service[8];
	int r;

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = family;
	hints.ai_socktype = SOCK_DGRAM;	/* one result per address */
	hints.ai_flags = AI_NUMERICSERV | flags;
	snprintf(service, sizeof(service), "%u", (unsigned int)port);
	r = getaddrinfo(host, service, &hints, &res);
	if (r == EAI_NONAME || r == EAI_NODATA || r == EAI_ADDRFAMILY)
		return -EADDRNOTAVAIL;
	if (r == EAI_SYSTEM)
		return -errno;
	if (r)
		return -EINVAL;
	for (ai = res; ai; ai = ai->ai_next) {
		if (ai->ai_family != AF_INET && ai->ai_family != AF_INET6)
			continue;
		if (ai->ai_addrlen > sizeof(ret->ss))
			continue;
		memset(ret, 0, sizeof(*ret));
		memcpy(&ret->ss, ai->ai_addr, ai->ai_addrlen);
		ret->len = ai->ai_addrlen;
		freeaddrinfo(res);
		return 0;
	}
	freeaddrinfo(res);
	return -EADDRNOTAVAIL;
}

int net_addr_resolve(const char *host, uint16_t port, int family,
		     struct net_addr *ret)
{
	if (!host || !*host)
		host = family == AF_INET6 ? "::1" : "127.0.0.1";
	return resolve(host, port, family, 0, ret);
}

int net_addr_numeric(const char *host, uint16_t port, struct net_addr *ret)
{
	return resolve(host, port, AF_UNSPEC, AI_NUMERICHOST, ret);
}

int net_addr_family(const struct net_addr *a)
{
	return a->ss.ss_family;
}

uint16_t net_addr_port(const struct net_addr *a)
{
	if (a->ss.ss_family == AF_INET)
		return ntohs(((const struct sockaddr_in *)&a->ss)->sin_port);
	if (a->ss.ss_family == AF_INET6)
		return ntohs(((const struct sockaddr_in6 *)&a->ss)->sin6_port);
	return 0;
}

void net_addr_set_port(struct net_addr *a, uint16_t port)
{
	if (a->ss.ss_family == AF_INET)
		((struct sockaddr_in *)&a->ss)->sin_port = htons(port);
	else if (a->ss.ss_family == AF_INET6)
		((struct sockaddr_in6 *)&a->ss)->sin6_port = htons(port);
}

bool net_addr_is_multicast(const struct net_addr *a)
{
	const struct sockaddr_in *sin = (const void *)&a->ss;
	const struct sockaddr_in6 *sin6 = (const void *)&a->ss;

	if (a->ss.ss_family == AF_INET)
		return IN_MULTICAST(ntohl(sin->sin_addr.s_addr));
	if (a->ss.ss_family == AF_INET6)
		return IN6_IS_ADDR_MULTICAST(&sin6->sin6_addr);
	return false;
}

const char *net_addr_format(const struct net_addr *a, char *buf, size_t size)
{
	char host[INET6_ADDRSTRLEN], scope[IF_NAMESIZE + 1] = "";

	if (a->ss.ss_family == AF_INET) {
		const struct sockaddr_in *sin = (const void *)&a->ss;

		inet_ntop(AF_INET, &sin->sin_addr, host, sizeof(host));
		snprintf(buf, size, "%s:%u", host, ntohs(sin->sin_port));
	} else if (a->ss.ss_family == AF_INET6) {
		const struct sockaddr_in6 *sin6 = (const void *)&a->ss;

		inet_ntop(AF_INET6, &sin6->sin6_addr, host, sizeof(host));
		if (sin6->sin6_scope_id && if_indextoname(sin6->sin6_scope_id,
							  scope + 1))
			scope[0] = '%';
		snprintf(buf, size, "[%s%s]:%u", host, scope,
			 ntohs(sin6->sin6_port));
	} else {
		snprintf(buf, size, "(family %d)", a->ss.ss_family);
	}
	return buf;
}
