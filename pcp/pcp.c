// SPDX-License-Identifier: GPL-2.0-only OR MIT
/*
 * pcp.c - the classic per-CPU page lists: refill through rmqueue_bulk(),
 * free with high auto-tuning, chunked drains with lock cycling, decay.
 *
 * Port of mm/page_alloc.c (2026 tree); see pcp.h for the function list.
 *
 * Invariants: P1-P3 of pcp.h.
 *
 * Locking: pcp->lock (trylock on the local fast paths, blocking for
 * drains and decay) before zone->lock.  Simplifications: no
 * PCPF_FREE_HIGH_BATCH (LLC size unknown), no migration between CPUs
 * while the lock is cycled, no remote-node expire drain.
 */
#include "pcp.h"

#include <errno.h>
#include <stdio.h>
#include <stdarg.h>
#include <string.h>

/* min(managed / 4096, 64), clamped to 2^n - 1: 63 for zones >= 1 GiB. */
int zone_batchsize(const struct zone *zone)
{
	unsigned long batch = min(zone->managed_pages >> 10, 256UL) / 4;

	if (batch < 1)
		batch = 1;
	batch = rounddown_pow_of_two(batch + batch / 2) - 1;
	return max((int)batch, 1);
}

/* @fraction 0: the low watermark split over the node's CPUs (high_min);
 * 8: an eighth of the zone (high_max).  At least four batches. */
int zone_highsize(const struct zone *zone, int batch, int fraction,
		  int nr_node_cpus)
{
	unsigned long total = fraction
				      ? zone->managed_pages / (unsigned)fraction
				      : wmark_pages(zone, WMARK_LOW);
	unsigned long high = total / (unsigned long)max(nr_node_cpus, 1);

	return (int)max(high, (unsigned long)batch << 2);
}

void zone_pageset_params(struct zone *zone, const struct pcp_params *p)
{
	int batch, high_min, high_max;

	if (!p->enabled) {
		/* The boot pageset: every free goes straight to the buddy. */
		zone->pageset_batch = 1;
		zone->pageset_high_min = zone->pageset_high_max = 0;
		return;
	}
	batch = p->batch ? p->batch : zone_batchsize(zone);
	high_min = p->high_min ? p->high_min
			       : zone_highsize(zone, batch, 0, p->nr_node_cpus);
	high_max = p->high_max ? p->high_max
			       : zone_highsize(zone, batch, 8, p->nr_node_cpus);
	zone->pageset_batch = batch;
	zone->pageset_high_min = high_min;
	zone->pageset_high_max = max(high_max, high_min);
}

int pcp_init(struct per_cpu_pages *pcp, struct zone *zone, int cpu,
	     unsigned int lockstat_sample)
{
	unsigned int i;
	int err;

	memset(pcp, 0, sizeof(*pcp));
	err = lock_init(&pcp->lock, lockstat_sample);
	if (err)
		return err;
	pcp->cpu = cpu;
	pcp->zone = zone;
	pcp->batch = zone->pageset_batch;
	pcp->high_min = zone->pageset_high_min;
	pcp->high_max = zone->pageset_high_max;
	pcp->high = pcp->high_min;
	__cds_lfs_init(&pcp->llist);
	for (i = 0; i < NR_PCP_ALL_LISTS; i++)
		pfn_list_init(&pcp->lists[i]);
	if (zone->policy == PCPB_POLICY_OWNER &&
	    zone->owner_merge == PCPB_MERGE_DRAIN_NEW) {
		pcp->fresh = malloc(PCP_FRESH_MAX * sizeof(*pcp->fresh));
		if (!pcp->fresh) {
			lock_destroy(&pcp->lock);
			return -ENOMEM;
		}
	}
	return 0;
}

void pcp_destroy(struct per_cpu_pages *pcp)
{
	free(pcp->fresh);
	lock_destroy(&pcp->lock);
}

static inline bool zone_flag(struct zone *zone, unsigned int flag)
{
	return READ_ONCE(zone->flags) & flag;
}

/*
 * nr_pcp_alloc(): how many blocks to refill.  Demand grows high toward
 * high_max, and order-0 refills scale by alloc_factor while there is room.
 */
int nr_pcp_alloc(struct per_cpu_pages *pcp, struct zone *zone,
		 unsigned int order)
{
	int high, base_batch, batch, max_nr_alloc;
	int high_max = pcp->high_max, high_min = pcp->high_min;

	base_batch = pcp->batch;
	high = pcp->high = clamp(pcp->high, high_min, high_max);
	if (high < base_batch)
		return 1;
	batch = order ? base_batch : base_batch << pcp->alloc_factor;
	if (high_min != high_max && !zone_flag(zone, ZONE_BELOW_HIGH))
		high = pcp->high = min(high + batch, high_max);
	if (!order) {
		max_nr_alloc = max(high - pcp->count - base_batch, base_batch);
		if (batch <= max_nr_alloc &&
		    pcp->alloc_factor < CONFIG_PCP_BATCH_SCALE_MAX)
			pcp->alloc_factor++;
		batch = min(batch, max_nr_alloc);
	}
	if (batch > 1)
		batch = max(batch >> order, 2);
	return batch;
}

/* Refill an empty list @pindex and pop from it; the miss of pcp_pop(). */
static noinline unsigned long pcp_pop_refill(struct zone *zone,
					     struct per_cpu_pages *pcp,
					     unsigned int order, int mt,
					     unsigned int pindex)
{
	struct pfn_list *list = &pcp->lists[pindex];

	if (zone->policy != PCPB_POLICY_CLASSIC)
		return policy_pop_slow(zone, pcp, order, mt);

	{
		int batch = nr_pcp_alloc(pcp, zone, order);
		int got = rmqueue_bulk(zone, order, batch, list, pindex,
				       pcp->cpu, mt, PCPB_SITE_refill);

		pcp->count += got << order;
		pcp_stat_inc(pcp, refills);
		pcp_stat_add(pcp, refill_pages, (uint64_t)got << order);
	}
	if (pfn_list_empty(list))
		return PFN_NONE;
	return pcp_list_pop(zone, pcp, pindex, order);
}

/* __rmqueue_pcplist(): pop the hottest page, refilling an empty list. */
static __always_inline unsigned long pcp_pop(struct zone *zone,
					     struct per_cpu_pages *pcp,
					     unsigned int order, int mt)
{
	unsigned int pindex = order_to_pindex(mt, order);

	if (likely(!pfn_list_empty(&pcp->lists[pindex]))) {
		pcp_stat_inc(pcp, hits);
		return pcp_list_pop(zone, pcp, pindex, order);
	}
	return pcp_pop_refill(zone, pcp, order, mt, pindex);
}

/*
 * rmqueue_pcplist - allocate from CPU @cpu's list for @zone.
 * Context: any thread; trylocks pcp->lock, may take zone->lock.
 * Return: a pfn, or PFN_NONE when the trylock or the refill failed (the
 * caller then goes to rmqueue_buddy(), as the kernel's rmqueue() does).
 */
unsigned long rmqueue_pcplist(struct zone *zone, int cpu, unsigned int order,
			      int mt)
{
	struct per_cpu_pages *pcp = zone->per_cpu_pageset[cpu];
	unsigned long pfn;

	if (!spin_trylock(&pcp->lock, PCPB_SITE_alloc))
		return PFN_NONE;
	if (zone->policy == PCPB_POLICY_OWNER)
		owner_splice_llist(zone, pcp);
	/* An allocation breaks a run of frees. */
	pcp->free_count >>= 1;
	pfn = pcp_pop(zone, pcp, order, mt);
	if (pfn != PFN_NONE) {
		prep_new_page(pfn_to_page(zone, pfn), order, mt);
		pcp->stats.ops[PCPB_OP_alloc]++;
		pcp->stats.ops[PCPB_OP_alloc_pages] += 1UL << order;
	}
	spin_unlock(&pcp->lock);
	return pfn;
}

/*
 * alloc_pages_bulk_pcp - the PCP loop of alloc_pages_bulk(): order-0 pages
 * of @mt into @arr[@filled..@nr-1] under one pcp->lock hold.
 * @fill_null: fill only PCPB_NO_PAGE slots (today's contract), else write
 *   every slot from @filled on (the output contract).
 * Context: any thread; trylocks pcp->lock (site bulk).
 * Return: the next unfilled index, or -EAGAIN when the trylock failed or
 * nothing could be allocated (the caller then takes one page the slow way).
 */
long alloc_pages_bulk_pcp(struct zone *zone, int cpu, int mt, unsigned long nr,
			  long *arr, unsigned long filled, bool fill_null)
{
	struct per_cpu_pages *pcp = zone->per_cpu_pageset[cpu];
	unsigned long got = 0;

	if (!spin_trylock(&pcp->lock, PCPB_SITE_bulk))
		return -EAGAIN;
	if (zone->policy == PCPB_POLICY_OWNER)
		owner_splice_llist(zone, pcp);
	pcp->free_count >>= 1;
	while (filled < nr) {
		unsigned long pfn;

		if (fill_null && arr[filled] != PCPB_NO_PAGE) {
			filled++;
			continue;
		}
		pfn = pcp_pop(zone, pcp, 0, mt);
		if (pfn == PFN_NONE)
			break;
		prep_new_page(pfn_to_page(zone, pfn), 0, mt);
		arr[filled++] = (long)pfn;
		got++;
	}
	pcp->stats.ops[PCPB_OP_alloc] += got;
	pcp->stats.ops[PCPB_OP_alloc_pages] += got;
	spin_unlock(&pcp->lock);
	return got ? (long)filled : -EAGAIN;
}

/*
 * free_pcppages_bulk(): return @count base pages to the zone.  The owner
 * policy first merges its PCPBuddy pages (owner_free_pcppages_bulk()).
 * Context: pcp->lock held; takes zone->lock (site drain).
 */
void free_pcppages_bulk(struct zone *zone, int count, struct per_cpu_pages *pcp,
			unsigned int pindex)
{
	int freed;

	lockdep_assert_held(&pcp->lock);
	count = min(count, pcp->count);
	if (count <= 0)
		return;
	if (zone->policy == PCPB_POLICY_OWNER) {
		owner_free_pcppages_bulk(zone, count, pcp);
		return;
	}
	spin_lock(&zone->lock, PCPB_SITE_drain);
	freed = free_pcppages_bulk_classic(zone, count, pcp, pindex);
	spin_unlock(&zone->lock);
	pcp_stat_inc(pcp, drains);
	pcp_stat_add(pcp, drain_pages, (uint64_t)freed);
}

/*
 * The kernel's loop: coldest first, emptying one list before moving to the
 * next, starting at @pindex.  Context: pcp->lock and zone->lock held.
 * Return: the pages freed.
 */
int free_pcppages_bulk_classic(struct zone *zone, int count,
			       struct per_cpu_pages *pcp, unsigned int pindex)
{
	int freed = 0;

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
			free_one_page_locked(
				zone, pfn, order,
				get_pfnblock_migratetype(zone, pfn), FPI_NONE);
		} while (count > 0 && !pfn_list_empty(list));
	}
	if (PCPB_DEBUG_EXPENSIVE)
		VM_BUG_ON(zone_verify(zone, NULL, NULL, 0));
	return freed;
}

/* nr_pcp_high(): the threshold for this free, tuning pcp->high. */
static __always_inline int nr_pcp_high(struct per_cpu_pages *pcp,
				       struct zone *zone, int batch,
				       bool free_high)
{
	int high, high_min = pcp->high_min, high_max = pcp->high_max;

	high = pcp->high = clamp(pcp->high, high_min, high_max);
	if (!high)
		return 0;
	if (free_high) {
		/* A run of high-order frees: drain what we can. */
		pcp->high = max(high - (batch << CONFIG_PCP_BATCH_SCALE_MAX),
				high_min);
		return 0;
	}
	if (zone_flag(zone, ZONE_RECLAIM_ACTIVE)) {
		/* Reclaim is freeing pages: do not hoard them on PCPs. */
		pcp->high = max(high - max(pcp->free_count, batch), high_min);
		return min(4 * batch, pcp->high);
	}
	if (zone_flag(zone, ZONE_BELOW_HIGH)) {
		pcp->high = max(high - max(pcp->free_count, batch), high_min);
		return max(pcp->count, high_min);
	}
	if (high_min == high_max)
		return high;
	if (pcp->count >= high && pcp->high < pcp->free_count + batch) {
		/* A freeing streak grows high. */
		pcp->high = clamp(pcp->free_count + batch, high_min, high_max);
	}
	return high;
}

/* nr_pcp_free(): how many pages this overflow drains. */
static int nr_pcp_free(struct per_cpu_pages *pcp, int batch, int high,
		       bool free_high)
{
	if (free_high)
		return min(pcp->count, batch << CONFIG_PCP_BATCH_SCALE_MAX);
	if (high < batch)
		return 1;
	/* Leave at least a batch cached. */
	return clamp(pcp->free_count, batch, high - batch);
}

/*
 * free_frozen_page_commit(): put the page on the PCP and drain any
 * overflow in batch-sized chunks, cycling pcp->lock between chunks.
 * @state: PS_PCP, or PS_PCP_BUDDY for a page of a block the PCP owns.
 * Return: true when pcp->lock is still held.
 */
__always_inline bool free_frozen_page_commit(struct zone *zone,
					     struct per_cpu_pages *pcp,
					     unsigned long pfn, int mt,
					     unsigned int order, uint8_t state)
{
	unsigned int pindex = order_to_pindex(mt, order);
	int high, batch, to_free;
	bool free_high = false;

	pcp->alloc_factor >>= 1;
	if (state == PS_PCP_BUDDY && zone->owner_merge == PCPB_MERGE_FREE) {
		/* The tuning below sees the page as freed, not as merged. */
		unsigned int merged_order = order;
		unsigned long head =
			owner_merge_on_free(zone, pcp, pfn, &merged_order);

		pcp_list_add(zone, pcp, head, merged_order, mt, state, false);
	} else {
		pcp_list_add(zone, pcp, pfn, order, mt, state, false);
	}
	pcp->count += 1 << order;
	pcp->stats.ops[PCPB_OP_free]++;

	batch = pcp->batch;
	if (order && order <= PAGE_ALLOC_COSTLY_ORDER) {
		free_high = pcp->free_count >= batch + pcp->high_min / 2 &&
			    (pcp->flags & PCPF_PREV_FREE_HIGH_ORDER) &&
			    (!(pcp->flags & PCPF_FREE_HIGH_BATCH) ||
			     pcp->count >= batch);
		pcp->flags |= PCPF_PREV_FREE_HIGH_ORDER;
	} else {
		pcp->flags &= (uint8_t)~PCPF_PREV_FREE_HIGH_ORDER;
	}
	if (pcp->free_count < (batch << CONFIG_PCP_BATCH_SCALE_MAX))
		pcp->free_count += 1 << order;

	high = nr_pcp_high(pcp, zone, batch, free_high);
	if (pcp->count < high)
		return true;

	to_free = nr_pcp_free(pcp, batch, high, free_high);
	while (to_free > 0 && pcp->count > 0) {
		int n = min(to_free, batch);

		free_pcppages_bulk(zone, n, pcp, pindex);
		to_free -= n;
		if (to_free <= 0 || pcp->count <= 0)
			break;
		/* Late-2025 drains let others at the PCP between chunks. */
		spin_unlock(&pcp->lock);
		if (!spin_trylock(&pcp->lock, PCPB_SITE_free))
			return false;
	}
	if (zone_flag(zone, ZONE_BELOW_HIGH) &&
	    zone_watermark_ok(zone, 0, wmark_pages(zone, WMARK_HIGH), true))
		__atomic_fetch_and(&zone->flags, ~(unsigned)ZONE_BELOW_HIGH,
				   __ATOMIC_RELAXED);
	return true;
}

/*
 * free_frozen_pages - free a block on CPU @cpu.
 * Context: any thread; trylocks the PCP, falls back to free_one_page().
 */
void free_frozen_pages(struct zone *zone, int cpu, unsigned long pfn,
		       unsigned int order)
{
	struct per_cpu_pages *pcp;
	int mt;

	if (!pcp_allowed_order(zone, order)) {
		free_one_page(zone, pfn, order);
		return;
	}
	mt = get_pfnblock_migratetype(zone, pfn);
	if (mt >= MIGRATE_PCPTYPES) {
		if (mt == MIGRATE_ISOLATE) {
			free_one_page(zone, pfn, order);
			return;
		}
		mt = MIGRATE_MOVABLE;
	}
	if (zone->policy == PCPB_POLICY_OWNER) {
		owner_free(zone, cpu, pfn, order, mt);
		return;
	}
	pcp = zone->per_cpu_pageset[cpu];
	if (spin_trylock(&pcp->lock, PCPB_SITE_free)) {
		if (free_frozen_page_commit(zone, pcp, pfn, mt, order, PS_PCP))
			spin_unlock(&pcp->lock);
	} else {
		free_one_page(zone, pfn, order);
	}
}

/*
 * drain_pages_zone - empty CPU @cpu's list for @zone in chunks of
 * batch << CONFIG_PCP_BATCH_SCALE_MAX, dropping pcp->lock between chunks.
 * Context: any thread; takes pcp->lock blocking (site drain).
 */
void drain_pages_zone(struct zone *zone, int cpu)
{
	struct per_cpu_pages *pcp = zone->per_cpu_pageset[cpu];
	int count;

	do {
		spin_lock(&pcp->lock, PCPB_SITE_drain);
		if (zone->policy == PCPB_POLICY_OWNER)
			owner_splice_llist(zone, pcp);
		count = pcp->count;
		if (count) {
			int to_drain =
				min(count,
				    pcp->batch << CONFIG_PCP_BATCH_SCALE_MAX);

			free_pcppages_bulk(zone, to_drain, pcp, 0);
			count = pcp->count;
		}
		spin_unlock(&pcp->lock);
	} while (count);
}

/*
 * decay_pcp_high - one vmstat period: walk high down by an eighth toward
 * high_min and drain what sits above it, a batch per lock hold.
 * Context: any thread; takes pcp->lock blocking (site decay).
 */
void decay_pcp_high(struct zone *zone, struct per_cpu_pages *pcp)
{
	int to_drain;

	spin_lock(&pcp->lock, PCPB_SITE_decay);
	if (pcp->high > pcp->high_min) {
		int batch = pcp->batch;

		pcp->high = max(
			max(pcp->count - (batch << CONFIG_PCP_BATCH_SCALE_MAX),
			    pcp->high - (pcp->high >> 3)),
			pcp->high_min);
		pcp_stat_inc(pcp, high_decays);
	}
	to_drain = pcp->count - pcp->high;
	while (to_drain > 0) {
		free_pcppages_bulk(zone, min(to_drain, pcp->batch), pcp, 0);
		spin_unlock(&pcp->lock);
		spin_lock(&pcp->lock, PCPB_SITE_decay);
		to_drain = pcp->count - pcp->high;
	}
	spin_unlock(&pcp->lock);
}

/*
 * pcp_verify - prove P1-P3 for @pcp; mark its pages in @seen (may be NULL).
 * Context: pcp->lock held.  Return: 0 or -EUCLEAN with @msg filled.
 */
int pcp_verify(struct per_cpu_pages *pcp, uint8_t *seen, char *msg, size_t len)
{
	struct zone *zone = pcp->zone;
	long pages = 0;
	unsigned int i;

	for (i = 0; i < NR_PCP_ALL_LISTS; i++) {
		unsigned int order = pindex_to_order(zone, i);
		uint32_t pfn, prev = PFN_NIL;
		long n = 0;

		for (pfn = pcp->lists[i].first; pfn != PFN_NIL;
		     prev = pfn, pfn = zone->memmap[pfn].lru.next) {
			struct page *page = &zone->memmap[pfn];
			unsigned long j;

			if (!zone_spans_pfn(zone, pfn) ||
			    page->lru.prev != prev ||
			    ++n > (long)zone->spanned_pages)
				return verify_fail(
					msg, len,
					"P1: cpu %d list %u broken at pfn %u",
					pcp->cpu, i, pfn);
			if (page->state == PS_PCP_BUDDY &&
			    pfn_to_pageblock(zone, pfn)->owner != pcp->cpu + 1)
				return verify_fail(
					msg, len,
					"O1: PCPBuddy pfn %u on cpu %d's PCP but its block is owned by %d",
					pfn, pcp->cpu,
					pfn_to_pageblock(zone, pfn)->owner - 1);
			if (!page_state_on_pcp(page->state) ||
			    page->pindex != i || page->order != order ||
			    page->private != (uint32_t)pcp->cpu ||
			    (pfn & ((1U << order) - 1)))
				return verify_fail(
					msg, len,
					"P1: pfn %u on cpu %d list %u: state %u pindex %u order %u cpu %u",
					pfn, pcp->cpu, i, page->state,
					page->pindex, page->order,
					page->private);
			for (j = 0; seen && j < (1UL << order); j++) {
				if (seen[pfn + j])
					return verify_fail(
						msg, len,
						"P3: pfn %lu on cpu %d's PCP is also elsewhere",
						pfn + j, pcp->cpu);
				seen[pfn + j] = 1;
			}
			pages += 1L << order;
		}
	}
	if (pages != pcp->count)
		return verify_fail(msg, len,
				   "P1: cpu %d zone %d count %d but %ld listed",
				   pcp->cpu, zone->zone_idx, pcp->count, pages);
	if (pcp->high < pcp->high_min ||
	    (pcp->high_min == pcp->high_max && pcp->high != pcp->high_max))
		return verify_fail(
			msg, len, "P2: cpu %d high %d outside [%d, %d]",
			pcp->cpu, pcp->high, pcp->high_min, pcp->high_max);
	return 0;
}
