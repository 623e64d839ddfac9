/* SPDX-License-Identifier: MIT */
/*
 * The receiving end of a SOCK_SEQPACKET server that serves one sender at a
 * time (unix): its listening socket, the connection it serves, and one
 * epoll set for the caller to poll, watching whichever of the two is
 * waited on.
 *
 * A stop signal must end the receiver's wait wherever the handler lands,
 * so each of the two descriptors has a lib/wake_fd.h: the handler swaps
 * both for an ended pipe. The listening socket stays non-blocking and is
 * waited on in ppoll() (once per sender, not per event); accept() on the
 * swapped one fails with ENOTSOCK. The connection blocks: with the stop
 * signals let in (stop_let_in, lib/stop.h), an untimed receive sleeps in
 * recv() itself, a lesson's one system call per lone event, and recv() on
 * the swapped one fails with ENOTSOCK too (where read() would see an end
 * of file that looks like the sender's). Timed and draining receives wait
 * in ppoll() first. The epoll set watches the copies wake_fd keeps aside,
 * which a stop never swaps.
 */
#ifndef IPC_SEQPACKET_SERVER_H
#define IPC_SEQPACKET_SERVER_H

#include "packet_io.h"
#include "wake_fd.h"

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct seqpacket_server {
	int listen_fd;		/* the caller's: bound, listening, non-blocking */
	int conn;		/* the sender served, blocking; -1: none */
	int epoll;		/* for the caller to poll */
	struct wake_fd listen_wake;
	struct packet_reader rd;	/* the rest of a batch; rd.wake: @conn */
};

/* Nothing held yet: seqpacket_server_close() is harmless from here. */
void seqpacket_server_clear(struct seqpacket_server *s);

/* Serve @listen_fd (still the caller's to close, after
 * seqpacket_server_close()). Returns 0 or -errno. */
int seqpacket_server_open(struct seqpacket_server *s, int listen_fd);

/* Serve @conn, just accepted (taken over, closed on failure): 0 or -errno. */
int seqpacket_server_take(struct seqpacket_server *s, int conn);

/* The sender is gone: close its connection, wait on the listener again. */
void seqpacket_server_drop(struct seqpacket_server *s);

/*
 * One record from the connection served, split as packet_reader_split()
 * does: the first frame's length, 0 for an empty record from a live
 * sender (for the caller to reject), -EPIPE when the sender is gone,
 * -EAGAIN when there was nothing after all (or a batch was refused whole,
 * counted in *@rejected), -ETIMEDOUT, -EINTR on a stop, or -errno.
 */
ssize_t seqpacket_server_recv(struct seqpacket_server *s, uint8_t *buf,
			      size_t size, int timeout_ms, uint64_t *rejected);

/* The transport's wake() (async-signal-safe) and unwake(). */
void seqpacket_server_wake(struct seqpacket_server *s);
void seqpacket_server_unwake(struct seqpacket_server *s);

/* Drop the sender, if any, and release all but the listening socket. */
void seqpacket_server_close(struct seqpacket_server *s);

#endif /* IPC_SEQPACKET_SERVER_H */
