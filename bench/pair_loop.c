// SPDX-License-Identifier: GPL-2.0-only OR MIT
/*
 * pair_loop.c - BM_repeat/order:0 without Google Benchmark: N alloc+free
 * pairs on CPU 0, pinned to CPU 0 (pcp_fastpath=rseq is fast only there),
 * three rounds, ns per pair for each.  The tool behind the fast-path
 * steps in docs/performance.md, which ran it on each commit.
 *
 *   pair-loop [CONFIG [N]]     (default "lockstat=off", 5000000)
 *
 * Invariants: every page is freed; the check must pass.  Locking: one thread.
 */
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "../include/pcpbuddy.h"

static double now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

int main(int argc, char **argv)
{
	const char *kv = argc > 1 ? argv[1] : "lockstat=off";
	long n = argc > 2 ? strtol(argv[2], NULL, 0) : 5000000;
	struct pcpb_check_result res;
	struct pcpb_config cfg;
	struct pcpb *inst;
	cpu_set_t cpu0;
	char err[256];
	int round, rc;

	pcpb_config_init(&cfg);
	cfg.memory_bytes = 4ULL << 30;
	cfg.nr_cpus = 2;
	cfg.cpu_mode = PCPB_CPU_EXPLICIT;
	cfg.vmstat_ms = 0;
	if (argc > 3 || n < 1 ||
	    pcpb_config_parse(&cfg, kv, err, sizeof(err))) {
		fprintf(stderr, "usage: pair-loop [CONFIG [N >= 1]]\n");
		return 2;
	}
	rc = pcpb_create(&cfg, &inst);
	if (rc) {
		fprintf(stderr, "pair-loop: pcpb_create: %d%s\n", rc,
			rc == -EOPNOTSUPP ? " (no rseq here)" : "");
		return 1;
	}
	CPU_ZERO(&cpu0);
	CPU_SET(0, &cpu0);
	sched_setaffinity(0, sizeof(cpu0), &cpu0);
	printf("%s:", kv);
	for (round = 0; round < 3; round++) {
		double t0 = now_ns();
		long i;

		for (i = 0; i < n; i++) {
			long pfn = pcpb_alloc_pages_cpu(inst, 0, 0,
							PCPB_MT_MOVABLE, 0);

			if (pfn < 0 ||
			    pcpb_free_pages_cpu(inst, 0, (unsigned long)pfn, 0))
				return 1;
		}
		printf(" %.2f", (now_ns() - t0) / (double)n);
	}
	printf(" ns per pair\n");
	rc = pcpb_check(inst, &res) || res.pages_allocated;
	pcpb_destroy(inst);
	return rc;
}
