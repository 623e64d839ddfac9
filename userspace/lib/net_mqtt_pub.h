/* SPDX-License-Identifier: MIT */
/*
 * An MQTT sender's publications: frames published at QoS 1 through
 * libmosquitto, each publication counted in the window (lib/pub_window.h)
 * until the broker acknowledges it. A lone frame is published bare; a run
 * of frames goes as one publication (lib/frame_batch.h), so the broker and
 * the receiver handle one message, not one per frame. Nothing here prints.
 *
 * End-to-end flow control: the receiver reports the seqno of the last
 * frame it applied (net_mqtt_progress_payload(), retained on its progress
 * topic); the sender subscribes to it and never has more than the
 * window's "ahead" bound of publications beyond the last report, so the
 * broker never queues more for the receiver than that, whatever its
 * acknowledgements say.
 */
#ifndef IPC_NET_MQTT_PUB_H
#define IPC_NET_MQTT_PUB_H

#include "net_mqtt.h"
#include "pub_window.h"

#include <mosquitto.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct net_mqtt_pub {
	struct mosquitto *mosq;
	struct pub_window *window;
	const char *topic;
	const char *progress_topic;	/* the receiver's reports */
	const int *error;	/* the caller's sticky error, under w->lock */
	int last_rc;		/* libmosquitto's code of the last failure */
	int progress_mid;	/* the subscription to progress_topic */
};

/*
 * Connect to the broker of @c, start the network thread and wait at most
 * @timeout_ms until @answered(@ctx) (under the window's lock; the caller's
 * connect callback makes it true). 0, or the caller's sticky error; 1 when
 * the broker cannot be reached (yet); -ETIMEDOUT or another negative
 * errno. @why (of @size bytes) says what went wrong, when something did
 * and the sticky error does not say it. *@thread: the thread runs.
 */
int net_mqtt_pub_start(struct net_mqtt_pub *p, const struct net_mqtt_config *c,
		       bool (*answered)(void *ctx), void *ctx, int timeout_ms,
		       bool *thread, char *why, size_t size);

/*
 * Publish @count (1..FRAME_BATCH_MAX) frames of @len bytes from @frames as
 * one publication: how many (all of them), -EAGAIN (the window is full or
 * no connection: keep them, retry when the window's fd is writable),
 * -EMSGSIZE, the sticky error, or another negative errno (p->last_rc says
 * which of libmosquitto's, for the caller to tell).
 */
int net_mqtt_pub_frames(struct net_mqtt_pub *p, const uint8_t *frames,
			size_t len, size_t count);

/*
 * From the connect callback, on each connection (the retained report
 * comes with the subscription): MOSQ_ERR_*.
 */
int net_mqtt_pub_follow(struct net_mqtt_pub *p);
/*
 * From the subscribe callback: true when it refused the subscription to
 * the reports (the broker's ACL). Then no report can come, and the
 * window's bound beyond the receiver's progress is off for good.
 */
bool net_mqtt_pub_refused(struct net_mqtt_pub *p, int mid, int qos_count,
			  const int *granted);
/*
 * Closing: wait until the broker acknowledged every publication, or the
 * sticky error, at most @ms. How many are still unacknowledged.
 */
uint64_t net_mqtt_pub_linger(struct net_mqtt_pub *p, int ms);

/*
 * From the network thread's message callback: a report on the progress
 * topic moves the window (pub_window_progress()). False when @m is not
 * one (another topic, or a payload that is not a seqno): ignored.
 */
bool net_mqtt_pub_progress(struct net_mqtt_pub *p,
			   const struct mosquitto_message *m);

/* A receiver's report of @seqno, as text (a dashboard reads it too):
 * its length, in @buf of at least NET_MQTT_PROGRESS_MAX bytes. */
#define NET_MQTT_PROGRESS_MAX	12
int net_mqtt_progress_payload(uint32_t seqno, char *buf);

#endif /* IPC_NET_MQTT_PUB_H */
