// SPDX-License-Identifier: GPL-2.0-only OR MIT
/*
 * rand_put_report.c - BM_rand_put's pattern single-threaded, with the
 * allocator's report: N pages allocated by CPUs 0 and 1 interleaved, a fixed
 * shuffle, the first half freed on CPU 0 and the rest on CPU 1 (half the
 * frees remote).  Prints ns per put and the text report, whose lock sites
 * show where the time goes (docs/performance.md).
 *
 *   rand-put-report [N [CONFIG]]     (default 524288 policy=owner)
 *
 * Invariants: every page is freed; the check must pass.  Locking: one thread.
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "../include/pcpbuddy.h"

int main(int argc, char **argv)
{
	unsigned long n = argc > 1 ? strtoul(argv[1], NULL, 0) : 1UL << 19, i;
	const char *kv = argc > 2 ? argv[2] : "policy=owner";
	uint64_t x = 0x9e3779b97f4a7c15ULL;
	struct pcpb_check_result res;
	struct timespec a, b;
	struct pcpb_config cfg;
	struct pcpb *inst;
	char err[256];
	long *p;

	pcpb_config_init(&cfg);
	cfg.memory_bytes = 4ULL << 30;
	cfg.nr_cpus = 2;
	cfg.cpu_mode = PCPB_CPU_EXPLICIT;
	cfg.vmstat_ms = 0;
	if (!n || n > (1UL << 20) ||
	    pcpb_config_parse(&cfg, kv, err, sizeof(err)) ||
	    pcpb_create(&cfg, &inst)) {
		fprintf(stderr,
			"usage: rand-put-report [N (1..1048576) [CONFIG]]\n");
		return 2;
	}
	p = malloc(n * sizeof(*p));
	if (!p)
		return 1;
	for (i = 0; i < n; i++)
		p[i] = pcpb_alloc_pages_cpu(inst, (int)(i & 1), 0,
					    PCPB_MT_MOVABLE, 0);
	for (i = n - 1; i > 0; i--) {
		unsigned long j;
		long t;

		x ^= x << 13, x ^= x >> 7, x ^= x << 17;
		j = (unsigned long)(x % (i + 1));
		t = p[i], p[i] = p[j], p[j] = t;
	}
	pcpb_stats_reset(inst);
	clock_gettime(CLOCK_MONOTONIC, &a);
	for (i = 0; i < n; i++)
		pcpb_free_pages_cpu(inst, i < n / 2 ? 0 : 1,
				    (unsigned long)p[i], 0);
	clock_gettime(CLOCK_MONOTONIC, &b);
	printf("%s: %lu puts, %.1f ns per put\n", kv, n,
	       ((double)(b.tv_sec - a.tv_sec) * 1e9 +
		(double)(b.tv_nsec - a.tv_nsec)) /
		       (double)n);
	pcpb_report(inst, stdout, PCPB_FMT_TEXT);
	free(p);
	if (pcpb_check(inst, &res) || res.pages_allocated)
		return 1;
	pcpb_destroy(inst);
	return 0;
}
