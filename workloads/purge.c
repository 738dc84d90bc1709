// SPDX-License-Identifier: GPL-2.0-only OR MIT
/*
 * purge.c - the jemalloc pattern (the pcp buddy RFC's first motivation):
 * faulting threads allocate order-0 movable pages on their CPUs, and
 * purger threads, on a decay timer, free batches of those pages on their own
 * CPUs, the way jemalloc's background threads return dirty memory.  Every
 * free is therefore a cross-CPU free.
 *
 * CPUs: faulter i is CPU i, purger j is CPU threads + j.
 *
 * Invariants: a page is in exactly one faulter's dirty ring until a purger
 * frees it; everything is freed before the report.
 *
 * Locking: each dirty ring has a mutex; faulters append, purgers take.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "workloads.h"

struct dirty_ring {
	pthread_mutex_t lock;
	long *pfn;
	unsigned int head, nr, cap;
};

struct purge_ctx {
	struct pcpb *inst;
	const struct wl_opts *o;
	int purgers, decay_ms;
	unsigned int batch;
	struct dirty_ring *rings;
	double deadline;
	int stop;				   /* atomic */
	uint64_t allocs, frees, enomem, throttled; /* atomic adds */
};

struct purge_thread {
	pthread_t tid;
	struct purge_ctx *ctx;
	int idx;
};

static void *faulter(void *arg)
{
	struct purge_thread *t = arg;
	struct purge_ctx *c = t->ctx;
	struct dirty_ring *r = &c->rings[t->idx];
	uint64_t allocs = 0, enomem = 0, throttled = 0;

	pcpb_set_thread_cpu(t->idx);
	while (!__atomic_load_n(&c->stop, __ATOMIC_RELAXED) &&
	       (!c->o->ops || allocs < c->o->ops)) {
		long pfn;
		bool full;

		pthread_mutex_lock(&r->lock);
		full = r->nr == r->cap;
		pthread_mutex_unlock(&r->lock);
		if (full) {
			/* Dirty memory at its limit: wait for the purgers. */
			throttled++;
			usleep(100);
			continue;
		}
		pfn = wl_alloc_pages(c->o, c->inst, 0, PCPB_MT_MOVABLE);
		if (pfn < 0) {
			enomem++;
			usleep(100);
			continue;
		}
		allocs++;
		pthread_mutex_lock(&r->lock);
		r->pfn[(r->head + r->nr++) % r->cap] = pfn;
		pthread_mutex_unlock(&r->lock);
	}
	__atomic_fetch_add(&c->allocs, allocs, __ATOMIC_RELAXED);
	__atomic_fetch_add(&c->enomem, enomem, __ATOMIC_RELAXED);
	__atomic_fetch_add(&c->throttled, throttled, __ATOMIC_RELAXED);
	return NULL;
}

/* Free up to @max of ring @r's oldest pages on this thread's CPU. */
static uint64_t purge_ring(struct purge_ctx *c, struct dirty_ring *r,
			   unsigned int max)
{
	long *batch = malloc(max * sizeof(long));
	unsigned int n = 0, i;

	if (!batch)
		return 0;
	pthread_mutex_lock(&r->lock);
	while (n < max && r->nr) {
		batch[n++] = r->pfn[r->head];
		r->head = (r->head + 1) % r->cap;
		r->nr--;
	}
	pthread_mutex_unlock(&r->lock);
	for (i = 0; i < n; i++)
		pcpb_free_pages(c->inst, (unsigned long)batch[i], 0);
	free(batch);
	return n;
}

static void *purger(void *arg)
{
	struct purge_thread *t = arg;
	struct purge_ctx *c = t->ctx;
	uint64_t frees = 0;
	int i;

	pcpb_set_thread_cpu(c->o->threads + t->idx);
	while (!__atomic_load_n(&c->stop, __ATOMIC_RELAXED)) {
		usleep((useconds_t)c->decay_ms * 1000);
		/* Purger j serves faulters j, j + purgers, ... */
		for (i = t->idx; i < c->o->threads; i += c->purgers)
			frees += purge_ring(c, &c->rings[i], c->batch);
	}
	__atomic_fetch_add(&c->frees, frees, __ATOMIC_RELAXED);
	return NULL;
}

static const char purge_usage[] =
	"usage: pcpbuddy run purge [--threads N] [--purgers M] [--batch P]\n"
	"                          [--decay-ms D] [--dirty-max P] [--seconds S]\n"
	"                          [--config k=v,...] [--json|--csv]\n"
	"\n"
	"jemalloc's purge pattern: N faulting threads (CPUs 0..N-1) allocate\n"
	"order-0 movable pages; every D ms, M purger threads (CPUs N..N+M-1)\n"
	"free up to P of each faulter's oldest pages.  A faulter whose dirty\n"
	"pages reach --dirty-max waits.  All frees cross CPUs.  cpus defaults\n"
	"to N + M.\n"
	"\n"
	"  --threads N     faulting threads (default 2)\n"
	"  --purgers M     purger threads (default 1)\n"
	"  --batch P       pages a purger frees per faulter per tick (default 4096)\n"
	"  --decay-ms D    purge period (default 10)\n"
	"  --dirty-max P   dirty pages per faulter before it waits (default 16384)\n"
	"  --ops N         N pages per faulter instead of --seconds\n"
	"  --seconds S, --seed X, --config ..., --json, --csv as for mixed\n"
	"Exit: 0 ok, 1 invariant check failed, 2 bad arguments.\n";

struct purge_result {
	uint64_t allocs, frees, enomem, throttled;
	double seconds;
};

static int purge_run(struct pcpb *inst, struct purge_ctx *c,
		     struct purge_result *res, unsigned int dirty_max)
{
	int n = c->o->threads, m = c->purgers, i;
	struct purge_thread *th = calloc((size_t)(n + m), sizeof(*th));
	double start = wl_now();

	c->rings = calloc((size_t)n, sizeof(*c->rings));
	if (!th || !c->rings) {
		free(th);
		free(c->rings);
		return -ENOMEM;
	}
	c->inst = inst;
	for (i = 0; i < n; i++) {
		pthread_mutex_init(&c->rings[i].lock, NULL);
		c->rings[i].cap = dirty_max;
		c->rings[i].pfn = malloc(dirty_max * sizeof(long));
		if (!c->rings[i].pfn) {
			fprintf(stderr, "purge: out of memory\n");
			exit(1);
		}
	}
	for (i = 0; i < n + m; i++) {
		th[i].ctx = c;
		th[i].idx = i < n ? i : i - n;
		pthread_create(&th[i].tid, NULL, i < n ? faulter : purger,
			       &th[i]);
	}
	if (c->o->ops) {
		/* Fixed work: faulters stop by themselves, then the purgers. */
		for (i = 0; i < n; i++)
			pthread_join(th[i].tid, NULL);
	} else {
		while (wl_now() < start + c->o->seconds) {
			usleep(100000);
			wl_progress(
				"purge", wl_now() - start, c->o->seconds,
				__atomic_load_n(&c->allocs, __ATOMIC_RELAXED));
		}
	}
	__atomic_store_n(&c->stop, 1, __ATOMIC_RELAXED);
	for (i = c->o->ops ? n : 0; i < n + m; i++)
		pthread_join(th[i].tid, NULL);
	wl_progress_done(c->o->seconds);
	res->seconds = wl_now() - start;
	/* What the purgers had not reached yet, freed on purger CPU 0. */
	pcpb_set_thread_cpu(n);
	for (i = 0; i < n; i++) {
		uint64_t f;

		while ((f = purge_ring(c, &c->rings[i], 4096)))
			c->frees += f;
		free(c->rings[i].pfn);
		pthread_mutex_destroy(&c->rings[i].lock);
	}
	res->allocs = c->allocs;
	res->frees = c->frees;
	res->enomem = c->enomem;
	res->throttled = c->throttled;
	free(c->rings);
	free(th);
	return 0;
}

struct purge_params {
	int purgers, decay_ms;
	unsigned int batch, dirty_max;
};

static void purge_init(void *priv)
{
	struct purge_params *p = priv;

	*p = (struct purge_params){
		.purgers = 1, .decay_ms = 10, .batch = 4096, .dirty_max = 16384
	};
}

static int purge_nr_cpus(const struct wl_opts *o, const void *priv)
{
	return o->threads + ((const struct purge_params *)priv)->purgers;
}

static int purge_main_run(struct pcpb *inst, const struct wl_opts *o,
			  void *priv, struct wl_result *res)
{
	struct purge_params *p = priv;
	struct purge_ctx c = { .o = o,
			       .purgers = p->purgers,
			       .decay_ms = p->decay_ms,
			       .batch = p->batch };
	struct purge_result r;
	int rc = purge_run(inst, &c, &r, p->dirty_max);

	if (rc)
		return rc;
	res->ops = r.allocs;
	res->seconds = r.seconds;
	snprintf(
		res->line, sizeof(res->line),
		"purge: %d faulters, %d purgers, %.2f s: %llu pages (%.0f/s), %llu freed cross-CPU, %llu ENOMEM, %llu throttled waits",
		o->threads, p->purgers, r.seconds, (unsigned long long)r.allocs,
		(double)r.allocs / r.seconds, (unsigned long long)r.frees,
		(unsigned long long)r.enomem, (unsigned long long)r.throttled);
	return 0;
}

static const struct wl_option purge_options[] = {
	WL_OPT(WL_OPT_INT, "purgers", purge_params, purgers, .lo = 1, .hi = 64,
	       .help = "purger threads (frees on other CPUs)"),
	/* --batch on the command line; batch= in --configs is PCP batch. */
	WL_OPT(WL_OPT_INT, "purge-batch", purge_params, batch,
	       .short_name = "--batch", .lo = 1, .hi = 1 << 20,
	       .help = "pages a purger frees per pass"),
	WL_OPT(WL_OPT_INT, "decay-ms", purge_params, decay_ms, .lo = 0,
	       .hi = 10000, .help = "jemalloc's dirty decay time"),
	WL_OPT(WL_OPT_INT, "dirty-max", purge_params, dirty_max, .lo = 1,
	       .hi = 1 << 24, .help = "dirty pages before a forced purge"),
	{ 0 }
};

const struct workload wl_purge = {
	.name = "purge",
	.summary =
		"jemalloc purge: faulters allocate, purger threads free on their CPUs",
	.usage = purge_usage,
	.priv_size = sizeof(struct purge_params),
	.init = purge_init,
	.options = purge_options,
	.nr_cpus = purge_nr_cpus,
	.run = purge_main_run,
};
