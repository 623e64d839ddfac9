// SPDX-License-Identifier: MIT
#include "net_mqtt_barrier.h"

void net_mqtt_barrier_answer(struct net_mqtt_barrier *b, int mid)
{
	if (b->out && mid == b->mid)
		b->answered = true;
}

int net_mqtt_barrier_step(struct net_mqtt_barrier *b, struct net_mqtt_loop *l,
			  const char *topic, int wait_ms)
{
	if (b->out) {
		if (b->answered)
			b->out = false;
		else if (!l->connected || deadline_left_ms(&b->end) == 0)
			return 0;
		else
			return 1;
	}
	if (!b->due || !l->connected)
		return 0;
	b->due = false;
	b->answered = false;
	if (mosquitto_subscribe(l->mosq, &b->mid, topic, 1) != MOSQ_ERR_SUCCESS)
		return 0;
	b->out = true;
	deadline_start(&b->end, wait_ms);
	return 1;
}
