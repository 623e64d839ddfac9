// SPDX-License-Identifier: MIT
/*
 * The entry point of a role process (ipc-bench --role=sender|receiver ...):
 * what spawn.c execs. It opens its endpoint like the real program would and
 * runs its measuring loop; results go to the control block.
 */
#include "role_main.h"

#include "endpoint.h"
#include "roles.h"
#include "stop.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define MAX_OPTIONS	32
#define OPEN_PATIENCE_S	10

static int side_fail(struct bench_side *s, int r, const char *what)
{
	snprintf(s->error, sizeof(s->error), "%s: %s", what, strerror(-r));
	s->status = r;
	return 1;
}

int role_main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "role", required_argument, NULL, 'R' },
		{ "mechanism", required_argument, NULL, 'm' },
		{ "bare", no_argument, NULL, 'b' },
		{ "mode", required_argument, NULL, 'M' },
		{ "events", required_argument, NULL, 'n' },
		{ "warmup", required_argument, NULL, 'w' },
		{ "gap-ns", required_argument, NULL, 'g' },
		{ "rate", required_argument, NULL, 'r' },
		{ "backlog", required_argument, NULL, 'B' },
		{ "control-fd", required_argument, NULL, 'c' },
		{ "fd", required_argument, NULL, 'f' },
		{ "runtime-dir", required_argument, NULL, 'd' },
		{ "bare-dir", required_argument, NULL, 'D' },
		{ "instance", required_argument, NULL, 'i' },
		{ "opt", required_argument, NULL, 'o' },
		{ NULL, 0, NULL, 0 },
	};
	const char *options[MAX_OPTIONS + 1] = { NULL };
	struct endpoint_config cfg = { .inherited_fd = -1 };
	struct role_params p = { .mode = MODE_LATENCY, .backlog = 1024 };
	const char *role = NULL;
	struct bench_control *c;
	struct bench_side *side;
	struct endpoint ep;
	int control_fd = -1, n_options = 0, opt, r;

	optind = 1;
	while ((opt = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (opt) {
		case 'R': role = optarg; break;
		case 'm': cfg.mechanism = optarg; break;
		case 'b': cfg.bare = true; break;
		case 'M':
			p.mode = !strcmp(optarg, "latency") ? MODE_LATENCY :
				 !strcmp(optarg, "saturation") ? MODE_SATURATION :
								  MODE_RATE;
			break;
		case 'n': p.events = strtoull(optarg, NULL, 10); break;
		case 'w': p.warmup = strtoull(optarg, NULL, 10); break;
		case 'g': p.gap_ns = strtoull(optarg, NULL, 10); break;
		case 'r': p.rate = strtod(optarg, NULL); break;
		case 'B': p.backlog = strtoul(optarg, NULL, 10); break;
		case 'c': control_fd = atoi(optarg); break;
		case 'f': cfg.inherited_fd = atoi(optarg); break;
		case 'd': cfg.runtime_dir = optarg; break;
		case 'D': cfg.bare_dir = optarg; break;
		case 'i': cfg.instance = optarg; break;
		case 'o':
			if (n_options < MAX_OPTIONS)
				options[n_options++] = optarg;
			break;
		default:
			return 2;
		}
	}
	if (!role || !cfg.mechanism || control_fd < 0) {
		fprintf(stderr, "ipc-bench: --role needs --mechanism and --control-fd\n");
		return 2;
	}
	c = control_attach(control_fd);
	if (!c) {
		fprintf(stderr, "ipc-bench: control block: %s\n", strerror(errno));
		return 1;
	}
	cfg.options = options;
	cfg.control = c;
	r = stop_init();
	if (r < 0) {
		fprintf(stderr, "ipc-bench: signals: %s\n", strerror(-r));
		return 1;
	}

	if (!strcmp(role, "receiver")) {
		side = &c->receiver;
		cfg.role = TRANSPORT_RECEIVER;
		r = endpoint_open(&cfg, &ep);
		if (r < 0)
			return side_fail(side, r, "open");
		r = role_receiver(&ep, c, &p);
	} else {
		side = &c->sender;
		cfg.role = TRANSPORT_SENDER;
		while (!atomic_load(&c->ready))
			if (futex_wait_shared(&c->ready, 0, OPEN_PATIENCE_S * 1000) == -ETIMEDOUT)
				return side_fail(side, -ETIMEDOUT, "waiting for the receiver");
		/* The receiver set ready once its object existed: one open. */
		r = endpoint_open(&cfg, &ep);
		if (r < 0)
			return side_fail(side, r, "open");
		r = role_sender(&ep, c, &p);
	}
	ep.close(&ep);
	return r < 0 ? 1 : 0;
}
