// SPDX-License-Identifier: GPL-2.0-only OR MIT
/*
 * lock.c - the slow paths of the instrumented lock (see lock.h): spin,
 * then futex wait (bounded for the spinlock); lockstat histogram storage.
 *
 * Invariants: those of lock.h.
 * Locking: lock_acquire_slow() returns with the lock held.
 */
#include "lock.h"

#include <errno.h>
#include <linux/futex.h>
#include <linux/membarrier.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

/* Its address identifies the thread: lockdep_assert_held() checks it. */
__thread char lock_thread_token __attribute__((tls_model("initial-exec")));

#define LOCK_SPINS 100

/* @ns 0: until woken. */
static void futex_wait(int *addr, int val, long ns)
{
	struct timespec ts = { .tv_sec = ns / 1000000000,
			       .tv_nsec = ns % 1000000000 };

	syscall(SYS_futex, addr, FUTEX_WAIT_PRIVATE, val, ns ? &ts : NULL, NULL,
		0);
}

void lock_wake(struct pcpb_lock *l)
{
	syscall(SYS_futex, &l->state, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0);
}

void lock_acquire_slow(struct pcpb_lock *l, unsigned int site)
{
	uint64_t t0 = l->lockstat ? clock_cycles() : 0, disturbed0 = 0;
	bool watch = l->watch && site < PCPB_NR_LOCK_SITES, slept = false;
	int i, c;

	if (watch) {
		disturbed0 =
			__atomic_load_n(&l->nr_disturbed, __ATOMIC_RELAXED);
		preempt_watch_begin();
	}
	for (i = 0; i < LOCK_SPINS; i++) {
		cpu_relax();
		if (READ_ONCE(l->state) == 0 && lock_try_raw(l))
			goto acquired;
	}
	/* Mark "waiters" before sleeping so the holder's unlock wakes us. */
	slept = true;
	c = __atomic_exchange_n(&l->state, 2, __ATOMIC_ACQUIRE);
	while (c != 0) {
		/* A spinlock's unlock can miss the mark (lock.h): bounded. */
		futex_wait(&l->state, 2, l->spin ? LOCK_SPIN_SLEEP_NS : 0);
		c = __atomic_exchange_n(&l->state, 2, __ATOMIC_ACQUIRE);
	}
acquired:
	/* Held now, so the site's statistics are ours to update. */
	if (site >= PCPB_NR_LOCK_SITES)
		return;
	l->sites[site].nr_contended++;
	if (!l->lockstat)
		return;
	t0 = cycles_to_ns(clock_cycles() - t0);
	if (watch && ((preempt_watch_end() && !slept) ||
		      __atomic_load_n(&l->nr_disturbed, __ATOMIC_RELAXED) !=
			      disturbed0)) {
		l->sites[site].nr_wait_disturbed++;
		hist_record(l->wait_disturbed, t0);
	} else {
		hist_record(l->sites[site].wait, t0);
	}
}

int lock_init(struct pcpb_lock *l, unsigned int sample)
{
	unsigned int s;

	memset(l, 0, sizeof(*l));
	l->rseq_cpu = -1;
	l->lockstat = sample > 0;
	if (!sample)
		return 0;
	/* Gaps uniform in 1..2 * sample: a mean of about @sample. */
	l->sample_mask = (uint16_t)(sample > 1 ? 2 * sample - 1 : 0);
	l->sample_left = 1;
	l->sample_rng = 2463534242U; /* any non-zero seed; runs repeat */
	clock_init();
	l->hold_disturbed = calloc(2, sizeof(struct hist));
	if (!l->hold_disturbed)
		return -ENOMEM;
	l->wait_disturbed = l->hold_disturbed + 1;
	for (s = 0; s < PCPB_NR_LOCK_SITES; s++) {
		l->sites[s].hold = calloc(2, sizeof(struct hist));
		if (!l->sites[s].hold) {
			lock_destroy(l);
			return -ENOMEM;
		}
		l->sites[s].wait = l->sites[s].hold + 1;
	}
	return 0;
}

void lock_destroy(struct pcpb_lock *l)
{
	unsigned int s;

	for (s = 0; s < PCPB_NR_LOCK_SITES; s++) {
		free(l->sites[s].hold);
		l->sites[s].hold = l->sites[s].wait = NULL;
	}
	free(l->hold_disturbed);
	l->hold_disturbed = l->wait_disturbed = NULL;
}

void lock_set_watch(struct pcpb_lock *l)
{
	/* the check forks once per process: only when asked for */
	l->watch = l->lockstat && preempt_watch_usable(NULL);
}

int lock_rseq_supported(void)
{
	if (!PCPB_HAVE_RSEQ_ASM || rseq_current_cpu() < 0)
		return -EOPNOTSUPP;
	/* Idempotent; needed before MEMBARRIER_CMD_PRIVATE_EXPEDITED_RSEQ. */
	if (syscall(SYS_membarrier,
		    MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED_RSEQ, 0, 0))
		return -EOPNOTSUPP;
	return 0;
}

/* The rseq protocol's remote side is the mutex: never also lock_set_spin(). */
void lock_set_rseq_cpu(struct pcpb_lock *l, int cpu)
{
	l->rseq_cpu = cpu;
}

/* Before the lock's first use. */
void lock_set_spin(struct pcpb_lock *l)
{
	VM_BUG_ON(l->rseq_cpu >= 0);
	l->spin = true;
}

/* Announce (I4); on return no rseq section can commit until we leave. */
static void lock_shared_enter(struct pcpb_lock *l)
{
	int old = __atomic_fetch_add(&l->shared, 2, __ATOMIC_SEQ_CST);

	if (old == 0) {
		/* Sections that read shared == 0 restart or are done. */
		if (syscall(SYS_membarrier,
			    MEMBARRIER_CMD_PRIVATE_EXPEDITED_RSEQ, 0, 0))
			pcpb_bug("membarrier(PRIVATE_EXPEDITED_RSEQ) failed",
				 __FILE__, __LINE__, __func__);
		__atomic_fetch_or(&l->shared, LOCK_FENCED, __ATOMIC_SEQ_CST);
		return;
	}
	/* Another announcer may still be fencing. */
	while (!(__atomic_load_n(&l->shared, __ATOMIC_ACQUIRE) & LOCK_FENCED))
		cpu_relax();
}

static void lock_shared_leave(struct pcpb_lock *l, bool resume)
{
	int expected = LOCK_FENCED;

	__atomic_fetch_sub(&l->shared, 2, __ATOMIC_RELEASE);
	if (resume)
		__atomic_compare_exchange_n(&l->shared, &expected, 0, false,
					    __ATOMIC_SEQ_CST, __ATOMIC_RELAXED);
}

bool lock_shared_trylock(struct pcpb_lock *l)
{
	lock_shared_enter(l);
	if (lock_try_raw(l)) {
		l->holder_shared = true;
		return true;
	}
	lock_shared_leave(l, false);
	return false;
}

void lock_shared_lock(struct pcpb_lock *l, unsigned int site)
{
	lock_shared_enter(l);
	if (!lock_try_raw(l))
		lock_acquire_slow(l, site);
	l->holder_shared = true;
}

void lock_shared_unlock(struct pcpb_lock *l)
{
	bool resume = false;

	/* Still the holder: rseq_resume is ours. */
	if (rseq_current_cpu() != l->rseq_cpu) {
		l->rseq_resume = 0;
	} else if (++l->rseq_resume >= LOCK_RSEQ_RESUME) {
		l->rseq_resume = 0;
		resume = true;
	}
	lock_release_mutex(l);
	lock_shared_leave(l, resume);
}

void lock_hold_end(struct pcpb_lock *l)
{
	struct lock_site_stats *s = &l->sites[l->holder_site];
	uint64_t ns = cycles_to_ns(clock_cycles() - l->hold_start);

	if (l->watch && preempt_watch_end()) {
		s->nr_hold_disturbed++;
		hist_record(l->hold_disturbed, ns);
		__atomic_store_n(&l->nr_disturbed, l->nr_disturbed + 1,
				 __ATOMIC_RELAXED);
	} else {
		hist_record(s->hold, ns);
	}
	l->hold_start = 0;
	if (!l->sample_left) {
		/* Not the clock's bits: loop timing correlates them. */
		l->sample_rng ^= l->sample_rng << 13;
		l->sample_rng ^= l->sample_rng >> 17;
		l->sample_rng ^= l->sample_rng << 5;
		l->sample_left = 1 + (l->sample_rng & l->sample_mask);
	}
}

void lock_release_slow(struct pcpb_lock *l)
{
	if (l->rseq_cpu >= 0) {
		if (l->holder_shared) {
			lock_shared_unlock(l);
			return;
		}
		tsan_release(&l->state);
		if (rseq_unlock(&l->state, &l->shared))
			return;
		/* Someone announced (and may wait): the atomic way. */
	}
	/* A spinlock a sleeper marked, or rseq with someone announced. */
	lock_release_mutex(l);
}

void lock_stats_reset(struct pcpb_lock *l)
{
	unsigned int s;

	for (s = 0; s < PCPB_NR_LOCK_SITES; s++) {
		struct lock_site_stats *st = &l->sites[s];

		st->nr_acquire = st->nr_contended = 0;
		st->nr_hold_disturbed = st->nr_wait_disturbed = 0;
		WRITE_ONCE(st->nr_trylock_fail, 0);
		if (st->hold)
			memset(st->hold, 0, 2 * sizeof(struct hist));
	}
	if (l->hold_disturbed)
		memset(l->hold_disturbed, 0, 2 * sizeof(struct hist));
}
