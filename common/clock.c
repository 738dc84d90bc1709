// SPDX-License-Identifier: GPL-2.0-only OR MIT
/*
 * clock.c - TSC calibration for lockstat timestamps (see clock.h).
 *
 * Invariants: ns_per_cycle_q32 is written once, before any reader.
 * Locking: pthread_once.
 */
#include "clock.h"

#include <pthread.h>
#include <time.h>

static uint64_t ns_per_cycle_q32 = 1ULL << 32;
static pthread_once_t calibrated = PTHREAD_ONCE_INIT;

uint64_t clock_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

#if !PCPB_HAVE_CYCLE_COUNTER
uint64_t clock_cycles(void)
{
	return clock_ns();
}
#endif

static void calibrate(void)
{
	uint64_t n0, c0, n1, c1;

	n0 = clock_ns();
	c0 = clock_cycles();
	do {
		n1 = clock_ns();
	} while (n1 - n0 < 5000000); /* 5 ms keeps the error near 0.1% */
	c1 = clock_cycles();
	if (c1 > c0)
		ns_per_cycle_q32 =
			(uint64_t)(((__uint128_t)(n1 - n0) << 32) / (c1 - c0));
}

void clock_init(void)
{
	pthread_once(&calibrated, calibrate);
}

uint64_t cycles_to_ns(uint64_t cycles)
{
	return (uint64_t)(((__uint128_t)cycles * ns_per_cycle_q32) >> 32);
}
