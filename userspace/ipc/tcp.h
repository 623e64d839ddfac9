/* SPDX-License-Identifier: MIT */
/*
 * The TCP half that tls.c shares with tcp.c: tls is tcp with TLS records
 * inside, so it listens, accepts and connects exactly as tcp does.
 */
#ifndef IPC_TCP_H
#define IPC_TCP_H

#include "transport.h"

#include "../lib/net_addr.h"

#include <stddef.h>
#include <sys/socket.h>

/* Options host, port, family and timeout. 0 or -EINVAL with @why set. */
int tcp_parse_options(const struct transport *t, struct net_addr *addr,
		int *timeout_ms, char *why, size_t size);

/*
 * Receiver: socket, SO_REUSEADDR (a restarted LED must not wait for the
 * TIME_WAIT of its last run), bind, listen; non-blocking, close-on-exec.
 * The listening fd, or a negative errno with @why set.
 */
int tcp_listen(const struct net_addr *addr, char *why, size_t size);

/* accept4(2), non-blocking and close-on-exec (struct net_server_ops). */
int tcp_accept(void *user, int listen_fd, struct sockaddr_storage *peer,
	       socklen_t *len);

/*
 * Sender: socket and connect within @timeout_ms. The connected fd;
 * TRANSPORT_ABSENT when nobody listens or the peer cannot be reached now (the
 * caller retries later); -EINTR on a stop signal; another negative errno
 * with @why set.
 */
int tcp_connect(const struct net_addr *addr, int timeout_ms, char *why,
		size_t size);

#endif /* IPC_TCP_H */
