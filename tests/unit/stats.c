// SPDX-License-Identifier: GPL-2.0-only OR MIT
/*
 * stats.c - the counters: pcpb_stats_reset() zeroes every counter of every
 * policy after a run that touched them, and lock sections are not counted
 * as acquisitions.
 */
#include "helpers.h"

static struct pcpb *inst;

static void teardown(void)
{
	assert_check(inst);
	pcpb_destroy(inst);
}

TestSuite(stats, .fini = teardown);

/* Allocations on CPU 0 freed on both CPUs, then a drain: every path. */
static void cross_cpu_run(void)
{
	long pfns[1024];
	int i;

	for (i = 0; i < 1024; i++) {
		pfns[i] = pcpb_alloc_pages_cpu(inst, 0, 0, PCPB_MT_MOVABLE, 0);
		cr_assert_geq(pfns[i], 0);
	}
	for (i = 0; i < 1024; i++)
		cr_assert_eq(pcpb_free_pages_cpu(inst, i & 1,
						 (unsigned long)pfns[i], 0),
			     0);
	pcpb_vmstat_tick(inst);
	pcpb_drain_all(inst);
}

static void assert_all_zero(const uint64_t *v, size_t n, const char *what,
			    const char *kv)
{
	size_t i;

	for (i = 0; i < n; i++)
		cr_assert_eq(v[i], 0, "%s: %s[%zu] = %llu after reset", kv,
			     what, i, (unsigned long long)v[i]);
}

static void assert_lock_zero(const struct pcpb_lock_class_stats *c,
			     const char *what, const char *kv)
{
	int s;

	cr_assert_eq(c->all.acquisitions, 0, "%s: %s acquisitions", kv, what);
	cr_assert_eq(c->all.hold_ns.count, 0, "%s: %s holds", kv, what);
	for (s = 0; s < PCPB_NR_LOCK_SITES; s++) {
		cr_assert_eq(c->sites[s].acquisitions, 0, "%s: %s site %s", kv,
			     what, pcpb_lock_site_name(s));
		cr_assert_eq(c->sites[s].hold_ns.count, 0, "%s: %s site %s", kv,
			     what, pcpb_lock_site_name(s));
	}
}

static void reset_zeroes(const char *kv)
{
	struct pcpb_stats st;

	inst = make_inst(kv);
	cross_cpu_run();
	pcpb_stats_read(inst, &st);
	cr_assert_gt(st.ops[PCPB_OP_alloc], 0);
	pcpb_stats_reset(inst);
	pcpb_stats_read(inst, &st);
	assert_all_zero(st.ops, PCPB_NR_OPS, "ops", kv);
	assert_all_zero(st.work, PCPB_NR_WORK, "work", kv);
	assert_all_zero(st.pcp, PCPB_NR_PCP_STATS, "pcp", kv);
	assert_all_zero(st.owner, PCPB_NR_OWNER, "owner", kv);
	assert_all_zero(st.pcp_merges_by_order, PCPB_NR_PAGE_ORDERS,
			"pcp_merges_by_order", kv);
	assert_all_zero(&st.pollute[0][0],
			PCPB_NR_REQUEST_MT * PCPB_NR_MIGRATETYPES, "pollute",
			kv);
	assert_all_zero(&st.convert[0][0],
			PCPB_NR_REQUEST_MT * PCPB_NR_MIGRATETYPES, "convert",
			kv);
	assert_lock_zero(&st.zone_lock, "zone_lock", kv);
	assert_lock_zero(&st.pcp_lock, "pcp_lock", kv);
	pcpb_destroy(inst);
	inst = NULL;
}

Test(stats, reset_zeroes_every_counter_of_every_policy)
{
	static const char *const kvs[] = {
		"policy=classic",
		"policy=chunky",
		"policy=owner,memory=64M",
		"policy=owner,memory=64M,remote_free=trylock",
		"policy=owner,memory=64M,remote_free=llist",
		"policy=owner,memory=64M,owner_merge=free",
		"policy=owner,memory=64M,owner_merge=drain_new",
	};
	size_t i;

	for (i = 0; i < ARRAY_SIZE(kvs); i++)
		reset_zeroes(kvs[i]);
	inst = make_inst(NULL);
}

/* The owner's merge pass runs inside a pcp->lock hold: a section of it. */
Test(stats, drain_merge_is_a_section_not_an_acquisition)
{
	struct pcpb_stats st;
	uint64_t sum = 0;
	int s;

	inst = make_inst("policy=owner,memory=64M");
	cross_cpu_run();
	pcpb_stats_read(inst, &st);
	cr_assert_gt(st.pcp_lock.sites[PCPB_SITE_drain_merge].hold_ns.count, 0,
		     "the merge pass was timed");
	for (s = 0; s < PCPB_NR_LOCK_SITES; s++)
		if (s != PCPB_SITE_drain_merge && s != PCPB_SITE_claim &&
		    s != PCPB_SITE_steal)
			sum += st.pcp_lock.sites[s].acquisitions;
	cr_assert_eq(st.pcp_lock.all.acquisitions, sum,
		     "all = %llu, real sites = %llu",
		     (unsigned long long)st.pcp_lock.all.acquisitions,
		     (unsigned long long)sum);
}
