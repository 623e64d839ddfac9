// SPDX-License-Identifier: MIT
#include "net_mqtt_frames.h"

#include "frame_file.h"
#include "net_mqtt.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>

void net_mqtt_frames_init(struct net_mqtt_frames *f)
{
	redelivery_init(&f->queue, NULL);
	f->duplicates = 0;
	f->applied_count = 0;
}

void net_mqtt_frames_free(struct net_mqtt_frames *f)
{
	redelivery_free(&f->queue);
}

int net_mqtt_frames_push(struct net_mqtt_frames *f, const void *payload,
			 size_t len)
{
	const uint8_t *frame = payload;
	size_t count = 1, flen = len;
	int r;

	if (frame_batch_is_batch(payload, len)) {
		if (frame_batch_decode(payload, len, &count, &flen) < 0)
			return -EBADMSG;
		frame += FRAME_BATCH_HEADER;
	}
	for (size_t i = 0; i < count; i++) {
		r = redelivery_push_new(&f->queue, frame + i * flen, flen);
		if (r < 0)
			return r;
		f->duplicates += (uint64_t)r;
	}
	return 0;
}

int net_mqtt_frames_take(struct net_mqtt_frames *f,
			 const struct mosquitto_message *m, const char *topic)
{
	if (strcmp(m->topic, topic))
		return -EBADMSG;
	return net_mqtt_frames_push(f, m->payload,
				    m->payloadlen > 0 ? (size_t)m->payloadlen : 0);
}

bool net_mqtt_frames_confirm(struct net_mqtt_frames *f, int *ret_led_state,
			     int64_t *ret_seqno)
{
	struct redelivery_frame done;
	struct ipc_message msg;

	*ret_led_state = -1;
	*ret_seqno = -1;
	if (!redelivery_confirm(&f->queue, &done))
		return false;
	*ret_led_state = done.led_state;
	if (done.led_state >= 0 &&
	    ipc_message_decode(done.bytes, done.len, &msg) == IPC_MESSAGE_OK)
		*ret_seqno = msg.seqno;
	if (done.led_state >= 0 && done.len == IPC_MESSAGE_SIZE &&
	    f->applied_count < FRAME_BATCH_MAX)
		memcpy(f->applied[f->applied_count++], done.bytes, done.len);
	/* The next message is read only once every frame of this one was
	 * handed out: an empty queue means the whole message was applied. */
	if (f->queue.count)
		return false;
	f->applied_count = 0;
	return true;
}

/* The object's path and ".applied". */
static int applied_path(const char *object, char *buf, size_t size)
{
	int n = snprintf(buf, size, "%s.applied", object);

	return n < 0 || (size_t)n >= size ? -ENAMETOOLONG : 0;
}

int net_mqtt_frames_save(const struct net_mqtt_frames *f, const char *object)
{
	char path[PATH_MAX];
	int r;

	if (!f->applied_count)
		return 0;
	r = applied_path(object, path, sizeof(path));
	return r < 0 ? r : frame_file_save(path,
		(const uint8_t (*)[IPC_MESSAGE_SIZE])f->applied, f->applied_count);
}

int net_mqtt_frames_restore(struct net_mqtt_frames *f, const char *object)
{
	uint8_t frames[FRAME_BATCH_MAX][IPC_MESSAGE_SIZE];
	char path[PATH_MAX];
	ssize_t n = applied_path(object, path, sizeof(path));

	if (n == 0)
		n = frame_file_take(path, frames, FRAME_BATCH_MAX);

	for (ssize_t i = 0; i < n; i++)
		redelivery_remember(&f->queue, frames[i], IPC_MESSAGE_SIZE);
	return n < 0 ? (int)n : 0;
}

int net_mqtt_frames_leave(struct net_mqtt_frames *f, struct mosquitto *mosq,
			  const char *object, int drain_ms)
{
	if (!net_mqtt_frames_partial(f)) {
		net_mqtt_leave(mosq, drain_ms);
		return 0;
	}
	/* No DISCONNECT either: the queued PUBACK would go with it. */
	return object ? net_mqtt_frames_save(f, object) : -ENAMETOOLONG;
}
