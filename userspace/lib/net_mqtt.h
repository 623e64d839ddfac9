/* SPDX-License-Identifier: MIT */
/*
 * What the mqtt transport needs from libmosquitto before and after its own
 * work: the options checked and turned into topics, a client id and a
 * broker address; a client made with TLS and credentials; libmosquitto's
 * errors as errno values; and a clean goodbye. Nothing here prints: on
 * failure @why (of @size bytes) says what went wrong.
 */
#ifndef IPC_NET_MQTT_H
#define IPC_NET_MQTT_H

#include <mosquitto.h>
#include <stdbool.h>
#include <stddef.h>

struct net_mqtt_config {
	char host[256];
	int port, keepalive;
	long linger_ms;
	char client_id[128];
	char event_topic[256], state_topic[256];
	char progress_topic[256];	/* the LED's reports of what it applied */
	char label[300];		/* "broker localhost:1883" */
	const char *ca, *cert, *key, *username, *password_file;
};

/*
 * Read the options through @get(@ctx, key) (NULL: not given; keys host,
 * port, device, client-id, keepalive, ca, cert, key, username,
 * password-file, linger-ms), check them and fill @c. @sender picks the
 * default client id ("ipc-button-..." or "ipc-led-..."). 0, -EINVAL or
 * -ENAMETOOLONG.
 */
int net_mqtt_parse(const char *(*get)(void *ctx, const char *key), void *ctx,
		   const char *instance, bool sender,
		   struct net_mqtt_config *c, char *why, size_t size);

/*
 * A client with a persistent session (clean_session false), MQTT 3.1.1,
 * TCP_NODELAY, TLS 1.3 when @c->ca is set, and the user name and password.
 * Every descriptor it makes is close-on-exec. 0 or a negative errno.
 */
int net_mqtt_new(const struct net_mqtt_config *c, void *userdata,
		 struct mosquitto **ret, char *why, size_t size);

/* libmosquitto's MOSQ_ERR_* as a negative errno (0 for success). */
int net_mqtt_errno(int rc);
/* A readable reason for MOSQ_ERR_* @rc. */
const char *net_mqtt_strerror(int rc);
/* @err (a negative errno) says the broker cannot be reached (yet). */
bool net_mqtt_unreachable(int err);
/* What a broker's refusal of CONNECT (return code @rc) means as an errno. */
int net_mqtt_connack_errno(int rc);

/* Mark the client's socket close-on-exec (libmosquitto does not ask). */
void net_mqtt_cloexec(struct mosquitto *mosq);

/*
 * Start libmosquitto's network thread with every signal blocked in it, so
 * that the stop signals always reach the caller's thread. 0 or a negative
 * errno.
 */
int net_mqtt_start_thread(struct mosquitto *mosq);

/*
 * Disconnect so that the broker sees every acknowledgement sent before:
 * after DISCONNECT, read and drop what still arrives until the broker
 * closes (at most @drain_ms), instead of closing a socket with unread data,
 * which would reset the connection and lose what the broker had not read.
 */
void net_mqtt_leave(struct mosquitto *mosq, int drain_ms);

#endif /* IPC_NET_MQTT_H */
