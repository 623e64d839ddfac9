/* SPDX-License-Identifier: MIT */
/*
 * The control block the benchmark's three processes share (the driver that
 * runs the matrix, and the sender and receiver it starts for one run): a
 * memfd mapped MAP_SHARED, inherited across exec as one descriptor.
 *
 * It carries what is *not* under test: the receiver's readiness, the
 * acknowledgement that paces the latency runs (one event in flight), the
 * send time of that event (so that mechanisms without a payload are timed
 * the same way as the others) and both sides' results. Every wait in it is
 * a futex wait: nothing here polls.
 */
#ifndef BENCH_CONTROL_H
#define BENCH_CONTROL_H

#include "histogram.h"

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

struct bench_side {
	int32_t status;		/* 0, or the negative errno that ended it */
	uint32_t pad;
	uint64_t events;	/* sent, or received and valid */
	uint64_t cpu_ns;	/* user + system time of the measured part */
	uint64_t wall_ns;	/* its duration */
	uint64_t rss_peak_kb;	/* VmHWM at the end */
	uint64_t eagain;	/* sender: sends that returned -EAGAIN */
	uint64_t overflowed;	/* sender: events pushed out of the backlog */
	uint64_t gaps;		/* receiver: seqno jumps forward */
	uint64_t lost;		/* receiver: events never seen */
	uint64_t reordered;	/* receiver: seqnos that went backwards */
	uint64_t rejected;	/* receiver: frames that failed validation */
	/*
	 * Receiver, latency runs: timed events whose receive() never slept
	 * (no voluntary context switch of the receiving thread during it):
	 * the event was there, or came, before the thread got off the CPU,
	 * so the figure is not a wake-up.
	 */
	uint64_t unslept;
	char error[192];
};

struct bench_control {
	/* Futex words first, each in its own cache line. */
	_Atomic uint32_t ready __attribute__((aligned(64)));
	_Atomic uint32_t ack __attribute__((aligned(64)));
	_Atomic uint64_t send_ns;	/* latency: send time of the event in flight */
	_Atomic uint32_t sender_done __attribute__((aligned(64)));
	_Atomic uint32_t last_seqno;
	_Atomic uint32_t receiver_done;	/* futex: the sender may close now */
	_Atomic uint64_t start_ns;	/* throughput: the sender's first send */
	_Atomic uint64_t last_rx_ns;	/* throughput: the receiver's last event */
	_Atomic uint32_t floor_word __attribute__((aligned(64)));
	_Atomic uint32_t floor_ack __attribute__((aligned(64)));
	_Atomic uint32_t floor_waiting;	/* the floor's sender sleeps on floor_ack */
	_Atomic uint32_t sender_waiting;	/* a sender sleeps on ack for room */
	_Atomic int32_t receiver_pid;	/* for the bare signal mechanism */

	struct bench_side sender __attribute__((aligned(64)));
	struct bench_side receiver;
	struct histogram latency;
};

/* A new control block in a close-on-exec memfd; *ret_fd is its descriptor. */
struct bench_control *control_create(int *ret_fd);
/* The one a child inherited as descriptor @fd. */
struct bench_control *control_attach(int fd);
void control_unmap(struct bench_control *c);

/* Shared (not private) futexes: the word lives in a shared mapping. */
/* Wait while *word == @val, up to @timeout_ms (-1: forever).
 * 0 when woken or the value changed, -ETIMEDOUT, -EINTR. */
int futex_wait_shared(_Atomic uint32_t *word, uint32_t val, int timeout_ms);
void futex_wake_shared(_Atomic uint32_t *word);

uint64_t now_ns(void);

/* VmHWM of this process, in KiB (0 when /proc is not there). */
uint64_t peak_rss_kb(void);
/* CPU time (user + system) of the whole process, in ns. */
uint64_t process_cpu_ns(void);
/* Voluntary context switches of the calling thread so far (it slept). */
uint64_t thread_sleeps(void);

#endif /* BENCH_CONTROL_H */
