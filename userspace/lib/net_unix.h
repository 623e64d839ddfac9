/* SPDX-License-Identifier: MIT */
/*
 * What a Unix domain socket file needs besides the mechanism's own calls:
 * its address from a path, whether a receiver accepts on a path that
 * exists (a refused connect means a stale file a killed receiver left),
 * how to bind one that only its owner can reach,
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

/*
 * bind(2) @fd to @addr with a umask of 0177, so that there is no moment
 * at which others could connect. 0 or a negative errno.
 */
int net_unix_bind_private(int fd, const struct sockaddr_un *addr);

/*
 * net_unix_bind_private(), replacing a file already at @addr that no
 * socket of @type accepts on (left by a killed receiver, or not a socket
 * at all), never a live one: 0, -EBUSY (someone accepts there) or
 * another negative errno.
 */
int net_unix_bind_fresh(int fd, const struct sockaddr_un *addr, int type);

/*
 * Accept the next connection on the non-blocking listening @fd,
 * non-blocking and close-on-exec, if its peer runs as *@allowed (NULL:
 * anyone); the peer's uid in *@ret_uid ((uid_t)-1 if unknown). The new fd,
 * -EAGAIN when none is waiting (or one gave up meanwhile), -EPERM when it
 * was refused (and closed), or another negative errno.
 */
int net_unix_accept(int fd, const uid_t *allowed, uid_t *ret_uid);

/* The uid of the process at the other end of @fd. 0 or a negative errno. */
int net_unix_peer_uid(int fd, uid_t *ret);

#endif /* IPC_NET_UNIX_H */
