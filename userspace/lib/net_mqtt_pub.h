/* SPDX-License-Identifier: MIT */
/*
 * An MQTT sender's publications: frames published at QoS 1 through
 * libmosquitto, each publication counted in the window (lib/pub_window.h)
 * until the broker acknowledges it. A lone frame is published bare; a run
 * of frames goes as one publication (lib/frame_batch.h), so the broker and
 * the receiver handle one message, not one per frame. Nothing here prints.
 */
#ifndef IPC_NET_MQTT_PUB_H
#define IPC_NET_MQTT_PUB_H

#include "pub_window.h"

#include <mosquitto.h>
#include <stddef.h>
#include <stdint.h>

struct net_mqtt_pub {
	struct mosquitto *mosq;
	struct pub_window *window;
	const char *topic;
	const int *error;	/* the caller's sticky error, under w->lock */
	int last_rc;		/* libmosquitto's code of the last failure */
};

/*
 * Publish @count (1..FRAME_BATCH_MAX) frames of @len bytes from @frames as
 * one publication: how many (all of them), -EAGAIN (the window is full or
 * no connection: keep them, retry when the window's fd is writable),
 * -EMSGSIZE, the sticky error, or another negative errno (p->last_rc says
 * which of libmosquitto's, for the caller to tell).
 */
int net_mqtt_pub_frames(struct net_mqtt_pub *p, const uint8_t *frames,
			size_t len, size_t count);

#endif /* IPC_NET_MQTT_PUB_H */
