/* SPDX-License-Identifier: GPL-2.0-only OR MIT */
/*
 * cbench.h - a small C API over Google Benchmark (a C++ library), so
 * benchmark bodies stay C.  The body owns the loop:
 *
 *	while (cbench_keep_running(st)) { ... }
 *
 * Invariants: handles live until cbench_main() returns.
 * Locking: as Google Benchmark's State (one per benchmark thread).
 */
#ifndef PCPB_CBENCH_H
#define PCPB_CBENCH_H

#include <stdbool.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct cbench_state cbench_state;
typedef struct cbench_bench cbench_bench;
typedef void (*cbench_fn)(cbench_state *st, void *user);

enum {
	CBENCH_DEFAULT = 0,
	CBENCH_RATE = 1,
	CBENCH_AVG_ITERATIONS = 2,
	CBENCH_AVG_THREADS = 4
};

cbench_bench *cbench_register(const char *name, cbench_fn fn, void *user);
void cbench_set_threads(cbench_bench *b, int threads);
void cbench_set_min_time(cbench_bench *b, double seconds);
/* A fixed iteration count (per thread), for patterns with a set size. */
void cbench_set_iterations(cbench_bench *b, int64_t n);
/* Setup inside the loop that the timing must not count. */
void cbench_pause(cbench_state *st);
void cbench_resume(cbench_state *st);

bool cbench_keep_running(cbench_state *st);
int cbench_thread_index(cbench_state *st);
int64_t cbench_iterations(cbench_state *st);
void cbench_set_counter(cbench_state *st, const char *name, double v,
			int flags);
/* A counter @name = wall ns per item, @items items done in the loop. */
void cbench_set_ns_per_item(cbench_state *st, const char *name, double items);
void cbench_skip_with_error(cbench_state *st, const char *msg);
int cbench_main(int argc, char **argv);

static inline void cbench_do_not_optimize(long v)
{
	__asm__ volatile("" : : "r"(v) : "memory");
}

#ifdef __cplusplus
}
#endif
#endif /* PCPB_CBENCH_H */
