// SPDX-License-Identifier: MIT
#include "net_unix.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

int net_unix_address(const char *path, struct sockaddr_un *ret)
{
	if (strlen(path) >= sizeof(ret->sun_path))
		return -ENAMETOOLONG;
	memset(ret, 0, sizeof(*ret));
	ret->sun_family = AF_UNIX;
	strcpy(ret->sun_path, path);
	return 0;
}

bool net_unix_live(const struct sockaddr_un *addr, int type)
{
	int fd = socket(AF_UNIX, type | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	bool live;

	if (fd < 0)
		return false;
	/* EAGAIN: a full backlog, but someone listens. */
	live = connect(fd, (const struct sockaddr *)addr, sizeof(*addr)) == 0 ||
	       errno == EAGAIN;
	close(fd);
	return live;
}

int net_unix_bind_private(int fd, const struct sockaddr_un *addr)
{
	mode_t old = umask(0177);
	int r = bind(fd, (const struct sockaddr *)addr, sizeof(*addr));

	r = r < 0 ? -errno : 0;
	umask(old);
	return r;
}

int net_unix_bind_fresh(int fd, const struct sockaddr_un *addr, int type)
{
	int r = net_unix_bind_private(fd, addr);

	if (r != -EADDRINUSE)
		return r;
	if (net_unix_live(addr, type))
		return -EBUSY;
	return unlink(addr->sun_path) < 0 ? -errno :
					    net_unix_bind_private(fd, addr);
}

int net_unix_accept(int fd, const uid_t *allowed, uid_t *ret_uid)
{
	int conn = accept4(fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);

	*ret_uid = (uid_t)-1;
	if (conn < 0)
		return errno == ECONNABORTED || errno == EINTR ? -EAGAIN : -errno;
	if (net_unix_peer_uid(conn, ret_uid) < 0 ||
	    (allowed && *ret_uid != *allowed)) {
		close(conn);
		return -EPERM;
	}
	return conn;
}

int net_unix_peer_uid(int fd, uid_t *ret)
{
	struct ucred cred;
	socklen_t len = sizeof(cred);

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0)
		return -errno;
	*ret = cred.uid;
	return 0;
}
