// SPDX-License-Identifier: GPL-2.0-only OR MIT
/*
 * classic.c - mainline's PCP policy: an empty list is refilled by
 * rmqueue_bulk() with nr_pcp_alloc() blocks, frees stay on the local PCP,
 * drains free the coldest pages list by list in one zone->lock hold.  Also
 * the pieces other policies reuse: the refill-and-pop and the drain loop.
 *
 * Port of mm/page_alloc.c (2026 tree): the refill of __rmqueue_pcplist(),
 * free_pcppages_bulk().
 *
 * Invariants: P1-P3 of pcp.h.
 *
 * Locking: pcp->lock held throughout; zone->lock inside it, per refill
 * (site refill) and per drain (site drain).
 */
#include "policy.h"

unsigned long pcp_refill_pop(struct zone *zone, struct per_cpu_pages *pcp,
			     unsigned int order, int mt, int nr_blocks)
{
	unsigned int pindex = order_to_pindex(mt, order);
	struct pfn_list *list = &pcp->lists[pindex];
	int got;

	lockdep_assert_held(&pcp->lock);
	got = rmqueue_bulk(zone, order, nr_blocks, list, pindex, pcp->cpu, mt,
			   PCPB_SITE_refill, pcp->alloc_flags);
	pcp->count += got << order;
	pcp_stat_inc(pcp, refills);
	pcp_stat_add(pcp, refill_pages, (uint64_t)got << order);
	if (pfn_list_empty(list))
		return PFN_NONE;
	return pcp_list_pop(zone, pcp, pindex, order);
}

static unsigned long classic_pop_slow(struct zone *zone,
				      struct per_cpu_pages *pcp,
				      unsigned int order, int mt)
{
	return pcp_refill_pop(zone, pcp, order, mt,
			      pcp_refill_blocks(pcp, zone, order));
}

int pcp_free_coldest_locked(struct zone *zone, int count,
			    struct per_cpu_pages *pcp, unsigned int pindex)
{
	int freed = 0;

	lockdep_assert_held(&pcp->lock);
	lockdep_assert_held(&zone->lock);
	count = min(count, pcp->count);
	pindex = pindex ? pindex - 1 : NR_PCP_ALL_LISTS - 1;
	while (count > 0) {
		struct pfn_list *list;
		unsigned int order;
		int nr_pages;

		do {
			if (++pindex >= NR_PCP_ALL_LISTS)
				pindex = 0;
			list = &pcp->lists[pindex];
		} while (pfn_list_empty(list));
		order = pindex_to_order(zone, pindex);
		nr_pages = 1 << order;
		do {
			unsigned long pfn = list->last;

			pcp_list_del(zone, list, pfn);
			count -= nr_pages;
			pcp->count -= nr_pages;
			freed += nr_pages;
			/* The block's type may have changed while cached. */
			free_one_page_locked(zone, pfn, order,
					     pcp_drain_mt(zone, pfn, pindex),
					     FPI_NONE);
		} while (count > 0 && !pfn_list_empty(list));
	}
	if (PCPB_DEBUG_EXPENSIVE)
		VM_BUG_ON(zone_verify(zone, NULL, NULL, 0));
	return freed;
}

int pcp_drain_classic(struct zone *zone, int count, struct per_cpu_pages *pcp,
		      unsigned int pindex)
{
	int freed;

	lockdep_assert_held(&pcp->lock);
	zone_lock(zone, PCPB_SITE_drain);
	freed = pcp_free_coldest_locked(zone, count, pcp, pindex);
	zone_unlock(zone);
	pcp_stat_inc(pcp, drains);
	pcp_stat_add(pcp, drain_pages, (uint64_t)freed);
	return freed;
}

const struct pcp_policy pcp_policy_classic = {
	.name = "classic",
	.help = "mainline PCP lists refilled by rmqueue_bulk()",
	.pop_slow = classic_pop_slow,
	.drain = pcp_drain_classic,
};
