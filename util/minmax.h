/* SPDX-License-Identifier: GPL-2.0-only OR MIT */
/*
 * minmax.h - MIN() and MAX() for the drivers and tools, which do not see
 * the kernel vocabulary of common/compat.h (its min()/max()).
 *
 * Invariants: none; arguments are evaluated twice.  Locking: none.
 */
#ifndef PCPB_MINMAX_H
#define PCPB_MINMAX_H

#define MIN(a, b) ((a) < (b) ? (a) : (b))
#define MAX(a, b) ((a) > (b) ? (a) : (b))

#endif /* PCPB_MINMAX_H */
