/* SPDX-License-Identifier: MIT */
/*
 * At-least-once delivery on the receiving side of the bus transports
 * (dbus, mqtt): a frame is acknowledged to whoever keeps it for us (the
 * D-Bus caller's reply, the MQTT broker's PUBACK) only once the program
 * asks for the next frame, that is once it has applied this one. A
 * receiver killed in between has acknowledged nothing, so the sender or
 * the broker delivers the frame again to the next receiver.
 *
 * struct redelivery holds the frames that arrived and are not returned yet
 * (a queue that grows as needed: the senders' windows bound it, not us),
 * the one returned and not yet confirmed, and a short memory of recent
 * valid frames to recognise a repeated delivery. Each frame carries a
 * @cookie, the mechanism's handle for acknowledging it (an sd-bus message
 * to reply to), released through the @release callback.
 */
#ifndef IPC_REDELIVERY_H
#define IPC_REDELIVERY_H

#include "message.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* Valid frames remembered to recognise a repeated delivery. */
#define REDELIVERY_RECENT	128

struct redelivery_frame {
	uint8_t bytes[IPC_MESSAGE_MAX_WIRE];
	size_t len;		/* as received, at most sizeof(bytes) */
	int led_state;		/* of a valid frame; -1: not valid */
	void *cookie;
};

struct redelivery {
	struct redelivery_frame *queue;	/* a ring, oldest at head */
	size_t head, count, size;
	struct redelivery_frame delivered;
	bool has_delivered;		/* returned, not confirmed yet */
	uint8_t recent[REDELIVERY_RECENT][IPC_MESSAGE_SIZE];
	unsigned int recent_next, recent_count;
	void (*release)(void *cookie);	/* NULL: cookies need none */
};

void redelivery_init(struct redelivery *q, void (*release)(void *cookie));

/*
 * Queue @len bytes (longer than any frame: the first sizeof(bytes), enough
 * for the caller to see it is too long) with @cookie. 0 or -ENOMEM.
 */
int redelivery_push(struct redelivery *q, const void *bytes, size_t len,
		    void *cookie);

/*
 * Whether @bytes is a valid frame identical to one pushed recently (a
 * repeated QoS 1 delivery); remembers it otherwise.
 */
bool redelivery_seen(struct redelivery *q, const void *bytes, size_t len);

/*
 * Copy the oldest frame into @buf and keep it as the delivered one until
 * redelivery_confirm(). Its length (at most @size), or -EAGAIN when none.
 */
ssize_t redelivery_pop(struct redelivery *q, uint8_t *buf, size_t size);

/*
 * The delivered frame was applied: move it into *@ret for the mechanism to
 * acknowledge (it then owns the cookie). False when there is none.
 */
bool redelivery_confirm(struct redelivery *q, struct redelivery_frame *ret);

/* Frames waiting, or one delivered and not confirmed: receive() has work. */
static inline bool redelivery_busy(const struct redelivery *q)
{
	return q->count || q->has_delivered;
}

/* Release every cookie (unconfirmed frames are never acknowledged). */
void redelivery_free(struct redelivery *q);

#endif /* IPC_REDELIVERY_H */
