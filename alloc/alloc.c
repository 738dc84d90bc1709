// SPDX-License-Identifier: GPL-2.0-only OR MIT
/*
 * alloc.c - the public entry points: instance lifetime, allocation over
 * the zonelist with watermarks, free with input validation, drain_all and
 * the vmstat timer.
 *
 * Port of mm/page_alloc.c: get_page_from_freelist() (the ZONE_BELOW_HIGH
 * detection and the watermark check per zone), rmqueue(), the slow path's
 * min-watermark pass and its drain-and-retry before failing, and
 * __free_pages() -> free_frozen_pages() / __free_pages_ok().
 *
 * Invariants: A1-A3 of internal.h.  Bad input (-EINVAL) is detected
 * before any state changes.
 *
 * Locking: see internal.h.  The free-path validation reads the page's
 * state without a lock: a caller's own allocated page cannot change under
 * it, so only a racing double free by two threads escapes detection.
 */
#include <errno.h>
#include <limits.h>
#include <numa.h>
#include <numaif.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

#include "../common/cpu.h"
#include "internal.h"

void inst_lock_all(struct pcpb *inst)
{
	int cpu, n;

	for (cpu = 0; cpu < inst->nr_cpus; cpu++)
		for (n = 0; n < inst->nr_nodes; n++)
			spin_lock_quiet(&inst_pcp(inst, cpu, n)->lock);
	for (n = 0; n < inst->nr_nodes; n++)
		spin_lock_quiet(&inst->zones[n]->lock);
}

void inst_unlock_all(struct pcpb *inst)
{
	int cpu, n;

	for (n = inst->nr_nodes - 1; n >= 0; n--)
		spin_unlock_quiet(&inst->zones[n]->lock);
	for (cpu = inst->nr_cpus - 1; cpu >= 0; cpu--)
		for (n = inst->nr_nodes - 1; n >= 0; n--)
			spin_unlock_quiet(&inst_pcp(inst, cpu, n)->lock);
}

static int real_nr_nodes(void)
{
	if (numa_available() < 0)
		return 1;
	return min(numa_max_node() + 1, PCPB_MAX_NODES);
}

/* Real distances when the nodes exist, else a ring. */
static void build_zonelists(struct pcpb *inst)
{
	bool real =
		numa_available() >= 0 && inst->nr_nodes <= numa_max_node() + 1;
	int n, i, j;

	for (n = 0; n < inst->nr_nodes; n++) {
		int dist[PCPB_MAX_NODES];

		for (i = 0; i < inst->nr_nodes; i++) {
			int other = (n + i) % inst->nr_nodes;

			inst->zonelist[n][i] = (uint8_t)other;
			dist[i] = real ? numa_distance(n, other) : i;
		}
		/* Insertion sort by distance; stable, so ties keep ring order. */
		for (i = 1; i < inst->nr_nodes; i++)
			for (j = i; j > 0 && dist[j - 1] > dist[j]; j--) {
				int d = dist[j];
				uint8_t z = inst->zonelist[n][j];

				dist[j] = dist[j - 1];
				inst->zonelist[n][j] = inst->zonelist[n][j - 1];
				dist[j - 1] = d;
				inst->zonelist[n][j - 1] = z;
			}
	}
}

static int setup_backing(struct pcpb *inst)
{
	int n;

	if (inst->cfg.backing != PCPB_BACKING_ANON)
		return 0;
	inst->backing_bytes = inst->nr_pages << PCPB_PAGE_SHIFT;
	inst->backing =
		mmap(NULL, inst->backing_bytes, PROT_READ | PROT_WRITE,
		     MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (inst->backing == MAP_FAILED) {
		inst->backing = NULL;
		return -ENOMEM;
	}
	if (numa_available() < 0)
		return 0;
	for (n = 0; n < inst->nr_nodes && n <= numa_max_node(); n++) {
		unsigned long mask = 1UL << n;
		size_t len = inst->pages_per_node << PCPB_PAGE_SHIFT;

		/* Binding is best effort: a failure leaves the range unbound. */
		(void)mbind(inst->backing + (size_t)n * len, len, MPOL_BIND,
			    &mask, sizeof(mask) * 8, 0);
	}
	return 0;
}

static void *vmstat_worker(void *arg)
{
	struct pcpb *inst = arg;
	struct timespec ts;

	pthread_mutex_lock(&inst->vmstat_mutex);
	while (!inst->vmstat_stop) {
		clock_gettime(CLOCK_MONOTONIC, &ts);
		ts.tv_nsec += (long)inst->cfg.vmstat_ms % 1000 * 1000000;
		ts.tv_sec +=
			inst->cfg.vmstat_ms / 1000 + ts.tv_nsec / 1000000000;
		ts.tv_nsec %= 1000000000;
		if (pthread_cond_timedwait(&inst->vmstat_cond,
					   &inst->vmstat_mutex, &ts) == 0)
			continue;
		if (inst->vmstat_stop)
			break;
		/* Under vmstat_mutex, so pcpb_set_event_hook() never lands
		 * in the middle of a tick's event. */
		pcpb_vmstat_tick(inst);
	}
	pthread_mutex_unlock(&inst->vmstat_mutex);
	return NULL;
}

/* cma_bytes spread over the nodes, in whole pageblocks. */
static unsigned long cma_pages_per_node(const struct pcpb *inst)
{
	unsigned long pages =
		(unsigned long)(inst->cfg.cma_bytes >> PCPB_PAGE_SHIFT) /
		(unsigned long)inst->nr_nodes;

	return pages >> inst->cfg.pageblock_order << inst->cfg.pageblock_order;
}

static int setup_zones_and_pcps(struct pcpb *inst)
{
	int n, cpu, err, node_cpus[PCPB_MAX_NODES] = { 0 };

	for (n = 0; n < inst->nr_nodes; n++) {
		struct zone_params zp = {
			.start_pfn = (unsigned long)n * inst->pages_per_node,
			.nr_pages = inst->pages_per_node,
			.pageblock_order = inst->cfg.pageblock_order,
			.fallback = inst->cfg.fallback,
			.node = n,
			.zone_idx = n,
			.nr_cpus = inst->nr_cpus,
			.lockstat = inst->cfg.lockstat,
			.cma_pages = cma_pages_per_node(inst),
			.cfg = &inst->cfg,
			.mobility_disabled = inst->mobility_disabled,
		};

		inst->zones[n] = aligned_alloc(64, sizeof(struct zone));
		if (!inst->zones[n])
			return -ENOMEM;
		err = zone_init(inst->zones[n], inst->memmap, &zp);
		if (err) {
			free(inst->zones[n]);
			inst->zones[n] = NULL;
			return err;
		}
		inst->zones[n]->per_cpu_pageset =
			calloc((size_t)inst->nr_cpus, sizeof(void *));
		if (!inst->zones[n]->per_cpu_pageset)
			return -ENOMEM;
	}
	setup_per_zone_wmarks(inst->zones, inst->nr_nodes, inst->cfg.thp,
			      inst->cfg.watermark_scale_factor,
			      (unsigned long)inst->cfg.wmark_min);

	inst->cpu_node = calloc((size_t)inst->nr_cpus, sizeof(int));
	if (!inst->cpu_node)
		return -ENOMEM;
	for (cpu = 0; cpu < inst->nr_cpus; cpu++) {
		/* Contiguous blocks of CPUs per node, like most machines. */
		inst->cpu_node[cpu] =
			(int)((long)cpu * inst->nr_nodes / inst->nr_cpus);
		node_cpus[inst->cpu_node[cpu]]++;
	}
	for (n = 0; n < inst->nr_nodes; n++) {
		struct pcp_params pp = {
			.policy = pcp_policy_get(inst->cfg.policy),
			.enabled = inst->cfg.pcp_enabled,
			.batch = inst->cfg.batch,
			.high_min = inst->cfg.high_min,
			.high_max = inst->cfg.high_max,
			.nr_node_cpus =
				node_cpus[n] ? node_cpus[n] : inst->nr_cpus,
		};

		zone_pageset_params(inst->zones[n], &pp);
	}

	inst->pcps = aligned_alloc(64, (size_t)inst->nr_cpus *
					       (size_t)inst->nr_nodes *
					       sizeof(struct per_cpu_pages));
	if (!inst->pcps)
		return -ENOMEM;
	memset(inst->pcps, 0,
	       (size_t)inst->nr_cpus * (size_t)inst->nr_nodes *
		       sizeof(struct per_cpu_pages));
	for (cpu = 0; cpu < inst->nr_cpus; cpu++)
		for (n = 0; n < inst->nr_nodes; n++) {
			struct per_cpu_pages *pcp = inst_pcp(inst, cpu, n);

			err = pcp_init(pcp, inst->zones[n], cpu,
				       inst->cfg.lockstat
					       ? inst->cfg.lockstat_pcp_sample
					       : 0);
			if (err)
				return err;
			if (inst->cfg.lockstat_preempt)
				lock_set_watch(&pcp->lock);
			if (inst->cfg.pcp_fastpath == PCPB_FASTPATH_RSEQ)
				lock_set_rseq_cpu(&pcp->lock, cpu);
			else if (inst->cfg.pcp_fastpath == PCPB_FASTPATH_SPIN)
				lock_set_spin(&pcp->lock);
			inst->zones[n]->per_cpu_pageset[cpu] = pcp;
		}
	build_zonelists(inst);
	return 0;
}

int pcpb_create(const struct pcpb_config *cfg, struct pcpb **out)
{
	struct pcpb *inst;
	unsigned long chunk = 1UL << MAX_PAGE_ORDER;
	int err;

	if (!cfg || !out || config_validate(cfg, NULL, 0))
		return -EINVAL;
	if (cfg->pcp_fastpath == PCPB_FASTPATH_RSEQ && lock_rseq_supported())
		return -EOPNOTSUPP;
	inst = calloc(1, sizeof(*inst));
	if (!inst)
		return -ENOMEM;
	inst->cfg = *cfg;
	inst->nr_nodes = cfg->nodes ? cfg->nodes : real_nr_nodes();
	inst->nr_cpus = cfg->nr_cpus;
	inst->cfg.nodes = inst->nr_nodes;
	/* Each node is whole MAX_PAGE_ORDER chunks, so zones align. */
	inst->pages_per_node =
		(unsigned long)(cfg->memory_bytes >> PCPB_PAGE_SHIFT) /
		(unsigned long)inst->nr_nodes / chunk * chunk;
	inst->nr_pages = inst->pages_per_node * (unsigned long)inst->nr_nodes;
	inst->free_check = cfg->free_check || PCPB_DEBUG;
	/* build_all_zonelists(): fewer pages than pageblock_nr_pages *
	 * MIGRATE_TYPES disable grouping by mobility. */
	inst->mobility_disabled =
		cfg->grouping == PCPB_GROUPING_OFF ||
		(cfg->grouping == PCPB_GROUPING_AUTO &&
		 inst->nr_pages < ((unsigned long)MIGRATE_TYPES
				   << cfg->pageblock_order));
	if (!inst->pages_per_node) {
		free(inst);
		return -EINVAL;
	}
	pthread_mutex_init(&inst->drain_mutex, NULL);
	pthread_mutex_init(&inst->vmstat_mutex, NULL);
	{
		pthread_condattr_t ca;

		/* The worker's deadlines are CLOCK_MONOTONIC. */
		pthread_condattr_init(&ca);
		pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
		pthread_cond_init(&inst->vmstat_cond, &ca);
		pthread_condattr_destroy(&ca);
	}

	/* Zero-filled on demand: untouched tails cost nothing. */
	inst->memmap_bytes = inst->nr_pages * sizeof(struct page);
	inst->memmap = mmap(NULL, inst->memmap_bytes, PROT_READ | PROT_WRITE,
			    MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (inst->memmap == MAP_FAILED) {
		inst->memmap = NULL;
		err = -ENOMEM;
		goto err_destroy;
	}
	/*
	 * Huge pages where the system allows, as the kernel maps its vmemmap
	 * with PMDs: with 4 KiB pages, walks over the memmap missed the TLB
	 * and their speed varied by 1.4x between identical instances.
	 */
	madvise(inst->memmap, inst->memmap_bytes, MADV_HUGEPAGE);
	err = setup_backing(inst);
	if (err)
		goto err_destroy;
	err = setup_zones_and_pcps(inst);
	if (err)
		goto err_destroy;
	if (cfg->vmstat_ms > 0) {
		if (pthread_create(&inst->vmstat_thread, NULL, vmstat_worker,
				   inst)) {
			err = -ENOMEM;
			goto err_destroy;
		}
		inst->vmstat_running = true;
	}
	*out = inst;
	return 0;

err_destroy:
	pcpb_destroy(inst);
	return err;
}

void pcpb_destroy(struct pcpb *inst)
{
	int n, cpu;

	if (!inst)
		return;
	if (inst->vmstat_running) {
		pthread_mutex_lock(&inst->vmstat_mutex);
		inst->vmstat_stop = true;
		pthread_cond_signal(&inst->vmstat_cond);
		pthread_mutex_unlock(&inst->vmstat_mutex);
		pthread_join(inst->vmstat_thread, NULL);
	}
	if (inst->pcps) {
		for (cpu = 0; cpu < inst->nr_cpus; cpu++)
			for (n = 0; n < inst->nr_nodes; n++)
				pcp_destroy(inst_pcp(inst, cpu, n));
		free(inst->pcps);
	}
	for (n = 0; n < inst->nr_nodes; n++) {
		if (!inst->zones[n])
			continue;
		free(inst->zones[n]->per_cpu_pageset);
		zone_destroy(inst->zones[n]);
		free(inst->zones[n]);
	}
	free(inst->cpu_node);
	if (inst->backing)
		munmap(inst->backing, inst->backing_bytes);
	if (inst->memmap)
		munmap(inst->memmap, inst->memmap_bytes);
	pthread_cond_destroy(&inst->vmstat_cond);
	pthread_mutex_destroy(&inst->vmstat_mutex);
	pthread_mutex_destroy(&inst->drain_mutex);
	free(inst);
}

const struct pcpb_config *pcpb_get_config(const struct pcpb *inst)
{
	return &inst->cfg;
}

const void *pcpb_memmap(const struct pcpb *inst, size_t *len)
{
	*len = inst->memmap_bytes;
	return inst->memmap;
}

unsigned long pcpb_nr_pages(const struct pcpb *inst)
{
	return inst->nr_pages;
}

/* rmqueue(): the PCP, else the buddy; then a boost's kswapd wake. */
static unsigned long rmqueue(struct zone *zone, int cpu, unsigned int order,
			     int mt, unsigned int alloc_flags)
{
	unsigned long pfn = PFN_NONE;

	if (likely(pcp_allowed_order(zone, order)))
		pfn = rmqueue_pcplist(zone, cpu, order, mt, alloc_flags);
	if (pfn == PFN_NONE)
		pfn = rmqueue_buddy(zone, order, mt, alloc_flags);
	if (unlikely(READ_ONCE(zone->flags) & ZONE_BOOSTED_WATERMARK))
		zone_boost_wake(zone);
	return pfn;
}

/*
 * get_page_from_freelist(): walk the zonelist from @cpu's node; a zone is
 * tried when it stays above @wmark after the allocation.  Always inlined:
 * the call cost 1.5 ns of an order-0 pair.
 */
static __always_inline unsigned long
get_page_from_freelist(struct pcpb *inst, int cpu, unsigned int order, int mt,
		       unsigned int flags, enum zone_watermarks wmark)
{
	int node = inst->nr_nodes == 1 ? 0 : inst->cpu_node[cpu];
	int i, nr = (flags & PCPB_GFP_THISNODE) ? 1 : inst->nr_nodes;
	bool alloc_cma = mt == MIGRATE_MOVABLE;
	/* alloc_flags_nofragment() of the preferred zone. */
	unsigned int alloc_flags =
		inst->zones[node]->nofragment ? ALLOC_NOFRAGMENT : 0;

retry:
	for (i = 0; i < nr; i++) {
		/* One node: skip two dependent loads of the zonelist walk. */
		struct zone *zone =
			nr == 1 ? inst->zones[node]
				: inst->zones[inst->zonelist[node][i]];
		unsigned long pfn;

		/* Before another node, the local zone without NOFRAGMENT. */
		if (unlikely(i && alloc_flags)) {
			alloc_flags = 0;
			goto retry;
		}
		/*
		 * Detect "below high" here, off the hotter free path.  Above
		 * high, the zone is above every lower mark too: try it, as
		 * the kernel does, without a second check.
		 */
		if (!(READ_ONCE(zone->flags) & ZONE_BELOW_HIGH)) {
			if (zone_watermark_fast(zone, order,
						wmark_pages(zone, WMARK_HIGH),
						alloc_cma))
				goto try_this_zone;
			__atomic_fetch_or(&zone->flags, ZONE_BELOW_HIGH,
					  __ATOMIC_RELAXED);
		}
		if (!zone_watermark_fast(zone, order, wmark_pages(zone, wmark),
					 alloc_cma))
			continue;
	try_this_zone:
		pfn = rmqueue(zone, cpu, order, mt, alloc_flags);
		if (pfn != PFN_NONE)
			return pfn;
	}
	/* The first pass would not fragment: now it may. */
	if (alloc_flags) {
		alloc_flags = 0;
		goto retry;
	}
	return PFN_NONE;
}

static void drain_all_pages(struct pcpb *inst)
{
	int cpu, n;

	pthread_mutex_lock(&inst->drain_mutex);
	for (n = 0; n < inst->nr_nodes; n++)
		for (cpu = 0; cpu < inst->nr_cpus; cpu++)
			drain_pages_zone(inst->zones[n], cpu);
	pthread_mutex_unlock(&inst->drain_mutex);
}

void pcpb_set_event_hook(struct pcpb *inst, pcpb_event_fn fn, void *ctx)
{
	/* The vmstat thread ticks under vmstat_mutex. */
	pthread_mutex_lock(&inst->vmstat_mutex);
	inst->event_ctx = ctx;
	inst->event_fn = fn;
	pthread_mutex_unlock(&inst->vmstat_mutex);
}

static long alloc_event(struct pcpb *inst, int cpu, unsigned long pfn,
			unsigned int order, int migratetype, unsigned int flags)
{
	inst_event(inst, PCPB_EV_ALLOC, cpu, pfn, order, migratetype, flags);
	return (long)pfn;
}

long pcpb_alloc_pages_cpu(struct pcpb *inst, int cpu, unsigned int order,
			  int migratetype, unsigned int flags)
{
	unsigned long pfn;

	if (unlikely(!inst))
		return -EINVAL;
	if (unlikely(order > MAX_PAGE_ORDER || migratetype < 0 ||
		     migratetype >= MIGRATE_PCPTYPES ||
		     (flags & ~PCPB_GFP_MASK) || cpu < 0 ||
		     cpu >= inst->nr_cpus)) {
		atomic_add(&inst->einval, 1);
		return -EINVAL;
	}
	/* gfp_migratetype() without grouping by mobility. */
	if (unlikely(inst->mobility_disabled))
		migratetype = MIGRATE_UNMOVABLE;
	pfn = get_page_from_freelist(inst, cpu, order, migratetype, flags,
				     WMARK_LOW);
	if (likely(pfn != PFN_NONE))
		return alloc_event(inst, cpu, pfn, order, migratetype, flags);
	/* The slow path: no reclaim to do, so min watermark, then drain. */
	pfn = get_page_from_freelist(inst, cpu, order, migratetype, flags,
				     WMARK_MIN);
	if (pfn == PFN_NONE && !(flags & PCPB_GFP_NORETRY)) {
		drain_all_pages(inst);
		pfn = get_page_from_freelist(inst, cpu, order, migratetype,
					     flags, WMARK_MIN);
	}
	if (pfn == PFN_NONE) {
		atomic_add(&inst->alloc_failed, 1);
		return -ENOMEM;
	}
	return alloc_event(inst, cpu, pfn, order, migratetype, flags);
}

long pcpb_alloc_pages(struct pcpb *inst, unsigned int order, int migratetype,
		      unsigned int flags)
{
	if (unlikely(!inst))
		return -EINVAL;
	return pcpb_alloc_pages_cpu(
		inst, cpu_current(inst->cfg.cpu_mode, inst->nr_cpus), order,
		migratetype, flags);
}

int pcpb_free_pages_cpu(struct pcpb *inst, int cpu, unsigned long pfn,
			unsigned int order)
{
	struct page *page;

	if (unlikely(!inst))
		return -EINVAL;
	if (unlikely(pfn >= inst->nr_pages || order > MAX_PAGE_ORDER ||
		     (pfn & ((1UL << order) - 1)) || cpu < 0 ||
		     cpu >= inst->nr_cpus))
		goto einval;
	page = &inst->memmap[pfn];
	/* Double free, wrong order, or a pfn inside someone's block. */
	if (unlikely(READ_ONCE(page->state) != PS_ALLOC ||
		     READ_ONCE(page->order) != order))
		goto einval;
	/*
	 * Two threads freeing the same page at once both pass the test
	 * above; with free_check only one wins the page.  Release builds
	 * without it cannot tell (docs/design.md, input hardening).
	 */
	if (unlikely(inst->free_check)) {
		uint8_t expected = PS_ALLOC;

		if (!__atomic_compare_exchange_n(
			    &page->state, &expected, PS_FREEING, false,
			    __ATOMIC_ACQ_REL, __ATOMIC_RELAXED))
			goto einval;
	}
	inst_event(inst, PCPB_EV_FREE, cpu, pfn, order, -1, 0);
	free_frozen_pages(pfn_zone(inst, pfn), cpu, pfn, order);
	return 0;
einval:
	atomic_add(&inst->einval, 1);
	return -EINVAL;
}

int pcpb_free_pages(struct pcpb *inst, unsigned long pfn, unsigned int order)
{
	if (unlikely(!inst))
		return -EINVAL;
	return pcpb_free_pages_cpu(
		inst, cpu_current(inst->cfg.cpu_mode, inst->nr_cpus), pfn,
		order);
}

int pcpb_set_thread_cpu(int cpu)
{
	return cpu_set_thread_vcpu(cpu);
}

int pcpb_current_cpu(struct pcpb *inst)
{
	return cpu_current(inst->cfg.cpu_mode, inst->nr_cpus);
}

void *pcpb_pfn_to_addr(struct pcpb *inst, unsigned long pfn)
{
	if (!inst->backing || pfn >= inst->nr_pages)
		return NULL;
	return inst->backing + (pfn << PCPB_PAGE_SHIFT);
}

long pcpb_addr_to_pfn(struct pcpb *inst, const void *addr)
{
	const char *p = addr;

	if (!inst->backing || p < inst->backing ||
	    p >= inst->backing + inst->backing_bytes)
		return -EINVAL;
	return (long)((size_t)(p - inst->backing) >> PCPB_PAGE_SHIFT);
}

/*
 * The bulk PCP path with an event per new page.  FILL_NULL leaves populated
 * slots alone, so which slots are new is known only against a copy.
 */
static long bulk_pcp_with_events(struct pcpb *inst, struct zone *zone, int cpu,
				 int mt, unsigned int flags, unsigned long nr,
				 long *array, unsigned long filled,
				 bool fill_null)
{
	long *before = malloc((nr - filled) * sizeof(*before));
	unsigned long i;
	long ret;

	if (before)
		memcpy(before, array + filled, (nr - filled) * sizeof(*before));
	ret = before ? alloc_pages_bulk_pcp(
			       zone, cpu, mt, nr, array, filled, fill_null,
			       zone->nofragment ? ALLOC_NOFRAGMENT : 0)
		     : -EAGAIN;
	for (i = filled; ret > 0 && i < (unsigned long)ret; i++)
		if (!fill_null || before[i - filled] == PCPB_NO_PAGE)
			alloc_event(inst, cpu, (unsigned long)array[i], 0, mt,
				    flags);
	free(before);
	return ret;
}

long pcpb_alloc_pages_bulk_cpu(struct pcpb *inst, int cpu, int migratetype,
			       unsigned int flags, unsigned long nr,
			       long *array, enum pcpb_bulk_contract contract)
{
	bool fill_null = contract == PCPB_BULK_FILL_NULL;
	unsigned long filled = 0, start;
	struct zone *zone;
	long ret, pfn;

	if (unlikely(!inst || (!array && nr) || cpu < 0 ||
		     cpu >= inst->nr_cpus || migratetype < 0 ||
		     migratetype >= MIGRATE_PCPTYPES ||
		     (flags & ~PCPB_GFP_MASK) ||
		     (unsigned)contract > PCPB_BULK_OUTPUT ||
		     nr > (1UL << 30))) {
		if (inst)
			atomic_add(&inst->einval, 1);
		return -EINVAL;
	}
	if (unlikely(inst->mobility_disabled))
		migratetype = MIGRATE_UNMOVABLE;
	if (fill_null)
		while (filled < nr && array[filled] != PCPB_NO_PAGE)
			filled++;
	if (!nr || filled == nr)
		return (long)filled;
	start = filled;
	/* 8dcb3060d81d: the bulk path does not charge memcg. */
	if (inst->cfg.memcg && (flags & PCPB_GFP_ACCOUNT))
		goto single;
	if (nr - filled == 1)
		goto single;
	zone = inst->zones[inst->cpu_node[cpu]];
	if (!zone_watermark_ok(zone, 0,
			       wmark_pages(zone, WMARK_LOW) + (nr - filled),
			       migratetype == MIGRATE_MOVABLE))
		goto single;
	if (unlikely(inst->event_fn))
		ret = bulk_pcp_with_events(inst, zone, cpu, migratetype, flags,
					   nr, array, filled, fill_null);
	else
		ret = alloc_pages_bulk_pcp(
			zone, cpu, migratetype, nr, array, filled, fill_null,
			zone->nofragment ? ALLOC_NOFRAGMENT : 0);
	if (ret < 0)
		goto single;
	return fill_null ? ret : ret - (long)start;
single:
	pfn = pcpb_alloc_pages_cpu(inst, cpu, 0, migratetype, flags);
	if (pfn < 0)
		return fill_null ? (long)filled : 0;
	array[fill_null ? filled : 0] = pfn;
	return fill_null ? (long)filled + 1 : 1;
}

long pcpb_alloc_pages_bulk(struct pcpb *inst, int migratetype,
			   unsigned int flags, unsigned long nr, long *array,
			   enum pcpb_bulk_contract contract)
{
	if (unlikely(!inst))
		return -EINVAL;
	return pcpb_alloc_pages_bulk_cpu(
		inst, cpu_current(inst->cfg.cpu_mode, inst->nr_cpus),
		migratetype, flags, nr, array, contract);
}

int pcpb_nr_nodes(const struct pcpb *inst)
{
	return inst->nr_nodes;
}

int pcpb_node_watermarks(struct pcpb *inst, int node,
			 struct pcpb_watermarks *wm)
{
	struct zone *zone;

	if (!inst || !wm || node < 0 || node >= inst->nr_nodes)
		return -EINVAL;
	zone = inst->zones[node];
	wm->free = zone_page_state_free(zone);
	wm->min = wmark_pages(zone, WMARK_MIN);
	wm->low = wmark_pages(zone, WMARK_LOW);
	wm->high = wmark_pages(zone, WMARK_HIGH);
	wm->boost = READ_ONCE(zone->watermark_boost);
	return 0;
}

/* Detached, the model's kswapd takes over: a wake left pending runs now. */
void pcpb_kswapd_attach(struct pcpb *inst, bool on)
{
	int n;

	for (n = 0; inst && n < inst->nr_nodes; n++) {
		WRITE_ONCE(inst->zones[n]->kswapd_attached, on);
		if (!on)
			zone_boost_take_back(inst->zones[n],
					     pcpb_kswapd_take_wake(inst, n));
	}
}

uint64_t pcpb_kswapd_take_wake(struct pcpb *inst, int node)
{
	struct zone *zone;

	if (!inst || node < 0 || node >= inst->nr_nodes)
		return 0;
	zone = inst->zones[node];
	if (!(__atomic_fetch_and(&zone->flags, ~(unsigned int)ZONE_KSWAPD_WAKE,
				 __ATOMIC_ACQUIRE) &
	      ZONE_KSWAPD_WAKE))
		return 0;
	return READ_ONCE(zone->watermark_boost);
}

void pcpb_kswapd_boost_done(struct pcpb *inst, int node, uint64_t boost)
{
	if (inst && node >= 0 && node < inst->nr_nodes)
		zone_boost_take_back(inst->zones[node], (unsigned long)boost);
}

int pcpb_node_pageset(struct pcpb *inst, int node, struct pcpb_pageset *ps)
{
	struct zone *zone;

	if (!inst || !ps || node < 0 || node >= inst->nr_nodes)
		return -EINVAL;
	zone = inst->zones[node];
	ps->managed_pages = zone->managed_pages;
	ps->batch = zone->pageset_batch;
	ps->high_min = zone->pageset_high_min;
	ps->high_max = zone->pageset_high_max;
	return 0;
}

void pcpb_set_reclaim_active(struct pcpb *inst, int node, bool on)
{
	if (!inst || node < 0 || node >= inst->nr_nodes)
		return;
	if (on)
		__atomic_fetch_or(&inst->zones[node]->flags,
				  ZONE_RECLAIM_ACTIVE, __ATOMIC_RELAXED);
	else
		__atomic_fetch_and(&inst->zones[node]->flags,
				   ~(unsigned)ZONE_RECLAIM_ACTIVE,
				   __ATOMIC_RELAXED);
}

/*
 * The pages go through the policy's own paths (allocated on @cpu, freed on
 * @cpu), so an owner policy's blocks and lists stay consistent; high is
 * lifted while they land so that no free drains, then set.
 */
int pcpb_pcp_preset(struct pcpb *inst, int cpu,
		    const struct pcpb_pcp_stock *lists, int nr_lists, int high)
{
	struct per_cpu_pages *pcp;
	int node, saved_min, saved_max, i, l, total = 0, got = 0, rc = 0;
	long *pfns;
	uint8_t *order;

	if (!inst || cpu < 0 || cpu >= inst->nr_cpus || nr_lists < 0 ||
	    high < 0 || (nr_lists && !lists))
		return -EINVAL;
	for (l = 0; l < nr_lists; l++) {
		if (lists[l].nr_blocks < 0 || lists[l].migratetype < 0 ||
		    lists[l].migratetype >= MIGRATE_PCPTYPES ||
		    lists[l].order > MAX_PAGE_ORDER)
			return -EINVAL;
		total += lists[l].nr_blocks;
	}
	node = inst->cpu_node[cpu];
	pcp = inst_pcp(inst, cpu, node);
	if (!pcp->high_max)
		return -EINVAL; /* pcp=off: the boot pageset holds nothing */
	pfns = malloc(((size_t)total + 1) * sizeof(*pfns));
	order = malloc((size_t)total + 1);
	if (!pfns || !order) {
		free(pfns);
		free(order);
		return -ENOMEM;
	}
	for (l = 0; l < nr_lists && !rc; l++)
		for (i = 0; i < lists[l].nr_blocks; i++) {
			long pfn = pcpb_alloc_pages_cpu(
				inst, cpu, lists[l].order, lists[l].migratetype,
				PCPB_GFP_NORETRY);

			if (pfn < 0) {
				rc = -ENOMEM;
				break;
			}
			pfns[got] = pfn;
			order[got++] = (uint8_t)lists[l].order;
		}
	/* What the allocations refilled and did not take goes back. */
	drain_pages_zone(inst->zones[node], cpu);
	spin_lock(&pcp->lock, PCPB_SITE_free);
	saved_min = pcp->high_min;
	saved_max = pcp->high_max;
	pcp->high_min = pcp->high_max = pcp->high = INT_MAX / 2;
	spin_unlock(&pcp->lock);
	/* In reverse, so the first allocated is on top of its list; no
	 * streak of high-order frees may drain it (free_high). */
	while (got-- > 0) {
		spin_lock(&pcp->lock, PCPB_SITE_free);
		pcp->free_count = 0;
		pcp->flags = 0;
		spin_unlock(&pcp->lock);
		pcpb_free_pages_cpu(inst, cpu, (unsigned long)pfns[got],
				    order[got]);
	}
	spin_lock(&pcp->lock, PCPB_SITE_free);
	pcp->high_min = saved_min;
	pcp->high_max = saved_max;
	pcp->high = clamp(high, saved_min, saved_max);
	pcp->free_count = 0;
	pcp->alloc_factor = 0;
	pcp->free_factor = 0;
	pcp->flags = 0;
	spin_unlock(&pcp->lock);
	free(pfns);
	free(order);
	return rc;
}

void pcpb_drain_all(struct pcpb *inst)
{
	inst_event(inst, PCPB_EV_DRAIN_ALL, 0, 0, 0, -1, 0);
	drain_all_pages(inst);
}

void pcpb_vmstat_tick_cpu(struct pcpb *inst, int cpu)
{
	int n;

	if (!inst || cpu < 0 || cpu >= inst->nr_cpus)
		return;
	for (n = 0; n < inst->nr_nodes; n++)
		decay_pcp_high(inst->zones[n], inst_pcp(inst, cpu, n));
}

void pcpb_vmstat_tick(struct pcpb *inst)
{
	int cpu, n;

	inst_event(inst, PCPB_EV_VMSTAT_TICK, 0, 0, 0, -1, 0);
	for (cpu = 0; cpu < inst->nr_cpus; cpu++)
		for (n = 0; n < inst->nr_nodes; n++)
			decay_pcp_high(inst->zones[n], inst_pcp(inst, cpu, n));
}
