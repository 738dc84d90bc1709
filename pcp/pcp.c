// SPDX-License-Identifier: GPL-2.0-only OR MIT
/*
 * pcp.c - the per-CPU page lists every policy shares: batch and high with
 * their auto-tuning, the trylocked alloc, bulk and free fast paths, chunked
 * drains with lock cycling, decay.  What a policy changes goes through its
 * hooks (policy.h): the refill of an empty list, a free's route, a splice
 * of lock-free remote frees, the drain to the zone.
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
#include "policy.h"

#include <errno.h>
#include <stdio.h>
#include <stdarg.h>
#include <string.h>

/* min(managed / 4096, 64), clamped to 2^n - 1: 63 for zones >= 1 GiB. */
int batchsize_of(unsigned long managed_pages)
{
	unsigned long batch = min(managed_pages >> 10, 256UL) / 4;

	if (batch < 1)
		batch = 1;
	batch = rounddown_pow_of_two(batch + batch / 2) - 1;
	return max((int)batch, 1);
}

int zone_batchsize(const struct zone *zone)
{
	return batchsize_of(zone->managed_pages);
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

	zone->pcp_policy = p->policy;
	zone->owns_blocks = p->policy->owns_blocks;
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
	/* Before v6.7, high was the low-watermark share, fixed. */
	if (zone->rules.high == PCPB_HIGH_FIXED && !p->high_max)
		high_max = high_min;
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
	if (zone->pcp_policy->init) {
		err = zone->pcp_policy->init(pcp);
		if (err) {
			lock_destroy(&pcp->lock);
			return err;
		}
	}
	return 0;
}

void pcp_destroy(struct per_cpu_pages *pcp)
{
	if (pcp->zone && pcp->zone->pcp_policy->destroy)
		pcp->zone->pcp_policy->destroy(pcp);
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
static int nr_pcp_alloc(struct per_cpu_pages *pcp, struct zone *zone,
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

int pcp_refill_blocks(struct per_cpu_pages *pcp, struct zone *zone,
		      unsigned int order)
{
	lockdep_assert_held(&pcp->lock);
	if (zone->rules.refill == PCPB_REFILL_SCALED)
		return nr_pcp_alloc(pcp, zone, order);
	/* Before v6.7: batch, in 2^order blocks; a boot pageset keeps 1. */
	return pcp->batch > 1 ? max(pcp->batch >> order, 2) : 1;
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
	return zone->pcp_policy->pop_slow(zone, pcp, order, mt);
}

/* Frees other CPUs pushed lock-free: the policy takes them in. */
static __always_inline void pcp_splice_remote(struct zone *zone,
					      struct per_cpu_pages *pcp)
{
	if (unlikely(!cds_lfs_empty(&pcp->llist)))
		zone->pcp_policy->splice(zone, pcp);
}

/*
 * rmqueue_pcplist - allocate from CPU @cpu's list for @zone.
 * Context: any thread; trylocks pcp->lock, may take zone->lock.
 * Return: a pfn, or PFN_NONE when the trylock or the refill failed (the
 * caller then goes to rmqueue_buddy(), as the kernel's rmqueue() does).
 */
unsigned long rmqueue_pcplist(struct zone *zone, int cpu, unsigned int order,
			      int mt, unsigned int alloc_flags)
{
	struct per_cpu_pages *pcp = zone->per_cpu_pageset[cpu];
	unsigned long pfn;

	if (!spin_trylock(&pcp->lock, PCPB_SITE_alloc))
		return PFN_NONE;
	pcp_splice_remote(zone, pcp);
	/* A refill under this hold follows the allocation's flags. */
	pcp->alloc_flags = (uint8_t)alloc_flags;
	/* An allocation breaks a run of frees (free_factor: before v6.7). */
	pcp->free_count >>= 1;
	pcp->free_factor >>= 1;
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
			  long *arr, unsigned long filled, bool fill_null,
			  unsigned int alloc_flags)
{
	struct per_cpu_pages *pcp = zone->per_cpu_pageset[cpu];
	unsigned long got = 0;

	if (!spin_trylock(&pcp->lock, PCPB_SITE_bulk))
		return -EAGAIN;
	/* Unlike rmqueue_pcplist(), the kernel's bulk loop leaves
	 * free_count alone. */
	pcp_splice_remote(zone, pcp);
	pcp->alloc_flags = (uint8_t)alloc_flags;
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
 * free_pcppages_bulk(): return @count base pages to the zone, the way the
 * policy drains.  Context: pcp->lock held; takes zone->lock (site drain).
 * Return: the pages freed.
 */
int free_pcppages_bulk(struct zone *zone, int count, struct per_cpu_pages *pcp,
		       unsigned int pindex)
{
	lockdep_assert_held(&pcp->lock);
	count = min(count, pcp->count);
	if (count <= 0)
		return 0;
	return zone->pcp_policy->drain(zone, count, pcp, pindex);
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
	if (high_min == high_max)
		return high;
	if (zone_flag(zone, ZONE_BELOW_HIGH)) {
		pcp->high = max(high - max(pcp->free_count, batch), high_min);
		return max(pcp->count, high_min);
	}
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
 * Before v6.7 (pcp_free=free_factor): an order 1..3 free once a drain has
 * raised free_factor empties the PCP; otherwise each consecutive overflow
 * drains batch << free_factor, doubling while there is room.  high is
 * fixed; reclaim caps it at four batches.  Return: the pages to drain.
 */
static noinline int nr_pcp_free_factor(struct per_cpu_pages *pcp,
				       struct zone *zone, unsigned int order)
{
	int high = pcp->high, batch = pcp->batch, nr;
	bool free_high =
		pcp->free_factor && order && order <= PAGE_ALLOC_COSTLY_ORDER;

	if (high && !free_high && zone_flag(zone, ZONE_RECLAIM_ACTIVE))
		high = min(batch << 2, high);
	if (!high || free_high)
		high = 0;
	if (pcp->count < high)
		return 0;
	if (free_high)
		return pcp->count;
	if (high < batch)
		return 1;
	nr = batch << pcp->free_factor;
	if (nr < high - batch && pcp->free_factor < CONFIG_PCP_BATCH_SCALE_MAX)
		pcp->free_factor++;
	return clamp(nr, batch, high - batch);
}

/*
 * Drain @to_free pages from @pindex on: in one zone->lock hold
 * (drain=single), or a batch per hold with pcp->lock dropped and
 * re-trylocked between them (drain=chunked, the late-2025 rule).
 * Return: true when pcp->lock is still held.
 */
static bool pcp_drain_pages(struct zone *zone, struct per_cpu_pages *pcp,
			    int to_free, unsigned int pindex,
			    enum pcpb_lock_site site)
{
	if (zone->rules.drain == PCPB_DRAIN_SINGLE) {
		free_pcppages_bulk(zone, to_free, pcp, pindex);
		return true;
	}
	while (to_free > 0 && pcp->count > 0) {
		to_free -= free_pcppages_bulk(zone, min(to_free, pcp->batch),
					      pcp, pindex);
		if (to_free <= 0 || pcp->count <= 0)
			break;
		spin_unlock(&pcp->lock);
		if (!spin_trylock(&pcp->lock, site))
			return false;
	}
	return true;
}

/*
 * pcp_free_account - a free of a 2^@order block just went onto a list of
 * @pcp: count it, tune high, and drain any overflow from @pindex on, by
 * the profile's rules (pcp_free, free_high, drain).
 * Context: pcp->lock held.  Return: true when pcp->lock is still held.
 */
__always_inline bool pcp_free_account(struct zone *zone,
				      struct per_cpu_pages *pcp,
				      unsigned int order, unsigned int pindex)
{
	int high, batch, to_free;
	bool free_high = false;

	lockdep_assert_held(&pcp->lock);
	pcp->alloc_factor >>= 1;
	pcp->count += 1 << order;
	pcp->stats.ops[PCPB_OP_free]++;

	if (unlikely(zone->rules.free == PCPB_FREE_FACTOR)) {
		to_free = nr_pcp_free_factor(pcp, zone, order);
		return !to_free || pcp_drain_pages(zone, pcp, to_free, pindex,
						   PCPB_SITE_free);
	}
	batch = pcp->batch;
	if (order && order <= PAGE_ALLOC_COSTLY_ORDER) {
		/* v6.15 raised the streak's threshold by half high_min. */
		int threshold = zone->rules.free_high == PCPB_FREE_HIGH_HALF_MIN
					? batch + pcp->high_min / 2
					: batch;

		free_high = pcp->free_count >= threshold &&
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
	if (!pcp_drain_pages(zone, pcp, to_free, pindex, PCPB_SITE_free))
		return false;
	/* The kernel checks with alloc_flags 0: CMA pages do not count. */
	if (zone_flag(zone, ZONE_BELOW_HIGH) &&
	    zone_watermark_ok(zone, 0, wmark_pages(zone, WMARK_HIGH), false))
		__atomic_fetch_and(&zone->flags, ~(unsigned)ZONE_BELOW_HIGH,
				   __ATOMIC_RELAXED);
	return true;
}

/*
 * free_frozen_page_commit(): put the page on the local PCP and account
 * the free.  Return: true when pcp->lock is still held.
 */
__always_inline bool free_frozen_page_commit(struct zone *zone,
					     struct per_cpu_pages *pcp,
					     unsigned long pfn, int mt,
					     unsigned int order)
{
	pcp_list_add(zone, pcp, pfn, order, mt, PS_PCP, false);
	return pcp_free_account(zone, pcp, order, order_to_pindex(mt, order));
}

/*
 * pcp_drain_overflow - @nr_landed base pages came onto @pcp at once (a
 * splice of remote frees): tune high as their frees would have, and drain
 * what is above it plus what one overflowing free drains, a batch per
 * zone->lock hold, so the PCP ends below high as after any free.
 * Context: pcp->lock held.
 */
void pcp_drain_overflow(struct zone *zone, struct per_cpu_pages *pcp,
			int nr_landed)
{
	int batch = pcp->batch, high, to_free;

	lockdep_assert_held(&pcp->lock);
	pcp->alloc_factor >>= 1;
	pcp->free_count = min(pcp->free_count + nr_landed,
			      batch << CONFIG_PCP_BATCH_SCALE_MAX);
	high = nr_pcp_high(pcp, zone, batch, false);
	if (pcp->count < high)
		return;
	to_free = pcp->count - high + nr_pcp_free(pcp, batch, high, false);
	/* The caller goes on under pcp->lock: a batch per zone->lock hold,
	 * or one hold (drain=single), never dropping pcp->lock. */
	if (zone->rules.drain == PCPB_DRAIN_SINGLE) {
		free_pcppages_bulk(zone, to_free, pcp, 0);
		return;
	}
	while (to_free > 0 && pcp->count > 0)
		to_free -=
			free_pcppages_bulk(zone, min(to_free, batch), pcp, 0);
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
	if (zone->pcp_policy->free) {
		zone->pcp_policy->free(zone, cpu, pfn, order, mt);
		return;
	}
	pcp = zone->per_cpu_pageset[cpu];
	if (spin_trylock(&pcp->lock, PCPB_SITE_free)) {
		if (free_frozen_page_commit(zone, pcp, pfn, mt, order))
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
		pcp_splice_remote(zone, pcp);
		count = pcp->count;
		if (count) {
			/* Since v6.7 in batch << SCALE_MAX chunks. */
			int to_drain =
				zone->rules.drain_all_whole
					? count
					: min(count,
					      pcp->batch
						      << CONFIG_PCP_BATCH_SCALE_MAX);

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

	/* Before v6.7 there was no high to decay. */
	if (zone->rules.high == PCPB_HIGH_FIXED)
		return;
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
	if (zone->rules.drain == PCPB_DRAIN_SINGLE && to_drain > 0) {
		free_pcppages_bulk(zone, to_drain, pcp, 0);
		to_drain = 0;
	}
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

	lockdep_assert_held(&pcp->lock);
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
			if (!page_state_on_pcp(READ_ONCE(page->state)) ||
			    page->pindex != i || page->order != order ||
			    page->private != (uint32_t)pcp->cpu ||
			    (pfn & ((1U << order) - 1)))
				return verify_fail(
					msg, len,
					"P1: pfn %u on cpu %d list %u: state %u pindex %u order %u cpu %u",
					pfn, pcp->cpu, i,
					READ_ONCE(page->state), page->pindex,
					page->order, page->private);
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
	if (zone->pcp_policy->verify)
		return zone->pcp_policy->verify(pcp, msg, len);
	return 0;
}
