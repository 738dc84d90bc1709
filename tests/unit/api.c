// SPDX-License-Identifier: GPL-2.0-only OR MIT
/*
 * api.c - the public contract: bad input changes nothing, OOM and
 * watermarks, report fields, config parsing, backing, nodes, and the
 * mixed driver run in-process.
 */
#include <stdio.h>
#include <stdlib.h>

#include "../../util/hist.h"
#include "../../workloads/workloads.h"
#include "helpers.h"

static struct pcpb *inst;

static void teardown(void)
{
	assert_check(inst);
	pcpb_destroy(inst);
}

TestSuite(api, .fini = teardown);

struct state {
	struct pcpb_check_result check;
	unsigned long nr_free[NR_PAGE_ORDERS];
	uint64_t einval;
};

static struct state state_of(void)
{
	struct state s;
	struct pcpb_stats st;
	int o;

	memset(&s, 0, sizeof(s));
	cr_assert_eq(pcpb_check(inst, &s.check), 0, "%s", s.check.msg);
	for (o = 0; o < NR_PAGE_ORDERS; o++)
		s.nr_free[o] = zone0(inst)->free_area[o].nr_free;
	pcpb_stats_read(inst, &st);
	s.einval = st.ops[PCPB_OP_einval];
	return s;
}

/* The call must be -EINVAL, count once, and change nothing else. */
#define ASSERT_REJECTED(call)                                                 \
	do {                                                                  \
		struct state before_ = state_of(), after_;                    \
		cr_assert_eq((call), -EINVAL, #call);                         \
		after_ = state_of();                                          \
		cr_assert_eq(after_.einval, before_.einval + 1, #call);       \
		cr_assert_eq(after_.check.pages_free,                         \
			     before_.check.pages_free, #call);                \
		cr_assert_eq(after_.check.pages_pcp, before_.check.pages_pcp, \
			     #call);                                          \
		cr_assert_eq(after_.check.pages_allocated,                    \
			     before_.check.pages_allocated, #call);           \
		cr_assert_arr_eq(after_.nr_free, before_.nr_free,             \
				 sizeof(before_.nr_free), #call);             \
	} while (0)

Test(api, bad_input_is_rejected_and_changes_nothing)
{
	long p, q;

	inst = make_inst(NULL);
	p = pcpb_alloc_pages_cpu(inst, 0, 2, PCPB_MT_MOVABLE, 0);
	q = pcpb_alloc_pages_cpu(inst, 1, 0, PCPB_MT_UNMOVABLE, 0);
	cr_assert_geq(p, 0);
	cr_assert_geq(q, 0);
	ASSERT_REJECTED(pcpb_free_pages_cpu(inst, 0, (unsigned long)p, 1));
	ASSERT_REJECTED(pcpb_free_pages_cpu(inst, 0, (unsigned long)p, 3));
	ASSERT_REJECTED(pcpb_free_pages_cpu(inst, 0, (unsigned long)p + 1, 0));
	ASSERT_REJECTED(pcpb_free_pages_cpu(inst, 0, (unsigned long)p + 2, 2));
	ASSERT_REJECTED(pcpb_free_pages_cpu(inst, 0, pcpb_nr_pages(inst), 0));
	ASSERT_REJECTED(pcpb_free_pages_cpu(inst, 0, ~0UL, 0));
	ASSERT_REJECTED(pcpb_free_pages_cpu(inst, 2, (unsigned long)p, 2));
	ASSERT_REJECTED(pcpb_free_pages_cpu(inst, 0, (unsigned long)q, 11));
	ASSERT_REJECTED(pcpb_alloc_pages_cpu(inst, 0, 11, PCPB_MT_MOVABLE, 0));
	ASSERT_REJECTED(pcpb_alloc_pages_cpu(inst, 0, 0, 3, 0));
	ASSERT_REJECTED(pcpb_alloc_pages_cpu(inst, 0, 0, -1, 0));
	ASSERT_REJECTED(pcpb_alloc_pages_cpu(inst, 0, 0, 0, 1U << 20));
	ASSERT_REJECTED(pcpb_alloc_pages_cpu(inst, -1, 0, 0, 0));
	/* A page sitting free in the buddy, never handed out. */
	ASSERT_REJECTED(
		pcpb_free_pages_cpu(inst, 0, pcpb_nr_pages(inst) - 1024, 0));
	cr_assert_eq(pcpb_free_pages_cpu(inst, 0, (unsigned long)p, 2), 0);
	/* Double free, whether the first free went to the PCP or not. */
	ASSERT_REJECTED(pcpb_free_pages_cpu(inst, 0, (unsigned long)p, 2));
	cr_assert_eq(pcpb_free_pages_cpu(inst, 1, (unsigned long)q, 0), 0);
	ASSERT_REJECTED(pcpb_free_pages_cpu(inst, 1, (unsigned long)q, 0));
}

Test(api, bad_config_is_rejected_and_changes_nothing)
{
	static const char *const bad[] = {
		"memory=abc",
		"memory=1k",
		"memory=8T",
		"cpus=0",
		"cpus=5000",
		"nodes=-1",
		"fallback=bogus",
		"policy=owner2",
		"pcp=maybe",
		"batch=-1",
		"pageblock_order=3",
		"pageblock_order=11",
		"backing=file",
		"lockstat=2",
		"cpu_mode=",
		"nosuchkey=1",
		"memory",
		"high_min=10,high_max=5",
		"memory=2G,cpus=zz",
		"remote_free=rcu",
		"phase0_bound=bogus",
		"phase0_bound=scan_limit:0",
		"phase0_bound=scan_limit:x",
		"phase0_bound=cycle_lock+",
		"owned_lists=maybe",
		"cma_bytes=600M",
		"cma_bytes=lots",
		"policy=owner,remote_free=",
		"lockstat_pcp_sample=0",
		"lockstat_pcp_sample=3",
		"lockstat_pcp_sample=65536",
	};
	struct pcpb_config cfg, orig;
	struct pcpb *tmp;
	char err[256];
	size_t i;

	inst = make_inst(NULL);
	pcpb_config_init(&cfg);
	orig = cfg;
	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		cr_assert_eq(pcpb_config_parse(&cfg, bad[i], err, sizeof(err)),
			     -EINVAL, "%s", bad[i]);
		cr_assert_arr_eq(&cfg, &orig, sizeof(cfg), "%s changed cfg",
				 bad[i]);
		cr_assert_neq(err[0], '\0', "%s: no message", bad[i]);
	}
	cr_assert_eq(
		pcpb_config_parse(&cfg, "memory=2G,cpus=zz", err, sizeof(err)),
		-EINVAL);
	cr_assert(strstr(err, "cpus") != NULL, "names the key: %s", err);
	cr_assert_eq(pcpb_config_set(&cfg, "memory", "512MiB"), 0);
	cr_assert_eq(cfg.memory_bytes, 512ULL << 20);
	cr_assert_eq(pcpb_config_parse(&cfg, "fallback=hygiene,pcp=off,cpus=7",
				       err, sizeof(err)),
		     0);
	cr_assert_eq(cfg.fallback, PCPB_FALLBACK_HYGIENE);
	cr_assert_eq(
		pcpb_config_parse(&cfg,
				  "policy=owner,remote_free=llist,"
				  "phase0_bound=cycle_lock+scan_limit:8,"
				  "owned_lists=per_migratetype,cma_bytes=64M",
				  err, sizeof(err)),
		0, "%s", err);
	cr_assert_eq(cfg.policy, PCPB_POLICY_OWNER);
	cr_assert_eq(cfg.remote_free, PCPB_REMOTE_LLIST);
	cr_assert_eq(cfg.phase0_bound, PCPB_P0_CYCLE_LOCK | PCPB_P0_SCAN_LIMIT);
	cr_assert_eq(cfg.phase0_scan_limit, 8);
	cr_assert(cfg.owned_per_mt);
	cr_assert_eq(cfg.cma_bytes, 64ULL << 20);
	{
		/* The formatted config parses back to itself. */
		struct pcpb_config back;
		char text[1024];

		pcpb_config_init(&back);
		pcpb_config_format(&cfg, text, sizeof(text));
		cr_assert_eq(pcpb_config_parse(&back, text, err, sizeof(err)),
			     0, "%s: %s", text, err);
		cr_assert_arr_eq(&back, &cfg, sizeof(cfg), "%s", text);
	}
	cr_assert_eq(cfg.nr_cpus, 7);
	cr_assert_not(cfg.pcp_enabled);
	cfg.nr_cpus = 0;
	tmp = NULL;
	cr_assert_eq(pcpb_create(&cfg, &tmp), -EINVAL);
	cr_assert_null(tmp);
}

Test(api, allocation_never_takes_the_zone_below_min)
{
	struct zone *z;
	long *pfns = malloc(sizeof(long) * 4096), pfn;
	int n = 0, i;
	struct pcpb_stats st;

	inst = make_inst("pcp=off");
	z = zone0(inst);
	while ((pfn = pcpb_alloc_pages_cpu(inst, 0, 0, PCPB_MT_MOVABLE, 0)) >=
	       0)
		pfns[n++] = pfn;
	cr_assert_eq(pfn, -ENOMEM);
	cr_assert_geq(zone_page_state_free(z), wmark_pages(z, WMARK_MIN));
	cr_assert_lt(zone_page_state_free(z), wmark_pages(z, WMARK_MIN) + 2);
	cr_assert_eq(pcpb_alloc_pages_cpu(inst, 0, 10, PCPB_MT_MOVABLE, 0),
		     -ENOMEM);
	pcpb_stats_read(inst, &st);
	cr_assert_eq(st.ops[PCPB_OP_alloc_failed], 2);
	cr_assert_eq(st.ops[PCPB_OP_alloc], (uint64_t)n);
	for (i = 0; i < n; i++)
		cr_assert_eq(
			pcpb_free_pages_cpu(inst, 1, (unsigned long)pfns[i], 0),
			0);
	free(pfns);
}

Test(api, exhaustion_drains_the_pcps_before_failing)
{
	long *pfns = malloc(sizeof(long) * 4096), pfn;
	int n = 0, i;

	inst = make_inst("batch=16,high_min=256,high_max=256");
	/* Park pages on CPU 1's PCP, then exhaust from CPU 0. */
	for (i = 0; i < 200; i++)
		pfns[n++] = pcpb_alloc_pages_cpu(inst, 1, 0, 0, 0);
	for (i = 0; i < 200; i++)
		pcpb_free_pages_cpu(inst, 1, (unsigned long)pfns[i], 0);
	n = 0;
	cr_assert_gt(inst_pcp(inst, 1, 0)->count, 0);
	while ((pfn = pcpb_alloc_pages_cpu(inst, 0, 0, 1, 0)) >= 0)
		pfns[n++] = pfn;
	cr_assert_eq(inst_pcp(inst, 1, 0)->count, 0, "drained before -ENOMEM");
	for (i = 0; i < n; i++)
		pcpb_free_pages_cpu(inst, 0, (unsigned long)pfns[i], 0);
	free(pfns);
}

static char *report_of(enum pcpb_format fmt)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	cr_assert_eq(pcpb_report(inst, f, fmt), 0);
	fclose(f);
	return buf;
}

static void expect_csv(const char *csv, const char *key, uint64_t v)
{
	char line[160];

	snprintf(line, sizeof(line), "\n%s,%llu\n", key, (unsigned long long)v);
	cr_assert(strstr(csv, line) != NULL, "CSV lacks %s", line + 1);
}

/* A histogram's min is exact and survives merges, empty ones included. */
Test(hist, min_is_exact_across_merges)
{
	struct hist a = { 0 }, b = { 0 }, empty = { 0 };

	hist_record(&a, 700);
	hist_record(&a, 90);
	hist_record(&b, 3000);
	cr_assert_eq(a.min, 90);
	hist_merge(&b, &empty);
	cr_assert_eq(b.min, 3000, "an empty histogram has no minimum");
	hist_merge(&empty, &b);
	cr_assert_eq(empty.min, 3000);
	hist_merge(&b, &a);
	cr_assert_eq(b.min, 90);
	cr_assert_eq(b.max, 3000);
	cr_assert_eq(b.count, 3);
}

static char *lock_table_of(const char *unit, const char *sort,
			   const char *fields)
{
	char err[128], *text, *start, *end;

	cr_assert_eq(pcpb_report_set_lock_table(inst, unit, sort, fields, err,
						sizeof(err)),
		     0, "%s", err);
	text = report_of(PCPB_FMT_TEXT);
	start = strstr(text, "\nlocks (");
	cr_assert_not_null(start);
	end = strstr(start, "\nbuddyinfo");
	cr_assert_not_null(end);
	*end = '\0';
	memmove(text, start + 1, strlen(start));
	return text;
}

/* The header line of the table (the line after the title). */
static const char *header_of(const char *table)
{
	static char line[512];
	const char *h = strchr(table, '\n') + 1;

	snprintf(line, sizeof(line), "%.*s", (int)strcspn(h, "\n"), h);
	return line;
}

Test(api, lock_table_takes_units_sort_keys_and_fields)
{
	char err[128], *t, row[64];
	const char *first, *second;
	struct pcpb_stats st;
	long pfn;
	int i;

	inst = make_inst(NULL);
	/* refills on CPU 0, then one order-3 block: an rmqueue_buddy hold */
	for (i = 0; i < 200; i++)
		cr_assert_geq(
			pcpb_alloc_pages_cpu(inst, 0, 0, PCPB_MT_MOVABLE, 0),
			0);
	pfn = pcpb_alloc_pages_cpu(inst, 1, 4, PCPB_MT_MOVABLE, 0);
	cr_assert_geq(pfn, 0);
	pcpb_stats_read(inst, &st);
	cr_assert_leq(st.zone_lock.all.hold_ns.min,
		      st.zone_lock.all.hold_ns.p50);

	t = lock_table_of(NULL, NULL, NULL);
	cr_assert(strstr(t, "each time with its unit") != NULL, "%s", t);
	cr_assert(strstr(header_of(t), " trylock_failed ") != NULL);
	cr_assert(strstr(header_of(t), " hold_min ") != NULL);
	cr_assert(strstr(header_of(t), " wait_total") != NULL);
	cr_assert(strstr(t, " ns ") != NULL || strstr(t, " us ") != NULL);
	free(t);

	t = lock_table_of("us", NULL, "acquired,hold_max,wait_avg");
	cr_assert_str_eq(
		header_of(t),
		"  class site          acquisitions hold_max_us wait_avg_us");
	cr_assert(strstr(t, "times in us") != NULL);
	snprintf(row, sizeof(row), "  zone  all %*llu", 22,
		 (unsigned long long)st.zone_lock.all.acquisitions);
	cr_assert(strstr(t, row) != NULL, "no '%s' in\n%s", row, t);
	free(t);

	/* refill holds outnumber the one alloc hold: sorted, refill first */
	cr_assert_gt(st.zone_lock.sites[PCPB_SITE_refill].acquisitions,
		     st.zone_lock.sites[PCPB_SITE_alloc].acquisitions);
	t = lock_table_of(NULL, "acquisitions", "acquisitions");
	first = strstr(t, "  zone  refill");
	second = strstr(t, "  zone  alloc");
	cr_assert(first && second && first < second, "%s", t);
	free(t);
	t = lock_table_of(NULL, NULL, "acquisitions");
	first = strstr(t, "  zone  refill");
	second = strstr(t, "  zone  alloc");
	cr_assert(first && second && second < first, "site order: %s", t);
	free(t);

	cr_assert_eq(pcpb_report_set_lock_table(inst, "s", NULL, NULL, err,
						sizeof(err)),
		     -EINVAL);
	cr_assert(strstr(err, "unit 's'") != NULL, "%s", err);
	cr_assert_eq(pcpb_report_set_lock_table(NULL, NULL, "hold", NULL, err,
						sizeof(err)),
		     -EINVAL);
	cr_assert_eq(pcpb_report_set_lock_table(inst, NULL, NULL, "hold_max,,x",
						err, sizeof(err)),
		     -EINVAL);
	cr_assert(strstr(err, "field ''") != NULL, "%s", err);
	/* the failed calls changed nothing: still one column */
	cr_assert_eq(inst->lock_table.nr_cols, 1);
	cr_assert_eq(inst->lock_table.unit, 0);
	pcpb_free_pages_cpu(inst, 1, (unsigned long)pfn, 4);
	assert_check(inst);
}

Test(api, report_fields_are_correct_in_every_format)
{
	struct pcpb_stats st;
	static const char *const json_keys[] = {
		"\"ops\"",
		"\"alloc\": 5",
		"\"free\": 3",
		"\"alloc_failed\": 0",
		"\"locks\"",
		"\"zone\"",
		"\"pcp\"",
		"\"acquisitions\"",
		"\"contended\"",
		"\"hold_ns\"",
		"\"wait_ns\"",
		"\"p50\"",
		"\"p99\"",
		"\"max\"",
		"\"sites\"",
		"\"refill\"",
		"\"work\"",
		"\"fallback_searches\"",
		"\"claims\"",
		"\"steals\"",
		"\"pages_moved_zone\"",
		"\"hits\"",
		"\"refills\"",
		"\"drains\"",
		"\"fragmentation\"",
		"\"free_by_order\": [",
		"\"free_by_migratetype\"",
		"\"check\"",
		"\"ok\": true",
		"\"pages_total\": 4096",
		"\"pages_free\"",
		"\"pages_allocated\": 4",
	};
	long pfns[5];
	char *json, *csv, *text, line[128];
	size_t i;

	inst = make_inst(NULL);
	for (i = 0; i < 5; i++)
		pfns[i] = pcpb_alloc_pages_cpu(inst, 0, 0, PCPB_MT_MOVABLE, 0);
	for (i = 0; i < 3; i++)
		pcpb_free_pages_cpu(inst, 0, (unsigned long)pfns[i], 0);
	/* 5 allocs, 3 frees, 2 held + 2 more as one order-1 block: 4 pages */
	pfns[0] = pcpb_alloc_pages_cpu(inst, 0, 1, PCPB_MT_MOVABLE, 0);
	json = report_of(PCPB_FMT_JSON);
	csv = report_of(PCPB_FMT_CSV);
	text = report_of(PCPB_FMT_TEXT);
	cr_assert(strstr(json, "\"alloc\": 6") != NULL);
	for (i = 2; i < ARRAY_SIZE(json_keys); i++)
		cr_assert(strstr(json, json_keys[i]) != NULL, "missing %s",
			  json_keys[i]);
	cr_assert(strncmp(csv, "key,value\n", 10) == 0);
	cr_assert(strstr(csv, "\nops.alloc,6\n") != NULL);
	cr_assert(strstr(csv, "\nops.free,3\n") != NULL);
	cr_assert(strstr(csv, "\ncheck.ok,true\n") != NULL);
	/* Every figure equals the snapshot of the same (quiet) state. */
	pcpb_stats_read(inst, &st);
	expect_csv(csv, "locks.zone.acquisitions",
		   st.zone_lock.all.acquisitions);
	expect_csv(csv, "locks.zone.sites.refill.acquisitions",
		   st.zone_lock.sites[PCPB_SITE_refill].acquisitions);
	expect_csv(csv, "locks.pcp.acquisitions", st.pcp_lock.all.acquisitions);
	expect_csv(csv, "locks.zone.hold_ns.max", st.zone_lock.all.hold_ns.max);
	expect_csv(csv, "pcp.hits", st.pcp[PCPB_PCP_hits]);
	expect_csv(csv, "work.pages_moved_zone",
		   st.work[PCPB_WORK_pages_moved_zone]);
	expect_csv(csv, "fragmentation.free_by_order.10",
		   st.free_blocks_by_order[10]);
	expect_csv(csv, "fragmentation.free_by_migratetype.movable",
		   st.free_pages_by_mt[MIGRATE_MOVABLE]);
	cr_assert_gt(st.zone_lock.all.acquisitions, 0);
	snprintf(line, sizeof(line), "\ncheck.pages_allocated,%d\n", 4);
	cr_assert(strstr(csv, line) != NULL, "%s", line);
	cr_assert(strstr(text, "check: ok") != NULL);
	cr_assert_eq(pcpb_report(inst, stdout, (enum pcpb_format)7), -EINVAL);
	free(json);
	free(csv);
	free(text);
	pcpb_free_pages_cpu(inst, 0, (unsigned long)pfns[3], 0);
	pcpb_free_pages_cpu(inst, 0, (unsigned long)pfns[4], 0);
	pcpb_free_pages_cpu(inst, 0, (unsigned long)pfns[0], 1);
}

static double acq_per_timed_hold(const struct pcpb_lock_site_stats *s)
{
	cr_assert_gt(s->hold_ns.count, 0);
	return (double)s->acquisitions / (double)s->hold_ns.count;
}

/* Sampled pcp->lock holds (the default, about one in 8): every fast-path
 * site in proportion; other sites, zone->lock and the acquisition counts
 * stay exact.  lockstat_pcp_sample=1 times every hold. */
Test(api, lockstat_pcp_sample_times_a_fair_share_of_pcp_holds)
{
	static const char *const kv[] = { NULL, "lockstat_pcp_sample=1" };
	struct pcpb_stats st;
	unsigned int k;
	int i;

	for (k = 0; k < ARRAY_SIZE(kv); k++) {
		const struct pcpb_lock_class_stats *pcp = &st.pcp_lock;
		/* Gaps uniform in 1..16: a mean of 8.5, +-0.2 at 3 sigma. */
		double want = kv[k] ? 1.0 : 8.5;

		inst = make_inst(kv[k]);
		for (i = 0; i < 40000; i++) {
			long pfn = pcpb_alloc_pages_cpu(inst, 0, 0,
							MIGRATE_MOVABLE, 0);

			cr_assert_geq(pfn, 0);
			cr_assert_eq(pcpb_free_pages_cpu(inst, 0,
							 (unsigned long)pfn, 0),
				     0);
		}
		pcpb_drain_all(inst);
		cr_assert_eq(pcpb_stats_read(inst, &st), 0);
		cr_assert_geq(pcp->sites[PCPB_SITE_alloc].acquisitions, 40000);
		cr_assert_float_eq(
			acq_per_timed_hold(&pcp->sites[PCPB_SITE_alloc]), want,
			0.6, "%s", kv[k] ? kv[k] : "default");
		cr_assert_float_eq(
			acq_per_timed_hold(&pcp->sites[PCPB_SITE_free]), want,
			0.6, "%s", kv[k] ? kv[k] : "default");
		cr_assert_gt(pcp->sites[PCPB_SITE_drain].acquisitions, 0);
		cr_assert_eq(pcp->sites[PCPB_SITE_drain].hold_ns.count,
			     pcp->sites[PCPB_SITE_drain].acquisitions);
		cr_assert_gt(st.zone_lock.all.acquisitions, 0);
		cr_assert_eq(st.zone_lock.all.hold_ns.count,
			     st.zone_lock.all.acquisitions);
		assert_check(inst);
		if (!k)
			pcpb_destroy(inst);
	}
}

Test(api, backed_pages_have_addresses)
{
	long pfn;
	char *addr;

	inst = make_inst("backing=anon");
	pfn = pcpb_alloc_pages_cpu(inst, 0, 2, PCPB_MT_MOVABLE, 0);
	addr = pcpb_pfn_to_addr(inst, (unsigned long)pfn);
	cr_assert_not_null(addr);
	memset(addr, 0xab, 4 * PCPB_PAGE_SIZE);
	cr_assert_eq(pcpb_addr_to_pfn(inst, addr + 3 * PCPB_PAGE_SIZE + 7),
		     pfn + 3);
	cr_assert_eq(pcpb_addr_to_pfn(inst, &pfn), -EINVAL);
	cr_assert_null(pcpb_pfn_to_addr(inst, pcpb_nr_pages(inst)));
	pcpb_free_pages_cpu(inst, 0, (unsigned long)pfn, 2);
}

Test(api, unbacked_pages_have_no_addresses)
{
	inst = make_inst(NULL);
	cr_assert_null(pcpb_pfn_to_addr(inst, 0));
	cr_assert_eq(pcpb_addr_to_pfn(inst, &inst), -EINVAL);
}

Test(api, zonelist_falls_back_to_the_other_node)
{
	unsigned long per_node;
	long *pfns = malloc(sizeof(long) * 8192), pfn;
	int n = 0, i;

	inst = make_inst("nodes=2,memory=32M,pcp=off");
	per_node = pcpb_nr_pages(inst) / 2;
	pfn = pcpb_alloc_pages_cpu(inst, 1, 0, 0, 0);
	cr_assert_geq((unsigned long)pfn, per_node, "CPU 1 is on node 1");
	pcpb_free_pages_cpu(inst, 1, (unsigned long)pfn, 0);
	while ((pfn = pcpb_alloc_pages_cpu(inst, 0, 0, 0, PCPB_GFP_THISNODE)) >=
	       0) {
		cr_assert_lt((unsigned long)pfn, per_node);
		pfns[n++] = pfn;
	}
	pfn = pcpb_alloc_pages_cpu(inst, 0, 0, 0, 0);
	cr_assert_geq((unsigned long)pfn, per_node, "spilled to node 1");
	pfns[n++] = pfn;
	for (i = 0; i < n; i++)
		cr_assert_eq(
			pcpb_free_pages_cpu(inst, 0, (unsigned long)pfns[i], 0),
			0);
	free(pfns);
}

Test(api, mixed_driver_frees_everything_it_allocated)
{
	struct mixed_result res;
	struct wl_opts o = { .threads = 3, .seconds = 0.3, .seed = 5 };

	inst = make_inst("cpu_mode=thread,cpus=3,memory=64M");
	cr_assert_eq(wl_mixed_run(inst, &o, &res), 0);
	cr_assert_gt(res.allocs, 1000);
	cr_assert_eq(res.allocs, res.frees);
	cr_assert_gt(res.remote_frees, 0);
}

Test(api, report_stats_reports_the_snapshot_with_the_check_of_now)
{
	struct pcpb_stats st;
	char *buf = NULL;
	size_t len = 0, i;
	long pfns[5];
	FILE *f;

	inst = make_inst(NULL);
	for (i = 0; i < 5; i++)
		pfns[i] = pcpb_alloc_pages_cpu(inst, 0, 0, PCPB_MT_MOVABLE, 0);
	pcpb_stats_read(inst, &st);
	/* The teardown: counted by the instance, not by the report. */
	for (i = 0; i < 5; i++)
		pcpb_free_pages_cpu(inst, 1, (unsigned long)pfns[i], 0);
	cr_assert_eq(pcpb_report_stats(inst, NULL, stdout, PCPB_FMT_CSV),
		     -EINVAL);
	cr_assert_eq(pcpb_report_stats(inst, &st, stdout, (enum pcpb_format)7),
		     -EINVAL);
	f = open_memstream(&buf, &len);
	cr_assert_eq(pcpb_report_stats(inst, &st, f, PCPB_FMT_CSV), 0);
	fclose(f);
	cr_assert(strstr(buf, "\nops.alloc,5\n") != NULL, "%s", buf);
	cr_assert(strstr(buf, "\nops.free,0\n") != NULL);
	expect_csv(buf, "locks.pcp.acquisitions", st.pcp_lock.all.acquisitions);
	cr_assert(strstr(buf, "\ncheck.ok,true\n") != NULL);
	cr_assert(strstr(buf, "\ncheck.pages_allocated,0\n") != NULL);
	free(buf);
}
