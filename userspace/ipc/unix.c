// SPDX-License-Identifier: MIT
/*
 * unix: an AF_UNIX SOCK_SEQPACKET socket file, <runtime-dir>/unix.<instance>,
 * mode 0600.
 *
 * Push, lossless, ordered, message-preserving (one send, one record). The
 * RECEIVER creates it: it binds (with a 0177 umask, then chmod 0600),
 * replaces a stale socket file left by a killed receiver (nobody accepts on
 * it: connect says ECONNREFUSED), refuses to take over a live one, listens
 * and accepts one sender at a time. Every sender's credentials are checked
 * (SO_PEERCRED) against the allowed uid, our own by default (option
 * allow-uid); a refused peer is counted in t->rejected and logged. A
 * sender's exit is end of file on its connection: the receiver goes back to
 * accept the next one. The receiver removes the file on close, if it is
 * still its own.
 * The SENDER connects: ENOENT (no file) and ECONNREFUSED (a stale file, or
 * the backlog full) mean "not there yet". It checks the receiver is its own
 * uid or root. Frames queued in a receiver's connection die with that
 * receiver; events made while none runs wait in the sender's backlog.
 */
#include "transport.h"
#include "../lib/fd_wait.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

struct unix_socket {
	int fd;			/* sender: connected; receiver: listening */
	int conn;		/* receiver: the current sender, -1 if none */
	int epoll;		/* receiver: listening fd or conn, for poll_fd */
	uid_t allowed_uid;
	bool any_uid;
	dev_t dev;		/* receiver: the file it bound */
	ino_t ino;
	struct sockaddr_un addr;
};

static const struct transport_option unix_options[] = {
	{ "allow-uid", NULL,
	  "receiver: uid allowed to send (default: our own; \"any\": everyone who can reach the file)", NULL },
	{ NULL, NULL, NULL, NULL },
};

static int unix_address(struct transport *t, struct unix_socket *u)
{
	char path[PATH_MAX];
	int r = transport_object_path(t, path, sizeof(path));

	if (r < 0)
		return r;
	if (strlen(path) >= sizeof(u->addr.sun_path)) {
		fprintf(stderr, "unix %s: path too long for a socket (max %zu)\n",
			path, sizeof(u->addr.sun_path) - 1);
		return -ENAMETOOLONG;
	}
	u->addr.sun_family = AF_UNIX;
	strcpy(u->addr.sun_path, path);
	return 0;
}

static int parse_allowed(struct transport *t, struct unix_socket *u)
{
	const char *v = transport_option(t, "allow-uid");
	char *end;
	unsigned long uid;

	u->allowed_uid = geteuid();
	if (!v)
		return 0;
	if (!strcmp(v, "any")) {
		u->any_uid = true;
		return 0;
	}
	errno = 0;
	uid = strtoul(v, &end, 10);
	if (errno || !*v || *end || uid > UINT_MAX) {
		fprintf(stderr, "unix: allow-uid=%s: expected a uid or \"any\"\n", v);
		return -EINVAL;
	}
	u->allowed_uid = (uid_t)uid;
	return 0;
}

/* Is a receiver accepting on @addr? A refused connect means a stale file. */
static bool live_receiver(const struct sockaddr_un *addr)
{
	int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	bool live;

	if (fd < 0)
		return false;
	live = connect(fd, (const struct sockaddr *)addr, sizeof(*addr)) == 0 ||
	       errno == EAGAIN;
	close(fd);
	return live;
}

static int bind_private(struct unix_socket *u)
{
	mode_t old = umask(0177);	/* no window where others could connect */
	int r = bind(u->fd, (struct sockaddr *)&u->addr, sizeof(u->addr));

	r = r < 0 ? -errno : 0;
	umask(old);
	return r;
}

static int unix_open_receiver(struct unix_socket *u)
{
	const char *path = u->addr.sun_path;
	struct epoll_event ev = { .events = EPOLLIN };
	struct stat st;
	int r;

	u->fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (u->fd < 0)
		return -errno;
	r = bind_private(u);
	if (r == -EADDRINUSE) {
		if (live_receiver(&u->addr)) {
			fprintf(stderr, "unix %s: another receiver is using it\n", path);
			r = -EBUSY;
			goto err;
		}
		/* Left by a killed receiver (or not a socket at all): replace. */
		if (unlink(path) < 0) {
			r = -errno;
			goto err_report;
		}
		r = bind_private(u);
	}
	if (r < 0)
		goto err_report;
	if (chmod(path, 0600) < 0 || lstat(path, &st) < 0) {
		r = -errno;
		goto err_unlink;
	}
	u->dev = st.st_dev;
	u->ino = st.st_ino;
	if (listen(u->fd, 4) < 0) {
		r = -errno;
		goto err_unlink;
	}
	u->epoll = epoll_create1(EPOLL_CLOEXEC);
	if (u->epoll < 0) {
		r = -errno;
		goto err_unlink;
	}
	ev.data.fd = u->fd;
	if (epoll_ctl(u->epoll, EPOLL_CTL_ADD, u->fd, &ev) < 0) {
		r = -errno;
		close(u->epoll);
		goto err_unlink;
	}
	return 0;

err_unlink:
	unlink(path);
err_report:
	fprintf(stderr, "unix %s: %s\n", path, strerror(-r));
err:
	close(u->fd);
	return r;
}

static int peer_uid(int fd, uid_t *ret)
{
	struct ucred cred;
	socklen_t len = sizeof(cred);

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0)
		return -errno;
	*ret = cred.uid;
	return 0;
}

static int unix_open_sender(struct unix_socket *u)
{
	uid_t uid = (uid_t)-1;
	int r;

	u->fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (u->fd < 0)
		return -errno;
	if (connect(u->fd, (struct sockaddr *)&u->addr, sizeof(u->addr)) < 0) {
		r = -errno;
		close(u->fd);
		/* No file yet, a stale one, or a full backlog: retry later. */
		if (r == -EAGAIN || r == -ECONNREFUSED)
			return -ECONNREFUSED;
		if (r != -ENOENT)
			fprintf(stderr, "unix %s: %s\n", u->addr.sun_path, strerror(-r));
		return r;
	}
	r = peer_uid(u->fd, &uid);
	if (r == 0 && uid != geteuid() && uid != 0) {
		fprintf(stderr, "unix %s: the receiver runs as uid %u, neither us nor root; refusing it\n",
			u->addr.sun_path, (unsigned int)uid);
		r = -EPERM;
	}
	if (r < 0) {
		close(u->fd);
		return r;
	}
	return 0;
}

static int unix_open(struct transport *t)
{
	struct unix_socket *u = calloc(1, sizeof(*u));
	int r;

	if (!u)
		return -ENOMEM;
	u->conn = -1;
	u->epoll = -1;
	r = unix_address(t, u);
	if (r == 0)
		r = parse_allowed(t, u);
	if (r == 0)
		r = t->role == TRANSPORT_RECEIVER ? unix_open_receiver(u) :
						    unix_open_sender(u);
	if (r < 0) {
		free(u);
		return r;
	}
	t->priv = u;
	return 0;
}

static int unix_send(struct transport *t, const uint8_t *frame, size_t len)
{
	struct unix_socket *u = t->priv;
	ssize_t n = send(u->fd, frame, len, MSG_DONTWAIT | MSG_NOSIGNAL);

	if (n < 0) {
		if (errno == EAGAIN)
			return -EAGAIN;
		if (errno == EPIPE || errno == ECONNRESET || errno == ENOTCONN)
			return -EPIPE;
		return -errno;
	}
	return (size_t)n == len ? 0 : -EIO;
}

/* Swap what epoll watches: the listening socket or the current sender. */
static void watch(struct unix_socket *u, int old_fd, int new_fd)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.fd = new_fd };

	(void)epoll_ctl(u->epoll, EPOLL_CTL_DEL, old_fd, NULL);
	(void)epoll_ctl(u->epoll, EPOLL_CTL_ADD, new_fd, &ev);
}

static void drop_sender(struct unix_socket *u)
{
	watch(u, u->conn, u->fd);
	close(u->conn);
	u->conn = -1;
}

/* Take the next sender if one is waiting. 0: none yet; 1: one taken. */
static int accept_sender(struct transport *t, struct unix_socket *u)
{
	uid_t uid = (uid_t)-1;
	int fd, r;

	fd = accept4(u->fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
	if (fd < 0)
		return errno == EAGAIN || errno == ECONNABORTED || errno == EINTR ?
		       0 : -errno;
	r = peer_uid(fd, &uid);
	if (r < 0 || (!u->any_uid && uid != u->allowed_uid)) {
		t->rejected++;
		fprintf(stderr, "unix %s: refused a sender with uid %d (allowed: %s%u)\n",
			u->addr.sun_path, r < 0 ? -1 : (int)uid,
			u->any_uid ? "any, not " : "", (unsigned int)u->allowed_uid);
		close(fd);
		return 0;
	}
	u->conn = fd;
	watch(u, u->fd, fd);
	return 1;
}

static ssize_t unix_receive(struct transport *t, uint8_t *buf, size_t size,
			    int timeout_ms)
{
	struct unix_socket *u = t->priv;

	for (;;) {
		int r;

		if (u->conn < 0) {
			r = accept_sender(t, u);
			if (r < 0)
				return r;
		}
		if (u->conn >= 0) {
			ssize_t n = recv(u->conn, buf, size, MSG_DONTWAIT);

			if (n > 0)
				return n;
			if (n == 0) {
				struct pollfd pfd = { .fd = u->conn, .events = POLLIN };

				/* An empty record from a live sender: reject it. */
				if (poll(&pfd, 1, 0) == 1 && !(pfd.revents & POLLHUP))
					return 0;
				drop_sender(u);	/* it ended: wait for the next */
				continue;
			}
			if (errno == ECONNRESET) {
				drop_sender(u);
				continue;
			}
			if (errno != EAGAIN && errno != EINTR)
				return -errno;
		}
		r = fd_wait(u->epoll, POLLIN, timeout_ms, NULL);
		if (r < 0)
			return r;
	}
}

static int unix_poll_fd(struct transport *t)
{
	struct unix_socket *u = t->priv;

	return t->role == TRANSPORT_RECEIVER ? u->epoll : u->fd;
}

static void unix_close(struct transport *t)
{
	struct unix_socket *u = t->priv;
	struct stat st;

	if (!u)
		return;
	if (t->role == TRANSPORT_RECEIVER) {
		/* Remove the file only if it is still the one we bound. */
		if (lstat(u->addr.sun_path, &st) == 0 && st.st_dev == u->dev &&
		    st.st_ino == u->ino && unlink(u->addr.sun_path) < 0)
			fprintf(stderr, "unix %s: %s\n", u->addr.sun_path,
				strerror(errno));
		if (u->conn >= 0)
			close(u->conn);
		close(u->epoll);
	}
	close(u->fd);
	free(u);
	t->priv = NULL;
}

static const struct transport_ops unix_ops = {
	.name = "unix",
	.summary = "AF_UNIX SOCK_SEQPACKET socket file, 0600, peer uid checked",
	.flags = TRANSPORT_PUSH | TRANSPORT_LOSSLESS,
	.options = unix_options,
	.open = unix_open,
	.send = unix_send,
	.receive = unix_receive,
	.poll_fd = unix_poll_fd,
	.close = unix_close,
};

TRANSPORT_REGISTER(unix_ops);
