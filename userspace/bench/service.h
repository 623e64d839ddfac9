/* SPDX-License-Identifier: MIT */
/*
 * The processes that carry a mechanism's messages between the run's two
 * (dbus's bus daemon, mqtt's broker), given with --service-pid MECH:PID.
 *
 * Left to the scheduler, such a process runs on whichever CPU it likes, and
 * a "same core" figure then says where it happened to run (one event may
 * cross cores twice, or not at all) rather than what the transport costs.
 * So before every run of its mechanism it is pinned where the run's sender
 * is (CPU 0): in "same" all three share one CPU; in "cross" it sits with
 * the sender, one cross-core hop each way, for ours and bare alike. A run
 * pinned nowhere gives it back the affinity it had when ipc-bench started,
 * and so does ipc-bench's exit (normal, error, or SIGINT/SIGTERM/SIGHUP).
 * Every thread of the process is moved (sched_setaffinity() moves one).
 */
#ifndef BENCH_SERVICE_H
#define BENCH_SERVICE_H

#include "spawn.h"

#include <stddef.h>

/*
 * "MECH:PID": checks that MECH is a registered transport and that PID is a
 * process whose affinity this program may set, and remembers that
 * affinity. 0, or -1 after saying what is wrong on stderr.
 */
int service_add(const char *spec);

/*
 * Pins @mechanism's services for a run pinned as @pin. 0 (also when it has
 * none), or -errno with what failed written to @err.
 */
int service_pin(const char *mechanism, enum bench_pin pin, char *err, size_t len);

/*
 * Where @mechanism's services ran in its last run: "0" (a CPU), "any" (the
 * affinity they came with), "error"; NULL when it has none.
 */
const char *service_cpu(const char *mechanism);

#endif /* BENCH_SERVICE_H */
