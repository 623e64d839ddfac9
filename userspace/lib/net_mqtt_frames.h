/* SPDX-License-Identifier: MIT */
/*
 * The frames an MQTT receiver takes out of the messages it is delivered:
 * a lone frame, or a batch of them (lib/frame_batch.h), queued in order
 * for receive() to hand out one by one (lib/redelivery.h), skipping a
 * frame delivered again (QoS 1 is "at least once"). A message is
 * acknowledged as a whole, so its PUBACK may leave only once the last of
 * its frames was applied; the frames of it already applied are kept, to
 * be left to the next receiver when this one stops in the middle.
 */
#ifndef IPC_NET_MQTT_FRAMES_H
#define IPC_NET_MQTT_FRAMES_H

#include "frame_batch.h"
#include "message.h"
#include "redelivery.h"

#include <mosquitto.h>

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct net_mqtt_frames {
	struct redelivery queue;
	uint64_t duplicates;		/* frames skipped as delivered again */
	/* valid frames of the message being handed out, applied */
	uint8_t applied[FRAME_BATCH_MAX][IPC_MESSAGE_SIZE];
	size_t applied_count;
};

void net_mqtt_frames_init(struct net_mqtt_frames *f);
void net_mqtt_frames_free(struct net_mqtt_frames *f);

/*
 * Queue the frames of a message of @len bytes: 0; -EBADMSG for a
 * malformed batch (nothing queued: its frames cannot be told apart);
 * -ENOMEM.
 */
int net_mqtt_frames_push(struct net_mqtt_frames *f, const void *payload,
			 size_t len);

/* As net_mqtt_frames_push() for message @m: -EBADMSG too when it did not
 * come on @topic (a stale subscription). */
int net_mqtt_frames_take(struct net_mqtt_frames *f,
			 const struct mosquitto_message *m, const char *topic);

/*
 * The frame handed out last was applied: *@ret_led_state gets the state
 * it set and *@ret_seqno its seqno (-1 both: not a valid frame, or none).
 * True when it was the last of its message (or the only one): its PUBACK
 * may leave.
 */
bool net_mqtt_frames_confirm(struct net_mqtt_frames *f, int *ret_led_state,
			     int64_t *ret_seqno);

/* Frames of a message not handed out yet: stopped in the middle of it. */
static inline bool net_mqtt_frames_partial(const struct net_mqtt_frames *f)
{
	return f->queue.count > 0;
}

/*
 * Save the frames of the current message already applied (none: nothing
 * written) in "@object.applied" (@object: the transport's object path),
 * for net_mqtt_frames_restore() in the next receiver. 0 or -errno.
 */
int net_mqtt_frames_save(const struct net_mqtt_frames *f, const char *object);
/* Skip, when delivered again, what "@object.applied" says a receiver
 * applied; remove it. 0 (also when there is none) or a negative errno. */
int net_mqtt_frames_restore(struct net_mqtt_frames *f, const char *object);

/*
 * Closing: leave the broker cleanly (net_mqtt_leave), unless stopped in
 * the middle of a message, whose PUBACK must not leave: then save what of
 * it was applied (net_mqtt_frames_save(); @object NULL: cannot) and leave
 * without a word, so that the broker delivers the whole message again to
 * the next receiver of the session. 0 or the negative errno of saving.
 */
int net_mqtt_frames_leave(struct net_mqtt_frames *f, struct mosquitto *mosq,
			  const char *object, int drain_ms);

#endif /* IPC_NET_MQTT_FRAMES_H */
