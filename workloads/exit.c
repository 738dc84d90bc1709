// SPDX-License-Identifier: GPL-2.0-only OR MIT
/*
 * exit.c - concurrent exit avalanches (the pcp buddy RFC's second
 * motivation): K tasks each build a large address space on their own CPU,
 * then all of them free everything at the same moment, on the same CPUs,
 * as exiting processes tearing down their page tables do.  Statistics are
 * reset between the build and the avalanche, so the report (zone->lock hold
 * distribution included) describes the avalanche alone.
 *
 * Invariants: every page built is freed in the avalanche.
 * Locking: two barriers around the reset; each task's pages are its own.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "workloads.h"

struct exit_params {
	unsigned long pages; /* per task */
	unsigned int thp_percent;
};

struct exit_task {
	pthread_t tid;
	int idx;
	struct pcpb *inst;
	const struct exit_params *p;
	const struct wl_opts *o;
	pthread_barrier_t *built, *go;
	long *pfn;
	unsigned int *order;
	unsigned long nr, pages;
	double done;
};

static void *exit_task_fn(void *arg)
{
	struct exit_task *t = arg;
	struct wl_rng rng;
	unsigned long i;

	pcpb_set_thread_cpu(t->idx);
	wl_rng_seed(&rng, t->o->seed * 7919 + (uint64_t)t->idx);
	/* Build: anonymous memory, order 0 with a share of THPs. */
	while (t->pages < t->p->pages) {
		unsigned int order =
			wl_rng_below(&rng, 100) < t->p->thp_percent ? 9 : 0;
		long pfn =
			wl_alloc_pages(t->o, t->inst, order, PCPB_MT_MOVABLE);

		if (pfn < 0)
			break; /* out of memory: exit with what we have */
		t->pfn[t->nr] = pfn;
		t->order[t->nr++] = order;
		t->pages += 1UL << order;
	}
	pthread_barrier_wait(t->built);
	pthread_barrier_wait(t->go);
	for (i = 0; i < t->nr; i++)
		pcpb_free_pages(t->inst, (unsigned long)t->pfn[i], t->order[i]);
	t->done = wl_now();
	return NULL;
}

static int exit_run(struct pcpb *inst, const struct wl_opts *o, void *priv,
		    struct wl_result *res)
{
	const struct exit_params *p = priv;
	struct exit_task *t = calloc((size_t)o->threads, sizeof(*t));
	pthread_barrier_t built, go;
	unsigned long pages = 0;
	double start, end = 0;
	int i, k = o->threads;

	if (!t)
		return -ENOMEM;
	pthread_barrier_init(&built, NULL, (unsigned)k + 1);
	pthread_barrier_init(&go, NULL, (unsigned)k + 1);
	for (i = 0; i < k; i++) {
		t[i] = (struct exit_task){ .idx = i,
					   .inst = inst,
					   .p = p,
					   .o = o,
					   .built = &built,
					   .go = &go };
		t[i].pfn = malloc(p->pages * sizeof(long));
		t[i].order = malloc(p->pages * sizeof(unsigned int));
		if (!t[i].pfn || !t[i].order) {
			fprintf(stderr, "exit: out of memory\n");
			exit(1);
		}
		pthread_create(&t[i].tid, NULL, exit_task_fn, &t[i]);
	}
	pthread_barrier_wait(&built);
	pcpb_stats_reset(inst); /* the report is the avalanche alone */
	start = wl_now();
	pthread_barrier_wait(&go);
	for (i = 0; i < k; i++) {
		pthread_join(t[i].tid, NULL);
		pages += t[i].pages;
		end = t[i].done > end ? t[i].done : end;
		free(t[i].pfn);
		free(t[i].order);
	}
	pthread_barrier_destroy(&built);
	pthread_barrier_destroy(&go);
	free(t);
	res->ops = pages;
	res->pages = pages;
	res->seconds = end - start;
	snprintf(
		res->line, sizeof(res->line),
		"exit: %d tasks freed %lu pages at once in %.3f ms: %.0f pages/s",
		k, pages, res->seconds * 1e3,
		res->seconds > 0 ? (double)pages / res->seconds : 0);
	return 0;
}

static void exit_init(void *priv)
{
	struct exit_params *p = priv;

	*p = (struct exit_params){ .pages = 65536 };
}

static const char exit_usage[] =
	"usage: pcpbuddy run exit [--threads K] [--pages P] [--thp-percent T]\n"
	"                         [--config k=v,...] [--json|--csv]\n"
	"\n"
	"Concurrent exit avalanches: K tasks (CPUs 0..K-1) each build P pages of\n"
	"anonymous memory (order 0, T% of allocations THP order 9), then all\n"
	"free everything at once on their own CPUs.  Statistics are reset\n"
	"between build and avalanche: the report is the avalanche alone, and\n"
	"the first line gives its free rate.  --seconds is not used; --runs of\n"
	"compare repeats it.\n"
	"\n"
	"  --threads K       tasks (default 2)\n"
	"  --pages P         pages per task (default 65536 = 256 MiB)\n"
	"  --thp-percent T   share of order-9 allocations (default 0)\n"
	"Exit: 0 ok, 1 invariant check failed, 2 bad arguments.\n";

static const struct wl_option exit_options[] = {
	WL_OPT(WL_OPT_INT, "pages", exit_params, pages, .lo = 1, .hi = 1 << 28,
	       .help = "pages each task maps and frees"),
	WL_OPT(WL_OPT_INT, "thp-percent", exit_params, thp_percent, .lo = 0,
	       .hi = 100, .help = "share of them in pageblock-order blocks"),
	{ 0 }
};

const struct workload wl_exit = {
	.name = "exit",
	.summary =
		"concurrent exit avalanches: K tasks free large address spaces at once",
	.usage = exit_usage,
	.priv_size = sizeof(struct exit_params),
	.init = exit_init,
	.options = exit_options,
	.run = exit_run,
};
