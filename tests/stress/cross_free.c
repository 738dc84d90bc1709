// SPDX-License-Identifier: GPL-2.0-only OR MIT
/*
 * cross_free.c - threads allocate on their CPU and free each other's pages
 * while an observer drains every PCP, reads stats and runs pcpb_check()
 * concurrently, and the vmstat timer decays PCP highs.  Run under TSan.
 *
 * Usage: stress-cross_free [threads] [iterations] [config k=v,...]
 * Exit: 0 when every check passed and every page came back, else 1.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../include/pcpbuddy.h"

#define SLOTS 128
#define QUEUE 4096

struct queue {
	pthread_mutex_t lock;
	int nr;
	long pfn[QUEUE];
	unsigned order[QUEUE];
};

static struct pcpb *inst;
static struct queue *queues;
static int nr_threads, iterations;
static int done;   /* atomic */
static int failed; /* atomic */

static unsigned long long rng(unsigned long long *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

static void give(int to, long pfn, unsigned order, int self)
{
	struct queue *q = &queues[to];

	pthread_mutex_lock(&q->lock);
	if (q->nr < QUEUE) {
		q->pfn[q->nr] = pfn;
		q->order[q->nr++] = order;
		pfn = -1;
	}
	pthread_mutex_unlock(&q->lock);
	if (pfn >= 0 && pcpb_free_pages(inst, (unsigned long)pfn, order))
		__atomic_store_n(&failed, 1, __ATOMIC_RELAXED);
	(void)self;
}

static void drain_queue(int self)
{
	struct queue *q = &queues[self];
	long pfn[QUEUE];
	unsigned order[QUEUE];
	int i, nr;

	pthread_mutex_lock(&q->lock);
	nr = q->nr;
	memcpy(pfn, q->pfn, sizeof(long) * (size_t)nr);
	memcpy(order, q->order, sizeof(unsigned) * (size_t)nr);
	q->nr = 0;
	pthread_mutex_unlock(&q->lock);
	for (i = 0; i < nr; i++)
		if (pcpb_free_pages(inst, (unsigned long)pfn[i], order[i]))
			__atomic_store_n(&failed, 1, __ATOMIC_RELAXED);
}

static void *worker(void *arg)
{
	int self = (int)(long)arg, nr = 0, i;
	unsigned long long s = 0x9e3779b97f4a7c15ULL * (unsigned)(self + 1);
	long pfn[SLOTS];
	unsigned order[SLOTS];

	pcpb_set_thread_cpu(self);
	for (i = 0; i < iterations; i++) {
		unsigned long long r = rng(&s);

		if (nr == SLOTS || (nr && (r & 1))) {
			int k = (int)((r >> 8) % (unsigned)nr);
			int to = (int)((r >> 32) % (unsigned)nr_threads);

			give(to, pfn[k], order[k], self);
			pfn[k] = pfn[--nr];
			order[k] = order[nr];
		} else {
			unsigned o = (r >> 16) % 16 < 12
					     ? 0
					     : (unsigned)((r >> 20) % 11);
			long p = pcpb_alloc_pages(inst, o, (int)((r >> 24) % 3),
						  0);

			if (p >= 0) {
				pfn[nr] = p;
				order[nr++] = o;
			}
		}
		if ((i & 31) == 0)
			drain_queue(self);
	}
	while (nr--)
		give(self, pfn[nr], order[nr], self);
	drain_queue(self);
	return NULL;
}

static void *observer(void *arg)
{
	struct pcpb_check_result res;
	struct pcpb_stats st;

	(void)arg;
	while (!__atomic_load_n(&done, __ATOMIC_RELAXED)) {
		if (pcpb_check(inst, &res)) {
			fprintf(stderr, "concurrent check: %s\n", res.msg);
			__atomic_store_n(&failed, 1, __ATOMIC_RELAXED);
		}
		pcpb_stats_read(inst, &st);
		pcpb_drain_all(inst);
		usleep(2000); /* let the workers make progress between walks */
	}
	return NULL;
}

int main(int argc, char **argv)
{
	struct pcpb_config cfg;
	struct pcpb_check_result res;
	pthread_t *th, obs;
	char err[256];
	int i;

	nr_threads = argc > 1 ? atoi(argv[1]) : 4;
	iterations = argc > 2 ? atoi(argv[2]) : 20000;
	pcpb_config_init(&cfg);
	if (pcpb_config_parse(&cfg, "memory=64M,vmstat_ms=1", err,
			      sizeof(err)) ||
	    (argc > 3 && pcpb_config_parse(&cfg, argv[3], err, sizeof(err)))) {
		fprintf(stderr, "config: %s\n", err);
		return 1;
	}
	cfg.nr_cpus = nr_threads;
	if (pcpb_create(&cfg, &inst))
		return 1;
	queues = calloc((size_t)nr_threads, sizeof(*queues));
	th = calloc((size_t)nr_threads, sizeof(*th));
	for (i = 0; i < nr_threads; i++)
		pthread_mutex_init(&queues[i].lock, NULL);
	pthread_create(&obs, NULL, observer, NULL);
	for (i = 0; i < nr_threads; i++)
		pthread_create(&th[i], NULL, worker, (void *)(long)i);
	for (i = 0; i < nr_threads; i++)
		pthread_join(th[i], NULL);
	__atomic_store_n(&done, 1, __ATOMIC_RELAXED);
	pthread_join(obs, NULL);
	for (i = 0; i < nr_threads; i++)
		drain_queue(i);

	if (pcpb_check(inst, &res) || res.pages_allocated) {
		fprintf(stderr, "final check: %s (allocated %llu)\n", res.msg,
			(unsigned long long)res.pages_allocated);
		failed = 1;
	}
	printf("cross_free: %d threads x %d iterations (%s): %s\n", nr_threads,
	       iterations, argc > 3 ? argv[3] : "classic",
	       failed ? "FAILED" : "ok");
	pcpb_destroy(inst);
	free(th);
	free(queues);
	return failed;
}
