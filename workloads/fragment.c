// SPDX-License-Identifier: GPL-2.0-only OR MIT
/*
 * fragment.c - lru-file-mmap-read-like churn over a fragmented zone, built
 * to keep the migratetype fallback path hot (the fallback thread's workload).
 *
 * Setup, on CPU 0: a share of memory becomes "slab" (unmovable and
 * reclaimable order-0 pages, which claim whole blocks for their types);
 * each slab block keeps most pages pinned and frees an aligned hole of
 * 2^hole_order pages plus every eighth page, so it stays less than half
 * free and a claim of it fails.  Then page cache (movable order-0) fills the
 * movable blocks until only --slack movable pages are free.
 *
 * Run: readers (CPUs 1..N) allocate page cache; a reclaimer (CPU N+1, or
 * each reader itself with --reclaim inline) frees the oldest page cache
 * pages to keep the cache at its size.  Movable refills find their lists
 * empty and fall back into the slab holes; reclaimed pages that were stolen
 * go back to the slab blocks' lists, so the holes refill and the fallback
 * stays hot.  The report covers the run phase only.
 *
 * Invariants: every page cache and slab page is freed before the report.
 * Locking: the LRU is one mutex-protected FIFO.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "workloads.h"

struct fragment_params {
	double slab_fraction;
	unsigned int hole_order;
	unsigned int slack;
	bool inline_reclaim;
};

struct lru {
	pthread_mutex_t lock;
	long *pfn;
	size_t head, nr, cap, target;
};

struct fragment_ctx {
	struct pcpb *inst;
	const struct wl_opts *o;
	const struct fragment_params *p;
	struct lru lru;
	double deadline;
	int stop;			    /* atomic */
	uint64_t allocs, reclaimed, enomem; /* atomic adds */
};

static void lru_push(struct lru *l, long pfn)
{
	pthread_mutex_lock(&l->lock);
	l->pfn[(l->head + l->nr++) % l->cap] = pfn;
	pthread_mutex_unlock(&l->lock);
}

/* Free the oldest pages above the target, up to @max, on this CPU. */
static uint64_t lru_reclaim(struct fragment_ctx *c, size_t max)
{
	long batch[64];
	size_t n = 0, i;

	pthread_mutex_lock(&c->lru.lock);
	while (n < max && n < 64 && c->lru.nr > c->lru.target) {
		batch[n++] = c->lru.pfn[c->lru.head];
		c->lru.head = (c->lru.head + 1) % c->lru.cap;
		c->lru.nr--;
	}
	pthread_mutex_unlock(&c->lru.lock);
	for (i = 0; i < n; i++)
		pcpb_free_pages(c->inst, (unsigned long)batch[i], 0);
	return n;
}

static size_t lru_len(struct lru *l)
{
	size_t n;

	pthread_mutex_lock(&l->lock);
	n = l->nr;
	pthread_mutex_unlock(&l->lock);
	return n;
}

struct fragment_thread {
	pthread_t tid;
	struct fragment_ctx *c;
	int idx;
};

static void *reader(void *arg)
{
	struct fragment_thread *t = arg;
	struct fragment_ctx *c = t->c;
	uint64_t allocs = 0, enomem = 0, reclaimed = 0;

	pcpb_set_thread_cpu(1 + t->idx);
	while (!__atomic_load_n(&c->stop, __ATOMIC_RELAXED) &&
	       (!c->o->ops || allocs < c->o->ops)) {
		long pfn;

		if (!c->p->inline_reclaim &&
		    lru_len(&c->lru) > c->lru.target + 4096) {
			usleep(50); /* the reclaimer is behind: wait for it */
			continue;
		}
		pfn = pcpb_alloc_pages(c->inst, 0, PCPB_MT_MOVABLE, 0);
		if (pfn < 0) {
			enomem++;
			if (c->p->inline_reclaim)
				reclaimed += lru_reclaim(c, 32);
			else
				usleep(50);
			continue;
		}
		allocs++;
		lru_push(&c->lru, pfn);
		if (c->p->inline_reclaim)
			reclaimed += lru_reclaim(c, 1);
	}
	__atomic_fetch_add(&c->allocs, allocs, __ATOMIC_RELAXED);
	__atomic_fetch_add(&c->enomem, enomem, __ATOMIC_RELAXED);
	__atomic_fetch_add(&c->reclaimed, reclaimed, __ATOMIC_RELAXED);
	return NULL;
}

static void *reclaimer(void *arg)
{
	struct fragment_thread *t = arg;
	struct fragment_ctx *c = t->c;
	uint64_t reclaimed = 0;

	pcpb_set_thread_cpu(1 + c->o->threads);
	while (!__atomic_load_n(&c->stop, __ATOMIC_RELAXED)) {
		uint64_t n = lru_reclaim(c, 64);

		reclaimed += n;
		if (!n)
			usleep(20);
	}
	__atomic_fetch_add(&c->reclaimed, reclaimed, __ATOMIC_RELAXED);
	return NULL;
}

long *wl_build_slab(struct pcpb *inst, double slab_fraction,
		    unsigned int hole_order, size_t *nr_pinned)
{
	size_t want = (size_t)((double)pcpb_nr_pages(inst) * slab_fraction);
	long *pfns = malloc((want ? want : 1) * sizeof(long));
	unsigned long hole = 1UL << hole_order;
	size_t i, n = 0, kept = 0;

	if (!pfns)
		return NULL;
	for (i = 0; i < want; i++) {
		/* Two thirds unmovable, a third reclaimable, as slab is. */
		long pfn = pcpb_alloc_pages_cpu(inst, 0, 0,
						i % 3 == 2 ? PCPB_MT_RECLAIMABLE
							   : PCPB_MT_UNMOVABLE,
						PCPB_GFP_NORETRY);
		if (pfn < 0)
			break;
		pfns[n++] = pfn;
	}
	for (i = 0; i < n; i++) {
		unsigned long off = (unsigned long)pfns[i] & 511;

		if (off < hole || off % 8 == 4)
			pcpb_free_pages_cpu(inst, 0, (unsigned long)pfns[i], 0);
		else
			pfns[kept++] = pfns[i];
	}
	pcpb_drain_all(inst);
	*nr_pinned = kept;
	return pfns;
}

static int fragment_run(struct pcpb *inst, const struct wl_opts *o, void *priv,
			struct wl_result *res)
{
	const struct fragment_params *p = priv;
	struct fragment_ctx c = { .inst = inst, .o = o, .p = p };
	struct fragment_thread *th;
	struct pcpb_stats st;
	size_t nr_slab = 0, i, fill;
	long *slab, pfn;
	double start;
	int n = o->threads;

	slab = wl_build_slab(inst, p->slab_fraction, p->hole_order, &nr_slab);
	if (!slab)
		return -ENOMEM;
	pcpb_stats_read(inst, &st);
	fill = st.free_pages_by_mt[PCPB_MT_MOVABLE] > p->slack
		       ? st.free_pages_by_mt[PCPB_MT_MOVABLE] - p->slack
		       : 0;
	c.lru.cap = pcpb_nr_pages(inst);
	c.lru.pfn = malloc(c.lru.cap * sizeof(long));
	th = calloc((size_t)n + 1, sizeof(*th));
	if (!c.lru.pfn || !th) {
		free(slab);
		free(c.lru.pfn);
		free(th);
		return -ENOMEM;
	}
	pthread_mutex_init(&c.lru.lock, NULL);
	for (i = 0; i < fill; i++) {
		pfn = pcpb_alloc_pages_cpu(inst, 0, 0, PCPB_MT_MOVABLE,
					   PCPB_GFP_NORETRY);
		if (pfn < 0)
			break;
		lru_push(&c.lru, pfn);
	}
	c.lru.target = c.lru.nr;
	pcpb_drain_all(inst);
	pcpb_stats_reset(inst);

	start = wl_now();
	for (i = 0; i < (size_t)n; i++) {
		th[i] = (struct fragment_thread){ .c = &c, .idx = (int)i };
		pthread_create(&th[i].tid, NULL, reader, &th[i]);
	}
	if (!p->inline_reclaim) {
		th[n] = (struct fragment_thread){ .c = &c, .idx = n };
		pthread_create(&th[n].tid, NULL, reclaimer, &th[n]);
	}
	if (o->ops) {
		for (i = 0; i < (size_t)n; i++)
			pthread_join(th[i].tid, NULL);
	} else {
		while (wl_now() < start + o->seconds) {
			usleep(100000);
			wl_progress(
				"fragment", wl_now() - start, o->seconds,
				__atomic_load_n(&c.allocs, __ATOMIC_RELAXED));
		}
	}
	__atomic_store_n(&c.stop, 1, __ATOMIC_RELAXED);
	for (i = o->ops ? (size_t)n : 0; i < (size_t)n; i++)
		pthread_join(th[i].tid, NULL);
	if (!p->inline_reclaim)
		pthread_join(th[n].tid, NULL);
	wl_progress_done(o->seconds);
	res->seconds = wl_now() - start;
	res->ops = c.allocs;

	/* Read the run's figures before teardown frees everything: they
	 * are the report's, or the 2 M frees of teardown would swamp them. */
	pcpb_stats_read(inst, &st);
	wl_measure_end(inst, res, &st);
	snprintf(
		res->line, sizeof(res->line),
		"fragment: %d readers, %.2f s: %llu page cache allocs (%.0f/s), %llu reclaimed, %llu ENOMEM; %zu slab pages pinned, cache %zu pages; worst refill hold %llu ns",
		n, res->seconds, (unsigned long long)c.allocs,
		(double)c.allocs / res->seconds,
		(unsigned long long)c.reclaimed, (unsigned long long)c.enomem,
		nr_slab, c.lru.target,
		(unsigned long long)MAX(
			st.zone_lock.sites[PCPB_SITE_refill].hold_ns.max,
			st.zone_lock.sites[PCPB_SITE_phase3].hold_ns.max));

	pcpb_set_thread_cpu(0);
	c.lru.target = 0;
	while (lru_reclaim(&c, 64))
		;
	for (i = 0; i < nr_slab; i++)
		pcpb_free_pages_cpu(inst, 0, (unsigned long)slab[i], 0);
	pthread_mutex_destroy(&c.lru.lock);
	free(c.lru.pfn);
	free(slab);
	free(th);
	return 0;
}

static void fragment_init(void *priv)
{
	struct fragment_params *p = priv;

	*p = (struct fragment_params){ .slab_fraction = 0.5,
				       .hole_order = 5,
				       .slack = 256 };
}

static int fragment_nr_cpus(const struct wl_opts *o, const void *priv)
{
	(void)priv;
	return o->threads + 2; /* setup CPU 0, readers, the reclaimer */
}

static const char fragment_usage[] =
	"usage: pcpbuddy run fragment [--threads N] [--slab F] [--hole-order H]\n"
	"                             [--slack P] [--reclaim thread|inline]\n"
	"                             [--seconds S|--ops N] [--config k=v,...]\n"
	"\n"
	"lru-file-mmap-read-like churn: slab (unmovable and reclaimable pages)\n"
	"takes a fraction F of memory, each slab block keeping a hole of 2^H\n"
	"pages plus every eighth page free (under half free: claims fail); page\n"
	"cache fills the rest.  N readers allocate page cache while a reclaimer\n"
	"frees the oldest, so movable refills keep falling back into slab holes.\n"
	"Compare the fallback modes:\n"
	"  pcpbuddy compare fragment --configs fallback=legacy fallback=hygiene \\\n"
	"      fallback=smallest fallback=cached --config memory=256M\n"
	"\n"
	"  --threads N    readers (default 2); CPUs default to N + 2\n"
	"  --slab F       slab share of memory, 0.05..0.9 (default 0.5)\n"
	"  --hole-order H the aligned free hole per slab block (default 5)\n"
	"  --slack P      movable pages left free after the fill (default 256)\n"
	"  --reclaim      thread (a kswapd-like thread, default) or inline (each\n"
	"                 reader frees the oldest page itself: deterministic\n"
	"                 with --threads 1 --ops N)\n"
	"Exit: 0 ok, 1 invariant check failed, 2 bad arguments.\n";

static const char *const reclaim_names[] = { "thread", "inline", NULL };

static const struct wl_option fragment_options[] = {
	WL_OPT(WL_OPT_DOUBLE, "slab", fragment_params, slab_fraction,
	       .lo = 0.05, .hi = 0.9, .help = "share of memory pinned as slab"),
	WL_OPT(WL_OPT_INT, "hole-order", fragment_params, hole_order, .lo = 0,
	       .hi = 8, .help = "order of the hole each slab block frees"),
	WL_OPT(WL_OPT_INT, "slack", fragment_params, slack, .lo = 0,
	       .hi = 1 << 20,
	       .help = "free pages kept above the low watermark"),
	WL_OPT(WL_OPT_ENUM, "reclaim", fragment_params, inline_reclaim,
	       .names = reclaim_names,
	       .help = "thread: a kswapd-like thread; inline: deterministic"),
	{ 0 }
};

const struct workload wl_fragment = {
	.name = "fragment",
	.summary =
		"page cache churn over slab-fragmented blocks: fallbacks hot",
	.usage = fragment_usage,
	.priv_size = sizeof(struct fragment_params),
	.init = fragment_init,
	.options = fragment_options,
	.nr_cpus = fragment_nr_cpus,
	.run = fragment_run,
};
