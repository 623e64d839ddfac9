// SPDX-License-Identifier: MIT
/*
 * unix: an AF_UNIX SOCK_SEQPACKET socket file, <runtime-dir>/unix.<instance>,
 * mode 0600. Push, lossless, ordered, one record per send.
 *
 * The RECEIVER binds, replacing a stale file (nobody accepts on it) but
 * never a live one, and accepts one sender at a time, whose uid must be
 * the allowed one (option allow-uid; refusals are counted and told at
 * once). A sender's exit is end of file: it accepts the next. On close it
 * removes the file if still its own. The SENDER connects (no file, a
 * stale one or a full backlog: absent) and checks that the receiver runs
 * as us or root. A backlog goes as one record of up to 64 frames, split
 * by the receiver (lib/packet_io.h). A lone event: one send, and one
 * recv() the LED sleeps in, as the lesson; a stop swaps the connection
 * and the listening socket for an ended pipe (lib/seqpacket_server.h).
 * docs/mechanisms/unix.md tells more.
 */
#include "transport.h"

#include "../lib/fd_wait.h"
#include "../lib/net_options.h"
#include "../lib/net_unix.h"
#include "../lib/packet_io.h"
#include "../lib/seqpacket_server.h"

#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <syslog.h>
#include <unistd.h>

struct unix_state {
	int fd;			/* sender: connected; receiver: listening */
	struct seqpacket_server srv;	/* receiver: its sender, its waits */
	uid_t allowed_uid;
	bool any_uid;
	dev_t dev;		/* receiver: the file it bound */
	ino_t ino;
	struct sockaddr_un addr;
	char *detail;		/* the transport's, TRANSPORT_DETAIL_MAX */
};

static const struct transport_option unix_options[] = {
	{ "allow-uid", NULL,
	  "receiver: uid allowed to send (default: our own; \"any\": everyone who can reach the file)", NULL },
	{ NULL, NULL, NULL, NULL },
};

/* On failure, unix_close() releases what this took (the file once bound). */
static int unix_open_receiver(struct unix_state *st)
{
	const char *path = st->addr.sun_path;
	struct stat file;
	int r;

	st->fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (st->fd < 0)
		return -errno;
	/* A file left by a killed receiver (or not a socket) is replaced. */
	r = net_unix_bind_fresh(st->fd, &st->addr, SOCK_SEQPACKET);
	if (r == -EBUSY) {
		snprintf(st->detail, TRANSPORT_DETAIL_MAX,
			 "%s: another receiver is using it", path);
		return r;
	}
	if (r == 0 && lstat(path, &file) < 0) {
		r = -errno;
		unlink(path);
	}
	if (r == 0) {
		st->dev = file.st_dev;	/* unix_close() removes it from now on */
		st->ino = file.st_ino;
		if (chmod(path, 0600) < 0 || listen(st->fd, 4) < 0)
			r = -errno;
		else
			r = seqpacket_server_open(&st->srv, st->fd);
	}
	if (r < 0)
		snprintf(st->detail, TRANSPORT_DETAIL_MAX, "%s", path);
	return r;
}

static int unix_open_sender(struct unix_state *st)
{
	uid_t uid = (uid_t)-1;
	int r;

	st->fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (st->fd < 0)
		return -errno;
	r = connect(st->fd, (struct sockaddr *)&st->addr, sizeof(st->addr));
	if (r < 0) {
		r = -errno;
		/* No file yet, a stale one, or a full backlog: retry later. */
		if (r == -ENOENT || r == -EAGAIN || r == -ECONNREFUSED)
			r = TRANSPORT_ABSENT;
		else
			snprintf(st->detail, TRANSPORT_DETAIL_MAX, "%s",
				 st->addr.sun_path);
	}
	if (r == 0)
		r = net_unix_peer_uid(st->fd, &uid);
	if (r == 0 && uid != geteuid() && uid != 0) {
		snprintf(st->detail, TRANSPORT_DETAIL_MAX,
			 "%s: the receiver runs as uid %u, neither us nor root; refusing it",
			 st->addr.sun_path, (unsigned int)uid);
		r = -EPERM;
	}
	return r;
}

static void unix_close(struct transport *t)
{
	struct unix_state *st = t->priv;
	struct stat file;

	if (!st)
		return;
	if (t->role == TRANSPORT_RECEIVER) {
		/* Remove the file only if it is still the one we bound. */
		if (lstat(st->addr.sun_path, &file) == 0 &&
		    file.st_dev == st->dev && file.st_ino == st->ino &&
		    unlink(st->addr.sun_path) < 0)
			snprintf(t->detail, sizeof(t->detail), "%s: %s",
				 st->addr.sun_path, strerror(errno));
	}
	seqpacket_server_close(&st->srv);	/* before its listener */
	if (st->fd >= 0)
		close(st->fd);
	free(st);
	t->priv = NULL;
}

static int unix_open(struct transport *t)
{
	struct unix_state *st = calloc(1, sizeof(*st));
	char path[PATH_MAX];
	int r;

	if (!st)
		return -ENOMEM;
	t->priv = st;
	st->detail = t->detail;
	st->fd = -1;
	seqpacket_server_clear(&st->srv);
	r = transport_object_path(t, path, sizeof(path));
	if (r == 0 && net_unix_address(path, &st->addr) < 0) {
		snprintf(t->detail, sizeof(t->detail),
			 "%.200s: longer than a socket path may be (%zu)",
			 path, sizeof(st->addr.sun_path) - 1);
		r = -ENAMETOOLONG;
	}
	if (r == 0)
		r = net_options_uid("allow-uid", transport_option(t, "allow-uid"),
				    &st->allowed_uid, &st->any_uid, t->detail,
				    sizeof(t->detail));
	if (r == 0)
		r = t->role == TRANSPORT_RECEIVER ? unix_open_receiver(st) :
						    unix_open_sender(st);
	if (r < 0)
		unix_close(t);
	return r;
}

static int unix_send_many(struct transport *t, const uint8_t *frames,
			  size_t len, size_t count)
{
	struct unix_state *st = t->priv;
	int r = packet_send_many(st->fd, frames, len, count);

	if (r == -ECONNRESET || r == -ENOTCONN)
		return TRANSPORT_STALE;
	return r;	/* -EAGAIN: TRANSPORT_FULL, -EPIPE: TRANSPORT_STALE */
}

static int unix_send(struct transport *t, const uint8_t *frame, size_t len)
{
	int r = unix_send_many(t, frame, len, 1);

	return r < 0 ? r : 0;
}

/* Take the next sender if one is waiting. 0: none yet; 1: one taken. */
static int accept_sender(struct transport *t, struct unix_state *st)
{
	uid_t uid;
	int fd = net_unix_accept(st->fd, st->any_uid ? NULL : &st->allowed_uid,
				 &uid);
	int r;

	if (fd == -EPERM) {
		t->rejected++;
		transport_notice(t, LOG_WARNING,
				 "unix %s: refused a sender with uid %d (allowed: %s%u)",
				 st->addr.sun_path, (int)uid,
				 st->any_uid ? "any, not " : "",
				 (unsigned int)st->allowed_uid);
	}
	if (fd == -ENOTSOCK)
		return -EINTR;	/* the listener swapped: a stop */
	if (fd < 0)
		return fd == -EPERM || fd == -EAGAIN ? 0 : fd;
	r = seqpacket_server_take(&st->srv, fd);
	return r < 0 ? r : 1;
}

/* The current sender's next frame; while none is connected, wait on the
 * listening socket and take the next one. */
static ssize_t unix_receive(struct transport *t, uint8_t *buf, size_t size,
			    int timeout_ms)
{
	struct unix_state *st = t->priv;
	struct seqpacket_server *srv = &st->srv;
	ssize_t n = packet_reader_take(&srv->rd, buf, size);
	int r;

	while (n < 0) {
		if (srv->conn < 0) {
			r = fd_wait(st->fd, POLLIN, timeout_ms, NULL);
			if (r < 0 || (r = accept_sender(t, st)) < 0)
				return r;
			continue;
		}
		n = seqpacket_server_recv(srv, buf, size, timeout_ms,
					  &t->rejected);
		if (n == -EPIPE)
			seqpacket_server_drop(srv);	/* it ended: wait for the next */
		else if (n < 0 && n != -EAGAIN)
			return n;
	}
	return n;	/* 0: an empty record from a live sender, to reject */
}

static ssize_t unix_receive_many(struct transport *t,
				 struct transport_batch *batch, int timeout_ms)
{
	struct unix_state *st = t->priv;
	ssize_t n = unix_receive(t, batch->frame[0], sizeof(batch->frame[0]),
				 timeout_ms);

	if (n < 0)
		return n;
	batch->len[0] = (size_t)n;	/* then what is there already: */
	batch->count = st->srv.conn < 0 ? 1 :
		packet_reader_more(&st->srv.rd, st->srv.conn, batch->frame,
				   batch->len, 1, TRANSPORT_BATCH_MAX,
				   &t->rejected);
	return (ssize_t)batch->count;
}

static int unix_poll_fd(struct transport *t)
{
	struct unix_state *st = t->priv;

	return t->role == TRANSPORT_RECEIVER ? st->srv.epoll : st->fd;
}

static void unix_wake(struct transport *t)
{
	seqpacket_server_wake(&((struct unix_state *)t->priv)->srv);
}

static void unix_unwake(struct transport *t)
{
	seqpacket_server_unwake(&((struct unix_state *)t->priv)->srv);
}

static const struct transport_ops unix_ops = {
	.name = "unix",
	.summary = "AF_UNIX SOCK_SEQPACKET socket file, 0600, peer uid checked",
	.flags = TRANSPORT_PUSH | TRANSPORT_LOSSLESS | TRANSPORT_WAKE_ANYWHERE,
	.options = unix_options,
	.open = unix_open,
	.send = unix_send,
	.receive = unix_receive,
	.send_many = unix_send_many,
	.receive_many = unix_receive_many,
	.poll_fd = unix_poll_fd,
	.wake = unix_wake,
	.unwake = unix_unwake,
	.close = unix_close,
};

TRANSPORT_REGISTER(unix_ops);
