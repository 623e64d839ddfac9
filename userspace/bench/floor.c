// SPDX-License-Identifier: MIT
/*
 * The floor: the cheapest cross-process wake-up this machine has. The value
 * is stored in a word of shared memory and the waiter is woken with
 * FUTEX_WAKE; the receiver sleeps in FUTEX_WAIT until the word changes. Each
 * mechanism's latency is also given as a multiple of this one.
 *
 * One slot, so the sender waits (on a second futex word) until the value
 * was taken: a two-word hand-off, all a ping-pong needs.
 */
#include "endpoint.h"

#include <errno.h>

static int floor_send(struct endpoint *ep, uint32_t value)
{
	struct bench_control *c = ep->priv;
	uint32_t taken;

	/* Until the receiver took the previous value (floor_ack == word). */
	while ((taken = atomic_load(&c->floor_ack)) != atomic_load(&c->floor_word)) {
		atomic_store(&c->floor_waiting, 1);
		if (atomic_load(&c->floor_ack) == taken)
			futex_wait_shared(&c->floor_ack, taken, -1);
	}
	atomic_store(&c->floor_word, value);
	futex_wake_shared(&c->floor_word);
	return 0;
}

static int floor_receive(struct endpoint *ep, uint32_t *ret_value, int timeout_ms)
{
	struct bench_control *c = ep->priv;
	uint32_t taken = atomic_load(&c->floor_ack), v;
	int r;

	while ((v = atomic_load(&c->floor_word)) == taken) {
		r = futex_wait_shared(&c->floor_word, taken, timeout_ms);
		if (r == -ETIMEDOUT)
			return r;
	}
	atomic_store(&c->floor_ack, v);
	/* A wake-up costs a system call: only when the sender sleeps. */
	if (atomic_exchange(&c->floor_waiting, 0))
		futex_wake_shared(&c->floor_ack);
	*ret_value = v;
	return 1;
}

static int floor_poll_fd(struct endpoint *ep, short *ret_events)
{
	(void)ep;
	(void)ret_events;
	return -1;
}

static void floor_close(struct endpoint *ep)
{
	ep->priv = NULL;
}

int endpoint_open_floor(const struct endpoint_config *cfg, struct endpoint *ep)
{
	*ep = (struct endpoint){
		.name = "futex",
		.lossless = true,
		.send = floor_send,
		.receive = floor_receive,
		.poll_fd = floor_poll_fd,
		.close = floor_close,
		.priv = cfg->control,
	};
	return 0;
}
