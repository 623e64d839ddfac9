// SPDX-License-Identifier: MIT
/*
 * mqtt: button and LED talk through an MQTT broker (mosquitto), so they can
 * run on different hosts, and any number of LEDs can follow one button.
 *
 * Push, lossless while the broker keeps its state (QoS 1, persistent
 * sessions, broker persistence), in order. For device D (option "device",
 * default: the instance), every frame goes to ipc-button/D/event (QoS 1,
 * not retained) and the LED publishes the state it applied to
 * ipc-button/D/led ("0"/"1", retained). Both sides connect with
 * clean_session false and a fixed client id (ipc-led|ipc-button-<host>-
 * <instance>, or option client-id): the broker keeps the LED's
 * subscription and queues its events while it is away. The broker must
 * keep enough for an absent LED (max_queued_messages) and persist.
 *
 * Sender: libmosquitto's thread reconnects and sends again what the broker
 * did not acknowledge; send() publishes at once, with up to MQTT_WINDOW
 * frames unacknowledged (TRANSPORT_FULL beyond; poll_fd() turns writable when
 * acknowledgements free room). Closing waits up to linger-ms for them.
 * Receiver: no thread. receive() reads one packet at a time and returns
 * each frame as soon as read; its PUBACK waits in libmosquitto until the
 * next receive(), once the LED applied it (lib/redelivery.h), so an LED
 * killed at any moment loses nothing. It reconnects with a back-off and
 * skips repeated deliveries (QoS 1 is "at least once"). Its poll_fd() is a
 * ready set: the socket, a mark while a frame awaits its acknowledgement,
 * and a deadline for keep-alive and reconnection.
 *
 * Nothing on the local file system. Security: TLS 1.3 (option "ca", with
 * "cert"/"key"), username and a password read from "password-file" (never
 * the command line); the broker's ACLs decide who may use which topics.
 */
#include "transport.h"

#include "../lib/deadline.h"
#include "../lib/message.h"
#include "../lib/backoff.h"
#include "../lib/net_addr.h"
#include "../lib/net_mqtt.h"
#include "../lib/ready_set.h"
#include "../lib/redelivery.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

/* Told to the program at once (transport.h); most end no call. */
#define mqtt_notice(st, ...) transport_notice((st)->t, LOG_ERR, __VA_ARGS__)

/* Frames a sender keeps unacknowledged before TRANSPORT_FULL. */
#define MQTT_WINDOW		64
/* How long open() waits for the broker's answers. */
#define MQTT_OPEN_TIMEOUT_MS	10000
/* Receiver reconnection: first pause, then doubling up to the maximum. */
#define MQTT_BACKOFF_MIN_MS	100
#define MQTT_BACKOFF_MAX_MS	5000
/* Sender reconnection (libmosquitto counts in seconds). */
#define MQTT_RECONNECT_MIN_S	1
#define MQTT_RECONNECT_MAX_S	8
/* How long closing drains the receiver's connection (net_mqtt_leave). */
#define MQTT_DRAIN_MS		1000

static const struct transport_option mqtt_options[] = {
	{ "host", "localhost", "broker host name or address", NULL },
	{ "port", NULL, "broker port (default 1883, 8883 with TLS)", net_port_check },
	{ "device", NULL, "topic name of the button (default: the instance)", NULL },
	{ "client-id", NULL,
	  "MQTT client id (default ipc-led|ipc-button-<host>-<instance>)", NULL },
	{ "keepalive", "30", "seconds between keep-alive pings", NULL },
	{ "ca", NULL, "CA certificate file: use TLS and verify the broker", NULL },
	{ "cert", NULL, "client certificate file (TLS)", NULL },
	{ "key", NULL, "client private key file (TLS)", NULL },
	{ "username", NULL, "user name for the broker", NULL },
	{ "password-file", NULL, "file whose first line is the password", NULL },
	{ "linger-ms", "2000",
	  "sender: how long closing waits for the broker to acknowledge", NULL },
	{ NULL, NULL, NULL, NULL },
};

struct mqtt_state {
	struct transport *t;		/* for notices and t->rejected */
	struct mosquitto *mosq;
	struct net_mqtt_config cfg;
	/* sender; the network thread shares these under the lock */
	pthread_mutex_t lock;
	pthread_cond_t changed;		/* connected, acknowledged, failed */
	uint64_t published, acked;	/* QoS 1 publications and PUBACKs */
	bool answered;			/* the broker answered CONNECT once */
	int gate_fd;			/* eventfd, see mqtt_gate() */
	bool gate_closed;
	bool thread;			/* the network thread runs */
	/* both */
	bool connected;
	int error;			/* fatal, sticky */
	/* receiver */
	struct redelivery frames;
	struct ready_set *ready;
	struct backoff backoff;	/* reconnection */
	bool subscribed;
	int sub_mid;
	int last_rc, last_errno;	/* why the last connection ended */
	int led_state;			/* state published; -1: none yet */
	bool state_dirty;		/* to publish at the next chance */
	uint64_t duplicates;
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

static void mqtt_say_lost(struct mqtt_state *st, int rc)
{
	if (st->connected && rc)
		mqtt_notice(st, "mqtt: lost the %s (%s); reconnecting", st->cfg.label,
			    mosquitto_strerror(rc));
	st->connected = false;
}

/* --- sender ------------------------------------------------------------ */

/*
 * The sender's poll_fd: an eventfd that is writable while the window has
 * room. A counter of 0xfffffffffffffffe is the largest an eventfd holds,
 * and makes it not writable; reading resets it to 0, writable again.
 */
static void mqtt_gate(struct mqtt_state *st, bool open)
{
	uint64_t v = 0xfffffffffffffffeULL;

	if (open == !st->gate_closed)
		return;
	if (open)
		(void)!read(st->gate_fd, &v, sizeof(v));
	else
		(void)!write(st->gate_fd, &v, sizeof(v));
	st->gate_closed = !open;
}

static void mqtt_sender_on_connect(struct mosquitto *mosq, void *userdata,
				   int rc, int flags)
{
	struct mqtt_state *st = ((struct transport *)userdata)->priv;

	(void)flags;
	pthread_mutex_lock(&st->lock);
	st->answered = true;
	if (mqtt_connack_failed(st, rc))
		mosquitto_disconnect(mosq);	/* no more reconnections */
	else
		st->connected = true;
	pthread_cond_broadcast(&st->changed);
	pthread_mutex_unlock(&st->lock);
	net_mqtt_cloexec(mosq);
}

static void mqtt_sender_on_disconnect(struct mosquitto *mosq, void *userdata,
				      int rc)
{
	struct mqtt_state *st = ((struct transport *)userdata)->priv;

	(void)mosq;
	pthread_mutex_lock(&st->lock);
	mqtt_say_lost(st, rc);
	pthread_cond_broadcast(&st->changed);
	pthread_mutex_unlock(&st->lock);
}

static void mqtt_on_publish(struct mosquitto *mosq, void *userdata, int mid)
{
	struct mqtt_state *st = ((struct transport *)userdata)->priv;

	(void)mosq;
	(void)mid;
	pthread_mutex_lock(&st->lock);
	st->acked++;
	if (st->published - st->acked < MQTT_WINDOW)
		mqtt_gate(st, true);
	pthread_cond_broadcast(&st->changed);
	pthread_mutex_unlock(&st->lock);
}

/* Wait for @done (under the lock) up to @timeout_ms; false on timeout. */
static bool mqtt_wait_until(struct mqtt_state *st,
			    bool (*done)(const struct mqtt_state *),
			    int timeout_ms)
{
	struct deadline end;
	struct timespec ts;

	deadline_start(&end, timeout_ms);
	ts = deadline_end_timespec(&end);
	while (!done(st))
		if (pthread_cond_timedwait(&st->changed, &st->lock, &ts) == ETIMEDOUT)
			return done(st);
	return true;
}

static bool mqtt_answered(const struct mqtt_state *st)
{
	return st->answered || st->error;
}

static bool mqtt_all_acked(const struct mqtt_state *st)
{
	return st->published == st->acked || st->error;
}

static int mqtt_open_sender(struct mqtt_state *st)
{
	pthread_condattr_t attr;
	sigset_t all, old;
	int rc, r;

	st->gate_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (st->gate_fd < 0)
		return -errno;
	pthread_mutex_init(&st->lock, NULL);
	pthread_condattr_init(&attr);
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	pthread_cond_init(&st->changed, &attr);
	pthread_condattr_destroy(&attr);
	mosquitto_connect_with_flags_callback_set(st->mosq, mqtt_sender_on_connect);
	mosquitto_disconnect_callback_set(st->mosq, mqtt_sender_on_disconnect);
	mosquitto_publish_callback_set(st->mosq, mqtt_on_publish);
	mosquitto_reconnect_delay_set(st->mosq, MQTT_RECONNECT_MIN_S,
				      MQTT_RECONNECT_MAX_S, true);
	/* Everything unacknowledged stays in flight: the window bounds it. */
	mosquitto_max_inflight_messages_set(st->mosq, MQTT_WINDOW);

	rc = mosquitto_connect(st->mosq, st->cfg.host, st->cfg.port,
			       st->cfg.keepalive);
	if (rc != MOSQ_ERR_SUCCESS) {
		/* The broker may come up later: the caller retries the open. */
		static bool told;

		r = net_mqtt_errno(rc);
		if (r != -ECONNREFUSED && r != -EHOSTUNREACH && r != -ENETUNREACH &&
		    r != -ETIMEDOUT && r != -ENOENT) {
			mqtt_notice(st, "mqtt: connecting to the %s: %s",
				    st->cfg.label, net_mqtt_strerror(rc));
			return r;
		}
		if (!told)
			mqtt_notice(st, "mqtt: cannot reach the %s: %s; waiting for it",
				    st->cfg.label, net_mqtt_strerror(rc));
		told = true;
		return TRANSPORT_ABSENT;
	}
	net_mqtt_cloexec(st->mosq);

	/* The network thread must never take the stop signals. */
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	rc = mosquitto_loop_start(st->mosq);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc != MOSQ_ERR_SUCCESS)
		return net_mqtt_errno(rc);
	st->thread = true;

	pthread_mutex_lock(&st->lock);
	if (!mqtt_wait_until(st, mqtt_answered, MQTT_OPEN_TIMEOUT_MS)) {
		mqtt_notice(st, "mqtt: the %s did not answer within %d s",
			    st->cfg.label, MQTT_OPEN_TIMEOUT_MS / 1000);
		r = -ETIMEDOUT;
	} else {
		r = st->error;
	}
	pthread_mutex_unlock(&st->lock);
	return r;
}

static int mqtt_send(struct transport *t, const uint8_t *frame, size_t len)
{
	struct mqtt_state *st = t->priv;
	int rc, r = 0;

	if (len > IPC_MESSAGE_MAX_WIRE)
		return -EMSGSIZE;
	pthread_mutex_lock(&st->lock);
	if (st->error) {
		r = st->error;
	} else if (st->published - st->acked >= MQTT_WINDOW) {
		mqtt_gate(st, false);
		r = TRANSPORT_FULL;
	} else {
		/*
		 * Counted before the call: the network thread may see the
		 * PUBACK before mosquitto_publish() returns.
		 */
		st->published++;
		pthread_mutex_unlock(&st->lock);
		rc = mosquitto_publish(st->mosq, NULL, st->cfg.event_topic,
				       (int)len, frame, 1, false);
		pthread_mutex_lock(&st->lock);
		if (rc != MOSQ_ERR_SUCCESS)
			st->published--;
		if (rc == MOSQ_ERR_NO_CONN)
			r = TRANSPORT_FULL;
		else if (rc == MOSQ_ERR_OVERSIZE_PACKET)
			r = -EMSGSIZE;
		else if (rc != MOSQ_ERR_SUCCESS)
			mqtt_notice(st, "mqtt: publishing to %s: %s",
				    st->cfg.event_topic, net_mqtt_strerror(rc));
		if (r == 0)
			r = net_mqtt_errno(rc);
	}
	pthread_mutex_unlock(&st->lock);
	return r;
}

static void mqtt_close_sender(struct mqtt_state *st)
{
	uint64_t unacked;

	if (st->thread) {
		pthread_mutex_lock(&st->lock);
		mqtt_wait_until(st, mqtt_all_acked, (int)st->cfg.linger_ms);
		unacked = st->published - st->acked;
		pthread_mutex_unlock(&st->lock);
		if (unacked)
			mqtt_notice(st, "mqtt: %llu frame(s) not acknowledged by the %s when closing",
				    (unsigned long long)unacked, st->cfg.label);
		mosquitto_disconnect(st->mosq);
		mosquitto_loop_stop(st->mosq, false);
	}
	if (st->gate_fd >= 0) {
		close(st->gate_fd);
		pthread_cond_destroy(&st->changed);
		pthread_mutex_destroy(&st->lock);
	}
}

/* --- receiver ---------------------------------------------------------- */

/* QoS 0: never waits in libmosquitto's queue; the next connection repeats it. */
static void mqtt_publish_state(struct mqtt_state *st)
{
	char payload[2];

	if (!st->state_dirty || !st->connected || st->led_state < 0)
		return;
	payload[0] = st->led_state ? '1' : '0';
	if (mosquitto_publish(st->mosq, NULL, st->cfg.state_topic, 1, payload,
			      0, true) == MOSQ_ERR_SUCCESS)
		st->state_dirty = false;
}

static void mqtt_receiver_on_connect(struct mosquitto *mosq, void *userdata,
				     int rc, int flags)
{
	struct mqtt_state *st = ((struct transport *)userdata)->priv;

	(void)flags;
	if (mqtt_connack_failed(st, rc))
		return;
	st->connected = true;
	backoff_reset(&st->backoff);
	/* The session may hold the subscription already; renew it anyway. */
	rc = mosquitto_subscribe(mosq, &st->sub_mid, st->cfg.event_topic, 1);
	if (rc != MOSQ_ERR_SUCCESS) {
		mqtt_notice(st, "mqtt: subscribing to %s: %s", st->cfg.event_topic,
			    net_mqtt_strerror(rc));
		st->error = net_mqtt_errno(rc);
	}
	st->state_dirty = true;
	mqtt_publish_state(st);
}

static void mqtt_on_subscribe(struct mosquitto *mosq, void *userdata,
			      int mid, int qos_count, const int *granted)
{
	struct mqtt_state *st = ((struct transport *)userdata)->priv;

	(void)mosq;
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

/* The connection is gone: never watch its socket's number again. */
static void mqtt_schedule_reconnect(struct mqtt_state *st)
{
	st->connected = false;
	(void)ready_set_watch(st->ready, -1, 0);
	if (!st->error)
		backoff_fail(&st->backoff, monotonic_ns());
}

static void mqtt_receiver_on_disconnect(struct mosquitto *mosq,
					void *userdata, int rc)
{
	struct mqtt_state *st = ((struct transport *)userdata)->priv;

	(void)mosq;
	mqtt_say_lost(st, rc);
	st->last_rc = rc;
	st->last_errno = rc == MOSQ_ERR_ERRNO ? errno : 0;
	mqtt_schedule_reconnect(st);
}

static void mqtt_on_message(struct mosquitto *mosq, void *userdata,
			    const struct mosquitto_message *m)
{
	struct transport *t = userdata;
	struct mqtt_state *st = t->priv;
	size_t len = m->payloadlen > 0 ? (size_t)m->payloadlen : 0;

	(void)mosq;
	if (strcmp(m->topic, st->cfg.event_topic)) {
		st->t->rejected++;	/* not ours: a stale subscription */
		return;
	}
	/*
	 * A valid frame identical to one returned recently is the broker
	 * delivering it again (QoS 1 after a reconnection): skip it. Every
	 * other payload, however broken, goes to the caller to validate.
	 */
	if (redelivery_seen(&st->frames, m->payload, len)) {
		st->duplicates++;
		return;
	}
	if (redelivery_push(&st->frames, m->payload, len, NULL) < 0)
		st->error = -ENOMEM;
}

/* Send what libmosquitto queued: acknowledgements, pings, the state. */
static int mqtt_flush(struct mqtt_state *st)
{
	if (mosquitto_socket(st->mosq) < 0 || !mosquitto_want_write(st->mosq))
		return MOSQ_ERR_SUCCESS;
	return mosquitto_loop_write(st->mosq, 1);
}

/*
 * One round of libmosquitto's work, without waiting: send what is queued,
 * read at most one packet, keep the connection alive, and reconnect when
 * the back-off allows. A frame read now has its PUBACK queued, not sent:
 * the next round (the caller applied the frame by then) sends it.
 */
static void mqtt_service(struct mqtt_state *st)
{
	bool due = !backoff_active(&st->backoff, monotonic_ns());
	int rc;

	if (!st->connected && mosquitto_socket(st->mosq) < 0) {
		if (!due)
			return;
		rc = mosquitto_reconnect_async(st->mosq);
		if (rc != MOSQ_ERR_SUCCESS) {
			mqtt_schedule_reconnect(st);
			return;
		}
		net_mqtt_cloexec(st->mosq);
	}
	rc = mqtt_flush(st);
	if (rc == MOSQ_ERR_SUCCESS && mosquitto_socket(st->mosq) >= 0)
		rc = mosquitto_loop_read(st->mosq, 1);
	if (rc == MOSQ_ERR_SUCCESS && mosquitto_socket(st->mosq) >= 0)
		rc = mosquitto_loop_misc(st->mosq);
	/* A connection that failed before on_disconnect could run. */
	if (rc != MOSQ_ERR_SUCCESS && mosquitto_socket(st->mosq) < 0 &&
	    !backoff_active(&st->backoff, monotonic_ns()) && !st->error)
		mqtt_schedule_reconnect(st);
}

/* Point the ready set at what the next service round needs. */
static int mqtt_arm(struct mqtt_state *st)
{
	int fd = mosquitto_socket(st->mosq);
	uint64_t when;
	int r;

	r = ready_set_watch(st->ready, fd, (short)(POLLIN |
			    (fd >= 0 && mosquitto_want_write(st->mosq) ? POLLOUT : 0)));
	if (r < 0)
		return r;
	if (fd < 0)
		when = backoff_active(&st->backoff, monotonic_ns()) ?
		       st->backoff.until_ns : monotonic_ns();
	else	/* keep-alive: libmosquitto pings when it is due */
		when = monotonic_ns() + (uint64_t)st->cfg.keepalive * 500000000ULL;
	r = ready_set_deadline(st->ready, when);
	if (r >= 0)
		r = ready_set_mark(st->ready, redelivery_busy(&st->frames));
	return r;
}

/* Ready means subscribed: from now on the broker keeps our events. */
static int mqtt_open_receiver(struct mqtt_state *st)
{
	struct deadline end;
	bool closed;
	int rc, r;

	mosquitto_connect_with_flags_callback_set(st->mosq, mqtt_receiver_on_connect);
	mosquitto_disconnect_callback_set(st->mosq, mqtt_receiver_on_disconnect);
	mosquitto_subscribe_callback_set(st->mosq, mqtt_on_subscribe);
	mosquitto_message_callback_set(st->mosq, mqtt_on_message);
	/*
	 * Not for threads: in this mode libmosquitto queues what it sends
	 * (the PUBACK of each frame included) until mosquitto_loop_write(),
	 * which receive() calls only once the caller applied the frame.
	 */
	mosquitto_threaded_set(st->mosq, true);
	rc = mosquitto_connect_async(st->mosq, st->cfg.host, st->cfg.port,
				     st->cfg.keepalive);
	if (rc == MOSQ_ERR_EAI) {
		mqtt_notice(st, "mqtt: cannot resolve the broker's host name '%s'",
			    st->cfg.host);
		return -EHOSTUNREACH;
	}
	if (rc != MOSQ_ERR_SUCCESS) {
		mqtt_notice(st, "mqtt: cannot connect to the %s: %s%s", st->cfg.label,
			    net_mqtt_strerror(rc),
			    net_mqtt_errno(rc) == -ECONNREFUSED ?
			    " (is the broker running? options host=, port=)" : "");
		return net_mqtt_errno(rc);
	}
	net_mqtt_cloexec(st->mosq);
	deadline_start(&end, MQTT_OPEN_TIMEOUT_MS);
	while (!st->subscribed && !st->error) {
		if (deadline_left_ns(&end) == 0) {
			mqtt_notice(st, "mqtt: no answer from the %s within %d s",
				    st->cfg.label, MQTT_OPEN_TIMEOUT_MS / 1000);
			return -ETIMEDOUT;
		}
		if (!st->connected && st->backoff.until_ns) {
			/* Refused, or closed before any answer (TLS?). */
			closed = st->last_rc == MOSQ_ERR_CONN_LOST;
			mqtt_notice(st, "mqtt: cannot connect to the %s: %s (%s)",
				    st->cfg.label, closed ? "it closed the connection" :
				    st->last_errno ? strerror(st->last_errno) :
				    mosquitto_strerror(st->last_rc),
				    closed ? "TLS expected? options ca=, port=" :
				    "is the broker running? options host=, port=");
			return st->last_errno ? -st->last_errno : -ECONNREFUSED;
		}
		r = mqtt_arm(st);
		if (r >= 0)
			r = ready_set_wait(st->ready, deadline_left_ms(&end));
		if (r < 0 && r != -ETIMEDOUT)
			return r;
		mqtt_service(st);
	}
	return st->error;
}

/*
 * The frame returned last was applied: acknowledge it to the broker (its
 * PUBACK waits in libmosquitto's queue) and publish the state it set.
 */
static void mqtt_confirm(struct mqtt_state *st)
{
	struct redelivery_frame f;

	if (!redelivery_confirm(&st->frames, &f))
		return;
	if (f.led_state >= 0 && f.led_state != st->led_state) {
		st->led_state = f.led_state;
		st->state_dirty = true;
	}
	mqtt_publish_state(st);
	/* A failure shows at the next read: on_disconnect, reconnection. */
	(void)mqtt_flush(st);
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
		n = redelivery_pop(&st->frames, buf, size);
		if (n >= 0) {
			r = mqtt_arm(st);
			return r < 0 ? r : n;
		}
		if (st->error)
			return st->error;
		r = mqtt_arm(st);
		if (r >= 0)
			r = ready_set_wait(st->ready, deadline_left_ms(&end));
		if (r < 0)
			return r;	/* -ETIMEDOUT, -EINTR */
		mqtt_service(st);
	}
}

/* --- the transport ----------------------------------------------------- */

static void mqtt_close(struct transport *t)
{
	struct mqtt_state *st = t->priv;

	if (!st)
		return;
	if (t->role == TRANSPORT_SENDER) {
		mqtt_close_sender(st);
	} else if (st->mosq && st->connected) {
		mqtt_confirm(st);
		net_mqtt_leave(st->mosq, MQTT_DRAIN_MS);
	}
	if (st->duplicates)
		mqtt_notice(st, "mqtt: skipped %llu repeated deliveries",
			    (unsigned long long)st->duplicates);
	redelivery_free(&st->frames);
	ready_set_free(st->ready);
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
	st->gate_fd = -1;
	st->led_state = -1;
	st->t = t;
	redelivery_init(&st->frames, NULL);
	backoff_init(&st->backoff, MQTT_BACKOFF_MIN_MS, MQTT_BACKOFF_MAX_MS);
	r = net_mqtt_parse(mqtt_option, t, instance, sender, &st->cfg, why,
			   sizeof(why));
	if (r == 0)
		r = net_mqtt_new(&st->cfg, t, &st->mosq, why, sizeof(why));
	if (r == 0) {
		mosquitto_log_callback_set(st->mosq, mqtt_on_log);
		if (sender)
			r = mqtt_open_sender(st);
		else if ((r = ready_set_new(&st->ready)) == 0)
			r = mqtt_open_receiver(st);
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

	return st->ready ? ready_set_fd(st->ready) : st->gate_fd;
}

static const struct transport_ops mqtt_ops = {
	.name = "mqtt",
	.summary = "MQTT through a broker (libmosquitto), QoS 1, persistent sessions",
	.flags = TRANSPORT_LOSSLESS | TRANSPORT_PUSH | TRANSPORT_NETWORK |
		 TRANSPORT_DURABLE,
	.options = mqtt_options,
	.open = mqtt_open,
	.send = mqtt_send,
	.receive = mqtt_receive,
	.poll_fd = mqtt_poll_fd,
	.close = mqtt_close,
};

TRANSPORT_REGISTER(mqtt_ops);
