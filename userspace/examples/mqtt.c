// SPDX-License-Identifier: MIT
/*
 * MQTT (libmosquitto) through a broker (options host= and port=, default
 * localhost:1883): the sender publishes the 8-byte value at QoS 1 (its
 * network thread takes the acknowledgements); the receiver subscribed at
 * QoS 1 and runs the client loop until a message arrived. Clean sessions,
 * no retained state, no reconnection.
 */
#include "lesson.h"

#include <errno.h>
#include <mosquitto.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

struct mqtt_state {
	struct mosquitto *mosq;
	char topic[96];
	bool subscribed;
	bool have;
	uint64_t value;
};

static void on_subscribe(struct mosquitto *m, void *arg, int mid, int n,
			 const int *qos)
{
	struct mqtt_state *st = arg;

	(void)m, (void)mid, (void)n, (void)qos;
	st->subscribed = true;
}

static void on_message(struct mosquitto *m, void *arg,
		       const struct mosquitto_message *msg)
{
	struct mqtt_state *st = arg;

	(void)m;
	if (msg->payloadlen == sizeof(st->value)) {
		memcpy(&st->value, msg->payload, sizeof(st->value));
		st->have = true;
	}
}

static int mqtt_open(struct lesson *l)
{
	const char *host = lesson_option(l, "host");
	int port = lesson_port(l, 1883), r;
	struct mqtt_state *st = l->priv;

	if (port < 0)
		return port;
	snprintf(st->topic, sizeof(st->topic), "ipc-lesson/%s/press", l->instance);
	if (mosquitto_lib_init() != MOSQ_ERR_SUCCESS)
		return -ENOMEM;
	st->mosq = mosquitto_new(NULL, true, st);	/* clean session */
	if (!st->mosq) {
		r = -ENOMEM;
		goto err_cleanup;
	}
	mosquitto_subscribe_callback_set(st->mosq, on_subscribe);
	mosquitto_message_callback_set(st->mosq, on_message);
	/* lesson-excerpt: begin */
	r = mosquitto_connect(st->mosq, host ? host : "localhost", port, 30);
	if (r == MOSQ_ERR_ERRNO) {
		r = -errno;	/* ECONNREFUSED: no broker there */
		goto err_destroy;
	}
	if (r == MOSQ_ERR_SUCCESS && l->receiver) {
		/* QoS 1: the broker keeps a message until we acknowledge it. */
		r = mosquitto_subscribe(st->mosq, NULL, st->topic, 1);
		while (r == MOSQ_ERR_SUCCESS && !st->subscribed)
			r = mosquitto_loop(st->mosq, 5000, 1);
	} else if (r == MOSQ_ERR_SUCCESS) {
		/* A thread of the library sends and takes the acknowledgements. */
		r = mosquitto_loop_start(st->mosq);
	}
	/* lesson-excerpt: end */
	if (r != MOSQ_ERR_SUCCESS) {
		r = -ECONNREFUSED;
		goto err_destroy;
	}
	return 0;
err_destroy:
	mosquitto_destroy(st->mosq);
err_cleanup:
	mosquitto_lib_cleanup();
	return r;
}

/* lesson-excerpt: begin */
static int mqtt_send(struct lesson *l, uint64_t value)
{
	struct mqtt_state *st = l->priv;

	return mosquitto_publish(st->mosq, NULL, st->topic, sizeof(value), &value,
				 1, false) == MOSQ_ERR_SUCCESS ? 0 : -EPIPE;
}

static int mqtt_receive(struct lesson *l, uint64_t *value, int timeout_ms)
{
	struct mqtt_state *st = l->priv;
	struct timespec now, end;

	clock_gettime(CLOCK_MONOTONIC, &end);
	end.tv_sec += timeout_ms / 1000;
	end.tv_nsec += (long)(timeout_ms % 1000) * 1000000;
	/* One loop handles one packet, not necessarily a message: go on. */
	while (!st->have) {
		int left = -1, r;

		if (timeout_ms >= 0) {
			clock_gettime(CLOCK_MONOTONIC, &now);
			left = (end.tv_sec - now.tv_sec) * 1000 +
			       (end.tv_nsec - now.tv_nsec) / 1000000;
			if (left <= 0)
				return -ETIMEDOUT;
		}
		r = mosquitto_loop(st->mosq, left, 1);
		if (r != MOSQ_ERR_SUCCESS)
			return -EPIPE;
	}
	st->have = false;
	*value = st->value;
	return 0;
}
/* lesson-excerpt: end */

static void mqtt_close(struct lesson *l)
{
	struct mqtt_state *st = l->priv;

	mosquitto_disconnect(st->mosq);
	if (!l->receiver)
		mosquitto_loop_stop(st->mosq, false);
	mosquitto_destroy(st->mosq);
	mosquitto_lib_cleanup();
}

static const struct lesson_ops lesson_mqtt = {
	.name = "mqtt",
	.state_size = sizeof(struct mqtt_state),
	.needs = "an MQTT broker on localhost:1883 (mosquitto) or host=NAME port=N",
	.open = mqtt_open,
	.send = mqtt_send,
	.receive = mqtt_receive,
	.close = mqtt_close,
};
LESSON_REGISTER(lesson_mqtt);
