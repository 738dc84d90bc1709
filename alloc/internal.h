/* SPDX-License-Identifier: GPL-2.0-only OR MIT */
/*
 * internal.h - the instance (struct pcpb) and what the alloc/ files share.
 *
 * An instance owns one memmap for all nodes (pfns are instance-wide and
 * node ranges are contiguous), one zone per node, and a PCP for every
 * (cpu, zone) pair.
 *
 * Invariants:
 *   A1 node n spans pfns [n * pages_per_node, (n + 1) * pages_per_node).
 *   A2 pcps[cpu * nr_nodes + zone] is zones[zone]->per_cpu_pageset[cpu].
 *   A3 nothing but the counters below changes after pcpb_create().
 *
 * Locking: einval and alloc_failed are atomics; drain_mutex serialises
 * drain_all (as pcpu_drain_mutex does); observers (check, stats) take every
 * pcp->lock, then every zone->lock.
 */
#ifndef PCPB_INTERNAL_H
#define PCPB_INTERNAL_H

#include <pthread.h>

#include "../include/pcpbuddy.h"
#include "../pcp/policy.h"

struct pcpb {
	struct pcpb_config cfg;
	int nr_nodes, nr_cpus;
	unsigned long nr_pages, pages_per_node;
	/* build_all_zonelists(): too few pages to group by mobility, so
	 * every allocation is unmovable (gfp_migratetype()). */
	bool mobility_disabled;
	bool free_check; /* claim a freed page with a compare-exchange */
	struct page *memmap;
	size_t memmap_bytes;
	char *backing;
	size_t backing_bytes;
	struct zone *zones[PCPB_MAX_NODES];
	/* zonelist[n]: node n's zones, nearest first. */
	uint8_t zonelist[PCPB_MAX_NODES][PCPB_MAX_NODES];
	int *cpu_node;
	struct per_cpu_pages *pcps;

	uint64_t einval, alloc_failed; /* atomic */
	pcpb_event_fn event_fn;	       /* set while single-threaded */
	void *event_ctx;

	/* The text report's lock table (pcpb_report_set_lock_table()): all
	 * zero is every column in auto units, sites in their order. */
	struct {
		uint8_t unit;	 /* LOCK_UNIT_* in report.c */
		uint8_t sort;	 /* a column + 1; 0: site order */
		uint8_t nr_cols; /* 0: every column */
		uint8_t cols[32];
	} lock_table;

	pthread_mutex_t drain_mutex;
	pthread_mutex_t vmstat_mutex;
	pthread_cond_t vmstat_cond;
	pthread_t vmstat_thread;
	bool vmstat_running, vmstat_stop;
};

/* The event hook (pcpb_set_event_hook()): nothing but a test when unset. */
static inline void inst_event(struct pcpb *inst, enum pcpb_event ev, int cpu,
			      unsigned long pfn, unsigned int order, int mt,
			      unsigned int flags)
{
	if (unlikely(inst->event_fn))
		inst->event_fn(inst->event_ctx, ev, cpu, pfn, order, mt, flags);
}

static inline struct zone *pfn_zone(const struct pcpb *inst, unsigned long pfn)
{
	/* A division costs more than the rest of this lookup. */
	return inst
		->zones[inst->nr_nodes == 1 ? 0 : pfn / inst->pages_per_node];
}

static inline struct per_cpu_pages *inst_pcp(const struct pcpb *inst, int cpu,
					     int zone_idx)
{
	return &inst->pcps[(size_t)cpu * (size_t)inst->nr_nodes +
			   (size_t)zone_idx];
}

/* Observers: every PCP, then every zone, in a fixed order. */
void inst_lock_all(struct pcpb *inst);
void inst_unlock_all(struct pcpb *inst);

int config_validate(const struct pcpb_config *cfg, char *err, size_t len);
const char *config_policy_name(enum pcpb_policy p);
/* hold_cost as the config prints it: F:S:L:M, or F:S:L:M:H. */
int config_format_hold_cost(const struct pcpb_config *cfg, char *buf,
			    size_t len);
const char *config_fallback_name(enum pcpb_fallback f);
const char *config_cpu_mode_name(enum pcpb_cpu_mode m);

/* check.c, with the locks already held */
int check_locked(struct pcpb *inst, struct pcpb_check_result *res);

#endif /* PCPB_INTERNAL_H */
