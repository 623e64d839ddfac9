/* SPDX-License-Identifier: MIT */
/*
 * The one exponential back-off: how long to stay away from something that
 * failed for a reason time may cure (no receiver yet, a full mechanism
 * without an fd to wait on, out of file descriptors while accepting, a
 * peer that refuses). Pauses double from the first to the last and start
 * over after a success. Deadlines, not sleeps: the caller folds the pause
 * into the timeout it already waits with (a timerfd, a ppoll timeout).
 */
#ifndef IPC_BACKOFF_H
#define IPC_BACKOFF_H

#include <stdbool.h>
#include <stdint.h>

struct backoff {
	unsigned int initial_ms, max_ms;
	unsigned int next_ms;		/* 0: not backing off */
	uint64_t until_ns;		/* CLOCK_MONOTONIC end of this pause */
};

void backoff_init(struct backoff *b, unsigned int initial_ms,
		  unsigned int max_ms);

/*
 * Another failure at @now_ns: start (or double) a pause. Returns its
 * length in milliseconds.
 */
unsigned int backoff_fail(struct backoff *b, uint64_t now_ns);

/* True between a failure and the next backoff_reset(). */
static inline bool backoff_started(const struct backoff *b)
{
	return b->next_ms != 0;
}

/* A success: the next failure starts from initial_ms again. */
void backoff_reset(struct backoff *b);

/* True while the pause started by the last failure lasts. */
bool backoff_active(const struct backoff *b, uint64_t now_ns);

/* Milliseconds until the pause ends, rounded up; 0 when not pausing. */
int backoff_remaining_ms(const struct backoff *b, uint64_t now_ns);

#endif /* IPC_BACKOFF_H */
