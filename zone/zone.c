// SPDX-License-Identifier: GPL-2.0-only OR MIT
/*
 * zone.c - zone setup, watermarks and zone_verify().
 *
 * Port of mm/page_alloc.c and mm/mm_init.c: memmap_init() (every pageblock
 * starts MOVABLE), the boot-time release of memory into the buddy in
 * MAX_PAGE_ORDER chunks, calculate_min_free_kbytes(),
 * __setup_per_zone_wmarks() and __zone_watermark_ok().
 *
 * Invariants: zone_verify() proves I1-I5 of zone.h.
 *
 * Locking: zone_init() runs single-threaded; zone_watermark_ok() reads
 * atomics without zone->lock; zone_verify() runs under zone->lock.
 */
#include "zone.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int zone_init(struct zone *zone, struct page *memmap,
	      const struct zone_params *p)
{
	unsigned long nr_blocks, i, pfn;
	int err;

	memset(zone, 0, sizeof(*zone));
	zone->memmap = memmap;
	zone->zone_start_pfn = p->start_pfn;
	zone->spanned_pages = zone->managed_pages = p->nr_pages;
	zone->pageblock_order = p->pageblock_order;
	zone->fallback = p->fallback;
	zone->node = p->node;
	zone->zone_idx = p->zone_idx;
	zone->nr_cpus = p->nr_cpus;
	zone->rules = (struct kernel_rules){
		.refill = p->cfg->pcp_refill,
		.free = p->cfg->pcp_free,
		.high = p->cfg->pcp_high,
		.free_high = p->cfg->free_high,
		.drain = p->cfg->drain,
		.pcp_mt = p->cfg->pcp_mt,
		.drain_all_whole = p->cfg->kernel == PCPB_KERNEL_6_1 ||
				   p->cfg->kernel == PCPB_KERNEL_6_6,
	};
	/* alloc_flags_nofragment(): on more than one node only a node whose
	 * DMA32 zone is populated, node 0 on x86-64. */
	zone->nofragment =
		p->cfg->zone_type == PCPB_ZONE_NORMAL && p->node == 0;
	zone->mobility_disabled = p->mobility_disabled;
	zone->boost_factor = p->cfg->watermark_boost_factor;
	memcpy(zone->hold_cost, p->cfg->hold_cost, sizeof(zone->hold_cost));
	zone->remote_free = p->cfg->remote_free;
	zone->phase0_bound = p->cfg->phase0_bound;
	zone->phase0_scan_limit = p->cfg->phase0_scan_limit;
	zone->owned_per_mt = p->cfg->owned_per_mt;
	zone->owner_merge = p->cfg->owner_merge;
	err = lock_init(&zone->lock, p->lockstat ? 1 : 0);
	if (err)
		return err;
	if (p->cfg->lockstat_preempt)
		lock_set_watch(&zone->lock);
	zone->hold_model = calloc(1, sizeof(*zone->hold_model));
	if (!zone->hold_model) {
		lock_destroy(&zone->lock);
		return -ENOMEM;
	}
	zone->owned_blocks = malloc((size_t)p->nr_cpus * MIGRATE_PCPTYPES *
				    sizeof(struct pfn_list));
	zone->owned_nr =
		calloc((size_t)p->nr_cpus * MIGRATE_PCPTYPES, sizeof(uint32_t));
	if (!zone->owned_blocks || !zone->owned_nr) {
		free(zone->owned_nr);
		free(zone->owned_blocks);
		free(zone->hold_model);
		lock_destroy(&zone->lock);
		return -ENOMEM;
	}
	for (i = 0; i < (unsigned long)p->nr_cpus * MIGRATE_PCPTYPES; i++)
		pfn_list_init(&zone->owned_blocks[i]);

	nr_blocks = p->nr_pages >> p->pageblock_order;
	zone->pageblock_data =
		aligned_alloc(64, nr_blocks * sizeof(struct pageblock_data));
	if (!zone->pageblock_data) {
		free(zone->owned_nr);
		free(zone->owned_blocks);
		free(zone->hold_model);
		lock_destroy(&zone->lock);
		return -ENOMEM;
	}
	memset(zone->pageblock_data, 0,
	       nr_blocks * sizeof(struct pageblock_data));
	for (i = 0; i < nr_blocks; i++) {
		struct pageblock_data *pbd = &zone->pageblock_data[i];

		pbd->block_pfn =
			(uint32_t)(p->start_pfn + (i << p->pageblock_order));
		/* The CMA area is the zone's top pageblocks. */
		pbd->migratetype =
			i >= nr_blocks - (p->cma_pages >> p->pageblock_order)
				? MIGRATE_CMA
			: p->mobility_disabled ? MIGRATE_UNMOVABLE
					       : MIGRATE_MOVABLE;
		pbd->cpu_node.next = pbd->cpu_node.prev = PFN_NIL;
	}
	for (i = 0; i < NR_PAGE_ORDERS; i++) {
		int mt;

		for (mt = 0; mt < MIGRATE_TYPES; mt++)
			pfn_list_init(&zone->free_area[i].free_list[mt]);
	}

	/* memblock_free_all(): release everything in the largest chunks. */
	spin_lock_quiet(&zone->lock);
	for (pfn = p->start_pfn; pfn < p->start_pfn + p->nr_pages;
	     pfn += pageblock_nr_pages(zone))
		free_one_page_locked(zone, pfn, zone->pageblock_order,
				     get_pfnblock_migratetype(zone, pfn),
				     FPI_TO_TAIL);
	memset(&zone->stats, 0, sizeof(zone->stats));
	memset(zone->hold_model, 0, sizeof(*zone->hold_model));
	spin_unlock_quiet(&zone->lock);
	return 0;
}

void zone_destroy(struct zone *zone)
{
	free(zone->hold_model);
	free(zone->owned_nr);
	free(zone->owned_blocks);
	free(zone->pageblock_data);
	zone->pageblock_data = NULL;
	lock_destroy(&zone->lock);
}

/* __setup_per_zone_wmarks(): @pages_min shared out by managed pages; low
 * and high sit watermark_scale_factor (0.1% of the zone, at least min/4)
 * above it, one step each. */
static void set_wmarks(struct zone **zones, int nr_zones,
		       unsigned long pages_min, unsigned long total, int wsf)
{
	int i;

	for (i = 0; i < nr_zones; i++) {
		struct zone *z = zones[i];
		unsigned long zmin = pages_min * z->managed_pages / total;
		unsigned long step =
			max(zmin >> 2,
			    z->managed_pages * (unsigned long)wsf / 10000);

		z->_watermark[WMARK_MIN] = zmin;
		z->_watermark[WMARK_LOW] = zmin + step;
		z->_watermark[WMARK_HIGH] = zmin + 2 * step;
	}
}

/*
 * setup_per_zone_wmarks - min_free_kbytes = sqrt(16 * lowmem KiB), clamped
 * to [128 KiB, 256 MiB] (calculate_min_free_kbytes()); with @thp, raised
 * as khugepaged does when it starts (set_recommended_min_free_kbytes()):
 * to (2 + MIGRATE_PCPTYPES^2) pageblocks per zone, at most 5% of the free
 * buffer pages (managed minus the high watermark).  Every zone here is a
 * lowmem zone of its node.  A non-zero @wmark_min is every zone's min
 * instead (equal zones share it out equally).  Context: init only.
 */
void setup_per_zone_wmarks(struct zone **zones, int nr_zones, bool thp, int wsf,
			   unsigned long wmark_min)
{
	unsigned long total = 0, min_kbytes, pages_min, buffer = 0, raise;
	int i;

	for (i = 0; i < nr_zones; i++)
		total += zones[i]->managed_pages;
	if (wmark_min) {
		/* A kernel's zone, as its zoneinfo shows it. */
		set_wmarks(zones, nr_zones, wmark_min * (unsigned long)nr_zones,
			   total, wsf);
		return;
	}
	min_kbytes = (unsigned long)sqrt((double)(total * 4) * 16.0);
	min_kbytes = clamp(min_kbytes, 128UL, 262144UL);
	pages_min = min_kbytes >> 2;
	set_wmarks(zones, nr_zones, pages_min, total, wsf);
	if (!thp)
		return;
	for (i = 0; i < nr_zones; i++)
		buffer += zones[i]->managed_pages -
			  min(zones[i]->managed_pages,
			      zones[i]->_watermark[WMARK_HIGH]);
	raise = pageblock_nr_pages(zones[0]) * (unsigned long)nr_zones *
		(2 + MIGRATE_PCPTYPES * MIGRATE_PCPTYPES);
	raise = min(raise, buffer / 20);
	if (raise > pages_min)
		set_wmarks(zones, nr_zones, raise, total, wsf);
}

/*
 * __zone_watermark_ok() without lowmem_reserve or ALLOC_* reserves: the
 * allocation must leave more than @mark pages free, and for order > 0 a
 * free block of at least that order must exist.  Free CMA pages do not count
 * unless @alloc_cma (__zone_watermark_unusable_free()).  Lockless and racy,
 * as in the kernel.
 */
bool zone_watermark_ok(struct zone *zone, unsigned int order,
		       unsigned long mark, bool alloc_cma)
{
	long free_pages =
		(long)zone_page_state_free(zone) - ((1L << order) - 1);
	unsigned int o;

	if (!alloc_cma)
		free_pages -= READ_ONCE(zone->nr_free_cma);

	if (free_pages <= (long)mark)
		return false;
	if (!order)
		return true;
	for (o = order; o < NR_PAGE_ORDERS; o++)
		if (READ_ONCE(zone->free_area[o].nr_free))
			return true;
	return false;
}

static bool buddies_could_merge(struct zone *zone, unsigned long pfn,
				unsigned int order, int mt)
{
	unsigned long buddy = find_buddy_pfn(pfn, order);
	struct page *bp;
	int bmt;

	if (order >= MAX_PAGE_ORDER || !zone_spans_pfn(zone, buddy))
		return false;
	bp = pfn_to_page(zone, buddy);
	/* The buddy may be in use and changing hands (an llist push). */
	if (READ_ONCE(bp->state) != PS_BUDDY || READ_ONCE(bp->order) != order)
		return false;
	if (order < zone->pageblock_order)
		return true;
	bmt = get_pfnblock_migratetype(zone, buddy);
	return bmt == mt ||
	       (is_migrate_mergeable(mt) && is_migrate_mergeable(bmt));
}

/*
 * zone_verify - prove I1-I5 of zone.h for @zone.
 * @seen: NULL, or one byte per instance pfn; each free page's byte is set,
 *        and a byte already set is a page in two places.
 * Context: zone->lock held.  Return: 0, or -EUCLEAN with @msg filled.
 */
int zone_verify(struct zone *zone, uint8_t *seen, char *msg, size_t len)
{
	unsigned long counted = 0, o_pfn;
	unsigned int o;
	int mt;

	lockdep_assert_held(&zone->lock);
	for (o = 0; o < NR_PAGE_ORDERS; o++) {
		unsigned long blocks = 0;

		for (mt = 0; mt < MIGRATE_TYPES; mt++) {
			struct pfn_list *list =
				&zone->free_area[o].free_list[mt];
			uint32_t pfn, prev = PFN_NIL;

			for (pfn = list->first; pfn != PFN_NIL;
			     prev = pfn, pfn = zone->memmap[pfn].lru.next) {
				struct page *page = &zone->memmap[pfn];
				unsigned long i, b;

				if (!zone_spans_pfn(zone, pfn) ||
				    page->lru.prev != prev)
					return verify_fail(
						msg, len,
						"I1: zone %d order %u mt %d: broken list at pfn %u",
						zone->zone_idx, o, mt, pfn);
				if (pfn & ((1U << o) - 1) ||
				    READ_ONCE(page->state) != PS_BUDDY ||
				    page->order != o)
					return verify_fail(
						msg, len,
						"I1: pfn %u on free_area[%u] has state %u order %u",
						pfn, o, READ_ONCE(page->state),
						page->order);
				if (page->mt != mt)
					return verify_fail(
						msg, len,
						"I2: free pfn %u on list %d records list %u",
						pfn, mt, page->mt);
				/* legacy: stolen pages sit on foreign lists */
				for (b = pageblock_start_pfn(zone, pfn);
				     b < pfn + (1UL << o) &&
				     zone->fallback != PCPB_FALLBACK_LEGACY;
				     b += pageblock_nr_pages(zone))
					if (get_pfnblock_migratetype(zone, b) !=
					    mt)
						return verify_fail(
							msg, len,
							"I2: free pfn %u order %u on list %d but block %lu is type %d",
							pfn, o, mt, b,
							get_pfnblock_migratetype(
								zone, b));
				for (i = 1; i < (1UL << o); i++)
					if (READ_ONCE(zone->memmap[pfn + i]
							      .state) !=
					    PS_TAIL)
						return verify_fail(
							msg, len,
							"I1: pfn %lu inside free block %u/%u is not a tail",
							pfn + i, pfn, o);
				if (seen) {
					for (i = 0; i < (1UL << o); i++) {
						if (seen[pfn + i])
							return verify_fail(
								msg, len,
								"I1: pfn %lu is in two places",
								pfn + i);
						seen[pfn + i] = 1;
					}
				}
				if (buddies_could_merge(zone, pfn, o, mt))
					return verify_fail(
						msg, len,
						"I5: free buddies %u and %lu of order %u did not merge",
						pfn, find_buddy_pfn(pfn, o), o);
				blocks++;
				if (mt != MIGRATE_ISOLATE)
					counted += 1UL << o;
				if (blocks > zone->spanned_pages)
					return verify_fail(
						msg, len,
						"I1: free list cycle at order %u",
						o);
			}
		}
		if (blocks != zone->free_area[o].nr_free)
			return verify_fail(
				msg, len,
				"I3: free_area[%u].nr_free %lu but %lu blocks listed",
				o, zone->free_area[o].nr_free, blocks);
	}
	o_pfn = zone_page_state_free(zone);
	if (counted != o_pfn || READ_ONCE(zone->nr_free_pages) < 0)
		return verify_fail(
			msg, len,
			"I4: zone %d nr_free_pages %ld but %lu pages are free",
			zone->zone_idx, READ_ONCE(zone->nr_free_pages),
			counted);
	return 0;
}
