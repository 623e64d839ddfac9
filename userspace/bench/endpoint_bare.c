// SPDX-License-Identifier: MIT
/*
 * The bare side of the comparison: the lesson of the mechanism
 * (userspace/examples), carrying the seqno as a raw 8-byte value; or, for
 * "futex", the floor (floor.c).
 */
#include "endpoint.h"

#include "lesson.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static int bare_ep_send(struct endpoint *ep, uint32_t seqno)
{
	struct lesson *l = ep->priv;

	return l->ops->send(l, seqno);
}

static int bare_ep_receive(struct endpoint *ep, uint32_t *ret_seqno,
			   int timeout_ms)
{
	struct lesson *l = ep->priv;
	uint64_t value;
	int r;

	r = l->ops->receive(l, &value, timeout_ms);
	if (r < 0)
		return r;
	*ret_seqno = (uint32_t)value;
	return 1;
}

static int bare_ep_poll_fd(struct endpoint *ep, short *ret_events)
{
	(void)ep;
	(void)ret_events;
	return -1;
}

static void bare_ep_close(struct endpoint *ep)
{
	struct lesson *l = ep->priv;

	lesson_close(l);
	free(l);
	ep->priv = NULL;
}

int endpoint_open_bare(const struct endpoint_config *cfg, struct endpoint *ep)
{
	const struct lesson_ops *ops;
	struct lesson *l;
	int r;

	if (!strcmp(cfg->mechanism, "futex"))
		return endpoint_open_floor(cfg, ep);
	ops = lesson_find(cfg->mechanism);
	if (!ops)
		return -ENOENT;
	l = calloc(1, sizeof(*l));
	if (!l)
		return -ENOMEM;
	*l = (struct lesson){
		.ops = ops,
		.receiver = cfg->role == TRANSPORT_RECEIVER,
		.dir = cfg->bare_dir,
		.instance = cfg->instance,
		.inherited_fd = cfg->inherited_fd,
		.options = cfg->options,
		.receiver_pid = &cfg->control->receiver_pid,
	};
	r = lesson_open(l);
	if (r < 0) {
		free(l);
		return r;
	}
	*ep = (struct endpoint){
		.name = ops->name,
		.lossless = !ops->lossy,
		.send = bare_ep_send,
		.receive = bare_ep_receive,
		.poll_fd = bare_ep_poll_fd,
		.close = bare_ep_close,
		.priv = l,
	};
	return 0;
}
