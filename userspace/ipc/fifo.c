// SPDX-License-Identifier: MIT
/*
 * fifo: a named pipe, <runtime-dir>/fifo.<instance>, mode 0600.
 *
 * Push, lossless, ordered. The RECEIVER creates it (mkfifo), replacing
 * anything else of that name, adopting a FIFO left by a killed receiver,
 * and refusing to share it with a live one (it holds an flock on it). It
 * keeps it open O_RDWR, so a sender that dies or exits is no end of file:
 * the next sender just opens it again. It removes it on close.
 * The SENDER opens it O_WRONLY|O_NONBLOCK: ENOENT (no FIFO) or ENXIO (a
 * FIFO but no receiver, e.g. left by a killed one) mean "not there yet".
 * It writes each 40-byte frame in one write, atomic below PIPE_BUF, in
 * packet mode (O_DIRECT, set with fcntl) so that a read returns one frame
 * even when a malformed frame of another size went before it.
 * Receiver restart: frames written before the receiver died stay in the
 * pipe while the sender holds it open, and a receiver that adopts the FIFO
 * before the sender writes again reads them; once the sender gets EPIPE
 * and reopens, those unread frames are gone (at most one pipe's worth:
 * the receiver grows it to PACKET_PIPE_FRAMES frames, 16 if the kernel
 * refuses).
 * Events made while no receiver exists wait in the sender's backlog.
 */
#include "transport.h"
#include "../lib/packet_io.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

struct fifo {
	int fd;
	bool idle;		/* the last receive waited (packet_read) */
	dev_t dev;		/* what we created, so close removes only it */
	ino_t ino;
	char path[PATH_MAX];
};

/* Make sure @path is a FIFO of ours, mode 0600, replacing whatever is not. */
static int fifo_create(const char *path)
{
	struct stat st;

	if (mkfifo(path, 0600) == 0)
		return 0;
	if (errno != EEXIST)
		return -errno;
	if (lstat(path, &st) < 0)
		return -errno;
	if (S_ISFIFO(st.st_mode) && st.st_uid == geteuid())
		return 0;	/* left by a killed receiver: adopt it */
	fprintf(stderr, "fifo %s: replacing a stale object that is not our FIFO\n",
		path);
	if (unlink(path) < 0 || mkfifo(path, 0600) < 0)
		return -errno;
	return 0;
}

static int fifo_open_receiver(struct fifo *f)
{
	struct stat st;
	int r;

	r = fifo_create(f->path);
	if (r < 0)
		goto err;
	f->fd = open(f->path, O_RDWR | O_NONBLOCK | O_CLOEXEC | O_NOFOLLOW);
	if (f->fd < 0) {
		r = -errno;
		goto err;
	}
	if (fstat(f->fd, &st) < 0) {
		r = -errno;
		goto err_close;
	}
	/* Checked on the open file: the name could have changed meanwhile. */
	if (!S_ISFIFO(st.st_mode) || st.st_uid != geteuid()) {
		r = -EEXIST;
		goto err_close;
	}
	if (flock(f->fd, LOCK_EX | LOCK_NB) < 0) {
		r = -errno;
		if (r == -EWOULDBLOCK) {
			fprintf(stderr, "fifo %s: another receiver is using it\n",
				f->path);
			r = -EBUSY;
			goto err_close_quiet;
		}
		goto err_close;
	}
	/* Exactly 0600, whatever the umask or an adopted FIFO said. */
	if (fchmod(f->fd, 0600) < 0) {
		r = -errno;
		goto err_close;
	}
	packet_pipe_grow(f->fd);
	f->dev = st.st_dev;
	f->ino = st.st_ino;
	return 0;

err_close:
	fprintf(stderr, "fifo %s: %s\n", f->path, strerror(-r));
err_close_quiet:
	close(f->fd);
	return r;
err:
	fprintf(stderr, "fifo %s: %s\n", f->path, strerror(-r));
	return r;
}

static int fifo_open_sender(struct fifo *f)
{
	struct stat st;
	int flags, r;

	f->fd = open(f->path, O_WRONLY | O_NONBLOCK | O_CLOEXEC | O_NOFOLLOW);
	if (f->fd < 0) {
		r = -errno;
		/* Not there yet (ENOENT) or nobody reading (ENXIO): retry later. */
		if (r != -ENOENT && r != -ENXIO)
			fprintf(stderr, "fifo %s: %s\n", f->path, strerror(-r));
		return r;
	}
	if (fstat(f->fd, &st) < 0) {
		r = -errno;
		goto err_close;
	}
	if (!S_ISFIFO(st.st_mode) || st.st_uid != geteuid()) {
		fprintf(stderr, "fifo %s: not a FIFO of ours\n", f->path);
		close(f->fd);
		return -EPERM;
	}
	flags = fcntl(f->fd, F_GETFL);
	if (flags < 0 || fcntl(f->fd, F_SETFL, flags | O_DIRECT) < 0) {
		r = -errno;
		goto err_close;
	}
	return 0;

err_close:
	fprintf(stderr, "fifo %s: %s\n", f->path, strerror(-r));
	close(f->fd);
	return r;
}

static int fifo_open(struct transport *t)
{
	struct fifo *f = calloc(1, sizeof(*f));
	int r;

	if (!f)
		return -ENOMEM;
	r = transport_object_path(t, f->path, sizeof(f->path));
	if (r == 0)
		r = t->role == TRANSPORT_RECEIVER ? fifo_open_receiver(f) :
						    fifo_open_sender(f);
	if (r < 0) {
		free(f);
		return r;
	}
	t->priv = f;
	return 0;
}

static int fifo_send(struct transport *t, const uint8_t *frame, size_t len)
{
	struct fifo *f = t->priv;
	ssize_t n;

	/* Atomic and one packet only below PIPE_BUF; empty makes no packet. */
	if (!len || len > PIPE_BUF)
		return -EMSGSIZE;
	n = write(f->fd, frame, len);
	if (n < 0)
		return errno == EAGAIN ? -EAGAIN : errno == EPIPE ? -EPIPE : -errno;
	return (size_t)n == len ? 0 : -EIO;
}

static ssize_t fifo_receive(struct transport *t, uint8_t *buf, size_t size,
			    int timeout_ms)
{
	struct fifo *f = t->priv;

	/* Never 0 (end of file): we hold a writing end ourselves (O_RDWR). */
	return packet_read(f->fd, buf, size, timeout_ms, &f->idle);
}

static int fifo_poll_fd(struct transport *t)
{
	return ((struct fifo *)t->priv)->fd;
}

static void fifo_close(struct transport *t)
{
	struct fifo *f = t->priv;
	struct stat st;

	if (!f)
		return;
	/* Remove the name only if it is still ours, not a successor's. */
	if (t->role == TRANSPORT_RECEIVER && lstat(f->path, &st) == 0 &&
	    st.st_dev == f->dev && st.st_ino == f->ino && unlink(f->path) < 0)
		fprintf(stderr, "fifo %s: %s\n", f->path, strerror(errno));
	close(f->fd);
	free(f);
	t->priv = NULL;
}

static const struct transport_ops fifo_ops = {
	.name = "fifo",
	.summary = "named pipe in the runtime directory, 0600, packet mode",
	.flags = TRANSPORT_PUSH | TRANSPORT_LOSSLESS,
	.open = fifo_open,
	.send = fifo_send,
	.receive = fifo_receive,
	.poll_fd = fifo_poll_fd,
	.close = fifo_close,
};

TRANSPORT_REGISTER(fifo_ops);
