/* SPDX-License-Identifier: MIT */
/*
 * One run: a receiver and a sender process, each this program exec'd again
 * in a role (so each starts with a fresh address space and its peak RSS is
 * its own), pinned as asked, sharing a control block; waited for with a
 * deadline (pidfds, no polling), killed if one fails or time runs out.
 */
#ifndef BENCH_SPAWN_H
#define BENCH_SPAWN_H

#include "control.h"
#include "histogram.h"
#include "roles.h"

#include <stdbool.h>
#include <stdint.h>

enum bench_pin {
	PIN_CROSS,	/* sender on CPU 0, receiver on CPU 1 */
	PIN_SAME,	/* both on CPU 0 */
	PIN_NONE,	/* where the scheduler likes */
};

struct run_spec {
	const char *mechanism;
	bool bare;
	enum bench_pin pin;
	struct role_params params;
	const char *runtime_dir;
	const char *bare_dir;
	const char *instance;
	const char *const *options;	/* key=value for this mechanism */
	int deadline_s;
};

struct run_result {
	bool ok;
	char error[256];
	struct bench_side sender;
	struct bench_side receiver;
	uint64_t start_ns;
	uint64_t last_rx_ns;
	struct histogram latency;
};

int run_once(const struct run_spec *spec, struct run_result *res);

const char *pin_name(enum bench_pin pin);

/* The CPU a run pinned as @pin puts its receiver or its sender on; -1: none. */
int pin_cpu(enum bench_pin pin, bool receiver);

#endif /* BENCH_SPAWN_H */
