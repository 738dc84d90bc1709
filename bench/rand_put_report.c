// SPDX-License-Identifier: GPL-2.0-only OR MIT
/*
 * rand_put_report.c - BM_rand_put's pattern with the allocator's report: N
 * pages allocated by CPUs 0 and 1 interleaved, a fixed shuffle, the first
 * half freed on CPU 0 and the rest on CPU 1 (half the frees remote).  With
 * THREADS 1 one thread frees both halves in turn; with 2, one thread per
 * half at once, as the benchmark does.  Prints ns per put (per thread: wall
 * time over its puts) and the text report, whose lock sites show where the
 * time goes (docs/performance.md).
 *
 *   rand-put-report [N [CONFIG [THREADS]]]   (default 524288 policy=owner 1)
 *
 * Invariants: every page is freed; the check must pass.  Locking: the
 * threads free disjoint pages and start together at a barrier.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "../include/pcpbuddy.h"

static struct {
	struct pcpb *inst;
	long *pfn;
	unsigned long n;
	pthread_barrier_t start;
} rp;

/* Free half @cpu of the shuffled pages on CPU @cpu. */
static void free_half(int cpu)
{
	unsigned long i, end = cpu ? rp.n : rp.n / 2;

	for (i = cpu ? rp.n / 2 : 0; i < end; i++)
		pcpb_free_pages_cpu(rp.inst, cpu, (unsigned long)rp.pfn[i], 0);
}

static void *second_half(void *arg)
{
	(void)arg;
	pthread_barrier_wait(&rp.start);
	free_half(1);
	return NULL;
}

int main(int argc, char **argv)
{
	unsigned long n = argc > 1 ? strtoul(argv[1], NULL, 0) : 1UL << 19, i;
	const char *kv = argc > 2 ? argv[2] : "policy=owner";
	int threads = argc > 3 ? atoi(argv[3]) : 1;
	pthread_t helper;
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
	if (!n || n > (1UL << 20) || threads < 1 || threads > 2 ||
	    pcpb_config_parse(&cfg, kv, err, sizeof(err)) ||
	    pcpb_create(&cfg, &inst)) {
		fprintf(stderr,
			"usage: rand-put-report [N (1..1048576) [CONFIG [THREADS (1, 2)]]]\n");
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
	rp.inst = inst, rp.pfn = p, rp.n = n;
	pthread_barrier_init(&rp.start, NULL, (unsigned)threads);
	if (threads == 2 && pthread_create(&helper, NULL, second_half, NULL))
		return 1;
	if (threads == 2)
		pthread_barrier_wait(&rp.start);
	clock_gettime(CLOCK_MONOTONIC, &a);
	free_half(0);
	if (threads == 2)
		pthread_join(helper, NULL);
	else
		free_half(1);
	clock_gettime(CLOCK_MONOTONIC, &b);
	printf("%s, %d thread%s: %lu puts, %.1f ns per put%s\n", kv, threads,
	       threads > 1 ? "s" : "", n,
	       ((double)(b.tv_sec - a.tv_sec) * 1e9 +
		(double)(b.tv_nsec - a.tv_nsec)) /
		       (double)(n / (unsigned long)threads),
	       threads > 1 ? " per thread" : "");
	pcpb_report(inst, stdout, PCPB_FMT_TEXT);
	free(p);
	if (pcpb_check(inst, &res) || res.pages_allocated)
		return 1;
	pcpb_destroy(inst);
	return 0;
}
