// SPDX-License-Identifier: MIT
#include "packet_io.h"

#include "fd_wait.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <unistd.h>

void packet_pipe_grow(int fd)
{
	long page = sysconf(_SC_PAGESIZE);

	if (page > 0)
		(void)fcntl(fd, F_SETPIPE_SZ, (int)(PACKET_PIPE_FRAMES * page));
}

int packet_write(int fd, const uint8_t *frame, size_t len)
{
	ssize_t n;

	if (!len || len > PIPE_BUF)
		return -EMSGSIZE;
	n = write(fd, frame, len);
	if (n < 0)
		return -errno;
	return (size_t)n == len ? 0 : -EIO;
}

ssize_t packet_read(int fd, uint8_t *buf, size_t size, int timeout_ms,
		    bool *idle)
{
	bool waited = false;
	ssize_t n;
	int r;

	for (;;) {
		if (*idle || waited) {
			r = fd_wait(fd, POLLIN, timeout_ms, NULL);
			if (r < 0) {
				*idle = true;
				return r;
			}
			waited = true;
		}
		n = read(fd, buf, size);
		if (n >= 0) {
			*idle = waited;
			return n;
		}
		if (errno != EAGAIN && errno != EINTR)
			return -errno;
		waited = true;	/* wait (again) before the next read */
	}
}
