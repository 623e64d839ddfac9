/* SPDX-License-Identifier: MIT */
/*
 * What a Unix domain socket file needs besides the mechanism's own calls:
 * its address from a path, whether a receiver accepts on a path that
 * exists (a refused connect means a stale file a killed receiver left),
 * and who is at the other end of a connection (SO_PEERCRED).
 */
#ifndef IPC_NET_UNIX_H
#define IPC_NET_UNIX_H

#include <stdbool.h>
#include <sys/types.h>
#include <sys/un.h>

/* @path as an AF_UNIX address: 0, or -ENAMETOOLONG if it does not fit. */
int net_unix_address(const char *path, struct sockaddr_un *ret);

/* Whether a socket of @type accepts connections on @addr now. */
bool net_unix_live(const struct sockaddr_un *addr, int type);

/* The uid of the process at the other end of @fd. 0 or a negative errno. */
int net_unix_peer_uid(int fd, uid_t *ret);

#endif /* IPC_NET_UNIX_H */
