// SPDX-License-Identifier: MIT
#include "shared_object.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

int shared_object_claim(int fd, enum shared_object_claim role)
{
	struct flock lock = {
		.l_type = F_WRLCK,
		.l_whence = SEEK_SET,
		.l_start = role,
		.l_len = 1,
	};

	/* F_OFD_SETLK, not ...SETLKW: a busy claim is an answer, not a wait. */
	if (fcntl(fd, F_OFD_SETLK, &lock) < 0)
		return errno == EAGAIN || errno == EACCES ? -EBUSY : -errno;
	return 0;
}

int shared_object_tmpfile(const char *dir)
{
	int fd = open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);

	if (fd < 0)
		return -errno;
	/* The umask may have taken bits away; we want exactly 0600. */
	if (fchmod(fd, 0600) < 0) {
		int r = -errno;

		close(fd);
		return r;
	}
	return fd;
}

int shared_object_link(int fd, const char *path)
{
	char proc[64];

	/* Needs CAP_DAC_READ_SEARCH; the /proc form below works for anyone. */
	if (!linkat(fd, "", AT_FDCWD, path, AT_EMPTY_PATH))
		return 0;
	if (errno == EEXIST)
		return -EEXIST;
	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
	if (linkat(AT_FDCWD, proc, AT_FDCWD, path, AT_SYMLINK_FOLLOW) < 0)
		return -errno;
	return 0;
}

bool shared_object_unlinked(int fd)
{
	struct stat st;

	return !fstat(fd, &st) && st.st_nlink == 0;
}

bool shared_object_is_named(int fd, const char *path)
{
	struct stat held, named;

	if (fstat(fd, &held) < 0 || lstat(path, &named) < 0)
		return false;
	return held.st_dev == named.st_dev && held.st_ino == named.st_ino;
}

void shared_object_unlink(int fd, const char *path)
{
	if (shared_object_is_named(fd, path))
		(void)unlink(path);
}

int shared_object_lock_data(int fd, short type)
{
	struct flock lock = {
		.l_type = type,
		.l_whence = SEEK_SET,
		.l_start = SHARED_OBJECT_DATA_START,
		.l_len = 0,
	};

	/* EINTR only for a signal: then wait again. */
	while (fcntl(fd, F_OFD_SETLKW, &lock) < 0)
		if (errno != EINTR)
			return -errno;
	return 0;
}
