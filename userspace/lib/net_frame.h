/* SPDX-License-Identifier: MIT */
/*
 * Fixed-size frames over a byte stream (TCP, TLS). A stream has no message
 * boundaries: a read may return part of a frame, or several frames and the
 * start of the next, and a non-blocking write may take only part of what
 * it was given. struct net_frame reads ahead and hands out whole frames,
 * so a burst costs one read for many; struct net_tail keeps the unsent
 * rest of a frame (or of a batch TLS must repeat) so the next send
 * finishes it first and the receiver never sees frames interleaved or
 * torn.
 */
#ifndef IPC_NET_FRAME_H
#define IPC_NET_FRAME_H

#include "message.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* What one read may take: a page, about a hundred frames. */
#define NET_FRAME_READ_AHEAD	4096

struct net_frame {
	uint8_t buf[NET_FRAME_READ_AHEAD];
	size_t off, have;	/* bytes [off, have) read, not handed out */
};

/* Where the next read goes and how much it may take. */
static inline uint8_t *net_frame_space(struct net_frame *f, size_t *ret_len)
{
	if (f->off) {	/* the start of a frame moves to the front */
		memmove(f->buf, f->buf + f->off, f->have - f->off);
		f->have -= f->off;
		f->off = 0;
	}
	*ret_len = sizeof(f->buf) - f->have;
	return f->buf + f->have;
}

/* Whether a whole frame is there to take. */
static inline bool net_frame_ready(const struct net_frame *f)
{
	return f->have - f->off >= IPC_MESSAGE_SIZE;
}

/* Whether part of a frame is there (and no whole one). */
static inline bool net_frame_partial(const struct net_frame *f)
{
	return f->have > f->off && !net_frame_ready(f);
}

/* Account for @n bytes read into net_frame_space(); true when a frame is
 * ready. */
static inline bool net_frame_commit(struct net_frame *f, size_t n)
{
	f->have += n;
	return net_frame_ready(f);
}

/* The next whole frame (only when net_frame_ready()), IPC_MESSAGE_SIZE
 * bytes, valid until the next call on @f. */
static inline const uint8_t *net_frame_take(struct net_frame *f)
{
	const uint8_t *frame = f->buf + f->off;

	f->off += IPC_MESSAGE_SIZE;
	return frame;
}

/* Room for a batch of frames (transport.h: 64 of 40 bytes) and more. */
#define NET_TAIL_MAX	4096

struct net_tail {
	uint8_t buf[NET_TAIL_MAX];
	size_t off, len;	/* bytes [off, len) are still to be sent */
};

static inline bool net_tail_empty(const struct net_tail *t)
{
	return t->off >= t->len;
}

/* Keep bytes [@sent, @len) of @frame after a partial write. */
void net_tail_keep(struct net_tail *t, const uint8_t *frame, size_t len,
		   size_t sent);

/*
 * Write @count frames of @len bytes at @frames to the non-blocking stream
 * socket @fd in one send(2), after the rest of an earlier one in @tail.
 * The frames wholly taken count, and so does a frame taken in part: its
 * rest goes into @tail and first next time, so the stream never holds
 * half a frame that nobody will finish. A peer that closed with a reset
 * (lib/net_server.c closes so) makes the send fail: -EPIPE, and the
 * frames stay the caller's; one that closed with a FIN is not looked for
 * (it would cost a poll() per send). Returns how many frames it took
 * (1..@count), -EAGAIN (full: none taken), -EPIPE (the peer is gone or
 * unreachable now) or another negative errno.
 */
int net_frame_send(int fd, struct net_tail *tail, const uint8_t *frames,
		   size_t len, size_t count);

#endif /* IPC_NET_FRAME_H */
