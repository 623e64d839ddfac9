/* SPDX-License-Identifier: MIT */
/*
 * The adaptive spin of a shared-memory receiver (the spin=adaptive option
 * of shm-sysv, shm-posix and mmap). Waking a sleeping process costs a
 * futex wake-up and a trip through the scheduler, 10 to 45 µs cross-core
 * (the more under a hypervisor); a receiver that watches the ring for a
 * few microseconds before it sleeps takes a frame that comes meanwhile at
 * the cost of a cache miss, and its sender makes no wake-up call either.
 *
 * How long to watch is learnt, never set: an exponentially weighted mean
 * of the gaps between the frames taken (each new gap weighs 1/4). The
 * receiver spins only while that mean is at most SHM_SPIN_MAX_NS, and
 * then for twice the mean (at least SHM_SPIN_MIN_NS, at most
 * SHM_SPIN_MAX_NS) counted from the last frame. One long gap lifts the
 * mean past the cap, so sparse frames and an idle receiver never spin:
 * after its last frame a receiver spins once, at most SHM_SPIN_MAX_NS,
 * then sleeps as without the option. A spin that finds nothing (the
 * sender may need the very CPU we spin on) turns the next 1, 2, 4, ...
 * 64 spins off, until one finds a frame again.
 *
 * A receiver that sleeps makes its own gaps longer when its sender waits
 * for it (an acknowledgement, a full ring): the sleep adds a wake-up to
 * each gap, which keeps the mean above the cap, so the spin that would
 * shorten them is never tried. So while the mean is above the cap but
 * within SHM_SPIN_PROBE_GAP_MAX, every SHM_SPIN_PROBE_EVERY-th wait
 * spins anyway, SHM_SPIN_MAX_NS from the last frame (a probe); a frame a
 * probe finds sets the mean to its gap, the gap the spin makes. Sparse
 * frames never probe.
 *
 * A frame found costs no system call (nor, stop signals blocked, the two
 * that let them in and out around a sleep). A stop signal ends the spin
 * once the handler ran: at once when the signals are let in (stop.h),
 * else at the spin's end, at most SHM_SPIN_MAX_NS. The caller gives its
 * deadline, which ends the spin too.
 */
#ifndef IPC_SHM_SPIN_H
#define IPC_SHM_SPIN_H

#include "deadline.h"
#include "frame_ring.h"

#include <stdbool.h>
#include <stdint.h>

#define SHM_SPIN_MIN_NS		2000ull
/* Above two cross-core wake-ups under a hypervisor (~45 µs each), so
 * that frames sent back to back to a receiver asleep can show a mean
 * gap the spin may take on. */
#define SHM_SPIN_MAX_NS		100000ull
#define SHM_SPIN_PROBE_GAP_MAX	(4 * SHM_SPIN_MAX_NS)
#define SHM_SPIN_PROBE_EVERY	16
#define SHM_SPIN_OPTION		"spin"	/* off | adaptive */

struct shm_spin {
	bool adaptive;		/* the option; false: never spin */
	uint64_t last_ns;	/* when the last frames were taken; 0: never */
	uint64_t mean_gap_ns;
	unsigned int skip;	/* waits left without a spin, after a miss */
	unsigned int penalty;	/* the next skip after a miss */
	unsigned int probe_in;	/* waits left before a probe, mean above the cap */
	bool probed;		/* the frame about to be taken came to a probe */
};

/* The option's check for transport_option.check: NULL if @value is good. */
const char *shm_spin_check(const char *value);

/* Start with nothing learnt; @value is the option's value (NULL: off). */
void shm_spin_init(struct shm_spin *s, const char *value);

/* Frames were just taken from the ring: learn the gap since the last. */
void shm_spin_taken(struct shm_spin *s);

/* How long the next wait would spin, counted from the last frame: 0
 * when it would not (off, nothing learnt, sparse frames, backing off, no
 * probe due). */
uint64_t shm_spin_budget_ns(const struct shm_spin *s);

/*
 * The ring is empty: watch it while the learnt budget lasts. True as soon
 * as a frame is there; false when the budget is 0 or ran out, a stop
 * signal came or @d passed (the caller checks those and sleeps).
 */
bool shm_spin_wait(struct shm_spin *s, const struct frame_ring *ring,
		   const struct deadline *d);

#endif /* IPC_SHM_SPIN_H */
