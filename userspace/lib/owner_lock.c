// SPDX-License-Identifier: MIT
#include "owner_lock.h"

#include "private_object.h"
#include "shared_object.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

/* Attempts when the file keeps being removed under us by leaving owners. */
#define OWNER_LOCK_ATTEMPTS	16

/* The PID the owner wrote into the file, 0 if none (yet). */
static pid_t owner_lock_holder(int fd)
{
	char text[24];
	ssize_t n = pread(fd, text, sizeof(text) - 1, 0);
	long pid;

	if (n <= 0)
		return 0;
	text[n] = '\0';
	pid = strtol(text, NULL, 10);
	return pid > 0 ? (pid_t)pid : 0;
}

static int write_holder(int fd)
{
	char text[24];
	int n = snprintf(text, sizeof(text), "%ld\n", (long)getpid());

	if (ftruncate(fd, 0) < 0 || pwrite(fd, text, n, 0) != n)
		return errno ? -errno : -EIO;
	return 0;
}

int owner_lock_take(const char *path, pid_t *ret_holder)
{
	struct flock lock = {
		.l_type = F_WRLCK,
		.l_whence = SEEK_SET,
	};
	int fd, r;

	*ret_holder = 0;
	for (int attempt = 0; attempt < OWNER_LOCK_ATTEMPTS; attempt++) {
		fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
		if (fd < 0)
			return -errno;
		/* F_OFD_SETLK, not ...SETLKW: a busy lock is an answer. */
		if (fcntl(fd, F_OFD_SETLK, &lock) < 0) {
			r = errno == EAGAIN || errno == EACCES ? -EBUSY : -errno;
			if (r == -EBUSY)
				*ret_holder = owner_lock_holder(fd);
			close(fd);
			return r;
		}
		/* Its owner removed it before letting go: lock the new one. */
		if (!shared_object_is_named(fd, path)) {
			close(fd);
			continue;
		}
		/* The umask may have taken bits away; we want exactly 0600. */
		r = fchmod(fd, 0600) < 0 ? -errno : write_holder(fd);
		if (r < 0) {
			owner_lock_release(fd, path);
			return r;
		}
		return fd;
	}
	return -EAGAIN;
}

void owner_lock_release(int fd, const char *path)
{
	if (fd < 0)
		return;
	shared_object_unlink(fd, path);
	close(fd);
}

int owner_lock_held(int fd)
{
	struct flock lock = { .l_type = F_RDLCK, .l_whence = SEEK_SET };

	if (fcntl(fd, F_OFD_GETLK, &lock) < 0)
		return -errno;
	return lock.l_type != F_UNLCK;
}

int owner_lock_open_held(const char *path, pid_t *ret_holder)
{
	struct stat sb;
	int fd, r;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
	if (fd < 0)
		return errno == ENOENT || errno == ELOOP ? -ENOENT : -errno;
	if (fstat(fd, &sb) < 0) {
		r = -errno;
		goto err_close_fd;
	}
	r = -ENOENT;
	/* Not ours, or left by a dead owner: nobody there (yet). */
	if (!private_object_file(&sb) || owner_lock_held(fd) != 1)
		goto err_close_fd;
	*ret_holder = owner_lock_holder(fd);
	if (*ret_holder <= 0)
		goto err_close_fd;
	return fd;

err_close_fd:
	close(fd);
	return r;
}
