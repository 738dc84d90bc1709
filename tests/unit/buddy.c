// SPDX-License-Identifier: GPL-2.0-only OR MIT
/*
 * buddy.c - splitting and merging, down to exact free_area contents.
 * Every scenario ends with pcpb_check().
 */
#include "helpers.h"

static struct pcpb *inst;
static struct zone *z;

static void setup(void)
{
	inst = make_inst("pcp=off");
	z = zone0(inst);
}

static void teardown(void)
{
	assert_check(inst);
	pcpb_destroy(inst);
}

TestSuite(buddy, .init = setup, .fini = teardown);

Test(buddy, boot_memory_is_whole_max_order_movable_blocks)
{
	unsigned int o;

	/* 16 MiB = 4096 pages = 4 blocks of order 10, all MOVABLE. */
	cr_assert_eq(z->free_area[MAX_PAGE_ORDER].nr_free, 4);
	cr_assert_eq(free_list_len(z, MAX_PAGE_ORDER, MIGRATE_MOVABLE), 4);
	for (o = 0; o < MAX_PAGE_ORDER; o++)
		cr_assert_eq(z->free_area[o].nr_free, 0, "order %u", o);
	cr_assert_eq(zone_page_state_free(z), 4096);
}

Test(buddy, split_keeps_lowest_and_puts_upper_halves_at_heads)
{
	unsigned long pfn = take(z, 0, MIGRATE_MOVABLE);
	unsigned int o;

	cr_assert_eq(pfn, 0);
	/* Exactly one block per order 0..9, each the upper half 2^o. */
	for (o = 0; o < MAX_PAGE_ORDER; o++) {
		cr_assert_eq(z->free_area[o].nr_free, 1, "order %u", o);
		cr_assert_eq(z->free_area[o].free_list[MIGRATE_MOVABLE].first,
			     1U << o, "order %u", o);
	}
	cr_assert_eq(z->free_area[MAX_PAGE_ORDER].nr_free, 3);
	cr_assert_eq(zone_page_state_free(z), 4095);
	/* The adjacent half is reused next. */
	cr_assert_eq(take(z, 0, MIGRATE_MOVABLE), 1);
	cr_assert_eq(take(z, 1, MIGRATE_MOVABLE), 2);
	give_back(z, 2, 1);
	give_back(z, 1, 0);
	give_back(z, 0, 0);
}

Test(buddy, free_merges_back_to_max_order)
{
	unsigned long a = take(z, 0, MIGRATE_MOVABLE);
	unsigned long b = take(z, 3, MIGRATE_MOVABLE);
	unsigned long c = take(z, 0, MIGRATE_MOVABLE);
	unsigned int o;

	cr_assert_eq(a, 0);
	cr_assert_eq(b, 8);
	cr_assert_eq(c, 1);
	give_back(z, a, 0); /* buddy 1 still held: no merge */
	cr_assert_eq(z->free_area[0].nr_free, 1);
	give_back(z, c,
		  0); /* 0+1 -> 0/1, then 0/1+2/1 -> 0/2, 0/2+4/2 -> 0/3 */
	cr_assert_eq(z->free_area[0].nr_free, 0);
	cr_assert_eq(z->free_area[3].nr_free, 1);
	cr_assert_eq(z->free_area[3].free_list[MIGRATE_MOVABLE].first, 0);
	give_back(z, b, 3);
	for (o = 0; o < MAX_PAGE_ORDER; o++)
		cr_assert_eq(z->free_area[o].nr_free, 0, "order %u", o);
	cr_assert_eq(z->free_area[MAX_PAGE_ORDER].nr_free, 4);
	cr_assert_eq(zone_page_state_free(z), 4096);
	cr_assert(work(inst, PCPB_WORK_merges) >= 10);
}

/*
 * State: 0 and 1024 held as order 0 (split from two order-10 blocks), 1 and
 * 1025 held, 1026/1 held.  Freeing 1 is "merge likely" (its parent's buddy
 * 2/1 is free): tail.  Freeing 1025 is not (1026/1 is held): head.
 */
static void merge_likely_setup(unsigned long held[5])
{
	held[0] = take(z, 0, MIGRATE_MOVABLE);
	cr_assert_eq(held[0], 0);
	zlock(z);
	/* Split the second order-10 block by hand for a twin layout. */
	del_page_from_free_list(z, 1024, MAX_PAGE_ORDER, MIGRATE_MOVABLE);
	account_freepages(z, -1024, MIGRATE_MOVABLE);
	account_freepages(
		z, (long)expand(z, 1024, 0, MAX_PAGE_ORDER, MIGRATE_MOVABLE),
		MIGRATE_MOVABLE);
	prep_new_page(pfn_to_page(z, 1024), 0, MIGRATE_MOVABLE);
	zunlock(z);
	held[1] = 1024;
	held[2] = take(z, 0, MIGRATE_MOVABLE); /* order-0 list head */
	held[3] = take(z, 0, MIGRATE_MOVABLE);
	held[4] = take(z, 1, MIGRATE_MOVABLE);
	cr_assert_eq(held[2], 1025);
	cr_assert_eq(held[3], 1);
	cr_assert_eq(held[4], 1026);
	cr_assert_eq(z->free_area[0].nr_free, 0);
}

static void merge_likely_finish(unsigned long held[5])
{
	struct pfn_list *l = &z->free_area[0].free_list[MIGRATE_MOVABLE];

	cr_assert_eq(l->first, 1025, "not-likely block goes to the head");
	cr_assert_eq(l->last, 1, "merge-likely block goes to the tail");
	give_back(z, held[4], 1);
	give_back(z, held[0], 0);
	give_back(z, held[1], 0);
}

Test(buddy, merge_likely_block_goes_to_tail_freed_first)
{
	unsigned long held[5];

	merge_likely_setup(held);
	give_back(z, 1, 0);
	give_back(z, 1025, 0);
	merge_likely_finish(held);
}

Test(buddy, merge_likely_block_goes_to_tail_freed_last)
{
	unsigned long held[5];

	merge_likely_setup(held);
	give_back(z, 1025, 0);
	give_back(z, 1, 0);
	merge_likely_finish(held);
}

Test(buddy, free_above_pageblock_order_goes_per_pageblock)
{
	unsigned long pfn = take(z, MAX_PAGE_ORDER, MIGRATE_MOVABLE);

	cr_assert_eq(pfn, 0);
	/* The second pageblock is isolated: it must not merge with the first,
	 * and its half lands on the ISOLATE list, uncounted. */
	zlock(z);
	set_pageblock_migratetype(z, 512, MIGRATE_ISOLATE);
	zunlock(z);
	cr_assert_eq(pcpb_free_pages_cpu(inst, 0, pfn, MAX_PAGE_ORDER), 0);
	cr_assert_eq(z->free_area[9].free_list[MIGRATE_MOVABLE].first, 0);
	cr_assert_eq(z->free_area[9].free_list[MIGRATE_ISOLATE].first, 512);
	cr_assert_eq(z->free_area[MAX_PAGE_ORDER].nr_free, 3);
	cr_assert_eq(zone_page_state_free(z), 4096 - 512);

	/* Un-isolate the way the kernel does: move the free pages, relabel,
	 * then the blocks merge on the next free. */
	zlock(z);
	del_page_from_free_list(z, 512, 9, MIGRATE_ISOLATE);
	set_pageblock_migratetype(z, 512, MIGRATE_MOVABLE);
	free_one_page_locked(z, 512, 9, MIGRATE_MOVABLE, FPI_NONE);
	zunlock(z);
	cr_assert_eq(z->free_area[MAX_PAGE_ORDER].nr_free, 4);
}

Test(buddy, whole_blocks_of_mergeable_types_merge_and_relabel)
{
	unsigned long pfn = take(z, MAX_PAGE_ORDER, MIGRATE_MOVABLE);

	zlock(z);
	set_pageblock_migratetype(z, 512, MIGRATE_UNMOVABLE);
	zunlock(z);
	cr_assert_eq(pcpb_free_pages_cpu(inst, 0, pfn, MAX_PAGE_ORDER), 0);
	/* 512/9 (unmovable) merged with 0/9 (movable) and relabelled it. */
	cr_assert_eq(
		z->free_area[MAX_PAGE_ORDER].free_list[MIGRATE_UNMOVABLE].first,
		0);
	cr_assert_eq(get_pfnblock_migratetype(z, 0), MIGRATE_UNMOVABLE);
	cr_assert_eq(get_pfnblock_migratetype(z, 512), MIGRATE_UNMOVABLE);
}

Test(buddy, verify_catches_a_corrupted_count)
{
	char msg[256];

	zlock(z);
	z->free_area[3].nr_free++;
	cr_assert_eq(zone_verify(z, NULL, msg, sizeof(msg)), -EUCLEAN);
	cr_assert(strstr(msg, "I3") != NULL, "%s", msg);
	z->free_area[3].nr_free--;
	cr_assert_eq(zone_verify(z, NULL, msg, sizeof(msg)), 0);
	zunlock(z);
}
