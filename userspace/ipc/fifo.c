// SPDX-License-Identifier: MIT
/*
 * fifo: a named pipe, <runtime-dir>/fifo.<instance>, mode 0600.
 *
 * Push, lossless, ordered. Frames are packets (lib/packet_io.h), atomic
 * below PIPE_BUF, a backlog one of up to 64; the receiver sleeps in
 * read(), one call per lone event as bare (a stop: lib/wake_fd.h).
 *
 * Receiver: mkfifo() the name (adopting a FIFO of ours a killed receiver
 * left, replacing anything else), open() it O_RDWR, so that a sender that
 * exits is no end of file and the next one simply opens it again, and
 * flock() it, so no other receiver reads from it. Removes it on close if
 * the name is still its FIFO.
 * Sender: open() O_WRONLY|O_NONBLOCK: ENOENT (no FIFO) or ENXIO (a FIFO
 * with nobody reading, left by a killed receiver) mean "no receiver yet".
 * A full pipe is TRANSPORT_FULL and POLLOUT says when to go on.
 *
 * Receiver restart: frames written before the receiver died stay in the
 * pipe while the sender holds it open, and a receiver that adopts the FIFO
 * before the sender writes again reads them (not the rest of a batch the
 * last one had read: its close says how many); once the sender gets EPIPE
 * and reopens, unread frames are gone (at most PACKET_PIPE_FRAMES
 * packets). Events made while no receiver exists wait in the backlog.
 */
#include "transport.h"

#include "../lib/named_object.h"
#include "../lib/packet_io.h"
#include "../lib/shared_object.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

struct fifo_state {
	int fd;
	struct packet_reader rd;	/* receiver: the rest of a batch */
	char path[PATH_MAX];
};

static bool fifo_of_ours(const struct stat *sb)
{
	return S_ISFIFO(sb->st_mode) && sb->st_uid == geteuid();
}

/* ---- receiver ---------------------------------------------------------- */

static int fifo_create(void *ctx)
{
	struct fifo_state *st = ctx;

	return mkfifo(st->path, 0600) == 0 ? 0 : -errno;
}

static int fifo_adopt(void *ctx)
{
	struct fifo_state *st = ctx;
	struct stat sb;

	if (lstat(st->path, &sb) < 0)
		return errno == ENOENT ? NAMED_OBJECT_GONE : -errno;
	return fifo_of_ours(&sb) ? NAMED_OBJECT_OURS : NAMED_OBJECT_STALE;
}

static int fifo_remove(void *ctx)
{
	struct fifo_state *st = ctx;

	return unlink(st->path) == 0 ? 0 : -errno;
}

static const struct named_object_ops fifo_object = {
	.create = fifo_create,
	.adopt = fifo_adopt,
	.remove = fifo_remove,
};

static int fifo_open_receiver(struct transport *t, struct fifo_state *st)
{
	struct stat sb;
	int r;

	r = named_object_get(&fifo_object, st);
	if (r < 0)
		return r;
	if (r == NAMED_OBJECT_REPLACED)
		snprintf(t->detail, sizeof(t->detail),
			 "%s: replaced a stale object that was not our FIFO", st->path);
	st->fd = open(st->path, O_RDWR | O_NONBLOCK | O_CLOEXEC | O_NOFOLLOW);
	if (st->fd < 0)
		return -errno;
	/* Checked on the open file: the name could have changed meanwhile. */
	if (fstat(st->fd, &sb) < 0) {
		r = -errno;
		goto err_close_fd;
	}
	if (!fifo_of_ours(&sb)) {
		r = -EEXIST;
		goto err_close_fd;
	}
	if (flock(st->fd, LOCK_EX | LOCK_NB) < 0) {
		r = errno == EWOULDBLOCK ? TRANSPORT_BUSY : -errno;
		if (r == TRANSPORT_BUSY)
			snprintf(t->detail, sizeof(t->detail),
				 "%s: another receiver is using it", st->path);
		goto err_close_fd;
	}
	/* Exactly 0600, whatever the umask or an adopted FIFO said. */
	if (fchmod(st->fd, 0600) < 0) {
		r = -errno;
		goto err_close_fd;
	}
	packet_pipe_grow(st->fd);
	/* It blocks: the receiver sleeps in read() (packet_io.h). */
	r = packet_reader_block(&st->rd, st->fd);
	if (r < 0)
		goto err_close_fd;
	return 0;

err_close_fd:
	close(st->fd);
	return r;
}

static ssize_t fifo_receive(struct transport *t, uint8_t *buf, size_t size,
			    int timeout_ms)
{
	struct fifo_state *st = t->priv;

	/* Never 0 (end of file): we hold a writing end ourselves (O_RDWR). */
	return packet_reader_read(&st->rd, st->fd, buf, size, timeout_ms,
				  &t->rejected);
}

static ssize_t fifo_receive_many(struct transport *t,
				 struct transport_batch *batch, int timeout_ms)
{
	struct fifo_state *st = t->priv;
	ssize_t n = packet_reader_read_many(&st->rd, st->fd, batch->frame,
					    batch->len, TRANSPORT_BATCH_MAX,
					    timeout_ms, &t->rejected);

	batch->count = n > 0 ? (size_t)n : 0;	/* never 0 frames: O_RDWR */
	return n;
}

/* ---- sender ------------------------------------------------------------ */

static int fifo_open_sender(struct transport *t, struct fifo_state *st)
{
	struct stat sb;
	int flags, r;

	st->fd = open(st->path, O_WRONLY | O_NONBLOCK | O_CLOEXEC | O_NOFOLLOW);
	if (st->fd < 0)
		return errno == ENOENT || errno == ENXIO ? TRANSPORT_ABSENT : -errno;
	r = fstat(st->fd, &sb) < 0 ? -errno : 0;
	if (r == 0 && !fifo_of_ours(&sb)) {
		snprintf(t->detail, sizeof(t->detail), "%s: not a FIFO of ours",
			 st->path);
		r = -EPERM;
	}
	/* Packet mode: one write, one packet (a frame or a batch), one read. */
	flags = r < 0 ? -1 : fcntl(st->fd, F_GETFL);
	if (r == 0 && (flags < 0 || fcntl(st->fd, F_SETFL, flags | O_DIRECT) < 0))
		r = -errno;
	if (r == 0)
		return 0;
	close(st->fd);
	return r;
}

static int fifo_send(struct transport *t, const uint8_t *frame, size_t len)
{
	struct fifo_state *st = t->priv;

	/* -EAGAIN is TRANSPORT_FULL, -EPIPE TRANSPORT_STALE (transport.h). */
	return packet_write(st->fd, frame, len);
}

static int fifo_send_many(struct transport *t, const uint8_t *frames,
			  size_t len, size_t count)
{
	return packet_write_many(((struct fifo_state *)t->priv)->fd, frames,
				 len, count);
}

/* ---- both -------------------------------------------------------------- */

static int fifo_open(struct transport *t)
{
	struct fifo_state *st = calloc(1, sizeof(*st));
	int r;

	if (!st)
		return -ENOMEM;
	r = transport_object_path(t, st->path, sizeof(st->path));
	if (r < 0)
		goto err_free_state;
	r = t->role == TRANSPORT_RECEIVER ? fifo_open_receiver(t, st) :
					    fifo_open_sender(t, st);
	if (r < 0)
		goto err_free_state;
	t->priv = st;
	return 0;

err_free_state:
	if (!t->detail[0])
		snprintf(t->detail, sizeof(t->detail), "%s", st->path);
	free(st);
	return r;
}

static void fifo_wake(struct transport *t)
{
	packet_reader_wake(&((struct fifo_state *)t->priv)->rd);
}

static void fifo_unwake(struct transport *t)
{
	packet_reader_unwake(&((struct fifo_state *)t->priv)->rd);
}

static int fifo_poll_fd(struct transport *t)
{
	return ((struct fifo_state *)t->priv)->fd;
}

static void fifo_close(struct transport *t)
{
	struct fifo_state *st = t->priv;

	if (!st)
		return;
	packet_reader_close(&st->rd);	/* st->fd is the FIFO again */
	/* Remove the name only if it is still ours, not a successor's. */
	if (t->role == TRANSPORT_RECEIVER)
		shared_object_unlink(st->fd, st->path);
	if (packet_reader_left(&st->rd))	/* read, never handed out */
		snprintf(t->detail, sizeof(t->detail), "%s: %zu frames of a batch discarded",
			 st->path, packet_reader_left(&st->rd));
	close(st->fd);
	free(st);
	t->priv = NULL;
}

static const struct transport_ops fifo_ops = {
	.name = "fifo",
	.summary = "named pipe in the runtime directory, 0600, packet mode",
	.flags = TRANSPORT_PUSH | TRANSPORT_LOSSLESS | TRANSPORT_WAKE_ANYWHERE,
	.open = fifo_open,
	.send = fifo_send,
	.receive = fifo_receive,
	.send_many = fifo_send_many,
	.receive_many = fifo_receive_many,
	.poll_fd = fifo_poll_fd,
	.wake = fifo_wake,
	.unwake = fifo_unwake,
	.close = fifo_close,
};

TRANSPORT_REGISTER(fifo_ops);
