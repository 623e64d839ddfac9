/* SPDX-License-Identifier: MIT */
/*
 * Stream sockets for TCP and TLS: a listening socket for the receiver and a
 * connection with a bounded wait for the sender. Both are non-blocking and
 * close-on-exec, and both notice a dead peer: TCP keepalive probes an idle
 * connection (the button may stay silent for hours, its host may vanish),
 * and TCP_USER_TIMEOUT ends one whose sent data stays unacknowledged.
 * Errors are printed with @who and the address as context.
 */
#ifndef IPC_NET_SOCKET_H
#define IPC_NET_SOCKET_H

#include "net_addr.h"

/* A dead peer is noticed after about idle + interval * count seconds. */
#define NET_KEEPALIVE_IDLE_S		10
#define NET_KEEPALIVE_INTERVAL_S	5
#define NET_KEEPALIVE_COUNT		3
#define NET_USER_TIMEOUT_MS		15000

/* socket, SO_REUSEADDR, bind, listen: 0 or a negative errno. */
int net_listen(const char *who, const struct net_addr *addr, int *ret_fd);

/*
 * Connect within @timeout_ms. Returns 0, -ECONNREFUSED when nobody listens
 * or the peer cannot be reached now (the caller retries later), -EINTR on
 * a stop signal, or another negative errno (printed).
 */
int net_connect(const char *who, const struct net_addr *addr, int timeout_ms,
		int *ret_fd);

/* Whether the peer closed or reset a connected socket (without reading). */
int net_peer_gone(int fd);

#endif /* IPC_NET_SOCKET_H */
