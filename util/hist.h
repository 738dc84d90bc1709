/* SPDX-License-Identifier: GPL-2.0-only OR MIT */
/*
 * hist.h - a log-linear (HDR-style) histogram of nanosecond values:
 * exact below 8, then 8 linear sub-buckets per power of two, so any
 * reported percentile is within 12.5% of the true value.
 *
 * Invariants:
 *   I1 count == sum(buckets); min and max are the exact smallest and
 *      largest recorded values (both 0 while count == 0).
 *
 * Locking: none; the owner serialises (a lock records under itself).
 */
#ifndef PCPB_HIST_H
#define PCPB_HIST_H

#include <stdint.h>

#define HIST_SUB_BITS 3
#define HIST_SUB (1U << HIST_SUB_BITS)
#define HIST_MAX_EXP 40 /* values clamp at ~1100 s */
#define HIST_NR_BUCKETS ((HIST_MAX_EXP - HIST_SUB_BITS + 2) * HIST_SUB)

struct hist {
	uint64_t count, total, min, max;
	uint64_t buckets[HIST_NR_BUCKETS];
};

unsigned int hist_bucket(uint64_t v);
uint64_t hist_bucket_upper(unsigned int idx);
void hist_record(struct hist *h, uint64_t v);
void hist_merge(struct hist *dst, const struct hist *src);
/* The smallest bucket bound covering fraction @q of the values (<= max). */
uint64_t hist_quantile(const struct hist *h, double q);

#endif /* PCPB_HIST_H */
