/* SPDX-License-Identifier: MIT */
/*
 * What both ends of a stream connection (tcp, tls) set on their sockets so
 * that a dead peer is noticed: TCP keepalive probes an idle connection (the
 * button may stay silent for hours, its host may vanish), and
 * TCP_USER_TIMEOUT ends one whose sent data stays unacknowledged.
 */
#ifndef IPC_NET_SOCKET_H
#define IPC_NET_SOCKET_H

#include <stdbool.h>

/* A dead peer is noticed after about idle + interval * count seconds. */
#define NET_KEEPALIVE_IDLE_S		10
#define NET_KEEPALIVE_INTERVAL_S	5
#define NET_KEEPALIVE_COUNT		3
#define NET_USER_TIMEOUT_MS		15000

/* setsockopt of an int option: 0 or a negative errno. */
int net_set_int(int fd, int level, int name, int value);

/*
 * Keepalive, user timeout and TCP_NODELAY on the stream socket @fd (a
 * listening socket passes them on to the ones it accepts). 0 or a
 * negative errno.
 */
int net_stream_tune(int fd);

/*
 * Whether connecting or sending failed with @err because nobody is there
 * now, or no way there now: worth trying again later.
 */
bool net_unreachable(int err);

#endif /* IPC_NET_SOCKET_H */
