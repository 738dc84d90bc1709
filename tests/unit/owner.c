// SPDX-License-Identifier: GPL-2.0-only OR MIT
/*
 * owner.c - the pcp buddy policy: routing to the owner under each
 * remote_free mode, the merge pass and disowning, Phase 0 recovery and its
 * bounds, each refill phase on a zone built to force it, CMA, per-type
 * owned lists, and the RFC's motivating cross-CPU pattern.
 */
#include "helpers.h"

static struct pcpb *inst;

static void teardown(void)
{
	assert_check(inst);
	pcpb_destroy(inst);
}

/* Scenarios that compare instances check and replace the current one. */
static void next_inst(const char *kv)
{
	if (inst) {
		assert_check(inst);
		pcpb_destroy(inst);
	}
	inst = make_inst(kv);
}

TestSuite(owner, .fini = teardown);

static struct page *page_of(long pfn)
{
	return &inst->memmap[pfn];
}

static void remote_free_reaches_owner(const char *mode, int stat)
{
	char kv[128];
	long pfn;

	/* high above a block, so the claimed block stays on the PCP. */
	snprintf(kv, sizeof(kv),
		 "policy=owner,memory=64M,high_min=2048,high_max=2048,"
		 "remote_free=%s",
		 mode);
	inst = make_inst(kv);
	pfn = alloc_on(inst, 0, 0, PCPB_MT_MOVABLE);
	cr_assert_eq(pageblock_owner(zone0(inst), (unsigned long)pfn), 0,
		     "Phase 1 made CPU 0 the owner");
	free_on(inst, 1, pfn, 0);
	if (stat == PCPB_OWN_remote_free_llist) {
		struct pcpb_check_result res;

		cr_assert_eq(page_of(pfn)->state, PS_LLIST);
		cr_assert_eq(pcpb_check(inst, &res), 0, "%s", res.msg);
		cr_assert_eq(res.pages_in_flight, 1);
		/* The owner splices on its next PCP operation. */
		free_on(inst, 0, alloc_on(inst, 0, 0, PCPB_MT_MOVABLE), 0);
	}
	cr_assert_eq(page_of(pfn)->state, PS_PCP_BUDDY);
	cr_assert_eq(page_of(pfn)->private, 0, "on CPU 0's PCP, not CPU 1's");
	cr_assert_eq(stats_of(inst).owner[stat], 1);
	cr_assert_eq(inst_pcp(inst, 1, 0)->count, 0);
}

Test(owner, remote_free_lock_reaches_the_owner)
{
	remote_free_reaches_owner("lock", PCPB_OWN_remote_free_lock);
	cr_assert_eq(stats_of(inst)
			     .pcp_lock.sites[PCPB_SITE_remote_free]
			     .acquisitions,
		     1);
}

Test(owner, remote_free_trylock_reaches_the_owner)
{
	remote_free_reaches_owner("trylock", PCPB_OWN_remote_free_trylock);
}

Test(owner, remote_free_llist_reaches_the_owner_on_its_next_operation)
{
	remote_free_reaches_owner("llist", PCPB_OWN_remote_free_llist);
	cr_assert_eq(stats_of(inst)
			     .pcp_lock.sites[PCPB_SITE_remote_free]
			     .acquisitions,
		     0, "the freeing CPU took no lock");
}

Test(owner, failed_remote_trylock_frees_to_the_zone_and_lists_the_block)
{
	struct pcpb_stats st;
	long pfn;

	inst = make_inst("policy=owner,memory=64M,remote_free=trylock,"
			 "high_min=2048,high_max=2048");
	pfn = alloc_on(inst, 0, 0, PCPB_MT_MOVABLE);
	spin_lock_quiet(&inst_pcp(inst, 0, 0)->lock);
	free_on(inst, 1, pfn, 0);
	spin_unlock_quiet(&inst_pcp(inst, 0, 0)->lock);
	st = stats_of(inst);
	cr_assert_eq(st.owner[PCPB_OWN_remote_free_fallback], 1);
	cr_assert_eq(page_of(pfn)->state, PS_BUDDY);
	cr_assert_eq(st.owned_blocks_listed, 1, "fragment remembered (O2)");
}

Test(owner, zone_owned_pages_stay_local_and_inert)
{
	long pfn;

	inst = make_inst("policy=owner,memory=64M");
	/* An order-10 block is taken straight from the zone: not owned. */
	pfn = alloc_on(inst, 0, 10, PCPB_MT_MOVABLE);
	cr_assert_lt(pageblock_owner(zone0(inst), (unsigned long)pfn), 0);
	free_on(inst, 1, pfn, 10);
	cr_assert_eq(stats_of(inst).owner[PCPB_OWN_remote_free_lock], 0);
	pfn = alloc_on(inst, 1, 3, PCPB_MT_UNMOVABLE);
	free_on(inst, 0, pfn, 3);
}

static void merge_pass_rebuilds_the_block(const char *kv)
{
	struct pcpb_stats st;
	long pfns[512];
	int i, o;

	inst = make_inst(kv);
	for (i = 0; i < 512; i++)
		pfns[i] = alloc_on(inst, 0, 0, PCPB_MT_MOVABLE);
	st = stats_of(inst);
	cr_assert_eq(st.owner[PCPB_OWN_blocks_claimed], 1,
		     "one block serves 512");
	cr_assert_eq(st.pcp[PCPB_PCP_local_splits] > 0, true);
	for (i = 0; i < 512; i++)
		free_on(inst, i & 1, pfns[i], 0); /* half of them remotely */
	cr_assert_eq(inst_pcp(inst, 0, 0)->count, 512, "all back on the owner");
	pcpb_drain_all(inst);
	st = stats_of(inst);
	for (o = 1; o <= 9; o++)
		cr_assert_eq(st.pcp_merges_by_order[o], 512UL >> o,
			     "merges into order %d", o);
	cr_assert_eq(st.owner[PCPB_OWN_pcp_merges], 511);
	cr_assert_eq(st.owner[PCPB_OWN_blocks_disowned], 1);
	cr_assert_eq(st.owned_pageblocks, 0);
	cr_assert_eq(zone_page_state_free(zone0(inst)), pcpb_nr_pages(inst));
}

Test(owner, merge_pass_rebuilds_the_block_and_disowns_it)
{
	merge_pass_rebuilds_the_block(
		"policy=owner,memory=64M,high_min=4096,high_max=4096");
}

/* drain_new visits only the new pages, and makes the very same merges. */
Test(owner, merge_pass_over_new_pages_makes_the_same_merges)
{
	merge_pass_rebuilds_the_block(
		"policy=owner,memory=64M,high_min=4096,high_max=4096,"
		"owner_merge=drain_new");
}

/*
 * Merges across passes: even pages wait on the PCP through one merge pass
 * (a partial drain of one page), then their odd buddies arrive.  The pass
 * over new pages must find what the full pass finds: identical merges.
 */
static void merges_across_passes(const char *kv, uint64_t *merges)
{
	struct per_cpu_pages *pcp;
	long pfns[512];
	int i;

	inst = make_inst(kv);
	pcp = inst_pcp(inst, 0, 0);
	for (i = 0; i < 512; i++)
		pfns[i] = alloc_on(inst, 0, 0, PCPB_MT_MOVABLE);
	for (i = 0; i < 512; i += 2)
		free_on(inst, 0, pfns[i], 0);
	spin_lock_quiet(&pcp->lock);
	zone0(inst)->pcp_policy->drain(zone0(inst), 1, pcp,
				       0); /* a pass, 1 page out */
	spin_unlock_quiet(&pcp->lock);
	cr_assert_eq(stats_of(inst).owner[PCPB_OWN_pcp_merges], 0,
		     "no buddies yet");
	for (i = 1; i < 512; i += 2)
		free_on(inst, 0, pfns[i], 0);
	spin_lock_quiet(&pcp->lock);
	zone0(inst)->pcp_policy->drain(zone0(inst), 1, pcp, 0);
	spin_unlock_quiet(&pcp->lock);
	memcpy(merges, stats_of(inst).pcp_merges_by_order,
	       sizeof(stats_of(inst).pcp_merges_by_order));
	cr_assert_gt(merges[1], 200, "odd pages merged with older even ones");
}

Test(owner, merge_pass_over_new_pages_merges_with_older_pages)
{
	uint64_t full[PCPB_NR_PAGE_ORDERS], fresh[PCPB_NR_PAGE_ORDERS];
	int o;

	merges_across_passes("policy=owner,memory=64M,high_min=4096,"
			     "high_max=4096,owner_merge=drain",
			     full);
	assert_check(inst);
	pcpb_destroy(inst);
	merges_across_passes("policy=owner,memory=64M,high_min=4096,"
			     "high_max=4096,owner_merge=drain_new",
			     fresh);
	for (o = 0; o < PCPB_NR_PAGE_ORDERS; o++)
		cr_assert_eq(fresh[o], full[o], "merges into order %d", o);
}

/*
 * owner_merge=free: the same merges happen as each page lands, so the PCP
 * holds the whole block before any drain, and the drain (which no longer
 * walks the low orders) only hands it over.
 */
Test(owner, merge_on_free_rebuilds_the_block_before_the_drain)
{
	struct pcpb_stats st;
	long pfns[512];
	int i, o;

	inst = make_inst("policy=owner,memory=64M,high_min=4096,high_max=4096,"
			 "owner_merge=free,remote_free=llist");
	for (i = 0; i < 512; i++)
		pfns[i] = alloc_on(inst, 0, 0, PCPB_MT_MOVABLE);
	for (i = 0; i < 511; i++)
		free_on(inst, i & 1, pfns[i],
			0); /* half remotely, via the llist */
	/* The owner's own last free splices the llist and merges it all. */
	free_on(inst, 0, pfns[511], 0);
	st = stats_of(inst);
	for (o = 1; o <= 9; o++)
		cr_assert_eq(st.pcp_merges_by_order[o], 512UL >> o,
			     "merges into order %d before any drain", o);
	cr_assert_eq(page_of(pfns[0] & ~511L)->state, PS_PCP_BUDDY);
	cr_assert_eq(page_of(pfns[0] & ~511L)->order, 9, "one order-9 block");
	cr_assert_eq(inst_pcp(inst, 0, 0)->count, 512);
	pcpb_drain_all(inst);
	st = stats_of(inst);
	cr_assert_eq(st.owner[PCPB_OWN_pcp_merges], 511, "no merge twice");
	cr_assert_eq(st.owner[PCPB_OWN_blocks_disowned], 1);
	cr_assert_eq(zone_page_state_free(zone0(inst)), pcpb_nr_pages(inst));
}

/*
 * CPU 0 owns a block whose odd pages stay allocated; its 256 even pages
 * went back to the zone buddy as single-page fragments.
 */
static long held[512];

static unsigned long fragmented_owned_block(const char *bound)
{
	char kv[160];
	unsigned long block;
	int i;

	snprintf(kv, sizeof(kv),
		 "policy=owner,memory=64M,batch=4,high_min=2048,high_max=2048,"
		 "phase0_bound=%s",
		 bound);
	inst = make_inst(kv);
	for (i = 0; i < 512; i++)
		held[i] = alloc_on(inst, 0, 0, PCPB_MT_MOVABLE);
	block = pageblock_start_pfn(zone0(inst), (unsigned long)held[0]);
	for (i = 0; i < 512; i++) {
		cr_assert_eq(pageblock_start_pfn(zone0(inst),
						 (unsigned long)held[i]),
			     block);
		if (held[i] % 2 == 0) {
			free_on(inst, 0, held[i], 0);
			held[i] = -1;
		}
	}
	pcpb_drain_all(inst);
	cr_assert_eq(stats_of(inst).owned_blocks_listed, 1);
	cr_assert_eq(pfn_to_pageblock(zone0(inst), block)->nr_free_buddy, 256);
	pcpb_stats_reset(inst);
	return block;
}

static void release_held(void)
{
	int i;

	for (i = 0; i < 512; i++)
		if (held[i] >= 0)
			free_on(inst, 1, held[i], 0);
}

Test(owner, phase0_recovers_the_fragments_of_a_partial_block)
{
	unsigned long block = fragmented_owned_block("none");
	long pfn = alloc_on(inst, 0, 0, PCPB_MT_MOVABLE);
	struct pcpb_stats st = stats_of(inst);

	cr_assert_eq(pageblock_start_pfn(zone0(inst), (unsigned long)pfn),
		     block, "packed next to the long-lived pages");
	cr_assert_eq(st.owner[PCPB_OWN_pages_recovered], 256);
	cr_assert_eq(st.owner[PCPB_OWN_blocks_recovered], 1);
	cr_assert_eq(st.owner[PCPB_OWN_phase0_scan_steps], 512,
		     "unbounded: the whole block is walked");
	cr_assert_eq(st.owner[PCPB_OWN_blocks_claimed], 0);
	cr_assert_eq(st.owner[PCPB_OWN_refills_phase0], 1);
	cr_assert_eq(st.owned_blocks_listed, 0);
	free_on(inst, 0, pfn, 0);
	release_held();
}

Test(owner, phase0_free_counter_stops_at_the_last_fragment)
{
	fragmented_owned_block("free_counter");
	free_on(inst, 0, alloc_on(inst, 0, 0, PCPB_MT_MOVABLE), 0);
	cr_assert_eq(stats_of(inst).owner[PCPB_OWN_pages_recovered], 256);
	cr_assert_eq(stats_of(inst).owner[PCPB_OWN_phase0_scan_steps], 511);
	release_held();
}

Test(owner, phase0_scan_limit_caps_the_walk_and_blocks_new_claims)
{
	struct pcpb_stats st;

	fragmented_owned_block("scan_limit:2");
	free_on(inst, 0, alloc_on(inst, 0, 0, PCPB_MT_MOVABLE), 0);
	st = stats_of(inst);
	/* batch 4 with alloc_factor 0 at first: 2 x 4 pages = 8 steps. */
	cr_assert_leq(st.owner[PCPB_OWN_phase0_scan_max], 2 * 8);
	cr_assert_lt(st.owner[PCPB_OWN_pages_recovered], 256);
	cr_assert_eq(st.owned_blocks_listed, 1,
		     "not fully walked: still listed");
	cr_assert_eq(st.owner[PCPB_OWN_blocks_claimed], 0,
		     "no new block while a partial one is unrecovered");
	release_held();
}

Test(owner, phase0_cycle_lock_drops_zone_lock_between_blocks)
{
	long pfns[1024];
	int i;

	inst = make_inst("policy=owner,memory=64M,batch=300,high_min=4096,"
			 "high_max=4096,phase0_bound=cycle_lock");
	for (i = 0; i < 1024; i++)
		pfns[i] = alloc_on(inst, 0, 0, PCPB_MT_MOVABLE);
	for (i = 0; i < 1024; i++)
		if (pfns[i] % 2 == 0)
			free_on(inst, 0, pfns[i], 0);
	pcpb_drain_all(inst);
	cr_assert_geq(stats_of(inst).owned_blocks_listed, 2);
	pcpb_stats_reset(inst);
	/* 300 pages wanted: the first block yields 256, then the next. */
	free_on(inst, 0, alloc_on(inst, 0, 0, PCPB_MT_MOVABLE), 0);
	cr_assert_eq(stats_of(inst).owner[PCPB_OWN_blocks_recovered], 2);
	cr_assert_eq(
		stats_of(inst).zone_lock.sites[PCPB_SITE_phase0].acquisitions,
		2, "one zone->lock hold per block");
	for (i = 0; i < 1024; i++)
		if (pfns[i] % 2)
			free_on(inst, 1, pfns[i], 0);
}

Test(owner, every_phase_is_reached_on_a_zone_built_for_it)
{
	struct zone *z;
	long a, b, c;
	unsigned long broken;

	inst = make_inst("policy=owner,memory=4M,grouping=on");
	z = zone0(inst);
	a = alloc_on(inst, 1, 0,
		     PCPB_MT_MOVABLE); /* Phase 1: a whole free block */
	cr_assert_eq(stats_of(inst).owner[PCPB_OWN_refills_phase1], 1);
	broken = take(z, 8, MIGRATE_MOVABLE); /* no whole block is left */
	cr_assert_neq(broken, PFN_NONE);
	b = alloc_on(inst, 0, 0, PCPB_MT_MOVABLE); /* Phase 2: movable chunks */
	cr_assert_eq(stats_of(inst).owner[PCPB_OWN_refills_phase2], 1);
	cr_assert_eq(stats_of(inst).owner[PCPB_OWN_refills_phase1], 1);
	c = alloc_on(inst, 0, 0,
		     PCPB_MT_UNMOVABLE); /* Phase 3: needs a fallback */
	cr_assert_eq(stats_of(inst).owner[PCPB_OWN_refills_phase3], 1);
	cr_assert_gt(stats_of(inst).work[PCPB_WORK_fallback_searches], 0);
	free_on(inst, 0, c, 0);
	free_on(inst, 0, b, 0);
	free_on(inst, 1, a, 0);
	give_back(z, broken, 8);
}

Test(owner, chunky_takes_phase2_chunks_without_ownership)
{
	struct pcpb_stats st;
	long pfns[200];
	int i;

	inst = make_inst("policy=chunky,memory=64M");
	for (i = 0; i < 200; i++)
		pfns[i] = alloc_on(inst, 0, 0, PCPB_MT_MOVABLE);
	st = stats_of(inst);
	cr_assert_geq(st.owner[PCPB_OWN_refills_phase3], 1, "the first split");
	cr_assert_gt(st.owner[PCPB_OWN_pages_phase2],
		     st.owner[PCPB_OWN_pages_phase3], "then mostly chunks");
	cr_assert_eq(st.owner[PCPB_OWN_blocks_claimed], 0);
	cr_assert_eq(st.owned_pageblocks, 0);
	for (i = 0; i < 200; i++)
		free_on(inst, 1, pfns[i], 0);
}

Test(owner, cma_is_used_by_the_classic_balance_before_phase1)
{
	struct pcpb_stats st;
	long pfns[2000];
	int i;

	inst = make_inst("policy=owner,memory=64M,cma_bytes=32M");
	for (i = 0; i < 2000; i++)
		pfns[i] = alloc_on(inst, 0, 0, PCPB_MT_MOVABLE);
	st = stats_of(inst);
	cr_assert_gt(st.owner[PCPB_OWN_cma_allocs], 0);
	cr_assert_lt(st.free_cma_pages, 8192);
	cr_assert_eq(st.pageblocks_by_mt[MIGRATE_CMA], 16,
		     "CMA never converts");
	for (i = 0; i < 2000; i++)
		free_on(inst, 1, pfns[i], 0);
	/* Unmovable requests never get CMA pages. */
	for (i = 0; i < 300; i++) {
		pfns[i] = alloc_on(inst, 1, 0, PCPB_MT_UNMOVABLE);
		cr_assert_neq(get_pfnblock_migratetype(zone0(inst),
						       (unsigned long)pfns[i]),
			      MIGRATE_CMA);
	}
	for (i = 0; i < 300; i++)
		free_on(inst, 1, pfns[i], 0);
}

static uint64_t skips_with(const char *lists)
{
	char kv[160];
	long mov[512], unm[512];
	uint64_t skips;
	int i;

	snprintf(kv, sizeof(kv),
		 "policy=owner,memory=64M,high_min=4096,high_max=4096,"
		 "owned_lists=%s",
		 lists);
	next_inst(kv);
	/* One unmovable and one movable block, each half held. */
	for (i = 0; i < 512; i++) {
		unm[i] = alloc_on(inst, 0, 0, PCPB_MT_UNMOVABLE);
		mov[i] = alloc_on(inst, 0, 0, PCPB_MT_MOVABLE);
	}
	for (i = 0; i < 512; i += 2) {
		free_on(inst, 0, unm[i], 0);
		free_on(inst, 0, mov[i], 0);
	}
	pcpb_drain_all(inst);
	cr_assert_eq(stats_of(inst).owned_blocks_listed, 2);
	pcpb_stats_reset(inst);
	free_on(inst, 0, alloc_on(inst, 0, 0, PCPB_MT_MOVABLE), 0);
	skips = stats_of(inst).owner[PCPB_OWN_phase0_skips];
	for (i = 1; i < 512; i += 2) {
		free_on(inst, 0, unm[i], 0);
		free_on(inst, 0, mov[i], 0);
	}
	return skips;
}

Test(owner, per_migratetype_lists_remove_the_skip_walk)
{
	/* The unmovable block was listed first: a single list walks past it. */
	cr_assert_eq(skips_with("single"), 1);
	cr_assert_eq(skips_with("per_migratetype"), 0);
}

/*
 * The RFC's first motivating pattern: pages allocated on one CPU and freed
 * on another.  Direction-only: owner takes markedly fewer zone->lock
 * acquisitions per page (here: at least 4x fewer).
 */
static uint64_t zone_locks_cross_cpu(const char *policy)
{
	char kv[128];
	long pfns[1000];
	int r, i;

	snprintf(kv, sizeof(kv), "%s,memory=256M", policy);
	next_inst(kv);
	for (r = 0; r < 20; r++) {
		for (i = 0; i < 1000; i++)
			pfns[i] = alloc_on(inst, 0, 0, PCPB_MT_MOVABLE);
		for (i = 0; i < 1000; i++)
			free_on(inst, 1, pfns[i], 0);
	}
	return stats_of(inst).zone_lock.all.acquisitions;
}

Test(owner, cross_cpu_frees_take_far_fewer_zone_locks_than_classic)
{
	uint64_t classic = zone_locks_cross_cpu("policy=classic");
	uint64_t owner = zone_locks_cross_cpu("policy=owner");
	uint64_t llist = zone_locks_cross_cpu("policy=owner,remote_free=llist");

	cr_assert_gt(classic, 4 * owner, "classic %llu owner %llu",
		     (unsigned long long)classic, (unsigned long long)owner);
	cr_assert_gt(classic, 4 * llist, "classic %llu llist %llu",
		     (unsigned long long)classic, (unsigned long long)llist);
}

/*
 * Pages pushed with remote_free=llist count against high when they land:
 * the holder that splices them applies the high check and drains, as a
 * free on that CPU would.
 */
Test(owner, spliced_llist_frees_respect_high)
{
	struct per_cpu_pages *pcp;
	long pfns[2049];
	int i;

	inst = make_inst("policy=owner,memory=64M,remote_free=llist,"
			 "high_min=256,high_max=256");
	pcp = inst_pcp(inst, 0, 0);
	for (i = 0; i < 2049; i++)
		pfns[i] = alloc_on(inst, 0, 0, PCPB_MT_MOVABLE);
	for (i = 0; i < 2048; i++)
		free_on(inst, 1, pfns[i], 0);
	cr_assert_eq(stats_of(inst).owner[PCPB_OWN_remote_free_llist], 0,
		     "all in flight");
	/* The owner's own free splices them (no refill follows). */
	free_on(inst, 0, pfns[2048], 0);
	cr_assert_eq(stats_of(inst).owner[PCPB_OWN_remote_free_llist], 2048);
	cr_assert_leq(pcp->count, pcp->high, "count %d above high %d",
		      pcp->count, pcp->high);
}

/*
 * A drain asked for @count pages releases whole merged blocks only while
 * pages are still owed; the blocks it does not need stay on the PCP.
 */
Test(owner, drain_frees_no_more_whole_blocks_than_asked)
{
	struct per_cpu_pages *pcp;
	long pfns[1024];
	int i, before;

	inst = make_inst("policy=owner,memory=64M,high_min=4096,"
			 "high_max=4096");
	pcp = inst_pcp(inst, 0, 0);
	for (i = 0; i < 1024; i++)
		pfns[i] = alloc_on(inst, 0, 0, PCPB_MT_MOVABLE);
	for (i = 0; i < 1024; i++)
		free_on(inst, 0, pfns[i], 0);
	cr_assert_geq(stats_of(inst).owned_pageblocks, 2);
	before = pcp->count;
	spin_lock_quiet(&pcp->lock);
	zone0(inst)->pcp_policy->drain(zone0(inst), 63, pcp, 0);
	spin_unlock_quiet(&pcp->lock);
	cr_assert_eq(before - pcp->count, 512,
		     "asked for 63, freed %d (one whole block is enough)",
		     before - pcp->count);
	cr_assert_geq(stats_of(inst).owned_pageblocks, 1,
		      "the other stays owned");
}
