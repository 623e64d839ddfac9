// SPDX-License-Identifier: MIT
#include "packet_io.h"

#include "fd_wait.h"
#include "stop.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
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

int packet_write_many(int fd, const uint8_t *frames, size_t len,
		      size_t count)
{
	int r;

	if (len && count > PIPE_BUF / len)
		count = PIPE_BUF / len;
	/* A batch is made of whole frames of the one size the reader splits
	 * by; anything else goes one packet per frame, as it always did. */
	if (len != IPC_MESSAGE_SIZE || count < 2) {
		r = packet_write(fd, frames, len);
		return r < 0 ? r : 1;
	}
	r = packet_write(fd, frames, len * count);
	return r < 0 ? r : (int)count;
}

int packet_send_many(int fd, const uint8_t *frames, size_t len,
		     size_t count)
{
	ssize_t n;

	if (len != IPC_MESSAGE_SIZE)
		count = 1;
	else if (count > PACKET_READ_MAX / len)
		count = PACKET_READ_MAX / len;
	n = send(fd, frames, len * count, MSG_DONTWAIT | MSG_NOSIGNAL);
	if (n < 0)
		return -errno;
	return (size_t)n == len * count ? (int)count : -EIO;
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

int packet_reader_block(struct packet_reader *r, int fd)
{
	int err = wake_fd_block(&r->wake, fd);

	if (err < 0)
		return err;
	r->blocking = true;
	return 0;
}

void packet_reader_wake(struct packet_reader *r)
{
	if (r->blocking)
		wake_fd_wake(&r->wake);
}

void packet_reader_unwake(struct packet_reader *r)
{
	if (r->blocking)
		wake_fd_restore(&r->wake);
}

void packet_reader_close(struct packet_reader *r)
{
	if (r->blocking)
		wake_fd_close(&r->wake);
	r->blocking = false;
}

/*
 * packet_read() on a blocking descriptor: untimed and with the stop
 * signals let in, the read itself sleeps (a stop swaps @fd for one at end
 * of file, so whatever it returns then means "stop"); else ppoll() first,
 * after which the read does not block.
 */
static ssize_t packet_read_blocking(int fd, uint8_t *buf, size_t size,
				    int timeout_ms)
{
	ssize_t n;
	int r;

	if (timeout_ms >= 0 || !stop_is_let_in()) {
		r = fd_wait(fd, POLLIN, timeout_ms, NULL);
		if (r < 0)
			return r;
	} else if (stop_requested()) {
		/* A stop not yet taken back (stop_rearm) whose swap was
		 * undone (unwake): the read would sleep on the real one. */
		return -EINTR;
	}
	n = read(fd, buf, size);
	if (n <= 0 && stop_requested())
		return -EINTR;
	return n < 0 ? -errno : n;
}

static size_t copy_cut(uint8_t *buf, size_t size, const uint8_t *from,
		       size_t len)
{
	if (len > size)
		len = size;
	memcpy(buf, from, len);
	return len;
}

ssize_t packet_reader_split(struct packet_reader *r, size_t n, uint8_t *buf,
			    size_t size, uint64_t *rejected)
{
	struct ipc_message msg;
	size_t off;

	r->off = r->len = 0;
	if (n <= IPC_MESSAGE_SIZE || n % IPC_MESSAGE_SIZE)
		return (ssize_t)copy_cut(buf, size, r->buf, n);
	for (off = 0; off < n; off += IPC_MESSAGE_SIZE) {
		if (ipc_message_decode(r->buf + off, IPC_MESSAGE_SIZE, &msg) !=
		    IPC_MESSAGE_OK) {
			(*rejected)++;
			return -EAGAIN;
		}
	}
	r->off = IPC_MESSAGE_SIZE;
	r->len = n;
	return (ssize_t)copy_cut(buf, size, r->buf, IPC_MESSAGE_SIZE);
}

ssize_t packet_reader_take(struct packet_reader *r, uint8_t *buf,
			   size_t size)
{
	size_t len;

	if (r->off >= r->len)
		return -EAGAIN;
	len = copy_cut(buf, size, r->buf + r->off, IPC_MESSAGE_SIZE);
	r->off += IPC_MESSAGE_SIZE;
	return (ssize_t)len;
}

ssize_t packet_reader_read(struct packet_reader *r, int fd, uint8_t *buf,
			   size_t size, int timeout_ms, uint64_t *rejected)
{
	ssize_t n;

	if (r->zero) {
		r->zero = false;
		return 0;
	}
	n = packet_reader_take(r, buf, size);
	while (n == -EAGAIN) {
		if (r->blocking) {
			/* idle: _more() must not read again, it would block */
			r->idle = true;
			n = packet_read_blocking(fd, r->buf, sizeof(r->buf),
						 timeout_ms);
		} else {
			n = packet_read(fd, r->buf, sizeof(r->buf), timeout_ms,
					&r->idle);
		}
		if (n > 0)
			n = packet_reader_split(r, (size_t)n, buf, size,
						rejected);
	}
	return n;
}

ssize_t packet_reader_read_many(struct packet_reader *r, int fd,
				uint8_t (*frames)[IPC_MESSAGE_MAX_WIRE],
				size_t *lens, size_t max, int timeout_ms,
				uint64_t *rejected)
{
	size_t count = 0;
	ssize_t n;

	n = packet_reader_read(r, fd, frames[0], IPC_MESSAGE_MAX_WIRE,
			       timeout_ms, rejected);
	if (n <= 0)
		return n;
	lens[count++] = (size_t)n;
	return (ssize_t)packet_reader_more(r, fd, frames, lens, count, max,
					   rejected);
}

/* After a read of 0: whether the peer closed, or only sent an empty record. */
static bool peer_closed(int fd)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN | POLLRDHUP };

	return poll(&pfd, 1, 0) == 1 && pfd.revents & (POLLHUP | POLLRDHUP);
}

ssize_t packet_reader_recv(struct packet_reader *r, int fd, uint8_t *buf,
			   size_t size, uint64_t *rejected)
{
	ssize_t n = -EAGAIN;

	while (n == -EAGAIN) {
		n = r->zero ? 0 : read(fd, r->buf, sizeof(r->buf));
		r->zero = false;
		if (n == 0)
			return peer_closed(fd) ? -EPIPE : 0;
		if (n < 0)
			return errno == ECONNRESET ? -EPIPE : -errno;
		n = packet_reader_split(r, (size_t)n, buf, size, rejected);
	}
	return n;
}

size_t packet_reader_more(struct packet_reader *r, int fd,
			  uint8_t (*frames)[IPC_MESSAGE_MAX_WIRE], size_t *lens,
			  size_t count, size_t max, uint64_t *rejected)
{
	ssize_t n;

	while (count < max) {
		n = packet_reader_take(r, frames[count], IPC_MESSAGE_MAX_WIRE);
		if (n == -EAGAIN) {
			if (r->idle)	/* it waited: nothing more, most likely */
				break;
			n = read(fd, r->buf, sizeof(r->buf));
			if (n == 0)
				r->zero = true;	/* the next call's answer */
			if (n <= 0)	/* EAGAIN, EINTR: that was all */
				break;
			n = packet_reader_split(r, (size_t)n, frames[count],
						IPC_MESSAGE_MAX_WIRE, rejected);
			if (n == -EAGAIN)
				continue;
		}
		lens[count++] = (size_t)n;
	}
	return count;
}
