/* SPDX-License-Identifier: MIT */
/*
 * The --opt values every network transport shares (host, port, family,
 * timeout), read and checked in one place so each one is spelled, defaulted
 * and reported the same way. Errors are printed as "<mechanism>: option
 * key=value: why" and returned as -EINVAL.
 */
#ifndef IPC_NET_OPTIONS_H
#define IPC_NET_OPTIONS_H

#include "net_addr.h"

struct transport;

/* Options "host", "port" and "family" resolved into *ret. */
int net_options_address(const struct transport *t, struct net_addr *ret);

/* Option "port" alone. */
int net_options_port(const struct transport *t, uint16_t *ret);

/* A positive number of milliseconds, up to one hour. */
int net_options_ms(const struct transport *t, const char *key, int *ret);

/* A small non-negative integer (TTL, hops): 0..@max. */
int net_options_uint(const struct transport *t, const char *key,
		     unsigned int max, unsigned int *ret);

#endif /* IPC_NET_OPTIONS_H */
