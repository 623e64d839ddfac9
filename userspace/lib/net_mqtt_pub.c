// SPDX-License-Identifier: MIT
#include "net_mqtt_pub.h"

#include "frame_batch.h"
#include "message.h"
#include "net_mqtt.h"

#include "number.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

/*
 * One publication of @len bytes whose last frame is @last (IPC_MESSAGE_SIZE
 * bytes; NULL: none): 0 or as net_mqtt_pub_frames(). A frame that does not
 * decode (a test of the receiver's checks) is not counted beyond the
 * receiver's progress: no report would ever name it.
 */
static int publish(struct net_mqtt_pub *p, const void *payload, size_t len,
		   const uint8_t *last)
{
	struct pub_window *w = p->window;
	struct ipc_message msg = { .seqno = 0 };
	bool tracked = last &&
		ipc_message_decode(last, IPC_MESSAGE_SIZE, &msg) == IPC_MESSAGE_OK;
	int rc, r = 0;

	pthread_mutex_lock(&w->lock);
	if (*p->error) {
		r = *p->error;
	} else if (!pub_window_take(w, msg.seqno)) {
		r = -EAGAIN;
	} else {
		/* Not under the lock: the network thread takes it to count
		 * an acknowledgement, which may come before this returns. */
		pthread_mutex_unlock(&w->lock);
		rc = mosquitto_publish(p->mosq, NULL, p->topic, (int)len,
				       payload, 1, false);
		pthread_mutex_lock(&w->lock);
		if (rc != MOSQ_ERR_SUCCESS) {
			pub_window_untake(w);
			p->last_rc = rc;
		} else {
			pub_window_sent(w, msg.seqno, tracked);
		}
		r = rc == MOSQ_ERR_NO_CONN ? -EAGAIN :
		    rc == MOSQ_ERR_OVERSIZE_PACKET ? -EMSGSIZE :
		    net_mqtt_errno(rc);
	}
	pthread_mutex_unlock(&w->lock);
	return r;
}

int net_mqtt_pub_frames(struct net_mqtt_pub *p, const uint8_t *frames,
			size_t len, size_t count)
{
	uint8_t batch[FRAME_BATCH_HEADER + FRAME_BATCH_MAX * IPC_MESSAGE_SIZE];
	int n, r;

	p->last_rc = MOSQ_ERR_SUCCESS;
	if (len > IPC_MESSAGE_MAX_WIRE || count > FRAME_BATCH_MAX)
		return -EMSGSIZE;
	/* Alone, or of an odd size (the caller's test of the receiver's
	 * checks): one bare frame per publication. */
	if (count == 1 || len > IPC_MESSAGE_SIZE) {
		r = publish(p, frames, len, len == IPC_MESSAGE_SIZE ? frames : NULL);
		return r < 0 ? r : 1;
	}
	n = frame_batch_encode(frames, len, count, batch, sizeof(batch));
	r = n < 0 ? n : publish(p, batch, (size_t)n, frames + (count - 1) * len);
	return r < 0 ? r : (int)count;
}

int net_mqtt_pub_start(struct net_mqtt_pub *p, const struct net_mqtt_config *c,
		       bool (*answered)(void *ctx), void *ctx, int timeout_ms,
		       bool *thread, char *why, size_t size)
{
	int rc = mosquitto_connect(p->mosq, c->host, c->port, c->keepalive);
	int r = net_mqtt_errno(rc);

	if (rc != MOSQ_ERR_SUCCESS) {
		snprintf(why, size, "%s the %s: %s", net_mqtt_unreachable(r) ?
			 "cannot reach" : "connecting to", c->label,
			 net_mqtt_strerror(rc));
		return net_mqtt_unreachable(r) ? 1 : r;
	}
	net_mqtt_cloexec(p->mosq);
	r = net_mqtt_start_thread(p->mosq);
	if (r < 0)
		return r;
	*thread = true;
	pthread_mutex_lock(&p->window->lock);
	if (!pub_window_wait(p->window, answered, ctx, timeout_ms)) {
		snprintf(why, size, "the %s did not answer within %d s",
			 c->label, timeout_ms / 1000);
		r = -ETIMEDOUT;
	} else {
		r = *p->error;
	}
	pthread_mutex_unlock(&p->window->lock);
	return r;
}

int net_mqtt_pub_follow(struct net_mqtt_pub *p)
{
	return mosquitto_subscribe(p->mosq, &p->progress_mid, p->progress_topic, 0);
}

bool net_mqtt_pub_refused(struct net_mqtt_pub *p, int mid, int qos_count,
			  const int *granted)
{
	if (mid != p->progress_mid || (qos_count >= 1 && granted[0] <= 2))
		return false;	/* 0x80: refused */
	pub_window_no_progress(p->window);
	return true;
}

static bool all_acked(void *ctx)
{
	const struct net_mqtt_pub *p = ctx;

	return !pub_window_unacked(p->window) || *p->error;
}

uint64_t net_mqtt_pub_linger(struct net_mqtt_pub *p, int ms)
{
	uint64_t unacked;

	pthread_mutex_lock(&p->window->lock);
	pub_window_wait(p->window, all_acked, p, ms);
	unacked = pub_window_unacked(p->window);
	pthread_mutex_unlock(&p->window->lock);
	return unacked;
}

bool net_mqtt_pub_progress(struct net_mqtt_pub *p,
			   const struct mosquitto_message *m)
{
	char text[NET_MQTT_PROGRESS_MAX];
	long long seqno;

	if (strcmp(m->topic, p->progress_topic) || m->payloadlen <= 0 ||
	    m->payloadlen >= (int)sizeof(text))
		return false;
	memcpy(text, m->payload, (size_t)m->payloadlen);
	text[m->payloadlen] = '\0';
	if (number_parse(text, 0, UINT32_MAX, &seqno) < 0)
		return false;
	pub_window_progress(p->window, (uint32_t)seqno);
	return true;
}

int net_mqtt_progress_payload(uint32_t seqno, char *buf)
{
	return snprintf(buf, NET_MQTT_PROGRESS_MAX, "%u", (unsigned int)seqno);
}
