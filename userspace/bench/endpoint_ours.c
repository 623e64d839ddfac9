// SPDX-License-Identifier: MIT
/*
 * Our side of the comparison: the real transport (userspace/ipc, through
 * the registry) carrying the real wire message, encoded as the button
 * encodes it and decoded and validated as the LED decodes it.
 */
#include "endpoint.h"

#include "log.h"
#include "message.h"
#include "stop.h"
#include "deadline.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

struct ours {
	struct transport *transport;
	struct transport_config config;
	bool led_on;
	uint8_t buf[IPC_MESSAGE_MAX_WIRE];
	uint8_t frames[TRANSPORT_BATCH_MAX][IPC_MESSAGE_SIZE];
	struct transport_batch batch;
};

const char *option_value(const char *const *options, const char *key)
{
	size_t len = strlen(key);

	for (; options && *options; options++)
		if (!strncmp(*options, key, len) && (*options)[len] == '=')
			return *options + len + 1;
	return NULL;
}

/* What the button does for each event: toggle on press, stamp, encode. */
static void encode_event(struct ours *o, uint32_t seqno, uint64_t now,
			 uint8_t *frame)
{
	struct ipc_message msg = {
		.type = seqno & 1 ? IPC_EVENT_PRESS : IPC_EVENT_RELEASE,
		.seqno = seqno,
		.event_ns = now,
		.send_ns = now,
	};

	if (msg.type == IPC_EVENT_PRESS)
		o->led_on = !o->led_on;
	msg.led_state = o->led_on;
	ipc_message_encode(&msg, frame);
}

static int ours_send(struct endpoint *ep, uint32_t seqno)
{
	struct ours *o = ep->priv;
	uint8_t frame[IPC_MESSAGE_SIZE];
	bool led_on = o->led_on;
	int r;

	encode_event(o, seqno, monotonic_ns(), frame);
	r = transport_send(o->transport, frame, sizeof(frame));
	if (r < 0)
		o->led_on = led_on;	/* offered again: toggles again */
	return r;
}

/*
 * The button's flush() with a backlog of @count events: encode them all,
 * one transport_send_many(); the ones not taken are offered again later,
 * so the LED state is rewound to the first of them.
 */
static int ours_send_many(struct endpoint *ep, uint32_t seqno, size_t count)
{
	struct ours *o = ep->priv;
	uint64_t now = monotonic_ns();
	bool led_on[TRANSPORT_BATCH_MAX];
	int r;

	if (count > TRANSPORT_BATCH_MAX)
		count = TRANSPORT_BATCH_MAX;
	for (size_t i = 0; i < count; i++) {
		led_on[i] = o->led_on;
		encode_event(o, seqno + (uint32_t)i, now, o->frames[i]);
	}
	r = transport_send_many(o->transport, o->frames[0], IPC_MESSAGE_SIZE,
				count);
	if (r < 0)
		o->led_on = led_on[0];
	else if ((size_t)r < count)
		o->led_on = led_on[r];
	return r == 0 ? -EPROTO : r;
}

/* What the LED does for each frame: validate, keep the state. */
static bool decode_frame(struct ours *o, const uint8_t *frame, size_t len,
			 uint32_t *ret_seqno)
{
	struct ipc_message msg;

	if (ipc_message_decode(frame, len, &msg) != IPC_MESSAGE_OK)
		return false;
	o->led_on = msg.led_state;
	*ret_seqno = msg.seqno;
	return true;
}

static int ours_receive(struct endpoint *ep, uint32_t *ret_seqno, int timeout_ms)
{
	struct ours *o = ep->priv;
	ssize_t n;

	n = transport_receive(o->transport, o->buf, sizeof(o->buf), timeout_ms);
	if (n < 0)
		return (int)n;
	return decode_frame(o, o->buf, (size_t)n, ret_seqno);
}

/* The LED's run(): one transport_receive_many(), each frame in order. */
static int ours_receive_many(struct endpoint *ep, struct endpoint_batch *batch,
			     int timeout_ms)
{
	struct ours *o = ep->priv;
	ssize_t n;

	n = transport_receive_many(o->transport, &o->batch, timeout_ms);
	if (n < 0)
		return (int)n;
	for (size_t i = 0; i < o->batch.count; i++)
		batch->valid[i] = decode_frame(o, o->batch.frame[i],
					       o->batch.len[i], &batch->seqno[i]);
	batch->count = o->batch.count;
	return (int)batch->count;
}

static int ours_poll_fd(struct endpoint *ep, short *ret_events)
{
	struct ours *o = ep->priv;

	*ret_events = transport_room_events(o->transport);
	return transport_poll_fd(o->transport);
}

static void ours_close(struct endpoint *ep)
{
	struct ours *o = ep->priv;

	stop_set_wake(NULL, NULL);
	transport_close(o->transport, NULL);
	free(o);
	ep->priv = NULL;
}

int endpoint_open_ours(const struct endpoint_config *cfg, struct endpoint *ep)
{
	const struct transport_ops *ops = transport_find(cfg->mechanism);
	struct ours *o;
	int r;

	if (!ops)
		return -ENOENT;
	o = calloc(1, sizeof(*o));
	if (!o)
		return -ENOMEM;
	o->config.runtime_dir = cfg->runtime_dir;
	o->config.instance = cfg->instance;
	o->config.inherited_fd = cfg->inherited_fd;
	o->config.options = cfg->options;
	o->config.notice = log_relay;
	r = transport_open(ops, cfg->role, &o->config, &o->transport, NULL);
	if (r < 0) {
		free(o);
		return r;
	}
	r = transport_arm_stop(o->transport);
	if (r < 0) {
		transport_close(o->transport, NULL);
		free(o);
		return r;
	}
	*ep = (struct endpoint){
		.name = ops->name,
		.lossless = ops->flags & TRANSPORT_LOSSLESS,
		.send = ours_send,
		.receive = ours_receive,
		.send_many = ours_send_many,
		.receive_many = ours_receive_many,
		.poll_fd = ours_poll_fd,
		.close = ours_close,
		.priv = o,
	};
	return 0;
}
