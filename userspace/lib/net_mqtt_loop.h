/* SPDX-License-Identifier: MIT */
/*
 * libmosquitto's client loop without its network thread, for a receiver
 * that decides when its acknowledgements leave: each round sends what is
 * queued, reads at most one packet, keeps the connection alive and, after
 * a lost connection, reconnects once the back-off allows. One fd to poll
 * (lib/ready_set.h) says when the next round is due. A frame read in one
 * round has its PUBACK queued, not sent: the next round, or
 * net_mqtt_loop_flush(), sends it, once the caller applied the frame.
 */
#ifndef IPC_NET_MQTT_LOOP_H
#define IPC_NET_MQTT_LOOP_H

#include "backoff.h"
#include "net_mqtt.h"
#include "ready_set.h"

#include <mosquitto.h>
#include <stdbool.h>

struct net_mqtt_loop {
	struct mosquitto *mosq;
	const struct net_mqtt_config *cfg;
	struct ready_set *ready;
	struct backoff backoff;		/* reconnection */
	const int *error;		/* the caller's sticky error: once set,
					 * no more reconnections */
	bool connected;			/* the broker accepted us */
	int last_rc, last_errno;	/* why the last connection ended */
	unsigned int unwaited;		/* waits since a stop was let in */
};

/* Waits at most between two looks at a pending stop signal. */
#define NET_MQTT_LOOP_STOP_CHECK	16

/*
 * For @mosq, to the broker of @cfg; @error is the caller's sticky error.
 * Both must outlive @l. 0 or a negative errno.
 */
int net_mqtt_loop_init(struct net_mqtt_loop *l, struct mosquitto *mosq,
		       const struct net_mqtt_config *cfg, const int *error);
/* Accepts a zeroed @l that was never initialised. */
void net_mqtt_loop_free(struct net_mqtt_loop *l);
int net_mqtt_loop_fd(const struct net_mqtt_loop *l);

/*
 * Connect, then run rounds until @ready(@ctx) is true (say: the caller's
 * subscription is acknowledged, or its error set), at most @timeout_ms.
 * 0, or a negative errno with @why (of @size bytes) saying what went
 * wrong: an unknown host, a broker that refused or closed the first
 * connection (with a hint at the options), no answer in time.
 */
int net_mqtt_loop_open(struct net_mqtt_loop *l, bool (*ready)(void *ctx),
		       void *ctx, int timeout_ms, char *why, size_t size);

/* From the connect callback, when the broker accepted the connection. */
void net_mqtt_loop_connected(struct net_mqtt_loop *l);
/* From the disconnect callback (@rc: its MOSQ_ERR_*): reconnect later. */
void net_mqtt_loop_lost(struct net_mqtt_loop *l, int rc);

/* Send what libmosquitto queued (acknowledgements, pings); MOSQ_ERR_*. */
int net_mqtt_loop_flush(struct net_mqtt_loop *l);
/* One round, without waiting. */
void net_mqtt_loop_service(struct net_mqtt_loop *l);
/*
 * Point the fd at what the next round needs, marked readable while
 * @pending (the caller holds work the socket does not show), and wait up
 * to @timeout_ms with the stop signals let in (also every
 * NET_MQTT_LOOP_STOP_CHECK calls when the socket is always ready): 0,
 * -ETIMEDOUT or -EINTR.
 */
int net_mqtt_loop_wait(struct net_mqtt_loop *l, bool pending, int timeout_ms);
/* Only point the fd (the caller polls it): 0 or a negative errno. */
int net_mqtt_loop_arm(struct net_mqtt_loop *l, bool pending);

#endif /* IPC_NET_MQTT_LOOP_H */
