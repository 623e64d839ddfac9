/* SPDX-License-Identifier: MIT */
/*
 * A receive timeout that survives retries. A transport that waits in a
 * loop (a spurious wake-up, an interrupted call, a frame it refuses) must
 * not restart its timeout on every turn, or a steady trickle of refused
 * frames would make a 100 ms receive last forever: so the wait is measured
 * against one absolute CLOCK_MONOTONIC deadline, taken once.
 */
#ifndef IPC_DEADLINE_H
#define IPC_DEADLINE_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

struct deadline {
	bool forever;		/* timeout_ms was negative */
	uint64_t end_ns;	/* CLOCK_MONOTONIC */
};

/* Start a wait of @timeout_ms milliseconds (negative: forever). */
void deadline_start(struct deadline *d, int timeout_ms);

/* Milliseconds left, rounded up so a wait never ends early; -1 forever. */
int deadline_left_ms(const struct deadline *d);

/* Nanoseconds left, 0 once passed (not for a wait forever). */
uint64_t deadline_left_ns(const struct deadline *d);

/* The time left as a relative timespec (semtimedop). */
struct timespec deadline_left_timespec(const struct deadline *d);

/* The deadline as an absolute CLOCK_MONOTONIC timespec (sem_clockwait). */
struct timespec deadline_end_timespec(const struct deadline *d);

#endif /* IPC_DEADLINE_H */
