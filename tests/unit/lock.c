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

/*
 * The preemption watch (common/preempt.h): a sleep inside a watched
 * interval is a switch the kernel reports through rseq; watches nest, an
 * inner one reports only its own interval, the outer one every switch.
 */
static void sleep_a_bit(void)
{
	struct timespec ts = { .tv_nsec = 200000 };

	nanosleep(&ts, NULL);
}

Test(preempt, watch_sees_a_switch_in_its_own_interval_and_nests)
{
	const char *why;

	if (!pcpb_preempt_watch(&why))
		cr_skip_test("no preemption watch here: %s", why);
	preempt_watch_begin();
	cr_assert(!preempt_watch_end(), "no switch: a few instructions");
	preempt_watch_begin();
	sleep_a_bit();
	cr_assert(preempt_watch_end(), "a sleep is a switch");

	preempt_watch_begin(); /* outer */
	preempt_watch_begin();
	sleep_a_bit();
	cr_assert(preempt_watch_end(), "inner: its own sleep");
	cr_assert(preempt_watch_end(), "outer: the inner one's sleep");

	preempt_watch_begin(); /* outer */
	sleep_a_bit();
	preempt_watch_begin();
	cr_assert(!preempt_watch_end(), "inner: the switch came before it");
	cr_assert(preempt_watch_end(), "outer: its own sleep");
	cr_assert_eq(rseq_area()->cpu_id_start, rseq_area()->cpu_id,
		     "the field is the kernel's again");
}

static void *hold_zone_lock_asleep(void *arg)
{
	struct zone *z = arg;

	int i;

	spin_lock(&z->lock, PCPB_SITE_drain);
	__atomic_store_n(&lock_race.done, 1, __ATOMIC_RELEASE);
	/* Asleep until the other thread waits (it marks the word), so that
	 * it cannot find the lock free however late it runs (up to 2 s). */
	for (i = 0; i < 10000 &&
		    __atomic_load_n(&z->lock.state, __ATOMIC_ACQUIRE) != 2;
	     i++)
		sleep_a_bit();
	spin_unlock(&z->lock);
	return NULL;
}

/* A hold the holder slept in, and a wait behind it, are disturbed; the
 * clean histograms keep the others. */
Test(preempt, disturbed_holds_and_waits_are_counted_apart, .fini = teardown)
{
	struct pcpb_stats st;
	const char *why;
	struct zone *z;
	pthread_t t;
	int i;

	if (!pcpb_preempt_watch(&why))
		cr_skip_test("no preemption watch here: %s", why);
	inst = make_inst(NULL);
	z = zone0(inst);
	pcpb_stats_reset(inst);
	for (i = 0; i < 10; i++) {
		spin_lock(&z->lock, PCPB_SITE_refill);
		spin_unlock(&z->lock);
	}
	lock_race.done = 0;
	cr_assert_eq(pthread_create(&t, NULL, hold_zone_lock_asleep, z), 0);
	while (!__atomic_load_n(&lock_race.done, __ATOMIC_ACQUIRE))
		sched_yield();
	spin_lock(&z->lock, PCPB_SITE_alloc); /* waits behind the sleeper */
	spin_unlock(&z->lock);
	cr_assert_eq(pthread_join(t, NULL), 0);
	st = stats_of(inst);
	cr_assert_eq(st.zone_lock.sites[PCPB_SITE_drain].hold_disturbed, 1);
	cr_assert_eq(st.zone_lock.sites[PCPB_SITE_drain].hold_ns.count, 0);
	cr_assert_eq(st.zone_lock.sites[PCPB_SITE_alloc].contended, 1);
	cr_assert_eq(st.zone_lock.sites[PCPB_SITE_alloc].wait_disturbed, 1,
		     "it waited behind a disturbed hold");
	cr_assert_eq(st.zone_lock.sites[PCPB_SITE_alloc].wait_ns.count, 0);
	cr_assert_leq(st.zone_lock.sites[PCPB_SITE_refill].hold_disturbed, 1,
		      "ten short holds: at most a stray switch");
	cr_assert_eq(
		st.zone_lock.sites[PCPB_SITE_refill].hold_ns.count +
			st.zone_lock.sites[PCPB_SITE_refill].hold_disturbed,
		10);
	cr_assert_geq(st.zone_lock.hold_disturbed_ns.max, 200000,
		      "the disturbed hold's histogram has the sleep");
	cr_assert_lt(st.zone_lock.all.hold_ns.max, 200000,
		     "the clean one does not");
}

/* lockstat_preempt=off: every timed hold is clean, as before. */
Test(preempt, lockstat_preempt_off_classifies_nothing, .fini = teardown)
{
	struct pcpb_stats st;
	struct zone *z;

	inst = make_inst("lockstat_preempt=off");
	z = zone0(inst);
	pcpb_stats_reset(inst);
	spin_lock(&z->lock, PCPB_SITE_drain);
	sleep_a_bit();
	spin_unlock(&z->lock);
	st = stats_of(inst);
	cr_assert_eq(st.zone_lock.sites[PCPB_SITE_drain].hold_disturbed, 0);
	cr_assert_eq(st.zone_lock.sites[PCPB_SITE_drain].hold_ns.count, 1);
}
