/* SPDX-License-Identifier: MIT */
/*
 * Exponential back-off: how long to stay away from something that failed
 * for a reason that time may cure (the process ran out of file descriptors
 * while accepting, a peer that refuses). Deadlines, not sleeps: the caller
 * folds net_backoff_deadline() into the timeout it already waits with.
 */
#ifndef IPC_NET_BACKOFF_H
#define IPC_NET_BACKOFF_H

#include <stdbool.h>
#include <stdint.h>

struct net_backoff {
	unsigned int initial_ms, max_ms;
	unsigned int next_ms;		/* 0: not backing off */
	uint64_t until_ns;		/* CLOCK_MONOTONIC end of this pause */
};

void net_backoff_init(struct net_backoff *b, unsigned int initial_ms,
		      unsigned int max_ms);

/* Another failure at @now_ns: start (or double) a pause. */
void net_backoff_fail(struct net_backoff *b, uint64_t now_ns);

/* A success: the next failure starts from initial_ms again. */
void net_backoff_reset(struct net_backoff *b);

/* True while the pause started by the last failure lasts. */
bool net_backoff_active(const struct net_backoff *b, uint64_t now_ns);

/* Milliseconds until the pause ends, rounded up; 0 when not pausing. */
int net_backoff_remaining_ms(const struct net_backoff *b, uint64_t now_ns);

#endif /* IPC_NET_BACKOFF_H */
