/* SPDX-License-Identifier: MIT */
/*
 * At-least-once delivery for the bus transports (dbus, mqtt).
 *
 * Receiving side: a frame is acknowledged to whoever keeps it for us (the
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
	/* Its place in the message that brought it (1 of 1: alone). */
	unsigned int batch_index, batch_count;
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
 * As redelivery_push(), for frame @index (from 0) of the @count that one
 * message brought, kept with the frame: the mechanism answers the message
 * once its last frame is confirmed (or says how many were, when stopped).
 */
int redelivery_push_part(struct redelivery *q, const void *bytes, size_t len,
			 unsigned int index, unsigned int count, void *cookie);

/*
 * A delivery of an at-least-once protocol (MQTT QoS 1): queue it without a
 * cookie, unless it is a valid frame identical to one pushed recently (a
 * repeat after a reconnection). Every other payload, however broken, is
 * queued for the caller to validate. 0 queued, 1 skipped, or -ENOMEM.
 */
int redelivery_push_new(struct redelivery *q, const void *bytes, size_t len);

/*
 * Remember a valid frame as if pushed (a previous receiver applied it):
 * redelivery_push_new() then skips it when it comes again.
 */
void redelivery_remember(struct redelivery *q, const void *bytes, size_t len);

/* The oldest frame waiting, or NULL. */
const struct redelivery_frame *redelivery_peek(const struct redelivery *q);

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

/*
 * Sending side (dbus; libmosquitto keeps its own): a window of frames, each
 * kept until the receiver answers for it. A frame waits, goes out (in
 * flight), and is done when confirmed or refused as invalid; one that the
 * receiver could not take (it left) waits again, and the window holds
 * back new calls until every answer of that batch came, so that frames
 * reach the next receiver in order. Answers come in order, so the done
 * frames always form a prefix and leave the window from its head.
 */
/* Frames kept: room for the calls in flight to carry whole batches. */
#define REDELIVERY_WINDOW	1024
/* Room for the name of a receiver (a D-Bus name is at most 255 bytes). */
#define REDELIVERY_TARGET_MAX	256

enum redelivery_slot_state {
	REDELIVERY_WAITING,
	REDELIVERY_IN_FLIGHT,
	REDELIVERY_DONE,
};

struct redelivery_slot {
	uint8_t bytes[IPC_MESSAGE_MAX_WIRE];
	size_t len;
	enum redelivery_slot_state state;
	unsigned int batch;	/* frames of the call that starts here */
	struct redelivery_window *window;
};

struct redelivery_window {
	struct redelivery_slot slot[REDELIVERY_WINDOW];	/* a ring */
	unsigned int head, count, in_flight;
	bool resending;		/* an answer said "again": hold back */
	char target[REDELIVERY_TARGET_MAX];	/* where those in flight went */
};

void redelivery_window_init(struct redelivery_window *w);

/* The @i-th oldest frame kept, 0 <= @i < w->count. */
struct redelivery_slot *redelivery_window_at(struct redelivery_window *w,
					     unsigned int i);

/* Keep a copy of @frame (at most IPC_MESSAGE_MAX_WIRE bytes); NULL if full. */
struct redelivery_slot *redelivery_window_add(struct redelivery_window *w,
					      const uint8_t *frame, size_t len);

/* Forget @s, the last one added, which never left: the caller keeps it. */
void redelivery_window_drop_last(struct redelivery_window *w);

/*
 * Whether frames may go out to @target now: nothing is in flight, or all
 * that is went to @target and no answer of the batch said "again".
 * Otherwise those answers must come first, or frames could overtake
 * each other on their way to a new receiver.
 */
bool redelivery_window_may_send(const struct redelivery_window *w,
				const char *target);

/* @s went out to @target. */
void redelivery_window_sent(struct redelivery_slot *s, const char *target);

/*
 * The answer for @s came: @again when the frame must go out again (the
 * receiver left), else it is done. True when nothing is in flight any
 * more (so a new batch, possibly to a new receiver, may start).
 */
bool redelivery_window_answered(struct redelivery_slot *s, bool again);

/*
 * @first went out with the next frames as one call of first->batch
 * frames (the window counts frames, not calls): the answer says the
 * receiver applied the first @applied of them; the rest must go again.
 * As redelivery_window_answered() for each frame, in order.
 */
bool redelivery_window_answered_batch(struct redelivery_slot *first,
				      unsigned int applied);

#endif /* IPC_REDELIVERY_H */
