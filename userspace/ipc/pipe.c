// SPDX-License-Identifier: MIT
/*
 * pipe: an anonymous pipe the launcher creates and hands out (--fd N).
 *
 * Push, lossless, ordered. Packet mode (O_DIRECT, Linux 3.4): every write
 * of a frame (40 bytes, below PIPE_BUF, so atomic) is one packet and every
 * read returns at most one packet, so frame boundaries survive even a
 * malformed frame of another size. Both ends are non-blocking: the sender
 * gets -EAGAIN when the pipe is full (PACKET_PIPE_FRAMES frames, as
 * make_pair sizes it; 16 in a default pipe) and waits for POLLOUT.
 * Object: none with a name; the kernel frees the pipe when both ends are
 * closed. The sender's exit is end of file for the receiver (-EPIPE: no
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

struct pipe_end {
	int fd;
	bool idle;	/* the last receive waited (packet_read) */
};

static int pipe_make_pair(int ret_fds[2])
{
	if (pipe2(ret_fds, O_CLOEXEC | O_DIRECT) < 0)
		return -errno;
	packet_pipe_grow(ret_fds[1]);
	return 0;
}

static int pipe_open(struct transport *t)
{
	int fd = t->config->inherited_fd;
	struct pipe_end *end;
	struct stat st;
	int flags;

	if (fd < 0) {
		fprintf(stderr, "pipe: no inherited descriptor; start with ipc-launch --via pipe\n");
		return -EBADF;
	}
	if (fstat(fd, &st) < 0)
		return -errno;
	if (!S_ISFIFO(st.st_mode)) {
		fprintf(stderr, "pipe: descriptor %d is not a pipe\n", fd);
		return -EINVAL;
	}
	flags = fcntl(fd, F_GETFL);
	if (flags < 0)
		return -errno;
	if ((flags & O_ACCMODE) != (t->role == TRANSPORT_SENDER ? O_WRONLY : O_RDONLY)) {
		fprintf(stderr, "pipe: descriptor %d is the wrong end for a %s\n",
			fd, t->role == TRANSPORT_SENDER ? "sender" : "receiver");
		return -EINVAL;
	}
	/* Packet mode matters on the writing end; set it whoever made the pipe. */
	if (fcntl(fd, F_SETFL, flags | O_NONBLOCK |
		  (t->role == TRANSPORT_SENDER ? O_DIRECT : 0)) < 0)
		return -errno;
	end = malloc(sizeof(*end));
	if (!end)
		return -ENOMEM;
	end->fd = fd;
	end->idle = false;
	t->priv = end;
	return 0;
}

static int pipe_send(struct transport *t, const uint8_t *frame, size_t len)
{
	struct pipe_end *end = t->priv;
	ssize_t n;

	/* An empty write makes no packet: the receiver would never see it. */
	if (!len || len > PIPE_BUF)
		return -EMSGSIZE;
	n = write(end->fd, frame, len);
	if (n < 0)
		return errno == EAGAIN ? -EAGAIN : errno == EPIPE ? -EPIPE : -errno;
	return (size_t)n == len ? 0 : -EIO;
}

static ssize_t pipe_receive(struct transport *t, uint8_t *buf, size_t size,
			    int timeout_ms)
{
	struct pipe_end *end = t->priv;
	ssize_t n = packet_read(end->fd, buf, size, timeout_ms,
					  &end->idle);

	return n == 0 ? -EPIPE : n;	/* 0: every writer is gone, for good */
}

static int pipe_poll_fd(struct transport *t)
{
	return ((struct pipe_end *)t->priv)->fd;
}

static void pipe_close(struct transport *t)
{
	struct pipe_end *end = t->priv;

	if (!end)
		return;
	close(end->fd);
	free(end);
	t->priv = NULL;
}

static const struct transport_ops pipe_ops = {
	.name = "pipe",
	.summary = "anonymous pipe from the launcher, packet mode (--fd)",
	.flags = TRANSPORT_PUSH | TRANSPORT_LOSSLESS | TRANSPORT_INHERITED,
	.open = pipe_open,
	.send = pipe_send,
	.receive = pipe_receive,
	.poll_fd = pipe_poll_fd,
	.close = pipe_close,
	.make_pair = pipe_make_pair,
};

TRANSPORT_REGISTER(pipe_ops);
