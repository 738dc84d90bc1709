/* SPDX-License-Identifier: GPL-2.0-only OR MIT */
/*
 * number.h - the one number parser of every option and value: a decimal
 * (or exponent) number, whole when asked, finite, in [lo, hi], with
 * nothing after it.  NaN, inf, "63abc", "1e3" for a count that must be
 * whole and 1e3 is not, overflow: all refused.
 *
 * Invariants: *out is written only on success.  Locking: none.
 */
#ifndef PCPB_NUMBER_H
#define PCPB_NUMBER_H

#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdlib.h>

/* Return: 0, or -EINVAL; @whole asks for an integer value. */
static inline int parse_number(const char *s, double lo, double hi, bool whole,
			       double *out)
{
	char *end;
	double v;

	if (!s || !*s || *s == ' ' || *s == '\t')
		return -EINVAL;
	errno = 0;
	v = strtod(s, &end);
	if (end == s || *end || errno == ERANGE || !isfinite(v) || v < lo ||
	    v > hi || (whole && v != floor(v)))
		return -EINVAL;
	*out = v;
	return 0;
}

#endif /* PCPB_NUMBER_H */
