// SPDX-License-Identifier: MIT
#include "histogram.h"

#include <string.h>

void histogram_init(struct histogram *h)
{
	memset(h, 0, sizeof(*h));
	h->min_ns = UINT64_MAX;
}

static size_t bucket_of(uint64_t v)
{
	unsigned int e, shift;
	size_t i;

	if (v < HISTOGRAM_SUB)
		return v;
	e = 63 - __builtin_clzll(v);		/* v's highest bit, >= SUB_BITS */
	shift = e - HISTOGRAM_SUB_BITS;
	i = HISTOGRAM_SUB * (shift + 1) + ((v >> shift) & (HISTOGRAM_SUB - 1));
	return i < HISTOGRAM_BUCKETS ? i : HISTOGRAM_BUCKETS - 1;
}

uint64_t histogram_bucket_low(size_t i)
{
	unsigned int shift;

	if (i < HISTOGRAM_SUB)
		return i;
	shift = i / HISTOGRAM_SUB - 1;
	return (uint64_t)(HISTOGRAM_SUB + i % HISTOGRAM_SUB) << shift;
}

uint64_t histogram_bucket_width(size_t i)
{
	return i < HISTOGRAM_SUB ? 1 : 1ull << (i / HISTOGRAM_SUB - 1);
}

void histogram_add(struct histogram *h, uint64_t ns)
{
	h->buckets[bucket_of(ns)]++;
	h->count++;
	h->sum_ns += ns;
	if (ns < h->min_ns)
		h->min_ns = ns;
	if (ns > h->max_ns)
		h->max_ns = ns;
}

uint64_t histogram_quantile(const struct histogram *h, double q)
{
	uint64_t rank, seen = 0, v;

	if (!h->count)
		return 0;
	rank = (uint64_t)(q * (double)h->count + 0.999999);
	if (rank < 1)
		rank = 1;
	if (rank >= h->count)
		return h->max_ns;
	for (size_t i = 0; i < HISTOGRAM_BUCKETS; i++) {
		seen += h->buckets[i];
		if (seen >= rank) {
			v = histogram_bucket_low(i) + histogram_bucket_width(i) / 2;
			if (v > h->max_ns)
				v = h->max_ns;
			if (v < h->min_ns)
				v = h->min_ns;
			return v;
		}
	}
	return h->max_ns;
}
