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

#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#define NSEC_PER_SEC	1000000000ull
#define NSEC_PER_MSEC	1000000ull

/* CLOCK_MONOTONIC in nanoseconds, the clock of every timestamp we carry. */
uint64_t monotonic_ns(void);

static inline uint64_t ms_to_ns(unsigned int ms)
{
	return (uint64_t)ms * NSEC_PER_MSEC;
}

/* Whole milliseconds in @ns, rounded up so a wait never ends early. */
static inline int ns_to_ms_up(uint64_t ns)
{
	uint64_t ms = (ns + NSEC_PER_MSEC - 1) / NSEC_PER_MSEC;

	return ms > INT_MAX ? INT_MAX : (int)ms;
}

/* @ms milliseconds (>= 0) as a relative timespec (ppoll, semtimedop). */
struct timespec ms_to_timespec(int ms);

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

/* The time left as a relative timespec in *@buf, for a timed wait
 * (semtimedop, futex): @buf, or NULL for a wait forever, which reads no
 * clock. */
const struct timespec *deadline_left_timeout(const struct deadline *d,
					     struct timespec *buf);

/* The deadline as an absolute CLOCK_MONOTONIC timespec (sem_clockwait). */
struct timespec deadline_end_timespec(const struct deadline *d);

#endif /* IPC_DEADLINE_H */
