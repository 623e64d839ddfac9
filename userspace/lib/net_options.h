/* SPDX-License-Identifier: MIT */
/*
 * The --opt values every network transport shares (host, port, family,
 * timeout, small counts), checked in one place so each one is spelled,
 * defaulted and refused the same way. The transport passes the values; on
 * -EINVAL @why (of @size bytes) says "option key=value: reason", for the
 * program to print.
 */
#ifndef IPC_NET_OPTIONS_H
#define IPC_NET_OPTIONS_H

#include "net_addr.h"

#include <stdbool.h>
#include <sys/types.h>

/* Options "host", "port" and "family" resolved into *ret. */
int net_options_address(const char *host, const char *port,
			const char *family, struct net_addr *ret, char *why,
			size_t size);

/* Option @key: a decimal port 1..65535. */
int net_options_port(const char *port, uint16_t *ret, char *why, size_t size);

/* Option @key: a positive number of milliseconds, up to one hour. */
int net_options_ms(const char *key, const char *value, int *ret, char *why,
		   size_t size);

/* Option @key: a non-negative integer up to @max (TTL, buffer sizes). */
int net_options_uint(const char *key, const char *value, unsigned int max,
		     unsigned int *ret, char *why, size_t size);

/*
 * Option @key: a uid, or "any" (*@ret_any); when not given (@value NULL),
 * our own effective uid.
 */
int net_options_uid(const char *key, const char *value, uid_t *ret,
		    bool *ret_any, char *why, size_t size);

#endif /* IPC_NET_OPTIONS_H */
