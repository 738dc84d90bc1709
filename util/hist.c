// SPDX-License-Identifier: GPL-2.0-only OR MIT
/*
 * hist.c - log-linear histogram; see hist.h for the bucket layout.
 *
 * Invariants: those of hist.h.  Locking: none (caller serialises).
 */
#include "hist.h"

#include "minmax.h"

unsigned int hist_bucket(uint64_t v)
{
	unsigned int e;

	if (v < HIST_SUB)
		return (unsigned int)v;
	if (v >= (1ULL << (HIST_MAX_EXP + 1)))
		v = (1ULL << (HIST_MAX_EXP + 1)) - 1;
	e = 63 - (unsigned int)__builtin_clzll(v);
	return (e - HIST_SUB_BITS + 1) * HIST_SUB +
	       (unsigned int)((v >> (e - HIST_SUB_BITS)) & (HIST_SUB - 1));
}

uint64_t hist_bucket_upper(unsigned int idx)
{
	unsigned int e, sub;
	uint64_t lower;

	if (idx < HIST_SUB)
		return idx;
	e = idx / HIST_SUB + HIST_SUB_BITS - 1;
	sub = idx % HIST_SUB;
	lower = (uint64_t)(HIST_SUB + sub) << (e - HIST_SUB_BITS);
	return lower + (1ULL << (e - HIST_SUB_BITS)) - 1;
}

void hist_record(struct hist *h, uint64_t v)
{
	if (!h->count || v < h->min)
		h->min = v;
	h->buckets[hist_bucket(v)]++;
	h->count++;
	h->total += v;
	if (v > h->max)
		h->max = v;
}

void hist_merge(struct hist *dst, const struct hist *src)
{
	unsigned int i;

	if (!src->count)
		return;
	if (!dst->count || src->min < dst->min)
		dst->min = src->min;
	for (i = 0; i < HIST_NR_BUCKETS; i++)
		dst->buckets[i] += src->buckets[i];
	dst->count += src->count;
	dst->total += src->total;
	if (src->max > dst->max)
		dst->max = src->max;
}

uint64_t hist_quantile(const struct hist *h, double q)
{
	uint64_t want, seen = 0;
	unsigned int i;

	if (!h->count)
		return 0;
	want = (uint64_t)(q * (double)h->count + 0.999999);
	if (want < 1)
		want = 1;
	for (i = 0; i < HIST_NR_BUCKETS; i++) {
		seen += h->buckets[i];
		if (seen >= want)
			return MIN(hist_bucket_upper(i), h->max);
	}
	return h->max;
}
