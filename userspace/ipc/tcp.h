/* SPDX-License-Identifier: MIT */
/*
 * The TCP half that tls.c shares with tcp.c: tls is tcp with TLS records
 * inside, so it listens, accepts, connects and receives exactly as tcp
 * does.
 */
#ifndef IPC_TCP_H
#define IPC_TCP_H

#include "transport.h"

#include "../lib/net_addr.h"

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>

/* Options host, port, family and timeout. 0 or -EINVAL with @why set. */
int tcp_parse_options(const struct transport *t, struct net_addr *addr,
		int *timeout_ms, char *why, size_t size);

/*
 * A stream socket for @addr, non-blocking and close-on-exec, with
 * keepalive and the rest (lib/net_socket.h), either end:
 *  - @listening (the receiver): SO_REUSEADDR (a restarted LED must not
 *    wait for the TIME_WAIT of its last run), bound and listening. The
 *    listening fd, or a negative errno with @why set.
 *  - else (the sender): connected within @timeout_ms. The connected fd;
 *    TRANSPORT_ABSENT when nobody listens or the peer cannot be reached
 *    now (the caller retries later); -EINTR on a stop signal; another
 *    negative errno with @why set.
 */
int tcp_socket(const struct net_addr *addr, bool listening, int timeout_ms,
	       char *why, size_t size);

/* accept4(2), non-blocking and close-on-exec (struct net_server_ops). */
int tcp_accept(void *user, int listen_fd, struct sockaddr_storage *peer,
	       socklen_t *len);

/*
 * receive() and receive_many() of a receiver whose state (t->priv) begins
 * with its struct net_server * (tcp's and tls's): the frames it serves.
 */
ssize_t tcp_receive(struct transport *t, uint8_t *buf, size_t size,
		    int timeout_ms);
ssize_t tcp_receive_many(struct transport *t, struct transport_batch *batch,
			 int timeout_ms);

#endif /* IPC_TCP_H */
