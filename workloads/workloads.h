/* SPDX-License-Identifier: GPL-2.0-only OR MIT */
/*
 * workloads.h - workload drivers on top of the public API, and what they
 * share: option parsing, a seeded RNG, progress lines, and the registry the
 * CLI dispatches through.  Drivers use only pcpbuddy.h.
 *
 * Invariants: a driver frees every page it allocated before it reports, so
 * pcpb_check() after a run sees pages_allocated == 0.
 *
 * Locking: drivers synthesise their own threads; the allocator does the
 * rest.
 */
#ifndef PCPB_WORKLOADS_H
#define PCPB_WORKLOADS_H

#include <stdbool.h>
#include <stdint.h>

#include "../include/pcpbuddy.h"

/* Options every driver honours. */
struct wl_opts {
	int threads;
	double seconds;
	uint64_t seed;
	struct pcpb_config cfg;
	bool cpus_given; /* --config set cpus; else the driver picks */
	enum pcpb_format fmt;
};

/* xoshiro-style generator seeded by splitmix64: cheap and repeatable. */
struct wl_rng {
	uint64_t s[2];
};

void wl_rng_seed(struct wl_rng *r, uint64_t seed);
uint64_t wl_rng_next(struct wl_rng *r);
static inline uint32_t wl_rng_below(struct wl_rng *r, uint32_t n)
{
	return (uint32_t)(((wl_rng_next(r) >> 32) * n) >> 32);
}

double wl_now(void);
/* A progress line on stderr, only for long runs on a terminal. */
void wl_progress(const char *name, double elapsed, double total, uint64_t ops);
void wl_progress_done(double total);

/*
 * wl_parse_common - parse the shared options out of argv, leaving the rest.
 * Return: 0, 1 when --help was asked, or 2 after printing an error.
 */
int wl_parse_common(int argc, char **argv, struct wl_opts *o, const char *usage,
		    int *argi);
int wl_usage_error(const char *prog, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* mixed: random orders and types, bounded working sets, cross-thread frees */
struct mixed_result {
	uint64_t allocs, frees, enomem, remote_frees;
	double seconds;
};
int wl_mixed_run(struct pcpb *inst, const struct wl_opts *o,
		 struct mixed_result *res);
int wl_mixed_main(int argc, char **argv);
int wl_purge_main(int argc, char **argv);

struct workload {
	const char *name;
	const char *summary;
	int (*main)(int argc, char **argv);
};
extern const struct workload wl_registry[];

#endif /* PCPB_WORKLOADS_H */
