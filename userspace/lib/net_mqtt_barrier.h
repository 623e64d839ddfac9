/* SPDX-License-Identifier: MIT */
/*
 * The barrier of a stopping MQTT receiver's drain. After a stop, "what is
 * already queued" is what the broker already routed to us, and some of it
 * may still be on its way: the sender's PUBACK can overtake the PUBLISH to
 * us, so a sender that just ended may have frames we never saw. A broker
 * answers one client's packets in order, so once the answer to a request
 * sent now arrives, everything it had queued for us before has arrived
 * too. The request is the subscription again (idempotent; MQTT 3.1.1 has
 * no ping for a client to send). While it is out, frames that arrive are
 * handed out one message at a time, as ever. A new barrier follows while
 * the last one brought frames: their PUBACKs let the broker send what it
 * held back beyond our in-flight window. Nothing here prints.
 */
#ifndef IPC_NET_MQTT_BARRIER_H
#define IPC_NET_MQTT_BARRIER_H

#include "deadline.h"
#include "net_mqtt_loop.h"

#include <stdbool.h>

struct net_mqtt_barrier {
	bool due;		/* frames handed out since the last one */
	bool out;		/* sent, and waited for */
	bool answered;
	int mid;
	struct deadline end;
};

/* Frames were handed out: the drain needs a barrier after them. */
static inline void net_mqtt_barrier_due(struct net_mqtt_barrier *b)
{
	b->due = true;
}

/* From the subscribe callback: the answer to @mid. */
void net_mqtt_barrier_answer(struct net_mqtt_barrier *b, int mid);

/*
 * The next step of the drain on @l, subscribing to @topic again: 1, wait
 * for the answer (at most @wait_ms after it was sent: deadline_left_ms(
 * &b->end)); 0, the drain is over (nothing more came, no connection, or
 * no answer in time).
 */
int net_mqtt_barrier_step(struct net_mqtt_barrier *b, struct net_mqtt_loop *l,
			  const char *topic, int wait_ms);

#endif /* IPC_NET_MQTT_BARRIER_H */
