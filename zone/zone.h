/* SPDX-License-Identifier: GPL-2.0-only OR MIT */
/*
 * zone.h - the zone buddy allocator: memmap, pageblock data, free_area and
 * the fallback machinery.  This header is the zone module's whole internal
 * API.
 *
 * Port of mm/page_alloc.c and include/linux/mmzone.h (2026 tree):
 * struct zone, struct free_area, __rmqueue_smallest(), expand(),
 * __free_one_page(), split_large_buddy(), find_suitable_fallback(),
 * try_to_claim_block(), __rmqueue_claim(), __rmqueue_steal(), __rmqueue(),
 * rmqueue_bulk(), rmqueue_buddy().
 *
 * Invariants (zone_verify() and pcpb_check() prove them):
 *   I1 a free block of order o starts at a pfn aligned to 2^o; its head page
 *      has state PS_BUDDY and order o and sits on free_area[o]; the other
 *      pages of the block have state PS_TAIL.
 *   I2 below pageblock_order, a free block sits on the free list of its
 *      pageblock's migratetype ("freelist hygiene"); at or above it, every
 *      pageblock the block covers has the list's migratetype.
 *   I3 free_area[o].nr_free equals the number of blocks on its lists.
 *   I4 nr_free_pages equals the pages in free blocks (ISOLATE excluded).
 *   I5 no two free buddies of the same order below MAX_PAGE_ORDER could
 *      merge: frees merge eagerly, except across unmergeable block types.
 *
 * Locking:
 *   zone->lock protects free_area, the free lists, nr_free, pageblock type
 *   changes and zone->stats.  nr_free_pages is written under zone->lock
 *   (WRITE_ONCE, as the lock holder is its one writer) and read without it
 *   (watermark checks); flags is atomic, since the PCP paths clear
 *   ZONE_BELOW_HIGH without zone->lock.  Pageblock
 *   migratetypes and page state/order/mt are read locklessly with
 *   READ_ONCE (stale values are tolerated, as in the kernel).
 */
#ifndef PCPB_ZONE_H
#define PCPB_ZONE_H

#include <stdbool.h>
#include <stdint.h>
#include <urcu/lfstack.h>

#include "../common/compat.h"
#include "../common/lock.h"
#include "../include/pcpbuddy.h"

#define MAX_PAGE_ORDER PCPB_MAX_PAGE_ORDER
#define NR_PAGE_ORDERS PCPB_NR_PAGE_ORDERS
#define PAGE_ALLOC_COSTLY_ORDER 3

enum migratetype {
	MIGRATE_UNMOVABLE,
	MIGRATE_MOVABLE,
	MIGRATE_RECLAIMABLE,
	MIGRATE_PCPTYPES,
	MIGRATE_HIGHATOMIC = MIGRATE_PCPTYPES,
	MIGRATE_CMA,
	MIGRATE_ISOLATE,
	MIGRATE_TYPES
};
BUILD_BUG_ON((int)MIGRATE_TYPES != (int)PCPB_NR_MIGRATETYPES);

static inline bool is_migrate_mergeable(int mt)
{
	return mt < MIGRATE_PCPTYPES;
}

#define PFN_NONE ((unsigned long)-1)

/* Where a page is; only head pages are anything but PS_TAIL. */
enum page_state {
	PS_TAIL = 0,  /* inside a larger block (zeroed memmap = all tails) */
	PS_BUDDY,     /* head of a free block in the zone buddy */
	PS_PCP,	      /* head of a block on a per-CPU list */
	PS_ALLOC,     /* head of a block held by a caller */
	PS_PCP_BUDDY, /* PagePCPBuddy: on its owner's PCP, mergeable there */
	PS_LLIST,     /* freed to its owner's lock-free list, not spliced */
	PS_FREEING,   /* free_check: a free took it from PS_ALLOC, not placed */
};

static inline bool page_state_on_pcp(uint8_t state)
{
	return state == PS_PCP || state == PS_PCP_BUDDY;
}

/*
 * struct page - 16 bytes of out-of-band metadata per 4 KiB page.
 * @lru: list links; owned by the lock of the list the page is on.
 * @state, @order, @mt: READ_ONCE/WRITE_ONCE; written under the lock that
 *   owns the page's current place, read across locks (claim's block scan,
 *   merging, free validation).
 * @mt: PS_ALLOC: the requested migratetype ("is it movable?" for claim).
 * @pindex, @private: PS_PCP: the list index and the CPU; under pcp->lock.
 */
struct page {
	union {
		struct pfn_link lru;
		struct cds_lfs_node lfs; /* PS_LLIST: the owner's stack */
	};
	uint8_t state;
	uint8_t order;
	uint8_t mt;
	uint8_t pindex;
	uint32_t private;
};
BUILD_BUG_ON(sizeof(struct page) != 16);

/*
 * struct pageblock_data - one per pageblock, in one 32-byte slot so it never
 * straddles a cache line (the RFC's 1/2 reason for the struct).
 * @migratetype: written under zone->lock, read with READ_ONCE.
 * @block_pfn: immutable after init.
 * @owner: cpu + 1 of the owning PCP, PB_OWNER_NONE (0) when zone-owned;
 *   written under zone->lock only when the block is complete (wholly free in
 *   the zone buddy, or wholly merged on the owner's PCP), read with
 *   READ_ONCE: whoever holds a page of the block sees a stable owner.
 * @cpu_node, PB_ON_OWNED_LIST: the owner's fragment list; zone->lock.
 * @nr_free_buddy: pages of the block free in the zone buddy; zone->lock.
 */
struct pageblock_data {
	uint32_t block_pfn;
	uint8_t migratetype;
	uint8_t flags;
	uint16_t owner;
	struct pfn_link cpu_node;
	uint32_t nr_free_buddy;
	uint32_t reserved[3];
} __attribute__((aligned(32)));
BUILD_BUG_ON(sizeof(struct pageblock_data) != 32);

#define PB_OWNER_NONE 0
enum pageblock_flags {
	PB_ON_OWNED_LIST = 1U << 0,
};

struct free_area {
	struct pfn_list free_list[MIGRATE_TYPES];
	unsigned long nr_free; /* blocks, all types */
};

enum zone_watermarks { WMARK_MIN, WMARK_LOW, WMARK_HIGH, NR_WMARK };

enum zone_flags {
	ZONE_BELOW_HIGH = 1U << 0,     /* free pages dipped below high wmark */
	ZONE_RECLAIM_ACTIVE = 1U << 1, /* kswapd is reclaiming this zone */
	ZONE_BOOSTED_WATERMARK = 1U << 2, /* a boost waits for its wake */
	ZONE_KSWAPD_WAKE = 1U << 3,	  /* woken, for an attached kswapd */
};

/* How a free is placed (the kernel's fpi_t subset). */
enum fpi_flags {
	FPI_NONE = 0,
	FPI_TO_TAIL = 1U << 0, /* boot and onlining: keep low pfns hot */
};

/* The remembered fallback step inside one rmqueue_bulk() (90abee6d7895). */
enum rmqueue_mode { RMQUEUE_NORMAL, RMQUEUE_CMA, RMQUEUE_CLAIM, RMQUEUE_STEAL };

/*
 * Everything the allocator counts, one copy per zone (under zone->lock) and
 * one per PCP (under pcp->lock), whatever the policy: a reset zeroes the
 * whole struct and a snapshot folds every field by its list's fold kind
 * (include/pcpbuddy.h), so a counter added to a list is reset, folded and
 * reported without another line.  The hot groups (ops, pcp) come first.
 */
struct alloc_counters {
	uint64_t ops[PCPB_NR_OPS];
	uint64_t pcp[PCPB_NR_PCP_STATS];
	uint64_t owner[PCPB_NR_OWNER];
	uint64_t merges_by_order[NR_PAGE_ORDERS]; /* PCP merges, into order */
	uint64_t work[PCPB_NR_WORK];
	/* thpchallenge-style fallback events [requested][block type] */
	uint64_t pollute[MIGRATE_PCPTYPES][MIGRATE_TYPES];
	uint64_t convert[MIGRATE_PCPTYPES][MIGRATE_TYPES];
};

struct per_cpu_pages;
struct pcp_policy;

/* The kinds of work a modelled zone->lock hold is made of. */
enum hold_cost_kind {
	HOLD_FREELIST_OP,
	HOLD_SCAN_STEP,
	HOLD_FALLBACK_SEARCH,
	HOLD_PAGE_MOVED,
	NR_HOLD_WORK,
	HOLD_PER_HOLD = NR_HOLD_WORK, /* a cost of its own: taking, leaving */
	NR_HOLD_COSTS
};

/*
 * The rules of the kernel profile (kernel=, docs/fidelity.md) the PCP core
 * and the fallback follow; immutable after zone_init().
 */
struct kernel_rules {
	enum pcpb_pcp_refill refill;
	enum pcpb_pcp_free free;
	enum pcpb_pcp_high high;
	enum pcpb_free_high free_high;
	enum pcpb_drain drain;
	enum pcpb_pcp_mt pcp_mt;
	/* Before v6.7 drain_pages_zone() freed the whole list in one hold
	 * (the batch << SCALE_MAX chunks came with the auto-tuning). */
	bool drain_all_whole;
};

struct zone {
	/* Read-mostly, immutable after zone_init(). */
	struct page *memmap; /* the instance's memmap, indexed by pfn */
	struct pageblock_data *pageblock_data;
	unsigned long zone_start_pfn, spanned_pages, managed_pages;
	unsigned long _watermark[NR_WMARK];
	unsigned int pageblock_order;
	enum pcpb_fallback fallback;
	int node, zone_idx;
	int nr_cpus;
	struct per_cpu_pages **per_cpu_pageset; /* [nr_cpus] */
	int pageset_high_min, pageset_high_max, pageset_batch;
	struct kernel_rules rules;
	/* The modelled hold (zone_lock()/zone_unlock()): ns per unit of
	 * each kind of work, the work counted when the hold began, and the
	 * holds' histogram; the last two under zone->lock. */
	double hold_cost[NR_HOLD_COSTS];
	uint64_t hold_work0[NR_HOLD_WORK];
	struct hist *hold_model;
	/* A ZONE_NORMAL with a DMA32 zone below it: allocations from it
	 * start with ALLOC_NOFRAGMENT (zone=normal on node 0). */
	bool nofragment;
	/* page_group_by_mobility_disabled: every block unmovable. */
	bool mobility_disabled;
	/* vm.watermark_boost_factor, and whether a kswapd of the caller's
	 * takes the boost back (pcpb_kswapd_attach()) */
	int boost_factor;
	bool kswapd_attached;
	/* The PCP policy (pcp/policy.h): set by zone_pageset_params(). */
	const struct pcp_policy *pcp_policy;
	bool owns_blocks; /* its pageblocks get owner CPUs (owned.c) */
	enum pcpb_remote_free remote_free;
	unsigned int phase0_bound, phase0_scan_limit;
	bool owned_per_mt;
	enum pcpb_owner_merge owner_merge;
	/*
	 * Per owner CPU, its blocks with fragments in this zone's buddy:
	 * owned_blocks[cpu * MIGRATE_PCPTYPES + (per_mt ? mt : 0)], links in
	 * pageblock_data.cpu_node by block index.  Protected by zone->lock.
	 */
	struct pfn_list *owned_blocks;
	uint32_t *owned_nr; /* [cpu * MIGRATE_PCPTYPES + mt]: listed blocks */

	/* Written (WRITE_ONCE) under zone->lock, read (READ_ONCE) without. */
	long nr_free_pages __cacheline_aligned;
	long nr_free_cma;
	unsigned int flags;
	/* Raised by a fallback and taken back by kswapd, both under
	 * zone->lock; read without it. */
	unsigned long watermark_boost;

	spinlock_t lock __cacheline_aligned;
	struct free_area free_area[NR_PAGE_ORDERS];
	struct alloc_counters stats;
};

#define zone_stat_inc(z, item) ((z)->stats.work[PCPB_WORK_##item]++)
#define zone_owner_add(z, item, n) ((z)->stats.owner[PCPB_OWN_##item] += (n))
#define zone_stat_add(z, item, n) ((z)->stats.work[PCPB_WORK_##item] += (n))

static inline unsigned long pageblock_nr_pages(const struct zone *zone)
{
	return 1UL << zone->pageblock_order;
}

static inline unsigned long pageblock_start_pfn(const struct zone *zone,
						unsigned long pfn)
{
	return pfn & ~(pageblock_nr_pages(zone) - 1);
}

static inline unsigned long zone_end_pfn(const struct zone *zone)
{
	return zone->zone_start_pfn + zone->spanned_pages;
}

static inline bool zone_spans_pfn(const struct zone *zone, unsigned long pfn)
{
	return pfn >= zone->zone_start_pfn && pfn < zone_end_pfn(zone);
}

static inline struct page *pfn_to_page(const struct zone *zone,
				       unsigned long pfn)
{
	return &zone->memmap[pfn];
}

static inline struct pageblock_data *pfn_to_pageblock(const struct zone *zone,
						      unsigned long pfn)
{
	return &zone->pageblock_data[(pfn - zone->zone_start_pfn) >>
				     zone->pageblock_order];
}

static inline unsigned long pageblock_idx(const struct zone *zone,
					  unsigned long pfn)
{
	return (pfn - zone->zone_start_pfn) >> zone->pageblock_order;
}

/* The owning CPU, or -1 for a zone-owned block (the RFC's pbd->cpu - 1). */
static inline int pageblock_owner(const struct zone *zone, unsigned long pfn)
{
	return (int)READ_ONCE(pfn_to_pageblock(zone, pfn)->owner) - 1;
}

static inline struct pfn_list *owned_list(struct zone *zone, int cpu, int mt)
{
	return &zone->owned_blocks[cpu * MIGRATE_PCPTYPES +
				   (zone->owned_per_mt ? mt : 0)];
}

static inline int get_pfnblock_migratetype(const struct zone *zone,
					   unsigned long pfn)
{
	return READ_ONCE(pfn_to_pageblock(zone, pfn)->migratetype);
}

static inline unsigned long find_buddy_pfn(unsigned long pfn,
					   unsigned int order)
{
	return pfn ^ (1UL << order);
}

/* The blocks on one free list, by walking it.  Context: zone->lock held. */
static inline unsigned long free_list_len(const struct zone *zone,
					  unsigned int order, int mt)
{
	unsigned long n = 0;
	uint32_t pfn;

	for (pfn = zone->free_area[order].free_list[mt].first; pfn != PFN_NIL;
	     pfn = zone->memmap[pfn].lru.next)
		n++;
	return n;
}

static inline unsigned long zone_page_state_free(const struct zone *zone)
{
	long v = READ_ONCE(zone->nr_free_pages);

	return v < 0 ? 0 : (unsigned long)v;
}

/* As the kernel's: every watermark is raised by the boost. */
static inline unsigned long wmark_pages(const struct zone *zone,
					enum zone_watermarks w)
{
	return zone->_watermark[w] + READ_ONCE(zone->watermark_boost);
}

/* After an allocation from @zone: a boost's kswapd wake (alloc.c). */
void zone_boost_wake(struct zone *zone);
void zone_boost_take_back(struct zone *zone, unsigned long boost);

/* The page a caller now holds (the kernel's post_alloc_hook() spot). */
static inline void prep_new_page(struct page *page, unsigned int order, int mt)
{
	WRITE_ONCE(page->order, (uint8_t)order);
	WRITE_ONCE(page->mt, (uint8_t)mt);
	WRITE_ONCE(page->state, PS_ALLOC);
}

/* zone.c: setup, watermarks, verification */
struct zone_params {
	unsigned long start_pfn, nr_pages, cma_pages;
	unsigned int pageblock_order;
	enum pcpb_fallback fallback;
	int node, zone_idx, nr_cpus;
	bool lockstat;
	const struct pcpb_config *cfg; /* policy knobs */
	bool mobility_disabled;
};
int zone_init(struct zone *zone, struct page *memmap,
	      const struct zone_params *p);
void zone_destroy(struct zone *zone);
void setup_per_zone_wmarks(struct zone **zones, int nr_zones, bool thp, int wsf,
			   unsigned long wmark_min);
bool zone_watermark_ok(struct zone *zone, unsigned int order,
		       unsigned long mark, bool alloc_cma);

/* zone_watermark_fast(): order 0 needs only the page count, inline. */
static inline bool zone_watermark_fast(struct zone *zone, unsigned int order,
				       unsigned long mark, bool alloc_cma)
{
	if (!order) {
		long free_pages = READ_ONCE(zone->nr_free_pages);

		if (!alloc_cma)
			free_pages -= READ_ONCE(zone->nr_free_cma);
		return free_pages > (long)mark;
	}
	return zone_watermark_ok(zone, order, mark, alloc_cma);
}
int zone_verify(struct zone *zone, uint8_t *seen, char *msg, size_t len);

/* buddy.c: free lists, split, merge */
void set_pageblock_migratetype(struct zone *zone, unsigned long pfn, int mt);
void account_freepages(struct zone *zone, long nr_pages, int mt);
void del_page_from_free_list(struct zone *zone, unsigned long pfn,
			     unsigned int order, int mt);
void move_to_free_list(struct zone *zone, unsigned long pfn, unsigned int order,
		       int old_mt, int new_mt);
unsigned long expand(struct zone *zone, unsigned long pfn, unsigned int low,
		     unsigned int high, int mt);
unsigned long rmqueue_smallest_locked(struct zone *zone, unsigned int order,
				      int mt);
void free_one_page_locked(struct zone *zone, unsigned long pfn,
			  unsigned int order, int mt, enum fpi_flags fpi);
void split_large_buddy_locked(struct zone *zone, unsigned long pfn,
			      unsigned int order);
void free_one_page(struct zone *zone, unsigned long pfn, unsigned int order);

/* owned.c: ownership bookkeeping, all under zone->lock */
void pageblock_claim_locked(struct zone *zone, unsigned long block_pfn,
			    int cpu);
void pageblock_release_locked(struct zone *zone, unsigned long block_pfn);
void owned_list_add_locked(struct zone *zone, unsigned long block_pfn);
void owned_list_del_locked(struct zone *zone, unsigned long block_pfn);
void owned_note_free_locked(struct zone *zone, unsigned long pfn,
			    unsigned int order);
int owned_verify(struct zone *zone, char *msg, size_t len);

/* fallback.c: migratetype fallback and the rmqueue entry points */
int find_suitable_fallback(struct zone *zone, unsigned int order,
			   int migratetype, bool claimable);
/*
 * The kernel's ALLOC_NOFRAGMENT (alloc_flags_nofragment()): the first pass
 * of an allocation from a ZONE_NORMAL above a DMA32 zone may fall back
 * only by claiming whole pageblocks, never by stealing; the zonelist is
 * walked again without it when it fails.
 */
#define ALLOC_NOFRAGMENT (1U << 0)

unsigned long rmqueue_locked(struct zone *zone, unsigned int order, int mt,
			     enum rmqueue_mode *mode, unsigned int alloc_flags);
bool cma_over_half(struct zone *zone, int mt);
int rmqueue_bulk(struct zone *zone, unsigned int order, int count,
		 struct pfn_list *list, unsigned int pindex, int cpu, int mt,
		 enum pcpb_lock_site site, unsigned int alloc_flags);
unsigned long rmqueue_buddy(struct zone *zone, unsigned int order, int mt,
			    unsigned int alloc_flags);

/* The work counters a modelled hold is made of, as of now. */
static inline void zone_hold_work(const struct zone *zone,
				  uint64_t w[NR_HOLD_WORK])
{
	w[HOLD_FREELIST_OP] = zone->stats.work[PCPB_WORK_freelist_ops];
	w[HOLD_SCAN_STEP] = zone->stats.work[PCPB_WORK_pfn_scan_steps];
	w[HOLD_FALLBACK_SEARCH] = zone->stats.work[PCPB_WORK_fallback_searches];
	w[HOLD_PAGE_MOVED] = zone->stats.work[PCPB_WORK_pages_moved_zone] +
			     zone->stats.work[PCPB_WORK_pages_moved_block];
}

/*
 * zone_lock - spin_lock(&zone->lock) that also starts the hold's model:
 * the cost of a hold is the work counted in it times hold_cost, plus the
 * per-hold cost, so two runs doing the same work have the same modelled
 * holds.
 * Context: any thread not holding zone->lock.
 */
static inline void zone_lock(struct zone *zone, enum pcpb_lock_site site)
{
	spin_lock(&zone->lock, site);
	zone_hold_work(zone, zone->hold_work0);
}

/* zone_unlock - record the modelled hold, then release.  Context: holder. */
static inline void zone_unlock(struct zone *zone)
{
	uint64_t w[NR_HOLD_WORK];
	double ns = zone->hold_cost[HOLD_PER_HOLD];
	int k;

	zone_hold_work(zone, w);
	for (k = 0; k < NR_HOLD_WORK; k++)
		ns += zone->hold_cost[k] * (double)(w[k] - zone->hold_work0[k]);
	hist_record(zone->hold_model, (uint64_t)(ns + 0.5));
	spin_unlock(&zone->lock);
}

#endif /* PCPB_ZONE_H */
