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
#include <pthread.h>
#include <sched.h>
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

/* @n order-0 allocate-and-free pairs on @cpu. */
/* The allocator's counters as of now. */
static inline struct pcpb_stats stats_of(struct pcpb *inst)
{
	struct pcpb_stats st;

	pcpb_stats_read(inst, &st);
	return st;
}

/* An allocation on @cpu that must succeed. */
static inline long alloc_on(struct pcpb *inst, int cpu, unsigned int order,
			    int mt)
{
	long pfn = pcpb_alloc_pages_cpu(inst, cpu, order, mt, 0);

	cr_assert_geq(pfn, 0, "alloc order %u on cpu %d", order, cpu);
	return pfn;
}

/* A free on @cpu that must be accepted. */
static inline void free_on(struct pcpb *inst, int cpu, long pfn,
			   unsigned int order)
{
	cr_assert_eq(pcpb_free_pages_cpu(inst, cpu, (unsigned long)pfn, order),
		     0);
}

static inline void alloc_free_pairs(struct pcpb *inst, int cpu, int n)
{
	int i;

	for (i = 0; i < n; i++) {
		long pfn =
			pcpb_alloc_pages_cpu(inst, cpu, 0, PCPB_MT_MOVABLE, 0);

		cr_assert_geq(pfn, 0);
		cr_assert_eq(
			pcpb_free_pages_cpu(inst, cpu, (unsigned long)pfn, 0),
			0);
	}
}

static inline void pin_thread(int cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	cr_assert_eq(sched_setaffinity(0, sizeof(set), &set), 0);
}

/* assert_holders_exclude()'s shared state; counter is under l. */
static struct {
	struct pcpb_lock *l;
	int cpu;
	unsigned long counter, blocking_holds;
	int done; /* atomic */
} lock_race;

/* Blocking holds now and then (an rseq fence lifts in between). */
static inline void *lock_race_blocking_holder(void *arg)
{
	int i, spin;

	(void)arg;
	if (lock_race.cpu >= 0)
		pin_thread(lock_race.cpu);
	for (i = 0; i < 3000; i++) {
		spin_lock(lock_race.l, PCPB_SITE_drain);
		lock_race.counter++;
		spin_unlock(lock_race.l);
		lock_race.blocking_holds++;
		for (spin = 0; spin < 2000; spin++)
			cpu_relax();
	}
	__atomic_store_n(&lock_race.done, 1, __ATOMIC_RELEASE);
	return NULL;
}

/*
 * Holders of @l exclude each other: this thread trylocks it (site alloc,
 * as the fast paths do) while a second thread, on CPU @cpu unless it is
 * negative, takes it blocking (site drain) 3,000 times.  No update made
 * under the lock may be lost.
 */
static inline void assert_holders_exclude(struct pcpb_lock *l, int cpu)
{
	unsigned long trylock_holds = 0;
	pthread_t t;

	lock_race.l = l;
	lock_race.cpu = cpu;
	lock_race.counter = lock_race.blocking_holds = 0;
	lock_race.done = 0;
	cr_assert_eq(pthread_create(&t, NULL, lock_race_blocking_holder, NULL),
		     0);
	while (!__atomic_load_n(&lock_race.done, __ATOMIC_ACQUIRE)) {
		if (!spin_trylock(l, PCPB_SITE_alloc))
			continue;
		lock_race.counter++;
		spin_unlock(l);
		trylock_holds++;
	}
	pthread_join(t, NULL);
	cr_assert_eq(lock_race.blocking_holds, 3000);
	cr_assert_gt(trylock_holds, 3000);
	cr_assert_eq(
		lock_race.counter, trylock_holds + lock_race.blocking_holds,
		"%lu updates lost",
		trylock_holds + lock_race.blocking_holds - lock_race.counter);
	cr_assert_eq(READ_ONCE(l->state), 0);
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
