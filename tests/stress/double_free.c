// SPDX-License-Identifier: GPL-2.0-only OR MIT
/*
 * double_free.c - two threads free the same page at the same moment, many
 * times over, with free_check on: exactly one free of each page succeeds
 * and the other is -EINVAL, the pfn is never handed out twice, and the
 * invariant check passes at the end.  Run under TSan and in debug builds
 * by tests/run-stress.sh (the thread count it passes is not used: the
 * race takes two).
 *
 * Usage: stress-double_free [threads] [iterations] [config k=v,...]
 * Exit: 0 when every race had one winner and the check passed, else 1.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../include/pcpbuddy.h"

static struct pcpb *inst;
static pthread_barrier_t start, end;
static long shared_pfn;
static unsigned int shared_order;
static int results[2];
static int rounds;

static void *freer(void *arg)
{
	int self = (int)(long)arg, r;

	pcpb_set_thread_cpu(self);
	for (r = 0; r < rounds; r++) {
		pthread_barrier_wait(&start);
		results[self] = pcpb_free_pages_cpu(
			inst, self,
			(unsigned long)__atomic_load_n(&shared_pfn,
						       __ATOMIC_ACQUIRE),
			__atomic_load_n(&shared_order, __ATOMIC_ACQUIRE));
		pthread_barrier_wait(&end);
	}
	return NULL;
}

int main(int argc, char **argv)
{
	struct pcpb_config cfg;
	struct pcpb_check_result res;
	pthread_t t[2];
	char err[256];
	int r, bad = 0, i;

	rounds = argc > 2 ? atoi(argv[2]) / 4 : 2000;
	if (rounds < 100)
		rounds = 100;
	pcpb_config_init(&cfg);
	cfg.nr_cpus = 3;
	cfg.cpu_mode = PCPB_CPU_EXPLICIT;
	cfg.memory_bytes = 64ULL << 20;
	cfg.vmstat_ms = 0;
	if (argc > 3 && pcpb_config_parse(&cfg, argv[3], err, sizeof(err))) {
		/* A config of the shared list that does not fit: skip it. */
		printf("double_free: %s: %s: skipped\n", argv[3], err);
		return 0;
	}
	cfg.nr_cpus = cfg.nr_cpus < 3 ? 3 : cfg.nr_cpus;
	cfg.cpu_mode = PCPB_CPU_EXPLICIT;
	cfg.free_check = true;
	if (pcpb_create(&cfg, &inst))
		return 1;
	pthread_barrier_init(&start, NULL, 3);
	pthread_barrier_init(&end, NULL, 3);
	for (i = 0; i < 2; i++)
		pthread_create(&t[i], NULL, freer, (void *)(long)i);
	for (r = 0; r < rounds; r++) {
		unsigned int order = (unsigned int)(r % 4);
		long pfn = pcpb_alloc_pages_cpu(inst, 2, order, PCPB_MT_MOVABLE,
						0);

		if (pfn < 0) {
			bad = 1;
			pfn = 0;
		}
		__atomic_store_n(&shared_order, order, __ATOMIC_RELEASE);
		__atomic_store_n(&shared_pfn, pfn, __ATOMIC_RELEASE);
		pthread_barrier_wait(&start);
		pthread_barrier_wait(&end);
		/* One winner, one -EINVAL: never two frees of one page. */
		if (!((results[0] == 0) ^ (results[1] == 0)) ||
		    (results[0] && results[0] != -EINVAL) ||
		    (results[1] && results[1] != -EINVAL)) {
			fprintf(stderr, "round %d: frees returned %d and %d\n",
				r, results[0], results[1]);
			bad = 1;
		}
	}
	for (i = 0; i < 2; i++)
		pthread_join(t[i], NULL);
	pcpb_drain_all(inst);
	if (pcpb_check(inst, &res) || res.pages_allocated) {
		fprintf(stderr, "check: %s (allocated %llu)\n", res.msg,
			(unsigned long long)res.pages_allocated);
		bad = 1;
	}
	pcpb_destroy(inst);
	printf("double_free: %d races (%s): %s\n", rounds,
	       argc > 3 ? argv[3] : "default", bad ? "FAILED" : "ok");
	return bad;
}
