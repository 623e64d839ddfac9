// SPDX-License-Identifier: MIT
#include "shm_spin.h"

#include "stop.h"

#include <string.h>

#define GAP_WEIGHT_SHIFT	2	/* each new gap weighs 1/4 */
#define GAP_SAMPLE_MAX		(8 * SHM_SPIN_MAX_NS)	/* one lifts the mean 2x past the cap */
#define PENALTY_MAX		64

/* A receiver that is off, or has learnt nothing, never probes. */
_Static_assert(GAP_SAMPLE_MAX > SHM_SPIN_PROBE_GAP_MAX,
	       "the first mean lies above the probe range");
#define LOOKS_PER_CLOCK		32	/* ring looks between clock reads */

/* Tell the CPU we busy-wait: it saves power and yields to a sibling. */
static inline void cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#elif defined(__aarch64__) || defined(__arm__)
	__asm__ volatile("yield" ::: "memory");
#else
	__atomic_signal_fence(__ATOMIC_SEQ_CST);
#endif
}

const char *shm_spin_check(const char *value)
{
	if (!strcmp(value, "off") || !strcmp(value, "adaptive"))
		return NULL;
	return "expected off or adaptive";
}

void shm_spin_init(struct shm_spin *s, const char *value)
{
	*s = (struct shm_spin){
		.adaptive = value && !strcmp(value, "adaptive"),
		.mean_gap_ns = GAP_SAMPLE_MAX,	/* sparse until shown otherwise */
		.penalty = 1,
		.probe_in = SHM_SPIN_PROBE_EVERY,
	};
}

void shm_spin_taken(struct shm_spin *s)
{
	uint64_t now, gap;

	if (!s->adaptive)
		return;
	now = monotonic_ns();
	gap = s->last_ns ? now - s->last_ns : GAP_SAMPLE_MAX;
	if (gap > GAP_SAMPLE_MAX)
		gap = GAP_SAMPLE_MAX;
	if (s->probed)
		s->mean_gap_ns = gap;	/* the gap a spin makes: try it on */
	else if (gap >= s->mean_gap_ns)
		s->mean_gap_ns += (gap - s->mean_gap_ns) >> GAP_WEIGHT_SHIFT;
	else
		s->mean_gap_ns -= (s->mean_gap_ns - gap) >> GAP_WEIGHT_SHIFT;
	s->last_ns = now;
	s->probed = false;
}

/* Is the mean above the cap, but close enough to try a spin now and then? */
static bool probing(const struct shm_spin *s)
{
	return s->mean_gap_ns > SHM_SPIN_MAX_NS &&
	       s->mean_gap_ns <= SHM_SPIN_PROBE_GAP_MAX;
}

uint64_t shm_spin_budget_ns(const struct shm_spin *s)
{
	uint64_t budget = 2 * s->mean_gap_ns;

	if (!s->adaptive || !s->last_ns || s->skip)
		return 0;
	if (s->mean_gap_ns > SHM_SPIN_MAX_NS)
		return probing(s) && !s->probe_in ? SHM_SPIN_MAX_NS : 0;
	if (budget < SHM_SPIN_MIN_NS)
		budget = SHM_SPIN_MIN_NS;
	return budget > SHM_SPIN_MAX_NS ? SHM_SPIN_MAX_NS : budget;
}

bool shm_spin_wait(struct shm_spin *s, const struct frame_ring *ring,
		   const struct deadline *d)
{
	uint64_t budget = shm_spin_budget_ns(s), end;

	if (s->skip) {
		s->skip--;
		return false;
	}
	if (!budget) {
		/* Off, or nothing learnt, the mean stays where init put it,
		 * above the probe range: only a probe not due yet counts. */
		if (probing(s) && s->probe_in)
			s->probe_in--;
		return false;
	}
	if (probing(s))
		s->probe_in = SHM_SPIN_PROBE_EVERY;
	end = s->last_ns + budget;
	if (!d->forever && d->end_ns < end)
		end = d->end_ns;
	if (monotonic_ns() >= end)
		return false;	/* the budget went by while we worked */
	do {
		for (unsigned int i = 0; i < LOOKS_PER_CLOCK; i++) {
			if (frame_ring_pending(ring)) {
				s->penalty = 1;
				s->probed = probing(s);
				return true;
			}
			cpu_relax();
		}
	} while (!stop_requested() && monotonic_ns() < end);
	if (stop_requested())
		return false;
	/* Nothing came: leave the CPU to the sender for a while. */
	s->skip = s->penalty;
	if (s->penalty < PENALTY_MAX)
		s->penalty *= 2;
	return false;
}
