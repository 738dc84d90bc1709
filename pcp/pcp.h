/* SPDX-License-Identifier: GPL-2.0-only OR MIT */
/*
 * pcp.h - per-CPU page lists (PCP): the core every policy shares (policy.h
 * is the seam; classic.c, chunky.c and owner.c are the policies).
 *
 * Port of mm/page_alloc.c (2026 tree): struct per_cpu_pages,
 * order_to_pindex(), zone_batchsize(), zone_highsize(), nr_pcp_alloc(),
 * __rmqueue_pcplist(), rmqueue_pcplist(), free_frozen_pages(),
 * free_frozen_page_commit(), nr_pcp_high(), nr_pcp_free(),
 * free_pcppages_bulk(), drain_pages_zone(), decay_pcp_high().
 *
 * Invariants (pcp_verify() proves them):
 *   P1 count equals the base pages on all lists; every listed page is a
 *      PS_PCP head with pindex equal to its list and private equal to cpu,
 *      and its order is the list's order.
 *   P2 high_min <= high; high == high_max when high_min == high_max.
 *      high may sit above high_max between a decay and the next clamp:
 *      decay_pcp_high() raises it to count - (batch << SCALE_MAX) when a
 *      pageblock-order refill left count far above high, as the kernel does.
 *   P3 a page is on at most one PCP list, and on no zone free list.
 *
 *   P4 (policy=owner) PS_PCP_BUDDY pages are only on their block owner's
 *      PCP (O1 of zone/owned.c); PS_PCP pages are inert: never merged.
 *
 * Locking: pcp->lock protects every field but the immutable cpu and zone,
 * and llist, which any thread pushes to lock-free (a policy's remote free);
 * only the holder of pcp->lock pops it, through the policy's splice hook.
 * The alloc/free fast paths only trylock it (a failure goes to the zone);
 * drains and decay from another thread take it blocking.  pcp->lock is
 * taken before zone->lock.
 */
#ifndef PCPB_PCP_H
#define PCPB_PCP_H

#include "../zone/zone.h"

#define NR_LOWORDER_PCP_LISTS (MIGRATE_PCPTYPES * (PAGE_ALLOC_COSTLY_ORDER + 1))
#define NR_PCP_THP 2 /* pageblock order: movable, everything else */
#define NR_PCP_LISTS (NR_LOWORDER_PCP_LISTS + NR_PCP_THP)
/*
 * policy=owner only: chunks of orders COSTLY+1 .. pageblock_order-1 that a
 * claimed block was split into, or that merged on the PCP, per type.  The
 * kernel's PCP has no such lists; the RFC's PCP buddy needs somewhere to
 * keep what it splits "on its own time".
 */
#define NR_PCP_CHUNK_LISTS \
	(MIGRATE_PCPTYPES * (MAX_PAGE_ORDER - PAGE_ALLOC_COSTLY_ORDER - 1))
#define NR_PCP_ALL_LISTS (NR_PCP_LISTS + NR_PCP_CHUNK_LISTS)
#define CONFIG_PCP_BATCH_SCALE_MAX 5

enum pcp_flags {
	PCPF_PREV_FREE_HIGH_ORDER = 1U << 0, /* last free was order 1..3 */
	PCPF_FREE_HIGH_BATCH = 1U << 1,	     /* keep a batch on high frees */
};

struct per_cpu_pages {
	spinlock_t lock;
	int count; /* base pages on the lists */
	int high;  /* drain threshold, auto-tuned */
	int high_min, high_max;
	int batch; /* refill/drain chunk */
	uint8_t flags;
	uint8_t alloc_factor; /* refill scale: batch << alloc_factor */
	uint8_t free_factor;  /* pcp_free=free_factor: drain batch << it */
	uint8_t alloc_flags;  /* of the allocation holding the lock */
	int free_count;	      /* recent consecutive frees, in pages */
	int cpu;
	struct zone *zone;
	struct alloc_counters stats;  /* under pcp->lock */
	struct __cds_lfs_stack llist; /* remote frees to splice */
	void *policy_data;	      /* the policy's own, under pcp->lock */
	struct pfn_list lists[NR_PCP_ALL_LISTS];
} __cacheline_aligned;

#define pcp_stat_inc(p, item) ((p)->stats.pcp[PCPB_PCP_##item]++)
#define pcp_stat_add(p, item, n) ((p)->stats.pcp[PCPB_PCP_##item] += (n))
#define pcp_owner_add(p, item, n) ((p)->stats.owner[PCPB_OWN_##item] += (n))

static inline bool pcp_allowed_order(const struct zone *zone,
				     unsigned int order)
{
	return order <= PAGE_ALLOC_COSTLY_ORDER ||
	       order == zone->pageblock_order;
}

static inline unsigned int order_to_pindex(int mt, unsigned int order)
{
	if (order > PAGE_ALLOC_COSTLY_ORDER)
		return NR_LOWORDER_PCP_LISTS + (mt == MIGRATE_MOVABLE);
	return MIGRATE_PCPTYPES * order + (unsigned int)mt;
}

static inline unsigned int pindex_to_order(const struct zone *zone,
					   unsigned int pindex)
{
	if (pindex >= NR_PCP_LISTS)
		return PAGE_ALLOC_COSTLY_ORDER + 1 +
		       (pindex - NR_PCP_LISTS) / MIGRATE_PCPTYPES;
	if (pindex >= NR_LOWORDER_PCP_LISTS)
		return zone->pageblock_order;
	return pindex / MIGRATE_PCPTYPES;
}

/* Any order up to pageblock_order: the chunk lists between the others. */
static inline unsigned int pcp_pindex(const struct zone *zone, int mt,
				      unsigned int order)
{
	if (order > PAGE_ALLOC_COSTLY_ORDER && order < zone->pageblock_order)
		return NR_PCP_LISTS +
		       MIGRATE_PCPTYPES *
			       (order - PAGE_ALLOC_COSTLY_ORDER - 1) +
		       (unsigned int)mt;
	return order_to_pindex(mt, order);
}

/* The migratetype of a low-order or chunk list (not a pageblock one). */
static inline int pcp_list_mt(unsigned int pindex)
{
	return (int)((pindex < NR_PCP_LISTS ? pindex : pindex - NR_PCP_LISTS) %
		     MIGRATE_PCPTYPES);
}

/*
 * The type a drain frees @pfn (on list @pindex) to: its pageblock's
 * (pcp_mt=pageblock, v6.10), or the type it had when freed (cached):
 * its list's, or its block's when that is no PCP type (CMA), as
 * get_pcppage_migratetype() kept it.
 */
static inline int pcp_drain_mt(struct zone *zone, unsigned long pfn,
			       unsigned int pindex)
{
	int block_mt = get_pfnblock_migratetype(zone, pfn);

	if (zone->rules.pcp_mt == PCPB_PCP_MT_PAGEBLOCK ||
	    block_mt >= MIGRATE_PCPTYPES)
		return block_mt;
	if (pindex >= NR_LOWORDER_PCP_LISTS && pindex < NR_PCP_LISTS)
		return pindex == NR_LOWORDER_PCP_LISTS + 1 ? MIGRATE_MOVABLE
							   : block_mt;
	return pcp_list_mt(pindex);
}

struct pcp_policy;

struct pcp_params {
	const struct pcp_policy *policy;
	bool enabled;		       /* false: the boot pageset */
	int batch, high_min, high_max; /* 0: the kernel formulas */
	int nr_node_cpus;	       /* CPUs sharing the zone's node */
};

/* zone_batchsize() of a zone of @managed_pages. */
int batchsize_of(unsigned long managed_pages);
int zone_batchsize(const struct zone *zone);
int zone_highsize(const struct zone *zone, int batch, int fraction,
		  int nr_node_cpus);
void zone_pageset_params(struct zone *zone, const struct pcp_params *p);
int pcp_init(struct per_cpu_pages *pcp, struct zone *zone, int cpu,
	     unsigned int lockstat_sample);
void pcp_destroy(struct per_cpu_pages *pcp);

static inline void pcp_list_del(struct zone *zone, struct pfn_list *list,
				unsigned long pfn)
{
	pfn_list_del_stride(zone->memmap, sizeof(struct page), list,
			    (uint32_t)pfn);
}

/*
 * Put a block on its list as @state (PS_PCP, or PS_PCP_BUDDY if owned).
 * Inlined into every fast path, the policies' included.
 */
static __always_inline void pcp_list_add(struct zone *zone,
					 struct per_cpu_pages *pcp,
					 unsigned long pfn, unsigned int order,
					 int mt, uint8_t state, bool tail)
{
	unsigned int pindex = pcp_pindex(zone, mt, order);
	struct page *page = pfn_to_page(zone, pfn);

	page->pindex = (uint8_t)pindex;
	page->private = (uint32_t)pcp->cpu;
	WRITE_ONCE(page->order, (uint8_t)order);
	WRITE_ONCE(page->state, state);
	if (tail)
		pfn_list_add_tail_stride(zone->memmap, sizeof(struct page),
					 &pcp->lists[pindex], (uint32_t)pfn);
	else
		pfn_list_add_head_stride(zone->memmap, sizeof(struct page),
					 &pcp->lists[pindex], (uint32_t)pfn);
}

/* Take the hottest block off list @pindex; the caller fixes the count. */
static __always_inline unsigned long pcp_list_pop(struct zone *zone,
						  struct per_cpu_pages *pcp,
						  unsigned int pindex,
						  unsigned int order)
{
	struct pfn_list *list = &pcp->lists[pindex];
	unsigned long pfn = list->first;

	pcp_list_del(zone, list, pfn);
	pcp->count -= 1 << order;
	return pfn;
}

unsigned long rmqueue_pcplist(struct zone *zone, int cpu, unsigned int order,
			      int mt, unsigned int alloc_flags);
/* How many 2^@order blocks an empty list refills, by the profile's rule
 * (pcp_refill).  Context: pcp->lock held. */
int pcp_refill_blocks(struct per_cpu_pages *pcp, struct zone *zone,
		      unsigned int order);
long alloc_pages_bulk_pcp(struct zone *zone, int cpu, int mt, unsigned long nr,
			  long *arr, unsigned long filled, bool fill_null,
			  unsigned int alloc_flags);
bool free_frozen_page_commit(struct zone *zone, struct per_cpu_pages *pcp,
			     unsigned long pfn, int mt, unsigned int order);
bool pcp_free_account(struct zone *zone, struct per_cpu_pages *pcp,
		      unsigned int order, unsigned int pindex);
void pcp_drain_overflow(struct zone *zone, struct per_cpu_pages *pcp,
			int nr_landed);
void free_frozen_pages(struct zone *zone, int cpu, unsigned long pfn,
		       unsigned int order);
int free_pcppages_bulk(struct zone *zone, int count, struct per_cpu_pages *pcp,
		       unsigned int pindex);
void drain_pages_zone(struct zone *zone, int cpu);
void decay_pcp_high(struct zone *zone, struct per_cpu_pages *pcp);
int pcp_verify(struct per_cpu_pages *pcp, uint8_t *seen, char *msg, size_t len);

#endif /* PCPB_PCP_H */
