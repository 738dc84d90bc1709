// SPDX-License-Identifier: GPL-2.0-only OR MIT
/*
 * stats.c - sample and ratio statistics for compare and sweep; see
 * stats.h.  Welch's t-test: t = (mb - ma) / sqrt(va/na + vb/nb) with
 * Welch-Satterthwaite degrees of freedom; p from GSL's t distribution.
 *
 * Invariants and locking: stats.h.
 */
#include "stats.h"

#include <gsl/gsl_cdf.h>
#include <math.h>

void sample_stats(const double *v, int n, struct sample_stats *s)
{
	double sum = 0, sq = 0;
	int i;

	s->mean = s->sd = s->cv = NAN;
	if (n < 1)
		return;
	for (i = 0; i < n; i++)
		sum += v[i];
	s->mean = sum / n;
	if (n < 2)
		return;
	for (i = 0; i < n; i++)
		sq += (v[i] - s->mean) * (v[i] - s->mean);
	s->sd = sqrt(sq / (n - 1));
	s->cv = s->mean != 0 ? s->sd / fabs(s->mean) : NAN;
}

void ratio_stats(const double *a, int na, const double *b, int nb,
		 struct ratio_stats *r)
{
	struct sample_stats sa, sb;
	double va, vb, se, df, t, rel, q;

	sample_stats(a, na, &sa);
	sample_stats(b, nb, &sb);
	r->ratio = sa.mean != 0 ? sb.mean / sa.mean : NAN;
	r->lo = r->hi = r->p = NAN;
	r->significant = false;
	if (na < 2 || nb < 2 || sa.mean == 0 || sb.mean == 0)
		return;
	va = sa.sd * sa.sd / na;
	vb = sb.sd * sb.sd / nb;
	if (va + vb == 0) {
		/* Identical runs: the interval is the point. */
		r->lo = r->hi = r->ratio;
		r->p = sa.mean == sb.mean ? 1.0 : 0.0;
		r->significant = sa.mean != sb.mean;
		return;
	}
	se = sqrt(va + vb);
	df = (va + vb) * (va + vb) /
	     ((va * va) / (na - 1) + (vb * vb) / (nb - 1));
	t = (sb.mean - sa.mean) / se;
	r->p = 2 * gsl_cdf_tdist_Q(fabs(t), df);
	rel = sqrt(va / (sa.mean * sa.mean) + vb / (sb.mean * sb.mean));
	q = gsl_cdf_tdist_Qinv(0.025, df);
	r->lo = r->ratio * (1 - q * rel);
	r->hi = r->ratio * (1 + q * rel);
	r->significant = r->p < 0.05;
}

const char *significance_mark(const struct ratio_stats *r)
{
	if (!r->significant)
		return "";
	return r->p < 0.01 ? "**" : "*";
}
