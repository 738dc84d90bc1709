/* SPDX-License-Identifier: GPL-2.0-only OR MIT */
/*
 * stats.h - the statistics compare and sweep print, as mmtests'
 * compare-kernels and ministat print them: mean, standard deviation and
 * coefficient of variation of a metric over its runs, and against a
 * baseline the ratio of the means with its 95% confidence interval and
 * Welch's t-test (unequal variances).  The t distribution is GSL's.
 *
 * Invariants: with fewer than two runs every statistic is NaN, and nothing
 * is significant.  Locking: none.
 */
#ifndef PCPB_STATS_H
#define PCPB_STATS_H

#include <stdbool.h>

struct sample_stats {
	double mean, sd, cv; /* cv = sd / mean */
};

struct ratio_stats {
	double ratio, lo, hi; /* mean(b) / mean(a), its 95% interval */
	double p;	      /* Welch's two-sided p for mean(b) != mean(a) */
	bool significant;     /* Welch: p < 0.05 (the interval is apart) */
};

void sample_stats(const double *v, int n, struct sample_stats *s);
/*
 * ratio_stats - b's mean against a's: the interval by the delta method
 * (the ratio's relative variance is the sum of the means' relative
 * variances) with Welch-Satterthwaite degrees of freedom.
 */
void ratio_stats(const double *a, int na, const double *b, int nb,
		 struct ratio_stats *r);
/* "**" for p < 0.01, "*" for p < 0.05, "" otherwise (not significant). */
const char *significance_mark(const struct ratio_stats *r);

#endif /* PCPB_STATS_H */
