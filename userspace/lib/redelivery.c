// SPDX-License-Identifier: MIT
#include "redelivery.h"

#include <errno.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

void redelivery_init(struct redelivery *q, void (*release)(void *cookie))
{
	memset(q, 0, sizeof(*q));
	q->release = release;
}

static int grow(struct redelivery *q)
{
	size_t size = q->size ? 2 * q->size : 16;
	struct redelivery_frame *ring = calloc(size, sizeof(*ring));

	if (!ring)
		return -ENOMEM;
	for (size_t i = 0; i < q->count; i++)
		ring[i] = q->queue[(q->head + i) % q->size];
	free(q->queue);
	q->queue = ring;
	q->head = 0;
	q->size = size;
	return 0;
}

int redelivery_push(struct redelivery *q, const void *bytes, size_t len,
		    void *cookie)
{
	return redelivery_push_part(q, bytes, len, 0, 1, cookie);
}

int redelivery_push_part(struct redelivery *q, const void *bytes, size_t len,
			 unsigned int index, unsigned int count, void *cookie)
{
	struct redelivery_frame *f;
	struct ipc_message msg;

	if (q->count == q->size && grow(q) < 0)
		return -ENOMEM;
	f = &q->queue[(q->head + q->count) % q->size];
	f->len = len < sizeof(f->bytes) ? len : sizeof(f->bytes);
	if (f->len)	/* an empty payload may have no data pointer at all */
		memcpy(f->bytes, bytes, f->len);
	f->led_state = ipc_message_decode(bytes, len, &msg) == IPC_MESSAGE_OK ?
		       msg.led_state : -1;
	f->batch_index = index;
	f->batch_count = count;
	f->cookie = cookie;
	q->count++;
	return 0;
}

/*
 * Whether @bytes is a valid frame identical to one pushed recently (a
 * repeated QoS 1 delivery); remembers it otherwise.
 */
static bool redelivery_seen(struct redelivery *q, const void *bytes,
			    size_t len)
{
	struct ipc_message msg;

	if (len != IPC_MESSAGE_SIZE ||
	    ipc_message_decode(bytes, len, &msg) != IPC_MESSAGE_OK)
		return false;
	for (unsigned int i = 0; i < q->recent_count; i++)
		if (!memcmp(q->recent[i], bytes, IPC_MESSAGE_SIZE))
			return true;
	memcpy(q->recent[q->recent_next], bytes, IPC_MESSAGE_SIZE);
	q->recent_next = (q->recent_next + 1) % REDELIVERY_RECENT;
	if (q->recent_count < REDELIVERY_RECENT)
		q->recent_count++;
	return false;
}

int redelivery_push_new(struct redelivery *q, const void *bytes, size_t len)
{
	if (redelivery_seen(q, bytes, len))
		return 1;
	return redelivery_push(q, bytes, len, NULL);
}

void redelivery_remember(struct redelivery *q, const void *bytes, size_t len)
{
	(void)redelivery_seen(q, bytes, len);
}

const struct redelivery_frame *redelivery_peek(const struct redelivery *q)
{
	return q->count ? &q->queue[q->head] : NULL;
}

ssize_t redelivery_pop(struct redelivery *q, uint8_t *buf, size_t size)
{
	struct redelivery_frame *f;
	size_t n;

	if (!q->count)
		return -EAGAIN;
	f = &q->queue[q->head];
	n = f->len < size ? f->len : size;
	memcpy(buf, f->bytes, n);
	q->delivered = *f;
	q->has_delivered = true;
	q->head = (q->head + 1) % q->size;
	q->count--;
	return (ssize_t)n;
}

bool redelivery_confirm(struct redelivery *q, struct redelivery_frame *ret)
{
	if (!q->has_delivered)
		return false;
	*ret = q->delivered;
	q->has_delivered = false;
	return true;
}

void redelivery_free(struct redelivery *q)
{
	if (q->release) {
		if (q->has_delivered)
			q->release(q->delivered.cookie);
		for (size_t i = 0; i < q->count; i++)
			q->release(q->queue[(q->head + i) % q->size].cookie);
	}
	free(q->queue);
	q->queue = NULL;
	q->count = q->size = 0;
	q->has_delivered = false;
}

void redelivery_window_init(struct redelivery_window *w)
{
	memset(w, 0, sizeof(*w));
	for (unsigned int i = 0; i < REDELIVERY_WINDOW; i++)
		w->slot[i].window = w;
}

struct redelivery_slot *redelivery_window_at(struct redelivery_window *w,
					     unsigned int i)
{
	return &w->slot[(w->head + i) % REDELIVERY_WINDOW];
}

struct redelivery_slot *redelivery_window_add(struct redelivery_window *w,
					      const uint8_t *frame, size_t len)
{
	struct redelivery_slot *s;

	if (w->count == REDELIVERY_WINDOW || len > sizeof(s->bytes))
		return NULL;
	s = redelivery_window_at(w, w->count++);
	memcpy(s->bytes, frame, len);
	s->len = len;
	s->state = REDELIVERY_WAITING;
	return s;
}

void redelivery_window_drop_last(struct redelivery_window *w)
{
	w->count--;
}

bool redelivery_window_may_send(const struct redelivery_window *w,
				const char *target)
{
	return !w->in_flight ||
	       (!w->resending && !strcmp(w->target, target));
}

void redelivery_window_sent(struct redelivery_slot *s, const char *target)
{
	struct redelivery_window *w = s->window;

	if (!w->in_flight)
		snprintf(w->target, sizeof(w->target), "%s", target);
	s->state = REDELIVERY_IN_FLIGHT;
	w->in_flight++;
}

bool redelivery_window_answered(struct redelivery_slot *s, bool again)
{
	struct redelivery_window *w = s->window;

	w->in_flight--;
	s->state = again ? REDELIVERY_WAITING : REDELIVERY_DONE;
	if (again)
		w->resending = true;
	while (w->count && redelivery_window_at(w, 0)->state == REDELIVERY_DONE) {
		w->head = (w->head + 1) % REDELIVERY_WINDOW;
		w->count--;
	}
	if (w->in_flight)
		return false;
	w->resending = false;
	return true;
}

bool redelivery_window_answered_batch(struct redelivery_slot *first,
				      unsigned int applied)
{
	struct redelivery_window *w = first->window;
	unsigned int at = (unsigned int)(first - w->slot), n = first->batch;
	bool idle = false;

	for (unsigned int i = 0; i < n; i++)
		idle = redelivery_window_answered(
			&w->slot[(at + i) % REDELIVERY_WINDOW], i >= applied);
	return idle;
}
