// SPDX-License-Identifier: MIT
#include "net_frame.h"

#include "net_socket.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/types.h>

void net_tail_keep(struct net_tail *t, const uint8_t *frame, size_t len,
		   size_t sent)
{
	if (len > sizeof(t->buf))
		len = sizeof(t->buf);
	if (sent >= len) {
		t->off = t->len = 0;
		return;
	}
	memcpy(t->buf, frame, len);
	t->off = sent;
	t->len = len;
}

/* send() without blocking: the bytes taken, -EAGAIN (full) or -EPIPE (gone). */
static ssize_t stream_write(int fd, const uint8_t *buf, size_t len)
{
	ssize_t n;
	int err;

	do
		n = send(fd, buf, len, MSG_NOSIGNAL | MSG_DONTWAIT);
	while (n < 0 && errno == EINTR);
	if (n > 0)
		return n;
	err = n == 0 ? EAGAIN : errno;
	if (err == EAGAIN || err == ENOBUFS)
		return -EAGAIN;
	if (err == EPIPE || err == ENOTCONN || net_unreachable(err))
		return -EPIPE;
	return -err;
}

int net_frame_send(int fd, struct net_tail *tail, const uint8_t *frames,
		   size_t len, size_t count)
{
	size_t taken;
	ssize_t n;

	/* What is left of the previous frame goes first: never two mixed. */
	while (!net_tail_empty(tail)) {
		n = stream_write(fd, tail->buf + tail->off,
				 tail->len - tail->off);
		if (n < 0)
			return (int)n;
		tail->off += (size_t)n;
	}
	/* No look for a FIN first: the LED resets the connection when it
	 * closes it (lib/net_server.c), so a send into it fails. */
	if (!len || !count)
		return -EINVAL;
	if (count > sizeof(tail->buf) / len)
		count = sizeof(tail->buf) / len;
	n = stream_write(fd, frames, len * count);
	if (n < 0)
		return (int)n;
	taken = (size_t)n / len;
	if ((size_t)n % len) {
		net_tail_keep(tail, frames + taken * len, len, (size_t)n % len);
		taken++;
	}
	return (int)taken;
}
