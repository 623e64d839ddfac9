// SPDX-License-Identifier: MIT
/*
 * mqtt: button and LED talk through an MQTT broker (mosquitto), across
 * hosts. Push, lossless while the broker keeps its state, in order: frames
 * go to ipc-button/<device>/event at QoS 1, a lone one bare, a run of them
 * as one batch (lib/frame_batch.h); the LED publishes its state to
 * ipc-button/<device>/led and its progress to .../applied
 * (lib/net_mqtt_report.h); both keep persistent sessions. Sender:
 * libmosquitto's thread, at most MQTT_WINDOW publications unacknowledged
 * and MQTT_AHEAD beyond the LED's progress (lib/net_mqtt_pub.h). Receiver:
 * no thread (lib/net_mqtt_loop.h); a message's PUBACK leaves once the LED
 * applied all its frames (lib/net_mqtt_frames.h). More in
 * docs/mechanisms/mqtt.md.
 */
#include "transport.h"

#include "../lib/deadline.h"
#include "../lib/message.h"
#include "../lib/net_addr.h"
#include "../lib/net_mqtt.h"
#include "../lib/net_mqtt_barrier.h"
#include "../lib/net_mqtt_frames.h"
#include "../lib/net_mqtt_loop.h"
#include "../lib/net_mqtt_pub.h"
#include "../lib/net_mqtt_report.h"
#include "../lib/pub_window.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

/* Told to the program at once (transport.h); most end no call. */
#define mqtt_notice(st, ...) transport_notice((st)->t, LOG_ERR, __VA_ARGS__)

/* Publications unacknowledged before TRANSPORT_FULL: few, so that frames
 * that come meanwhile wait and go together, TRANSPORT_BATCH_MAX at most. */
#define MQTT_WINDOW		4
/* Publications beyond the LED's progress before TRANSPORT_FULL: at most
 * what the broker holds for the LED, well below mosquitto's default of
 * 1000 (it drops the rest silently). docs/mechanisms/mqtt.md says why. */
#define MQTT_AHEAD		256
/* How long open() waits for the broker's answers. */
#define MQTT_OPEN_TIMEOUT_MS	10000
/* Sender reconnection (libmosquitto counts in seconds). */
#define MQTT_RECONNECT_MIN_S	1
#define MQTT_RECONNECT_MAX_S	8
/* How long closing drains the receiver's connection (net_mqtt_leave). */
#define MQTT_DRAIN_MS		1000
/* How long, after a stop, the LED waits for the broker's answer to its
 * barrier (lib/net_mqtt_barrier.h). */
#define MQTT_BARRIER_MS		1000

_Static_assert(TRANSPORT_BATCH_MAX <= FRAME_BATCH_MAX, "a batch per publish");
_Static_assert(MQTT_AHEAD >= 4 * NET_MQTT_REPORT_EVERY, "reports come in time");

static const struct transport_option mqtt_options[] = {
	{ "host", "localhost", "broker host name or address", NULL },
	{ "port", NULL, "broker port (default 1883, 8883 with TLS)", net_port_check },
	{ "device", NULL, "topic name of the button (default: the instance)", NULL },
	{ "client-id", NULL, "MQTT client id (default ipc-led|ipc-button-<host>-<instance>)", NULL },
	{ "keepalive", "30", "seconds between keep-alive pings", NULL },
	{ "ca", NULL, "CA certificate file: use TLS and verify the broker", NULL },
	{ "cert", NULL, "client certificate file (TLS)", NULL },
	{ "key", NULL, "client private key file (TLS)", NULL },
	{ "username", NULL, "user name for the broker", NULL },
	{ "password-file", NULL, "file whose first line is the password", NULL },
	{ "linger-ms", "2000", "sender: how long closing waits for the broker to acknowledge", NULL },
	{ NULL, NULL, NULL, NULL },
};

struct mqtt_state {
	struct transport *t;		/* for notices and t->rejected */
	struct mosquitto *mosq;
	struct net_mqtt_config cfg;
	int error;			/* fatal, sticky */
	/* sender; the network thread shares these under window.lock */
	struct pub_window window;	/* QoS 1 publications unacknowledged */
	struct net_mqtt_pub pub;	/* what publishes into it */
	bool answered;			/* the broker answered CONNECT once */
	bool connected;
	bool thread;			/* the network thread runs */
	/* receiver */
	struct net_mqtt_loop loop;	/* its connection, without a thread */
	struct net_mqtt_frames frames;
	bool subscribed;
	int sub_mid;
	bool stopping;			/* a stop signal ended a wait */
	struct net_mqtt_barrier barrier;	/* of a drain */
	struct net_mqtt_report report;	/* state and progress */
};

/* libmosquitto's own errors (TLS verification, ...) carry the details. */
static void mqtt_on_log(struct mosquitto *mosq, void *userdata, int level,
			const char *line)
{
	struct mqtt_state *st = ((struct transport *)userdata)->priv;

	(void)mosq;
	if (level & MOSQ_LOG_ERR)
		mqtt_notice(st, "mqtt: %s", line);
}

/* Refused CONNECT, or the connection lost: said the same way by both. */
static bool mqtt_connack_failed(struct mqtt_state *st, int rc)
{
	if (!rc)
		return false;
	mqtt_notice(st, "mqtt: %s refused the connection: %s", st->cfg.label,
		    mosquitto_connack_string(rc));
	st->error = net_mqtt_connack_errno(rc);
	return true;
}

static void mqtt_say_lost(struct mqtt_state *st, bool connected, int rc)
{
	if (connected && rc)
		mqtt_notice(st, "mqtt: lost the %s (%s); reconnecting", st->cfg.label,
			    mosquitto_strerror(rc));
}

/* --- sender ------------------------------------------------------------ */

static void mqtt_sender_on_connect(struct mosquitto *mosq, void *userdata,
				   int rc, int flags)
{
	struct mqtt_state *st = ((struct transport *)userdata)->priv;

	(void)flags;
	pthread_mutex_lock(&st->window.lock);
	st->answered = true;
	if (mqtt_connack_failed(st, rc))
		mosquitto_disconnect(mosq);	/* no more reconnections */
	else
		st->connected = true;
	pub_window_changed(&st->window);
	pthread_mutex_unlock(&st->window.lock);
	net_mqtt_cloexec(mosq);
	if (!rc && net_mqtt_pub_follow(&st->pub) != MOSQ_ERR_SUCCESS)
		mosquitto_disconnect(mosq);	/* reconnects, tries again */
}

static void mqtt_sender_on_subscribe(struct mosquitto *mosq, void *userdata,
				     int mid, int qos_count, const int *granted)
{
	struct mqtt_state *st = ((struct transport *)userdata)->priv;

	(void)mosq;
	if (net_mqtt_pub_refused(&st->pub, mid, qos_count, granted))
		mqtt_notice(st, "mqtt: the %s refused the subscription to %s: the button no longer waits for the LED, whose queue on the broker may overflow",
			    st->cfg.label, st->cfg.progress_topic);
}

static void mqtt_sender_on_message(struct mosquitto *mosq, void *userdata,
				   const struct mosquitto_message *m)
{
	struct mqtt_state *st = ((struct transport *)userdata)->priv;

	(void)mosq;
	(void)net_mqtt_pub_progress(&st->pub, m);
}

static void mqtt_sender_on_disconnect(struct mosquitto *mosq, void *userdata,
				      int rc)
{
	struct mqtt_state *st = ((struct transport *)userdata)->priv;

	(void)mosq;
	pthread_mutex_lock(&st->window.lock);
	mqtt_say_lost(st, st->connected, rc);
	st->connected = false;
	pub_window_changed(&st->window);
	pthread_mutex_unlock(&st->window.lock);
}

static void mqtt_on_publish(struct mosquitto *mosq, void *userdata, int mid)
{
	struct mqtt_state *st = ((struct transport *)userdata)->priv;

	(void)mosq, (void)mid;
	pub_window_acked(&st->window);
}

static bool mqtt_answered(void *ctx)
{
	return ((const struct mqtt_state *)ctx)->answered ||
	       ((const struct mqtt_state *)ctx)->error;
}

static int mqtt_open_sender(struct mqtt_state *st)
{
	static bool told;
	char why[512] = "";
	int r;

	r = pub_window_init(&st->window, MQTT_WINDOW, MQTT_AHEAD);
	if (r < 0)
		return r;
	st->pub = (struct net_mqtt_pub){ st->mosq, &st->window, st->cfg.event_topic,
					 st->cfg.progress_topic, &st->error, 0, 0 };
	mosquitto_connect_with_flags_callback_set(st->mosq, mqtt_sender_on_connect);
	mosquitto_disconnect_callback_set(st->mosq, mqtt_sender_on_disconnect);
	mosquitto_publish_callback_set(st->mosq, mqtt_on_publish);
	mosquitto_subscribe_callback_set(st->mosq, mqtt_sender_on_subscribe);
	mosquitto_message_callback_set(st->mosq, mqtt_sender_on_message);
	mosquitto_reconnect_delay_set(st->mosq, MQTT_RECONNECT_MIN_S,
				      MQTT_RECONNECT_MAX_S, true);
	/* Everything unacknowledged stays in flight: the window bounds it. */
	mosquitto_max_inflight_messages_set(st->mosq, MQTT_WINDOW);
	r = net_mqtt_pub_start(&st->pub, &st->cfg, mqtt_answered, st,
			       MQTT_OPEN_TIMEOUT_MS, &st->thread, why, sizeof(why));
	/* Unreachable: the broker may come up later, the caller retries. */
	if (r == 1 && !told)
		mqtt_notice(st, "mqtt: %s; waiting for it", why);
	else if (r < 0 && why[0])
		mqtt_notice(st, "mqtt: %s", why);
	told |= r == 1;
	return r == 1 ? TRANSPORT_ABSENT : r;
}

/* A run of frames as one publication (lib/net_mqtt_pub.h): how many. */
static int mqtt_send_many(struct transport *t, const uint8_t *frames,
			  size_t len, size_t count)
{
	struct mqtt_state *st = t->priv;
	int r = net_mqtt_pub_frames(&st->pub, frames, len, count);

	if (st->pub.last_rc != MOSQ_ERR_SUCCESS && r != -EAGAIN &&
	    r != -EMSGSIZE)
		mqtt_notice(st, "mqtt: publishing to %s: %s", st->cfg.event_topic,
			    net_mqtt_strerror(st->pub.last_rc));
	return r;
}

static int mqtt_send(struct transport *t, const uint8_t *frame, size_t len)
{
	int r = mqtt_send_many(t, frame, len, 1);

	return r < 0 ? r : 0;
}

static void mqtt_close_sender(struct mqtt_state *st)
{
	uint64_t unacked;

	if (st->thread) {
		unacked = net_mqtt_pub_linger(&st->pub, (int)st->cfg.linger_ms);
		if (unacked)
			mqtt_notice(st, "mqtt: %llu publication(s) not acknowledged by the %s when closing",
				    (unsigned long long)unacked, st->cfg.label);
		mosquitto_disconnect(st->mosq);
		mosquitto_loop_stop(st->mosq, false);
	}
	if (st->window.gate_fd >= 0)
		pub_window_destroy(&st->window);
}

/* --- receiver ---------------------------------------------------------- */

static void mqtt_receiver_on_connect(struct mosquitto *mosq, void *userdata,
				     int rc, int flags)
{
	struct mqtt_state *st = ((struct transport *)userdata)->priv;

	(void)flags;
	if (mqtt_connack_failed(st, rc))
		return;
	net_mqtt_loop_connected(&st->loop);
	/* The session may hold the subscription already; renew it anyway. */
	rc = mosquitto_subscribe(mosq, &st->sub_mid, st->cfg.event_topic, 1);
	if (rc != MOSQ_ERR_SUCCESS) {
		mqtt_notice(st, "mqtt: subscribing to %s: %s", st->cfg.event_topic,
			    net_mqtt_strerror(rc));
		st->error = net_mqtt_errno(rc);
	}
	net_mqtt_report_connected(&st->report);
	net_mqtt_report_send(&st->report, true, false);
}

static void mqtt_on_subscribe(struct mosquitto *mosq, void *userdata,
			      int mid, int qos_count, const int *granted)
{
	struct mqtt_state *st = ((struct transport *)userdata)->priv;

	(void)mosq;
	net_mqtt_barrier_answer(&st->barrier, mid);
	if (mid != st->sub_mid)
		return;
	if (qos_count < 1 || granted[0] > 2) {	/* 0x80: refused */
		mqtt_notice(st, "mqtt: the %s refused the subscription to %s",
			    st->cfg.label, st->cfg.event_topic);
		st->error = -EACCES;
		return;
	}
	st->subscribed = true;
}

static void mqtt_receiver_on_disconnect(struct mosquitto *mosq,
					void *userdata, int rc)
{
	struct mqtt_state *st = ((struct transport *)userdata)->priv;
	bool connected = st->loop.connected;

	(void)mosq;
	net_mqtt_loop_lost(&st->loop, rc);	/* first: it reads errno */
	mqtt_say_lost(st, connected, rc);
}

static void mqtt_on_message(struct mosquitto *mosq, void *userdata,
			    const struct mosquitto_message *m)
{
	struct mqtt_state *st = ((struct transport *)userdata)->priv;
	int r = net_mqtt_frames_take(&st->frames, m, st->cfg.event_topic);

	(void)mosq;
	if (r == -EBADMSG)	/* not ours (a stale subscription), or a */
		st->t->rejected++;	/* malformed batch */
	else if (r < 0)
		st->error = r;
}

static bool mqtt_subscribed(void *ctx)
{
	return ((const struct mqtt_state *)ctx)->subscribed ||
	       ((const struct mqtt_state *)ctx)->error;
}

/* Ready means subscribed: from now on the broker keeps our events. */
static int mqtt_open_receiver(struct mqtt_state *st, char *why, size_t size)
{
	int r;

	mosquitto_connect_with_flags_callback_set(st->mosq, mqtt_receiver_on_connect);
	mosquitto_disconnect_callback_set(st->mosq, mqtt_receiver_on_disconnect);
	mosquitto_subscribe_callback_set(st->mosq, mqtt_on_subscribe);
	mosquitto_message_callback_set(st->mosq, mqtt_on_message);
	r = transport_object_path(st->t, why, size);
	r = r ? r : net_mqtt_frames_restore(&st->frames, why);
	if (r < 0)
		mqtt_notice(st, "mqtt: reading what the last LED applied: %s", strerror(-r));
	why[0] = '\0';
	net_mqtt_report_init(&st->report, st->mosq, &st->cfg);
	r = net_mqtt_loop_init(&st->loop, st->mosq, &st->cfg, &st->error);
	if (r == 0)
		r = net_mqtt_loop_open(&st->loop, mqtt_subscribed, st,
				       MQTT_OPEN_TIMEOUT_MS, why, size);
	return r < 0 ? r : st->error;
}

/* The frame returned last was applied. Once all of its message are, send
 * the PUBACK (it waits in libmosquitto's queue), the state and, now and
 * then, the progress, in the same flush. */
static void mqtt_confirm(struct mqtt_state *st)
{
	int led_state;
	int64_t seqno;
	bool whole = net_mqtt_frames_confirm(&st->frames, &led_state, &seqno);

	net_mqtt_report_applied(&st->report, led_state, seqno, whole);
	if (!whole)
		return;
	net_mqtt_report_send(&st->report, st->loop.connected, false);
	/* A failure shows at the next read: on_disconnect, reconnection. */
	(void)net_mqtt_loop_flush(&st->loop);
}

static ssize_t mqtt_receive(struct transport *t, uint8_t *buf, size_t size,
			    int timeout_ms)
{
	struct mqtt_state *st = t->priv;
	struct deadline end;
	ssize_t n;
	int r;

	deadline_start(&end, timeout_ms);
	mqtt_confirm(st);
	for (;;) {
		n = redelivery_pop(&st->frames.queue, buf, size);
		if (n >= 0) {
			net_mqtt_barrier_due(&st->barrier);
			r = net_mqtt_loop_arm(&st->loop,
					      redelivery_busy(&st->frames.queue));
			return r < 0 ? r : n;
		}
		if (st->error)
			return st->error;
		/* Draining: the barrier (lib/net_mqtt_barrier.h) decides. */
		if (st->stopping && timeout_ms == 0 &&
		    net_mqtt_barrier_step(&st->barrier, &st->loop,
					  st->cfg.event_topic, MQTT_BARRIER_MS))
			r = net_mqtt_loop_wait(&st->loop, false,
					       deadline_left_ms(&st->barrier.end));
		else
			r = net_mqtt_loop_wait(&st->loop,
					       redelivery_busy(&st->frames.queue),
					       deadline_left_ms(&end));
		if (r == -EINTR && !st->stopping) {
			st->stopping = true;	/* drain() comes next */
			net_mqtt_barrier_due(&st->barrier);
		}
		if (r == -ETIMEDOUT && st->barrier.out)
			continue;	/* net_mqtt_barrier_step() ends it */
		if (r < 0)
			return r;	/* -ETIMEDOUT, -EINTR */
		net_mqtt_loop_service(&st->loop);
	}
}

/* --- the transport ----------------------------------------------------- */

static void mqtt_close(struct transport *t)
{
	struct mqtt_state *st = t->priv;
	char path[PATH_MAX];
	int r;

	if (t->role == TRANSPORT_SENDER)
		mqtt_close_sender(st);
	if (t->role == TRANSPORT_RECEIVER && st->mosq && st->loop.connected) {
		mqtt_confirm(st);	/* stopped in a batch: no PUBACK for it */
		net_mqtt_report_send(&st->report, true, true);
		r = transport_object_path(t, path, sizeof(path));
		r = net_mqtt_frames_leave(&st->frames, st->mosq, r ? NULL : path,
					  MQTT_DRAIN_MS);
		if (r < 0)
			mqtt_notice(st, "mqtt: cannot keep what was applied of a batch (%s): the next LED applies it again",
				    strerror(-r));
	}
	if (st->frames.duplicates)
		mqtt_notice(st, "mqtt: skipped %llu repeated deliveries",
			    (unsigned long long)st->frames.duplicates);
	net_mqtt_frames_free(&st->frames);
	net_mqtt_loop_free(&st->loop);
	mosquitto_destroy(st->mosq);
	free(st);
	t->priv = NULL;
}

static const char *mqtt_option(void *t, const char *key)
{
	return transport_option(t, key);
}

static int mqtt_open(struct transport *t)
{
	const char *instance = t->config->instance ? t->config->instance : "0";
	bool sender = t->role == TRANSPORT_SENDER;
	struct mqtt_state *st;
	char why[512] = "";
	int r;

	st = calloc(1, sizeof(*st));
	if (!st)
		return -ENOMEM;
	t->priv = st;
	st->window.gate_fd = -1;
	st->t = t;
	net_mqtt_frames_init(&st->frames);
	r = net_mqtt_parse(mqtt_option, t, instance, sender, &st->cfg, why,
			   sizeof(why));
	if (r == 0)
		r = net_mqtt_new(&st->cfg, t, &st->mosq, why, sizeof(why));
	if (r == 0) {
		mosquitto_log_callback_set(st->mosq, mqtt_on_log);
		r = sender ? mqtt_open_sender(st) :
			     mqtt_open_receiver(st, why, sizeof(why));
	}
	if (why[0])
		mqtt_notice(st, "mqtt: %s", why);
	if (r < 0)
		mqtt_close(t);
	return r;
}

static int mqtt_poll_fd(struct transport *t)
{
	struct mqtt_state *st = t->priv;

	return st->loop.ready ? net_mqtt_loop_fd(&st->loop) :
				pub_window_fd(&st->window);
}

static const struct transport_ops mqtt_ops = {
	.name = "mqtt",
	.summary = "MQTT through a broker (libmosquitto), QoS 1, persistent sessions",
	.flags = TRANSPORT_LOSSLESS | TRANSPORT_PUSH | TRANSPORT_NETWORK |
		 TRANSPORT_DURABLE,
	.options = mqtt_options,
	.open = mqtt_open,
	.send = mqtt_send,
	.send_many = mqtt_send_many,
	.receive = mqtt_receive,
	.poll_fd = mqtt_poll_fd,
	.close = mqtt_close,
};

TRANSPORT_REGISTER(mqtt_ops);
