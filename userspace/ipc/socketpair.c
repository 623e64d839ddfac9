// SPDX-License-Identifier: MIT
/*
 * socketpair: a connected AF_UNIX SOCK_SEQPACKET pair the launcher creates
 * and hands out (--fd N).
 *
 * Push, lossless, ordered, and message-preserving: one send is one record,
 * so a frame of any size arrives as one (a longer one is cut to the
 * receive buffer and rejected as too long). A backlog goes as one record
 * of up to 64 frames (send_many), which the receiver splits
 * (lib/packet_io.h): one system call on each side for the lot. The
 * sender's end is non-blocking: a full receive queue is TRANSPORT_FULL,
 * and POLLOUT says when to go on. The receiver's blocks: it sleeps in
 * read(), one system call per lone event as bare (lib/wake_fd.h).
 * Object: none with a name; the kernel frees it with the last descriptor.
 * The sender's exit is end of file for the receiver (TRANSPORT_STALE: no
 * sender can come back); the receiver's exit is EPIPE for the sender, and
 * an inherited descriptor cannot be reopened, so the relay ends there.
 * One direction only, by shutdown(): each end can only do its job.
 */
#include "transport.h"

#include "../lib/packet_io.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

struct socketpair_state {
	int fd;
	struct packet_reader rd;	/* receiver: the rest of a batch */
};

/* The launcher's part: the pair, before it starts the two programs. */
static int socketpair_make_pair(int ret_fds[2])
{
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, ret_fds) < 0)
		return -errno;
	return 0;
}

/* Both roles: check the inherited end, then close the other direction. */
static int socketpair_open(struct transport *t)
{
	bool sender = t->role == TRANSPORT_SENDER;
	int fd = t->config->inherited_fd;
	struct socketpair_state *st;
	socklen_t len;
	int type, flags;

	if (fd < 0) {
		snprintf(t->detail, sizeof(t->detail),
			 "no inherited descriptor; start with ipc-launch --via socketpair");
		return -EBADF;
	}
	len = sizeof(type);
	if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) < 0 ||
	    type != SOCK_SEQPACKET) {
		snprintf(t->detail, sizeof(t->detail),
			 "descriptor %d is not a SOCK_SEQPACKET socket", fd);
		return -EINVAL;
	}
	flags = fcntl(fd, F_GETFL);
	if (sender && (flags < 0 || fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0))
		return -errno;
	/* The receiver never writes, the sender never reads. */
	if (shutdown(fd, sender ? SHUT_RD : SHUT_WR) < 0)
		return -errno;
	st = calloc(1, sizeof(*st));
	if (!st)
		return -ENOMEM;
	st->fd = fd;
	t->priv = st;
	/* The receiver's end blocks: it sleeps in read() (packet_io.h). */
	return sender ? 0 : packet_reader_block(&st->rd, fd);
}

/* ---- sender ------------------------------------------------------------ */

/* One record of @count frames: all of them, or none when full. */
static int socketpair_send_many(struct transport *t, const uint8_t *frames,
				size_t len, size_t count)
{
	struct socketpair_state *st = t->priv;
	int r = packet_send_many(st->fd, frames, len, count);

	if (r == -ECONNRESET)
		return TRANSPORT_STALE;
	return r;	/* -EAGAIN: TRANSPORT_FULL, -EPIPE: TRANSPORT_STALE */
}

static int socketpair_send(struct transport *t, const uint8_t *frame,
			   size_t len)
{
	int r = socketpair_send_many(t, frame, len, 1);

	return r < 0 ? r : 0;
}

/* ---- receiver ---------------------------------------------------------- */

/* A zero-length read is end of file only if the peer is really gone. */
static bool peer_gone(int fd)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN | POLLRDHUP };

	return poll(&pfd, 1, 0) == 1 && pfd.revents & (POLLHUP | POLLRDHUP);
}

static ssize_t socketpair_receive(struct transport *t, uint8_t *buf,
				  size_t size, int timeout_ms)
{
	struct socketpair_state *st = t->priv;
	ssize_t n = packet_reader_read(&st->rd, st->fd, buf, size, timeout_ms,
				       &t->rejected);

	if (n == 0)
		return peer_gone(st->fd) ? TRANSPORT_STALE : 0;
	return n;
}

static ssize_t socketpair_receive_many(struct transport *t,
				       struct transport_batch *batch,
				       int timeout_ms)
{
	struct socketpair_state *st = t->priv;
	ssize_t n = packet_reader_read_many(&st->rd, st->fd, batch->frame,
					    batch->len, TRANSPORT_BATCH_MAX,
					    timeout_ms, &t->rejected);

	if (n == 0) {	/* an empty record (the caller rejects it), or the end */
		if (peer_gone(st->fd))
			return TRANSPORT_STALE;
		batch->len[n++] = 0;
	}
	batch->count = n > 0 ? (size_t)n : 0;
	return n;
}

/* ---- both -------------------------------------------------------------- */

static void socketpair_wake(struct transport *t)
{
	packet_reader_wake(&((struct socketpair_state *)t->priv)->rd);
}

static void socketpair_unwake(struct transport *t)
{
	packet_reader_unwake(&((struct socketpair_state *)t->priv)->rd);
}

static int socketpair_poll_fd(struct transport *t)
{
	return ((struct socketpair_state *)t->priv)->fd;
}

static void socketpair_close(struct transport *t)
{
	struct socketpair_state *st = t->priv;

	/* Only called after a successful open: st is there. */
	packet_reader_close(&st->rd);
	close(st->fd);
	free(st);
	t->priv = NULL;
}

static const struct transport_ops socketpair_ops = {
	.name = "socketpair",
	.summary = "AF_UNIX SOCK_SEQPACKET pair from the launcher (--fd)",
	.flags = TRANSPORT_PUSH | TRANSPORT_LOSSLESS | TRANSPORT_INHERITED |
		 TRANSPORT_WAKE_ANYWHERE,
	.open = socketpair_open,
	.send = socketpair_send,
	.receive = socketpair_receive,
	.send_many = socketpair_send_many,
	.receive_many = socketpair_receive_many,
	.poll_fd = socketpair_poll_fd,
	.wake = socketpair_wake,
	.unwake = socketpair_unwake,
	.close = socketpair_close,
	.make_pair = socketpair_make_pair,
};

TRANSPORT_REGISTER(socketpair_ops);
