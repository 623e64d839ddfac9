/* SPDX-License-Identifier: MIT */
/*
 * What udp-broadcast and udp-multicast share with udp: one datagram per
 * frame, the same receiver set-up, and the same send, send_many, receive,
 * receive_many, wake, unwake, poll_fd and close. They differ only in where
 * the datagrams go (their open()).
 */
#ifndef IPC_UDP_H
#define IPC_UDP_H

#include "transport.h"

#include <stdbool.h>

/*
 * A UDP socket of @family, non-blocking and close-on-exec, SO_REUSEADDR
 * when @shared (several receivers of one host bind the same broadcast or
 * group address). The fd, or a negative errno with @why (the step that
 * failed) set.
 */
int udp_socket(int family, bool shared, char *why, size_t size);

/*
 * Receiver: the receive buffer of option "rcvbuf" and SO_RXQ_OVFL, the
 * kernel's count of datagrams it dropped for a full queue. 0 or a
 * negative errno with @why set.
 */
int udp_setup_receiver(const struct transport *t, int fd, char *why,
		       size_t size);

/*
 * The end of every UDP open(): when @r is 0, give @fd to t->priv (a
 * receiver's made blocking and swappable by wake(), lib/datagram_io.h);
 * else close it and return @r (t->detail says why).
 */
int udp_open_finish(struct transport *t, int fd, int r);

int udp_send(struct transport *t, const uint8_t *frame, size_t len);
/* One sendmmsg() for a backlog (lib/datagram_io.h). */
int udp_send_many(struct transport *t, const uint8_t *frames, size_t len,
		  size_t count);
ssize_t udp_receive(struct transport *t, uint8_t *buf, size_t size,
		    int timeout_ms);
/* One recvmmsg() for what is queued; each datagram refused or kept on
 * its own, in order. */
ssize_t udp_receive_many(struct transport *t, struct transport_batch *batch,
			 int timeout_ms);
/* A stop swaps the receiver's socket for an ended pipe (async-signal-safe);
 * unwake puts it back for the drain. */
void udp_wake(struct transport *t);
void udp_unwake(struct transport *t);
int udp_poll_fd(struct transport *t);
void udp_close(struct transport *t);

#endif /* IPC_UDP_H */
