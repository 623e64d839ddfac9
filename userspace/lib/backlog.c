// SPDX-License-Identifier: MIT
#include "backlog.h"

#include <errno.h>
#include <stdlib.h>

int backlog_init(struct backlog *b, size_t capacity)
{
	if (!capacity)
		return -EINVAL;
	b->slots = calloc(capacity, sizeof(*b->slots));
	if (!b->slots)
		return -ENOMEM;
	b->capacity = capacity;
	b->head = 0;
	b->count = 0;
	b->overflowed = 0;
	return 0;
}

void backlog_free(struct backlog *b)
{
	free(b->slots);
	b->slots = NULL;
	b->capacity = b->count = 0;
}

struct ipc_message *backlog_head(struct backlog *b)
{
	return b->count ? &b->slots[b->head] : NULL;
}

struct ipc_message *backlog_at(struct backlog *b, size_t index)
{
	if (index >= b->count)
		return NULL;
	return &b->slots[(b->head + index) % b->capacity];
}

void backlog_pop(struct backlog *b)
{
	if (!b->count)
		return;
	b->head = (b->head + 1) % b->capacity;
	b->count--;
}

/* Add @lost events to what @msg says was lost before it. */
static void carry_loss(struct ipc_message *msg, uint64_t lost)
{
	uint64_t total = msg->dropped + lost;

	msg->dropped = total > UINT32_MAX ? UINT32_MAX : (uint32_t)total;
	msg->flags |= IPC_MESSAGE_F_DROPPED;
}

bool backlog_push(struct backlog *b, const struct ipc_message *msg)
{
	uint64_t lost = 0;
	struct ipc_message *slot;

	if (backlog_full(b)) {
		/* The dropped one takes what it carried along with it. */
		lost = 1 + (uint64_t)b->slots[b->head].dropped;
		backlog_pop(b);
		b->overflowed++;
	}
	slot = &b->slots[(b->head + b->count) % b->capacity];
	*slot = *msg;
	b->count++;
	if (lost)
		carry_loss(backlog_head(b), lost);
	return lost != 0;
}
