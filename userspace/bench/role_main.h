/* SPDX-License-Identifier: MIT */
#ifndef BENCH_ROLE_MAIN_H
#define BENCH_ROLE_MAIN_H

/* ipc-bench --role=...: run one side of one run; the exit status says how. */
int role_main(int argc, char **argv);

#endif /* BENCH_ROLE_MAIN_H */
