// SPDX-License-Identifier: MIT
/*
 * mqtt: button and LED talk through an MQTT broker (mosquitto), so they can
 * run on different hosts, and any number of LEDs can follow one button.
 *
 * Push, lossless while the broker keeps its state (QoS 1, persistent
 * sessions, broker persistence), in order. Topics, for device D (option
 * "device", default: the instance name):
 *   ipc-button/D/event   every frame, QoS 1, not retained (button -> LEDs)
 *   ipc-button/D/led     the state the LED last applied, "0" or "1",
 *                        retained, so a dashboard sees it at once.
 * Both sides connect with clean_session false and a fixed client id
 * ("ipc-led-<host>-<instance>", "ipc-button-<host>-<instance>", or option
 * "client-id"): the broker keeps the LED's subscription and queues its
 * events while it is away (restarted, rebooting, network down), and both
 * resume their sessions after a broker restart. The broker must keep
 * enough for an absent LED (mosquitto: max_queued_messages) and persist
 * across its own restarts (persistence true).
 *
 * Sender: libmosquitto's network thread (mosquitto_loop_start) reconnects
 * with exponential back-off and sends again what the broker did not
 * acknowledge; send() publishes and returns at once, with up to
 * MQTT_WINDOW frames unacknowledged (-EAGAIN beyond, and poll_fd() turns
 * writable again when acknowledgements free room). Closing waits up to
 * linger-ms for the last acknowledgements. open() connects synchronously
 * (name lookup, TCP: an unreachable host holds it for the system's
 * connect timeout); a broker refusing or out of reach is said once and
 * reported as -ECONNREFUSED, so the caller keeps its events and retries.
 * Receiver: no thread. receive() drives the connection itself, reads one
 * packet at a time, and returns each frame as soon as it is read; the
 * frame's PUBACK stays queued in libmosquitto until the next receive()
 * (the LED applied the frame by then), so a LED killed at any moment
 * loses nothing: the broker sends again what it saw no acknowledgement
 * for, to the next LED with this client id. It reconnects with exponential
 * back-off (MQTT_BACKOFF_*), and skips a repeated delivery of a frame it
 * already returned (QoS 1 is "at least once"). Its poll_fd() is a ready
 * set (lib/ready_set.h): the socket, a mark while a returned frame awaits
 * its acknowledgement, and a deadline for keep-alive and reconnection.
 * The broker keeps events for an LED from its first subscription on:
 * start the LED once before the button, as with every mechanism.
 *
 * Objects: nothing on the local file system; the broker owns the
 * sessions. Security: TLS (option "ca", with "cert"/"key" for a client
 * certificate; TLS 1.3, broker certificate and host name verified) and
 * username/password (the password read from "password-file", never from
 * the command line where ps would show it). The broker's ACLs decide who
 * may publish to or read a device's topics.
 */
#include "transport.h"

#include "../lib/message.h"
#include "../lib/net_addr.h"
#include "../lib/ready_set.h"
#include "../lib/deadline.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <mosquitto.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

/* Frames a sender keeps unacknowledged before -EAGAIN. */
#define MQTT_WINDOW		64
/* How long open() waits for the broker's answers. */
#define MQTT_OPEN_TIMEOUT_MS	10000
/* Receiver reconnection: first pause, then doubling up to the maximum. */
#define MQTT_BACKOFF_MIN_MS	100
#define MQTT_BACKOFF_MAX_MS	5000
/* Sender reconnection (libmosquitto counts in seconds). */
#define MQTT_RECONNECT_MIN_S	1
#define MQTT_RECONNECT_MAX_S	8
/* Frames remembered to recognise a repeated delivery. */
#define MQTT_RECENT		128

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

struct mqtt_frame {
	uint8_t bytes[IPC_MESSAGE_MAX_WIRE];
	size_t len;
};

struct mqtt_sender {
	pthread_mutex_t lock;
	pthread_cond_t changed;		/* connected, acknowledged, failed */
	uint64_t published, acked;	/* QoS 1 publications and PUBACKs */
	bool connected;
	bool answered;			/* the broker answered CONNECT once */
	int error;			/* fatal, sticky */
	int gate_fd;			/* eventfd, see sender_gate() */
	bool gate_closed;
	bool thread;			/* the network thread runs */
};

struct mqtt_receiver {
	struct ready_set *ready;
	struct mqtt_frame *queue;	/* a growing ring, oldest at head */
	size_t head, count, size;
	bool connected, subscribed;
	int error;			/* fatal, sticky */
	int sub_mid;
	int last_rc, last_errno;	/* why the last connection ended */
	unsigned int backoff_ms;
	uint64_t reconnect_at;		/* CLOCK_MONOTONIC ns; 0: none due */
	/* The frame returned last: its state is published once applied. */
	bool delivered;
	int delivered_state;		/* -1: not a valid frame */
	int state;			/* state published; -1: none yet */
	bool state_dirty;		/* to publish at the next chance */
	uint8_t recent[MQTT_RECENT][IPC_MESSAGE_SIZE];
	unsigned int recent_next, recent_count;
	uint64_t duplicates;
	uint64_t *rejected;		/* the transport's counter */
};

struct mqtt_priv {
	struct mosquitto *mosq;
	char host[256];
	int port, keepalive;
	char client_id[128];
	char event_topic[256], state_topic[256];
	char label[300];		/* "broker localhost:1883" */
	long linger_ms;
	struct mqtt_sender *sender;
	struct mqtt_receiver *receiver;
};

static pthread_once_t mqtt_lib_once = PTHREAD_ONCE_INIT;
static int mqtt_lib_status;

static void mqtt_lib_init(void)
{
	mqtt_lib_status = mosquitto_lib_init();
}

/* libmosquitto's errors, as errno values for our callers. */
static int mqtt_errno(int rc)
{
	switch (rc) {
	case MOSQ_ERR_SUCCESS:
		return 0;
	case MOSQ_ERR_NOMEM:
		return -ENOMEM;
	case MOSQ_ERR_INVAL:
	case MOSQ_ERR_MALFORMED_UTF8:
		return -EINVAL;
	case MOSQ_ERR_NO_CONN:
	case MOSQ_ERR_CONN_LOST:
		return -ENOTCONN;
	case MOSQ_ERR_CONN_REFUSED:
	case MOSQ_ERR_AUTH:
	case MOSQ_ERR_ACL_DENIED:
		return -EACCES;
	case MOSQ_ERR_PAYLOAD_SIZE:
		return -EMSGSIZE;
	case MOSQ_ERR_ERRNO:
		return errno ? -errno : -EIO;
	case MOSQ_ERR_EAI:
		return -EHOSTUNREACH;
	case MOSQ_ERR_TLS:
		return -EPROTO;
	default:
		return -EIO;
	}
}

static const char *mqtt_strerror(int rc)
{
	return rc == MOSQ_ERR_ERRNO ? strerror(errno) : mosquitto_strerror(rc);
}

/* What a broker's refusal of CONNECT means, as an errno. */
static int mqtt_connack_errno(int rc)
{
	/* 4: bad user name or password, 5: not authorised. */
	return rc == 4 || rc == 5 ? -EACCES : -ECONNREFUSED;
}

/* libmosquitto's own errors (TLS verification, ...) carry the details. */
static void mqtt_on_log(struct mosquitto *mosq, void *userdata, int level,
			const char *line)
{
	(void)mosq;
	(void)userdata;
	if (level & MOSQ_LOG_ERR)
		fprintf(stderr, "mqtt: %s\n", line);
}

static void mqtt_set_cloexec(struct mosquitto *mosq)
{
	int fd = mosquitto_socket(mosq);

	/* libmosquitto does not ask for close-on-exec itself. */
	if (fd >= 0)
		(void)fcntl(fd, F_SETFD, FD_CLOEXEC);
}

/* A device name is one topic level: no separators, no wildcards. */
static bool mqtt_topic_level_valid(const char *s)
{
	return *s && !strpbrk(s, "/+#") && strlen(s) < 128;
}

static int mqtt_read_password(const char *path, char *buf, size_t size)
{
	FILE *f = fopen(path, "re");
	size_t n;

	if (!f) {
		int err = -errno;

		fprintf(stderr, "mqtt: password file %s: %s\n", path, strerror(-err));
		return err;
	}
	if (!fgets(buf, (int)size, f))
		buf[0] = '\0';
	fclose(f);
	n = strcspn(buf, "\r\n");
	buf[n] = '\0';
	return 0;
}

static int mqtt_parse_options(struct transport *t)
{
	struct mqtt_priv *p = t->priv;
	const char *instance = t->config->instance ? t->config->instance : "0";
	const char *device = transport_option(t, "device");
	const char *port = transport_option(t, "port");
	const char *id = transport_option(t, "client-id");
	char hostname[65] = "localhost";
	char *end;
	long v;

	if (!device)
		device = instance;
	if (!mqtt_topic_level_valid(device)) {
		fprintf(stderr, "mqtt: device '%s' cannot be a topic level (no '/', '+', '#')\n",
			device);
		return -EINVAL;
	}
	snprintf(p->event_topic, sizeof(p->event_topic), "ipc-button/%s/event", device);
	snprintf(p->state_topic, sizeof(p->state_topic), "ipc-button/%s/led", device);

	if (snprintf(p->host, sizeof(p->host), "%s", transport_option(t, "host")) >=
	    (int)sizeof(p->host))
		return -ENAMETOOLONG;
	p->port = transport_option(t, "ca") ? 8883 : 1883;
	if (port) {
		v = strtol(port, &end, 10);
		if (*end || v < 1 || v > 65535) {
			fprintf(stderr, "mqtt: port '%s' is not a port number\n", port);
			return -EINVAL;
		}
		p->port = (int)v;
	}
	v = strtol(transport_option(t, "keepalive"), &end, 10);
	if (*end || v < 5 || v > 65535) {
		fprintf(stderr, "mqtt: keepalive must be 5 to 65535 seconds\n");
		return -EINVAL;
	}
	p->keepalive = (int)v;
	p->linger_ms = strtol(transport_option(t, "linger-ms"), &end, 10);
	if (*end || p->linger_ms < 0) {
		fprintf(stderr, "mqtt: linger-ms must be a number of milliseconds\n");
		return -EINVAL;
	}

	if (id) {
		if (snprintf(p->client_id, sizeof(p->client_id), "%s", id) >=
		    (int)sizeof(p->client_id) || !*id) {
			fprintf(stderr, "mqtt: client-id must be 1 to %zu bytes\n",
				sizeof(p->client_id) - 1);
			return -EINVAL;
		}
	} else {
		/* Fixed per host and instance: the broker keeps its session. */
		(void)gethostname(hostname, sizeof(hostname) - 1);
		snprintf(p->client_id, sizeof(p->client_id), "%s-%.64s-%.32s",
			 t->role == TRANSPORT_SENDER ? "ipc-button" : "ipc-led",
			 hostname, instance);
	}
	snprintf(p->label, sizeof(p->label), strchr(p->host, ':') ?
		 "broker [%s]:%d" : "broker %s:%d", p->host, p->port);
	return 0;
}

/*
 * libmosquitto makes a socket pair (to wake its own select()) without
 * close-on-exec, and offers no way to ask for it: mark every descriptor
 * that appeared while it built the client. @before lists the open fds.
 */
#define MQTT_FD_SET_MAX	1024

static int mqtt_list_fds(bool open_fds[MQTT_FD_SET_MAX])
{
	DIR *dir = opendir("/proc/self/fd");
	struct dirent *de;

	if (!dir)
		return -errno;
	memset(open_fds, 0, MQTT_FD_SET_MAX * sizeof(bool));
	while ((de = readdir(dir))) {
		long fd = strtol(de->d_name, NULL, 10);

		if (de->d_name[0] != '.' && fd >= 0 && fd < MQTT_FD_SET_MAX &&
		    fd != dirfd(dir))
			open_fds[fd] = true;
	}
	closedir(dir);
	return 0;
}

static void mqtt_cloexec_new_fds(const bool before[MQTT_FD_SET_MAX])
{
	bool now[MQTT_FD_SET_MAX];

	if (mqtt_list_fds(now) < 0)
		return;
	for (int fd = 0; fd < MQTT_FD_SET_MAX; fd++)
		if (now[fd] && !before[fd])
			(void)fcntl(fd, F_SETFD, FD_CLOEXEC);
}

static int mqtt_new_client(struct transport *t, void *userdata)
{
	bool fds_before[MQTT_FD_SET_MAX];
	struct mqtt_priv *p = t->priv;
	const char *ca = transport_option(t, "ca");
	const char *cert = transport_option(t, "cert");
	const char *key = transport_option(t, "key");
	const char *user = transport_option(t, "username");
	const char *password_file = transport_option(t, "password-file");
	char password[256] = "";
	int rc;

	pthread_once(&mqtt_lib_once, mqtt_lib_init);
	if (mqtt_lib_status != MOSQ_ERR_SUCCESS)
		return mqtt_errno(mqtt_lib_status);
	rc = mqtt_list_fds(fds_before);
	if (rc < 0)
		return rc;
	/* clean_session false: the broker keeps this client's session. */
	p->mosq = mosquitto_new(p->client_id, false, userdata);
	if (!p->mosq)
		return errno == EINVAL ? -EINVAL : -ENOMEM;
	mqtt_cloexec_new_fds(fds_before);
	mosquitto_log_callback_set(p->mosq, mqtt_on_log);
	rc = mosquitto_int_option(p->mosq, MOSQ_OPT_PROTOCOL_VERSION,
				  MQTT_PROTOCOL_V311);
	if (rc == MOSQ_ERR_SUCCESS)
		rc = mosquitto_int_option(p->mosq, MOSQ_OPT_TCP_NODELAY, 1);
	if (rc != MOSQ_ERR_SUCCESS)
		return mqtt_errno(rc);

	if ((cert || key) && !ca) {
		fprintf(stderr, "mqtt: cert and key need ca (TLS)\n");
		return -EINVAL;
	}
	if (!cert != !key) {
		fprintf(stderr, "mqtt: cert and key go together\n");
		return -EINVAL;
	}
	if (ca) {
		rc = mosquitto_tls_set(p->mosq, ca, NULL, cert, key, NULL);
		if (rc == MOSQ_ERR_SUCCESS)
			rc = mosquitto_tls_opts_set(p->mosq, 1, "tlsv1.3", NULL);
		if (rc != MOSQ_ERR_SUCCESS) {
			fprintf(stderr, "mqtt: TLS files (ca %s%s%s%s%s): %s\n", ca,
				cert ? ", cert " : "", cert ? cert : "",
				key ? ", key " : "", key ? key : "",
				mqtt_strerror(rc));
			return mqtt_errno(rc);
		}
	}
	if (password_file && !user) {
		fprintf(stderr, "mqtt: password-file needs username\n");
		return -EINVAL;
	}
	if (user) {
		if (password_file) {
			int r = mqtt_read_password(password_file, password,
						   sizeof(password));

			if (r < 0)
				return r;
		}
		rc = mosquitto_username_pw_set(p->mosq, user,
					       password_file ? password : NULL);
		explicit_bzero(password, sizeof(password));
		if (rc != MOSQ_ERR_SUCCESS)
			return mqtt_errno(rc);
	}
	return 0;
}

/* -- sender ------------------------------------------------------------ */

/*
 * The sender's poll_fd: an eventfd that is writable while the window has
 * room. A counter of 0xfffffffffffffffe is the largest an eventfd holds,
 * and makes it not writable; reading resets it to 0, writable again.
 */
static void sender_gate(struct mqtt_sender *s, bool open)
{
	uint64_t v = 0xfffffffffffffffeULL;

	if (open == !s->gate_closed)
		return;
	if (open)
		(void)!read(s->gate_fd, &v, sizeof(v));
	else
		(void)!write(s->gate_fd, &v, sizeof(v));
	s->gate_closed = !open;
}

static void sender_on_connect(struct mosquitto *mosq, void *userdata,
			      int rc, int flags)
{
	struct transport *t = userdata;
	struct mqtt_priv *p = t->priv;
	struct mqtt_sender *s = p->sender;

	(void)mosq;
	pthread_mutex_lock(&s->lock);
	s->answered = true;
	if (rc) {
		fprintf(stderr, "mqtt: %s refused the connection: %s\n",
			p->label, mosquitto_connack_string(rc));
		s->error = mqtt_connack_errno(rc);
		/* Stop the network thread's reconnection attempts. */
		mosquitto_disconnect(p->mosq);
	} else {
		s->connected = true;
		(void)flags;
	}
	pthread_cond_broadcast(&s->changed);
	pthread_mutex_unlock(&s->lock);
	mqtt_set_cloexec(p->mosq);
}

static void sender_on_disconnect(struct mosquitto *mosq, void *userdata, int rc)
{
	struct transport *t = userdata;
	struct mqtt_priv *p = t->priv;
	struct mqtt_sender *s = p->sender;

	(void)mosq;
	pthread_mutex_lock(&s->lock);
	if (s->connected && rc)
		fprintf(stderr, "mqtt: lost the %s (%s); reconnecting\n",
			p->label, mosquitto_strerror(rc));
	s->connected = false;
	pthread_cond_broadcast(&s->changed);
	pthread_mutex_unlock(&s->lock);
}

static void sender_on_publish(struct mosquitto *mosq, void *userdata, int mid)
{
	struct transport *t = userdata;
	struct mqtt_sender *s = ((struct mqtt_priv *)t->priv)->sender;

	(void)mosq;
	(void)mid;
	pthread_mutex_lock(&s->lock);
	s->acked++;
	if (s->published - s->acked < MQTT_WINDOW)
		sender_gate(s, true);
	pthread_cond_broadcast(&s->changed);
	pthread_mutex_unlock(&s->lock);
}

/* Wait for @done (under the lock) until @deadline_ns; false on timeout. */
static bool sender_wait_until(struct mqtt_sender *s,
			      bool (*done)(const struct mqtt_sender *),
			      uint64_t deadline_ns)
{
	struct timespec ts = {
		.tv_sec = (time_t)(deadline_ns / 1000000000u),
		.tv_nsec = (long)(deadline_ns % 1000000000u),
	};

	while (!done(s))
		if (pthread_cond_timedwait(&s->changed, &s->lock, &ts) == ETIMEDOUT)
			return done(s);
	return true;
}

static bool sender_answered(const struct mqtt_sender *s)
{
	return s->answered || s->error;
}

static bool sender_all_acked(const struct mqtt_sender *s)
{
	return s->published == s->acked || s->error;
}

static int sender_open(struct transport *t)
{
	struct mqtt_priv *p = t->priv;
	struct mqtt_sender *s;
	pthread_condattr_t attr;
	sigset_t all, old;
	int rc, r;

	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	p->sender = s;
	s->gate_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (s->gate_fd < 0)
		return -errno;
	pthread_mutex_init(&s->lock, NULL);
	pthread_condattr_init(&attr);
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	pthread_cond_init(&s->changed, &attr);
	pthread_condattr_destroy(&attr);

	r = mqtt_new_client(t, t);
	if (r < 0)
		return r;
	mosquitto_connect_with_flags_callback_set(p->mosq, sender_on_connect);
	mosquitto_disconnect_callback_set(p->mosq, sender_on_disconnect);
	mosquitto_publish_callback_set(p->mosq, sender_on_publish);
	mosquitto_reconnect_delay_set(p->mosq, MQTT_RECONNECT_MIN_S,
				      MQTT_RECONNECT_MAX_S, true);
	/* Everything unacknowledged stays in flight: the window bounds it. */
	mosquitto_max_inflight_messages_set(p->mosq, MQTT_WINDOW);

	rc = mosquitto_connect(p->mosq, p->host, p->port, p->keepalive);
	if (rc != MOSQ_ERR_SUCCESS) {
		/* The broker may come up later: the caller retries the open. */
		static bool told;

		r = mqtt_errno(rc);
		if (r != -ECONNREFUSED && r != -EHOSTUNREACH && r != -ENETUNREACH &&
		    r != -ETIMEDOUT && r != -ENOENT) {
			fprintf(stderr, "mqtt: connecting to the %s: %s\n",
				p->label, mqtt_strerror(rc));
			return r;
		}
		if (!told)
			fprintf(stderr, "mqtt: cannot reach the %s: %s; waiting for it\n",
				p->label, mqtt_strerror(rc));
		told = true;
		return -ECONNREFUSED;
	}
	mqtt_set_cloexec(p->mosq);

	/* The network thread must never take the stop signals. */
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	rc = mosquitto_loop_start(p->mosq);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc != MOSQ_ERR_SUCCESS)
		return mqtt_errno(rc);
	s->thread = true;

	pthread_mutex_lock(&s->lock);
	if (!sender_wait_until(s, sender_answered,
			       monotonic_ns() + MQTT_OPEN_TIMEOUT_MS * 1000000ULL)) {
		fprintf(stderr, "mqtt: the %s did not answer within %d s\n",
			p->label, MQTT_OPEN_TIMEOUT_MS / 1000);
		r = -ETIMEDOUT;
	} else {
		r = s->error;
	}
	pthread_mutex_unlock(&s->lock);
	return r;
}

static int sender_send(struct transport *t, const uint8_t *frame, size_t len)
{
	struct mqtt_priv *p = t->priv;
	struct mqtt_sender *s = p->sender;
	int rc, r = 0;

	if (len > IPC_MESSAGE_MAX_WIRE)
		return -EMSGSIZE;
	pthread_mutex_lock(&s->lock);
	if (s->error) {
		r = s->error;
	} else if (s->published - s->acked >= MQTT_WINDOW) {
		sender_gate(s, false);
		r = -EAGAIN;
	} else {
		/*
		 * Counted before the call: the network thread may see the
		 * PUBACK before mosquitto_publish() returns.
		 */
		s->published++;
		pthread_mutex_unlock(&s->lock);
		rc = mosquitto_publish(p->mosq, NULL, p->event_topic, (int)len,
				       frame, 1, false);
		pthread_mutex_lock(&s->lock);
		if (rc != MOSQ_ERR_SUCCESS) {
			s->published--;
			if (rc == MOSQ_ERR_NO_CONN || rc == MOSQ_ERR_OVERSIZE_PACKET) {
				r = rc == MOSQ_ERR_NO_CONN ? -EAGAIN : -EMSGSIZE;
			} else {
				fprintf(stderr, "mqtt: publishing to %s: %s\n",
					p->event_topic, mqtt_strerror(rc));
				r = mqtt_errno(rc);
			}
		}
	}
	pthread_mutex_unlock(&s->lock);
	return r;
}

static int sender_poll_fd(struct mqtt_sender *s)
{
	return s->gate_fd;
}

static void sender_close(struct transport *t)
{
	struct mqtt_priv *p = t->priv;
	struct mqtt_sender *s = p->sender;
	uint64_t unacked;

	if (!s)
		return;
	if (s->thread) {
		pthread_mutex_lock(&s->lock);
		sender_wait_until(s, sender_all_acked,
				  monotonic_ns() + (uint64_t)p->linger_ms * 1000000ULL);
		unacked = s->published - s->acked;
		pthread_mutex_unlock(&s->lock);
		if (unacked)
			fprintf(stderr, "mqtt: %llu frame(s) not acknowledged by the %s when closing\n",
				(unsigned long long)unacked, p->label);
		mosquitto_disconnect(p->mosq);
		mosquitto_loop_stop(p->mosq, false);
	}
	if (s->gate_fd >= 0) {
		close(s->gate_fd);
		pthread_cond_destroy(&s->changed);
		pthread_mutex_destroy(&s->lock);
	}
	free(s);
}

/* -- receiver ---------------------------------------------------------- */

static uint64_t receiver_now(void)
{
	return monotonic_ns();
}

static void receiver_schedule_reconnect(struct mqtt_receiver *r)
{
	r->backoff_ms = r->backoff_ms ? r->backoff_ms * 2 : MQTT_BACKOFF_MIN_MS;
	if (r->backoff_ms > MQTT_BACKOFF_MAX_MS)
		r->backoff_ms = MQTT_BACKOFF_MAX_MS;
	r->reconnect_at = receiver_now() + (uint64_t)r->backoff_ms * 1000000ULL;
}

/* QoS 0: never waits in libmosquitto's queue; the next connection repeats it. */
static void receiver_publish_state(struct mqtt_priv *p, struct mqtt_receiver *r)
{
	char payload[2];

	if (!r->state_dirty || !r->connected || r->state < 0)
		return;
	payload[0] = r->state ? '1' : '0';
	if (mosquitto_publish(p->mosq, NULL, p->state_topic, 1, payload, 0,
			      true) == MOSQ_ERR_SUCCESS)
		r->state_dirty = false;
}

static void receiver_on_connect(struct mosquitto *mosq, void *userdata,
				int rc, int flags)
{
	struct transport *t = userdata;
	struct mqtt_priv *p = t->priv;
	struct mqtt_receiver *r = p->receiver;
	int ret;

	(void)flags;
	if (rc) {
		fprintf(stderr, "mqtt: %s refused the connection: %s\n",
			p->label, mosquitto_connack_string(rc));
		r->error = mqtt_connack_errno(rc);
		return;
	}
	r->connected = true;
	r->backoff_ms = 0;
	/* The session may hold the subscription already; renew it anyway. */
	ret = mosquitto_subscribe(mosq, &r->sub_mid, p->event_topic, 1);
	if (ret != MOSQ_ERR_SUCCESS) {
		fprintf(stderr, "mqtt: subscribing to %s: %s\n", p->event_topic,
			mqtt_strerror(ret));
		r->error = mqtt_errno(ret);
	}
	r->state_dirty = true;
	receiver_publish_state(p, r);
}

static void receiver_on_subscribe(struct mosquitto *mosq, void *userdata,
				  int mid, int qos_count, const int *granted)
{
	struct transport *t = userdata;
	struct mqtt_priv *p = t->priv;
	struct mqtt_receiver *r = p->receiver;

	(void)mosq;
	if (mid != r->sub_mid)
		return;
	if (qos_count < 1 || granted[0] > 2) {	/* 0x80: refused */
		fprintf(stderr, "mqtt: the %s refused the subscription to %s\n",
			p->label, p->event_topic);
		r->error = -EACCES;
		return;
	}
	r->subscribed = true;
}

static void receiver_on_disconnect(struct mosquitto *mosq, void *userdata,
				   int rc)
{
	struct transport *t = userdata;
	struct mqtt_priv *p = t->priv;
	struct mqtt_receiver *r = p->receiver;

	(void)mosq;
	if (r->connected && rc)
		fprintf(stderr, "mqtt: lost the %s (%s); reconnecting\n",
			p->label, mosquitto_strerror(rc));
	r->last_rc = rc;
	r->last_errno = rc == MOSQ_ERR_ERRNO ? errno : 0;
	r->connected = false;
	/* Its socket is closed right after this: never watch that number. */
	(void)ready_set_watch(r->ready, -1, 0);
	if (!r->error)
		receiver_schedule_reconnect(r);
}

static bool receiver_seen(struct mqtt_receiver *r, const uint8_t *frame)
{
	for (unsigned int i = 0; i < r->recent_count; i++)
		if (!memcmp(r->recent[i], frame, IPC_MESSAGE_SIZE))
			return true;
	memcpy(r->recent[r->recent_next], frame, IPC_MESSAGE_SIZE);
	r->recent_next = (r->recent_next + 1) % MQTT_RECENT;
	if (r->recent_count < MQTT_RECENT)
		r->recent_count++;
	return false;
}

static int receiver_enqueue(struct mqtt_receiver *r, const void *payload,
			    size_t len)
{
	struct mqtt_frame *f;

	if (r->count == r->size) {
		size_t size = r->size ? 2 * r->size : 8;
		struct mqtt_frame *q = calloc(size, sizeof(*q));

		if (!q)
			return -ENOMEM;
		for (size_t i = 0; i < r->count; i++)
			q[i] = r->queue[(r->head + i) % r->size];
		free(r->queue);
		r->queue = q;
		r->head = 0;
		r->size = size;
	}
	f = &r->queue[(r->head + r->count) % r->size];
	/* Longer than any frame: keep enough for the caller to see it is. */
	f->len = len < sizeof(f->bytes) ? len : sizeof(f->bytes);
	if (f->len)	/* an empty message has no payload at all */
		memcpy(f->bytes, payload, f->len);
	r->count++;
	return 0;
}

static void receiver_on_message(struct mosquitto *mosq, void *userdata,
				const struct mosquitto_message *m)
{
	struct transport *t = userdata;
	struct mqtt_priv *p = t->priv;
	struct mqtt_receiver *r = p->receiver;
	struct ipc_message msg;
	size_t len = m->payloadlen > 0 ? (size_t)m->payloadlen : 0;

	(void)mosq;
	if (strcmp(m->topic, p->event_topic)) {
		(*r->rejected)++;	/* not ours: a stale subscription */
		return;
	}
	/*
	 * A valid frame identical to one returned recently is the broker
	 * delivering it again (QoS 1 after a reconnection): skip it. Every
	 * other payload, however broken, goes to the caller to validate.
	 */
	if (len == IPC_MESSAGE_SIZE &&
	    ipc_message_decode(m->payload, len, &msg) == IPC_MESSAGE_OK &&
	    receiver_seen(r, m->payload)) {
		r->duplicates++;
		return;
	}
	if (receiver_enqueue(r, m->payload, len) < 0)
		r->error = -ENOMEM;
}

/* Send what libmosquitto queued: acknowledgements, pings, the state. */
static int receiver_flush(struct mqtt_priv *p)
{
	if (mosquitto_socket(p->mosq) < 0 || !mosquitto_want_write(p->mosq))
		return MOSQ_ERR_SUCCESS;
	return mosquitto_loop_write(p->mosq, 1);
}

/*
 * One round of libmosquitto's work, without waiting: send what is queued,
 * read at most one packet, keep the connection alive, and reconnect when
 * the back-off allows. A frame read now has its PUBACK queued, not sent:
 * the next round (the caller applied the frame by then) sends it.
 */
static void receiver_service(struct transport *t)
{
	struct mqtt_priv *p = t->priv;
	struct mqtt_receiver *r = p->receiver;
	int rc;

	if (!r->connected && mosquitto_socket(p->mosq) < 0) {
		if (r->reconnect_at > receiver_now())
			return;
		r->reconnect_at = 0;
		rc = mosquitto_reconnect_async(p->mosq);
		if (rc != MOSQ_ERR_SUCCESS) {
			receiver_schedule_reconnect(r);
			return;
		}
		mqtt_set_cloexec(p->mosq);
	}
	rc = receiver_flush(p);
	if (rc == MOSQ_ERR_SUCCESS && mosquitto_socket(p->mosq) >= 0)
		rc = mosquitto_loop_read(p->mosq, 1);
	if (rc == MOSQ_ERR_SUCCESS && mosquitto_socket(p->mosq) >= 0)
		rc = mosquitto_loop_misc(p->mosq);
	if (rc != MOSQ_ERR_SUCCESS && mosquitto_socket(p->mosq) < 0 &&
	    !r->reconnect_at && !r->error) {
		/* A connection that failed before on_disconnect could run. */
		r->connected = false;
		(void)ready_set_watch(r->ready, -1, 0);
		receiver_schedule_reconnect(r);
	}
}

/* Point the ready set at what the next service round needs. */
static int receiver_arm(struct transport *t)
{
	struct mqtt_priv *p = t->priv;
	struct mqtt_receiver *r = p->receiver;
	int fd = mosquitto_socket(p->mosq);
	uint64_t when;
	int ret;

	ret = ready_set_watch(r->ready, fd, (short)(POLLIN |
			      (fd >= 0 && mosquitto_want_write(p->mosq) ? POLLOUT : 0)));
	if (ret < 0)
		return ret;
	if (fd < 0)
		when = r->reconnect_at ? r->reconnect_at : receiver_now();
	else	/* keep-alive: libmosquitto pings when it is due */
		when = receiver_now() + (uint64_t)p->keepalive * 500000000ULL;
	ret = ready_set_deadline(r->ready, when);
	if (ret >= 0)
		ret = ready_set_mark(r->ready, r->count || r->delivered);
	return ret;
}

static int receiver_open(struct transport *t)
{
	struct mqtt_priv *p = t->priv;
	struct mqtt_receiver *r;
	uint64_t deadline = receiver_now() + MQTT_OPEN_TIMEOUT_MS * 1000000ULL;
	int rc, ret;

	r = calloc(1, sizeof(*r));
	if (!r)
		return -ENOMEM;
	p->receiver = r;
	r->state = -1;
	r->rejected = &t->rejected;
	ret = ready_set_new(&r->ready);
	if (ret < 0)
		return ret;
	ret = mqtt_new_client(t, t);
	if (ret < 0)
		return ret;
	mosquitto_connect_with_flags_callback_set(p->mosq, receiver_on_connect);
	mosquitto_disconnect_callback_set(p->mosq, receiver_on_disconnect);
	mosquitto_subscribe_callback_set(p->mosq, receiver_on_subscribe);
	mosquitto_message_callback_set(p->mosq, receiver_on_message);
	/*
	 * Not for threads: in this mode libmosquitto queues what it sends
	 * (the PUBACK of each frame included) until mosquitto_loop_write(),
	 * which receive() calls only once the caller applied the frame.
	 */
	mosquitto_threaded_set(p->mosq, true);

	rc = mosquitto_connect_async(p->mosq, p->host, p->port, p->keepalive);
	if (rc == MOSQ_ERR_EAI) {
		fprintf(stderr, "mqtt: cannot resolve the broker's host name '%s'\n",
			p->host);
		return -EHOSTUNREACH;
	}
	if (rc != MOSQ_ERR_SUCCESS) {
		fprintf(stderr, "mqtt: cannot connect to the %s: %s%s\n", p->label,
			mqtt_strerror(rc), mqtt_errno(rc) == -ECONNREFUSED ?
			" (is the broker running? options host=, port=)" : "");
		return mqtt_errno(rc);
	}
	mqtt_set_cloexec(p->mosq);
	/* Ready means subscribed: from now on the broker keeps our events. */
	while (!r->subscribed && !r->error) {
		uint64_t now = receiver_now();

		if (now >= deadline) {
			fprintf(stderr, "mqtt: no answer from the %s within %d s\n",
				p->label, MQTT_OPEN_TIMEOUT_MS / 1000);
			return -ETIMEDOUT;
		}
		if (!r->connected && r->reconnect_at) {
			/* Refused, or closed before any answer (TLS?). */
			bool closed = r->last_rc == MOSQ_ERR_CONN_LOST;

			fprintf(stderr, "mqtt: cannot connect to the %s: %s (%s)\n",
				p->label, closed ? "it closed the connection" :
				r->last_errno ? strerror(r->last_errno) :
				mosquitto_strerror(r->last_rc),
				closed ? "TLS expected? options ca=, port=" :
				"is the broker running? options host=, port=");
			return r->last_errno ? -r->last_errno : -ECONNREFUSED;
		}
		ret = receiver_arm(t);
		if (ret >= 0)
			ret = ready_set_wait(r->ready,
					     (int)((deadline - now) / 1000000) + 1);
		if (ret < 0 && ret != -ETIMEDOUT)
			return ret;
		receiver_service(t);
	}
	return r->error;
}

/*
 * The frame returned last was applied: acknowledge it to the broker (its
 * PUBACK waits in libmosquitto's queue) and publish the state it set.
 */
static void receiver_confirm(struct mqtt_priv *p, struct mqtt_receiver *r)
{
	if (!r->delivered)
		return;
	r->delivered = false;
	if (r->delivered_state >= 0 && r->delivered_state != r->state) {
		r->state = r->delivered_state;
		r->state_dirty = true;
	}
	receiver_publish_state(p, r);
	/* A failure shows at the next read: on_disconnect, reconnection. */
	(void)receiver_flush(p);
}

static ssize_t receiver_receive(struct transport *t, uint8_t *buf,
				size_t size, int timeout_ms)
{
	struct mqtt_priv *p = t->priv;
	struct mqtt_receiver *r = p->receiver;
	uint64_t deadline = timeout_ms < 0 ? 0 :
		receiver_now() + (uint64_t)timeout_ms * 1000000ULL;
	int ret;

	receiver_confirm(p, r);
	for (;;) {
		if (r->count) {
			struct mqtt_frame *f = &r->queue[r->head];
			size_t n = f->len < size ? f->len : size;
			struct ipc_message msg;

			memcpy(buf, f->bytes, n);
			r->head = (r->head + 1) % r->size;
			r->count--;
			r->delivered = true;
			r->delivered_state =
				ipc_message_decode(f->bytes, f->len, &msg) ==
				IPC_MESSAGE_OK ? msg.led_state : -1;
			ret = receiver_arm(t);
			return ret < 0 ? ret : (ssize_t)n;
		}
		if (r->error)
			return r->error;

		ret = receiver_arm(t);
		if (ret < 0)
			return ret;
		if (timeout_ms < 0) {
			ret = ready_set_wait(r->ready, -1);
		} else {
			uint64_t now = receiver_now();

			ret = ready_set_wait(r->ready, now >= deadline ? 0 :
					     (int)((deadline - now + 999999) / 1000000));
		}
		if (ret < 0)
			return ret;	/* -ETIMEDOUT, -EINTR */
		receiver_service(t);
	}
}

/*
 * Leave so that the broker sees every acknowledgement: libmosquitto closes
 * its socket right after DISCONNECT, and closing a socket that still has
 * unread data (publications on their way to us) makes the kernel send a
 * reset, which also discards whatever the broker had not read yet: the
 * last PUBACKs and the DISCONNECT itself, and those frames would come
 * again to the next LED. So keep a duplicate of the socket, and after
 * DISCONNECT read and drop what still arrives until the broker closes
 * its end (or MQTT_DRAIN_MS passes). Unacknowledged frames stay queued
 * in our session on the broker.
 */
#define MQTT_DRAIN_MS	1000

static void receiver_leave(struct mqtt_priv *p)
{
	int fd = mosquitto_socket(p->mosq);
	int keep = fd >= 0 ? fcntl(fd, F_DUPFD_CLOEXEC, 3) : -1;
	uint64_t deadline = receiver_now() + MQTT_DRAIN_MS * 1000000ULL;
	char scratch[4096];

	mosquitto_disconnect(p->mosq);
	if (mosquitto_socket(p->mosq) >= 0 && mosquitto_want_write(p->mosq))
		(void)mosquitto_loop_write(p->mosq, 1);
	if (keep < 0)
		return;
	if (mosquitto_socket(p->mosq) < 0) {	/* DISCONNECT went out */
		(void)shutdown(keep, SHUT_WR);
		for (;;) {
			struct pollfd pfd = { .fd = keep, .events = POLLIN };
			uint64_t now = receiver_now();

			if (now >= deadline ||
			    poll(&pfd, 1, (int)((deadline - now) / 1000000) + 1) <= 0 ||
			    read(keep, scratch, sizeof(scratch)) <= 0)
				break;
		}
	}
	close(keep);
}

static void receiver_close(struct transport *t)
{
	struct mqtt_priv *p = t->priv;
	struct mqtt_receiver *r = p->receiver;

	if (!r)
		return;
	if (p->mosq && r->connected) {
		receiver_confirm(p, r);
		receiver_leave(p);
	}
	if (r->duplicates)
		fprintf(stderr, "mqtt: skipped %llu repeated deliveries\n",
			(unsigned long long)r->duplicates);
	free(r->queue);
	ready_set_free(r->ready);
	free(r);
}

/* -- the transport ----------------------------------------------------- */

static void mqtt_close(struct transport *t)
{
	struct mqtt_priv *p = t->priv;

	if (!p)
		return;
	sender_close(t);
	receiver_close(t);
	mosquitto_destroy(p->mosq);
	free(p);
	t->priv = NULL;
}

static int mqtt_open(struct transport *t)
{
	struct mqtt_priv *p;
	int r;

	p = calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	t->priv = p;
	r = mqtt_parse_options(t);
	if (r >= 0)
		r = t->role == TRANSPORT_SENDER ? sender_open(t) : receiver_open(t);
	if (r < 0)
		mqtt_close(t);
	return r;
}

static int mqtt_send(struct transport *t, const uint8_t *frame, size_t len)
{
	return sender_send(t, frame, len);
}

static ssize_t mqtt_receive(struct transport *t, uint8_t *buf, size_t size,
			    int timeout_ms)
{
	return receiver_receive(t, buf, size, timeout_ms);
}

static int mqtt_poll_fd(struct transport *t)
{
	struct mqtt_priv *p = t->priv;

	return p->sender ? sender_poll_fd(p->sender) :
			   ready_set_fd(p->receiver->ready);
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
