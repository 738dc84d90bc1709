// SPDX-License-Identifier: GPL-2.0-only OR MIT
/*
 * sim.c - the workload generators on virtual CPUs in simulation: one thread
 * plays every CPU in a seeded order, so 1024 CPUs run on this 2-core
 * machine and the work counters are the same on every run.  'pcpbuddy sim
 * MODEL --cpus 64,256,1024 --configs ...' sweeps the CPU count with it.
 *
 * The models keep the shape of the threaded drivers, not their detail:
 *   mixed  each step a random CPU allocates (80% order 0, else 1..3; 70%
 *          movable, 20% unmovable, 10% reclaimable) or frees its oldest
 *          block, a quarter of frees on another CPU;
 *   purge  every CPU faults order-0 movable pages; every 64 steps per CPU
 *          a purge frees half of each CPU's pages on the CPU half-way
 *          round (jemalloc's background thread), so frees are remote;
 *   exit   every CPU builds --ops pages (default 200) interleaved,
 *          statistics reset, then all free at once on their own CPUs;
 *   fragment  fragment's setup (half of memory slab with holes, page
 *          cache filling the movable blocks to 64 free pages per CPU), then each
 *          step a random reader CPU allocates a page cache page and the
 *          last CPU, the reclaimer (kswapd), frees the oldest: movable
 *          refills keep falling back into the slab holes.  (With inline
 *          reclaim every CPU's PCP would feed itself and the fallback go
 *          cold after the first refill.)
 * Timing figures (throughput, lock hold times) are one thread's and mean
 * little here; the work counters and lock acquisitions are the result.
 *
 * Invariants: a block is live in exactly one CPU's ring or in the page
 * cache FIFO; all are freed before the run returns.
 * Locking: single-threaded.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "workloads.h"

enum sim_model { SIM_MIXED, SIM_PURGE, SIM_EXIT, SIM_FRAGMENT };
static const char *const sim_model_names[] = { "mixed", "purge", "exit",
					       "fragment", NULL };

/*
 * fragment's defaults (--slab 0.5 --hole-order 5), but a movable slack that
 * grows with the CPUs: with fragment's fixed 256 pages, 255 CPUs' PCPs
 * outgrow free memory and every allocation ends in drain_all_pages().
 */
#define SIM_SLAB_FRACTION 0.5
#define SIM_HOLE_ORDER 5
#define SIM_SLACK_PER_CPU 64

/* Live blocks per CPU, small enough for 1024 CPUs in 1 GiB; exit's: --ops */
#define SIM_RING_MIXED 64
#define SIM_RING_PURGE 256

struct sim_params {
	enum sim_model model;
};

struct sim_block {
	long pfn;
	unsigned char order;
};

struct sim_cpu {
	struct sim_block *ring;
	unsigned int head, count; /* oldest at head */
};

/* fragment's page cache: one FIFO of order-0 pages, oldest at head. */
struct sim_lru {
	long *pfn;
	size_t head, nr, cap, target;
};

struct sim_state {
	struct pcpb *inst;
	struct sim_cpu *cpus;
	struct sim_block *blocks;
	struct sim_lru lru;
	unsigned int cap;
	int nr_cpus;
	uint64_t allocs, pages, enomem;
};

static void sim_alloc(struct sim_state *s, int cpu, unsigned int order, int mt)
{
	struct sim_cpu *c = &s->cpus[cpu];
	long pfn;

	if (c->count == s->cap)
		return;
	pfn = pcpb_alloc_pages_cpu(s->inst, cpu, order, mt, 0);
	if (pfn < 0) {
		s->enomem++;
		return;
	}
	c->ring[(c->head + c->count++) % s->cap] =
		(struct sim_block){ pfn, (unsigned char)order };
	s->allocs++;
	s->pages += 1UL << order;
}

/* Frees @owner's oldest block on CPU @cpu. */
static void sim_free_oldest(struct sim_state *s, int owner, int cpu)
{
	struct sim_cpu *c = &s->cpus[owner];
	struct sim_block b;

	if (!c->count)
		return;
	b = c->ring[c->head];
	c->head = (c->head + 1) % s->cap;
	c->count--;
	pcpb_free_pages_cpu(s->inst, cpu, (unsigned long)b.pfn, b.order);
}

static void sim_mixed_step(struct sim_state *s, struct wl_rng *r)
{
	int cpu = (int)wl_rng_below(r, (uint32_t)s->nr_cpus);
	uint32_t x = wl_rng_below(r, 100);

	if (s->cpus[cpu].count == s->cap || (s->cpus[cpu].count && x < 45)) {
		int on = x < 11 ? (int)wl_rng_below(r, (uint32_t)s->nr_cpus)
				: cpu;

		sim_free_oldest(s, cpu, on);
	} else {
		unsigned int order =
			wl_rng_below(r, 100) < 80 ? 0 : 1 + wl_rng_below(r, 3);
		uint32_t t = wl_rng_below(r, 100);

		sim_alloc(s, cpu, order,
			  t < 70   ? PCPB_MT_MOVABLE
			  : t < 90 ? PCPB_MT_UNMOVABLE
				   : PCPB_MT_RECLAIMABLE);
	}
}

/* Frees up to @max of the oldest page cache pages above the target. */
static void sim_reclaim(struct sim_state *s, int cpu, unsigned int max)
{
	struct sim_lru *l = &s->lru;

	while (max-- && l->nr > l->target) {
		pcpb_free_pages_cpu(s->inst, cpu,
				    (unsigned long)l->pfn[l->head], 0);
		l->head = (l->head + 1) % l->cap;
		l->nr--;
	}
}

static void sim_fragment_step(struct sim_state *s, struct wl_rng *r)
{
	int reclaimer = s->nr_cpus - 1;
	int cpu = reclaimer ? (int)wl_rng_below(r, (uint32_t)reclaimer) : 0;
	long pfn = pcpb_alloc_pages_cpu(s->inst, cpu, 0, PCPB_MT_MOVABLE, 0);

	if (pfn < 0) {
		s->enomem++;
		sim_reclaim(s, reclaimer, 32);
		return;
	}
	s->allocs++;
	s->pages++;
	s->lru.pfn[(s->lru.head + s->lru.nr++) % s->lru.cap] = pfn;
	sim_reclaim(s, reclaimer, 1);
}

/* fragment's setup; Return: the pinned slab pages, NULL without memory. */
static long *sim_fragment_setup(struct sim_state *s, size_t *nr_slab)
{
	long *slab = wl_build_slab(s->inst, SIM_SLAB_FRACTION, SIM_HOLE_ORDER,
				   nr_slab);
	struct pcpb_stats st;
	size_t fill, slack;
	long pfn;

	if (!slab)
		return NULL;
	s->lru.cap = pcpb_nr_pages(s->inst);
	s->lru.pfn = malloc(s->lru.cap * sizeof(long));
	if (!s->lru.pfn) {
		free(slab);
		return NULL;
	}
	pcpb_stats_read(s->inst, &st);
	slack = SIM_SLACK_PER_CPU * (size_t)s->nr_cpus;
	fill = st.free_pages_by_mt[PCPB_MT_MOVABLE] > slack
		       ? st.free_pages_by_mt[PCPB_MT_MOVABLE] - slack
		       : 0;
	while (fill-- &&
	       (pfn = pcpb_alloc_pages_cpu(s->inst, 0, 0, PCPB_MT_MOVABLE,
					   PCPB_GFP_NORETRY)) >= 0)
		s->lru.pfn[s->lru.nr++] = pfn;
	s->lru.target = s->lru.nr;
	pcpb_drain_all(s->inst);
	return slab;
}

static void sim_purge_round(struct sim_state *s)
{
	int cpu, n;

	for (cpu = 0; cpu < s->nr_cpus; cpu++) {
		int purger = (cpu + s->nr_cpus / 2) % s->nr_cpus;

		for (n = (int)s->cpus[cpu].count / 2; n > 0; n--)
			sim_free_oldest(s, cpu, purger);
	}
}

static int sim_run(struct pcpb *inst, const struct wl_opts *o, void *priv,
		   struct wl_result *res)
{
	const struct sim_params *p = priv;
	struct sim_state s = { .inst = inst };
	uint64_t ops = o->ops ? o->ops : p->model == SIM_EXIT ? 200 : 2000;
	uint64_t i, steps;
	size_t nr_slab = 0;
	long *slab = NULL;
	struct wl_rng r;
	double start;
	int cpu;

	s.nr_cpus = pcpb_get_config(inst)->nr_cpus;
	s.cap = p->model == SIM_MIXED ? SIM_RING_MIXED
		: p->model == SIM_PURGE
			? SIM_RING_PURGE
			: (unsigned int)(ops < (1U << 20) ? ops : (1U << 20));
	s.cpus = calloc((size_t)s.nr_cpus, sizeof(*s.cpus));
	s.blocks = calloc((size_t)s.nr_cpus * s.cap, sizeof(*s.blocks));
	if (!s.cpus || !s.blocks) {
		free(s.cpus);
		free(s.blocks);
		return -ENOMEM;
	}
	for (cpu = 0; cpu < s.nr_cpus; cpu++)
		s.cpus[cpu].ring = s.blocks + (size_t)cpu * s.cap;
	if (p->model == SIM_FRAGMENT) {
		slab = sim_fragment_setup(&s, &nr_slab);
		if (!slab) {
			free(s.cpus);
			free(s.blocks);
			return -ENOMEM;
		}
		pcpb_stats_reset(inst); /* the report is the churn */
	}
	wl_rng_seed(&r, o->seed);
	steps = ops * (uint64_t)s.nr_cpus;
	start = wl_now();
	for (i = 0; i < steps; i++) {
		switch (p->model) {
		case SIM_MIXED:
			sim_mixed_step(&s, &r);
			break;
		case SIM_PURGE:
			sim_alloc(&s,
				  (int)wl_rng_below(&r, (uint32_t)s.nr_cpus), 0,
				  PCPB_MT_MOVABLE);
			if ((i + 1) % (64 * (uint64_t)s.nr_cpus) == 0)
				sim_purge_round(&s);
			break;
		case SIM_EXIT:
			/* Interleaved build: each CPU gets --ops pages. */
			sim_alloc(&s, (int)(i % (uint64_t)s.nr_cpus), 0,
				  PCPB_MT_MOVABLE);
			break;
		case SIM_FRAGMENT:
			sim_fragment_step(&s, &r);
			break;
		}
		if ((i & 0xffff) == 0)
			wl_progress("sim", wl_now() - start, 0, i);
	}
	if (p->model == SIM_EXIT)
		pcpb_stats_reset(inst); /* the report is the avalanche */
	if (p->model == SIM_FRAGMENT) {
		/* The churn's figures are the report's, not teardown's. */
		wl_measure_end(inst, res, NULL);
		s.lru.target = 0;
		sim_reclaim(&s, 0, UINT32_MAX);
		for (i = 0; i < nr_slab; i++)
			pcpb_free_pages_cpu(inst, 0, (unsigned long)slab[i], 0);
		free(slab);
		free(s.lru.pfn);
	}
	/* The avalanche, and the end of the other models: round-robin. */
	for (;;) {
		bool any = false;

		for (cpu = 0; cpu < s.nr_cpus; cpu++)
			if (s.cpus[cpu].count) {
				sim_free_oldest(&s, cpu, cpu);
				any = true;
			}
		if (!any)
			break;
	}
	res->seconds = wl_now() - start;
	wl_progress_done(res->seconds);
	res->ops = s.allocs;
	res->pages = s.pages;
	snprintf(
		res->line, sizeof(res->line),
		"sim %s: %d virtual CPUs, %llu steps: %llu allocs (%llu pages), %llu ENOMEM",
		sim_model_names[p->model], s.nr_cpus, (unsigned long long)steps,
		(unsigned long long)s.allocs, (unsigned long long)s.pages,
		(unsigned long long)s.enomem);
	free(s.blocks);
	free(s.cpus);
	return 0;
}

static int sim_nr_cpus(const struct wl_opts *o, const void *priv)
{
	(void)o;
	(void)priv;
	return 64;
}

/* Simulation has no timer: a vmstat tick would depend on the clock. */
static void sim_adjust(struct wl_opts *o, const void *priv)
{
	(void)priv;
	o->cfg.vmstat_ms = 0;
}

static const char sim_usage[] =
	"usage: pcpbuddy run sim [--model mixed|purge|exit|fragment] [--ops N]\n"
	"                        [--seed X]\n"
	"                        [--config k=v,...] [--json|--csv]\n"
	"       pcpbuddy sim MODEL --cpus N1,N2,... --configs A B ... [-o FILE]\n"
	"\n"
	"One thread plays every virtual CPU (cpus=, default 64) in a seeded\n"
	"order: deterministic work counters for any CPU count.  Models: mixed\n"
	"(random orders and types, a quarter of frees remote), purge (faults\n"
	"everywhere, purges free half of each CPU's pages on the CPU half-way\n"
	"round), exit (every CPU builds N pages, then all free at once; the\n"
	"report is the avalanche), fragment (fragment's slab holes and full\n"
	"page cache, then random CPUs allocate page cache and the last CPU\n"
	"reclaims the oldest; the report is the churn).  The vmstat timer is\n"
	"off.\n"
	"\n"
	"  --model M   mixed, purge, exit or fragment (default mixed); in\n"
	"              --configs: model=M\n"
	"  --ops N     steps per virtual CPU (default 2000; exit: pages, 200)\n"
	"  --cpus ...  ('pcpbuddy sim') the CPU counts to sweep\n"
	"Exit: 0 ok, 1 invariant check failed, 2 bad arguments.\n";

static const struct wl_option sim_options[] = {
	WL_OPT(WL_OPT_ENUM, "model", sim_params, model,
	       .names = sim_model_names, .help = "the workload simulated"),
	{ 0 }
};

const struct workload wl_sim = {
	.name = "sim",
	.summary =
		"the generators on N virtual CPUs, one thread, deterministic",
	.usage = sim_usage,
	.priv_size = sizeof(struct sim_params),
	.options = sim_options,
	.nr_cpus = sim_nr_cpus,
	.adjust = sim_adjust,
	.run = sim_run,
};
