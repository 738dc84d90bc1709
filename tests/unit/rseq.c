// SPDX-License-Identifier: GPL-2.0-only OR MIT
/*
 * rseq.c - pcp_fastpath=rseq: a thread on the PCP's own CPU takes
 * pcp->lock with no atomic; a holder from elsewhere fences it off and the
 * CPU's threads come back after LOCK_RSEQ_RESUME protocol holds; and the
 * two kinds of holder exclude each other.  Needs two CPUs and rseq; the
 * tests skip where either is missing (valgrind, one CPU).
 */
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
	pin_thread(0);
	return &inst_pcp(inst, 0, 0)->lock;
}

static void *hold_once_from_cpu1(void *arg)
{
	struct pcpb_lock *l = arg;

	pin_thread(1);
	spin_lock(l, PCPB_SITE_drain);
	spin_unlock(l);
	return NULL;
}

Test(rseq, local_holds_skip_the_protocol_until_a_remote_one_fences_them)
{
	struct pcpb_lock *l = setup();
	pthread_t t;

	alloc_free_pairs(inst, 0, 100);
	cr_assert_eq(READ_ONCE(l->shared), 0, "a local hold entered");
	cr_assert_eq(l->sites[PCPB_SITE_alloc].nr_acquire, 100);

	cr_assert_eq(pthread_create(&t, NULL, hold_once_from_cpu1, l), 0);
	pthread_join(t, NULL);
	cr_assert_eq(READ_ONCE(l->shared), LOCK_FENCED,
		     "the remote holder left no fence");

	/* Each pair is two protocol holds on CPU 0; then the fence lifts. */
	alloc_free_pairs(inst, 0, LOCK_RSEQ_RESUME / 2 - 1);
	cr_assert_eq(READ_ONCE(l->shared), LOCK_FENCED);
	alloc_free_pairs(inst, 0, 1);
	cr_assert_eq(READ_ONCE(l->shared), 0, "the fence never lifted");
	alloc_free_pairs(inst, 0, 10);
	cr_assert_eq(READ_ONCE(l->shared), 0);
}

/* CPU 0's rseq holds against CPU 1's protocol holds. */
Test(rseq, rseq_and_remote_holders_exclude_each_other)
{
	assert_holders_exclude(setup(), 1);
}
