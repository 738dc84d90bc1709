// SPDX-License-Identifier: GPL-2.0-only OR MIT
/*
 * replay.c - the replay workload: a trace (trace/) driven on an instance,
 * in simulation (one thread plays every CPU in trace order: the work
 * counters repeat exactly), or on one thread per CPU as fast as it can or
 * paced by the timestamps.  A workload, so run, compare and sweep drive it.
 *
 * Invariants: every page the replay allocated is freed before it reports;
 * a free waits for its allocation (threaded modes).
 * Locking: pfn_of[] entries are atomics in the threaded modes.
 */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../trace/trace.h"
#include "workloads.h"

enum replay_mode { REPLAY_SIM, REPLAY_THREADED, REPLAY_PACED };

struct replay_params {
	char path[512];
	int mode; /* enum replay_mode */
	int cpus; /* --cpus N, 0: the trace's */
	/* The trace of @path as parse read and sanitized it, so that a
	 * compare of R runs reads the file once, not R + 2 times; the
	 * per-run copies of the params share it read-only. */
	struct trace *loaded;
	char loaded_path[512];
};

/* pfn_of[] states besides a live pfn (>= 0). */
#define REPLAY_PENDING (-1L) /* not allocated yet */
#define REPLAY_FAILED (-2L)  /* its allocation failed */
#define REPLAY_GONE (-3L)    /* freed */

struct replay_ctx {
	struct pcpb *inst;
	const struct trace *t;
	long *pfn_of; /* by id; atomic in threaded mode */
	struct wl_result *res;
	int cpus;
	bool threaded, paced;
	double start;
};

struct replay_thread {
	struct replay_ctx *c;
	pthread_t tid;
	int cpu;
	uint64_t allocs, pages, enomem;
};

static void replay_event(struct replay_ctx *c, const struct trace_event *e,
			 int cpu, struct replay_thread *cnt)
{
	unsigned int order = e->info & 15;
	long pfn;

	switch (e->op) {
	case TOP_ALLOC:
		pfn = pcpb_alloc_pages_cpu(
			c->inst, cpu, order, (e->info >> 4) & 3,
			e->info & TRACE_ACCOUNTED ? PCPB_GFP_ACCOUNT : 0);
		if (pfn < 0) {
			cnt->enomem++;
			pfn = REPLAY_FAILED;
		} else {
			cnt->allocs++;
			cnt->pages += 1UL << order;
		}
		__atomic_store_n(&c->pfn_of[e->id], pfn, __ATOMIC_RELEASE);
		break;
	case TOP_FREE:
	case TOP_FREE_OLD:
		/* Threaded: the alloc is earlier in the trace, on a thread
		 * that is never waiting on us, so this wait ends. */
		while ((pfn = __atomic_load_n(&c->pfn_of[e->id],
					      __ATOMIC_ACQUIRE)) ==
		       REPLAY_PENDING)
			sched_yield();
		if (pfn >= 0) {
			pcpb_free_pages_cpu(c->inst, cpu, (unsigned long)pfn,
					    order);
			__atomic_store_n(&c->pfn_of[e->id], REPLAY_GONE,
					 __ATOMIC_RELAXED);
		}
		break;
	case TOP_DRAIN_ALL:
		pcpb_drain_all(c->inst);
		break;
	case TOP_STATS_RESET:
		pcpb_stats_reset(c->inst);
		break;
	case TOP_VMSTAT_TICK:
		pcpb_vmstat_tick(c->inst);
		break;
	case TOP_REPORT_MARK:
		/* Threads: the others are elsewhere in the trace, so there
		 * is no point to mark; the report is of the whole replay. */
		if (!c->threaded)
			wl_measure_end(c->inst, c->res, NULL);
		break;
	}
}

/* --threaded: one thread per replayed CPU, its events in trace order. */
static void *replay_thread_fn(void *arg)
{
	struct replay_thread *th = arg;
	struct replay_ctx *c = th->c;
	uint64_t t0 = c->t->n ? c->t->ev[0].time_ns : 0;
	size_t i;

	pcpb_set_thread_cpu(th->cpu);
	for (i = 0; i < c->t->n; i++) {
		const struct trace_event *e = &c->t->ev[i];

		if (e->cpu % c->cpus != th->cpu)
			continue;
		if (c->paced) {
			/* trace_sanitize() made the times monotonic and
			 * cut every gap to TRACE_MAX_GAP_NS. */
			double due = c->start +
				     (double)(e->time_ns >= t0 ? e->time_ns - t0
							       : 0) *
					     1e-9;
			double now = wl_now();

			if (due > now)
				usleep((useconds_t)((due - now) * 1e6));
		}
		replay_event(c, e, th->cpu, th);
	}
	return NULL;
}

static int replay_run(struct pcpb *inst, const struct wl_opts *o, void *priv,
		      struct wl_result *res)
{
	const struct replay_params *p = priv;
	struct replay_thread sum = { 0 }, *th = NULL;
	struct replay_ctx c = { .inst = inst,
				.paced = p->mode == REPLAY_PACED,
				.res = res };
	struct trace own = { .ev = NULL }, *tp = p->loaded;
	char err[256];
	size_t i;
	int cpu;

	(void)o;
	c.cpus = pcpb_get_config(inst)->nr_cpus;
	c.threaded = p->mode != REPLAY_SIM;
	/* A --configs trace=... differs from the one parse loaded. */
	if (!tp || strcmp(p->loaded_path, p->path)) {
		if (trace_load("replay", p->path, &own, err, sizeof(err))) {
			fprintf(stderr, "replay: %s\n", err);
			return -EINVAL;
		}
		if (trace_sanitize(&own)) {
			free(own.ev);
			return -ENOMEM;
		}
		tp = &own;
	}
	const struct trace t = *tp;

	c.t = &t;
	c.pfn_of = malloc((t.n + 2) * sizeof(long));
	if (c.threaded)
		th = calloc((size_t)c.cpus, sizeof(*th));
	if (!c.pfn_of || (c.threaded && !th)) {
		free(th);
		free(c.pfn_of);
		free(own.ev);
		return -ENOMEM;
	}
	for (i = 0; i < t.n + 2; i++)
		c.pfn_of[i] = REPLAY_PENDING;
	/* Pages the trace frees but never allocated exist before it starts:
	 * allocate them on the freeing CPU, then start from a clean slate. */
	for (i = 0; i < t.n; i++) {
		const struct trace_event *e = &t.ev[i];

		if (e->op == TOP_FREE_OLD) {
			long pfn = pcpb_alloc_pages_cpu(inst, e->cpu % c.cpus,
							e->info & 15,
							PCPB_MT_MOVABLE, 0);

			c.pfn_of[e->id] = pfn < 0 ? REPLAY_FAILED : pfn;
			sum.enomem += pfn < 0;
		}
	}
	pcpb_drain_all(inst);
	pcpb_stats_reset(inst);
	c.start = wl_now();
	if (!c.threaded) {
		/* Simulation: one thread drives every CPU in trace order. */
		for (i = 0; i < t.n; i++)
			replay_event(&c, &t.ev[i], t.ev[i].cpu % c.cpus, &sum);
	} else {
		for (cpu = 0; cpu < c.cpus; cpu++) {
			th[cpu] = (struct replay_thread){ .c = &c, .cpu = cpu };
			if (pthread_create(&th[cpu].tid, NULL, replay_thread_fn,
					   &th[cpu]))
				break;
		}
		while (cpu-- > 0) {
			pthread_join(th[cpu].tid, NULL);
			sum.allocs += th[cpu].allocs;
			sum.pages += th[cpu].pages;
			sum.enomem += th[cpu].enomem;
		}
	}
	res->seconds = wl_now() - c.start;
	/* Pages still live at the end of the trace go back, on CPU 0. */
	for (i = 0; i < t.n; i++) {
		const struct trace_event *e = &t.ev[i];

		if (e->op == TOP_ALLOC && c.pfn_of[e->id] >= 0) {
			pcpb_free_pages_cpu(inst, 0,
					    (unsigned long)c.pfn_of[e->id],
					    e->info & 15);
			c.pfn_of[e->id] = REPLAY_GONE;
		}
	}
	res->ops = sum.allocs;
	res->pages = sum.pages;
	snprintf(
		res->line, sizeof(res->line),
		"replay%s: %s (%u CPUs traced, replayed on %d): %zu events, %llu allocs, %llu ENOMEM; %.3f s, %.2f M events/s",
		c.paced	     ? " (paced threads)"
		: c.threaded ? " (threads)"
			     : "",
		t.h.source, t.h.nr_cpus, c.cpus, t.n,
		(unsigned long long)sum.allocs, (unsigned long long)sum.enomem,
		res->seconds,
		res->seconds > 0 ? (double)t.n / res->seconds * 1e-6 : 0);
	free(th);
	free(c.pfn_of);
	free(own.ev);
	return 0;
}

/* The trace must exist and read; the prototype loads it once for all runs. */
static int replay_check(void *priv, char *err, size_t len)
{
	struct replay_params *p = priv;
	struct trace *t;
	char msg[600];

	if (!p->path[0]) {
		snprintf(err, len, "needs --trace TRACE");
		return -EINVAL;
	}
	/* Loaded already, or a per-run copy: its run reads its own trace. */
	if (p->loaded)
		return 0;
	t = calloc(1, sizeof(*t));
	if (!t) {
		snprintf(err, len, "out of memory");
		return -EINVAL;
	}
	if (trace_load("replay", p->path, t, msg, sizeof(msg))) {
		free(t);
		snprintf(err, len, "--trace: %s", msg);
		return -EINVAL;
	}
	if (trace_sanitize(t)) {
		free(t->ev);
		free(t);
		snprintf(err, len, "out of memory");
		return -EINVAL;
	}
	p->loaded = t;
	strcpy(p->loaded_path, p->path);
	return 0;
}

static const char *const replay_mode_names[] = { "sim", "threaded", "paced",
						 NULL };

static const struct wl_option replay_options[] = {
	WL_OPT(WL_OPT_STRING, "trace", replay_params, path,
	       .help = "the trace (pcpbuddy's, or kmem text, plain or gzip)"),
	WL_OPT(WL_OPT_ENUM, "mode", replay_params, mode,
	       .names = replay_mode_names,
	       .help = "as --sim, --threaded, --paced"),
	WL_OPT(WL_OPT_CHOICE, "sim", replay_params, mode, .lo = REPLAY_SIM,
	       .help = "one thread plays every CPU in trace order (default)"),
	WL_OPT(WL_OPT_CHOICE, "threaded", replay_params, mode,
	       .lo = REPLAY_THREADED,
	       .help = "one thread per CPU, as fast as it can"),
	WL_OPT(WL_OPT_CHOICE, "paced", replay_params, mode, .lo = REPLAY_PACED,
	       .help = "one thread per CPU, each event at its timestamp"),
	/* cpus= in --configs is the config key: it sizes the instance. */
	WL_OPT(WL_OPT_INT, "cpus", replay_params, cpus, .lo = 1,
	       .hi = PCPB_MAX_CPUS, .cli_only = true, .short_name = "--cpus",
	       .help = "fold the traced CPUs onto N (config cpus=N)"),
	{ 0 }
};

static void replay_fini(void *priv)
{
	struct replay_params *p = priv;

	if (p->loaded)
		free(p->loaded->ev);
	free(p->loaded);
	p->loaded = NULL;
}

static int replay_nr_cpus(const struct wl_opts *o, const void *priv)
{
	const struct replay_params *p = priv;

	(void)o;
	if (p->cpus)
		return p->cpus;
	return p->loaded && p->loaded->h.nr_cpus ? (int)p->loaded->h.nr_cpus
						 : 1;
}

static const char replay_usage[] =
	"usage: pcpbuddy replay TRACE [--sim|--threads|--paced] [--cpus N]\n"
	"                       [--configs A B ...] [--config k=v,...]\n"
	"       pcpbuddy run replay --trace TRACE [...]\n"
	"\n"
	"Replays a pcpbuddy trace (from 'pcpbuddy import ftrace' or --record),\n"
	"or kmem tracepoint text (plain or gzipped), imported on the fly.\n"
	"  --sim       (default) one thread drives the CPUs in trace order: the\n"
	"              work counters and fragmentation are the same every run\n"
	"  --threads   one thread per CPU, each its events in trace order as\n"
	"              fast as it can; a free waits for its allocation\n"
	"              (--threaded under 'run replay', where --threads N is\n"
	"              the common option and is ignored)\n"
	"  --paced     --threads, each event at its timestamp\n"
	"  --cpus N    fold the traced CPUs onto N (cpu modulo N); the default\n"
	"              is the trace's count (--config cpus=N wins over it)\n"
	"With --configs it is a compare of those configurations.\n"
	"Exit: 0 ok, 1 check failed, 2 bad arguments or trace.\n";

/* Simulated time has no vmstat timer: decays would make runs differ. */
static void replay_adjust(struct wl_opts *o, const void *priv)
{
	(void)priv;
	o->cfg.vmstat_ms = 0;
}

const struct workload wl_replay = {
	.name = "replay",
	.summary =
		"replay a pcpbuddy trace (imported or recorded): simulated or threaded",
	.usage = replay_usage,
	.priv_size = sizeof(struct replay_params),
	.options = replay_options,
	.check = replay_check,
	.nr_cpus = replay_nr_cpus,
	.adjust = replay_adjust,
	.run = replay_run,
	.fini = replay_fini,
};
