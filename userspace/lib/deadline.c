// SPDX-License-Identifier: MIT
#include "deadline.h"

uint64_t monotonic_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * NSEC_PER_SEC + (uint64_t)ts.tv_nsec;
}

static struct timespec ns_to_timespec(uint64_t ns)
{
	struct timespec ts = {
		.tv_sec = (time_t)(ns / NSEC_PER_SEC),
		.tv_nsec = (long)(ns % NSEC_PER_SEC),
	};

	return ts;
}

struct timespec ms_to_timespec(int ms)
{
	return ns_to_timespec(ms_to_ns((unsigned int)ms));
}

void deadline_start(struct deadline *d, int timeout_ms)
{
	d->forever = timeout_ms < 0;
	d->end_ns = d->forever ? UINT64_MAX :
		    monotonic_ns() + ms_to_ns((unsigned int)timeout_ms);
}

uint64_t deadline_left_ns(const struct deadline *d)
{
	uint64_t now = monotonic_ns();

	return now >= d->end_ns ? 0 : d->end_ns - now;
}

int deadline_left_ms(const struct deadline *d)
{
	if (d->forever)
		return -1;
	return ns_to_ms_up(deadline_left_ns(d));
}

const struct timespec *deadline_left_timeout(const struct deadline *d,
					     struct timespec *buf)
{
	if (d->forever)
		return NULL;
	*buf = ns_to_timespec(deadline_left_ns(d));
	return buf;
}

struct timespec deadline_end_timespec(const struct deadline *d)
{
	return ns_to_timespec(d->end_ns);
}
