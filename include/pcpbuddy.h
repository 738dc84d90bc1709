/* SPDX-License-Identifier: GPL-2.0-only OR MIT */
/*
 * pcpbuddy.h - the one public header of pcpbuddy, a userspace research port
 * of the Linux zone/PCP page allocator.
 *
 * An instance (struct pcpb) models one machine: nodes, one zone per node,
 * and per-CPU page lists (PCP) for a number of CPUs that may exceed the real
 * ones.  Pages are named by pfn; memory is metadata-only unless the config
 * asks for backing, in which case pcpb_pfn_to_addr() gives usable bytes.
 *
 * Invariants the API promises (pcpb_check() proves them):
 *   every pfn of the instance is in exactly one place: a zone free list, a
 *   PCP list, or allocated to a caller; bad input changes nothing.
 *
 * Locking: every function is thread safe unless its comment says otherwise.
 * Lock order inside the allocator is pcp->lock before zone->lock.
 */
#ifndef PCPBUDDY_H
#define PCPBUDDY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#ifdef __cplusplus
extern "C" {
#endif

#define PCPB_API __attribute__((visibility("default")))
#define PCPB_MUST_CHECK __attribute__((warn_unused_result))

#define PCPB_PAGE_SHIFT 12
#define PCPB_PAGE_SIZE (1UL << PCPB_PAGE_SHIFT)
#define PCPB_MAX_PAGE_ORDER 10
#define PCPB_NR_PAGE_ORDERS (PCPB_MAX_PAGE_ORDER + 1)
#define PCPB_MAX_CPUS 4096
#define PCPB_MAX_NODES 64
/* The library's version, also `pcpbuddy --version`. */
#define PCPB_VERSION "0.14.0"

/* The migratetypes a caller may request; numbering follows the kernel. */
enum pcpb_migratetype {
	PCPB_MT_UNMOVABLE = 0,
	PCPB_MT_MOVABLE = 1,
	PCPB_MT_RECLAIMABLE = 2,
	PCPB_NR_REQUEST_MT = 3,
	/* Internal block types, reported in statistics only. */
	PCPB_MT_HIGHATOMIC = 3,
	PCPB_MT_CMA = 4,
	PCPB_MT_ISOLATE = 5,
	PCPB_NR_MIGRATETYPES = 6,
};

/* Allocation flags (a small gfp). Unknown bits are -EINVAL. */
#define PCPB_GFP_ACCOUNT (1U << 0)  /* memcg-accounted (__GFP_ACCOUNT) */
#define PCPB_GFP_THISNODE (1U << 1) /* no zonelist fallback to other nodes */
#define PCPB_GFP_NORETRY (1U << 2)  /* no drain-all retry before -ENOMEM */
#define PCPB_GFP_MASK (PCPB_GFP_ACCOUNT | PCPB_GFP_THISNODE | PCPB_GFP_NORETRY)

enum pcpb_cpu_mode {
	PCPB_CPU_THREAD,   /* each thread is a virtual CPU (default) */
	PCPB_CPU_SCHED,	   /* sched_getcpu() modulo nr_cpus */
	PCPB_CPU_EXPLICIT, /* the caller names the CPU (replay, simulation) */
};

/*
 * The PCP policy, an index into the library's table of policies (set it
 * by name with pcpb_config_set(cfg, "policy", NAME); `pcpbuddy config
 * --help` lists them).  The first three have names here.
 */
enum pcpb_policy {
	PCPB_POLICY_CLASSIC, /* mainline PCP lists refilled by rmqueue_bulk */
	PCPB_POLICY_OWNER,   /* the pcp buddy RFC: owned pageblocks */
	PCPB_POLICY_CHUNKY,  /* classic + Phase 2 only, no ownership */
};

/* How a free reaches the owner CPU's PCP (policy=owner). */
enum pcpb_remote_free {
	PCPB_REMOTE_LOCK,    /* the RFC: blocking pcp->lock of the owner */
	PCPB_REMOTE_TRYLOCK, /* trylock, else free_one_page() to the zone */
	PCPB_REMOTE_LLIST,   /* lock-free push; the owner splices it later */
};

/* Phase 0 bounds (policy=owner), combinable: "cycle_lock+scan_limit:4". */
#define PCPB_P0_CYCLE_LOCK (1U << 0)   /* drop zone->lock after each block */
#define PCPB_P0_FREE_COUNTER (1U << 1) /* stop a block's scan at its count */
#define PCPB_P0_SCAN_LIMIT (1U << 2)   /* at most N x pages needed steps */

/* Which point of the 2024-2025 fallback history __rmqueue follows. */
enum pcpb_fallback {
	PCPB_FALLBACK_LEGACY,	/* pre-v6.10: steal moves the block's pages */
	PCPB_FALLBACK_HYGIENE,	/* c0cd6f557b90: failed claim takes request */
	PCPB_FALLBACK_SMALLEST, /* c2f6ea38fc1b: claim, else smallest buddy */
	PCPB_FALLBACK_CACHED,	/* 90abee6d7895: remembered rmqueue mode */
};

enum pcpb_backing {
	PCPB_BACKING_NONE, /* metadata only */
	PCPB_BACKING_ANON, /* one MAP_NORESERVE mapping, bound per node */
};

/**
 * struct pcpb_config - everything that shapes an instance.
 *
 * pcpb_config_init() fills the defaults written beside each field; the
 * same names are accepted as "key=value" by pcpb_config_set().
 */
/*
 * Where policy=owner merges PCPBuddy pages (owner_merge=):
 *  drain      the RFC: a bottom-up pass over the whole PCP on each drain;
 *  drain_new  the same pass, visiting only the pages that came onto the
 *             PCP since the last one (the same merges, at the same time);
 *  free       each page merges with its buddies as it lands; the drain
 *             only hands complete blocks over.
 */
enum pcpb_owner_merge {
	PCPB_MERGE_DRAIN,
	PCPB_MERGE_DRAIN_NEW,
	PCPB_MERGE_FREE,
};

/*
 * How pcp->lock is taken (pcp_fastpath=):
 *  spin   the kernel's spinlock fast path: compare-exchange, plain-store
 *         unlock; blocking acquirers (drains, decay, remote frees) spin,
 *         then sleep as on the mutex, for at most 1 ms at a time (the
 *         default);
 *  mutex  the futex mutex zone->lock uses: its unlock is an exchange, to
 *         learn whether to wake a sleeper;
 *  rseq   a restartable sequence with plain stores when the thread runs on
 *         the real CPU of the PCP's number, the mutex otherwise;
 *         docs/design.md has the rules.
 */
enum pcpb_pcp_fastpath {
	PCPB_FASTPATH_SPIN,
	PCPB_FASTPATH_MUTEX,
	PCPB_FASTPATH_RSEQ,
};

/*
 * The kernel whose rules the model follows (kernel=), as a unit: fallback
 * mode, PCP refill and free sizing, high auto-tuning, drain pacing, the
 * migratetype a drain frees to.  docs/fidelity.md has the table with the
 * commits.  next is the 2026 tree the pcp buddy RFC applies to.
 */
enum pcpb_kernel {
	PCPB_KERNEL_NEXT,
	PCPB_KERNEL_6_1,
	PCPB_KERNEL_6_6,
	PCPB_KERNEL_6_12,
	PCPB_KERNEL_6_18,
};

/* Rules a kernel profile chooses; each is also a config key that
 * overrides the profile (the report says which did). */
enum pcpb_pcp_refill {
	PCPB_REFILL_SCALED, /* nr_pcp_alloc(): batch << alloc_factor (v6.7) */
	PCPB_REFILL_BATCH,  /* batch >> order blocks, at least two */
};
enum pcpb_pcp_free {
	PCPB_FREE_COUNT,  /* free_count and nr_pcp_high()'s tuning (v6.7) */
	PCPB_FREE_FACTOR, /* free_factor doubling; order 1..3 drains all */
};
enum pcpb_pcp_high {
	PCPB_HIGH_AUTOTUNE, /* high_min..high_max, decay (v6.7) */
	PCPB_HIGH_FIXED,    /* high = the low-watermark share, no decay */
};
enum pcpb_free_high {
	PCPB_FREE_HIGH_HALF_MIN, /* free_count >= batch + high_min / 2 */
	PCPB_FREE_HIGH_BATCH,	 /* free_count >= batch */
};
enum pcpb_drain {
	PCPB_DRAIN_CHUNKED, /* batch per zone->lock hold, pcp->lock cycled */
	PCPB_DRAIN_SINGLE,  /* each overflow and decay step in one hold */
};
/* The zone an instance's zones model (zone=): ALLOC_NOFRAGMENT's first
 * pass applies to a ZONE_NORMAL above DMA32, not to a machine whose memory
 * is all DMA32 (a guest of 2 GiB or less). */
enum pcpb_zone_type {
	PCPB_ZONE_NORMAL,
	PCPB_ZONE_DMA32,
};

/* Grouping pages by mobility (grouping=): off, every allocation and every
 * pageblock is unmovable, as on a kernel with too little memory. */
enum pcpb_grouping {
	PCPB_GROUPING_AUTO,
	PCPB_GROUPING_ON,
	PCPB_GROUPING_OFF,
};

enum pcpb_pcp_mt {
	PCPB_PCP_MT_PAGEBLOCK, /* drains free to the pageblock's type (v6.10) */
	PCPB_PCP_MT_CACHED,    /* to the type the page had when freed */
};

struct pcpb_config {
	uint64_t memory_bytes; /* memory: 1 GiB; rounded down to 4 MiB/node */
	int nodes;	       /* nodes: 1; 0 = the real nodes via libnuma */
	int nr_cpus;	       /* cpus: online CPUs of this machine */
	enum pcpb_cpu_mode cpu_mode; /* cpu_mode: thread */
	enum pcpb_policy policy;     /* policy: classic */
	enum pcpb_fallback fallback; /* fallback: cached */
	bool pcp_enabled; /* pcp: on; off = boot pageset, high 0 batch 1 */
	int batch;	  /* batch: 0 = zone_batchsize() */
	int high_min;	  /* high_min: 0 = low watermark / node CPUs */
	int high_max;	  /* high_max: 0 = managed / 8 / node CPUs */
	unsigned int pageblock_order; /* pageblock_order: 9 */
	enum pcpb_backing backing;    /* backing: none */
	bool lockstat;		      /* lockstat: on (hold/wait histograms) */
	/* lockstat_pcp_sample: 8; time one pcp->lock hold in about N (a
	 * power of 2) at the alloc and free sites, every other hold; the
	 * acquisition counts are always exact */
	unsigned int lockstat_pcp_sample;
	/* lockstat_preempt: on; timed holds and waits the host disturbed (the
	 * thread lost its CPU) are counted apart, where rseq can tell */
	bool lockstat_preempt;
	int vmstat_ms; /* vmstat_ms: 1000; PCP high decay period, 0 = off */
	bool memcg;    /* memcg: off; memcg kmem accounting is enabled */
	/* policy=owner knobs */
	enum pcpb_remote_free remote_free; /* remote_free: lock */
	unsigned int phase0_bound;	   /* phase0_bound: none (PCPB_P0_*) */
	unsigned int phase0_scan_limit;	   /* the N of scan_limit:N: 4 */
	bool owned_per_mt;		   /* owned_lists: single */
	uint64_t cma_bytes;		   /* cma_bytes: 0; CMA pageblocks */
	enum pcpb_owner_merge owner_merge; /* owner_merge: drain */
	enum pcpb_pcp_fastpath pcp_fastpath; /* pcp_fastpath: spin */
	enum pcpb_kernel kernel;	     /* kernel: next */
	/* The profile's rules (kernel= sets them unless overridden). */
	enum pcpb_pcp_refill pcp_refill;
	enum pcpb_pcp_free pcp_free;
	enum pcpb_pcp_high pcp_high;
	enum pcpb_free_high free_high;
	enum pcpb_drain drain;
	enum pcpb_pcp_mt pcp_mt;
	bool thp; /* thp: always; raises min_free_kbytes as khugepaged does */
	enum pcpb_zone_type zone_type; /* zone: normal */
	/* grouping: auto; page_group_by_mobility_disabled below
	 * pageblock_nr_pages * MIGRATE_TYPES pages (12 MiB), as the kernel */
	enum pcpb_grouping grouping;
	/* free_check: off (on in debug builds); a free claims its page with
	 * a compare-exchange, so two threads freeing the same page at once
	 * get 0 and -EINVAL instead of corrupting the lists */
	bool free_check;
	/* watermark_scale_factor: 10 (0.1% of the zone between marks) */
	int watermark_scale_factor;
	/* watermark_boost_factor: 15000; a fallback raises the watermarks by
	 * a pageblock, up to this share (1/10000) of the high watermark,
	 * until kswapd runs (0: never) */
	int watermark_boost_factor;
	/* wmark_min: 0; each zone's min watermark in pages, as a kernel's
	 * /proc/zoneinfo shows it, instead of the min_free_kbytes formulas */
	long wmark_min;
	/* hold_cost: ns per free-list operation, pfn-scan step, fallback
	 * search, page moved, and per hold, for the modelled zone->lock hold;
	 * hold_cost_file: the 'pcpbuddy calibrate' file they came from, or "" */
	double hold_cost[5];
	char hold_cost_file[256];
	/* Bit k: config key k of the profile's rules was set explicitly to
	 * another value than the profile's; a later kernel= keeps it. */
	uint32_t profile_overrides;
};

struct pcpb;

PCPB_API void pcpb_config_init(struct pcpb_config *cfg);
/**
 * pcpb_config_set - set one field by its key name.
 * Return: 0, or -EINVAL for an unknown key or a bad value (cfg unchanged).
 */
PCPB_API PCPB_MUST_CHECK int
pcpb_config_set(struct pcpb_config *cfg, const char *key, const char *value);
/**
 * pcpb_config_parse - apply "k=v,k=v" to @cfg, all or nothing.
 * @err: receives a one-line reason on failure (may be NULL).
 * Return: 0 or -EINVAL.
 */
PCPB_API PCPB_MUST_CHECK int pcpb_config_parse(struct pcpb_config *cfg,
					       const char *kvlist, char *err,
					       size_t errlen);
/* Every key with its default and meaning, one per line, then the
 * policies.  Return: 0, or -EIO when @out failed. */
PCPB_API int pcpb_config_help(FILE *out);
/* "kernel=6.1: fallback=legacy ... (overrides: none)": the profile and the
 * rule each key chose.  Return: the length snprintf() would write. */
PCPB_API int pcpb_config_profile(const struct pcpb_config *cfg, char *buf,
				 size_t len);
/** pcpb_config_format - write @cfg as "k=v,..." into @buf. */
PCPB_API int pcpb_config_format(const struct pcpb_config *cfg, char *buf,
				size_t len);

/**
 * pcpb_create - build an instance.
 * Return: 0 and *@out, or -EINVAL (bad config) / -ENOMEM, or -EOPNOTSUPP
 * for pcp_fastpath=rseq where glibc registered no rseq or membarrier
 * refused MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED_RSEQ.
 */
PCPB_API PCPB_MUST_CHECK int pcpb_create(const struct pcpb_config *cfg,
					 struct pcpb **out);
/* Context: no other thread may be using @inst. */
PCPB_API void pcpb_destroy(struct pcpb *inst);
PCPB_API const struct pcpb_config *pcpb_get_config(const struct pcpb *inst);

/**
 * pcpb_alloc_pages - allocate 2^@order pages on the calling CPU.
 * @migratetype: a PCPB_MT_* request type (0..2).
 * Return: the first pfn, or -ENOMEM / -EINVAL.
 */
PCPB_API PCPB_MUST_CHECK long pcpb_alloc_pages(struct pcpb *inst,
					       unsigned int order,
					       int migratetype,
					       unsigned int flags);
/**
 * pcpb_free_pages - free what pcpb_alloc_pages() returned, on this CPU.
 * Return: 0, or -EINVAL for a double free, a wrong order, a foreign or
 * misaligned pfn; -EINVAL changes nothing.
 */
PCPB_API int pcpb_free_pages(struct pcpb *inst, unsigned long pfn,
			     unsigned int order);
/* Explicit-CPU variants: act as CPU @cpu (0 <= cpu < nr_cpus). */
PCPB_API PCPB_MUST_CHECK long pcpb_alloc_pages_cpu(struct pcpb *inst, int cpu,
						   unsigned int order,
						   int migratetype,
						   unsigned int flags);
PCPB_API int pcpb_free_pages_cpu(struct pcpb *inst, int cpu, unsigned long pfn,
				 unsigned int order);

/* The two alloc_pages_bulk() contracts of the 2025 bulk thread. */
enum pcpb_bulk_contract {
	PCPB_BULK_FILL_NULL, /* fill only empty slots; return all populated */
	PCPB_BULK_OUTPUT,    /* Lin's v2: write from 0, return this call's */
};
#define PCPB_NO_PAGE (-1L) /* an empty slot */

/**
 * pcpb_alloc_pages_bulk - alloc_pages_bulk(): up to @nr order-0 pages into
 * @array from the local zone's PCP under one lock hold.  Like the kernel it
 * falls back to one page the slow way for a single page, for memcg-
 * accounted requests (PCPB_GFP_ACCOUNT with memcg=on, 8dcb3060d81d), when
 * the PCP trylock fails, or when the local zone fails the low watermark plus
 * the pages wanted.
 * Return: FILL_NULL: the populated slots counted from the start of @array,
 * pre-existing ones included; OUTPUT: the pages written by this call (at
 * @array[0..ret-1]).  -EINVAL for bad arguments; fewer than asked (even 0)
 * when memory is short, so callers loop.
 */
PCPB_API long pcpb_alloc_pages_bulk(struct pcpb *inst, int migratetype,
				    unsigned int flags, unsigned long nr,
				    long *array,
				    enum pcpb_bulk_contract contract);
PCPB_API long pcpb_alloc_pages_bulk_cpu(struct pcpb *inst, int cpu,
					int migratetype, unsigned int flags,
					unsigned long nr, long *array,
					enum pcpb_bulk_contract contract);

/**
 * pcpb_set_thread_cpu - make the calling thread act as virtual CPU @cpu
 * in thread and explicit modes, for every instance (taken modulo nr_cpus).
 * Return: 0 or -EINVAL for a negative cpu.
 */
PCPB_API int pcpb_set_thread_cpu(int cpu);
/* The CPU the calling thread acts as on @inst. */
PCPB_API int pcpb_current_cpu(struct pcpb *inst);

enum pcpb_event {
	PCPB_EV_ALLOC = 1,
	PCPB_EV_FREE = 2,
	PCPB_EV_DRAIN_ALL = 3,	 /* a pcpb_drain_all() call */
	PCPB_EV_STATS_RESET = 4, /* a pcpb_stats_reset() call */
	PCPB_EV_VMSTAT_TICK = 5, /* a pcpb_vmstat_tick(), the timer's too */
};
/* @migratetype is -1 and @flags 0 for frees; the last three carry only @ev. */
typedef void (*pcpb_event_fn)(void *ctx, enum pcpb_event ev, int cpu,
			      unsigned long pfn, unsigned int order,
			      int migratetype, unsigned int flags);
/**
 * pcpb_set_event_hook - call @fn, on the acting thread, after every
 * successful allocation (bulk pages one by one, as order 0) and before every
 * valid free, and on the calls that change state besides them: what
 * 'pcpbuddy run DRIVER --record' writes traces from.  A free's event comes
 * before any allocation can return that pfn again; the allocator's own
 * drain on allocation failure is not an event (a replay repeats it).
 * Context: while no other thread uses @inst; @fn NULL removes it.  @fn runs
 * concurrently on several threads and must not call back into @inst.
 */
PCPB_API void pcpb_set_event_hook(struct pcpb *inst, pcpb_event_fn fn,
				  void *ctx);

PCPB_API unsigned long pcpb_nr_pages(const struct pcpb *inst);
/* The struct page array's own mapping (a user of the library, such as the
 * preload shim, tells its memory from the program's). */
PCPB_API const void *pcpb_memmap(const struct pcpb *inst, size_t *len);
/* Return: the address of @pfn's bytes, or NULL when not backed/foreign. */
PCPB_API void *pcpb_pfn_to_addr(struct pcpb *inst, unsigned long pfn);
/* Return: the pfn of @addr, or -EINVAL when not backed/foreign. */
PCPB_API long pcpb_addr_to_pfn(struct pcpb *inst, const void *addr);

/* A node's free pages and watermarks (cheap, lockless, racy). */
/* min, low and high include the boost, as the kernel's wmark_pages() */
struct pcpb_watermarks {
	uint64_t free, min, low, high, boost;
};
PCPB_API int pcpb_node_watermarks(struct pcpb *inst, int node,
				  struct pcpb_watermarks *wm);
/* The pageset parameters of @node's zone as the instance derived them
 * (batch 63 where the config says 0). */
struct pcpb_pageset {
	uint64_t managed_pages;
	int batch, high_min, high_max;
};
PCPB_API int pcpb_node_pageset(struct pcpb *inst, int node,
			       struct pcpb_pageset *ps);
/*
 * Watermark boost's kswapd.  A fallback that boosts sets
 * ZONE_BOOSTED_WATERMARK; the next allocation from the zone clears it and
 * wakes kswapd.  Without an attached kswapd the wake runs the model's own
 * at once: with no page cache to reclaim, it only takes back the boost it
 * found, as balance_pgdat() does at its end.  pcpb_kswapd_attach(true)
 * hands the wakes to the caller's kswapd (--memory-pressure):
 * pcpb_kswapd_take_wake() returns the boost a pending wake found (0: no
 * wake) and clears it; after reclaiming, pcpb_kswapd_boost_done() takes
 * that boost back under zone->lock (site kswapd).
 */
PCPB_API void pcpb_kswapd_attach(struct pcpb *inst, bool on);
PCPB_API uint64_t pcpb_kswapd_take_wake(struct pcpb *inst, int node);
PCPB_API void pcpb_kswapd_boost_done(struct pcpb *inst, int node,
				     uint64_t boost);
/* kswapd's ZONE_RECLAIM_ACTIVE: PCP high shrinks while it is set. */
PCPB_API void pcpb_set_reclaim_active(struct pcpb *inst, int node, bool on);
PCPB_API int pcpb_nr_nodes(const struct pcpb *inst);

/**
 * pcpb_pcp_preset - put CPU @cpu's pageset where a kernel snapshot had it
 * (/proc/zoneinfo's count and high): for each of @lists, nr_blocks blocks
 * of that order and type allocated on @cpu, then (after the CPU's lists
 * are drained of what those allocations refilled) freed back onto its
 * lists; high set to @high (clamped to high_min..high_max).  Orders above
 * PAGE_ALLOC_COSTLY_ORDER other than the pageblock order do not stay on a
 * PCP.  The work shows in the counters: reset them after.
 * Context: while no other thread uses @inst.
 * Return: 0, -EINVAL, or -ENOMEM when the zone could not give every block
 * (those it gave are on the lists).
 */
struct pcpb_pcp_stock {
	unsigned int order;
	int migratetype;
	int nr_blocks;
};
PCPB_API int pcpb_pcp_preset(struct pcpb *inst, int cpu,
			     const struct pcpb_pcp_stock *lists, int nr_lists,
			     int high);
/* drain_all_pages(): empty every PCP into the zones. */
PCPB_API void pcpb_drain_all(struct pcpb *inst);
/* One vmstat period: decay_pcp_high() on every PCP (what the timer does). */
/* The same on one CPU's PCPs, as that CPU's vmstat_update() work does; not
 * recorded as an event. */
PCPB_API void pcpb_vmstat_tick_cpu(struct pcpb *inst, int cpu);
PCPB_API void pcpb_vmstat_tick(struct pcpb *inst);

/* ---- statistics ------------------------------------------------------- */

/*
 * Lock call sites, X(name, kind): "lock" where a lock is taken, "section"
 * for a phase timed inside a hold already counted (claim and steal under
 * zone->lock, the owner's merge pass under pcp->lock), which is never an
 * acquisition.
 */
/* clang-format off */
#define PCPB_LOCK_SITES(X)			\
	X(alloc, lock)				\
	X(free, lock)				\
	X(refill, lock)				\
	X(drain, lock)				\
	X(free_one, lock)			\
	X(bulk, lock)				\
	X(claim, section)			\
	X(steal, section)			\
	X(decay, lock)				\
	X(phase0, lock)				\
	X(phase1, lock)				\
	X(phase2, lock)				\
	X(phase3, lock)				\
	X(remote_free, lock)			\
	X(kswapd, lock)				\
	X(drain_merge, section)
/* clang-format on */
#define PCPB_ENUM_SITE(name, kind) PCPB_SITE_##name,
enum pcpb_lock_site { PCPB_LOCK_SITES(PCPB_ENUM_SITE) PCPB_NR_LOCK_SITES };

/*
 * The counter lists.  Each entry is X(name, fold): how the copies kept per
 * zone and per PCP combine into a snapshot, "sum" or "max" (the largest
 * single event, such as the costliest refill).  Everything a report, a
 * reset or the JSON does with a counter is generated from these lists.
 */
/* Operation counters, exact (counted under the lock that did the work). */
/* clang-format off */
#define PCPB_OP_COUNTERS(X)			\
	X(alloc, sum)				\
	X(alloc_pages, sum)			\
	X(free, sum)				\
	X(alloc_failed, sum)			\
	X(einval, sum)
/* Deterministic work under zone->lock. */
#define PCPB_WORK_COUNTERS(X)			\
	X(fallback_searches, sum)		\
	X(claims, sum)				\
	X(claim_success, sum)			\
	X(steals, sum)				\
	X(pages_moved_zone, sum)		\
	X(freelist_ops, sum)			\
	X(merges, sum)				\
	X(splits, sum)				\
	X(pfn_scan_steps, sum)			\
	X(pages_moved_block, sum)		\
	X(rmqueue_calls, sum)			\
	X(boosts, sum)				\
	X(boost_resets, sum)			\
	X(refill_cost_max, max)
/* Per-CPU page list activity, under pcp->lock. */
#define PCPB_PCP_COUNTERS(X)			\
	X(hits, sum)				\
	X(refills, sum)				\
	X(refill_pages, sum)			\
	X(drains, sum)				\
	X(drain_pages, sum)			\
	X(high_decays, sum)			\
	X(local_splits, sum)
/* The ownership policy's work (owner and chunky). */
#define PCPB_OWNER_COUNTERS(X)			\
	X(blocks_claimed, sum)			\
	X(blocks_disowned, sum)			\
	X(blocks_recovered, sum)		\
	X(pages_recovered, sum)			\
	X(phase0_scan_steps, sum)		\
	X(phase0_scan_max, max)			\
	X(phase0_skips, sum)			\
	X(refills_phase0, sum)			\
	X(refills_phase1, sum)			\
	X(refills_phase2, sum)			\
	X(refills_phase3, sum)			\
	X(pages_phase0, sum)			\
	X(pages_phase1, sum)			\
	X(pages_phase2, sum)			\
	X(pages_phase3, sum)			\
	X(remote_free_lock, sum)		\
	X(remote_free_trylock, sum)		\
	X(remote_free_fallback, sum)		\
	X(remote_free_llist, sum)		\
	X(pcp_merges, sum)			\
	X(cma_allocs, sum)
/* clang-format on */
#define PCPB_ENUM_OP(name, fold) PCPB_OP_##name,
#define PCPB_ENUM_WORK(name, fold) PCPB_WORK_##name,
#define PCPB_ENUM_PCP(name, fold) PCPB_PCP_##name,
#define PCPB_ENUM_OWNER(name, fold) PCPB_OWN_##name,
enum { PCPB_OP_COUNTERS(PCPB_ENUM_OP) PCPB_NR_OPS };
enum { PCPB_WORK_COUNTERS(PCPB_ENUM_WORK) PCPB_NR_WORK };
enum { PCPB_PCP_COUNTERS(PCPB_ENUM_PCP) PCPB_NR_PCP_STATS };
enum { PCPB_OWNER_COUNTERS(PCPB_ENUM_OWNER) PCPB_NR_OWNER };

struct pcpb_hist_summary {
	uint64_t count, total_ns;
	/* ns; p50..p999 are bucket upper bounds, min and max are exact */
	uint64_t min, p50, p99, p999, max;
};

struct pcpb_lock_site_stats {
	uint64_t acquisitions;
	uint64_t contended;	 /* blocking acquisitions that waited */
	uint64_t trylock_failed; /* trylocks that found the lock taken */
	/* timed holds and waits during which the thread lost its CPU (or,
	 * for a wait, the holder did); not in the histograms below */
	uint64_t hold_disturbed, wait_disturbed;
	struct pcpb_hist_summary hold_ns; /* clean timed holds */
	struct pcpb_hist_summary wait_ns; /* clean waits (contended only) */
};

struct pcpb_lock_class_stats {
	/* Acquisitions sum over the real sites; claim/steal are sections. */
	struct pcpb_lock_site_stats all;
	struct pcpb_lock_site_stats sites[PCPB_NR_LOCK_SITES];
	/* the disturbed holds and waits of every site */
	struct pcpb_hist_summary hold_disturbed_ns, wait_disturbed_ns;
};

struct pcpb_stats {
	uint64_t ops[PCPB_NR_OPS];
	uint64_t work[PCPB_NR_WORK];
	uint64_t pcp[PCPB_NR_PCP_STATS];
	uint64_t owner[PCPB_NR_OWNER]; /* phase0_scan_max is a max, not a sum */
	uint64_t pcp_merges_by_order[PCPB_NR_PAGE_ORDERS]; /* merged into */
	struct pcpb_lock_class_stats zone_lock, pcp_lock;
	/* zone->lock holds as modelled: the work done in each hold times the
	 * config's hold_cost; identical for the same work, unlike hold_ns */
	struct pcpb_hist_summary zone_hold_model;
	/* thpchallenge-style fallback events [requested][block type]. */
	uint64_t pollute[PCPB_NR_REQUEST_MT][PCPB_NR_MIGRATETYPES];
	uint64_t convert[PCPB_NR_REQUEST_MT][PCPB_NR_MIGRATETYPES];
	/* buddyinfo: free blocks per order; pagetypeinfo: free pages per type */
	uint64_t free_blocks_by_order[PCPB_NR_PAGE_ORDERS];
	uint64_t free_pages_by_mt[PCPB_NR_MIGRATETYPES];
	uint64_t pageblocks, pageblocks_by_mt[PCPB_NR_MIGRATETYPES];
	uint64_t mixed_pageblocks;    /* hold pages allocated as another type */
	uint64_t owned_pageblocks;    /* have an owner CPU */
	uint64_t owned_blocks_listed; /* on an owner's fragment list */
	uint64_t free_cma_pages;
	uint64_t pages_total, pages_free, pages_pcp, pages_allocated;
};

/* Return: 0; takes every lock in order for a consistent snapshot. */
PCPB_API int pcpb_stats_read(struct pcpb *inst, struct pcpb_stats *st);
/* One CPU's PCP counters (PCPB_PCP_*), summed over its zones. */
PCPB_API int pcpb_pcp_stats_cpu(struct pcpb *inst, int cpu,
				uint64_t out[PCPB_NR_PCP_STATS]);
/* Zero every counter and histogram (not the state). */
PCPB_API void pcpb_stats_reset(struct pcpb *inst);

struct pcpb_check_result {
	bool ok;
	uint64_t pages_total, pages_free, pages_pcp, pages_allocated;
	uint64_t pages_in_flight; /* pushed to an owner's llist, not spliced */
	char msg[256]; /* the first violated invariant, by its I-number */
};

/**
 * pcpb_check - the full invariant walk (docs/design.md lists I1..In).
 * Context: takes every lock; other threads may keep running.
 * Return: 0 when every invariant holds, -EUCLEAN otherwise.
 */
PCPB_API int pcpb_check(struct pcpb *inst, struct pcpb_check_result *res);

enum pcpb_format { PCPB_FMT_TEXT, PCPB_FMT_JSON, PCPB_FMT_CSV };
/* Return: 0, or -EINVAL for a bad format. JSON keys: README "Report". */
PCPB_API int pcpb_report(struct pcpb *inst, FILE *out, enum pcpb_format fmt);
/*
 * pcpb_report_stats - the same report of counters read earlier with
 * pcpb_stats_read(), with the check as of now: a workload reports its
 * measured phase without the teardown that gave its pages back.
 */
PCPB_API int pcpb_report_stats(struct pcpb *inst, const struct pcpb_stats *st,
			       FILE *out, enum pcpb_format fmt);

/*
 * pcpb_show - the state as the kernel's /proc files lay it out, per node:
 * "buddyinfo", "pagetypeinfo", "zoneinfo" (watermarks and pagesets only),
 * "extfrag" and "unusable" (debugfs extfrag/ indices).  Free pages in the
 * PCPs are not in the buddy, as in the kernel.
 * Context: takes each zone's and pageset's lock in turn; other threads may
 * keep running.  Return: 0, -EINVAL for an unknown view, -ENOMEM, or -EIO
 * on a write error.
 */
PCPB_API int pcpb_show(struct pcpb *inst, FILE *out, const char *view);
/*
 * pcpb_report_set_lock_table - how the text report's lock table looks,
 * in perf lock's terms: @unit "auto" (each time carries its own unit, as
 * perf lock prints them), "ns", "us" or "ms" (named in every header);
 * @sort a column (pcpb_lock_table_columns()) to order each class's sites
 * by, largest first, or NULL for site order; @fields the columns to print,
 * comma-separated, or NULL for all.  JSON and CSV are not affected.
 * A NULL @inst checks the arguments only.
 * Return: 0, or -EINVAL with the reason in @err and nothing changed.
 */
/*
 * pcpb_preempt_watch - whether timed holds and waits are told clean or
 * disturbed in this process (lockstat_preempt=on also needs this).
 * Return: true, or false with the reason in *@why.
 */
PCPB_API bool pcpb_preempt_watch(const char **why);

PCPB_API int pcpb_report_set_lock_table(struct pcpb *inst, const char *unit,
					const char *sort, const char *fields,
					char *err, size_t len);
/* The lock table's column names, NULL-terminated. */
PCPB_API const char *const *pcpb_lock_table_columns(void);

/* The view names pcpb_show() takes, NULL-terminated. */
PCPB_API const char *const *pcpb_show_views(void);

/* Name tables, for reports and CLIs. */
PCPB_API const char *pcpb_migratetype_name(int mt);
PCPB_API const char *pcpb_lock_site_name(int site);

#ifdef __cplusplus
}
#endif
#endif /* PCPBUDDY_H */
