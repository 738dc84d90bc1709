// SPDX-License-Identifier: GPL-2.0-only OR MIT
/*
 * buddy.c - free lists, splitting and merging of the zone buddy.
 *
 * Port of mm/page_alloc.c (2026 tree): __add_to_free_list(),
 * move_to_free_list(), __del_page_from_free_list(), account_freepages(),
 * expand(), __rmqueue_smallest(), buddy_merge_likely(), __free_one_page(),
 * split_large_buddy(), free_one_page().
 *
 * Invariants: I1-I5 of zone.h.  Every function here keeps them across its
 * own critical section.
 *
 * Locking: everything but free_one_page() runs with zone->lock held;
 * free_one_page() takes it (site free_one).
 */
#include "zone.h"

static inline struct free_area *area(struct zone *zone, unsigned int order)
{
	return &zone->free_area[order];
}

void account_freepages(struct zone *zone, long nr_pages, int mt)
{
	lockdep_assert_held(&zone->lock);
	if (mt == MIGRATE_ISOLATE)
		return;
	/* One writer at a time (the lock holder): no atomic add needed. */
	WRITE_ONCE(zone->nr_free_pages, zone->nr_free_pages + nr_pages);
	if (mt == MIGRATE_CMA)
		WRITE_ONCE(zone->nr_free_cma, zone->nr_free_cma + nr_pages);
}

/* Keep each pageblock's count of pages free in the buddy (O3). */
static void account_block_free(struct zone *zone, unsigned long pfn,
			       unsigned int order, int sign)
{
	unsigned long nr = pageblock_nr_pages(zone), b;

	if (order <= zone->pageblock_order) {
		pfn_to_pageblock(zone, pfn)->nr_free_buddy +=
			(uint32_t)(sign * (1L << order));
		return;
	}
	for (b = pfn; b < pfn + (1UL << order); b += nr)
		pfn_to_pageblock(zone, b)->nr_free_buddy +=
			(uint32_t)(sign * (long)nr);
}

void set_pageblock_migratetype(struct zone *zone, unsigned long pfn, int mt)
{
	lockdep_assert_held(&zone->lock);
	/* Without grouping by mobility every PCP type is unmovable. */
	if (zone->mobility_disabled && mt < MIGRATE_PCPTYPES)
		mt = MIGRATE_UNMOVABLE;
	WRITE_ONCE(pfn_to_pageblock(zone, pfn)->migratetype, (uint8_t)mt);
}

static void add_to_free_list(struct zone *zone, unsigned long pfn,
			     unsigned int order, int mt, bool tail)
{
	struct page *page = pfn_to_page(zone, pfn);
	struct pfn_list *list = &area(zone, order)->free_list[mt];

	VM_BUG_ON(pfn & ((1UL << order) - 1));
	VM_BUG_ON(order < zone->pageblock_order &&
		  zone->fallback != PCPB_FALLBACK_LEGACY &&
		  get_pfnblock_migratetype(zone, pfn) != mt);
	WRITE_ONCE(page->order, (uint8_t)order);
	WRITE_ONCE(page->mt, (uint8_t)mt); /* the list it is on */
	WRITE_ONCE(page->state, PS_BUDDY);
	if (tail)
		pfn_list_add_tail_stride(zone->memmap, sizeof(struct page),
					 list, (uint32_t)pfn);
	else
		pfn_list_add_head_stride(zone->memmap, sizeof(struct page),
					 list, (uint32_t)pfn);
	WRITE_ONCE(area(zone, order)->nr_free, area(zone, order)->nr_free + 1);
	account_block_free(zone, pfn, order, 1);
	zone_stat_inc(zone, freelist_ops);
}

/*
 * @mt is the block's type; the page is unlinked from the list it is really
 * on, which differs only under fallback=legacy (pre-hygiene steals moved
 * free pages without relabelling their block).
 */
void del_page_from_free_list(struct zone *zone, unsigned long pfn,
			     unsigned int order, int mt)
{
	struct page *page = pfn_to_page(zone, pfn);

	VM_BUG_ON(READ_ONCE(page->state) != PS_BUDDY || page->order != order);
	VM_BUG_ON(zone->fallback != PCPB_FALLBACK_LEGACY && page->mt != mt);
	pfn_list_del_stride(zone->memmap, sizeof(struct page),
			    &area(zone, order)->free_list[page->mt],
			    (uint32_t)pfn);
	WRITE_ONCE(page->state, PS_TAIL);
	WRITE_ONCE(area(zone, order)->nr_free, area(zone, order)->nr_free - 1);
	account_block_free(zone, pfn, order, -1);
	zone_stat_inc(zone, freelist_ops);
}

/* A moved page goes to the tail of its new list; free pages re-account. */
void move_to_free_list(struct zone *zone, unsigned long pfn, unsigned int order,
		       int old_mt, int new_mt)
{
	struct free_area *fa = area(zone, order);
	struct page *page = pfn_to_page(zone, pfn);

	old_mt = page->mt;
	pfn_list_del_stride(zone->memmap, sizeof(struct page),
			    &fa->free_list[old_mt], (uint32_t)pfn);
	pfn_list_add_tail_stride(zone->memmap, sizeof(struct page),
				 &fa->free_list[new_mt], (uint32_t)pfn);
	WRITE_ONCE(page->mt, (uint8_t)new_mt);
	zone_stat_inc(zone, freelist_ops);
	account_freepages(zone, -(1L << order), old_mt);
	account_freepages(zone, 1L << order, new_mt);
}

/*
 * Split a 2^@high block at @pfn down to 2^@low: the caller keeps the lowest
 * pages, and each upper half goes to the head of its list, so the next
 * request of that order takes the physically adjacent half.
 * Return: the pages put back on the free lists.
 */
unsigned long expand(struct zone *zone, unsigned long pfn, unsigned int low,
		     unsigned int high, int mt)
{
	unsigned long size = 1UL << high, added = 0;

	while (high > low) {
		high--;
		size >>= 1;
		add_to_free_list(zone, pfn + size, high, mt, false);
		added += size;
		zone_stat_inc(zone, splits);
	}
	return added;
}

/* Take the first block of type @mt at @order or above. Return: pfn. */
unsigned long rmqueue_smallest_locked(struct zone *zone, unsigned int order,
				      int mt)
{
	unsigned int o;

	lockdep_assert_held(&zone->lock);
	for (o = order; o < NR_PAGE_ORDERS; o++) {
		struct pfn_list *list = &area(zone, o)->free_list[mt];
		unsigned long pfn, added;

		if (pfn_list_empty(list))
			continue;
		pfn = list->first;
		del_page_from_free_list(zone, pfn, o, mt);
		added = expand(zone, pfn, order, o, mt);
		account_freepages(zone, -(long)((1UL << o) - added), mt);
		zone_stat_add(zone, pages_moved_zone, 1UL << order);
		return pfn;
	}
	return PFN_NONE;
}

static inline bool page_is_buddy(struct zone *zone, unsigned long pfn,
				 unsigned int order)
{
	struct page *page;

	if (!zone_spans_pfn(zone, pfn))
		return false;
	page = pfn_to_page(zone, pfn);
	return READ_ONCE(page->state) == PS_BUDDY &&
	       READ_ONCE(page->order) == order;
}

/*
 * If our buddy comes back we merge into a block whose own buddy is already
 * free: park this block at the tail so it is less likely to be split first.
 */
static bool buddy_merge_likely(struct zone *zone, unsigned long pfn,
			       unsigned long buddy_pfn, unsigned int order)
{
	unsigned long higher_pfn;

	if (order >= MAX_PAGE_ORDER - 1)
		return false;
	higher_pfn = pfn & buddy_pfn;
	return page_is_buddy(zone, find_buddy_pfn(higher_pfn, order + 1),
			     order + 1);
}

/*
 * __free_one_page(): put a 2^@order block of type @mt back, merging with free
 * buddies as far as types allow.  The block's pages were counted out when it
 * was allocated, so they are counted in once here.
 */
void free_one_page_locked(struct zone *zone, unsigned long pfn,
			  unsigned int order, int mt, enum fpi_flags fpi)
{
	unsigned long buddy_pfn = 0;
	bool to_tail = fpi & FPI_TO_TAIL;

	lockdep_assert_held(&zone->lock);
	VM_BUG_ON(pfn & ((1UL << order) - 1));
	VM_BUG_ON(!zone_spans_pfn(zone, pfn));
	account_freepages(zone, 1L << order, mt);
	zone_stat_add(zone, pages_moved_zone, 1UL << order);

	while (order < MAX_PAGE_ORDER) {
		int buddy_mt = mt;

		buddy_pfn = find_buddy_pfn(pfn, order);
		if (!page_is_buddy(zone, buddy_pfn, order))
			break;
		if (order >= zone->pageblock_order) {
			/* Whole blocks of unmergeable types stay apart. */
			buddy_mt = get_pfnblock_migratetype(zone, buddy_pfn);
			if (buddy_mt != mt && (!is_migrate_mergeable(mt) ||
					       !is_migrate_mergeable(buddy_mt)))
				break;
		}
		del_page_from_free_list(zone, buddy_pfn, order, buddy_mt);
		if (buddy_mt != mt) {
			/* Relabel so that later splits land on mt's lists. */
			unsigned long b;

			account_freepages(zone, -(1L << order), buddy_mt);
			account_freepages(zone, 1L << order, mt);
			for (b = buddy_pfn; b < buddy_pfn + (1UL << order);
			     b += pageblock_nr_pages(zone))
				set_pageblock_migratetype(zone, b, mt);
		}
		WRITE_ONCE(pfn_to_page(zone, pfn)->state, PS_TAIL);
		zone_stat_inc(zone, merges);
		pfn &= buddy_pfn;
		order++;
	}
	if (!to_tail && order < MAX_PAGE_ORDER)
		to_tail = buddy_merge_likely(zone, pfn, buddy_pfn, order);
	add_to_free_list(zone, pfn, order, mt, to_tail);
	if (zone->owns_blocks)
		owned_note_free_locked(zone, pfn, order);
}

/* Frees above pageblock_order go one pageblock at a time, each to its type. */
void split_large_buddy_locked(struct zone *zone, unsigned long pfn,
			      unsigned int order)
{
	unsigned long end = pfn + (1UL << order);

	if (order > zone->pageblock_order)
		order = zone->pageblock_order;
	for (; pfn < end; pfn += 1UL << order)
		free_one_page_locked(zone, pfn, order,
				     get_pfnblock_migratetype(zone, pfn),
				     FPI_NONE);
}

/*
 * free_one_page(): a free that bypasses the PCP (too high an order, PCP
 * trylock failed, or an isolated block).  The migratetype is read under
 * zone->lock, which is what keeps I2 true against concurrent conversions.
 */
void free_one_page(struct zone *zone, unsigned long pfn, unsigned int order)
{
	zone_lock(zone, PCPB_SITE_free_one);
	zone->stats.ops[PCPB_OP_free]++;
	split_large_buddy_locked(zone, pfn, order);
	zone_unlock(zone);
}
