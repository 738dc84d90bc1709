// SPDX-License-Identifier: GPL-2.0-only OR MIT
/*
 * owner.c - the per-CPU pageblock buddy (Weiner's pcp buddy RFC, April 2026)
 * as policy=owner, and its Phase-2-only ablation, policy=chunky.
 *
 * Written from ../shared/docs/kernel-notes.md sections 2 and 6 and seed 004;
 * the RFC's diff was not available, so the shape follows the changelog and
 * the thread:
 *   refill: Phase 0 recovers this CPU's owned fragments from the zone buddy
 *           (a pfn walk under zone->lock, bounded by phase0_bound); Phase 1
 *           claims whole free pageblocks (owner set under zone->lock) and
 *           splits them on the PCP outside it, PagePCPBuddy; Phase 2 takes
 *           higher-order chunks of the requested type without stealing and
 *           splits them outside the lock, not owned; Phase 3 is classic
 *           rmqueue_bulk() with fallback, not owned.  No new block is claimed
 *           while this CPU has unrecovered partial blocks of the type.
 *   free:   an owned page goes to its owner's PCP whichever CPU frees it, by
 *           remote_free=lock (the RFC: blocking pcp->lock), trylock (else
 *           free_one_page()) or llist (a lock-free push the owner splices on
 *           its next PCP operation); a zone-owned page goes to the local PCP,
 *           not PCPBuddy.
 *   drain:  a bottom-up merge pass over PCPBuddy pages under pcp->lock; a
 *           block that merges whole is released and freed as one pageblock;
 *           fragments go to the zone buddy and the block onto the owner's
 *           list (zone/owned.c).
 *   alloc:  an empty list is first served by splitting a larger chunk of the
 *           same type on the PCP ("split on its own time"), then by a refill.
 *
 * Invariants: P1-P4 of pcp.h and O1-O5 of zone/owned.c.
 *
 * Locking: everything runs under the PCP's own pcp->lock; zone->lock is taken
 * inside it, per phase (sites phase0..phase3) and for drains (site drain).
 * A remote free takes the owner's pcp->lock (site remote_free) while holding
 * no other lock, so the order stays pcp->lock -> zone->lock.
 */
#include <stdlib.h>
#include <urcu/compiler.h>

#include "pcp.h"

#define PHASE1_MAX_BLOCKS 8
#define PHASE2_MAX_CHUNKS 64

static inline uint8_t owned_state(const struct zone *zone, unsigned long pfn,
				  int cpu)
{
	return pageblock_owner(zone, pfn) == cpu ? PS_PCP_BUDDY : PS_PCP;
}

/* expand() on the PCP: keep 2^@low at @pfn, remainders to list heads. */
static void pcp_expand(struct zone *zone, struct per_cpu_pages *pcp,
		       unsigned long pfn, unsigned int low, unsigned int high,
		       int mt, uint8_t state)
{
	while (high > low) {
		high--;
		pcp_list_add(zone, pcp, pfn + (1UL << high), high, mt, state,
			     false);
	}
}

/* Serve 2^@order from a larger chunk of type @mt already on this PCP. */
static unsigned long pcp_split_local(struct zone *zone,
				     struct per_cpu_pages *pcp,
				     unsigned int order, int mt)
{
	unsigned int o;

	for (o = order + 1; o < zone->pageblock_order; o++) {
		unsigned int pindex = pcp_pindex(zone, mt, o);
		unsigned long pfn;
		uint8_t state;

		if (pfn_list_empty(&pcp->lists[pindex]))
			continue;
		pfn = pcp_list_pop(zone, pcp, pindex, o);
		state = pfn_to_page(zone, pfn)->state;
		pcp->count += 1 << o;
		pcp_expand(zone, pcp, pfn, order, o, mt, state);
		pcp->count -= 1 << order;
		pcp_stat_inc(pcp, local_splits);
		return pfn;
	}
	return PFN_NONE;
}

/*
 * Phase 0: pull this CPU's fragments of type @mt back from the zone buddy.
 * Return: pages recovered onto the PCP.
 */
static long phase0_recover(struct zone *zone, struct per_cpu_pages *pcp, int mt,
			   long needed)
{
	unsigned int bound = zone->phase0_bound;
	unsigned long limit =
		(bound & PCPB_P0_SCAN_LIMIT)
			? zone->phase0_scan_limit * (unsigned long)needed
			: ~0UL;
	unsigned long steps = 0, nr = pageblock_nr_pages(zone);
	struct pfn_list *list = owned_list(zone, pcp->cpu, mt);
	long recovered = 0;
	uint32_t idx;

	if (!READ_ONCE(zone->owned_nr[pcp->cpu * MIGRATE_PCPTYPES + mt]))
		return 0;
	spin_lock(&zone->lock, PCPB_SITE_phase0);
	idx = list->first;
	while (idx != PFN_NIL && recovered < needed) {
		struct pageblock_data *pbd = &zone->pageblock_data[idx];
		unsigned long start = pbd->block_pfn, pfn = start;
		uint32_t next = pbd->cpu_node.next, target = pbd->nr_free_buddy;
		long found = 0;

		if (pbd->migratetype != mt) {
			/* One list for all types: Rik van Riel's point. */
			zone_owner_add(zone, phase0_skips, 1);
			idx = next;
			continue;
		}
		if ((bound & PCPB_P0_FREE_COUNTER) && !target) {
			owned_list_del_locked(zone, start);
			idx = next;
			continue;
		}
		while (pfn < start + nr) {
			struct page *page = pfn_to_page(zone, pfn);
			/* Pages in use are others': READ_ONCE, as claim does. */
			uint8_t state = READ_ONCE(page->state);
			unsigned int o = READ_ONCE(page->order);

			if (steps >= limit)
				break;
			steps++;
			if (state == PS_BUDDY) {
				del_page_from_free_list(zone, pfn, o, mt);
				account_freepages(zone, -(1L << o), mt);
				pcp_list_add(zone, pcp, pfn, o, mt,
					     PS_PCP_BUDDY, true);
				found += 1L << o;
				pfn += 1UL << o;
				if ((bound & PCPB_P0_FREE_COUNTER) &&
				    found >= (long)target)
					break;
			} else {
				pfn += state == PS_TAIL ? 1 : 1UL << o;
			}
		}
		recovered += found;
		pcp->count += (int)found;
		if (pfn < start + nr && steps >= limit)
			break; /* the block stays listed: not fully walked */
		owned_list_del_locked(zone, start);
		zone_owner_add(zone, blocks_recovered, 1);
		if ((bound & PCPB_P0_CYCLE_LOCK) && recovered < needed) {
			/* Let others at zone->lock; our cursor may be stale. */
			spin_unlock(&zone->lock);
			spin_lock(&zone->lock, PCPB_SITE_phase0);
			idx = list->first;
			continue;
		}
		idx = next;
	}
	zone_owner_add(zone, pages_recovered, (uint64_t)recovered);
	zone_owner_add(zone, phase0_scan_steps, steps);
	if (steps > zone->stats.owner[PCPB_OWN_phase0_scan_max])
		zone->stats.owner[PCPB_OWN_phase0_scan_max] = steps;
	spin_unlock(&zone->lock);
	return recovered;
}

/* A whole free block of a PCP type, preferring @mt. Context: zone->lock. */
static unsigned long take_whole_block(struct zone *zone, int mt)
{
	static const int order_of_types[MIGRATE_PCPTYPES][MIGRATE_PCPTYPES] = {
		[MIGRATE_UNMOVABLE] = { MIGRATE_UNMOVABLE, MIGRATE_RECLAIMABLE,
					MIGRATE_MOVABLE },
		[MIGRATE_MOVABLE] = { MIGRATE_MOVABLE, MIGRATE_RECLAIMABLE,
				      MIGRATE_UNMOVABLE },
		[MIGRATE_RECLAIMABLE] = { MIGRATE_RECLAIMABLE,
					  MIGRATE_UNMOVABLE, MIGRATE_MOVABLE },
	};
	unsigned int o, i;

	for (o = zone->pageblock_order; o < NR_PAGE_ORDERS; o++)
		for (i = 0; i < MIGRATE_PCPTYPES; i++) {
			int t = order_of_types[mt][i];
			struct pfn_list *l = &zone->free_area[o].free_list[t];
			unsigned long pfn;

			if (pfn_list_empty(l))
				continue;
			pfn = l->first;
			del_page_from_free_list(zone, pfn, o, t);
			account_freepages(zone, -(1L << o), t);
			if (o > zone->pageblock_order)
				account_freepages(
					zone,
					(long)expand(zone, pfn,
						     zone->pageblock_order, o,
						     t),
					t);
			/* A wholly free block changes type freely. */
			if (t != mt)
				set_pageblock_migratetype(zone, pfn, mt);
			return pfn;
		}
	return PFN_NONE;
}

/*
 * Phase 1: claim whole free blocks under zone->lock, split them on the PCP
 * outside it.  Return: pages added.
 */
static long phase1_claim(struct zone *zone, struct per_cpu_pages *pcp,
			 unsigned int order, int mt, long needed)
{
	unsigned long blocks[PHASE1_MAX_BLOCKS], nr = pageblock_nr_pages(zone);
	int i, n = 0;

	/* Recover partial blocks before pinning new ones. */
	if (READ_ONCE(zone->owned_nr[pcp->cpu * MIGRATE_PCPTYPES + mt]))
		return 0;
	spin_lock(&zone->lock, PCPB_SITE_phase1);
	while (n < PHASE1_MAX_BLOCKS && (long)(n * nr) < needed) {
		unsigned long pfn = take_whole_block(zone, mt);

		if (pfn == PFN_NONE)
			break;
		pageblock_claim_locked(zone, pfn, pcp->cpu);
		zone_stat_add(zone, pages_moved_zone, nr);
		blocks[n++] = pfn;
	}
	spin_unlock(&zone->lock);

	for (i = 0; i < n; i++) {
		pcp_list_add(zone, pcp, blocks[i], order, mt, PS_PCP_BUDDY,
			     false);
		pcp_expand(zone, pcp, blocks[i], order, zone->pageblock_order,
			   mt, PS_PCP_BUDDY);
	}
	pcp->count += (int)(n * nr);
	return (long)(n * nr);
}

/* Take free chunks of (@o, @mt) until @needed is met. Context: zone->lock. */
static int take_chunks(struct zone *zone, unsigned int o, int mt, long needed,
		       long *got, unsigned long *pfns, unsigned int *orders,
		       int n)
{
	struct pfn_list *l = &zone->free_area[o].free_list[mt];

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
	spin_lock(&zone->lock, PCPB_SITE_phase2);
	/* Down from the size of the need, then up to the smallest larger. */
	for (o = top; o > order && got < needed && n < PHASE2_MAX_CHUNKS; o--)
		n = take_chunks(zone, o, mt, needed, &got, pfns, orders, n);
	for (o = top + 1;
	     o < zone->pageblock_order && got < needed && n < PHASE2_MAX_CHUNKS;
	     o++)
		n = take_chunks(zone, o, mt, needed, &got, pfns, orders, n);
	spin_unlock(&zone->lock);

	for (i = 0; i < n; i++) {
		unsigned long pfn, end = pfns[i] + (1UL << orders[i]);

		for (pfn = pfns[i]; pfn < end; pfn += 1UL << order)
			pcp_list_add(zone, pcp, pfn, order, mt, PS_PCP, true);
	}
	pcp->count += (int)got;
	return got;
}

/*
 * The refill of policy=owner (phases 0-3) and policy=chunky (phases 2-3).
 * Context: pcp->lock held.
 */
static void policy_refill(struct zone *zone, struct per_cpu_pages *pcp,
			  unsigned int order, int mt)
{
	long needed = (long)nr_pcp_alloc(pcp, zone, order) << order, got = 0, p;
	bool owner = zone->policy == PCPB_POLICY_OWNER;

	pcp_stat_inc(pcp, refills);
	/* The classic CMA balance comes first: Phase 3 does it (fvdl). */
	if (owner && !cma_over_half(zone, mt)) {
		p = phase0_recover(zone, pcp, mt, needed);
		if (p) {
			pcp_owner_add(pcp, refills_phase0, 1);
			pcp_owner_add(pcp, pages_phase0, (uint64_t)p);
			got += p;
		}
		if (got < needed &&
		    (p = phase1_claim(zone, pcp, order, mt, needed - got))) {
			pcp_owner_add(pcp, refills_phase1, 1);
			pcp_owner_add(pcp, pages_phase1, (uint64_t)p);
			got += p;
		}
	}
	if (got < needed && !cma_over_half(zone, mt) &&
	    (p = phase2_chunks(zone, pcp, order, mt, needed - got))) {
		pcp_owner_add(pcp, refills_phase2, 1);
		pcp_owner_add(pcp, pages_phase2, (uint64_t)p);
		got += p;
	}
	if (got < needed) {
		unsigned int pindex = order_to_pindex(mt, order);
		int blocks = (int)((needed - got + (1L << order) - 1) >> order);

		blocks = rmqueue_bulk(zone, order, blocks, &pcp->lists[pindex],
				      pindex, pcp->cpu, mt, PCPB_SITE_phase3);
		if (blocks) {
			p = (long)blocks << order;
			pcp->count += (int)p;
			pcp_owner_add(pcp, refills_phase3, 1);
			pcp_owner_add(pcp, pages_phase3, (uint64_t)p);
			got += p;
		}
	}
	pcp_stat_add(pcp, refill_pages, (uint64_t)got);
}

/*
 * policy_pop_slow - the list for (@order, @mt) is empty: split a larger
 * chunk on the PCP, else refill by phases and try again.
 * Context: pcp->lock held.  Return: a pfn or PFN_NONE.
 */
unsigned long policy_pop_slow(struct zone *zone, struct per_cpu_pages *pcp,
			      unsigned int order, int mt)
{
	unsigned int pindex = order_to_pindex(mt, order);
	unsigned long pfn;

	if (zone->policy == PCPB_POLICY_OWNER) {
		pfn = pcp_split_local(zone, pcp, order, mt);
		if (pfn != PFN_NONE)
			return pfn;
	}
	policy_refill(zone, pcp, order, mt);
	if (!pfn_list_empty(&pcp->lists[pindex]))
		return pcp_list_pop(zone, pcp, pindex, order);
	if (zone->policy == PCPB_POLICY_OWNER)
		return pcp_split_local(zone, pcp, order, mt);
	return PFN_NONE;
}

/*
 * The merge rule of every owner_merge mode: @pfn's order-@o buddy is a
 * PCPBuddy page of the same order on this PCP.  Return: its pfn, PFN_NIL.
 * Context: pcp->lock held; the buddy may be anywhere, so its state is
 * read once, and its other fields only when it is ours.
 */
static uint32_t pcp_mergeable_buddy(struct zone *zone,
				    struct per_cpu_pages *pcp,
				    unsigned long pfn, unsigned int o)
{
	uint32_t buddy = (uint32_t)find_buddy_pfn(pfn, o);
	struct page *bp = &zone->memmap[buddy];

	if (READ_ONCE(bp->state) != PS_PCP_BUDDY || bp->order != o ||
	    bp->private != (uint32_t)pcp->cpu)
		return PFN_NIL;
	return buddy;
}

/* Takes @buddy off its list and joins it with @pfn (on no list).  Return:
 * the merged block's pfn, order @o + 1. */
static unsigned long pcp_merge_with(struct zone *zone,
				    struct per_cpu_pages *pcp,
				    unsigned long pfn, uint32_t buddy,
				    unsigned int o)
{
	unsigned long merged = pfn & buddy;

	pcp_list_del(zone, &pcp->lists[zone->memmap[buddy].pindex], buddy);
	WRITE_ONCE(zone->memmap[merged ^ (1UL << o)].state, PS_TAIL);
	pcp->stats.merges_by_order[o + 1]++;
	pcp_owner_add(pcp, pcp_merges, 1);
	return merged;
}

/*
 * A drain pass merges list page @pfn with @buddy: the result goes back on
 * the PCP to be picked up at order @o + 1, or, a whole block, on @done.
 */
static void pass_merge(struct zone *zone, struct per_cpu_pages *pcp,
		       uint32_t pfn, uint32_t buddy, unsigned int o, int mt,
		       struct pfn_list *done)
{
	unsigned int pb = zone->pageblock_order;
	unsigned long merged;

	pcp_list_del(zone, &pcp->lists[zone->memmap[pfn].pindex], pfn);
	merged = pcp_merge_with(zone, pcp, pfn, buddy, o);
	if (o + 1 < pb) {
		pcp_list_add(zone, pcp, merged, o + 1, mt, PS_PCP_BUDDY, true);
		return;
	}
	WRITE_ONCE(zone->memmap[merged].order, (uint8_t)pb);
	pfn_list_add_tail_stride(zone->memmap, sizeof(struct page), done,
				 (uint32_t)merged);
}

/*
 * owner_merge_on_free - owner_merge=free: merge a PCPBuddy page arriving on
 * @pcp with its buddies there, bottom-up, up to the pageblock, by the same
 * rule as the drain's merge pass (same order, PCPBuddy, this PCP).  The
 * caller adds the result to the PCP.  Return: the merged block's pfn
 * (*@order raised to its order).  Context: pcp->lock held.
 */
unsigned long owner_merge_on_free(struct zone *zone, struct per_cpu_pages *pcp,
				  unsigned long pfn, unsigned int *order)
{
	unsigned int o = *order;
	uint32_t buddy;

	while (o < zone->pageblock_order &&
	       (buddy = pcp_mergeable_buddy(zone, pcp, pfn, o)) != PFN_NIL)
		pfn = pcp_merge_with(zone, pcp, pfn, buddy, o++);
	*order = o;
	return pfn;
}

/* owner_splice_llist() found pages pushed: splice them.  Context: pcp->lock. */
void owner_splice_llist_slow(struct zone *zone, struct per_cpu_pages *pcp)
{
	struct cds_lfs_head *head;
	struct cds_lfs_node *node, *next;
	uint64_t n = 0;

	head = __cds_lfs_pop_all(&pcp->llist);
	tsan_acquire(&pcp->llist);
	cds_lfs_for_each_safe(head, node, next)
	{
		struct page *page = caa_container_of(node, struct page, lfs);
		unsigned long pfn = (unsigned long)(page - zone->memmap);
		unsigned int order = page->order, merged_order = order;
		int mt = get_pfnblock_migratetype(zone, pfn);
		unsigned long block = pfn;

		if (zone->owner_merge == PCPB_MERGE_FREE)
			block = owner_merge_on_free(zone, pcp, pfn,
						    &merged_order);
		pcp_list_add(zone, pcp, block, merged_order, mt, PS_PCP_BUDDY,
			     false);
		pcp->count += 1 << order;
		n++;
	}
	pcp_owner_add(pcp, remote_free_llist, n);
	/* A pushed free counts once it lands: until then it is in flight
	 * (pcpb_check()'s pages_in_flight), not yet a free. */
	pcp->stats.ops[PCPB_OP_free] += n;
}

/*
 * owner_free - route a freed page: owned pages to the owner's PCP (as
 * PCPBuddy), zone-owned pages to the local PCP.  The owner cannot change
 * while the caller holds a page of the block.
 * Context: any thread, holding no allocator lock.
 */
void owner_free(struct zone *zone, int cpu, unsigned long pfn,
		unsigned int order, int mt)
{
	int owner = pageblock_owner(zone, pfn);
	int target = owner < 0 ? cpu : owner;
	struct per_cpu_pages *pcp = zone->per_cpu_pageset[target];
	enum pcpb_lock_site site =
		target == cpu ? PCPB_SITE_free : PCPB_SITE_remote_free;
	uint8_t state = owner < 0 ? PS_PCP : PS_PCP_BUDDY;

	if (owner >= 0)
		mt = get_pfnblock_migratetype(zone, pfn);
	if (target != cpu && zone->remote_free == PCPB_REMOTE_LLIST) {
		struct page *page = pfn_to_page(zone, pfn);

		WRITE_ONCE(page->state, PS_LLIST);
		tsan_release(&pcp->llist);
		cds_lfs_push(&pcp->llist, &page->lfs);
		return;
	}
	if (zone->remote_free == PCPB_REMOTE_TRYLOCK) {
		if (!spin_trylock(&pcp->lock, site)) {
			if (target != cpu) {
				spin_lock(&zone->lock, PCPB_SITE_free_one);
				zone_owner_add(zone, remote_free_fallback, 1);
				zone->stats.ops[PCPB_OP_free]++;
				split_large_buddy_locked(zone, pfn, order);
				spin_unlock(&zone->lock);
			} else {
				free_one_page(zone, pfn, order);
			}
			return;
		}
		if (target != cpu)
			pcp_owner_add(pcp, remote_free_trylock, 1);
	} else {
		/* The RFC: a blocking lock in task context, even remote. */
		spin_lock(&pcp->lock, site);
		if (target != cpu)
			pcp_owner_add(pcp, remote_free_lock, 1);
	}
	owner_splice_llist(zone, pcp);
	if (free_frozen_page_commit(zone, pcp, pfn, mt, order, state))
		spin_unlock(&pcp->lock);
}

/* The migratetype of a low-order or chunk list (not a pageblock one). */
static int pcp_list_mt(unsigned int pindex)
{
	return (int)((pindex < NR_PCP_LISTS ? pindex : pindex - NR_PCP_LISTS) %
		     MIGRATE_PCPTYPES);
}

/*
 * owner_merge=drain_new: merge_pass() visiting only the pages that came
 * onto the PCP since the last pass.  A pair with neither of them new was
 * there at that pass, which merged it if it could; so the same merges
 * happen, in O(new pages) instead of O(PCP).  Merged blocks are new
 * themselves (pcp_list_add() notes them) and are visited in turn.
 * Context: pcp->lock held.
 */
static void merge_fresh(struct zone *zone, struct per_cpu_pages *pcp,
			struct pfn_list *done)
{
	unsigned int k;

	for (k = 0; k < pcp->nr_fresh; k++) {
		uint32_t pfn = pcp->fresh[k], buddy;
		struct page *page = &zone->memmap[pfn];
		unsigned int o;

		/*
		 * Stale: allocated, merged, pushed or drained since it was
		 * noted, or its block changed hands.  A PCPBuddy page of a
		 * block this CPU owns is on this PCP (O1), under our lock.
		 */
		if (READ_ONCE(page->state) != PS_PCP_BUDDY ||
		    pageblock_owner(zone, pfn) != pcp->cpu ||
		    page->private != (uint32_t)pcp->cpu)
			continue;
		o = page->order;
		if (o >= zone->pageblock_order)
			continue;
		buddy = pcp_mergeable_buddy(zone, pcp, pfn, o);
		if (buddy == PFN_NIL)
			continue;
		pass_merge(zone, pcp, pfn, buddy, o, pcp_list_mt(page->pindex),
			   done);
		if (pcp->fresh_overflow)
			return; /* the next pass walks everything */
	}
}

/*
 * Bottom-up merge of this PCP's PCPBuddy pages, outside zone->lock.  Blocks
 * that merge whole go on @done.  Context: pcp->lock held.
 */
static void merge_pass(struct zone *zone, struct per_cpu_pages *pcp,
		       struct pfn_list *done)
{
	unsigned int pb = zone->pageblock_order, o, i;
	int mt;

	/* Owned pageblock-order pages are complete already. */
	for (i = NR_LOWORDER_PCP_LISTS; i < NR_PCP_LISTS; i++) {
		uint32_t pfn, next;

		for (pfn = pcp->lists[i].first; pfn != PFN_NIL; pfn = next) {
			next = zone->memmap[pfn].lru.next;
			if (zone->memmap[pfn].state != PS_PCP_BUDDY)
				continue;
			pcp_list_del(zone, &pcp->lists[i], pfn);
			pfn_list_add_tail_stride(
				zone->memmap, sizeof(struct page), done, pfn);
		}
	}
	/* owner_merge=free merged every page as it landed: what is left to
	 * do is hand complete blocks over, without walking the low orders. */
	if (zone->owner_merge == PCPB_MERGE_FREE)
		return;
	if (pcp->fresh && !pcp->fresh_overflow) {
		merge_fresh(zone, pcp, done);
		pcp->nr_fresh = 0;
		return;
	}
	for (o = 0; o < pb; o++)
		for (mt = 0; mt < MIGRATE_PCPTYPES; mt++) {
			struct pfn_list *list =
				&pcp->lists[pcp_pindex(zone, mt, o)];
			uint32_t pfn, next;

			for (pfn = list->first; pfn != PFN_NIL; pfn = next) {
				uint32_t buddy;

				next = zone->memmap[pfn].lru.next;
				if (zone->memmap[pfn].state != PS_PCP_BUDDY)
					continue;
				buddy = pcp_mergeable_buddy(zone, pcp, pfn, o);
				if (buddy == PFN_NIL)
					continue;
				if (buddy == next)
					next = zone->memmap[buddy].lru.next;
				/* The result is picked up at order o + 1. */
				pass_merge(zone, pcp, pfn, buddy, o, mt, done);
			}
		}
	/* Everything was visited: nothing is new any more. */
	if (pcp->fresh) {
		pcp->nr_fresh = 0;
		pcp->fresh_overflow = false;
	}
}

/*
 * owner_free_pcppages_bulk - drain @count pages: merge first, release and
 * free whole blocks, then the coldest fragments as the kernel does.
 * Context: pcp->lock held; takes zone->lock (site drain).
 */
void owner_free_pcppages_bulk(struct zone *zone, int count,
			      struct per_cpu_pages *pcp)
{
	unsigned int pb = zone->pageblock_order;
	uint64_t t0 = lock_section_begin(&pcp->lock);
	struct pfn_list done;
	uint32_t pfn, next;
	int freed = 0;

	pfn_list_init(&done);
	merge_pass(zone, pcp, &done);
	lock_section_end(&pcp->lock, PCPB_SITE_drain_merge, t0);

	spin_lock(&zone->lock, PCPB_SITE_drain);
	for (pfn = done.first; pfn != PFN_NIL; pfn = next) {
		next = zone->memmap[pfn].lru.next;
		pageblock_release_locked(zone, pfn);
		free_one_page_locked(zone, pfn, pb,
				     get_pfnblock_migratetype(zone, pfn),
				     FPI_NONE);
		pcp->count -= 1 << pb;
		count -= 1 << pb;
		freed += 1 << pb;
	}
	if (count > 0 && pcp->count > 0)
		freed += free_pcppages_bulk_classic(zone, count, pcp, 0);
	spin_unlock(&zone->lock);
	pcp_stat_inc(pcp, drains);
	pcp_stat_add(pcp, drain_pages, (uint64_t)freed);
}
