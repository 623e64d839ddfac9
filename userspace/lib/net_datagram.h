/* SPDX-License-Identifier: MIT */
/*
 * What the three UDP transports (udp, udp-broadcast, udp-multicast) share
 * once their socket is set up: one datagram per frame, and the send,
 * receive, poll_fd and close operations of struct transport_ops.
 *
 * Receiving: oversized datagrams are seen with MSG_TRUNC and refused (counted
 * in t->rejected) rather than cut to look like a frame; anything up to the
 * caller's buffer size goes to the caller, which validates it. The kernel's
 * count of datagrams it dropped for a full receive queue (SO_RXQ_OVFL) is
 * kept and reported at close: each of those is a seqno gap the LED counts.
 */
#ifndef IPC_NET_DATAGRAM_H
#define IPC_NET_DATAGRAM_H

#include <stdint.h>
#include <sys/types.h>

struct transport;

/* Default receive buffer: room for a burst of a few thousand frames. */
#define NET_DGRAM_RCVBUF	(256 * 1024)

/*
 * A UDP socket of @family, close-on-exec and non-blocking, with
 * SO_REUSEADDR when @shared (several receivers on one host may bind the
 * same broadcast or group address). Errors printed with t's name.
 */
int net_dgram_socket(const struct transport *t, int family, int shared,
		     int *ret_fd);

/* The receiver's buffer size and drop counting: option "rcvbuf". */
int net_dgram_setup_receiver(const struct transport *t, int fd);

/* Install @fd (which the transport now owns) as t->priv. */
int net_dgram_attach(struct transport *t, int fd);

int net_dgram_send(struct transport *t, const uint8_t *frame, size_t len);
ssize_t net_dgram_receive(struct transport *t, uint8_t *buf, size_t size,
			  int timeout_ms);
int net_dgram_poll_fd(struct transport *t);
void net_dgram_close(struct transport *t);

#endif /* IPC_NET_DATAGRAM_H */
