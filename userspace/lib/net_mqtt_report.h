/* SPDX-License-Identifier: MIT */
/*
 * What an MQTT receiver (the LED) tells the others, both retained at QoS 0
 * (never waiting in libmosquitto's queue; the next connection repeats it):
 * the LED state it applied, on the state topic, for dashboards; and its
 * progress, the seqno of the last frame it applied, on the progress topic,
 * which the sender follows to stay a bounded number of publications ahead
 * (lib/net_mqtt_pub.h). The progress goes after every
 * NET_MQTT_REPORT_EVERY whole messages applied, on each connection, and
 * when closing: a sender's bound must be well above that, so that what
 * was applied and not reported yet never holds it back. Nothing prints.
 */
#ifndef IPC_NET_MQTT_REPORT_H
#define IPC_NET_MQTT_REPORT_H

#include "net_mqtt.h"

#include <mosquitto.h>
#include <stdbool.h>
#include <stdint.h>

/* Whole messages applied between two progress reports. */
#define NET_MQTT_REPORT_EVERY	32

struct net_mqtt_report {
	struct mosquitto *mosq;
	const struct net_mqtt_config *cfg;
	int led_state;			/* applied last; -1: none yet */
	bool state_due;
	uint32_t applied;		/* seqno of the last frame applied */
	bool have_applied, progress_due;
	unsigned int unreported;	/* whole messages since the report */
};

void net_mqtt_report_init(struct net_mqtt_report *r, struct mosquitto *mosq,
			  const struct net_mqtt_config *cfg);
/*
 * A frame was applied (@led_state, @seqno: -1 when it was not a valid
 * frame); @whole: it was the last of its message.
 */
void net_mqtt_report_applied(struct net_mqtt_report *r, int led_state,
			     int64_t seqno, bool whole);
/* A new connection: say both again. */
void net_mqtt_report_connected(struct net_mqtt_report *r);
/*
 * Queue what is due (@connected: else keep it for later); @all: the
 * progress too when some is unreported (closing). The caller's next write
 * sends it.
 */
void net_mqtt_report_send(struct net_mqtt_report *r, bool connected, bool all);

#endif /* IPC_NET_MQTT_REPORT_H */
