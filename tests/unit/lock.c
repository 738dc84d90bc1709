// SPDX-License-Identifier: GPL-2.0-only OR MIT
/*
 * lock.c - pcp->lock as the kernel's spinlock (pcp_fastpath=spin, the
 * default): trylock holders and blocking holders exclude each other, the
 * unlock wakes a sleeper that marked the word, and a sleeper whose mark an
 * unlock overwrote (the race lock.h describes) still gets the lock, within
 * LOCK_SPIN_SLEEP_NS.  zone->lock stays the futex mutex.
 */
#include <signal.h>
#include <time.h>
#include <unistd.h>

#include "helpers.h"

#include <criterion/redirect.h>

static struct pcpb *inst;

static void teardown(void)
{
	if (!inst)
		return;
	assert_check(inst);
	pcpb_destroy(inst);
	inst = NULL;
}

TestSuite(spinlock, .fini = teardown, .timeout = 30);

static double now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

Test(spinlock, pcp_lock_kind_follows_pcp_fastpath)
{
	inst = make_inst(NULL);
	cr_assert(inst_pcp(inst, 0, 0)->lock.spin, "default is not spin");
	cr_assert(inst_pcp(inst, 1, 0)->lock.spin);
	cr_assert_not(inst->zones[0]->lock.spin, "zone->lock must sleep");
	alloc_free_pairs(inst, 0, 1000);
	cr_assert_eq(
		inst_pcp(inst, 0, 0)->lock.sites[PCPB_SITE_alloc].nr_acquire,
		1000);
	teardown();

	inst = make_inst("pcp_fastpath=mutex");
	cr_assert_not(inst_pcp(inst, 0, 0)->lock.spin);
	alloc_free_pairs(inst, 0, 10);
}

Test(spinlock, trylock_and_blocking_holders_exclude_each_other)
{
	inst = make_inst(NULL);
	assert_holders_exclude(&inst_pcp(inst, 0, 0)->lock, -1);
}

/* The marked-waiter tests' lock, and when the waiter got it. */
static struct {
	struct pcpb_lock *l;
	double acquired_ns; /* the waiter's, read after join */
} race;

static void *one_blocking_hold(void *arg)
{
	(void)arg;
	spin_lock(race.l, PCPB_SITE_drain);
	race.acquired_ns = now_ns();
	spin_unlock(race.l);
	return NULL;
}

/*
 * Hold race.l until a waiter has marked it and gone to sleep, then
 * @extra_ns more: a waiter nobody wakes comes in at the next end of its
 * bounded sleep, whose phase @extra_ns moves.
 */
static void start_marked_waiter(pthread_t *t, long extra_ns)
{
	struct timespec settle = { 0, 2000000 + extra_ns };
	double deadline;

	cr_assert(spin_trylock(race.l, PCPB_SITE_alloc));
	cr_assert_eq(pthread_create(t, NULL, one_blocking_hold, NULL), 0);
	deadline = now_ns() + 5e9;
	while (READ_ONCE(race.l->state) != 2)
		cr_assert_lt(now_ns(), deadline, "the waiter never marked");
	nanosleep(&settle, NULL);
	cr_assert_eq(READ_ONCE(race.l->state), 2);
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/*
 * Woken, the waiter is in within microseconds; left to its bound it would
 * come in anywhere up to LOCK_SPIN_SLEEP_NS after the release, and the
 * holds below spread that over the whole bound: a median near half of it.
 */
Test(spinlock, unlock_wakes_a_marked_sleeper)
{
	double latency[15];
	unsigned int i;

	inst = make_inst(NULL);
	race.l = &inst_pcp(inst, 0, 0)->lock;
	for (i = 0; i < 15; i++) {
		pthread_t t;
		double released;

		start_marked_waiter(&t, (long)i * LOCK_SPIN_SLEEP_NS / 15);
		released = now_ns();
		spin_unlock(race.l);
		pthread_join(t, NULL);
		latency[i] = race.acquired_ns - released;
	}
	qsort(latency, 15, sizeof(latency[0]), cmp_double);
	cr_assert_lt(latency[7], LOCK_SPIN_SLEEP_NS / 4,
		     "median %.0f ns from release to the waiter's hold",
		     latency[7]);
	cr_assert_eq(race.l->sites[PCPB_SITE_drain].nr_contended, 15);
}

/* An unlock that read 1 and then stored 0 over the waiter's 2. */
Test(spinlock, a_sleeper_whose_mark_was_overwritten_still_gets_in)
{
	pthread_t t;

	inst = make_inst(NULL);
	race.l = &inst_pcp(inst, 0, 0)->lock;
	race.acquired_ns = 0;
	start_marked_waiter(&t, 0);
	__atomic_store_n(&race.l->state, 0, __ATOMIC_RELEASE);
	pthread_join(t, NULL);
	cr_assert_gt(race.acquired_ns, 0);
	cr_assert_eq(READ_ONCE(race.l->state), 0);
}

/* lockdep_assert_held() checks the holder, not only that someone holds. */
static void *hold_forever(void *arg)
{
	struct pcpb_lock *l = arg;

	spin_lock_quiet(l);
	__atomic_store_n(&lock_race.done, 1, __ATOMIC_RELEASE);
	pause();
	return NULL;
}

Test(lockdep, assert_held_passes_for_the_holder)
{
	struct pcpb_lock l;

	cr_assert_eq(lock_init(&l, 0), 0);
	spin_lock(&l, PCPB_SITE_drain);
	lockdep_assert_held(&l);
	spin_unlock(&l);
	spin_lock_quiet(&l);
	lockdep_assert_held(&l);
	spin_unlock_quiet(&l);
	cr_assert(!lock_held_by_me(&l));
	lock_destroy(&l);
}

Test(lockdep, assert_held_fails_when_another_thread_holds, .signal = SIGABRT)
{
	static struct pcpb_lock l;
	pthread_t t;

	cr_assert_eq(lock_init(&l, 0), 0);
	lock_race.done = 0;
	cr_assert_eq(pthread_create(&t, NULL, hold_forever, &l), 0);
	while (!__atomic_load_n(&lock_race.done, __ATOMIC_ACQUIRE))
		sched_yield();
	lockdep_assert_held(&l);
}

/* VM_WARN_ON_ONCE() reports once per site, carries on, gives the value. */
static bool warn_site(bool c)
{
	return VM_WARN_ON_ONCE(c);
}

Test(lockdep, warn_on_once_warns_once_and_returns, .init = cr_redirect_stderr)
{
	char buf[1024] = "";
	FILE *err = cr_get_redirected_stderr();
	size_t n;

	cr_assert(!warn_site(false));
	cr_assert(warn_site(true));
	cr_assert(warn_site(true));
	fflush(stderr);
	n = fread(buf, 1, sizeof(buf) - 1, err);
	buf[n] = '\0';
	cr_assert(strstr(buf, "WARNING") != NULL, "no warning: '%s'", buf);
	cr_assert(strstr(strstr(buf, "WARNING") + 1, "WARNING") == NULL,
		  "warned twice: '%s'", buf);
}
