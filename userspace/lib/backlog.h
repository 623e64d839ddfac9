/* SPDX-License-Identifier: MIT */
/*
 * The button's bounded backlog: events waiting for the transport (full, or
 * no receiver yet). When it overflows the *oldest* event goes, because the
 * newest carries the state the LED must end in; the loss is not silent: the
 * next event carries it in its dropped count and flag, and the LED sees the
 * seqno gap it explains.
 */
#ifndef IPC_BACKLOG_H
#define IPC_BACKLOG_H

#include "message.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * How long the button waits before it offers the backlog again when the
 * transport has no fd to wait on (POLLOUT would say when): doubling from
 * the first delay up to the last while nothing goes through. A full
 * mechanism has a receiver draining it, so retry soon (1 ms is 100 events
 * at 100 k/s); an absent receiver is starting or gone, so give it longer.
 * The benchmark's rate runs use the same policy.
 */
#define BACKLOG_RETRY_FULL_MS	1
#define BACKLOG_RETRY_ABSENT_MS	10
#define BACKLOG_RETRY_MAX_MS	1000

struct backlog {
	struct ipc_message *slots;
	size_t capacity;
	size_t head;		/* index of the oldest event */
	size_t count;
	uint64_t overflowed;	/* events dropped because it was full */
};

int backlog_init(struct backlog *b, size_t capacity);
void backlog_free(struct backlog *b);

/* Append @msg; when full, drop the oldest first. Returns true if one was dropped. */
bool backlog_push(struct backlog *b, const struct ipc_message *msg);

/* The oldest event, NULL when empty. It stays until backlog_pop(). */
struct ipc_message *backlog_head(struct backlog *b);
/* The event @index places behind the oldest (0: the oldest), NULL past the
 * newest: the button encodes a batch from the head without popping it. */
struct ipc_message *backlog_at(struct backlog *b, size_t index);
void backlog_pop(struct backlog *b);

static inline bool backlog_full(const struct backlog *b)
{
	return b->count == b->capacity;
}

static inline bool backlog_empty(const struct backlog *b)
{
	return b->count == 0;
}

#endif /* IPC_BACKLOG_H */
