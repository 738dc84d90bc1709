// SPDX-License-Identifier: GPL-2.0-only OR MIT
/*
 * profile.c - the kernel profiles (kernel=): each rule a profile chooses,
 * pinned on a constructed state, and the four places where the model had
 * drifted from the 2026 tree (next), each against the kernel's rule.
 */
#include <math.h>

#include "helpers.h"

static struct pcpb *inst;

static void teardown(void)
{
	if (!inst)
		return;
	assert_check(inst);
	pcpb_destroy(inst);
	inst = NULL;
}

TestSuite(profile, .fini = teardown);

/* 6.1 refills exactly batch pages (batch >> order blocks); next scales. */
Test(profile, v6_1_refill_is_exactly_batch)
{
	struct pcpb_stats st;
	int i;

	inst = make_inst("kernel=6.1,memory=64M,batch=16");
	for (i = 0; i < 1000; i++)
		alloc_on(inst, 0, 0, PCPB_MT_MOVABLE);
	st = stats_of(inst);
	cr_assert_eq(st.pcp[PCPB_PCP_refill_pages],
		     16 * st.pcp[PCPB_PCP_refills],
		     "%llu pages in %llu refills",
		     (unsigned long long)st.pcp[PCPB_PCP_refill_pages],
		     (unsigned long long)st.pcp[PCPB_PCP_refills]);
	cr_assert_eq(st.pcp[PCPB_PCP_refills], 63, "1000 pages, 16 a refill");
	teardown();
	inst = make_inst("kernel=next,memory=64M,batch=16");
	for (i = 0; i < 1000; i++)
		alloc_on(inst, 0, 0, PCPB_MT_MOVABLE);
	cr_assert_lt(stats_of(inst).pcp[PCPB_PCP_refills], 63,
		     "next scales up");
}

/*
 * 6.1: once an overflow has raised free_factor, an order-2 free is a
 * "free_high": nr_pcp_high() gives 0 and nr_pcp_free() the whole list.
 */
Test(profile, v6_1_order2_free_after_a_drain_empties_the_list)
{
	struct per_cpu_pages *pcp;
	long pfns[200], big;
	int i;

	inst = make_inst("kernel=6.1,memory=64M,batch=8,high_min=64");
	pcp = inst_pcp(inst, 0, 0);
	cr_assert_eq(pcp->high, 64, "6.1's high is fixed");
	big = alloc_on(inst, 1, 2, PCPB_MT_MOVABLE);
	for (i = 0; i < 200; i++)
		pfns[i] = alloc_on(inst, 1, 0, PCPB_MT_MOVABLE);
	for (i = 0; i < 100; i++)
		free_on(inst, 0, pfns[i], 0);
	cr_assert_gt(pcp->free_factor, 0, "the overflows doubled the batch");
	cr_assert_gt(pcp->count, 0);
	free_on(inst, 0, big, 2);
	cr_assert_eq(pcp->count, 0, "the order-2 free drained everything");
	for (i = 100; i < 200; i++)
		free_on(inst, 1, pfns[i], 0);
}

/* The first overflow of a large high: 6.18 drains it in one zone->lock
 * hold, next in batch-sized holds with pcp->lock cycled between them. */
static uint64_t drain_holds(const char *kernel)
{
	char kv[128];
	long pfns[300];
	uint64_t holds;
	int i;

	snprintf(kv, sizeof(kv),
		 "kernel=%s,memory=64M,batch=8,high_min=256,high_max=256",
		 kernel);
	inst = make_inst(kv);
	for (i = 0; i < 300; i++)
		pfns[i] = alloc_on(inst, 1, 0, PCPB_MT_MOVABLE);
	pcpb_stats_reset(inst);
	for (i = 0; i < 257; i++)
		free_on(inst, 0, pfns[i], 0);
	holds = stats_of(inst).zone_lock.sites[PCPB_SITE_drain].acquisitions;
	for (i = 257; i < 300; i++)
		free_on(inst, 0, pfns[i], 0);
	teardown();
	return holds;
}

Test(profile, v6_18_drains_an_overflow_in_one_hold_next_in_batches)
{
	uint64_t single = drain_holds("6.18"), chunked = drain_holds("next");

	cr_assert_eq(single, 1, "6.18: %llu holds", (unsigned long long)single);
	/* 256 pages, free_count 256: clamp(256, 8, 248) = 248 in 8s. */
	cr_assert_eq(chunked, 31, "next: %llu holds",
		     (unsigned long long)chunked);
}

/* set_recommended_min_free_kbytes(): 2 + 3 * 3 pageblocks per zone, at
 * most 5% of lowmem, when THP is on; the sqrt formula when it is off. */
Test(profile, thp_raises_min_free_kbytes_as_khugepaged_does)
{
	static const char *const sizes[] = { "1G", "4G", "16G" };
	static const unsigned long sqrt_min[] = { 1024, 2048, 4096 };
	struct pcpb_watermarks wm;
	uint64_t high;
	char kv[128];
	int i;

	for (i = 0; i < 3; i++) {
		snprintf(kv, sizeof(kv), "memory=%s", sizes[i]);
		inst = make_inst(kv);
		cr_assert_eq(pcpb_node_watermarks(inst, 0, &wm), 0);
		cr_assert_eq(wm.min, 512 * 11, "%s: min %llu pages", sizes[i],
			     (unsigned long long)wm.min);
		teardown();
		snprintf(kv, sizeof(kv), "memory=%s,thp=never", sizes[i]);
		inst = make_inst(kv);
		cr_assert_eq(pcpb_node_watermarks(inst, 0, &wm), 0);
		cr_assert_eq(wm.min, sqrt_min[i], "%s thp=never: %llu",
			     sizes[i], (unsigned long long)wm.min);
		teardown();
	}
	/* 5% of a 64 MiB zone's free buffer pages (managed minus the high
	 * watermark before the raise) is below the raise: the cap applies. */
	inst = make_inst("memory=64M,thp=never");
	cr_assert_eq(pcpb_node_watermarks(inst, 0, &wm), 0);
	high = wm.high;
	teardown();
	inst = make_inst("memory=64M");
	cr_assert_eq(pcpb_node_watermarks(inst, 0, &wm), 0);
	cr_assert_eq(wm.min, (16384 - high) / 20, "64M: %llu",
		     (unsigned long long)wm.min);
}

/* ---- next: where the model had drifted from the kernel ---------------- */

/* alloc_pages_bulk() does not touch free_count; only a single allocation
 * (rmqueue_pcplist()) halves it. */
Test(profile, bulk_allocation_leaves_free_count_alone)
{
	struct per_cpu_pages *pcp;
	long pfns[40], arr[8];
	int i, before;

	inst = make_inst("memory=64M,batch=8,high_min=512,high_max=512");
	pcp = inst_pcp(inst, 0, 0);
	for (i = 0; i < 40; i++)
		pfns[i] = alloc_on(inst, 1, 0, PCPB_MT_MOVABLE);
	for (i = 0; i < 40; i++)
		free_on(inst, 0, pfns[i], 0);
	before = pcp->free_count;
	cr_assert_gt(before, 1);
	for (i = 0; i < 8; i++)
		arr[i] = PCPB_NO_PAGE;
	cr_assert_eq(alloc_pages_bulk_pcp(zone0(inst), 0, MIGRATE_MOVABLE, 8,
					  arr, 0, true, 0),
		     8);
	cr_assert_eq(pcp->free_count, before, "free_count %d, was %d",
		     pcp->free_count, before);
	for (i = 0; i < 8; i++)
		free_on(inst, 0, arr[i], 0);
}

/* With high_min == high_max, nr_pcp_high() returns high before it looks
 * at ZONE_BELOW_HIGH, so the drain leaves high - batch pages' worth. */
Test(profile, fixed_high_is_checked_before_below_high)
{
	struct per_cpu_pages *pcp;
	long pfns[70];
	int i, fc, count;

	inst = make_inst("memory=64M,batch=4,high_min=512,high_max=512");
	pcp = inst_pcp(inst, 0, 0);
	for (i = 0; i < 70; i++)
		pfns[i] = alloc_on(inst, 1, 0, PCPB_MT_MOVABLE);
	for (i = 0; i < 60; i++)
		free_on(inst, 0, pfns[i], 0);
	cr_assert_eq(pcp->count, 60);
	/* Shrink high under the lock, as a sysctl write would. */
	spin_lock_quiet(&pcp->lock);
	pcp->high_min = pcp->high_max = pcp->high = 16;
	spin_unlock_quiet(&pcp->lock);
	__atomic_fetch_or(&zone0(inst)->flags, ZONE_BELOW_HIGH,
			  __ATOMIC_RELAXED);
	fc = pcp->free_count + 1;
	count = pcp->count + 1;
	free_on(inst, 0, pfns[60], 0);
	/* nr_pcp_free(): clamp(free_count, batch, high - batch). */
	cr_assert_eq(pcp->count, count - min(max(fc, 4), 16 - 4),
		     "count %d after the drain", pcp->count);
	for (i = 61; i < 70; i++)
		free_on(inst, 0, pfns[i], 0);
}

/* ZONE_BELOW_HIGH is cleared when the zone is above its high watermark
 * without CMA pages (the kernel checks with alloc_flags 0). */
Test(profile, below_high_is_cleared_without_counting_cma)
{
	struct zone *z;
	struct pcpb_watermarks wm;
	long *pfns = calloc(16384, sizeof(long));
	long n = 0, i, frees[64];

	inst = make_inst("memory=64M,cma_bytes=16M,batch=4,high_min=8,"
			 "high_max=8,thp=never");
	z = zone0(inst);
	cr_assert_not_null(pfns);
	pcpb_node_watermarks(inst, 0, &wm);
	/* Unmovable pages never come from CMA: eat the rest. */
	while ((long)(zone_page_state_free(z) - READ_ONCE(z->nr_free_cma)) >
	       (long)wm.high - 64) {
		pfns[n] = pcpb_alloc_pages_cpu(inst, 1, 0, PCPB_MT_UNMOVABLE,
					       PCPB_GFP_NORETRY);
		cr_assert_geq(pfns[n], 0);
		n++;
	}
	for (i = 0; i < 64; i++)
		frees[i] = pfns[--n];
	__atomic_fetch_or(&z->flags, ZONE_BELOW_HIGH, __ATOMIC_RELAXED);
	for (i = 0; i < 32; i++)
		free_on(inst, 0, frees[i], 0);
	cr_assert(zone_page_state_free(z) - READ_ONCE(z->nr_free_cma) < wm.high,
		  "still below high without CMA");
	cr_assert(READ_ONCE(z->flags) & ZONE_BELOW_HIGH,
		  "cleared although below high without CMA");
	for (i = 32; i < 64; i++)
		free_on(inst, 0, frees[i], 0);
	while (n)
		free_on(inst, 1, pfns[--n], 0);
	free(pfns);
}

/*
 * Before v6.10 a drain freed a page to the type it had when it was freed
 * (pcp_mt=cached); since, to its pageblock's type at the drain.  A page
 * freed while its block was movable, drained after the block became
 * unmovable: kernel=6.1 puts it back on a movable list.
 */
static int drained_to(const char *kv)
{
	struct zone *z;
	long pfn;
	unsigned int o;
	int mt = -1;

	inst = make_inst(kv);
	z = zone0(inst);
	pfn = alloc_on(inst, 0, 0, PCPB_MT_MOVABLE);
	free_on(inst, 0, pfn, 0);
	zlock(z);
	set_pageblock_migratetype(z, (unsigned long)pfn, MIGRATE_UNMOVABLE);
	zunlock(z);
	pcpb_drain_all(inst);
	zlock(z);
	for (o = 0; o < NR_PAGE_ORDERS; o++) {
		unsigned long head = (unsigned long)pfn & ~((1UL << o) - 1);
		struct page *page = pfn_to_page(z, head);

		if (page->state == PS_BUDDY && page->order == o) {
			mt = page->mt;
			break;
		}
	}
	zunlock(z);
	teardown();
	return mt;
}

Test(profile, v6_1_drains_to_the_type_cached_at_free)
{
	cr_assert_eq(drained_to("kernel=6.1,memory=16M"), MIGRATE_MOVABLE);
	cr_assert_eq(drained_to("kernel=6.1,pcp_mt=pageblock,memory=16M"),
		     MIGRATE_UNMOVABLE);
}

/* Below pageblock_nr_pages * MIGRATE_TYPES pages (12 MiB) the kernel does
 * not group by mobility: every block and every allocation is unmovable. */
Test(profile, small_instances_do_not_group_by_mobility)
{
	struct pcpb_stats st;
	long pfn;

	inst = make_inst("memory=8M");
	pfn = alloc_on(inst, 0, 0, PCPB_MT_MOVABLE);
	cr_assert_eq(get_pfnblock_migratetype(zone0(inst), (unsigned long)pfn),
		     MIGRATE_UNMOVABLE);
	st = stats_of(inst);
	cr_assert_eq(st.pageblocks_by_mt[PCPB_MT_UNMOVABLE], st.pageblocks);
	free_on(inst, 0, pfn, 0);
	teardown();
	inst = make_inst("memory=12M");
	pfn = alloc_on(inst, 0, 0, PCPB_MT_MOVABLE);
	cr_assert_eq(get_pfnblock_migratetype(zone0(inst), (unsigned long)pfn),
		     MIGRATE_MOVABLE, "12 MiB: grouped");
	free_on(inst, 0, pfn, 0);
}

/* vm.watermark_scale_factor sets the step from min to low to high (at
 * least a quarter of min): 1% of a 1 GiB zone is 2,621 pages. */
Test(profile, watermark_scale_factor_sets_the_step)
{
	struct pcpb_watermarks wm;

	inst = make_inst("memory=1G,thp=never,watermark_scale_factor=100");
	cr_assert_eq(pcpb_node_watermarks(inst, 0, &wm), 0);
	cr_assert_eq(wm.min, 1024);
	cr_assert_eq(wm.low, 1024 + 262144 * 100 / 10000);
	cr_assert_eq(wm.high, 1024 + 2 * (262144 * 100 / 10000));
}
