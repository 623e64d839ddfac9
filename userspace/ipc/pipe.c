// SPDX-License-Identifier: MIT
/*
 * pipe: an anonymous pipe the launcher creates and hands out (--fd N).
 *
 * Push, lossless, ordered. Packet mode (O_DIRECT, lib/packet_io.h): every
 * write of a frame (40 bytes, below PIPE_BUF, so atomic) is one packet and
 * every read returns at most one, so frame boundaries survive even a
 * malformed frame of another size. A backlog goes as one packet of up to
 * 64 frames (send_many), which the receiver splits: one system call on
 * each side for the lot. The sender's end is non-blocking: a full pipe
 * (PACKET_PIPE_FRAMES frames) is TRANSPORT_FULL, and POLLOUT says when to
 * go on. The receiver's blocks: it sleeps in read(), one system call per
 * lone event as bare, and a stop swaps the descriptor (lib/wake_fd.h).
 * Object: none with a name; the kernel frees the pipe with its last end.
 * The sender's exit is end of file for the receiver (TRANSPORT_STALE: no
 * sender can ever come back); the receiver's exit is EPIPE for the sender,
 * and an inherited pipe cannot be reopened, so the relay ends there.
 */
#include "transport.h"

#include "../lib/packet_io.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

struct pipe_state {
	int fd;
	struct packet_reader rd;	/* receiver: the rest of a batch */
};

/* The launcher's part: the pair, before it starts the two programs. */
static int pipe_make_pair(int ret_fds[2])
{
	if (pipe2(ret_fds, O_CLOEXEC | O_DIRECT) < 0)
		return -errno;
	packet_pipe_grow(ret_fds[1]);
	return 0;
}

/* Both roles: check the inherited end is the right end of a pipe. */
static int pipe_open(struct transport *t)
{
	bool sender = t->role == TRANSPORT_SENDER;
	int fd = t->config->inherited_fd;
	struct pipe_state *st;
	struct stat sb;
	int flags;

	if (fd < 0) {
		snprintf(t->detail, sizeof(t->detail),
			 "no inherited descriptor; start with ipc-launch --via pipe");
		return -EBADF;
	}
	if (fstat(fd, &sb) < 0)
		return -errno;
	if (!S_ISFIFO(sb.st_mode)) {
		snprintf(t->detail, sizeof(t->detail),
			 "descriptor %d is not a pipe", fd);
		return -EINVAL;
	}
	flags = fcntl(fd, F_GETFL);
	if (flags < 0)
		return -errno;
	if ((flags & O_ACCMODE) != (sender ? O_WRONLY : O_RDONLY)) {
		snprintf(t->detail, sizeof(t->detail),
			 "descriptor %d is the wrong end for a %s", fd,
			 sender ? "sender" : "receiver");
		return -EINVAL;
	}
	/* Packet mode matters on the writing end; set it whoever made the pipe. */
	if (sender && fcntl(fd, F_SETFL, flags | O_NONBLOCK | O_DIRECT) < 0)
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

static int pipe_send(struct transport *t, const uint8_t *frame, size_t len)
{
	struct pipe_state *st = t->priv;

	/* -EAGAIN is TRANSPORT_FULL, -EPIPE TRANSPORT_STALE (transport.h). */
	return packet_write(st->fd, frame, len);
}

static int pipe_send_many(struct transport *t, const uint8_t *frames,
			  size_t len, size_t count)
{
	return packet_write_many(((struct pipe_state *)t->priv)->fd, frames,
				 len, count);
}

/* ---- receiver ---------------------------------------------------------- */

static ssize_t pipe_receive(struct transport *t, uint8_t *buf, size_t size,
			    int timeout_ms)
{
	struct pipe_state *st = t->priv;
	ssize_t n = packet_reader_read(&st->rd, st->fd, buf, size, timeout_ms,
				       &t->rejected);

	return n == 0 ? TRANSPORT_STALE : n;	/* 0: every writer is gone */
}

static ssize_t pipe_receive_many(struct transport *t,
				 struct transport_batch *batch, int timeout_ms)
{
	struct pipe_state *st = t->priv;
	ssize_t n = packet_reader_read_many(&st->rd, st->fd, batch->frame,
					    batch->len, TRANSPORT_BATCH_MAX,
					    timeout_ms, &t->rejected);

	if (n == 0)
		return TRANSPORT_STALE;
	if (n > 0)
		batch->count = (size_t)n;
	return n;
}

/* ---- both -------------------------------------------------------------- */

static void pipe_wake(struct transport *t)
{
	packet_reader_wake(&((struct pipe_state *)t->priv)->rd);
}

static void pipe_unwake(struct transport *t)
{
	packet_reader_unwake(&((struct pipe_state *)t->priv)->rd);
}

static int pipe_poll_fd(struct transport *t)
{
	return ((struct pipe_state *)t->priv)->fd;
}

static void pipe_close(struct transport *t)
{
	struct pipe_state *st = t->priv;

	/* Only called after a successful open: st is there. */
	packet_reader_close(&st->rd);
	close(st->fd);
	free(st);
	t->priv = NULL;
}

static const struct transport_ops pipe_ops = {
	.name = "pipe",
	.summary = "anonymous pipe from the launcher, packet mode (--fd)",
	.flags = TRANSPORT_PUSH | TRANSPORT_LOSSLESS | TRANSPORT_INHERITED |
		 TRANSPORT_WAKE_ANYWHERE,
	.open = pipe_open,
	.send = pipe_send,
	.receive = pipe_receive,
	.send_many = pipe_send_many,
	.receive_many = pipe_receive_many,
	.poll_fd = pipe_poll_fd,
	.wake = pipe_wake,
	.unwake = pipe_unwake,
	.close = pipe_close,
	.make_pair = pipe_make_pair,
};

TRANSPORT_REGISTER(pipe_ops);
