// SPDX-License-Identifier: MIT
#include "net_mqtt_pub.h"

#include "frame_batch.h"
#include "message.h"
#include "net_mqtt.h"

#include <errno.h>

/* One publication of @len bytes: 0 or as net_mqtt_pub_frames(). */
static int publish(struct net_mqtt_pub *p, const void *payload, size_t len)
{
	struct pub_window *w = p->window;
	int rc, r = 0;

	pthread_mutex_lock(&w->lock);
	if (*p->error) {
		r = *p->error;
	} else if (!pub_window_take(w)) {
		r = -EAGAIN;
	} else {
		/* Not under the lock: the network thread takes it to count
		 * an acknowledgement, which may come before this returns. */
		pthread_mutex_unlock(&w->lock);
		rc = mosquitto_publish(p->mosq, NULL, p->topic, (int)len,
				       payload, 1, false);
		pthread_mutex_lock(&w->lock);
		if (rc != MOSQ_ERR_SUCCESS) {
			pub_window_untake(w);
			p->last_rc = rc;
		}
		r = rc == MOSQ_ERR_NO_CONN ? -EAGAIN :
		    rc == MOSQ_ERR_OVERSIZE_PACKET ? -EMSGSIZE :
		    net_mqtt_errno(rc);
	}
	pthread_mutex_unlock(&w->lock);
	return r;
}

int net_mqtt_pub_frames(struct net_mqtt_pub *p, const uint8_t *frames,
			size_t len, size_t count)
{
	uint8_t batch[FRAME_BATCH_HEADER + FRAME_BATCH_MAX * IPC_MESSAGE_SIZE];
	int n, r;

	p->last_rc = MOSQ_ERR_SUCCESS;
	if (len > IPC_MESSAGE_MAX_WIRE || count > FRAME_BATCH_MAX)
		return -EMSGSIZE;
	/* Alone, or of an odd size (the caller's test of the receiver's
	 * checks): one bare frame per publication. */
	if (count == 1 || len > IPC_MESSAGE_SIZE) {
		r = publish(p, frames, len);
		return r < 0 ? r : 1;
	}
	n = frame_batch_encode(frames, len, count, batch, sizeof(batch));
	r = n < 0 ? n : publish(p, batch, (size_t)n);
	return r < 0 ? r : (int)count;
}
