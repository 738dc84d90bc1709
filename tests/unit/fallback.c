// SPDX-License-Identifier: GPL-2.0-only OR MIT
/*
 * fallback.c - claim against steal on constructed zones, and what each
 * fallback mode (hygiene, smallest, cached) does with the same state.
 */
#include "helpers.h"

static struct pcpb *inst;
static struct zone *z;

static void teardown(void)
{
	assert_check(inst);
	pcpb_destroy(inst);
}

/* 4 MiB: one order-10 block, two pageblocks, everything MOVABLE. */
static void setup_small(const char *mode)
{
	char kv[128];

	/* Grouping by mobility on: the kernel turns it off below 12 MiB. */
	snprintf(kv, sizeof(kv), "pcp=off,memory=4M,grouping=on,fallback=%s",
		 mode);
	inst = make_inst(kv);
	z = zone0(inst);
}

static unsigned long fallback_alloc(unsigned int order, int mt)
{
	enum rmqueue_mode mode = RMQUEUE_NORMAL;
	unsigned long pfn;

	zlock(z);
	pfn = rmqueue_locked(z, order, mt, &mode, 0);
	if (pfn != PFN_NONE)
		prep_new_page(pfn_to_page(z, pfn), order, mt);
	zunlock(z);
	return pfn;
}

static void cached(void)
{
	setup_small("cached");
}

TestSuite(claim, .init = cached, .fini = teardown);

Test(claim, whole_free_block_is_claimed_outright)
{
	unsigned long pfn = fallback_alloc(0, MIGRATE_UNMOVABLE);

	cr_assert_eq(pfn, 0);
	cr_assert_eq(get_pfnblock_migratetype(z, 0), MIGRATE_UNMOVABLE);
	cr_assert_eq(get_pfnblock_migratetype(z, 512), MIGRATE_UNMOVABLE);
	cr_assert_eq(work(inst, PCPB_WORK_claim_success), 1);
	cr_assert_eq(work(inst, PCPB_WORK_steals), 0);
	/* Remainders now sit on UNMOVABLE lists. */
	cr_assert_eq(free_list_len(z, 9, MIGRATE_UNMOVABLE), 1);
	give_back(z, pfn, 0);
}

Test(claim, half_free_block_is_claimed)
{
	unsigned long a = take(z, 9, MIGRATE_MOVABLE); /* 0..511 */
	unsigned long b = take(z, 8, MIGRATE_MOVABLE); /* 512..767 */
	unsigned long pfn = fallback_alloc(0, MIGRATE_UNMOVABLE);
	struct pcpb_stats st;

	/* Block 1: 256 free + 256 movable in use; alike for an unmovable
	 * request counts 0, free 256 >= 512/2: claim. */
	cr_assert_eq(pfn, 768);
	cr_assert_eq(get_pfnblock_migratetype(z, 512), MIGRATE_UNMOVABLE);
	cr_assert_eq(get_pfnblock_migratetype(z, 0), MIGRATE_MOVABLE);
	pcpb_stats_read(inst, &st);
	cr_assert_eq(st.convert[MIGRATE_UNMOVABLE][MIGRATE_MOVABLE], 1);
	cr_assert_eq(st.work[PCPB_WORK_steals], 0);
	cr_assert_eq(st.work[PCPB_WORK_pfn_scan_steps] > 0, true);
	give_back(z, pfn, 0);
	give_back(z, b, 8);
	give_back(z, a, 9);
}

/*
 * The claim's scans (prep_move_freepages_block() counting, then
 * move_freepages()) step over a free buddy by its order but over pages in
 * use one pfn at a time: 256 in use and one free order-8 buddy are 257
 * steps each.
 */
Test(claim, claim_scans_step_each_page_in_use)
{
	unsigned long a = take(z, 9, MIGRATE_MOVABLE);
	unsigned long b = take(z, 8, MIGRATE_MOVABLE);
	uint64_t before = work(inst, PCPB_WORK_pfn_scan_steps);
	unsigned long pfn = fallback_alloc(0, MIGRATE_UNMOVABLE);

	cr_assert_eq(work(inst, PCPB_WORK_claim_success), 1);
	cr_assert_eq(work(inst, PCPB_WORK_pfn_scan_steps) - before, 2 * 257,
		     "%llu steps",
		     (unsigned long long)(work(inst, PCPB_WORK_pfn_scan_steps) -
					  before));
	give_back(z, pfn, 0);
	give_back(z, b, 8);
	give_back(z, a, 9);
}

Test(claim, mostly_used_block_is_stolen_from_not_claimed)
{
	unsigned long a = take(z, 9, MIGRATE_MOVABLE);
	unsigned long b = take(z, 8, MIGRATE_MOVABLE);
	unsigned long c = take(z, 7, MIGRATE_MOVABLE); /* 768..895 */
	unsigned long pfn = fallback_alloc(0, MIGRATE_UNMOVABLE);
	struct pcpb_stats st;

	/* 128 free < 256: the claim fails, the block keeps its type and one
	 * page is stolen from the smallest foreign buddy. */
	cr_assert_eq(pfn, 896);
	cr_assert_eq(get_pfnblock_migratetype(z, 512), MIGRATE_MOVABLE);
	pcpb_stats_read(inst, &st);
	cr_assert_eq(st.work[PCPB_WORK_claims], 1);
	cr_assert_eq(st.work[PCPB_WORK_claim_success], 0);
	cr_assert_eq(st.work[PCPB_WORK_steals], 1);
	cr_assert_eq(st.pollute[MIGRATE_UNMOVABLE][MIGRATE_MOVABLE], 1);
	give_back(z, pfn, 0);
	give_back(z, c, 7);
	give_back(z, b, 8);
	give_back(z, a, 9);
}

Test(claim, small_movable_requests_steal_instead_of_claiming)
{
	/* Claim both blocks for UNMOVABLE, then use block 1 down to 1016/3. */
	unsigned long pfn = fallback_alloc(9, MIGRATE_UNMOVABLE), held[6], got;
	unsigned int o;

	cr_assert_eq(pfn, 0);
	for (o = 8; o >= 3; o--)
		held[8 - o] = take(z, o, MIGRATE_UNMOVABLE);
	cr_assert_eq(held[5], 1008);
	/* Only 1016/3 is free: below pageblock_order / 2, a MOVABLE request
	 * may not claim; it steals one page and the block stays UNMOVABLE. */
	got = fallback_alloc(0, MIGRATE_MOVABLE);
	cr_assert_eq(got, 1016);
	cr_assert_eq(get_pfnblock_migratetype(z, 512), MIGRATE_UNMOVABLE);
	cr_assert_eq(work(inst, PCPB_WORK_claims), 1, "only the first claim");
	cr_assert_eq(work(inst, PCPB_WORK_steals), 1);
	give_back(z, got, 0);
	for (o = 3; o <= 8; o++)
		give_back(z, held[8 - o], o);
	give_back(z, pfn, 9);
}

/*
 * Block 1 holds movable 512/8 and 768/7 and 896/0, so its free buddies are
 * 897/0 ... 960/6 (127 pages): a claim fails.  hygiene takes the request
 * from the buddy it found top-down (960/6); smallest and cached steal from
 * the smallest (897/0).
 */
static unsigned long fragmented_block1(unsigned long held[4])
{
	held[0] = take(z, 9, MIGRATE_MOVABLE);
	held[1] = take(z, 8, MIGRATE_MOVABLE);
	held[2] = take(z, 7, MIGRATE_MOVABLE);
	held[3] = take(z, 0, MIGRATE_MOVABLE);
	cr_assert_eq(held[3], 896);
	return fallback_alloc(0, MIGRATE_UNMOVABLE);
}

static void release(unsigned long pfn, unsigned long held[4])
{
	give_back(z, pfn, 0);
	give_back(z, held[3], 0);
	give_back(z, held[2], 7);
	give_back(z, held[1], 8);
	give_back(z, held[0], 9);
}

Test(modes, hygiene_takes_the_request_from_the_buddy_it_found, .fini = teardown)
{
	unsigned long held[4], pfn;

	setup_small("hygiene");
	pfn = fragmented_block1(held);
	cr_assert_eq(pfn, 960);
	cr_assert_eq(free_list_len(z, 5, MIGRATE_MOVABLE), 2,
		     "960/6 was split");
	release(pfn, held);
}

Test(modes, legacy_moves_the_free_pages_without_relabelling, .fini = teardown)
{
	unsigned long held[4], pfn;
	unsigned int o;

	setup_small("legacy");
	pfn = fragmented_block1(held);
	/* Every free buddy of block 1 moved to UNMOVABLE lists, the block
	 * stayed MOVABLE, and the request came from the smallest of them. */
	cr_assert_eq(pfn, 897);
	cr_assert_eq(get_pfnblock_migratetype(z, 512), MIGRATE_MOVABLE);
	for (o = 1; o <= 6; o++) {
		cr_assert_eq(free_list_len(z, o, MIGRATE_UNMOVABLE), 1,
			     "order %u", o);
		cr_assert_eq(free_list_len(z, o, MIGRATE_MOVABLE), 0,
			     "order %u", o);
	}
	cr_assert_eq(work(inst, PCPB_WORK_pages_moved_block), 127);
	release(pfn, held);
}

Test(modes, smallest_steals_the_smallest_buddy, .fini = teardown)
{
	unsigned long held[4], pfn;

	setup_small("smallest");
	pfn = fragmented_block1(held);
	cr_assert_eq(pfn, 897);
	cr_assert_eq(free_list_len(z, 6, MIGRATE_MOVABLE), 1, "960/6 intact");
	release(pfn, held);
}

Test(modes, cached_steals_the_smallest_buddy, .fini = teardown)
{
	unsigned long held[4], pfn;

	setup_small("cached");
	pfn = fragmented_block1(held);
	cr_assert_eq(pfn, 897);
	release(pfn, held);
}

/*
 * A zone where every pageblock is 3/4 used by movable pages and the free
 * quarter is scattered single pages: unmovable refills must fall back, and
 * every claim fails.  Return: the pages held.
 */
static unsigned long fragment_zone(unsigned long *held)
{
	unsigned long n = 0, pfn;

	while ((pfn = take(z, 0, MIGRATE_MOVABLE)) != PFN_NONE)
		held[n++] = pfn;
	for (pfn = 0; pfn < n; pfn++)
		if (held[pfn] % 4 == 0) {
			give_back(z, held[pfn], 0);
			held[pfn] = PFN_NONE;
		}
	return n;
}

static void refill_unmovable(uint64_t *searches, uint64_t *claims,
			     uint64_t *steals, int count)
{
	struct pfn_list list;
	uint32_t pfn, next;
	int got;

	pcpb_stats_reset(inst);
	pfn_list_init(&list);
	got = rmqueue_bulk(z, 0, count, &list, 0, 0, MIGRATE_UNMOVABLE,
			   PCPB_SITE_refill, 0);
	cr_assert_eq(got, count);
	*searches = work(inst, PCPB_WORK_fallback_searches);
	*claims = work(inst, PCPB_WORK_claims);
	*steals = work(inst, PCPB_WORK_steals);
	zlock(z);
	for (pfn = list.first; pfn != PFN_NIL; pfn = next) {
		next = z->memmap[pfn].lru.next;
		free_one_page_locked(
			z, pfn, 0, get_pfnblock_migratetype(z, pfn), FPI_NONE);
	}
	zunlock(z);
}

static void fragmented_refill(const char *mode, uint64_t out[3])
{
	static unsigned long held[4096];
	unsigned long n, i;

	setup_small(mode);
	n = fragment_zone(held);
	refill_unmovable(&out[0], &out[1], &out[2], 31);
	for (i = 0; i < n; i++)
		if (held[i] != PFN_NONE)
			give_back(z, held[i], 0);
	assert_check(inst);
	pcpb_destroy(inst);
}

Test(modes, cached_searches_far_less_than_smallest_on_the_same_refill)
{
	uint64_t smallest[3], cachedm[3], hygiene[3];

	fragmented_refill("smallest", smallest);
	fragmented_refill("cached", cachedm);
	fragmented_refill("hygiene", hygiene);
	/* All 31 pages are steals in every mode. */
	cr_assert_eq(smallest[2], 31);
	cr_assert_eq(cachedm[2], 31);
	cr_assert_eq(hygiene[2], 31);
	/* smallest retries the failing claim for every page; cached once. */
	cr_assert_eq(smallest[1], 31);
	cr_assert_eq(cachedm[1], 1);
	cr_assert(cachedm[0] * 5 < smallest[0],
		  "searches: cached %llu smallest %llu",
		  (unsigned long long)cachedm[0],
		  (unsigned long long)smallest[0]);
}

/*
 * ALLOC_NOFRAGMENT (the first pass from a ZONE_NORMAL): a fallback may only
 * take whole pageblocks.  With block 0 in use and block 1 half used, an
 * unmovable request finds nothing that large: every mode refuses, where
 * without the flag it claims the half-free block (or steals, legacy).
 */
static unsigned long alloc_flags_on_half_used(const char *mode,
					      unsigned int alloc_flags)
{
	enum rmqueue_mode m = RMQUEUE_NORMAL;
	unsigned long a, b, pfn;

	setup_small(mode);
	a = take(z, 9, MIGRATE_MOVABLE);
	b = take(z, 8, MIGRATE_MOVABLE);
	zlock(z);
	pfn = rmqueue_locked(z, 0, MIGRATE_UNMOVABLE, &m, alloc_flags);
	if (pfn != PFN_NONE)
		prep_new_page(pfn_to_page(z, pfn), 0, MIGRATE_UNMOVABLE);
	zunlock(z);
	if (pfn != PFN_NONE)
		give_back(z, pfn, 0);
	give_back(z, b, 8);
	give_back(z, a, 9);
	teardown();
	return pfn;
}

Test(modes, nofragment_refuses_to_fall_back_below_a_pageblock)
{
	static const char *const modes[] = { "legacy", "hygiene", "smallest",
					     "cached" };
	int i;

	for (i = 0; i < 4; i++) {
		cr_assert_eq(
			alloc_flags_on_half_used(modes[i], ALLOC_NOFRAGMENT),
			PFN_NONE, "%s took a fragment", modes[i]);
		cr_assert_neq(alloc_flags_on_half_used(modes[i], 0), PFN_NONE,
			      "%s found nothing without the flag", modes[i]);
	}
}

/* A whole free pageblock of another type is still claimed under it. */
Test(modes, nofragment_claims_a_whole_free_block, .fini = teardown)
{
	enum rmqueue_mode m = RMQUEUE_NORMAL;
	unsigned long a, pfn;

	setup_small("cached");
	a = take(z, 9, MIGRATE_MOVABLE); /* block 0; block 1 stays free */
	zlock(z);
	pfn = rmqueue_locked(z, 0, MIGRATE_UNMOVABLE, &m, ALLOC_NOFRAGMENT);
	prep_new_page(pfn_to_page(z, pfn), 0, MIGRATE_UNMOVABLE);
	zunlock(z);
	cr_assert_geq(pfn, 512);
	cr_assert_eq(get_pfnblock_migratetype(z, 512), MIGRATE_UNMOVABLE);
	give_back(z, pfn, 0);
	give_back(z, a, 9);
}

/* The allocator's second pass drops the flag: the request is served. */
Test(modes, nofragment_first_pass_then_fragmenting_pass, .fini = teardown)
{
	unsigned long a, b;
	long pfn;

	setup_small("cached");
	a = take(z, 9, MIGRATE_MOVABLE);
	b = take(z, 8, MIGRATE_MOVABLE);
	cr_assert(z->nofragment, "zone=normal is the default");
	pfn = pcpb_alloc_pages_cpu(inst, 0, 0, PCPB_MT_UNMOVABLE, 0);
	cr_assert_geq(pfn, 512, "served from block 1 by the second pass");
	cr_assert_eq(pcpb_free_pages_cpu(inst, 0, (unsigned long)pfn, 0), 0);
	give_back(z, b, 8);
	give_back(z, a, 9);
}
