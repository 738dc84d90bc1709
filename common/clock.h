/* SPDX-License-Identifier: GPL-2.0-only OR MIT */
/*
 * clock.h - cheap timestamps for lockstat.  On x86 with an invariant TSC a
 * timestamp is one rdtsc (11 ns here, against 25 ns for clock_gettime on
 * kvm-clock); cycles convert to ns with a ratio calibrated once per
 * process against CLOCK_MONOTONIC.
 *
 * Invariants: clock_cycles() is monotonic per thread.
 * Locking: calibration runs once under pthread_once.
 */
#ifndef PCPB_CLOCK_H
#define PCPB_CLOCK_H

#include <stdint.h>

#include "platform.h"

#if PCPB_HAVE_CYCLE_COUNTER
static inline uint64_t clock_cycles(void)
{
	return platform_cycles();
}
#else
uint64_t clock_cycles(void);
#endif

uint64_t clock_ns(void);
/* Calibrate (once); then cycles_to_ns() is valid. */
void clock_init(void);
uint64_t cycles_to_ns(uint64_t cycles);

#endif /* PCPB_CLOCK_H */
