/* SPDX-License-Identifier: MIT */
/*
 * Fixed-size frames over a byte stream (TCP, TLS). A stream has no message
 * boundaries: a read may return part of a frame, or the end of one and the
 * start of the next, and a non-blocking write may take only part of one.
 * struct net_frame collects a frame from partial reads; struct net_tail
 * keeps the unsent rest of a frame so the next send finishes it first and
 * the receiver never sees frames interleaved or torn.
 */
#ifndef IPC_NET_FRAME_H
#define IPC_NET_FRAME_H

#include "message.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct net_frame {
	uint8_t buf[IPC_MESSAGE_SIZE];
	size_t have;
};

/* Where the next read goes and how much it may take: never past a frame. */
static inline uint8_t *net_frame_space(struct net_frame *f, size_t *ret_len)
{
	*ret_len = sizeof(f->buf) - f->have;
	return f->buf + f->have;
}

/* Account for @n bytes read into net_frame_space(); true when complete. */
static inline bool net_frame_commit(struct net_frame *f, size_t n)
{
	f->have += n;
	return f->have == sizeof(f->buf);
}

static inline void net_frame_reset(struct net_frame *f)
{
	f->have = 0;
}

struct net_tail {
	uint8_t buf[IPC_MESSAGE_SIZE];
	size_t off, len;	/* bytes [off, len) are still to be sent */
};

static inline bool net_tail_empty(const struct net_tail *t)
{
	return t->off >= t->len;
}

/* Keep bytes [@sent, @len) of @frame after a partial write. */
void net_tail_keep(struct net_tail *t, const uint8_t *frame, size_t len,
		   size_t sent);

#endif /* IPC_NET_FRAME_H */
