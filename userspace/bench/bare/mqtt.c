// SPDX-License-Identifier: MIT
/*
 * Bare MQTT (libmosquitto) through the broker of options host= and port=:
 * the sender publishes the 8-byte value at QoS 1 (its network thread takes
 * the acknowledgements); the receiver subscribed at QoS 1 and runs the
 * client loop until a message arrived. Clean sessions, no retained state,
 * no reconnection.
 */
#include "bare.h"

#include "../endpoint.h"

#include <errno.h>
#include <mosquitto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct mqtt_bare {
	struct mosquitto *mosq;
	char topic[96];
	bool subscribed;
	bool have;
	uint64_t value;
};

static void on_subscribe(struct mosquitto *m, void *arg, int mid, int n,
			 const int *qos)
{
	struct mqtt_bare *q = arg;

	(void)m, (void)mid, (void)n, (void)qos;
	q->subscribed = true;
}

static void on_message(struct mosquitto *m, void *arg,
		       const struct mosquitto_message *msg)
{
	struct mqtt_bare *q = arg;

	(void)m;
	if (msg->payloadlen == sizeof(q->value)) {
		memcpy(&q->value, msg->payload, sizeof(q->value));
		q->have = true;
	}
}

static int mqtt_open(struct bare *b)
{
	const char *host = option_value(b->options, "host");
	struct mqtt_bare *q = calloc(1, sizeof(*q));
	int r;

	if (!q)
		return -ENOMEM;
	mosquitto_lib_init();
	snprintf(q->topic, sizeof(q->topic), "ipc-bench/%s/value", b->instance);
	q->mosq = mosquitto_new(NULL, true, q);
	if (!q->mosq) {
		free(q);
		return -ENOMEM;
	}
	mosquitto_subscribe_callback_set(q->mosq, on_subscribe);
	mosquitto_message_callback_set(q->mosq, on_message);
	r = mosquitto_connect(q->mosq, host ? host : "localhost",
			      bare_port(b, 1883), 30);
	if (r == MOSQ_ERR_SUCCESS && b->receiver) {
		r = mosquitto_subscribe(q->mosq, NULL, q->topic, 1);
		while (r == MOSQ_ERR_SUCCESS && !q->subscribed)
			r = mosquitto_loop(q->mosq, 5000, 1);
	} else if (r == MOSQ_ERR_SUCCESS) {
		r = mosquitto_loop_start(q->mosq);
	}
	if (r != MOSQ_ERR_SUCCESS) {
		mosquitto_destroy(q->mosq);
		free(q);
		return -ECONNREFUSED;
	}
	b->priv = q;
	return 0;
}

static int mqtt_send(struct bare *b, uint64_t value)
{
	struct mqtt_bare *q = b->priv;

	return mosquitto_publish(q->mosq, NULL, q->topic, sizeof(value), &value,
				 1, false) == MOSQ_ERR_SUCCESS ? 0 : -EPIPE;
}

static int mqtt_receive(struct bare *b, uint64_t *value, int timeout_ms)
{
	struct mqtt_bare *q = b->priv;

	while (!q->have) {
		int r = mosquitto_loop(q->mosq, timeout_ms, 1);

		if (r != MOSQ_ERR_SUCCESS)
			return -EPIPE;
		if (!q->have && timeout_ms >= 0)
			return -ETIMEDOUT;
	}
	q->have = false;
	*value = q->value;
	return 0;
}

static void mqtt_close(struct bare *b)
{
	struct mqtt_bare *q = b->priv;

	mosquitto_disconnect(q->mosq);
	if (!b->receiver)
		mosquitto_loop_stop(q->mosq, false);
	mosquitto_destroy(q->mosq);
	mosquitto_lib_cleanup();
	free(q);
}

static const struct bare_ops bare_mqtt = {
	.name = "mqtt",
	.open = mqtt_open,
	.send = mqtt_send,
	.receive = mqtt_receive,
	.close = mqtt_close,
};
BARE_REGISTER(bare_mqtt);
