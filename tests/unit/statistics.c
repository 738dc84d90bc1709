// SPDX-License-Identifier: GPL-2.0-only OR MIT
/*
 * statistics.c - the statistics compare and sweep print (tools/stats.c):
 * a sample compared with itself is not significant, clearly different
 * samples are, overlapping ones are not and their ratio's interval holds
 * 1.0, one run gives no statistic, and Welch's t matches a hand-computed
 * case.
 */
#include <math.h>

#include <criterion/criterion.h>

#include "../../tools/stats.h"

Test(statistics, a_sample_against_itself_is_not_significant)
{
	static const double v[] = { 101, 97, 104, 99, 95, 103, 100, 98 };
	struct ratio_stats r;

	ratio_stats(v, 8, v, 8, &r);
	cr_assert_float_eq(r.ratio, 1.0, 1e-12);
	cr_assert_float_eq(r.p, 1.0, 1e-9);
	cr_assert(!r.significant);
	cr_assert(r.lo < 1 && r.hi > 1);
	cr_assert_str_empty(significance_mark(&r));
}

Test(statistics, clearly_different_samples_are_significant)
{
	static const double a[] = { 100, 101, 99, 100, 100 };
	static const double b[] = { 200, 199, 201, 202, 198 };
	struct ratio_stats r;

	ratio_stats(a, 5, b, 5, &r);
	cr_assert_float_eq(r.ratio, 2.0, 1e-9);
	cr_assert(r.lo > 1.9 && r.hi < 2.1, "%f..%f", r.lo, r.hi);
	cr_assert(r.p < 0.01);
	cr_assert_str_eq(significance_mark(&r), "**");
}

Test(statistics, overlapping_samples_hold_one_in_their_interval)
{
	static const double a[] = { 100, 110, 90, 105 };
	static const double b[] = { 105, 95, 115, 100 };
	struct ratio_stats r;

	ratio_stats(a, 4, b, 4, &r);
	cr_assert(!r.significant);
	cr_assert(r.lo < 1 && r.hi > 1, "%f..%f", r.lo, r.hi);
}

Test(statistics, one_run_gives_no_statistic)
{
	static const double a[] = { 100 }, b[] = { 200 };
	struct sample_stats s;
	struct ratio_stats r;

	sample_stats(a, 1, &s);
	cr_assert(isnan(s.sd) && isnan(s.cv));
	ratio_stats(a, 1, b, 1, &r);
	cr_assert_float_eq(r.ratio, 2.0, 1e-12);
	cr_assert(isnan(r.p) && !r.significant);
}

/*
 * a = {1, 2, 3}, b = {4, 5, 6, 7}: means 2 and 5.5, variances 1 and 5/3;
 * se^2 = 1/3 + 5/12 = 0.75, t = 3.5 / sqrt(0.75) = 4.0415; Welch df =
 * 0.5625 / (0.1111/2 + 0.1736/3) = 4.9655.  With 5 df, |t| = 4.03 gives
 * p = 0.01 (tables); a little fewer df gives a little more.  The ratio
 * 2.75 has a wide interval by the delta method (a's CV is 50%): it holds
 * 1.0, which compare reports as a warning beside the significant mark.
 */
Test(statistics, welch_matches_the_hand_computed_case)
{
	static const double a[] = { 1, 2, 3 }, b[] = { 4, 5, 6, 7 };
	struct sample_stats s;
	struct ratio_stats r;

	sample_stats(b, 4, &s);
	cr_assert_float_eq(s.mean, 5.5, 1e-12);
	cr_assert_float_eq(s.sd, sqrt(5.0 / 3.0), 1e-12);
	ratio_stats(a, 3, b, 4, &r);
	cr_assert(r.p > 0.0095 && r.p < 0.0110, "p = %f", r.p);
	cr_assert(r.significant);
	cr_assert_float_eq(r.ratio, 2.75, 1e-12);
	cr_assert(r.lo < 1 && r.hi > 4.5, "%f..%f", r.lo, r.hi);
}
