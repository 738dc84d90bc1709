// SPDX-License-Identifier: GPL-2.0-only OR MIT
/*
 * owner.c - the per-CPU pageblock buddy (Weiner's pcp buddy RFC, April 2026)
 * as policy=owner, and its Phase-2-only ablation, policy=chunky.
 *
 * Written from the RFC's changelog and its linux-mm thread (Johannes
 * Weiner, "mm: page_alloc: per-cpu pageblock buddy allocator", April 2026,
 * with the replies of Vlastimil Babka, Rik van Riel and Frank van der
 * Linden); the shape follows them:
 *   refill: Phase 0 recovers this CPU's owned fragments from the zone buddy
 *           (a pfn walk under zone->lock, bounded by phase0_bound); Phase 1
 *           claims whole free pageblocks (owner set under zone->lock) and
 *           splits them on the PCP outside it, PagePCPBuddy; Phase 2 takes
 *           higher-order chunks of the requested type without stealing and
 *           splits them outside the lock, not owned; Phase 3 is classic
 *           rmqueue_bulk() with fallback, not owned (both in chunky.c).
 *           No new block is claimed
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
#include <errno.h>
#include <stdlib.h>
#include <urcu/compiler.h>

#include "policy.h"

#define PHASE1_MAX_BLOCKS 8
#define FRESH_MAX 4096

/*
 * The owner's per-PCP state (pcp->policy_data), under pcp->lock; only
 * with owner_merge=drain_new: the PCPBuddy pages that came onto the lists
 * since the last merge pass (stale entries are skipped then).
 */
struct owner_pcp {
	unsigned int nr_fresh;
	bool fresh_overflow; /* more than FRESH_MAX: walk everything */
	uint32_t fresh[FRESH_MAX];
};

static int owner_pcp_init(struct per_cpu_pages *pcp)
{
	if (pcp->zone->owner_merge != PCPB_MERGE_DRAIN_NEW)
		return 0;
	pcp->policy_data = calloc(1, sizeof(struct owner_pcp));
	return pcp->policy_data ? 0 : -ENOMEM;
}

static void owner_pcp_destroy(struct per_cpu_pages *pcp)
{
	free(pcp->policy_data);
	pcp->policy_data = NULL;
}

/* pcp_list_add(), noting a PCPBuddy page for drain_new's next pass. */
static __always_inline void
owned_list_add(struct zone *zone, struct per_cpu_pages *pcp, unsigned long pfn,
	       unsigned int order, int mt, uint8_t state, bool tail)
{
	struct owner_pcp *op = pcp->policy_data;

	pcp_list_add(zone, pcp, pfn, order, mt, state, tail);
	if (state == PS_PCP_BUDDY && op) {
		if (op->nr_fresh < FRESH_MAX)
			op->fresh[op->nr_fresh++] = (uint32_t)pfn;
		else
			op->fresh_overflow = true;
	}
}

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
	lockdep_assert_held(&pcp->lock);
	while (high > low) {
		high--;
		owned_list_add(zone, pcp, pfn + (1UL << high), high, mt, state,
			       false);
	}
}

/* Serve 2^@order from a larger chunk of type @mt already on this PCP. */
static unsigned long pcp_split_local(struct zone *zone,
				     struct per_cpu_pages *pcp,
				     unsigned int order, int mt)
{
	unsigned int o;

	lockdep_assert_held(&pcp->lock);
	for (o = order + 1; o < zone->pageblock_order; o++) {
		unsigned int pindex = pcp_pindex(zone, mt, o);
		unsigned long pfn;
		uint8_t state;

		if (pfn_list_empty(&pcp->lists[pindex]))
			continue;
		pfn = pcp_list_pop(zone, pcp, pindex, o);
		state = READ_ONCE(pfn_to_page(zone, pfn)->state);
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

	lockdep_assert_held(&pcp->lock);
	if (!READ_ONCE(zone->owned_nr[pcp->cpu * MIGRATE_PCPTYPES + mt]))
		return 0;
	zone_lock(zone, PCPB_SITE_phase0);
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
				owned_list_add(zone, pcp, pfn, o, mt,
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
			zone_unlock(zone);
			zone_lock(zone, PCPB_SITE_phase0);
			idx = list->first;
			continue;
		}
		idx = next;
	}
	zone_owner_add(zone, pages_recovered, (uint64_t)recovered);
	zone_owner_add(zone, phase0_scan_steps, steps);
	if (steps > zone->stats.owner[PCPB_OWN_phase0_scan_max])
		zone->stats.owner[PCPB_OWN_phase0_scan_max] = steps;
	zone_unlock(zone);
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

	lockdep_assert_held(&zone->lock);
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

	lockdep_assert_held(&pcp->lock);
	/* Recover partial blocks before pinning new ones. */
	if (READ_ONCE(zone->owned_nr[pcp->cpu * MIGRATE_PCPTYPES + mt]))
		return 0;
	zone_lock(zone, PCPB_SITE_phase1);
	while (n < PHASE1_MAX_BLOCKS && (long)(n * nr) < needed) {
		unsigned long pfn = take_whole_block(zone, mt);

		if (pfn == PFN_NONE)
			break;
		pageblock_claim_locked(zone, pfn, pcp->cpu);
		zone_stat_add(zone, pages_moved_zone, nr);
		blocks[n++] = pfn;
	}
	zone_unlock(zone);

	for (i = 0; i < n; i++) {
		owned_list_add(zone, pcp, blocks[i], order, mt, PS_PCP_BUDDY,
			       false);
		pcp_expand(zone, pcp, blocks[i], order, zone->pageblock_order,
			   mt, PS_PCP_BUDDY);
	}
	pcp->count += (int)(n * nr);
	return (long)(n * nr);
}

/*
 * owner_pop_slow - the list for (@order, @mt) is empty: split a larger
 * chunk on the PCP, else refill by phases (0 and 1 here, 2 and 3 in
 * chunky.c) and try again.  Context: pcp->lock held.  Return: a pfn or
 * PFN_NONE.
 */
static unsigned long owner_pop_slow(struct zone *zone,
				    struct per_cpu_pages *pcp,
				    unsigned int order, int mt)
{
	unsigned int pindex = order_to_pindex(mt, order);
	long needed, got = 0, p;
	unsigned long pfn;

	lockdep_assert_held(&pcp->lock);
	pfn = pcp_split_local(zone, pcp, order, mt);
	if (pfn != PFN_NONE)
		return pfn;
	needed = (long)pcp_refill_blocks(pcp, zone, order) << order;
	pcp_stat_inc(pcp, refills);
	/* The classic CMA balance comes first: Phase 3 does it (fvdl). */
	if (!cma_over_half(zone, mt)) {
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
	if (got < needed)
		got += chunky_refill(zone, pcp, order, mt, needed - got);
	pcp_stat_add(pcp, refill_pages, (uint64_t)got);
	if (!pfn_list_empty(&pcp->lists[pindex]))
		return pcp_list_pop(zone, pcp, pindex, order);
	return pcp_split_local(zone, pcp, order, mt);
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

	lockdep_assert_held(&pcp->lock);
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

	lockdep_assert_held(&pcp->lock);
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

	lockdep_assert_held(&pcp->lock);
	pcp_list_del(zone, &pcp->lists[zone->memmap[pfn].pindex], pfn);
	merged = pcp_merge_with(zone, pcp, pfn, buddy, o);
	if (o + 1 < pb) {
		owned_list_add(zone, pcp, merged, o + 1, mt, PS_PCP_BUDDY,
			       true);
		return;
	}
	WRITE_ONCE(zone->memmap[merged].order, (uint8_t)pb);
	pfn_list_add_tail_stride(zone->memmap, sizeof(struct page), done,
				 (uint32_t)merged);
}

/*
 * owner_merge=free: merge a PCPBuddy page arriving on @pcp with its buddies
 * there, bottom-up, up to the pageblock, by the same rule as the drain's
 * merge pass (same order, PCPBuddy, this PCP).  The caller adds the result
 * to the PCP.  Return: the merged block's pfn (*@order raised to its
 * order).  Context: pcp->lock held.
 */
static unsigned long owner_merge_on_free(struct zone *zone,
					 struct per_cpu_pages *pcp,
					 unsigned long pfn, unsigned int *order)
{
	unsigned int o = *order;
	uint32_t buddy;

	lockdep_assert_held(&pcp->lock);
	while (o < zone->pageblock_order &&
	       (buddy = pcp_mergeable_buddy(zone, pcp, pfn, o)) != PFN_NIL)
		pfn = pcp_merge_with(zone, pcp, pfn, buddy, o++);
	*order = o;
	return pfn;
}

/*
 * The splice hook: take in the pages other CPUs pushed (remote_free=llist),
 * then drain what they put above high, as their frees would have.
 * Context: pcp->lock held (the single consumer of the stack).
 */
static void owner_splice(struct zone *zone, struct per_cpu_pages *pcp)
{
	struct cds_lfs_head *head;
	struct cds_lfs_node *node, *next;
	uint64_t n = 0;
	int pages = 0;

	lockdep_assert_held(&pcp->lock);
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
		owned_list_add(zone, pcp, block, merged_order, mt, PS_PCP_BUDDY,
			       false);
		pcp->count += 1 << order;
		pages += 1 << order;
		n++;
	}
	pcp_owner_add(pcp, remote_free_llist, n);
	/* A pushed free counts once it lands: until then it is in flight
	 * (pcpb_check()'s pages_in_flight), not yet a free. */
	pcp->stats.ops[PCPB_OP_free] += n;
	pcp_drain_overflow(zone, pcp, pages);
}

static __always_inline void owner_splice_pending(struct zone *zone,
						 struct per_cpu_pages *pcp)
{
	if (!cds_lfs_empty(&pcp->llist))
		owner_splice(zone, pcp);
}

/*
 * The free on @pcp itself: list the page (merged first under
 * owner_merge=free) and account it as the core does any free.
 * Context: pcp->lock held.  Return: true when it is still held.
 */
static __always_inline bool owner_commit(struct zone *zone,
					 struct per_cpu_pages *pcp,
					 unsigned long pfn, int mt,
					 unsigned int order, uint8_t state)
{
	unsigned int merged_order = order;
	unsigned long head = pfn;

	lockdep_assert_held(&pcp->lock);
	/* The tuning sees the page as freed, not as merged. */
	if (state == PS_PCP_BUDDY && zone->owner_merge == PCPB_MERGE_FREE)
		head = owner_merge_on_free(zone, pcp, pfn, &merged_order);
	owned_list_add(zone, pcp, head, merged_order, mt, state, false);
	return pcp_free_account(zone, pcp, order, order_to_pindex(mt, order));
}

/*
 * The free hook: owned pages to the owner's PCP (as PCPBuddy), zone-owned
 * pages to the local PCP.  The owner cannot change while the caller holds
 * a page of the block.  Context: any thread, holding no allocator lock.
 */
static void owner_free(struct zone *zone, int cpu, unsigned long pfn,
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
				zone_lock(zone, PCPB_SITE_free_one);
				zone_owner_add(zone, remote_free_fallback, 1);
				zone->stats.ops[PCPB_OP_free]++;
				split_large_buddy_locked(zone, pfn, order);
				zone_unlock(zone);
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
	owner_splice_pending(zone, pcp);
	if (owner_commit(zone, pcp, pfn, mt, order, state))
		spin_unlock(&pcp->lock);
}

/*
 * owner_merge=drain_new: merge_pass() visiting only the pages that came
 * onto the PCP since the last pass.  A pair with neither of them new was
 * there at that pass, which merged it if it could; so the same merges
 * happen, in O(new pages) instead of O(PCP).  Merged blocks are new
 * themselves (owned_list_add() notes them) and are visited in turn.
 * Context: pcp->lock held.
 */
static void merge_fresh(struct zone *zone, struct per_cpu_pages *pcp,
			struct owner_pcp *op, struct pfn_list *done)
{
	unsigned int k;

	lockdep_assert_held(&pcp->lock);
	for (k = 0; k < op->nr_fresh; k++) {
		uint32_t pfn = op->fresh[k], buddy;
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
		if (op->fresh_overflow)
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
	struct owner_pcp *op = pcp->policy_data;
	int mt;

	lockdep_assert_held(&pcp->lock);
	/* Owned pageblock-order pages are complete already. */
	for (i = NR_LOWORDER_PCP_LISTS; i < NR_PCP_LISTS; i++) {
		uint32_t pfn, next;

		for (pfn = pcp->lists[i].first; pfn != PFN_NIL; pfn = next) {
			next = zone->memmap[pfn].lru.next;
			if (READ_ONCE(zone->memmap[pfn].state) != PS_PCP_BUDDY)
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
	if (op && !op->fresh_overflow) {
		merge_fresh(zone, pcp, op, done);
		op->nr_fresh = 0;
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
				if (READ_ONCE(zone->memmap[pfn].state) !=
				    PS_PCP_BUDDY)
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
	if (op) {
		op->nr_fresh = 0;
		op->fresh_overflow = false;
	}
}

/*
 * The drain hook: merge first; release and free whole blocks while pages
 * are still owed (a block is the unit: the last one may overshoot
 * @count), keep the other whole blocks on the PCP, then free the coldest
 * fragments as the kernel does.  Context: pcp->lock held; takes
 * zone->lock (site drain).  Return: the pages freed.
 */
static int owner_drain(struct zone *zone, int count, struct per_cpu_pages *pcp,
		       unsigned int pindex)
{
	unsigned int pb = zone->pageblock_order;
	uint64_t t0 = lock_section_begin(&pcp->lock);
	struct pfn_list done;
	uint32_t pfn, next;
	int freed = 0;

	(void)pindex; /* merged blocks first, then the coldest from list 0 */
	lockdep_assert_held(&pcp->lock);
	pfn_list_init(&done);
	merge_pass(zone, pcp, &done);
	lock_section_end(&pcp->lock, PCPB_SITE_drain_merge, t0);

	zone_lock(zone, PCPB_SITE_drain);
	for (pfn = done.first; pfn != PFN_NIL && count > 0; pfn = next) {
		next = zone->memmap[pfn].lru.next;
		pfn_list_del_stride(zone->memmap, sizeof(struct page), &done,
				    pfn);
		pageblock_release_locked(zone, pfn);
		free_one_page_locked(zone, pfn, pb,
				     get_pfnblock_migratetype(zone, pfn),
				     FPI_NONE);
		pcp->count -= 1 << pb;
		count -= 1 << pb;
		freed += 1 << pb;
	}
	if (count > 0 && pcp->count > 0)
		freed += pcp_free_coldest_locked(zone, count, pcp, 0);
	zone_unlock(zone);
	/* Whole blocks not needed stay, still owned, on the PCP. */
	for (pfn = done.first; pfn != PFN_NIL; pfn = next) {
		next = zone->memmap[pfn].lru.next;
		pcp_list_add(zone, pcp, pfn, pb,
			     get_pfnblock_migratetype(zone, pfn), PS_PCP_BUDDY,
			     true);
	}
	pcp_stat_inc(pcp, drains);
	pcp_stat_add(pcp, drain_pages, (uint64_t)freed);
	return freed;
}

/* The verify hook: O1 of zone/owned.c, a PCPBuddy page is on its owner's
 * PCP.  Context: pcp->lock held. */
static int owner_verify(struct per_cpu_pages *pcp, char *msg, size_t len)
{
	struct zone *zone = pcp->zone;
	unsigned int i;
	uint32_t pfn;

	lockdep_assert_held(&pcp->lock);
	for (i = 0; i < NR_PCP_ALL_LISTS; i++)
		for (pfn = pcp->lists[i].first; pfn != PFN_NIL;
		     pfn = zone->memmap[pfn].lru.next)
			if (READ_ONCE(zone->memmap[pfn].state) ==
				    PS_PCP_BUDDY &&
			    pfn_to_pageblock(zone, pfn)->owner != pcp->cpu + 1)
				return verify_fail(
					msg, len,
					"O1: PCPBuddy pfn %u on cpu %d's PCP but its block is owned by %d",
					pfn, pcp->cpu,
					pfn_to_pageblock(zone, pfn)->owner - 1);
	return 0;
}

const struct pcp_policy pcp_policy_owner = {
	.name = "owner",
	.help = "the pcp buddy RFC: owned pageblocks, four-phase refill",
	.owns_blocks = true,
	.reports_phases = true,
	.init = owner_pcp_init,
	.destroy = owner_pcp_destroy,
	.pop_slow = owner_pop_slow,
	.free = owner_free,
	.splice = owner_splice,
	.drain = owner_drain,
	.verify = owner_verify,
};
