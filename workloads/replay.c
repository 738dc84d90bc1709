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
#include <strings.h>
#include <unistd.h>

#include "../trace/trace.h"
#include "workloads.h"

enum replay_mode { REPLAY_SIM, REPLAY_THREADED, REPLAY_PACED };

/*
 * The kernel's state when tracing started (a capture's zoneinfo.before or
 * --zoneinfo): the replayed zone's size, free pages and watermarks, and
 * each CPU's pageset.  Built once by replay_check(), shared read-only.
 */
struct replay_start {
	char zone[16], kernel[64], source[32];
	unsigned long managed, free, min;
	int batch, high_min, high_max, nr_cpus;
	int fixed_high; /* no high_min/high_max printed: the first CPU's high */
	int boost_factor; /* vm.watermark_boost_factor, -1: not captured */
	long *count, *pcp_high; /* by CPU; -1: not listed */
	/* zoneinfo.after's high by CPU (-1: not listed or no snapshot): a
	 * CPU whose high did not move ran no vmstat decay */
	long *high_after;
};

struct replay_params {
	char path[512];
	int mode;  /* enum replay_mode */
	int cpus;  /* --cpus N, 0: the trace's */
	bool cold; /* --cold: empty PCPs at high_min, not the start state */
	/* --vmstat-ms: each CPU's vmstat_update() in trace time; -1 auto */
	int vmstat_ms;
	char zoneinfo[512], zone[16];
	struct replay_start *start;
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
	uint64_t allocs, pages, enomem, ticks;
};

/*
 * The vmstat timer in trace time (--sim): the kernel's vmstat_update()
 * re-arms itself with round_jiffies_relative(), so on a busy CPU it is due
 * at whole seconds of the clock, each CPU 3 jiffies after the one before
 * (round_jiffies' skew); the trace's clock is the same local clock.  The
 * work is deferrable and queued behind what runs on that CPU, so where the
 * trace shows when it ran, it runs then: a drain that no free on that CPU
 * triggered (its CPU's event before it is not a free) is the decay (or a
 * drain_all), and the tick of its period moves there; otherwise it runs
 * at the CPU's first event of the period, and an idle CPU (no event in
 * the period) runs none, as a deferrable timer on a NOHZ CPU.  The model decides
 * what the tick drains.  A recorded trace carries its driver's own ticks
 * (op 8) instead.
 */
struct replay_ticks {
	uint64_t period_ns, skew_ns, ticks;
	int cpus;
	struct {
		uint64_t start;	    /* this period's whole-second start */
		uint64_t *evidence; /* unexplained drain times, sorted */
		size_t nr, pos;
	} * cpu;
};

/* Return: whether @t came from a kernel (imported text or a capture), not
 * from a driver's --record. */
static bool is_kernel_trace(const struct trace *t)
{
	return !strncmp(t->h.source, "ftrace:", 7) ||
	       !strncmp(t->h.source, "capture:", 8);
}

/* Return: when CPU @c's tick of the period at cpu[c].start runs. */
static uint64_t tick_time(struct replay_ticks *tk, int c)
{
	typeof(tk->cpu[0]) *pc = &tk->cpu[c];

	while (pc->pos < pc->nr && pc->evidence[pc->pos] < pc->start)
		pc->pos++;
	if (pc->pos < pc->nr &&
	    pc->evidence[pc->pos] < pc->start + tk->period_ns)
		return pc->evidence[pc->pos];
	return pc->start;
}

static void replay_ticks_init(struct replay_ticks *tk,
			      const struct replay_params *p,
			      const struct trace *t, int cpus)
{
	unsigned long long hz = trace_meta_ull(t, "kernel_hz");
	uint8_t *prev = NULL;
	size_t i;
	long ms = p->vmstat_ms;
	int c;

	memset(tk, 0, sizeof(*tk));
	if (ms < 0) {
		ms = 0;
		if (is_kernel_trace(t))
			ms = 1000;
		for (i = 0; i < t->n && ms; i++)
			if (t->ev[i].op == TOP_VMSTAT_TICK)
				ms = 0;
	}
	if (!ms || !t->n)
		return;
	tk->cpu = calloc((size_t)cpus, sizeof(*tk->cpu));
	prev = calloc((size_t)cpus, 1);
	if (!tk->cpu || !prev) {
		free(tk->cpu);
		free(prev);
		tk->cpu = NULL;
		return;
	}
	tk->cpus = cpus;
	tk->period_ns = (uint64_t)ms * 1000000ULL;
	/* 3 jiffies a CPU; Debian's kernels run HZ=250 */
	tk->skew_ns = 3ULL * 1000000000ULL / (hz ? hz : 250);
	if (!tk->skew_ns || tk->skew_ns > tk->period_ns)
		tk->skew_ns = 0;
	for (i = 0; i < t->n; i++) {
		const struct trace_event *e = &t->ev[i];
		typeof(tk->cpu[0]) *pc = &tk->cpu[e->cpu % cpus];

		if (e->op == TOP_DRAIN_MARK &&
		    prev[e->cpu % cpus] != TOP_DRAIN_MARK &&
		    prev[e->cpu % cpus] != TOP_FREE &&
		    prev[e->cpu % cpus] != TOP_FREE_OLD) {
			uint64_t *grown = realloc(
				pc->evidence, (pc->nr + 1) * sizeof(*grown));

			if (grown) {
				pc->evidence = grown;
				pc->evidence[pc->nr++] = e->time_ns;
			}
		}
		prev[e->cpu % cpus] = e->op;
	}
	free(prev);
	for (c = 0; c < cpus; c++) {
		const struct replay_start *st = p->cold ? NULL : p->start;
		uint64_t skew = (uint64_t)c * tk->skew_ns % tk->period_ns;

		/* The end snapshot says this CPU's high never moved: its
		 * vmstat work did not run (or had nothing to decay). */
		if (st && st->high_after && c < st->nr_cpus &&
		    st->high_after[c] >= 0 &&
		    st->high_after[c] == st->pcp_high[c]) {
			tk->cpu[c].start = UINT64_MAX - tk->period_ns;
			continue;
		}
		uint64_t t0 = t->ev[0].time_ns;

		/* The period the trace starts in: its tick may still be
		 * to come, deferred into the trace. */
		tk->cpu[c].start =
			(t0 > skew ? (t0 - skew) / tk->period_ns : 0) *
				tk->period_ns +
			skew;
		if (tick_time(tk, c) < t0)
			tk->cpu[c].start += tk->period_ns; /* it ran before */
	}
}

/*
 * Before an event of CPU @c at @now: the tick of the current period runs
 * if it is due.  The timer is deferrable, so an idle CPU runs none: a
 * period with no event of @c passes without a tick.
 */
static void replay_ticks_due(struct replay_ticks *tk, struct pcpb *inst,
			     uint64_t now, int c)
{
	if (!tk->cpu)
		return;
	while (now >= tk->cpu[c].start + tk->period_ns)
		tk->cpu[c].start += tk->period_ns; /* idle all period */
	if (now >= tick_time(tk, c)) {
		pcpb_vmstat_tick_cpu(inst, c);
		tk->cpu[c].start += tk->period_ns;
		tk->ticks++;
	}
}

static void replay_ticks_free(struct replay_ticks *tk)
{
	for (int c = 0; tk->cpu && c < tk->cpus; c++)
		free(tk->cpu[c].evidence);
	free(tk->cpu);
}

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

static void replay_start_free(struct replay_start *st)
{
	if (st) {
		free(st->count);
		free(st->pcp_high);
		free(st->high_after);
	}
	free(st);
}

/*
 * The start state of @t: from --zoneinfo, else from the trace's own
 * snapshot.  Return: 0 with *@out NULL when there is none, 0 with it set,
 * or -EINVAL with @err.
 */
static int replay_start_of(const struct replay_params *p, const struct trace *t,
			   struct replay_start **out, char *err, size_t len)
{
	struct zoneinfo zi;
	const struct zi_zone *z;
	struct replay_start *st;
	const char *v, *source = "the trace's zoneinfo.before";
	char *text = NULL, zone[16] = "";
	size_t vlen;
	int c, rc;

	*out = NULL;
	if (p->zoneinfo[0]) {
		text = trace_read_text(p->zoneinfo, NULL);
		if (!text || !*text) {
			snprintf(err, len, "--zoneinfo %s: cannot read it",
				 p->zoneinfo);
			free(text);
			return -EINVAL;
		}
		source = "--zoneinfo";
	} else {
		text = trace_meta_section(t, "zoneinfo.before");
		if (!text)
			return 0;
	}
	if (p->zone[0])
		snprintf(zone, sizeof(zone), "%s", p->zone);
	else if ((v = trace_meta_get(t, "zone", &vlen)))
		snprintf(zone, sizeof(zone), "%.*s", (int)vlen, v);
	rc = zoneinfo_parse(text, &zi);
	free(text);
	z = rc ? NULL : zoneinfo_zone(&zi, zone);
	if (!z || !z->nr_cpus) {
		snprintf(err, len, "%s: %s", source,
			 rc ? "not /proc/zoneinfo text"
			    : "no such zone with memory and pagesets");
		zoneinfo_free(&zi);
		return -EINVAL;
	}
	st = calloc(1, sizeof(*st));
	if (st) {
		st->count = calloc((size_t)z->nr_cpus, sizeof(long));
		st->pcp_high = calloc((size_t)z->nr_cpus, sizeof(long));
	}
	if (!st || !st->count || !st->pcp_high) {
		replay_start_free(st);
		zoneinfo_free(&zi);
		snprintf(err, len, "out of memory");
		return -EINVAL;
	}
	snprintf(st->zone, sizeof(st->zone), "%s", z->name);
	snprintf(st->source, sizeof(st->source), "%s", source);
	if ((v = trace_meta_get(t, "kernel_release", &vlen)))
		snprintf(st->kernel, sizeof(st->kernel), "%.*s", (int)vlen, v);
	st->boost_factor = -1;
	if ((v = trace_meta_get(t, "vm.watermark_boost_factor", &vlen)) &&
	    vlen < 16) {
		char num[16], *end;
		long f;

		snprintf(num, sizeof(num), "%.*s", (int)vlen, v);
		f = strtol(num, &end, 10);
		if (end != num && !*end && f >= 0 && f <= 1L << 30)
			st->boost_factor = (int)f;
	}
	st->managed = z->managed;
	st->free = z->free;
	st->min = z->min;
	st->nr_cpus = z->nr_cpus;
	for (c = 0; c < z->nr_cpus; c++) {
		const struct zi_cpu *zc = &z->cpu[c];

		st->count[c] = zc->listed ? zc->count : -1;
		st->pcp_high[c] = zc->listed ? zc->high : -1;
		if (zc->listed && !st->batch) {
			st->batch = (int)zc->batch;
			/* Only some kernels print high_min/high_max (6.18
			 * does, 6.1 and 6.12 do not): the profile decides
			 * what their absence means (replay_adjust()). */
			st->high_min = (int)zc->high_min;
			st->high_max = (int)zc->high_max;
			st->fixed_high = (int)zc->high;
		}
	}
	zoneinfo_free(&zi);
	st->high_after = malloc((size_t)st->nr_cpus * sizeof(long));
	if (st->high_after) {
		char *after = p->zoneinfo[0]
				      ? NULL
				      : trace_meta_section(t, "zoneinfo.after");
		const struct zi_zone *za = NULL;

		if (after && !zoneinfo_parse(after, &zi))
			za = zoneinfo_zone(&zi, st->zone);
		for (c = 0; c < st->nr_cpus; c++)
			st->high_after[c] =
				za && c < za->nr_cpus && za->cpu[c].listed
					? za->cpu[c].high
					: -1;
		if (after)
			zoneinfo_free(&zi);
		free(after);
	}
	*out = st;
	return 0;
}

/* "6.12.57+deb13-amd64" -> the profile, "6.12"; later kernels -> next. */
static const char *kernel_profile_of(const char *release)
{
	static const char *const known[] = { "6.1", "6.6", "6.12", "6.18" };
	static char buf[32];
	int major, minor;
	size_t i;

	if (sscanf(release, "%d.%d", &major, &minor) != 2)
		return NULL;
	if (major > 6 || (major == 6 && minor > 18))
		return "next";
	snprintf(buf, sizeof(buf), "%d.%d", major, minor);
	for (i = 0; i < sizeof(known) / sizeof(known[0]); i++)
		if (!strcmp(buf, known[i]))
			return known[i];
	return NULL;
}

struct replay_filler {
	long *pfn;
	unsigned char *order;
	size_t n, cap;
};

/*
 * Allocate pages the trace never frees until the zone holds the kernel's
 * free pages, largest blocks first (the buddy keeps the rest whole: the
 * kernel's fragmentation is not rebuilt).  Orders a PCP takes (0..3, and
 * THP's pageblock order) would leave a refill's remainder on a list, so
 * blocks come from the others, and the last pages one by one with the
 * lists drained after: the zone then holds exactly @target, or as close as
 * the watermark lets it.
 */
static bool fill_one(struct pcpb *inst, unsigned int order,
		     struct replay_filler *fl)
{
	long pfn;

	if (fl->n == fl->cap) {
		size_t cap = fl->cap ? 2 * fl->cap : 1024;
		long *p = realloc(fl->pfn, cap * sizeof(*p));
		unsigned char *o = p ? realloc(fl->order, cap) : NULL;

		if (p)
			fl->pfn = p;
		if (!o)
			return false;
		fl->order = o;
		fl->cap = cap;
	}
	pfn = pcpb_alloc_pages_cpu(inst, 0, order, PCPB_MT_MOVABLE,
				   PCPB_GFP_NORETRY);
	if (pfn < 0)
		return false;
	fl->pfn[fl->n] = pfn;
	fl->order[fl->n++] = (unsigned char)order;
	return true;
}

static void replay_fill(struct pcpb *inst, unsigned long target,
			struct replay_filler *fl)
{
	const struct pcpb_config *cfg = pcpb_get_config(inst);
	struct pcpb_watermarks wm;
	unsigned int order = PCPB_MAX_PAGE_ORDER;
	unsigned long left;

	while (!pcpb_node_watermarks(inst, 0, &wm) && wm.free > target &&
	       order > 3) {
		if (order == cfg->pageblock_order ||
		    wm.free - target < (1UL << order) ||
		    !fill_one(inst, order, fl))
			order--;
	}
	if (pcpb_node_watermarks(inst, 0, &wm) || wm.free <= target)
		return;
	for (left = wm.free - target; left; left--)
		if (!fill_one(inst, 0, fl))
			break; /* below the watermark: as far as it goes */
	pcpb_drain_all(inst);
}

/*
 * Which lists hold a CPU's count pages: zoneinfo gives only the total.
 * The trace tells part of it: what the CPU took from a list before it
 * first refilled that list, net of what it freed onto it meanwhile (the
 * largest running difference: the list is LIFO), is what the list held,
 * exactly when the list was then refilled (it was empty), at least when
 * it never was.  The rule: each list the trace uses gets that, in the
 * order the trace first uses it, up to the count; the rest goes to the
 * first order-0 list the trace uses and the kernel never refilled, else
 * to an order-0 list the trace never uses (where it only counts toward
 * high and drains), else to the movable one.
 * docs/fidelity.md measures the rule against the simpler ones.
 */
#define STOCK_LISTS (4 * 3) /* orders 0..3 x unmovable, movable, reclaimable */
static int replay_stock_of(const struct trace *t, int cpu, int cpus, long count,
			   struct pcpb_pcp_stock *out)
{
	long net[STOCK_LISTS] = { 0 }, need[STOCK_LISTS] = { 0 };
	bool refilled[STOCK_LISTS] = { false }, used[STOCK_LISTS] = { false };
	int first[STOCK_LISTS], nr_first = 0, n = 0, i, rest = -1;
	uint8_t *mt_of = calloc(t->n + 2, 1);
	size_t k;

	for (k = 0; k < t->n; k++) {
		const struct trace_event *e = &t->ev[k];
		unsigned int order = e->info & 15;
		int mt = (e->info >> 4) & 3, l;

		if (e->op == TOP_ALLOC && mt_of && e->id <= t->n)
			mt_of[e->id] = (uint8_t)mt;
		if (e->cpu % cpus != cpu || order > 3)
			continue;
		if (e->op == TOP_FREE && mt_of && e->id <= t->n)
			mt = mt_of[e->id];
		else if (e->op == TOP_FREE_OLD)
			mt = PCPB_MT_MOVABLE;
		l = (int)order * 3 + mt;
		if (e->op == TOP_REFILL_MARK) {
			refilled[l] = true;
		} else if (e->op == TOP_ALLOC && !refilled[l]) {
			if (!used[l])
				first[nr_first++] = l;
			used[l] = true;
			net[l] += 1L << order;
			if (net[l] > need[l])
				need[l] = net[l];
		} else if ((e->op == TOP_FREE || e->op == TOP_FREE_OLD) &&
			   !refilled[l] && net[l] > 0) {
			net[l] -= 1L << order;
		}
	}
	free(mt_of);
	for (i = 0; i < nr_first && count > 0; i++) {
		int l = first[i];
		long pages = need[l] < count ? need[l] : count;

		out[n] = (struct pcpb_pcp_stock){ .order = (unsigned int)l / 3,
						  .migratetype = l % 3,
						  .nr_blocks = (int)(pages >>
								     (l / 3)) };
		count -= (long)out[n].nr_blocks << (l / 3);
		n += out[n].nr_blocks > 0;
		if (rest < 0 && !refilled[l] && l < 3)
			rest = l;
	}
	/* The rest on order 0, where a kernel's PCP pages mostly are (a run
	 * of higher-order frees drains those lists: free_high). */
	for (i = 0; rest < 0 && i < 3; i++)
		if (!used[i] && !refilled[i])
			rest = i;
	if (rest < 0)
		rest = PCPB_MT_MOVABLE; /* every order-0 list used and refilled */
	if (count >> (rest / 3) > 0)
		out[n++] = (struct pcpb_pcp_stock){
			.order = (unsigned int)rest / 3,
			.migratetype = rest % 3,
			.nr_blocks = (int)(count >> (rest / 3))
		};
	return n;
}

/* Build the kernel's start state on @inst: free pages, then each CPU's
 * pageset.  Return: a line for the report. */
static void replay_apply_start(struct pcpb *inst, const struct replay_start *st,
			       const struct trace *t, struct replay_filler *fl,
			       char *line, size_t len)
{
	struct pcpb_pcp_stock lists[STOCK_LISTS + 1];
	int c, cpus = pcpb_get_config(inst)->nr_cpus;
	unsigned long pcp_total = 0, stocked = 0;
	struct pcpb_watermarks wm;

	for (c = 0; c < st->nr_cpus && c < cpus; c++)
		if (st->count[c] > 0)
			pcp_total += (unsigned long)st->count[c];
	pcpb_drain_all(inst);
	/* Free pages in the zone after the PCPs are stocked: the kernel's
	 * NR_FREE_PAGES does not count PCP pages either. */
	replay_fill(inst, st->free + pcp_total, fl);
	for (c = 0; c < st->nr_cpus && c < cpus; c++) {
		if (st->count[c] < 0)
			continue;
		pcpb_pcp_preset(
			inst, c, lists,
			replay_stock_of(t, c, cpus, st->count[c], lists),
			(int)st->pcp_high[c]);
		stocked += (unsigned long)st->count[c];
	}
	pcpb_node_watermarks(inst, 0, &wm);
	snprintf(
		line, len,
		"start state (%s): zone %s, %lu managed, free %llu (kernel %lu), %lu pages on %d PCPs",
		st->source, st->zone, st->managed, (unsigned long long)wm.free,
		st->free, stocked, st->nr_cpus < cpus ? st->nr_cpus : cpus);
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
	struct replay_filler filler = { 0 };
	char err[256], start_line[200] = "";
	size_t i;
	int cpu;

	(void)o;
	c.cpus = pcpb_get_config(inst)->nr_cpus;
	c.threaded = p->mode != REPLAY_SIM;
	/* A --configs trace=... differs from the one parse loaded. */
	if (!tp || strcmp(p->loaded_path, p->path)) {
		struct trace_import_opts io = {
			.zoneinfo = p->zoneinfo[0] ? p->zoneinfo : NULL,
			.zone = p->zone[0] ? p->zone : NULL
		};

		if (trace_load("replay", p->path, &io, &own, err,
			       sizeof(err))) {
			fprintf(stderr, "replay: %s\n", err);
			return -EINVAL;
		}
		if (trace_sanitize(&own)) {
			trace_free(&own);
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
		trace_free(&own);
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
	if (p->start && !p->cold) {
		replay_apply_start(inst, p->start, &t, &filler, start_line,
				   sizeof(start_line));
	} else {
		pcpb_drain_all(inst);
		if (is_kernel_trace(&t))
			snprintf(
				start_line, sizeof(start_line),
				"no start state (%s): every PCP empty at high_min, the zone and profile from --config",
				p->cold ? "--cold"
					: "the trace has no zoneinfo: --zoneinfo FILE gives one");
	}
	pcpb_stats_reset(inst);
	c.start = wl_now();
	if (!c.threaded) {
		/* Simulation: one thread drives every CPU in trace order,
		 * and the vmstat timer ticks in trace time. */
		struct replay_ticks tk;

		replay_ticks_init(&tk, p, &t, c.cpus);
		for (i = 0; i < t.n; i++) {
			replay_ticks_due(&tk, inst, t.ev[i].time_ns,
					 t.ev[i].cpu % c.cpus);
			replay_event(&c, &t.ev[i], t.ev[i].cpu % c.cpus, &sum);
		}
		sum.ticks = tk.ticks;
		replay_ticks_free(&tk);
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
	/* The report is of the trace's events, not of the cleanup below
	 * (unless a recorded report mark came first). */
	wl_measure_end(inst, res, NULL);
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
	for (i = 0; i < filler.n; i++)
		pcpb_free_pages_cpu(inst, 0, (unsigned long)filler.pfn[i],
				    filler.order[i]);
	free(filler.pfn);
	free(filler.order);
	res->ops = sum.allocs;
	res->pages = sum.pages;
	snprintf(
		res->line, sizeof(res->line),
		"replay%s: %s (%u CPUs traced, replayed on %d): %zu events, %llu allocs, %llu ENOMEM, %llu vmstat ticks in trace time; %.3f s, %.2f M events/s",
		c.paced	     ? " (paced threads)"
		: c.threaded ? " (threads)"
			     : "",
		t.h.source, t.h.nr_cpus, c.cpus, t.n,
		(unsigned long long)sum.allocs, (unsigned long long)sum.enomem,
		(unsigned long long)sum.ticks, res->seconds,
		res->seconds > 0 ? (double)t.n / res->seconds * 1e-6 : 0);
	if (start_line[0] && strlen(res->line) + 3 < sizeof(res->line))
		snprintf(res->line + strlen(res->line),
			 sizeof(res->line) - strlen(res->line), "\n  %s",
			 start_line);
	free(th);
	free(c.pfn_of);
	trace_free(&own);
	return 0;
}

/* The trace must exist and read; the prototype loads it once for all runs. */
static int replay_check(void *priv, char *err, size_t len)
{
	struct replay_params *p = priv;
	struct trace_import_opts io = { .zoneinfo = p->zoneinfo[0] ? p->zoneinfo
								   : NULL,
					.zone = p->zone[0] ? p->zone : NULL };
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
	if (trace_load("replay", p->path, &io, t, msg, sizeof(msg))) {
		free(t);
		snprintf(err, len, "--trace: %s", msg);
		return -EINVAL;
	}
	if (trace_sanitize(t)) {
		trace_free(t);
		free(t);
		snprintf(err, len, "out of memory");
		return -EINVAL;
	}
	if (trace_meta_ull(t, "lost_events"))
		fprintf(stderr,
			"replay: warning: %s lost %llu events when it was captured: the kernel's counts are low\n",
			p->path, trace_meta_ull(t, "lost_events"));
	if (replay_start_of(p, t, &p->start, err, len)) {
		trace_free(t);
		free(t);
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
	WL_OPT(WL_OPT_INT, "vmstat-ms", replay_params, vmstat_ms, .lo = -1,
	       .hi = 600000,
	       .help = "--sim: each CPU's PCP decay every N ms of trace time (-1: 1000 for kernel traces, 0: off)"),
	WL_OPT(WL_OPT_FLAG, "cold", replay_params, cold,
	       .help = "start with empty PCPs at high_min, not the trace's start state"),
	WL_OPT(WL_OPT_STRING, "zoneinfo", replay_params, zoneinfo,
	       .help = "the start state: /proc/zoneinfo as tracing began"),
	WL_OPT(WL_OPT_STRING, "zone", replay_params, zone,
	       .help = "the zone to replay (default: Normal, else the largest)"),
	/* cpus= in --configs is the config key: it sizes the instance. */
	WL_OPT(WL_OPT_INT, "cpus", replay_params, cpus, .lo = 1,
	       .hi = PCPB_MAX_CPUS, .cli_only = true, .short_name = "--cpus",
	       .help = "fold the traced CPUs onto N (config cpus=N)"),
	{ 0 }
};

/*
 * The kernel's own zone->lock holds per 1000 pages, for compare's first
 * row: its refill and drain marker runs, and one per allocation or free
 * of an order no PCP takes.  What the trace cannot show is not in it (a
 * failed pcp trylock's direct buddy access).
 */
static bool replay_reference(const void *priv, char *name, size_t len,
			     double *zone_acq_per_1k)
{
	const struct replay_params *p = priv;
	const struct trace *t = p->loaded;
	struct trace_kernel_flows *k;
	uint64_t holds = 0, pages = 0;
	size_t i, vlen;
	const char *rel;

	if (!t || !t->h.nr_cpus)
		return false;
	k = calloc(t->h.nr_cpus, sizeof(*k));
	if (!k || trace_kernel_flows(t, k)) {
		free(k);
		return false;
	}
	for (i = 0; i < t->h.nr_cpus; i++)
		holds += k[i].refill_holds + k[i].drain_holds;
	free(k);
	for (i = 0; i < t->n; i++) {
		const struct trace_event *e = &t->ev[i];
		unsigned int order = e->info & 15;

		if (e->op == TOP_ALLOC)
			pages += 1ULL << order;
		/* Orders no PCP takes go to the buddy under zone->lock, one
		 * hold each, with no marker (THP's order 9 is a PCP order). */
		if ((e->op == TOP_ALLOC || e->op == TOP_FREE ||
		     e->op == TOP_FREE_OLD) &&
		    order > 3 && order != 9)
			holds++;
	}
	if (!holds || !pages)
		return false; /* no markers: a recording, or not traced */
	rel = trace_meta_get(t, "kernel_release", &vlen);
	snprintf(name, len, "kernel %.*s (markers)",
		 rel ? (int)(vlen < 20 ? vlen : 20) : 5, rel ? rel : "trace");
	*zone_acq_per_1k = 1000.0 * (double)holds / (double)pages;
	return true;
}

static void replay_init(void *priv)
{
	struct replay_params *p = priv;

	p->vmstat_ms = -1;
}

static void replay_fini(void *priv)
{
	struct replay_params *p = priv;

	if (p->loaded)
		trace_free(p->loaded);
	free(p->loaded);
	p->loaded = NULL;
	replay_start_free(p->start);
	p->start = NULL;
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
	"  --zoneinfo FILE  /proc/zoneinfo as tracing began: the start state\n"
	"              (a capture's trace carries its own); with kmem text, only\n"
	"              the events of the replayed zone are kept\n"
	"  --zone NAME the zone to replay (Normal, DMA32, ...)\n"
	"  --cold      no start state: every PCP empty at high_min\n"
	"  --vmstat-ms N  --sim: each CPU's PCP high decay every N ms of trace\n"
	"              time, at whole seconds as the kernel's vmstat_update()\n"
	"              (default 1000 for kernel traces, 0 off)\n"
	"From a start state the replay sizes the zone (memory, free pages,\n"
	"min watermark) and each CPU's pageset (count pages, spread over its\n"
	"lists as the trace implies, high, batch, high_min, high_max) as the\n"
	"kernel's, and\n"
	"follows the kernel profile of the traced kernel (docs/fidelity.md);\n"
	"--config keys win over it.\n"
	"With --configs it is a compare of those configurations.\n"
	"Exit: 0 ok, 1 check failed, 2 bad arguments or trace.\n";

/*
 * Simulated time has no vmstat timer: decays would make runs differ.  A
 * start state sizes the zone and its pagesets as the kernel's, and names
 * the kernel profile, where --config did not set them.
 */
static void replay_adjust(struct wl_opts *o, const void *priv)
{
	const struct replay_params *p = priv;
	const struct replay_start *st = p->start;
	int st_high_min, st_high_max;
	char v[64];
	const char *profile;

	o->cfg.vmstat_ms = 0;
	if (!st || p->cold)
		return;
	if (!wl_config_given(o, "memory")) {
		/* Whole 4 MiB units, at least the managed pages: the filler
		 * takes what is over. */
		snprintf(v, sizeof(v), "%luK",
			 ((st->managed * 4 + 4095) / 4096) * 4096);
		if (pcpb_config_set(&o->cfg, "memory", v))
			fprintf(stderr,
				"replay: start state: memory=%s refused\n", v);
	}
	if (!wl_config_given(o, "nodes"))
		o->cfg.nodes = 1;
	/* ALLOC_NOFRAGMENT's first pass is for ZONE_NORMAL allocations
	 * (alloc_flags_nofragment()); a replayed DMA32 zone has none. */
	if (!wl_config_given(o, "zone") &&
	    pcpb_config_set(&o->cfg, "zone",
			    strcasecmp(st->zone, "Normal") ? "dma32"
							   : "normal"))
		fprintf(stderr, "replay: start state: zone type refused\n");
	if (!wl_config_given(o, "batch"))
		o->cfg.batch = st->batch;
	if (!wl_config_given(o, "wmark_min"))
		o->cfg.wmark_min = (int)st->min;
	if (st->boost_factor >= 0 &&
	    !wl_config_given(o, "watermark_boost_factor"))
		o->cfg.watermark_boost_factor = st->boost_factor;
	if (st->kernel[0] && !wl_config_given(o, "kernel")) {
		profile = kernel_profile_of(st->kernel);
		if (!profile || pcpb_config_set(&o->cfg, "kernel", profile))
			fprintf(stderr,
				"replay: the trace's kernel %s has no profile: the model follows kernel=%s rules (set --config kernel=)\n",
				st->kernel, "next");
	}
	/* Not printed: a fixed high (before v6.7) is the printed high; an
	 * auto-tuned one's bounds come from the zone, as the kernel's
	 * zone_highsize() derives them (the model's 0). */
	if (!st->high_min && o->cfg.pcp_high == PCPB_HIGH_FIXED) {
		st_high_min = st_high_max = st->fixed_high;
	} else {
		st_high_min = st->high_min;
		st_high_max = st->high_max;
	}
	if (!wl_config_given(o, "high_min"))
		o->cfg.high_min = st_high_min;
	if (!wl_config_given(o, "high_max"))
		o->cfg.high_max = st_high_max;
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
	.init = replay_init,
	.fini = replay_fini,
	.reference = replay_reference,
};
