/* SPDX-License-Identifier: MIT */
/*
 * Socket addresses for the network transports: parsing the host, port and
 * family options into a sockaddr, and printing one for error messages.
 */
#ifndef IPC_NET_ADDR_H
#define IPC_NET_ADDR_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

struct net_addr {
	struct sockaddr_storage ss;
	socklen_t len;
};

/* "[::1]:5555" or "127.0.0.1:5555": the longest one with a scope name. */
#define NET_ADDR_STRLEN	(INET6_ADDRSTRLEN + 32)

/*
 * "ipv4", "ipv6" (also "4", "6", "inet", "inet6"), or NULL/"any" for either.
 * Returns AF_INET, AF_INET6 or AF_UNSPEC in *ret; -EINVAL for anything else.
 */
int net_family_parse(const char *text, int *ret);

/* A decimal port 1..65535; -EINVAL otherwise. */
int net_port_parse(const char *text, uint16_t *ret);

/* For option tables: NULL when @text is a port number, else why not. */
const char *net_port_check(const char *text);

/*
 * Resolve @host (a numeric address, or a name through the resolver; NULL
 * means the loopback address of @family, 127.0.0.1 when AF_UNSPEC) and
 * @port into *ret. The first result of the requested family wins.
 * Returns 0, -EINVAL for a bad option or -EADDRNOTAVAIL when the name has
 * no address of that family.
 */
int net_addr_resolve(const char *host, uint16_t port, int family,
		     struct net_addr *ret);

/* Same, for a numeric address only (group addresses, broadcast). */
int net_addr_numeric(const char *host, uint16_t port, struct net_addr *ret);

int net_addr_family(const struct net_addr *a);
uint16_t net_addr_port(const struct net_addr *a);
void net_addr_set_port(struct net_addr *a, uint16_t port);
bool net_addr_is_multicast(const struct net_addr *a);

/* Printable form for messages; always NUL-terminated, returns @buf. */
const char *net_addr_format(const struct net_addr *a, char *buf, size_t size);

#endif /* IPC_NET_ADDR_H */
