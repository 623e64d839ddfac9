// SPDX-License-Identifier: MIT
#include "net_mqtt_report.h"

#include "net_mqtt_pub.h"

void net_mqtt_report_init(struct net_mqtt_report *r, struct mosquitto *mosq,
			  const struct net_mqtt_config *cfg)
{
	*r = (struct net_mqtt_report){ .mosq = mosq, .cfg = cfg, .led_state = -1 };
}

void net_mqtt_report_applied(struct net_mqtt_report *r, int led_state,
			     int64_t seqno, bool whole)
{
	if (led_state >= 0 && led_state != r->led_state) {
		r->led_state = led_state;
		r->state_due = true;
	}
	if (seqno >= 0) {
		r->applied = (uint32_t)seqno;
		r->have_applied = true;
	}
	if (whole && ++r->unreported >= NET_MQTT_REPORT_EVERY)
		r->progress_due = r->have_applied;
}

void net_mqtt_report_connected(struct net_mqtt_report *r)
{
	r->state_due = true;
	r->progress_due = r->have_applied;
}

static bool publish(struct net_mqtt_report *r, const char *topic,
		    const char *payload, int len)
{
	return mosquitto_publish(r->mosq, NULL, topic, len, payload, 0,
				 true) == MOSQ_ERR_SUCCESS;
}

void net_mqtt_report_send(struct net_mqtt_report *r, bool connected, bool all)
{
	char text[NET_MQTT_PROGRESS_MAX];

	if (!connected)
		return;
	if (r->state_due && r->led_state >= 0 &&
	    publish(r, r->cfg->state_topic, r->led_state ? "1" : "0", 1))
		r->state_due = false;
	if (all && r->unreported && r->have_applied)
		r->progress_due = true;
	if (r->progress_due &&
	    publish(r, r->cfg->progress_topic, text,
		    net_mqtt_progress_payload(r->applied, text))) {
		r->progress_due = false;
		r->unreported = 0;
	}
}
