// SPDX-License-Identifier: GPL-2.0-only OR MIT
/*
 * report.c - statistics snapshots and the text/JSON/CSV report.
 *
 * Counters live where the work happens (zone->stats under zone->lock,
 * pcp->ops/stats under pcp->lock, lockstat inside each lock) and are folded
 * here, kernel vm_stat_diff style.  JSON and CSV come from one emitter, so
 * the two always carry the same keys; CSV rows are "dotted.key,value".
 *
 * Invariants: a snapshot and its check run under one inst_lock_all(), so
 * the numbers in one report describe one state.
 *
 * Locking: inst_lock_all() around every fold; the report never allocates
 * under a lock except the histogram scratch taken before it.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "../util/jsonstr.h"
#include "internal.h"

static const char *const mt_names[] = { "unmovable",  "movable", "reclaimable",
					"highatomic", "cma",	 "isolate" };
#define PCPB_NAME(name, kind) #name,
static const char *const site_names[] = { PCPB_LOCK_SITES(PCPB_NAME) };
static const char *const op_names[] = { PCPB_OP_COUNTERS(PCPB_NAME) };
static const char *const work_names[] = { PCPB_WORK_COUNTERS(PCPB_NAME) };
static const char *const pcp_names[] = { PCPB_PCP_COUNTERS(PCPB_NAME) };
static const char *const owner_names[] = { PCPB_OWNER_COUNTERS(PCPB_NAME) };

const char *pcpb_migratetype_name(int mt)
{
	return mt >= 0 && mt < PCPB_NR_MIGRATETYPES ? mt_names[mt] : "?";
}

const char *pcpb_lock_site_name(int site)
{
	return site >= 0 && site < PCPB_NR_LOCK_SITES ? site_names[site] : "?";
}

/* What the model leaves out of the kernel; docs/design.md has the reasons. */
static const char model_simplifications[] =
	"one zone per node; no lowmem_reserve, highatomic or reclaim (a "
	"boost's kswapd takes it back at once without --memory-pressure); "
	"PCPF_FREE_HIGH_BATCH off; lock holders "
	"preemptible (no preempt_disable(): holds they lost the CPU in are "
	"counted as disturbed), zone->lock a sleeping mutex";

/* Sections are phases inside another hold, not acquisitions. */
#define PCPB_IS_SECTION(name, kind) [PCPB_SITE_##name] = SITE_KIND_##kind,
enum { SITE_KIND_lock, SITE_KIND_section };
static const unsigned char site_kind[] = { PCPB_LOCK_SITES(PCPB_IS_SECTION) };

static bool site_is_section(int s)
{
	return site_kind[s] == SITE_KIND_section;
}

/* fold_lock()'s scratch: hold and wait per site, of all sites, and of
 * the disturbed ones. */
#define LOCK_SCRATCH (2 * (PCPB_NR_LOCK_SITES + 2))

static void summarize(struct pcpb_hist_summary *out, const struct hist *h)
{
	out->count = h->count;
	out->total_ns = h->total;
	out->min = h->min;
	out->p50 = hist_quantile(h, 0.50);
	out->p99 = hist_quantile(h, 0.99);
	out->p999 = hist_quantile(h, 0.999);
	out->max = h->max;
}

/* scratch: LOCK_SCRATCH histograms, zeroed. */
static void fold_lock(struct pcpb_lock_class_stats *cls, struct hist *scratch,
		      struct pcpb_lock **locks, size_t nr)
{
	struct hist *all_hold = &scratch[2 * PCPB_NR_LOCK_SITES];
	struct hist *all_wait = all_hold + 1;
	struct hist *dist_hold = all_hold + 2, *dist_wait = all_hold + 3;
	size_t i;
	int s;

	for (i = 0; i < nr; i++)
		if (locks[i]->hold_disturbed) {
			hist_merge(dist_hold, locks[i]->hold_disturbed);
			hist_merge(dist_wait, locks[i]->wait_disturbed);
		}
	summarize(&cls->hold_disturbed_ns, dist_hold);
	summarize(&cls->wait_disturbed_ns, dist_wait);
	for (s = 0; s < PCPB_NR_LOCK_SITES; s++) {
		struct pcpb_lock_site_stats *out = &cls->sites[s];
		struct hist *hold = &scratch[2 * s], *wait = hold + 1;

		for (i = 0; i < nr; i++) {
			struct lock_site_stats *ls = &locks[i]->sites[s];

			out->acquisitions += ls->nr_acquire;
			out->contended += ls->nr_contended;
			out->trylock_failed += READ_ONCE(ls->nr_trylock_fail);
			out->hold_disturbed += ls->nr_hold_disturbed;
			out->wait_disturbed += ls->nr_wait_disturbed;
			if (ls->hold) {
				hist_merge(hold, ls->hold);
				hist_merge(wait, ls->wait);
			}
		}
		summarize(&out->hold_ns, hold);
		summarize(&out->wait_ns, wait);
		if (site_is_section(s))
			continue;
		cls->all.acquisitions += out->acquisitions;
		cls->all.contended += out->contended;
		cls->all.trylock_failed += out->trylock_failed;
		cls->all.hold_disturbed += out->hold_disturbed;
		cls->all.wait_disturbed += out->wait_disturbed;
		hist_merge(all_hold, hold);
		hist_merge(all_wait, wait);
	}
	summarize(&cls->all.hold_ns, all_hold);
	summarize(&cls->all.wait_ns, all_wait);
}

static void fold_fragmentation(struct pcpb *inst, struct pcpb_stats *st)
{
	int n, o, mt;

	for (n = 0; n < inst->nr_nodes; n++) {
		struct zone *zone = inst->zones[n];
		unsigned long b, nr_blocks = zone->spanned_pages >>
					     zone->pageblock_order;

		for (o = 0; o < NR_PAGE_ORDERS; o++) {
			st->free_blocks_by_order[o] +=
				zone->free_area[o].nr_free;
			for (mt = 0; mt < MIGRATE_TYPES; mt++)
				st->free_pages_by_mt[mt] +=
					free_list_len(zone, o, mt) << o;
		}
		for (b = 0; b < nr_blocks; b++) {
			unsigned long start = zone->zone_start_pfn +
					      (b << zone->pageblock_order);
			unsigned long pfn = start,
				      end = start + pageblock_nr_pages(zone);
			int bmt = zone->pageblock_data[b].migratetype;

			st->pageblocks++;
			st->pageblocks_by_mt[bmt]++;
			st->owned_pageblocks +=
				zone->pageblock_data[b].owner != PB_OWNER_NONE;
			st->owned_blocks_listed +=
				!!(zone->pageblock_data[b].flags &
				   PB_ON_OWNED_LIST);
			while (pfn < end) {
				/* An llist push changes state with no lock. */
				struct page *page = &zone->memmap[pfn];
				uint8_t state = READ_ONCE(page->state);

				if (state == PS_TAIL) {
					pfn++;
					continue;
				}
				if (state == PS_ALLOC &&
				    READ_ONCE(page->mt) != bmt) {
					st->mixed_pageblocks++;
					break;
				}
				pfn += 1UL << READ_ONCE(page->order);
			}
		}
	}
}

/* Each counter's fold kind, from its list: true folds by max. */
#define PCPB_FOLD_IS_MAX(name, fold) FOLD_##fold,
enum { FOLD_sum, FOLD_max };
static const bool op_max[] = { PCPB_OP_COUNTERS(PCPB_FOLD_IS_MAX) };
static const bool work_max[] = { PCPB_WORK_COUNTERS(PCPB_FOLD_IS_MAX) };
static const bool pcp_max[] = { PCPB_PCP_COUNTERS(PCPB_FOLD_IS_MAX) };
static const bool owner_max[] = { PCPB_OWNER_COUNTERS(PCPB_FOLD_IS_MAX) };

static void fold_group(uint64_t *dst, const uint64_t *src, const bool *is_max,
		       size_t n)
{
	size_t k;

	for (k = 0; k < n; k++)
		dst[k] = is_max && is_max[k] ? max(dst[k], src[k])
					     : dst[k] + src[k];
}

/* Add one zone's or one PCP's counters into the snapshot. */
static void fold_counters(struct pcpb_stats *st, const struct alloc_counters *c)
{
	fold_group(st->ops, c->ops, op_max, PCPB_NR_OPS);
	fold_group(st->work, c->work, work_max, PCPB_NR_WORK);
	fold_group(st->pcp, c->pcp, pcp_max, PCPB_NR_PCP_STATS);
	fold_group(st->owner, c->owner, owner_max, PCPB_NR_OWNER);
	fold_group(st->pcp_merges_by_order, c->merges_by_order, NULL,
		   NR_PAGE_ORDERS);
	fold_group(&st->pollute[0][0], &c->pollute[0][0], NULL,
		   MIGRATE_PCPTYPES * MIGRATE_TYPES);
	fold_group(&st->convert[0][0], &c->convert[0][0], NULL,
		   MIGRATE_PCPTYPES * MIGRATE_TYPES);
}

/* Context: every lock held. */
static void stats_fold_locked(struct pcpb *inst, struct pcpb_stats *st,
			      struct hist *scratch, struct pcpb_lock **locks)
{
	size_t nr_pcps = (size_t)inst->nr_cpus * (size_t)inst->nr_nodes, i;
	int n;

	memset(st, 0, sizeof(*st));
	st->ops[PCPB_OP_einval] = READ_ONCE(inst->einval);
	st->ops[PCPB_OP_alloc_failed] = READ_ONCE(inst->alloc_failed);
	for (n = 0; n < inst->nr_nodes; n++) {
		struct zone *zone = inst->zones[n];

		lockdep_assert_held(&zone->lock);
		fold_counters(st, &zone->stats);
		st->free_cma_pages += (uint64_t)READ_ONCE(zone->nr_free_cma);
		locks[n] = &zone->lock;
	}
	memset(scratch, 0, LOCK_SCRATCH * sizeof(*scratch));
	fold_lock(&st->zone_lock, scratch, locks, (size_t)inst->nr_nodes);
	/* The modelled holds of every zone, in one histogram. */
	memset(scratch, 0, sizeof(*scratch));
	for (n = 0; n < inst->nr_nodes; n++)
		hist_merge(scratch, inst->zones[n]->hold_model);
	summarize(&st->zone_hold_model, scratch);

	for (i = 0; i < nr_pcps; i++) {
		struct per_cpu_pages *pcp = &inst->pcps[i];

		lockdep_assert_held(&pcp->lock);
		fold_counters(st, &pcp->stats);
		locks[i] = &pcp->lock;
	}
	memset(scratch, 0, LOCK_SCRATCH * sizeof(*scratch));
	fold_lock(&st->pcp_lock, scratch, locks, nr_pcps);
	fold_fragmentation(inst, st);
}

/* One consistent snapshot plus the check of the same state. */
static int snapshot(struct pcpb *inst, struct pcpb_stats *st,
		    struct pcpb_check_result *res)
{
	size_t nr_locks = max((size_t)inst->nr_cpus * (size_t)inst->nr_nodes,
			      (size_t)inst->nr_nodes);
	struct hist *scratch = malloc(LOCK_SCRATCH * sizeof(struct hist));
	struct pcpb_lock **locks = malloc(nr_locks * sizeof(*locks));

	if (!scratch || !locks) {
		free(scratch);
		free(locks);
		return -ENOMEM;
	}
	inst_lock_all(inst);
	stats_fold_locked(inst, st, scratch, locks);
	if (res) {
		check_locked(inst, res);
		st->pages_total = res->pages_total;
		st->pages_free = res->pages_free;
		st->pages_pcp = res->pages_pcp;
		st->pages_allocated = res->pages_allocated;
	}
	inst_unlock_all(inst);
	free(scratch);
	free(locks);
	return 0;
}

int pcpb_stats_read(struct pcpb *inst, struct pcpb_stats *st)
{
	struct pcpb_check_result res;

	return snapshot(inst, st, &res);
}

int pcpb_pcp_stats_cpu(struct pcpb *inst, int cpu,
		       uint64_t out[PCPB_NR_PCP_STATS])
{
	int n, k;

	if (!inst || !out || cpu < 0 || cpu >= inst->nr_cpus)
		return -EINVAL;
	memset(out, 0, PCPB_NR_PCP_STATS * sizeof(*out));
	for (n = 0; n < inst->nr_nodes; n++) {
		struct per_cpu_pages *pcp = inst_pcp(inst, cpu, n);

		spin_lock_quiet(&pcp->lock);
		for (k = 0; k < PCPB_NR_PCP_STATS; k++)
			out[k] += pcp->stats.pcp[k];
		spin_unlock_quiet(&pcp->lock);
	}
	return 0;
}

void pcpb_stats_reset(struct pcpb *inst)
{
	size_t i, nr_pcps = (size_t)inst->nr_cpus * (size_t)inst->nr_nodes;
	int n;

	inst_event(inst, PCPB_EV_STATS_RESET, 0, 0, 0, -1, 0);
	inst_lock_all(inst);
	for (n = 0; n < inst->nr_nodes; n++) {
		memset(&inst->zones[n]->stats, 0,
		       sizeof(inst->zones[n]->stats));
		lock_stats_reset(&inst->zones[n]->lock);
		memset(inst->zones[n]->hold_model, 0,
		       sizeof(*inst->zones[n]->hold_model));
	}
	for (i = 0; i < nr_pcps; i++) {
		memset(&inst->pcps[i].stats, 0, sizeof(inst->pcps[i].stats));
		lock_stats_reset(&inst->pcps[i].lock);
	}
	WRITE_ONCE(inst->einval, 0);
	WRITE_ONCE(inst->alloc_failed, 0);
	inst_unlock_all(inst);
}

/* ---- the emitter: nested JSON, or flat "dotted.key,value" CSV ---------- */

struct emit {
	FILE *f;
	bool json;
	int depth;
	bool need_comma;
	char path[256];
	size_t plen[16];
};

static void em_key(struct emit *e, const char *key)
{
	if (!e->json)
		return;
	fprintf(e->f, "%s\n%*s", e->need_comma ? "," : "", 2 * e->depth, "");
	if (key)
		fprintf(e->f, "\"%s\": ", key);
	e->need_comma = true;
}

static void em_csv_key(struct emit *e, const char *key)
{
	fprintf(e->f, "%s%s%s,", e->path, e->path[0] ? "." : "", key);
}

static void em_begin(struct emit *e, const char *key)
{
	if (e->json) {
		if (e->depth)
			em_key(e, key);
		fputc('{', e->f);
		e->need_comma = false;
	} else {
		e->plen[e->depth] = strlen(e->path);
		if (key)
			snprintf(e->path + e->plen[e->depth],
				 sizeof(e->path) - e->plen[e->depth], "%s%s",
				 e->plen[e->depth] ? "." : "", key);
	}
	e->depth++;
}

static void em_end(struct emit *e)
{
	e->depth--;
	if (e->json) {
		fprintf(e->f, "\n%*s}", 2 * e->depth, "");
		e->need_comma = true;
		if (!e->depth)
			fputc('\n', e->f);
	} else {
		e->path[e->plen[e->depth]] = '\0';
	}
}

static void em_u64(struct emit *e, const char *key, uint64_t v)
{
	if (e->json) {
		em_key(e, key);
		fprintf(e->f, "%llu", (unsigned long long)v);
	} else {
		em_csv_key(e, key);
		fprintf(e->f, "%llu\n", (unsigned long long)v);
	}
}

static void em_double(struct emit *e, const char *key, double v)
{
	if (e->json) {
		em_key(e, key);
		fprintf(e->f, "%.6g", v);
	} else {
		em_csv_key(e, key);
		fprintf(e->f, "%.6g\n", v);
	}
}

static void em_str(struct emit *e, const char *key, const char *v)
{
	if (e->json) {
		em_key(e, key);
		json_fputs_string(e->f, v);
	} else {
		em_csv_key(e, key);
		/* RFC 4180: a value with a comma or a quote is quoted. */
		if (strpbrk(v, ",\"\n")) {
			fputc('"', e->f);
			for (; *v; v++) {
				if (*v == '"')
					fputc('"', e->f);
				fputc(*v, e->f);
			}
			fputs("\"\n", e->f);
		} else {
			fprintf(e->f, "%s\n", v);
		}
	}
}

static void em_bool(struct emit *e, const char *key, bool v)
{
	if (e->json) {
		em_key(e, key);
		fputs(v ? "true" : "false", e->f);
	} else {
		em_csv_key(e, key);
		fprintf(e->f, "%s\n", v ? "true" : "false");
	}
}

static void em_u64s(struct emit *e, const char *key, const uint64_t *v, int n)
{
	int i;

	if (e->json) {
		em_key(e, key);
		fputc('[', e->f);
		for (i = 0; i < n; i++)
			fprintf(e->f, "%s%llu", i ? ", " : "",
				(unsigned long long)v[i]);
		fputc(']', e->f);
		return;
	}
	for (i = 0; i < n; i++) {
		char k[64];

		snprintf(k, sizeof(k), "%s.%d", key, i);
		em_u64(e, k, v[i]);
	}
}

static void em_hist(struct emit *e, const char *key,
		    const struct pcpb_hist_summary *h)
{
	em_begin(e, key);
	em_u64(e, "count", h->count);
	em_u64(e, "total", h->total_ns);
	em_u64(e, "min", h->min);
	em_u64(e, "p50", h->p50);
	em_u64(e, "p99", h->p99);
	em_u64(e, "p999", h->p999);
	em_u64(e, "max", h->max);
	em_end(e);
}

static bool site_used(const struct pcpb_lock_site_stats *s)
{
	return s->acquisitions || s->contended || s->trylock_failed;
}

static void em_site_fields(struct emit *e, const struct pcpb_lock_site_stats *s)
{
	em_u64(e, "acquisitions", s->acquisitions);
	em_u64(e, "contended", s->contended);
	em_u64(e, "trylock_failed", s->trylock_failed);
	em_u64(e, "hold_disturbed", s->hold_disturbed);
	em_u64(e, "wait_disturbed", s->wait_disturbed);
	em_hist(e, "hold_ns", &s->hold_ns);
	em_hist(e, "wait_ns", &s->wait_ns);
}

/* Sites are acquisitions; sections are phases inside them, apart. */
static void em_lock_class(struct emit *e, const char *key,
			  const struct pcpb_lock_class_stats *c)
{
	int s;

	em_begin(e, key);
	em_site_fields(e, &c->all);
	em_hist(e, "hold_disturbed_ns", &c->hold_disturbed_ns);
	em_hist(e, "wait_disturbed_ns", &c->wait_disturbed_ns);
	em_begin(e, "sites");
	for (s = 0; s < PCPB_NR_LOCK_SITES; s++)
		if (!site_is_section(s) && site_used(&c->sites[s])) {
			em_begin(e, site_names[s]);
			em_site_fields(e, &c->sites[s]);
			em_end(e);
		}
	em_end(e);
	em_begin(e, "phases");
	for (s = 0; s < PCPB_NR_LOCK_SITES; s++)
		if (site_is_section(s) && c->sites[s].acquisitions) {
			em_begin(e, site_names[s]);
			em_u64(e, "count", c->sites[s].acquisitions);
			em_hist(e, "time_ns", &c->sites[s].hold_ns);
			em_end(e);
		}
	em_end(e);
	em_end(e);
}

static void em_type_matrix(struct emit *e, const char *key,
			   const uint64_t m[][PCPB_NR_MIGRATETYPES])
{
	int r, c;

	em_begin(e, key);
	for (r = 0; r < PCPB_NR_REQUEST_MT; r++)
		for (c = 0; c < PCPB_NR_MIGRATETYPES; c++) {
			char k[64];

			if (!m[r][c])
				continue;
			snprintf(k, sizeof(k), "%s_from_%s", mt_names[r],
				 mt_names[c]);
			em_u64(e, k, m[r][c]);
		}
	em_end(e);
}

/* "rseq", "off (lockstat_preempt=off)" or "off: why": how holds are told
 * clean or disturbed. */
static const char *preempt_watch_line(const struct pcpb *inst, char *buf,
				      size_t len)
{
	const char *why;

	if (!inst->cfg.lockstat || !inst->cfg.lockstat_preempt)
		snprintf(buf, len, "off (%s=off)",
			 inst->cfg.lockstat ? "lockstat_preempt" : "lockstat");
	else if (preempt_watch_usable(&why))
		snprintf(buf, len, "rseq");
	else
		snprintf(buf, len, "off: %s", why);
	return buf;
}

bool pcpb_preempt_watch(const char **why)
{
	return preempt_watch_usable(why);
}

static void emit_report(struct emit *e, struct pcpb *inst,
			const struct pcpb_stats *st,
			const struct pcpb_check_result *res)
{
	struct zone *z0 = inst->zones[0];
	char cfg[1024], profile[512], costs[96], watch[160];
	int k;

	pcpb_config_format(&inst->cfg, cfg, sizeof(cfg));
	pcpb_config_profile(&inst->cfg, profile, sizeof(profile));
	em_begin(e, NULL);
	em_str(e, "config", cfg);
	em_str(e, "profile", profile);
	em_begin(e, "instance");
	em_u64(e, "pages", inst->nr_pages);
	em_u64(e, "nodes", (uint64_t)inst->nr_nodes);
	em_u64(e, "cpus", (uint64_t)inst->nr_cpus);
	em_u64(e, "memmap_bytes_per_page", sizeof(struct page));
	em_u64(e, "batch", (uint64_t)z0->pageset_batch);
	em_u64(e, "high_min", (uint64_t)z0->pageset_high_min);
	em_u64(e, "high_max", (uint64_t)z0->pageset_high_max);
	em_u64(e, "wmark_min", wmark_pages(z0, WMARK_MIN));
	em_u64(e, "wmark_low", wmark_pages(z0, WMARK_LOW));
	em_u64(e, "wmark_high", wmark_pages(z0, WMARK_HIGH));
	config_format_hold_cost(&inst->cfg, costs, sizeof(costs));
	em_str(e, "hold_cost", costs);
	em_str(e, "hold_cost_file", inst->cfg.hold_cost_file);
	em_str(e, "preempt_watch",
	       preempt_watch_line(inst, watch, sizeof(watch)));
	em_str(e, "model", model_simplifications);
	em_end(e);

	em_begin(e, "ops");
	for (k = 0; k < PCPB_NR_OPS; k++)
		em_u64(e, op_names[k], st->ops[k]);
	em_end(e);

	em_begin(e, "locks");
	em_lock_class(e, "zone", &st->zone_lock);
	em_lock_class(e, "pcp", &st->pcp_lock);
	/* Modelled, not measured: the same for the same work. */
	em_hist(e, "zone_hold_model_ns", &st->zone_hold_model);
	em_end(e);

	em_begin(e, "work");
	for (k = 0; k < PCPB_NR_WORK; k++)
		em_u64(e, work_names[k], st->work[k]);
	em_type_matrix(e, "pollute", st->pollute);
	em_type_matrix(e, "convert", st->convert);
	em_end(e);

	em_begin(e, "pcp");
	for (k = 0; k < PCPB_NR_PCP_STATS; k++)
		em_u64(e, pcp_names[k], st->pcp[k]);
	em_double(e, "hit_rate",
		  st->ops[PCPB_OP_alloc]
			  ? (double)st->pcp[PCPB_PCP_hits] /
				    (double)st->ops[PCPB_OP_alloc]
			  : 0.0);
	em_end(e);

	em_begin(e, "owner");
	for (k = 0; k < PCPB_NR_OWNER; k++)
		em_u64(e, owner_names[k], st->owner[k]);
	em_u64s(e, "pcp_merges_by_order", st->pcp_merges_by_order,
		PCPB_NR_PAGE_ORDERS);
	em_u64(e, "owned_pageblocks", st->owned_pageblocks);
	em_u64(e, "owned_blocks_listed", st->owned_blocks_listed);
	em_end(e);

	em_begin(e, "fragmentation");
	em_u64s(e, "free_by_order", st->free_blocks_by_order,
		PCPB_NR_PAGE_ORDERS);
	em_begin(e, "free_by_migratetype");
	for (k = 0; k < PCPB_NR_MIGRATETYPES; k++)
		em_u64(e, mt_names[k], st->free_pages_by_mt[k]);
	em_end(e);
	em_begin(e, "pageblocks_by_migratetype");
	for (k = 0; k < PCPB_NR_MIGRATETYPES; k++)
		em_u64(e, mt_names[k], st->pageblocks_by_mt[k]);
	em_end(e);
	em_u64(e, "pageblocks", st->pageblocks);
	em_u64(e, "mixed_pageblocks", st->mixed_pageblocks);
	em_u64(e, "free_cma_pages", st->free_cma_pages);
	em_end(e);

	em_begin(e, "check");
	em_bool(e, "ok", res->ok);
	em_u64(e, "pages_total", res->pages_total);
	em_u64(e, "pages_free", res->pages_free);
	em_u64(e, "pages_pcp", res->pages_pcp);
	em_u64(e, "pages_allocated", res->pages_allocated);
	em_u64(e, "pages_in_flight", res->pages_in_flight);
	if (!res->ok)
		em_str(e, "error", res->msg);
	em_end(e);
	em_end(e);
}

/*
 * The lock table's columns, as lock_stat and perf lock name them: X(name,
 * is_time, value).  A phase (a section inside a hold) has only the count
 * and hold columns, printed as phases and time_*.
 */
#define LOCK_COLUMNS(X)                             \
	X(acquisitions, false, s->acquisitions)     \
	X(contended, false, s->contended)           \
	X(trylock_failed, false, s->trylock_failed) \
	X(disturbed, false, s->hold_disturbed)      \
	X(wait_disturbed, false, s->wait_disturbed) \
	X(hold_min, true, s->hold_ns.min)           \
	X(hold_avg, true, hist_avg(&s->hold_ns))    \
	X(hold_p50, true, s->hold_ns.p50)           \
	X(hold_p99, true, s->hold_ns.p99)           \
	X(hold_max, true, s->hold_ns.max)           \
	X(hold_total, true, s->hold_ns.total_ns)    \
	X(wait_min, true, s->wait_ns.min)           \
	X(wait_avg, true, hist_avg(&s->wait_ns))    \
	X(wait_p99, true, s->wait_ns.p99)           \
	X(wait_max, true, s->wait_ns.max)           \
	X(wait_total, true, s->wait_ns.total_ns)
#define LOCK_COL_ENUM(name, is_time, value) LOCK_COL_##name,
enum { LOCK_COLUMNS(LOCK_COL_ENUM) LOCK_NR_COLS };
#define LOCK_COL_NAME(name, is_time, value) #name,
static const char *const lock_col_names[] = { LOCK_COLUMNS(LOCK_COL_NAME)
						      NULL };
#define LOCK_COL_TIME(name, is_time, value) is_time,
static const bool lock_col_is_time[] = { LOCK_COLUMNS(LOCK_COL_TIME) };

enum { LOCK_UNIT_AUTO, LOCK_UNIT_NS, LOCK_UNIT_US, LOCK_UNIT_MS };
static const char *const lock_unit_names[] = { "auto", "ns", "us", "ms" };
static const double lock_unit_ns[] = { 1, 1, 1e3, 1e6 };

static uint64_t hist_avg(const struct pcpb_hist_summary *h)
{
	return h->count ? h->total_ns / h->count : 0;
}

static uint64_t lock_col_value(int col, const struct pcpb_lock_site_stats *s)
{
	switch (col) {
#define LOCK_COL_CASE(name, is_time, value) \
	case LOCK_COL_##name:               \
		return value;
		LOCK_COLUMNS(LOCK_COL_CASE)
	}
	return 0;
}

const char *const *pcpb_lock_table_columns(void)
{
	return lock_col_names;
}

static int lock_col_find(const char *name, size_t len)
{
	int c;

	if (len == 8 && !strncmp(name, "acquired", len)) /* perf lock's name */
		return LOCK_COL_acquisitions;
	for (c = 0; c < LOCK_NR_COLS; c++)
		if (strlen(lock_col_names[c]) == len &&
		    !strncmp(lock_col_names[c], name, len))
			return c;
	return -1;
}

int pcpb_report_set_lock_table(struct pcpb *inst, const char *unit,
			       const char *sort, const char *fields, char *err,
			       size_t len)
{
	typeof(inst->lock_table) t = { 0 };
	const char *p;
	int c;

	if (unit) {
		for (c = 0; c < 4 && strcmp(unit, lock_unit_names[c]); c++)
			;
		if (c == 4) {
			snprintf(err, len,
				 "unit '%s': not one of auto, ns, us, ms",
				 unit);
			return -EINVAL;
		}
		t.unit = (uint8_t)c;
	}
	if (sort) {
		c = lock_col_find(sort, strlen(sort));
		if (c < 0) {
			snprintf(err, len, "sort key '%s': not a column", sort);
			return -EINVAL;
		}
		t.sort = (uint8_t)(c + 1);
	}
	for (p = fields; p && *p;) {
		size_t n = strcspn(p, ",");

		c = lock_col_find(p, n);
		if (c < 0 || t.nr_cols == LOCK_NR_COLS) {
			snprintf(err, len, "field '%.*s': %s", (int)n, p,
				 c < 0 ? "not a column" : "too many fields");
			return -EINVAL;
		}
		t.cols[t.nr_cols++] = (uint8_t)c;
		p += n + (p[n] == ',');
	}
	if (fields && !t.nr_cols) {
		snprintf(err, len, "no fields given");
		return -EINVAL;
	}
	if (inst)
		inst->lock_table = t;
	return 0;
}

/* perf lock's auto units: the value with a unit that keeps it short. */
static void format_time(char *buf, size_t len, uint64_t ns, int unit)
{
	static const char *const names[] = { "ns", "us", "ms", "s" };
	double v = (double)ns;
	int u = 0;

	if (unit == LOCK_UNIT_NS) {
		snprintf(buf, len, "%llu", (unsigned long long)ns);
		return;
	}
	if (unit != LOCK_UNIT_AUTO) {
		snprintf(buf, len, "%.2f", v / lock_unit_ns[unit]);
		return;
	}
	while (u < 3 && v >= 1000) {
		v /= 1000;
		u++;
	}
	if (!u)
		snprintf(buf, len, "%llu ns", (unsigned long long)ns);
	else
		snprintf(buf, len, "%.2f %s", v, names[u]);
}

struct lock_table {
	FILE *f;
	int unit, nr_cols;
	uint8_t cols[LOCK_NR_COLS];
	int width[LOCK_NR_COLS];
};

static void lock_table_init(struct lock_table *t, FILE *f, struct pcpb *inst)
{
	int i;

	t->f = f;
	t->unit = inst->lock_table.unit;
	t->nr_cols = inst->lock_table.nr_cols ? inst->lock_table.nr_cols
					      : LOCK_NR_COLS;
	for (i = 0; i < t->nr_cols; i++) {
		int c = inst->lock_table.nr_cols ? inst->lock_table.cols[i] : i;
		int w = (int)strlen(lock_col_names[c]) +
			(lock_col_is_time[c] && t->unit ? 3 : 0);

		t->cols[i] = (uint8_t)c;
		/* "1234.56 ms" is 10 characters */
		t->width[i] = lock_col_is_time[c] && w < 10 ? 10 : w;
	}
}

/* A phase (a section) has the count and the hold columns only. */
static bool lock_col_in_phase(int c)
{
	return c == LOCK_COL_acquisitions ||
	       !strncmp(lock_col_names[c], "hold_", 5);
}

/* @phase: a section's header, phases and time_* for the count and hold. */
static void lock_table_header(const struct lock_table *t, const char *site,
			      bool phase)
{
	int i;

	fprintf(t->f, "  class %-13s", site);
	for (i = 0; i < t->nr_cols; i++) {
		int c = t->cols[i], n;
		char h[32];

		if (phase && !lock_col_in_phase(c))
			continue;
		if (!phase)
			n = snprintf(h, sizeof(h), "%s", lock_col_names[c]);
		else if (c == LOCK_COL_acquisitions)
			n = snprintf(h, sizeof(h), "phases");
		else
			n = snprintf(h, sizeof(h), "time_%s",
				     lock_col_names[c] + 5);
		if (lock_col_is_time[c] && t->unit)
			snprintf(h + n, sizeof(h) - (size_t)n, "_%s",
				 lock_unit_names[t->unit]);
		fprintf(t->f, " %*s", t->width[i], h);
	}
	fputc('\n', t->f);
}

/* @only_hold: a phase or the modelled hold: counts and hold times only. */
static void lock_table_row(const struct lock_table *t, const char *cls,
			   const char *site, bool only_hold, bool phase,
			   const struct pcpb_lock_site_stats *s)
{
	char line[512];
	size_t used;
	int i;

	used = (size_t)snprintf(line, sizeof(line), "  %-5s %-13s", cls, site);
	for (i = 0; i < t->nr_cols && used < sizeof(line); i++) {
		int c = t->cols[i];
		bool hold = lock_col_in_phase(c);
		char v[32] = "";

		if (phase && !hold)
			continue;
		if (only_hold && !hold)
			;
		else if (lock_col_is_time[c])
			format_time(v, sizeof(v), lock_col_value(c, s),
				    t->unit);
		else
			snprintf(v, sizeof(v), "%llu",
				 (unsigned long long)lock_col_value(c, s));
		used += (size_t)snprintf(line + used, sizeof(line) - used,
					 " %*s", t->width[i], v);
	}
	used = strlen(line); /* no trailing blanks where columns are empty */
	while (used && line[used - 1] == ' ')
		line[--used] = '\0';
	fprintf(t->f, "%s\n", line);
}

/* A class's sites (or its phases), in site order or by the sort key. */
static int lock_table_order(struct pcpb *inst,
			    const struct pcpb_lock_class_stats *c, bool phases,
			    int order[PCPB_NR_LOCK_SITES])
{
	int s, i, n = 0, key = inst->lock_table.sort - 1;

	for (s = 0; s < PCPB_NR_LOCK_SITES; s++)
		if (site_is_section(s) == phases &&
		    (phases ? c->sites[s].acquisitions != 0
			    : site_used(&c->sites[s])))
			order[n++] = s;
	if (key < 0)
		return n;
	for (i = 1; i < n; i++) { /* a stable insertion sort, largest first */
		int cur = order[i], j = i;

		while (j > 0 && lock_col_value(key, &c->sites[order[j - 1]]) <
					lock_col_value(key, &c->sites[cur])) {
			order[j] = order[j - 1];
			j--;
		}
		order[j] = cur;
	}
	return n;
}

static void text_locks(FILE *f, struct pcpb *inst, const struct pcpb_stats *st)
{
	const struct pcpb_lock_class_stats *cls[] = { &st->zone_lock,
						      &st->pcp_lock };
	static const char *const cls_names[] = { "zone", "pcp" };
	struct pcpb_lock_site_stats model = {
		.acquisitions = st->zone_hold_model.count,
		.hold_ns = st->zone_hold_model,
	};
	int order[PCPB_NR_LOCK_SITES], k, i, n;
	char costs[96], watch[160], v[4][32];
	struct lock_table t;
	bool any_phase = false;

	lock_table_init(&t, f, inst);
	fprintf(f,
		"locks (%s%s; hold_* and wait_* over the clean timed holds and waits; contended: blocking waits only)\n",
		t.unit ? "times in " : "each time with its unit",
		t.unit ? lock_unit_names[t.unit] : "");
	lock_table_header(&t, "site", false);
	for (k = 0; k < 2; k++) {
		lock_table_row(&t, cls_names[k], "all", false, false,
			       &cls[k]->all);
		n = lock_table_order(inst, cls[k], false, order);
		for (i = 0; i < n; i++)
			lock_table_row(&t, cls_names[k], site_names[order[i]],
				       false, false, &cls[k]->sites[order[i]]);
	}
	lock_table_row(&t, "zone", "[modelled]", true, false, &model);
	preempt_watch_line(inst, watch, sizeof(watch));
	format_time(v[0], sizeof(v[0]), st->zone_lock.hold_disturbed_ns.p99,
		    t.unit);
	format_time(v[1], sizeof(v[1]), st->zone_lock.hold_disturbed_ns.max,
		    t.unit);
	format_time(v[2], sizeof(v[2]),
		    max(st->zone_lock.all.hold_ns.max,
			st->zone_lock.hold_disturbed_ns.max),
		    t.unit);
	format_time(v[3], sizeof(v[3]), st->zone_lock.wait_disturbed_ns.max,
		    t.unit);
	fprintf(f,
		"  (disturbed: the holder or waiter lost its CPU, %s; zone holds %llu, p99 %s, max %s (raw hold max %s); zone waits %llu, max %s)\n",
		watch, (unsigned long long)st->zone_lock.all.hold_disturbed,
		v[0], v[1], v[2],
		(unsigned long long)st->zone_lock.all.wait_disturbed, v[3]);
	config_format_hold_cost(&inst->cfg, costs, sizeof(costs));
	fprintf(f,
		"  ([modelled]: each zone->lock hold's work x hold_cost=%s ns%s%s%s, not time)\n",
		costs, inst->cfg.hold_cost_file[0] ? " (calibrated: " : "",
		inst->cfg.hold_cost_file,
		inst->cfg.hold_cost_file[0] ? ")" : "");
	if (inst->cfg.lockstat && inst->cfg.lockstat_pcp_sample > 1)
		fprintf(f,
			"  (pcp alloc and free holds sampled: %llu of %llu timed, lockstat_pcp_sample=%u)\n",
			(unsigned long long)(st->pcp_lock.sites[PCPB_SITE_alloc]
						     .hold_ns.count +
					     st->pcp_lock.sites[PCPB_SITE_free]
						     .hold_ns.count),
			(unsigned long long)(st->pcp_lock.sites[PCPB_SITE_alloc]
						     .acquisitions +
					     st->pcp_lock.sites[PCPB_SITE_free]
						     .acquisitions),
			inst->cfg.lockstat_pcp_sample);
	for (k = 0; k < 2; k++) {
		n = lock_table_order(inst, cls[k], true, order);
		for (i = 0; i < n; i++) {
			if (!any_phase) {
				fprintf(f,
					"phases inside the holds above (not acquisitions)\n");
				lock_table_header(&t, "phase", true);
				any_phase = true;
			}
			lock_table_row(&t, cls_names[k], site_names[order[i]],
				       true, true, &cls[k]->sites[order[i]]);
		}
	}
}

static void text_report(FILE *f, struct pcpb *inst, const struct pcpb_stats *st,
			const struct pcpb_check_result *res)
{
	char cfg[1024], profile[512];
	int k;

	pcpb_config_format(&inst->cfg, cfg, sizeof(cfg));
	pcpb_config_profile(&inst->cfg, profile, sizeof(profile));
	fprintf(f, "config: %s\nprofile: %s\nmodel: %s\n", cfg, profile,
		model_simplifications);
	fprintf(f,
		"ops: alloc %llu  free %llu  alloc_failed %llu  einval %llu\n",
		(unsigned long long)st->ops[PCPB_OP_alloc],
		(unsigned long long)st->ops[PCPB_OP_free],
		(unsigned long long)st->ops[PCPB_OP_alloc_failed],
		(unsigned long long)st->ops[PCPB_OP_einval]);
	fprintf(f, "pcp:");
	for (k = 0; k < PCPB_NR_PCP_STATS; k++)
		fprintf(f, " %s %llu", pcp_names[k],
			(unsigned long long)st->pcp[k]);
	fprintf(f, "\nwork:");
	for (k = 0; k < PCPB_NR_WORK; k++)
		fprintf(f, "%s %s %llu", k == 6 ? "\n     " : "", work_names[k],
			(unsigned long long)st->work[k]);
	if (pcp_policy_get(inst->cfg.policy)->reports_phases) {
		fprintf(f, "\nowner:");
		for (k = 0; k < PCPB_NR_OWNER; k++)
			fprintf(f, "%s %s %llu",
				k && k % 6 == 0 ? "\n      " : "",
				owner_names[k],
				(unsigned long long)st->owner[k]);
		fprintf(f, "\n       owned pageblocks %llu, listed %llu",
			(unsigned long long)st->owned_pageblocks,
			(unsigned long long)st->owned_blocks_listed);
	}
	fputc('\n', f);
	text_locks(f, inst, st);
	fprintf(f, "buddyinfo (free blocks, order 0..10):");
	for (k = 0; k < PCPB_NR_PAGE_ORDERS; k++)
		fprintf(f, " %llu",
			(unsigned long long)st->free_blocks_by_order[k]);
	fprintf(f, "\nfree pages by type:");
	for (k = 0; k < PCPB_NR_MIGRATETYPES; k++)
		if (st->free_pages_by_mt[k])
			fprintf(f, " %s %llu", mt_names[k],
				(unsigned long long)st->free_pages_by_mt[k]);
	fprintf(f, "\npageblocks: %llu, mixed %llu\n",
		(unsigned long long)st->pageblocks,
		(unsigned long long)st->mixed_pageblocks);
	fprintf(f,
		"check: %s  pages total %llu = free %llu + pcp %llu + allocated %llu + in flight %llu%s%s\n",
		res->ok ? "ok" : "FAILED", (unsigned long long)res->pages_total,
		(unsigned long long)res->pages_free,
		(unsigned long long)res->pages_pcp,
		(unsigned long long)res->pages_allocated,
		(unsigned long long)res->pages_in_flight, res->ok ? "" : ": ",
		res->ok ? "" : res->msg);
}

static void report(struct pcpb *inst, const struct pcpb_stats *st,
		   const struct pcpb_check_result *res, FILE *out,
		   enum pcpb_format fmt)
{
	struct emit e = { .f = out, .json = fmt == PCPB_FMT_JSON };

	if (fmt == PCPB_FMT_TEXT) {
		text_report(out, inst, st, res);
		return;
	}
	if (!e.json)
		fputs("key,value\n", out);
	emit_report(&e, inst, st, res);
}

int pcpb_report(struct pcpb *inst, FILE *out, enum pcpb_format fmt)
{
	struct pcpb_check_result res;
	struct pcpb_stats *st;
	int err;

	if (!inst || !out || (unsigned)fmt > PCPB_FMT_CSV)
		return -EINVAL;
	st = malloc(sizeof(*st));
	if (!st)
		return -ENOMEM;
	err = snapshot(inst, st, &res);
	if (!err)
		report(inst, st, &res, out, fmt);
	free(st);
	return err;
}

int pcpb_report_stats(struct pcpb *inst, const struct pcpb_stats *st, FILE *out,
		      enum pcpb_format fmt)
{
	struct pcpb_check_result res;

	if (!inst || !st || !out || (unsigned)fmt > PCPB_FMT_CSV)
		return -EINVAL;
	pcpb_check(inst, &res);
	report(inst, st, &res, out, fmt);
	return 0;
}
