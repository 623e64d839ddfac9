// SPDX-License-Identifier: MIT
#include "net_mqtt_loop.h"

#include "deadline.h"
#include "net_mqtt.h"
#include "stop.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>

/* Receiver reconnection: first pause, then doubling up to the maximum. */
#define NET_MQTT_BACKOFF_MIN_MS	100
#define NET_MQTT_BACKOFF_MAX_MS	5000

int net_mqtt_loop_init(struct net_mqtt_loop *l, struct mosquitto *mosq,
		       const struct net_mqtt_config *cfg, const int *error)
{
	l->mosq = mosq;
	l->cfg = cfg;
	l->error = error;
	l->connected = false;
	l->last_rc = l->last_errno = 0;
	backoff_init(&l->backoff, NET_MQTT_BACKOFF_MIN_MS,
		     NET_MQTT_BACKOFF_MAX_MS);
	/*
	 * Not for threads: in this mode libmosquitto queues what it sends
	 * (the PUBACK of each frame included) until mosquitto_loop_write(),
	 * which the caller lets happen only once it applied the frame.
	 */
	mosquitto_threaded_set(mosq, true);
	return ready_set_new(&l->ready);
}

void net_mqtt_loop_free(struct net_mqtt_loop *l)
{
	ready_set_free(l->ready);
	l->ready = NULL;
}

int net_mqtt_loop_fd(const struct net_mqtt_loop *l)
{
	return ready_set_fd(l->ready);
}

void net_mqtt_loop_connected(struct net_mqtt_loop *l)
{
	l->connected = true;
	backoff_reset(&l->backoff);
}

/* The connection is gone: never watch its socket's number again. */
static void schedule_reconnect(struct net_mqtt_loop *l)
{
	l->connected = false;
	(void)ready_set_watch(l->ready, -1, 0);
	if (!*l->error)
		backoff_fail(&l->backoff, monotonic_ns());
}

void net_mqtt_loop_lost(struct net_mqtt_loop *l, int rc)
{
	l->last_rc = rc;
	l->last_errno = rc == MOSQ_ERR_ERRNO ? errno : 0;
	schedule_reconnect(l);
}

int net_mqtt_loop_flush(struct net_mqtt_loop *l)
{
	if (mosquitto_socket(l->mosq) < 0 || !mosquitto_want_write(l->mosq))
		return MOSQ_ERR_SUCCESS;
	return mosquitto_loop_write(l->mosq, 1);
}

void net_mqtt_loop_service(struct net_mqtt_loop *l)
{
	bool due = !backoff_active(&l->backoff, monotonic_ns());
	int rc;

	if (!l->connected && mosquitto_socket(l->mosq) < 0) {
		if (!due)
			return;
		rc = mosquitto_reconnect_async(l->mosq);
		if (rc != MOSQ_ERR_SUCCESS) {
			schedule_reconnect(l);
			return;
		}
		net_mqtt_cloexec(l->mosq);
	}
	rc = net_mqtt_loop_flush(l);
	if (rc == MOSQ_ERR_SUCCESS && mosquitto_socket(l->mosq) >= 0)
		rc = mosquitto_loop_read(l->mosq, 1);
	if (rc == MOSQ_ERR_SUCCESS && mosquitto_socket(l->mosq) >= 0)
		rc = mosquitto_loop_misc(l->mosq);
	/* A connection that failed before on_disconnect could run. */
	if (rc != MOSQ_ERR_SUCCESS && mosquitto_socket(l->mosq) < 0 &&
	    !backoff_active(&l->backoff, monotonic_ns()) && !*l->error)
		schedule_reconnect(l);
}

int net_mqtt_loop_arm(struct net_mqtt_loop *l, bool pending)
{
	int fd = mosquitto_socket(l->mosq);
	uint64_t when;
	int r;

	/* Marked pending, the set is readable anyway: watching for POLLOUT
	 * too would only cost two epoll_ctl() per frame (on, then off). */
	r = ready_set_watch(l->ready, fd, (short)(POLLIN |
			    (fd >= 0 && !pending && mosquitto_want_write(l->mosq) ?
			     POLLOUT : 0)));
	if (r < 0)
		return r;
	if (fd < 0)
		when = backoff_active(&l->backoff, monotonic_ns()) ?
		       l->backoff.until_ns : monotonic_ns();
	else	/* keep-alive: libmosquitto pings when it is due */
		when = monotonic_ns() + (uint64_t)l->cfg->keepalive * 500000000ULL;
	r = ready_set_deadline(l->ready, when);
	if (r >= 0)
		r = ready_set_mark(l->ready, pending);
	return r;
}

int net_mqtt_loop_wait(struct net_mqtt_loop *l, bool pending, int timeout_ms)
{
	int r = net_mqtt_loop_arm(l, pending);

	/*
	 * A wait that finds the socket ready does not let a pending stop
	 * signal in, and batches may keep it ready for long: let it in now
	 * and then.
	 */
	if (r >= 0 && ++l->unwaited >= NET_MQTT_LOOP_STOP_CHECK) {
		l->unwaited = 0;
		stop_unblock();
		stop_block();
		if (stop_requested())
			return -EINTR;
	}
	return r < 0 ? r : ready_set_wait(l->ready, timeout_ms);
}

/* The first connection ended before any answer: say why, and what to check. */
static int first_connection_failed(struct net_mqtt_loop *l, char *why,
				   size_t size)
{
	bool closed = l->last_rc == MOSQ_ERR_CONN_LOST;	/* TLS expected? */

	snprintf(why, size, "cannot connect to the %s: %s (%s)", l->cfg->label,
		 closed ? "it closed the connection" :
		 l->last_errno ? strerror(l->last_errno) :
		 mosquitto_strerror(l->last_rc),
		 closed ? "TLS expected? options ca=, port=" :
		 "is the broker running? options host=, port=");
	return l->last_errno ? -l->last_errno : -ECONNREFUSED;
}

int net_mqtt_loop_open(struct net_mqtt_loop *l, bool (*ready)(void *ctx),
		       void *ctx, int timeout_ms, char *why, size_t size)
{
	const struct net_mqtt_config *c = l->cfg;
	struct deadline end;
	int rc, r;

	rc = mosquitto_connect_async(l->mosq, c->host, c->port, c->keepalive);
	if (rc == MOSQ_ERR_EAI) {
		snprintf(why, size, "cannot resolve the broker's host name '%s'",
			 c->host);
		return -EHOSTUNREACH;
	}
	if (rc != MOSQ_ERR_SUCCESS) {
		snprintf(why, size, "cannot connect to the %s: %s%s", c->label,
			 net_mqtt_strerror(rc),
			 net_mqtt_errno(rc) == -ECONNREFUSED ?
			 " (is the broker running? options host=, port=)" : "");
		return net_mqtt_errno(rc);
	}
	net_mqtt_cloexec(l->mosq);
	deadline_start(&end, timeout_ms);
	while (!ready(ctx)) {
		if (deadline_left_ns(&end) == 0) {
			snprintf(why, size, "no answer from the %s within %d s",
				 c->label, timeout_ms / 1000);
			return -ETIMEDOUT;
		}
		/* Refused, or closed before any answer. */
		if (!l->connected && l->backoff.until_ns)
			return first_connection_failed(l, why, size);
		r = net_mqtt_loop_wait(l, false, deadline_left_ms(&end));
		if (r < 0 && r != -ETIMEDOUT)
			return r;
		net_mqtt_loop_service(l);
	}
	return 0;
}
