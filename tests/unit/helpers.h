/* SPDX-License-Identifier: GPL-2.0-only OR MIT */
/*
 * helpers.h - what the Criterion suites share: small instances, white-box
 * access to zones and PCPs, and the end-of-scenario invariant check.
 *
 * Invariants: every test ends with assert_check() (pcpb_check()).
 * Locking: tests that touch zone internals hold zone->lock (zlock()).
 */
#ifndef PCPB_TEST_HELPERS_H
#define PCPB_TEST_HELPERS_H

#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>

#include "../../alloc/internal.h"

/* A small single-node instance with no timer, CPU named explicitly. */
static inline struct pcpb *make_inst(const char *kv)
{
	struct pcpb_config cfg;
	struct pcpb *inst = NULL;
	char err[256];

	pcpb_config_init(&cfg);
	cfg.memory_bytes = 16ULL << 20;
	cfg.nr_cpus = 2;
	cfg.cpu_mode = PCPB_CPU_EXPLICIT;
	cfg.vmstat_ms = 0;
	if (kv)
		cr_assert_eq(pcpb_config_parse(&cfg, kv, err, sizeof(err)), 0,
			     "config '%s': %s", kv, err);
	cr_assert_eq(pcpb_create(&cfg, &inst), 0);
	return inst;
}

static inline void assert_check(struct pcpb *inst)
{
	struct pcpb_check_result res;
	int err = pcpb_check(inst, &res);

	cr_assert_eq(err, 0, "pcpb_check: %s", res.msg);
	cr_assert(res.ok);
	cr_assert_eq(res.pages_free + res.pages_pcp + res.pages_allocated +
			     res.pages_in_flight,
		     res.pages_total);
}

static inline struct zone *zone0(struct pcpb *inst)
{
	return inst->zones[0];
}

static inline void zlock(struct zone *z)
{
	spin_lock_quiet(&z->lock);
}

static inline void zunlock(struct zone *z)
{
	spin_unlock_quiet(&z->lock);
}

static inline unsigned long nr_listed(struct zone *z, unsigned int order,
				      int mt)
{
	unsigned long n = 0;
	uint32_t pfn;

	for (pfn = z->free_area[order].free_list[mt].first; pfn != PFN_NIL;
	     pfn = z->memmap[pfn].lru.next)
		n++;
	return n;
}

/* Take a block out of the buddy as an allocation (white box). */
static inline unsigned long take(struct zone *z, unsigned int order, int mt)
{
	unsigned long pfn;

	zlock(z);
	pfn = rmqueue_smallest_locked(z, order, mt);
	if (pfn != PFN_NONE)
		prep_new_page(pfn_to_page(z, pfn), order, mt);
	zunlock(z);
	return pfn;
}

static inline void give_back(struct zone *z, unsigned long pfn,
			     unsigned int order)
{
	zlock(z);
	split_large_buddy_locked(z, pfn, order);
	zunlock(z);
}

static inline uint64_t work(struct pcpb *inst, int item)
{
	struct pcpb_stats st;

	pcpb_stats_read(inst, &st);
	return st.work[item];
}

#endif /* PCPB_TEST_HELPERS_H */
