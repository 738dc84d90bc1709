// SPDX-License-Identifier: GPL-2.0-only OR MIT
/*
 * pcp.c - the classic per-CPU lists against the kernel's formulas: sizing,
 * refill scaling, chunked drains with lock cycling, trylock fallbacks,
 * high auto-tuning, decay, the boot pageset and drain_all.
 */
#include <math.h>

#include "helpers.h"

static struct pcpb *inst;

static void teardown(void)
{
	assert_check(inst);
	pcpb_destroy(inst);
}

TestSuite(pcp, .fini = teardown);

static struct per_cpu_pages *pcp_of(int cpu)
{
	return inst_pcp(inst, cpu, 0);
}

static long alloc0(int cpu)
{
	long pfn = pcpb_alloc_pages_cpu(inst, cpu, 0, PCPB_MT_MOVABLE, 0);

	cr_assert_geq(pfn, 0);
	return pfn;
}

Test(pcp, batch_and_high_follow_the_kernel_formulas)
{
	unsigned long managed = 262144, kb = managed * 4, wmin, step, low;
	long batch;

	/* The sqrt formula alone: a kernel with THP off (the raise khugepaged
	 * makes is profile/thp_raises_min_free_kbytes_as_khugepaged_does). */
	inst = make_inst("memory=1G,thp=never");
	/* zone_batchsize(): min(managed/1024, 256)/4, to 2^n - 1. */
	batch = (long)fmin(managed >> 10, 256) / 4;
	batch = (1L << (int)floor(log2((double)(batch + batch / 2)))) - 1;
	/* min_free_kbytes = sqrt(16 * KiB); low = min + max(min/4, 0.1%). */
	wmin = (unsigned long)sqrt((double)kb * 16) / 4;
	step = wmin / 4 > managed / 1000 ? wmin / 4 : managed * 10 / 10000;
	low = wmin + step;
	cr_assert_eq(pcp_of(0)->batch, batch);
	cr_assert_eq(wmark_pages(zone0(inst), WMARK_LOW), low);
	cr_assert_eq(pcp_of(0)->high_min, (long)fmax(low / 2, 4 * batch));
	cr_assert_eq(pcp_of(0)->high_max,
		     (long)fmax(managed / 8 / 2, 4 * batch));
	cr_assert_eq(pcp_of(1)->high, pcp_of(1)->high_min);
}

Test(pcp, refill_is_one_batch_then_scales_with_alloc_factor)
{
	struct per_cpu_pages *p;
	long pfns[63 + 1];
	int i, batch, high_min;

	inst = make_inst("memory=1G");
	p = pcp_of(0);
	batch = p->batch;
	high_min = p->high_min;
	for (i = 0; i < batch; i++)
		pfns[i] = alloc0(0);
	cr_assert_eq(stats_of(inst).pcp[PCPB_PCP_refills], 1);
	cr_assert_eq(stats_of(inst).pcp[PCPB_PCP_refill_pages],
		     (uint64_t)batch);
	cr_assert_eq(stats_of(inst).pcp[PCPB_PCP_hits], (uint64_t)batch - 1);
	cr_assert_eq(p->high, high_min + batch, "demand grows high");
	cr_assert_eq(p->alloc_factor, 1);
	cr_assert_eq(p->count, 0);
	pfns[batch] = alloc0(0);
	/* alloc_factor 1: batch << 1. */
	cr_assert_eq(stats_of(inst).pcp[PCPB_PCP_refill_pages],
		     (uint64_t)batch * 3);
	cr_assert_eq(p->count, 2 * batch - 1);
	cr_assert_eq(p->alloc_factor, 2);
	for (i = 0; i <= batch; i++)
		cr_assert_eq(
			pcpb_free_pages_cpu(inst, 0, (unsigned long)pfns[i], 0),
			0);
	cr_assert_eq(p->alloc_factor, 0, "every free halves it");
}

Test(pcp, overflow_drains_in_batch_chunks_and_cycles_the_lock)
{
	struct pcpb_stats st;
	long pfns[400];
	int i;

	inst = make_inst("memory=64M,batch=10,high_min=100,high_max=100");
	for (i = 0; i < 400; i++)
		pfns[i] = alloc0(0);
	pcpb_stats_reset(inst);
	for (i = 0; i < 400; i++) {
		cr_assert_eq(
			pcpb_free_pages_cpu(inst, 1, (unsigned long)pfns[i], 0),
			0);
		cr_assert_lt(pcp_of(1)->count, 100);
	}
	st = stats_of(inst);
	cr_assert_gt(st.pcp[PCPB_PCP_drains], 0);
	cr_assert_eq(st.pcp[PCPB_PCP_drain_pages], st.pcp[PCPB_PCP_drains] * 10,
		     "every chunk is one batch");
	cr_assert_eq(st.zone_lock.sites[PCPB_SITE_drain].acquisitions,
		     st.pcp[PCPB_PCP_drains]);
	/* Each overflow drains 90 pages = 9 chunks, and re-takes pcp->lock
	 * between them: 400 frees plus 8 cycles per overflow. */
	cr_assert_eq(st.pcp[PCPB_PCP_drains] % 9, 0);
	cr_assert_eq(st.pcp_lock.sites[PCPB_SITE_free].acquisitions,
		     400 + 8 * st.pcp[PCPB_PCP_drains] / 9);
}

Test(pcp, failed_trylock_goes_to_the_zone)
{
	struct pcpb_stats st;
	long pfn, kept;
	int count;

	inst = make_inst(NULL);
	kept = alloc0(0);
	count = pcp_of(0)->count;
	pcpb_stats_reset(inst);
	spin_lock_quiet(&pcp_of(0)->lock);
	pfn = pcpb_alloc_pages_cpu(inst, 0, 0, PCPB_MT_MOVABLE, 0);
	cr_assert_geq(pfn, 0);
	cr_assert_eq(pcpb_free_pages_cpu(inst, 0, (unsigned long)kept, 0), 0);
	spin_unlock_quiet(&pcp_of(0)->lock);
	st = stats_of(inst);
	/* failed trylocks, not waits: lock_stat keeps the two apart */
	cr_assert_eq(st.pcp_lock.sites[PCPB_SITE_alloc].trylock_failed, 1);
	cr_assert_eq(st.pcp_lock.sites[PCPB_SITE_free].trylock_failed, 1);
	cr_assert_eq(st.pcp_lock.all.trylock_failed, 2);
	cr_assert_eq(st.pcp_lock.all.contended, 0);
	cr_assert_eq(st.pcp_lock.sites[PCPB_SITE_alloc].wait_ns.count, 0);
	cr_assert_eq(st.zone_lock.sites[PCPB_SITE_alloc].acquisitions, 1,
		     "rmqueue_buddy");
	cr_assert_eq(st.zone_lock.sites[PCPB_SITE_free_one].acquisitions, 1);
	cr_assert_eq(pcp_of(0)->count, count, "the PCP was not touched");
	cr_assert_eq(pcpb_free_pages_cpu(inst, 0, (unsigned long)pfn, 0), 0);
}

Test(pcp, free_streak_grows_high_and_decay_walks_it_back)
{
	struct per_cpu_pages *p;
	long pfns[600];
	int i, prev;

	inst = make_inst("memory=64M,batch=8,high_min=64,high_max=1024");
	p = pcp_of(1);
	for (i = 0; i < 600; i++)
		pfns[i] = alloc0(0);
	for (i = 0; i < 600; i++)
		pcpb_free_pages_cpu(inst, 1, (unsigned long)pfns[i], 0);
	cr_assert_gt(p->high, 64, "consecutive frees raise high");
	cr_assert_leq(p->high, 1024);
	prev = p->high;
	for (i = 0; i < 64 && p->high > p->high_min; i++) {
		pcpb_vmstat_tick(inst);
		cr_assert_lt(p->high, prev);
		cr_assert_leq(p->count, p->high, "decay drains above high");
		prev = p->high;
	}
	cr_assert_eq(p->high, p->high_min);
	cr_assert_gt(stats_of(inst).pcp[PCPB_PCP_high_decays], 0);
}

Test(pcp, below_high_watermark_stops_growth_and_drains)
{
	struct zone *z;
	long pfns[4096];
	int n = 0, i;

	inst = make_inst(NULL);
	z = zone0(inst);
	while (zone_page_state_free(z) >= wmark_pages(z, WMARK_HIGH))
		pfns[n++] = alloc0(0);
	pfns[n++] = alloc0(0);
	cr_assert(READ_ONCE(z->flags) & ZONE_BELOW_HIGH);
	for (i = 0; i < n; i++)
		pcpb_free_pages_cpu(inst, 1, (unsigned long)pfns[i], 0);
	cr_assert_eq(READ_ONCE(z->flags) & ZONE_BELOW_HIGH, 0,
		     "cleared once above high again");
	cr_assert_leq(pcp_of(1)->high, pcp_of(1)->high_max);
}

Test(pcp, boot_pageset_sends_every_free_to_the_zone)
{
	struct pcpb_stats st;
	long pfns[50];
	int i;

	inst = make_inst("pcp=off");
	cr_assert_eq(pcp_of(0)->high_max, 0);
	cr_assert_eq(pcp_of(0)->batch, 1);
	for (i = 0; i < 50; i++)
		pfns[i] = alloc0(i & 1);
	for (i = 0; i < 50; i++) {
		pcpb_free_pages_cpu(inst, i & 1, (unsigned long)pfns[i], 0);
		cr_assert_eq(pcp_of(i & 1)->count, 0);
	}
	st = stats_of(inst);
	cr_assert_eq(st.pcp[PCPB_PCP_hits], 0);
	cr_assert_eq(st.zone_lock.sites[PCPB_SITE_refill].acquisitions, 50);
	cr_assert_eq(st.zone_lock.sites[PCPB_SITE_drain].acquisitions, 50);
}

Test(pcp, drain_all_empties_every_list)
{
	long pfns[300];
	int i;

	inst = make_inst(NULL);
	for (i = 0; i < 300; i++)
		pfns[i] = pcpb_alloc_pages_cpu(inst, i & 1, (unsigned)(i % 4),
					       i % 3, 0);
	for (i = 0; i < 300; i++)
		cr_assert_eq(pcpb_free_pages_cpu(inst, (i + 1) & 1,
						 (unsigned long)pfns[i],
						 (unsigned)(i % 4)),
			     0);
	cr_assert_gt(pcp_of(0)->count + pcp_of(1)->count, 0);
	pcpb_drain_all(inst);
	cr_assert_eq(pcp_of(0)->count, 0);
	cr_assert_eq(pcp_of(1)->count, 0);
	cr_assert_eq(zone_page_state_free(zone0(inst)), pcpb_nr_pages(inst));
}

/*
 * The worked example of docs/design.md: policy=fixed_batch changes only
 * the refill hook, so every refill takes exactly batch pages, where
 * classic's nr_pcp_alloc() grows them with alloc_factor.
 */
static void refills_of(const char *kv, uint64_t *refills, uint64_t *pages)
{
	struct pcpb_stats st;
	int i;

	inst = make_inst(kv);
	for (i = 0; i < 2000; i++)
		alloc0(0);
	st = stats_of(inst);
	*refills = st.pcp[PCPB_PCP_refills];
	*pages = st.pcp[PCPB_PCP_refill_pages];
	assert_check(inst);
	pcpb_destroy(inst);
}

Test(pcp, fixed_batch_policy_refills_exactly_batch)
{
	uint64_t refills, pages, classic_refills, classic_pages;

	refills_of("policy=fixed_batch,batch=8,high_min=64,high_max=512",
		   &refills, &pages);
	cr_assert_eq(refills, 250, "2000 pages in refills of 8");
	cr_assert_eq(pages, 8 * refills);
	refills_of("policy=classic,batch=8,high_min=64,high_max=512",
		   &classic_refills, &classic_pages);
	cr_assert_lt(classic_refills, refills / 2,
		     "classic scales its refills: %llu against %llu",
		     (unsigned long long)classic_refills,
		     (unsigned long long)refills);
	inst = make_inst(NULL);
}
