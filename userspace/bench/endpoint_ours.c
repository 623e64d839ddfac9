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
static int ours_send(struct endpoint *ep, uint32_t seqno)
{
	struct ours *o = ep->priv;
	uint8_t frame[IPC_MESSAGE_SIZE];
	struct ipc_message msg = {
		.type = seqno & 1 ? IPC_EVENT_PRESS : IPC_EVENT_RELEASE,
		.seqno = seqno,
	};

	if (msg.type == IPC_EVENT_PRESS)
		o->led_on = !o->led_on;
	msg.led_state = o->led_on;
	msg.event_ns = msg.send_ns = monotonic_ns();
	ipc_message_encode(&msg, frame);
	return transport_send(o->transport, frame, sizeof(frame));
}

/* What the LED does for each frame: receive, validate, keep the state. */
static int ours_receive(struct endpoint *ep, uint32_t *ret_seqno, int timeout_ms)
{
	struct ours *o = ep->priv;
	struct ipc_message msg;
	ssize_t n;

	n = transport_receive(o->transport, o->buf, sizeof(o->buf), timeout_ms);
	if (n < 0)
		return (int)n;
	if (ipc_message_decode(o->buf, (size_t)n, &msg) != IPC_MESSAGE_OK)
		return 0;
	o->led_on = msg.led_state;
	*ret_seqno = msg.seqno;
	return 1;
}

static int ours_poll_fd(struct endpoint *ep)
{
	struct ours *o = ep->priv;

	return transport_poll_fd(o->transport);
}

static void wake_transport(void *arg)
{
	struct transport *t = arg;

	t->ops->wake(t);
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
	if (cfg->role == TRANSPORT_RECEIVER && ops->wake)
		stop_set_wake(wake_transport, o->transport);
	*ep = (struct endpoint){
		.name = ops->name,
		.lossless = ops->flags & TRANSPORT_LOSSLESS,
		.send = ours_send,
		.receive = ours_receive,
		.poll_fd = ours_poll_fd,
		.close = ours_close,
		.priv = o,
	};
	return 0;
}
