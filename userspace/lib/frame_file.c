// SPDX-License-Identifier: MIT
#include "frame_file.h"

#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

int frame_file_save(const char *path, const uint8_t (*frames)[IPC_MESSAGE_SIZE],
		    size_t n)
{
	size_t size = n * IPC_MESSAGE_SIZE;
	ssize_t done;
	int fd, r = 0;

	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW,
		  0600);
	if (fd < 0)
		return -errno;
	done = write(fd, frames, size);
	if (done < 0)
		r = -errno;
	else if ((size_t)done != size)
		r = -EIO;
	if (close(fd) < 0 && !r)
		r = -errno;
	if (r)
		(void)unlink(path);	/* half a file would say too little */
	return r;
}

ssize_t frame_file_take(const char *path, uint8_t (*frames)[IPC_MESSAGE_SIZE],
			size_t max)
{
	ssize_t done;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return errno == ENOENT ? 0 : -errno;
	done = read(fd, frames, max * IPC_MESSAGE_SIZE);
	if (done < 0)
		done = -errno;
	(void)close(fd);
	if (unlink(path) < 0 && done >= 0)
		done = -errno;
	return done < 0 ? done : done / IPC_MESSAGE_SIZE;
}
