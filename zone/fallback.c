// SPDX-License-Identifier: GPL-2.0-only OR MIT
/*
 * fallback.c - migratetype fallback (claim and steal), the three points of
 * its 2024-2025 history as runtime modes, and the rmqueue entry points that
 * take zone->lock.
 *
 * Port of mm/page_alloc.c: find_suitable_fallback(), try_to_claim_block(),
 * __rmqueue_claim(), __rmqueue_steal(), __rmqueue() with enum rmqueue_mode
 * (90abee6d7895 "speed up fallbacks in rmqueue_bulk()"), rmqueue_bulk(),
 * rmqueue_buddy(); and the v6.10 __rmqueue_fallback() of c0cd6f557b90 for
 * PCPB_FALLBACK_HYGIENE.
 *
 * The modes:
 *   legacy   (before v6.10): a fallback moves every free page of the block it
 *            found to the requested type's lists, relabelling the block only
 *            when at least half of it is free or alike; the pages stay on
 *            foreign lists otherwise (no freelist hygiene).
 *   hygiene  (c0cd6f557b90): search top-down for a fallback; try to claim the
 *            block; when that fails take exactly the request from the buddy
 *            found, however large (small MOVABLE requests search bottom-up).
 *   smallest (c2f6ea38fc1b): claim top-down, else steal the smallest foreign
 *            buddy bottom-up; every page of a bulk refill restarts at NORMAL.
 *   cached   (90abee6d7895): as smallest, but one rmqueue_bulk() remembers
 *            the step that last worked, since the lists cannot change while
 *            it holds zone->lock: a claim that failed stays failed.
 *
 * Invariants: I1-I5 of zone.h.  A block changes type as a transaction:
 * decide, move every free page of the block, then relabel (c0cd6f557b90).
 *
 * Locking: rmqueue_bulk() and rmqueue_buddy() take zone->lock (sites refill
 * and alloc); everything else runs under it.  The block scan of a claim
 * reads in-use pages it does not own with READ_ONCE, as the kernel does.
 *
 * Watermark boost (boost_watermark(), 1c30844d2dfe "mm: reclaim small
 * amounts of memory when an external fragmentation event occurs", v5.0): a
 * fallback that breaks into a foreign pageblock below pageblock_order
 * raises every watermark by a pageblock, up to watermark_boost_factor of
 * the high one, and flags the zone for a kswapd wake.  Before the
 * claim/steal split (legacy, hygiene) every such fallback boosts, claim or
 * steal (steal_suitable_fallback()); from c2f6ea38fc1b on (smallest,
 * cached) only a claim attempt does (try_to_claim_block()).
 *
 * Simplifications (docs/design.md): no highatomic reserve; every
 * allocation may wake kswapd (ALLOC_KSWAPD).
 */
#include "zone.h"

static const int fallbacks[MIGRATE_PCPTYPES][MIGRATE_PCPTYPES - 1] = {
	[MIGRATE_UNMOVABLE] = { MIGRATE_RECLAIMABLE, MIGRATE_MOVABLE },
	[MIGRATE_MOVABLE] = { MIGRATE_RECLAIMABLE, MIGRATE_UNMOVABLE },
	[MIGRATE_RECLAIMABLE] = { MIGRATE_UNMOVABLE, MIGRATE_MOVABLE },
};

static bool should_try_claim_block(const struct zone *zone, unsigned int order,
				   int start_mt)
{
	if (order >= zone->pageblock_order)
		return true;
	/* Large chunks of a foreign block: it is probably mostly free. */
	if (order >= zone->pageblock_order / 2)
		return true;
	/* Unmovable/reclaimable allocations would pollute a movable block
	 * for good; better to take the block over.  Small movable requests
	 * steal instead: they can be migrated away later. */
	return start_mt == MIGRATE_RECLAIMABLE || start_mt == MIGRATE_UNMOVABLE;
}

/*
 * Return: the first fallback type with a free block at @order, -1 when there
 * is none, or -2 when @claimable and @order is too small to claim at.
 */
int find_suitable_fallback(struct zone *zone, unsigned int order,
			   int migratetype, bool claimable)
{
	struct free_area *area = &zone->free_area[order];
	unsigned int i;

	zone_stat_inc(zone, fallback_searches);
	if (claimable && !should_try_claim_block(zone, order, migratetype))
		return -2;
	if (!area->nr_free)
		return -1;
	for (i = 0; i < MIGRATE_PCPTYPES - 1; i++) {
		int mt = fallbacks[migratetype][i];

		if (!pfn_list_empty(&area->free_list[mt]))
			return mt;
	}
	return -1;
}

/* Move every free block of the pageblock at @start to @new_mt's lists. */
static void move_freepages_block(struct zone *zone, unsigned long start,
				 int old_mt, int new_mt)
{
	unsigned long pfn = start, end = start + pageblock_nr_pages(zone);

	while (pfn < end) {
		struct page *page = pfn_to_page(zone, pfn);
		unsigned int order = READ_ONCE(page->order);

		if (READ_ONCE(page->state) == PS_BUDDY) {
			zone_stat_inc(zone, pfn_scan_steps);
			move_to_free_list(zone, pfn, order, old_mt, new_mt);
			zone_stat_add(zone, pages_moved_block, 1UL << order);
			pfn += 1UL << order;
		} else if (READ_ONCE(page->state) != PS_TAIL) {
			/* The kernel steps a block in use a pfn at a time:
			 * count its steps, skip them in one. */
			zone_stat_add(zone, pfn_scan_steps, 1UL << order);
			pfn += 1UL << order;
		} else {
			zone_stat_inc(zone, pfn_scan_steps);
			pfn++;
		}
	}
}

/*
 * Count a pageblock's free pages and its in-use pages "alike" the request.
 * In-use pages are other threads' business: read them with READ_ONCE.
 */
static void count_block_pages(struct zone *zone, unsigned long start,
			      unsigned long *free_pages,
			      unsigned long *movable_pages)
{
	unsigned long pfn = start, end = start + pageblock_nr_pages(zone);

	*free_pages = *movable_pages = 0;
	while (pfn < end) {
		struct page *page = pfn_to_page(zone, pfn);
		uint8_t state = READ_ONCE(page->state);
		unsigned long nr = 1UL << READ_ONCE(page->order);

		if (state == PS_TAIL) {
			zone_stat_inc(zone, pfn_scan_steps);
			pfn++;
			continue;
		}
		/* A free buddy is one step; a block in use is one step a
		 * page, as the kernel's PageLRU test walks it. */
		zone_stat_add(zone, pfn_scan_steps, state == PS_BUDDY ? 1 : nr);
		if (state == PS_BUDDY)
			*free_pages += nr;
		else if (state == PS_ALLOC &&
			 READ_ONCE(page->mt) == MIGRATE_MOVABLE)
			*movable_pages += nr; /* the kernel's PageLRU test */
		pfn += nr;
	}
}

/*
 * boost_watermark(): not in zones under four pageblocks (a boost there can
 * exhaust them), nor before the high watermark is set.  Context: zone->lock.
 */
static void boost_watermark(struct zone *zone)
{
	unsigned long max_boost, boost;

	if (!zone->boost_factor ||
	    pageblock_nr_pages(zone) * 4 > zone->managed_pages)
		return;
	max_boost = (unsigned long)((uint64_t)zone->_watermark[WMARK_HIGH] *
				    (uint64_t)zone->boost_factor / 10000);
	if (!max_boost)
		return;
	max_boost = max(pageblock_nr_pages(zone), max_boost);
	boost = min(zone->watermark_boost + pageblock_nr_pages(zone),
		    max_boost);
	WRITE_ONCE(zone->watermark_boost, boost);
	zone_stat_inc(zone, boosts);
	__atomic_fetch_or(&zone->flags, ZONE_BOOSTED_WATERMARK,
			  __ATOMIC_RELAXED);
}

/* balance_pgdat()'s end: take back the boost kswapd found when it began. */
void zone_boost_take_back(struct zone *zone, unsigned long boost)
{
	if (!boost)
		return;
	zone_lock(zone, PCPB_SITE_kswapd);
	WRITE_ONCE(zone->watermark_boost,
		   zone->watermark_boost - min(zone->watermark_boost, boost));
	zone_stat_inc(zone, boost_resets);
	zone_unlock(zone);
}

/*
 * rmqueue()'s end: the allocation after a boost clears the flag and wakes
 * kswapd.  The model's own kswapd has no page cache to reclaim, so it takes
 * the boost back at once; an attached one (pcpb_kswapd_attach()) is left a
 * wake to find.  Context: no lock held.
 */
void zone_boost_wake(struct zone *zone)
{
	unsigned int old = __atomic_fetch_and(
		&zone->flags, ~(unsigned int)ZONE_BOOSTED_WATERMARK,
		__ATOMIC_RELAXED);

	if (!(old & ZONE_BOOSTED_WATERMARK))
		return;
	if (READ_ONCE(zone->kswapd_attached))
		__atomic_fetch_or(&zone->flags, ZONE_KSWAPD_WAKE,
				  __ATOMIC_RELEASE);
	else
		zone_boost_take_back(zone, READ_ONCE(zone->watermark_boost));
}

/*
 * try_to_claim_block(): convert the block holding the free block at @pfn
 * (order @cand, type @block_mt) to @start_mt and allocate from it.
 * Return: the allocated pfn, or PFN_NONE with nothing changed.
 */
static unsigned long try_to_claim_block(struct zone *zone, unsigned long pfn,
					unsigned int cand, unsigned int order,
					int start_mt, int block_mt)
{
	unsigned long nr = pageblock_nr_pages(zone), start, free_pages, movable,
		      alike, added, b;

	if (cand >= zone->pageblock_order) {
		/* One or more whole free blocks: take them over outright. */
		zone_stat_inc(zone, claims);
		del_page_from_free_list(zone, pfn, cand, block_mt);
		account_freepages(zone, -(1L << cand), block_mt);
		for (b = pfn; b < pfn + (1UL << cand); b += nr)
			set_pageblock_migratetype(zone, b, start_mt);
		added = expand(zone, pfn, order, cand, start_mt);
		account_freepages(zone, (long)added, start_mt);
		zone_stat_add(zone, pages_moved_zone, 1UL << order);
		zone_stat_inc(zone, claim_success);
		return pfn;
	}

	boost_watermark(zone);
	start = pageblock_start_pfn(zone, pfn);
	if (start < zone->zone_start_pfn || start + nr > zone_end_pfn(zone))
		return PFN_NONE;
	/* The owner's PCPBuddy pages sit on lists of the block's type:
	 * an owned block is never converted (no scan, not an attempt). */
	if (pfn_to_pageblock(zone, start)->owner != PB_OWNER_NONE)
		return PFN_NONE;
	zone_stat_inc(zone, claims);
	count_block_pages(zone, start, &free_pages, &movable);
	if (start_mt == MIGRATE_MOVABLE)
		alike = movable;
	else if (block_mt == MIGRATE_MOVABLE)
		alike = nr - (free_pages + movable);
	else
		alike = 0; /* unmovable <-> reclaimable: cannot tell */
	if (free_pages + alike < nr / 2)
		return PFN_NONE;

	move_freepages_block(zone, start, block_mt, start_mt);
	set_pageblock_migratetype(zone, start, start_mt);
	zone->stats.convert[start_mt][block_mt]++;
	zone_stat_inc(zone, claim_success);
	return rmqueue_smallest_locked(zone, order, start_mt);
}

/* Take exactly 2^@order from the foreign block at @pfn; it keeps its type. */
static unsigned long steal_from(struct zone *zone, unsigned long pfn,
				unsigned int cand, unsigned int order,
				int start_mt, int block_mt)
{
	unsigned long added;

	del_page_from_free_list(zone, pfn, cand, block_mt);
	added = expand(zone, pfn, order, cand, block_mt);
	account_freepages(zone, -(long)((1UL << cand) - added), block_mt);
	zone_stat_add(zone, pages_moved_zone, 1UL << order);
	zone_stat_inc(zone, steals);
	zone->stats.pollute[start_mt][block_mt]++;
	return pfn;
}

/* __rmqueue_claim(): top-down, so the emptiest-looking block goes first;
 * no lower than @min_order (pageblock_order under ALLOC_NOFRAGMENT). */
static unsigned long rmqueue_claim(struct zone *zone, unsigned int order,
				   int start_mt, unsigned int min_order)
{
	uint64_t t0 = lock_section_begin(&zone->lock);
	unsigned long page = PFN_NONE;
	int cand;

	for (cand = MAX_PAGE_ORDER; cand >= (int)min_order; cand--) {
		int mt = find_suitable_fallback(zone, (unsigned int)cand,
						start_mt, true);

		if (mt == -1)
			continue;
		if (mt == -2)
			break;
		page = try_to_claim_block(
			zone, zone->free_area[cand].free_list[mt].first,
			(unsigned int)cand, order, start_mt, mt);
		if (page != PFN_NONE)
			break;
	}
	lock_section_end(&zone->lock, PCPB_SITE_claim, t0);
	return page;
}

/* __rmqueue_steal(): bottom-up, to break up as little as possible. */
static unsigned long rmqueue_steal(struct zone *zone, unsigned int order,
				   int start_mt)
{
	uint64_t t0 = lock_section_begin(&zone->lock);
	unsigned long page = PFN_NONE;
	unsigned int cand;

	for (cand = order; cand < NR_PAGE_ORDERS; cand++) {
		int mt = find_suitable_fallback(zone, cand, start_mt, false);

		if (mt == -1)
			continue;
		page = steal_from(zone,
				  zone->free_area[cand].free_list[mt].first,
				  cand, order, start_mt, mt);
		break;
	}
	lock_section_end(&zone->lock, PCPB_SITE_steal, t0);
	return page;
}

/*
 * The pre-c2f6ea38fc1b search (legacy and hygiene): top-down for the largest
 * foreign buddy, except that small movable requests, which may not claim,
 * take the smallest instead.  Return: its type, or -1 with none anywhere.
 */
static int fallback_search_old(struct zone *zone, unsigned int order,
			       unsigned int min_order, int start_mt, int *candp,
			       bool *can_claim)
{
	int cand, mt;

	for (cand = MAX_PAGE_ORDER; cand >= (int)min_order; cand--) {
		mt = find_suitable_fallback(zone, (unsigned int)cand, start_mt,
					    false);
		if (mt == -1)
			continue;
		*can_claim = should_try_claim_block(zone, (unsigned int)cand,
						    start_mt);
		if (!*can_claim && start_mt == MIGRATE_MOVABLE &&
		    cand > (int)order) {
			for (cand = (int)order; cand <= MAX_PAGE_ORDER;
			     cand++) {
				mt = find_suitable_fallback(zone,
							    (unsigned int)cand,
							    start_mt, false);
				if (mt != -1)
					break;
			}
			*can_claim = should_try_claim_block(
				zone, (unsigned int)cand, start_mt);
		}
		*candp = cand;
		return mt;
	}
	return -1;
}

/* The v6.10 __rmqueue_fallback() + steal_suitable_fallback() pair. */
static unsigned long rmqueue_fallback_hygiene(struct zone *zone,
					      unsigned int order,
					      unsigned int min_order,
					      int start_mt)
{
	uint64_t t0 = lock_section_begin(&zone->lock);
	unsigned long page = PFN_NONE;
	int cand, mt = -1;
	bool can_claim = false;

	mt = fallback_search_old(zone, order, min_order, start_mt, &cand,
				 &can_claim);
	if (mt < 0)
		goto out;

	if (can_claim) {
		page = try_to_claim_block(
			zone, zone->free_area[cand].free_list[mt].first,
			(unsigned int)cand, order, start_mt, mt);
		if (page != PFN_NONE) {
			lock_section_end(&zone->lock, PCPB_SITE_claim, t0);
			return page;
		}
	}
	/* The claim failed: take exactly the request from that buddy.
	 * steal_suitable_fallback() boosted before it looked at the block. */
	if (!can_claim && cand < (int)zone->pageblock_order)
		boost_watermark(zone);
	page = steal_from(zone, zone->free_area[cand].free_list[mt].first,
			  (unsigned int)cand, order, start_mt, mt);
out:
	lock_section_end(&zone->lock,
			 can_claim ? PCPB_SITE_claim : PCPB_SITE_steal, t0);
	return page;
}

/*
 * The pre-v6.10 __rmqueue_fallback() + steal_suitable_fallback(): the free
 * pages found move to @start_mt's lists whether or not the block changes
 * type (the hygiene series' subject).  The caller then takes the request
 * from @start_mt's lists.  Return: whether anything moved.
 */
static bool rmqueue_fallback_legacy(struct zone *zone, unsigned int order,
				    unsigned int min_order, int start_mt)
{
	uint64_t t0 = lock_section_begin(&zone->lock);
	unsigned long pfn, start, free_pages, movable, alike, b,
		nr = pageblock_nr_pages(zone);
	int cand, mt = -1;
	bool can_claim = false;

	mt = fallback_search_old(zone, order, min_order, start_mt, &cand,
				 &can_claim);
	if (mt < 0) {
		lock_section_end(&zone->lock, PCPB_SITE_steal, t0);
		return false;
	}
	pfn = zone->free_area[cand].free_list[mt].first;
	if (cand >= (int)zone->pageblock_order) {
		/* Whole blocks change type with their pages. */
		for (b = pfn; b < pfn + (1UL << cand); b += nr)
			set_pageblock_migratetype(zone, b, start_mt);
		move_to_free_list(zone, pfn, (unsigned int)cand, mt, start_mt);
		zone_stat_inc(zone, claims);
		zone_stat_inc(zone, claim_success);
		lock_section_end(&zone->lock, PCPB_SITE_claim, t0);
		return true;
	}
	boost_watermark(zone);
	if (!can_claim) {
		move_to_free_list(zone, pfn, (unsigned int)cand, mt, start_mt);
		zone_stat_inc(zone, steals);
		zone->stats.pollute[start_mt][mt]++;
		lock_section_end(&zone->lock, PCPB_SITE_steal, t0);
		return true;
	}
	zone_stat_inc(zone, claims);
	start = pageblock_start_pfn(zone, pfn);
	count_block_pages(zone, start, &free_pages, &movable);
	/* Greedy: every free page of the block moves, relabel or not. */
	move_freepages_block(zone, start, mt, start_mt);
	if (start_mt == MIGRATE_MOVABLE)
		alike = movable;
	else if (mt == MIGRATE_MOVABLE)
		alike = nr - (free_pages + movable);
	else
		alike = 0;
	if (free_pages + alike >= nr / 2) {
		set_pageblock_migratetype(zone, start, start_mt);
		zone->stats.convert[start_mt][mt]++;
		zone_stat_inc(zone, claim_success);
	} else {
		zone_stat_inc(zone, steals);
		zone->stats.pollute[start_mt][mt]++;
	}
	lock_section_end(&zone->lock, PCPB_SITE_claim, t0);
	return true;
}

/*
 * __rmqueue(): one block of 2^@order for @mt.  @mode carries the step that
 * worked last within one rmqueue_bulk(); single allocations pass NORMAL.
 */
/* Movable allocations may use CMA pageblocks (ALLOC_CMA). */
static unsigned long rmqueue_cma(struct zone *zone, unsigned int order, int mt)
{
	unsigned long page;

	if (mt != MIGRATE_MOVABLE || !READ_ONCE(zone->nr_free_cma))
		return PFN_NONE;
	page = rmqueue_smallest_locked(zone, order, MIGRATE_CMA);
	if (page != PFN_NONE)
		zone_owner_add(zone, cma_allocs, 1);
	return page;
}

/* Balance: use CMA first while it holds more than half the free memory. */
bool cma_over_half(struct zone *zone, int mt)
{
	return mt == MIGRATE_MOVABLE &&
	       READ_ONCE(zone->nr_free_cma) >
		       READ_ONCE(zone->nr_free_pages) / 2;
}

unsigned long rmqueue_locked(struct zone *zone, unsigned int order, int mt,
			     enum rmqueue_mode *mode, unsigned int alloc_flags)
{
	bool nofragment = alloc_flags & ALLOC_NOFRAGMENT;
	/* Under ALLOC_NOFRAGMENT a fallback takes whole pageblocks only. */
	unsigned int min_order = nofragment && order < zone->pageblock_order
					 ? zone->pageblock_order
					 : order;
	unsigned long page;

	lockdep_assert_held(&zone->lock);
	zone_stat_inc(zone, rmqueue_calls);
	if (cma_over_half(zone, mt)) {
		page = rmqueue_cma(zone, order, mt);
		if (page != PFN_NONE)
			return page;
	}
	if (zone->fallback == PCPB_FALLBACK_LEGACY) {
		page = rmqueue_smallest_locked(zone, order, mt);
		if (page == PFN_NONE)
			page = rmqueue_cma(zone, order, mt);
		if (page == PFN_NONE &&
		    rmqueue_fallback_legacy(zone, order, min_order, mt))
			page = rmqueue_smallest_locked(zone, order, mt);
		return page;
	}
	if (zone->fallback == PCPB_FALLBACK_HYGIENE) {
		page = rmqueue_smallest_locked(zone, order, mt);
		if (page == PFN_NONE)
			page = rmqueue_cma(zone, order, mt);
		if (page == PFN_NONE)
			page = rmqueue_fallback_hygiene(zone, order, min_order,
							mt);
		return page;
	}

	switch (*mode) {
	case RMQUEUE_NORMAL:
		page = rmqueue_smallest_locked(zone, order, mt);
		if (page != PFN_NONE)
			return page;
		/* fallthrough */
	case RMQUEUE_CMA:
		page = rmqueue_cma(zone, order, mt);
		if (page != PFN_NONE) {
			*mode = RMQUEUE_CMA;
			return page;
		}
		/* fallthrough */
	case RMQUEUE_CLAIM:
		page = rmqueue_claim(zone, order, mt, min_order);
		if (page != PFN_NONE) {
			/* The claim refilled mt's lists: back to NORMAL. */
			*mode = RMQUEUE_NORMAL;
			return page;
		}
		/* fallthrough */
	case RMQUEUE_STEAL:
		if (nofragment)
			break;
		page = rmqueue_steal(zone, order, mt);
		if (page != PFN_NONE) {
			*mode = RMQUEUE_STEAL;
			return page;
		}
	}
	return PFN_NONE;
}

/* Work under zone->lock that costs time: list ops, searches, pfn steps. */
static uint64_t refill_cost(const struct zone *zone)
{
	return zone->stats.work[PCPB_WORK_freelist_ops] +
	       zone->stats.work[PCPB_WORK_fallback_searches] +
	       zone->stats.work[PCPB_WORK_pfn_scan_steps];
}

/*
 * rmqueue_bulk(): move up to @count blocks of 2^@order onto the PCP list
 * @list (index @pindex of CPU @cpu), in ascending pfn order for split
 * blocks.  Context: caller holds that pcp->lock; takes zone->lock.
 * Return: the number of blocks moved.
 */
int rmqueue_bulk(struct zone *zone, unsigned int order, int count,
		 struct pfn_list *list, unsigned int pindex, int cpu, int mt,
		 enum pcpb_lock_site site, unsigned int alloc_flags)
{
	enum rmqueue_mode mode = RMQUEUE_NORMAL;
	uint64_t cost0, cost;
	int i;

	zone_lock(zone, site);
	cost0 = refill_cost(zone);
	for (i = 0; i < count; i++) {
		unsigned long pfn;
		struct page *page;

		if (zone->fallback != PCPB_FALLBACK_CACHED)
			mode = RMQUEUE_NORMAL;
		pfn = rmqueue_locked(zone, order, mt, &mode, alloc_flags);
		if (pfn == PFN_NONE)
			break;
		page = pfn_to_page(zone, pfn);
		page->pindex = (uint8_t)pindex;
		page->private = (uint32_t)cpu;
		WRITE_ONCE(page->order, (uint8_t)order);
		WRITE_ONCE(page->state, PS_PCP);
		pfn_list_add_tail_stride(zone->memmap, sizeof(struct page),
					 list, (uint32_t)pfn);
	}
	/* The modelled hold of this refill, deterministic unlike its ns. */
	cost = refill_cost(zone) - cost0;
	if (cost > zone->stats.work[PCPB_WORK_refill_cost_max])
		zone->stats.work[PCPB_WORK_refill_cost_max] = cost;
	if (PCPB_DEBUG_EXPENSIVE)
		VM_BUG_ON(zone_verify(zone, NULL, NULL, 0));
	zone_unlock(zone);
	return i;
}

/* rmqueue_buddy(): one allocation straight from the zone. */
unsigned long rmqueue_buddy(struct zone *zone, unsigned int order, int mt,
			    unsigned int alloc_flags)
{
	enum rmqueue_mode mode = RMQUEUE_NORMAL;
	unsigned long pfn;

	zone_lock(zone, PCPB_SITE_alloc);
	pfn = rmqueue_locked(zone, order, mt, &mode, alloc_flags);
	if (pfn != PFN_NONE) {
		prep_new_page(pfn_to_page(zone, pfn), order, mt);
		zone->stats.ops[PCPB_OP_alloc]++;
		zone->stats.ops[PCPB_OP_alloc_pages] += 1UL << order;
	}
	zone_unlock(zone);
	return pfn;
}
