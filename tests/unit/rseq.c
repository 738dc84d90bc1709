// SPDX-License-Identifier: GPL-2.0-only OR MIT
/*
 * rseq.c - pcp_fastpath=rseq: a thread on the PCP's own CPU takes
 * pcp->lock with no atomic; a holder from elsewhere fences it off and the
 * CPU's threads come back after LOCK_RSEQ_RESUME protocol holds; and the
 * two kinds of holder exclude each other.  Needs two CPUs and rseq; the
 * tests skip where either is missing (valgrind, one CPU).
 */
#include <pthread.h>
#include <sched.h>
#include <unistd.h>

#include "helpers.h"

static struct pcpb *inst;

static void teardown(void)
{
	if (!inst)
		return;
	assert_check(inst);
	pcpb_destroy(inst);
}

TestSuite(rseq, .fini = teardown);

static void pin(int cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	cr_assert_eq(sched_setaffinity(0, sizeof(set), &set), 0);
}

/* An rseq instance with this thread on CPU 0, or the test skipped. */
static struct pcpb_lock *setup(void)
{
	struct pcpb_config cfg;
	int err;

	if (sysconf(_SC_NPROCESSORS_ONLN) < 2)
		cr_skip_test("needs two CPUs");
	pcpb_config_init(&cfg);
	cfg.memory_bytes = 16ULL << 20;
	cfg.nr_cpus = 2;
	cfg.cpu_mode = PCPB_CPU_EXPLICIT;
	cfg.vmstat_ms = 0;
	cfg.pcp_fastpath = PCPB_FASTPATH_RSEQ;
	err = pcpb_create(&cfg, &inst);
	if (err == -EOPNOTSUPP)
		cr_skip_test("no rseq or membarrier here");
	cr_assert_eq(err, 0);
	pin(0);
	return &inst_pcp(inst, 0, 0)->lock;
}

static void pairs_on_cpu0(int n)
{
	int i;

	for (i = 0; i < n; i++) {
		long pfn = pcpb_alloc_pages_cpu(inst, 0, 0, PCPB_MT_MOVABLE, 0);

		cr_assert_geq(pfn, 0);
		cr_assert_eq(
			pcpb_free_pages_cpu(inst, 0, (unsigned long)pfn, 0), 0);
	}
}

static void *hold_once_from_cpu1(void *arg)
{
	struct pcpb_lock *l = arg;

	pin(1);
	spin_lock(l, PCPB_SITE_drain);
	spin_unlock(l);
	return NULL;
}

Test(rseq, local_holds_skip_the_protocol_until_a_remote_one_fences_them)
{
	struct pcpb_lock *l = setup();
	pthread_t t;

	pairs_on_cpu0(100);
	cr_assert_eq(READ_ONCE(l->shared), 0, "a local hold entered");
	cr_assert_eq(l->sites[PCPB_SITE_alloc].nr_acquire, 100);

	cr_assert_eq(pthread_create(&t, NULL, hold_once_from_cpu1, l), 0);
	pthread_join(t, NULL);
	cr_assert_eq(READ_ONCE(l->shared), LOCK_FENCED,
		     "the remote holder left no fence");

	/* Each pair is two protocol holds on CPU 0; then the fence lifts. */
	pairs_on_cpu0(LOCK_RSEQ_RESUME / 2 - 1);
	cr_assert_eq(READ_ONCE(l->shared), LOCK_FENCED);
	pairs_on_cpu0(1);
	cr_assert_eq(READ_ONCE(l->shared), 0, "the fence never lifted");
	pairs_on_cpu0(10);
	cr_assert_eq(READ_ONCE(l->shared), 0);
}

static struct {
	struct pcpb_lock *l;
	unsigned long counter; /* under l */
	unsigned long remote_holds;
	int remote_done; /* atomic */
} race;

/* Holds now and then, so the fence lifts in between and is re-raised. */
static void *remote_holder(void *arg)
{
	int i, spin;

	(void)arg;
	pin(1);
	for (i = 0; i < 3000; i++) {
		spin_lock(race.l, PCPB_SITE_drain);
		race.counter++;
		spin_unlock(race.l);
		race.remote_holds++;
		for (spin = 0; spin < 2000; spin++)
			__builtin_ia32_pause();
	}
	__atomic_store_n(&race.remote_done, 1, __ATOMIC_RELEASE);
	return NULL;
}

Test(rseq, rseq_and_remote_holders_exclude_each_other)
{
	unsigned long local_holds = 0;
	pthread_t t;

	race.l = setup();
	cr_assert_eq(pthread_create(&t, NULL, remote_holder, NULL), 0);
	while (!__atomic_load_n(&race.remote_done, __ATOMIC_ACQUIRE)) {
		if (!spin_trylock(race.l, PCPB_SITE_alloc))
			continue;
		race.counter++;
		spin_unlock(race.l);
		local_holds++;
	}
	pthread_join(t, NULL);
	cr_assert_eq(race.remote_holds, 3000);
	cr_assert_gt(local_holds, 3000);
	cr_assert_eq(race.counter, local_holds + race.remote_holds,
		     "%lu updates lost",
		     local_holds + race.remote_holds - race.counter);
	cr_assert_eq(READ_ONCE(race.l->state), 0);
}
