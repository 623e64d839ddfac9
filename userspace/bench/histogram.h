/* SPDX-License-Identifier: MIT */
/*
 * A latency histogram of fixed size: exact below 128 ns, then 128 buckets
 * per power of two, so every bucket is at most 1/128 (0.8 %) of its value
 * wide. A receiver records 100,000 or 10 million events in the same 18 KiB,
 * which keeps the benchmark's own memory out of the peak RSS it reports,
 * and percentiles come out within 0.8 % of the exact ones.
 */
#ifndef BENCH_HISTOGRAM_H
#define BENCH_HISTOGRAM_H

#include <stddef.h>
#include <stdint.h>

#define HISTOGRAM_SUB_BITS	7
#define HISTOGRAM_SUB		(1u << HISTOGRAM_SUB_BITS)
#define HISTOGRAM_OCTAVES	34	/* up to 2^41 ns, about 37 minutes */
#define HISTOGRAM_BUCKETS	(HISTOGRAM_SUB * (HISTOGRAM_OCTAVES + 1))

struct histogram {
	uint64_t count;
	uint64_t sum_ns;
	uint64_t min_ns;
	uint64_t max_ns;
	uint32_t buckets[HISTOGRAM_BUCKETS];
};

void histogram_init(struct histogram *h);
void histogram_add(struct histogram *h, uint64_t ns);

/* The value at quantile @q (0 < q <= 1): its bucket's middle, within max. */
uint64_t histogram_quantile(const struct histogram *h, double q);

/* Bucket @i's lowest value and width, for dumps and plots. */
uint64_t histogram_bucket_low(size_t i);
uint64_t histogram_bucket_width(size_t i);

#endif /* BENCH_HISTOGRAM_H */
