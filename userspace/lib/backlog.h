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
