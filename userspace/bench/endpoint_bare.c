// SPDX-License-Identifier: MIT
/*
 * The bare side of the comparison: one of the files in bare/, carrying the seqno as a
 * raw 8-byte value. The floor (futex) is one of them.
 */
#include "endpoint.h"

#include "bare/bare.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

extern const struct bare_ops *const __start_bench_bare[];
extern const struct bare_ops *const __stop_bench_bare[];

const struct bare_ops *bare_find(const char *name)
{
	for (const struct bare_ops *const *p = __start_bench_bare;
	     p < __stop_bench_bare; p++)
		if (!strcmp((*p)->name, name))
			return *p;
	return NULL;
}

static int bare_ep_send(struct endpoint *ep, uint32_t seqno)
{
	struct bare *b = ep->priv;

	return b->ops->send(b, seqno);
}

static int bare_ep_receive(struct endpoint *ep, uint32_t *ret_seqno,
			   int timeout_ms)
{
	struct bare *b = ep->priv;
	uint64_t value;
	int r;

	r = b->ops->receive(b, &value, timeout_ms);
	if (r < 0)
		return r;
	*ret_seqno = (uint32_t)value;
	return 1;
}

static int bare_ep_poll_fd(struct endpoint *ep)
{
	(void)ep;
	return -1;
}

static void bare_ep_close(struct endpoint *ep)
{
	struct bare *b = ep->priv;

	b->ops->close(b);
	free(b);
	ep->priv = NULL;
}

int endpoint_open_bare(const struct endpoint_config *cfg, struct endpoint *ep)
{
	const struct bare_ops *ops = bare_find(cfg->mechanism);
	struct bare *b;
	int r;

	if (!ops)
		return -ENOENT;
	b = calloc(1, sizeof(*b));
	if (!b)
		return -ENOMEM;
	b->ops = ops;
	b->receiver = cfg->role == TRANSPORT_RECEIVER;
	b->dir = cfg->bare_dir;
	b->instance = cfg->instance;
	b->inherited_fd = cfg->inherited_fd;
	b->options = cfg->options;
	b->control = cfg->control;
	r = ops->open(b);
	if (r < 0) {
		free(b);
		return r;
	}
	*ep = (struct endpoint){
		.name = ops->name,
		.lossless = !ops->lossy,
		.send = bare_ep_send,
		.receive = bare_ep_receive,
		.poll_fd = bare_ep_poll_fd,
		.close = bare_ep_close,
		.priv = b,
	};
	return 0;
}
