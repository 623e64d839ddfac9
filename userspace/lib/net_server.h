/* SPDX-License-Identifier: MIT */
/*
 * The receiving end of a stream transport (TCP, TLS): a listening socket and
 * a few connections, served without ever blocking on one of them.
 *
 * Policy, so that a broken or hostile peer can neither block the LED nor
 * take it over with garbage:
 *  - One sender at a time: the *active* connection. A new connection is a
 *    *candidate* until it proves itself: a verified handshake (TLS) or a
 *    valid frame (TCP); then it replaces the active one at once (a
 *    restarted button takes over even if its old connection is still half
 *    open). The active sender may stay silent for hours; TCP keepalive
 *    notices when its host is gone.
 *  - A candidate never blocks anything: each connection is served on its
 *    own, non-blocking. A handshake, or a frame once begun, must finish
 *    within the timeout (a client trickling bytes is dropped). A TCP
 *    candidate that has sent nothing at all may be a button with no press
 *    yet, so it waits, but only while its slot is not needed.
 *  - At most NET_SERVER_MAX_CONNS connections: a newer one takes the slot
 *    of the oldest candidate, so a flood costs a bounded number of fds and
 *    never the active sender. If the process runs out of fds anyway,
 *    accepting pauses with a back-off.
 *  - A bad frame closes its connection: on a stream, framing is lost after
 *    one. The frame is still returned so the caller counts it by reason.
 *  - A connection it serves (TCP: from its accept; TLS: from its verified
 *    handshake) is closed with a reset, not a FIN, so the sender's next
 *    send fails and keeps its frame, without a look for a FIN first.
 *  - Everything else refused (a candidate dropped for time or room, a
 *    failed handshake, a frame cut by the end of its stream) is counted in
 *    *rejected and told through ops->notice (at most 10 lines a second
 *    under a flood).
 *
 * The transport makes the listening socket (socket, bind, listen) and
 * accepts on it (ops->accept), so both stay in its own file; this module
 * only decides which connection to serve. It never prints: whatever the
 * user should hear goes to ops->notice.
 */
#ifndef IPC_NET_SERVER_H
#define IPC_NET_SERVER_H

#include "net_addr.h"
#include "net_frame.h"

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#define NET_SERVER_MAX_CONNS	8

struct net_server;

struct net_conn {
	int fd;
	char name[NET_ADDR_STRLEN];	/* the peer, for messages */
	bool established;		/* handshake done (always for TCP) */
	bool active;			/* the current sender */
	uint32_t events;		/* what epoll watches (net_server's) */
	uint32_t want;			/* EPOLLIN/EPOLLOUT, set by the ops
					 * when they return -EAGAIN */
	uint64_t deadline_ns;		/* a candidate's; 0: none (yet) */
	uint64_t serial;		/* order of acceptance */
	struct net_frame frame;		/* the frame being reassembled */
	char why[160];			/* set by a failed handshake */
	void *priv;			/* the mechanism's (TLS: its SSL) */
};

/* What differs between plain TCP and TLS. */
struct net_server_ops {
	/* accept4(2) on @listen_fd, non-blocking and close-on-exec. */
	int (*accept)(void *user, int listen_fd, struct sockaddr_storage *peer,
		      socklen_t *len);
	/* One line for the user (a refusal, a sender replaced). */
	void (*notice)(void *user, const char *line);
	/* Set up c->priv for a new connection; NULL for none. */
	int (*conn_init)(void *user, struct net_conn *c);
	/*
	 * Advance the handshake: 0 done, -EAGAIN to wait for c->want, other
	 * negative: refuse the peer, saying why in c->why. NULL for none.
	 */
	int (*handshake)(void *user, struct net_conn *c);
	/* Read: >0 bytes, 0 end of stream, -EAGAIN (c->want set), <0 error. */
	ssize_t (*read)(void *user, struct net_conn *c, void *buf, size_t len);
	/* Data already inside the library (decrypted, or read ahead from the
	 * socket), invisible to poll. */
	bool (*has_pending)(void *user, struct net_conn *c);
	/* Release c->priv (not c->fd). */
	void (*conn_free)(void *user, struct net_conn *c);
};

/*
 * Serve the listening socket @listen_fd, which the server owns from now on
 * (closed by net_server_close, or here on failure). @timeout_ms bounds a
 * candidate's handshake, or its first frame once begun. 0 or a negative
 * errno.
 */
int net_server_open(int listen_fd, int timeout_ms,
		    const struct net_server_ops *ops, void *user,
		    struct net_server **ret);

/*
 * The transport's receive(): one frame into @buf, or -ETIMEDOUT, -EINTR,
 * or a fatal negative errno. Refusals are added to *rejected.
 */
ssize_t net_server_receive(struct net_server *s, uint8_t *buf, size_t size,
			   int timeout_ms, uint64_t *rejected);

/*
 * As net_server_receive() for the first frame, then the frames already
 * read (from the same read ahead, no system call), up to @max: into
 * @frames, their lengths in @lens. How many, or as net_server_receive().
 */
ssize_t net_server_receive_many(struct net_server *s,
				uint8_t (*frames)[IPC_MESSAGE_MAX_WIRE],
				size_t *lens, size_t max, int timeout_ms,
				uint64_t *rejected);

/* An epoll fd: readable when a connection or the listener has news. */
int net_server_poll_fd(const struct net_server *s);

void net_server_close(struct net_server *s);

#endif /* IPC_NET_SERVER_H */
