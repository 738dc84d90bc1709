// SPDX-License-Identifier: GPL-2.0-only OR MIT
/*
 * chunky.c - policy=chunky, the pcp buddy RFC's Phase 2 alone: an empty
 * list takes higher-order chunks of the requested type from the zone
 * without stealing and splits them on the PCP outside zone->lock (not
 * owned), then falls back to classic rmqueue_bulk() (Phase 3).  owner.c
 * runs the same two phases after its own.
 *
 * Written from the RFC's changelog and thread (Johannes Weiner, "mm:
 * page_alloc: per-cpu pageblock buddy allocator", linux-mm, April 2026).
 *
 * Invariants: P1-P3 of pcp.h; chunks are PS_PCP (inert), never PCPBuddy.
 *
 * Locking: pcp->lock held throughout; zone->lock per phase (sites phase2,
 * phase3).
 */
#include "policy.h"

#define PHASE2_MAX_CHUNKS 64

/* Take free chunks of (@o, @mt) until @needed is met. Context: zone->lock. */
static int take_chunks(struct zone *zone, unsigned int o, int mt, long needed,
		       long *got, unsigned long *pfns, unsigned int *orders,
		       int n)
{
	struct pfn_list *l = &zone->free_area[o].free_list[mt];

	lockdep_assert_held(&zone->lock);
	while (!pfn_list_empty(l) && *got < needed && n < PHASE2_MAX_CHUNKS) {
		unsigned long pfn = l->first;

		del_page_from_free_list(zone, pfn, o, mt);
		account_freepages(zone, -(1L << o), mt);
		zone_stat_add(zone, pages_moved_zone, 1UL << o);
		pfns[n] = pfn;
		orders[n++] = o;
		*got += 1L << o;
	}
	return n;
}

/*
 * Phase 2: higher-order chunks of @mt only (no stealing), largest that fits
 * first, split to @order on the PCP outside zone->lock; not owned.
 * Return: pages added.
 */
static long phase2_chunks(struct zone *zone, struct per_cpu_pages *pcp,
			  unsigned int order, int mt, long needed)
{
	unsigned long pfns[PHASE2_MAX_CHUNKS];
	unsigned int orders[PHASE2_MAX_CHUNKS], top, o;
	long got = 0;
	int i, n = 0;

	if (order + 1 >= zone->pageblock_order)
		return 0;
	top = min(zone->pageblock_order - 1,
		  max(order + 1, ilog2_ul((unsigned long)needed)));
	zone_lock(zone, PCPB_SITE_phase2);
	/* Down from the size of the need, then up to the smallest larger. */
	for (o = top; o > order && got < needed && n < PHASE2_MAX_CHUNKS; o--)
		n = take_chunks(zone, o, mt, needed, &got, pfns, orders, n);
	for (o = top + 1;
	     o < zone->pageblock_order && got < needed && n < PHASE2_MAX_CHUNKS;
	     o++)
		n = take_chunks(zone, o, mt, needed, &got, pfns, orders, n);
	zone_unlock(zone);

	for (i = 0; i < n; i++) {
		unsigned long pfn, end = pfns[i] + (1UL << orders[i]);

		for (pfn = pfns[i]; pfn < end; pfn += 1UL << order)
			pcp_list_add(zone, pcp, pfn, order, mt, PS_PCP, true);
	}
	pcp->count += (int)got;
	return got;
}

long chunky_refill(struct zone *zone, struct per_cpu_pages *pcp,
		   unsigned int order, int mt, long needed)
{
	long got = 0, p;

	lockdep_assert_held(&pcp->lock);
	/* The classic CMA balance comes first: Phase 3 does it (fvdl). */
	if (!cma_over_half(zone, mt) &&
	    (p = phase2_chunks(zone, pcp, order, mt, needed))) {
		pcp_owner_add(pcp, refills_phase2, 1);
		pcp_owner_add(pcp, pages_phase2, (uint64_t)p);
		got += p;
	}
	if (got < needed) {
		unsigned int pindex = order_to_pindex(mt, order);
		int blocks = (int)((needed - got + (1L << order) - 1) >> order);

		blocks = rmqueue_bulk(zone, order, blocks, &pcp->lists[pindex],
				      pindex, pcp->cpu, mt, PCPB_SITE_phase3,
				      pcp->alloc_flags);
		if (blocks) {
			p = (long)blocks << order;
			pcp->count += (int)p;
			pcp_owner_add(pcp, refills_phase3, 1);
			pcp_owner_add(pcp, pages_phase3, (uint64_t)p);
			got += p;
		}
	}
	return got;
}

static unsigned long chunky_pop_slow(struct zone *zone,
				     struct per_cpu_pages *pcp,
				     unsigned int order, int mt)
{
	unsigned int pindex = order_to_pindex(mt, order);
	long needed = (long)pcp_refill_blocks(pcp, zone, order) << order;

	pcp_stat_inc(pcp, refills);
	pcp_stat_add(pcp, refill_pages,
		     (uint64_t)chunky_refill(zone, pcp, order, mt, needed));
	if (pfn_list_empty(&pcp->lists[pindex]))
		return PFN_NONE;
	return pcp_list_pop(zone, pcp, pindex, order);
}

const struct pcp_policy pcp_policy_chunky = {
	.name = "chunky",
	.help = "classic + the RFC's Phase 2 alone, no ownership",
	.reports_phases = true,
	.pop_slow = chunky_pop_slow,
	.drain = pcp_drain_classic,
};
