/* SPDX-License-Identifier: MIT */
/*
 * The two measuring loops, one per process: the sender (standing for the
 * button process) and the receiver (standing for the LED process).
 *
 * latency:     one event in flight. The sender stamps CLOCK_MONOTONIC,
 *              publishes the stamp in the control block and sends; the
 *              receiver stamps again when receive() returned the event,
 *              records the difference (one way: send to receiver's return),
 *              and acknowledges through a futex, which lets the next one go
 *              after a pause (gap_ns): time for the receiver to block in its
 *              next receive, so that every timed event is a wake-up, for
 *              the bare versions and the floor as for ours. Without it the
 *              next event may be sent while the receiver is still on its
 *              way back into receive() (cross-core) or preempted by the
 *              woken sender (same core), and found without a wake-up; the
 *              receiver counts such receives (bench_side.unslept).
 * saturation:  the sender offers the rest of its events as fast as the
 *              mechanism takes them, in batches of up to TRANSPORT_BATCH_MAX
 *              (as the button flushes a backlog that holds them); on
 *              -EAGAIN it sleeps until the mechanism's fd is writable or the
 *              receiver made progress. Capacity, nothing dropped.
 * rate:        an offered load: events become due at a fixed rate (as if
 *              from the driver) and go through the button's own bounded
 *              backlog (lib/backlog), flushed in batches, and its -EAGAIN
 *              policy: wait for POLLOUT when the mechanism has an fd, else
 *              the button's back-off of 1 ms doubling to 1 s. An event
 *              pushed out of the full backlog is lost, as it would be in
 *              the button.
 *
 * The receiver takes what is there in batches, as the LED does, and checks
 * order and loss frame by frame. A lossless one waits without a timeout,
 * as the LED does (so the untimed paths are measured); the run's watchdog
 * (spawn.c) stops it when the sender died or nothing came for long after
 * its last event, and the run fails saying so. A lossy one waits at most
 * LOSSY_TIMEOUT_MS: that is how a lost datagram at the end is told.
 */
#ifndef BENCH_ROLES_H
#define BENCH_ROLES_H

#include "control.h"
#include "endpoint.h"

#include <stddef.h>
#include <stdint.h>

enum bench_mode {
	MODE_LATENCY,
	MODE_SATURATION,
	MODE_RATE,
};

struct role_params {
	enum bench_mode mode;
	uint64_t events;	/* measured events */
	uint64_t warmup;	/* latency: events sent first, not recorded */
	uint64_t gap_ns;	/* latency: pause after each acknowledgement */
	double rate;		/* rate: events per second offered */
	size_t backlog;		/* rate: the button's backlog capacity */
};

/* Both fill their side of @c (status, error, counters) and return its status. */
int role_sender(struct endpoint *ep, struct bench_control *c,
		const struct role_params *p);
int role_receiver(struct endpoint *ep, struct bench_control *c,
		  const struct role_params *p);

const char *mode_name(enum bench_mode mode);

#endif /* BENCH_ROLES_H */
