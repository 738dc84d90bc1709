/* SPDX-License-Identifier: GPL-2.0-only OR MIT */
/*
 * lock.h - the one instrumented lock type used for zone->lock and
 * pcp->lock, with lockstat per call site.
 *
 * Lock order (mirrors docs/design.md):
 *     pcp->lock  ->  zone->lock
 * At most one pcp->lock is held on the alloc/free paths; only pcpb_check()
 * and pcpb_stats_read() hold every lock, taking all PCPs (cpu, then zone
 * order) before all zones (node order).
 *
 * Two kinds.  The mutex (zone->lock, and pcp->lock under
 * pcp_fastpath=mutex) spins briefly, then sleeps on a futex (Drepper's
 * three-state mutex), so it does not collapse when threads outnumber cores,
 * as a pure spinlock would under userspace preemption.  Its unlock is an
 * exchange, to learn whether a sleeper waits.
 *
 * The spinlock (lock_set_spin(): pcp->lock under the default
 * pcp_fastpath=spin) has the kernel's fast path: compare-exchange to take,
 * a plain release store to drop.  It is for locks whose hot acquisitions
 * are trylocks (the kernel's pcp_spin_trylock() sites), so only drains,
 * decay, remote frees and observers wait, and they wait as on the mutex.
 * The unlock reads the word first and stores 0 over a 1; only a 2 (a
 * sleeper's mark) takes the mutex's exchange and wake.  A waiter that marks
 * the word between that read and the store is not woken, so its sleep is
 * bounded by LOCK_SPIN_SLEEP_NS, after which it looks again.  The window is
 * two instructions of the holder; a waiter needs a syscall to fall in it.
 *
 * pcp_fastpath=rseq (lock_set_rseq_cpu()): a thread running on the lock's
 * CPU takes and releases it with rseq sections (rseq.h), no atomic
 * instruction.  Every other acquisition, and any while someone else is in
 * it, goes through the shared protocol: announce in @shared, make sure a
 * membarrier has fenced the rseq sections since @shared left 0, then use
 * the atomic lock as usual.  A thread on the CPU that keeps finding the
 * protocol in force after the others have left lowers the fence again.
 *
 * Invariants:
 *   I1 state is 0 (free), 1 (held) or 2 (held, maybe waiters).
 *   I2 holder_site, hold_start and sample_left are written only by the
 *      holder; hold_start is non-zero exactly while a timed hold runs.
 *   I3 sites[s] counters change only under the lock itself, except
 *      nr_trylock_fail, which a failed trylock bumps atomically.
 *   I5 (watch) a timed hold is watched from its start to its end, a
 *      blocking wait from its start to the acquisition; one of them is
 *      disturbed when preempt_watch_end() says the thread lost its CPU
 *      (for a wait: while it spun, not while it slept on the futex, which
 *      is the mutex's own) or, for a wait, when a hold it waited behind
 *      was disturbed.  Disturbed ones are counted per site and go to the
 *      lock's own histograms; the sites' histograms keep the clean ones.
 *   I4 (rseq) an rseq section commits only while shared == 0; shared is
 *      2 x (threads in the protocol) | LOCK_FENCED, and no thread of the
 *      protocol touches state before LOCK_FENCED is set.
 *
 * Locking: a lock protects its own statistics.
 */
#ifndef PCPB_LOCK_H
#define PCPB_LOCK_H

#include <stdbool.h>
#include <stdint.h>

#include "../include/pcpbuddy.h"
#include "clock.h"
#include "compat.h"
#include "../util/hist.h"
#include "preempt.h"
#include "rseq.h"

struct lock_site_stats {
	uint64_t nr_acquire;
	uint64_t nr_contended;	  /* blocking acquisitions that had to wait */
	uint64_t nr_trylock_fail; /* atomic */
	/* watched holds and waits the host disturbed (preempt.h); the
	 * histograms then have the clean ones only */
	uint64_t nr_hold_disturbed, nr_wait_disturbed;
	struct hist *hold, *wait; /* NULL unless lockstat */
};

struct pcpb_lock {
	int state; /* futex word */
	bool spin; /* the kernel's spinlock fast path: plain-store unlock */
	bool lockstat;
	bool watch; /* timed holds and waits are classified (preempt.h) */
	uint8_t holder_site;
	/*
	 * Hold sampling, of the alloc and free fast-path sites only (every
	 * other hold is timed): the next timed one is sample_left of their
	 * acquisitions away, drawn uniformly from 1..sample_mask + 1 after
	 * each, so each site's share of the timed holds is its share of the
	 * acquisitions (a fixed period would time only the allocations of an
	 * alloc/free loop).  A mask of 0 times every hold.
	 */
	uint16_t sample_mask;
	uint32_t sample_left;
	uint32_t sample_rng; /* xorshift32 state */
	uint64_t hold_start; /* cycles; 0 when this hold is not timed */
	int rseq_cpu;	     /* < 0 unless pcp_fastpath=rseq */
	int shared;	     /* atomic; I4 */
	bool holder_shared;  /* this hold went through the protocol */
	uint16_t
		rseq_resume; /* protocol holds on rseq_cpu since a remote one */
	/* Debug builds: the holding thread, for lockdep_assert_held(). */
	const void *holder;
	/* Holds whose holder lost its CPU; atomic: waiters read it to learn
	 * whether a hold they waited behind was disturbed. */
	uint64_t nr_disturbed;
	/* The disturbed holds and waits of every site (NULL unless lockstat) */
	struct hist *hold_disturbed, *wait_disturbed;
	struct lock_site_stats sites[PCPB_NR_LOCK_SITES];
};

#define LOCK_FENCED 1
/* The longest a spinlock sleeper can miss its wakeup (see above). */
#define LOCK_SPIN_SLEEP_NS 1000000
/* How many protocol holds on the lock's CPU, with nobody else in it,
 * before its threads go back to the rseq path (and the next remote
 * acquisition pays a membarrier). */
#define LOCK_RSEQ_RESUME 64

typedef struct pcpb_lock spinlock_t;

/* @sample: 0 = no timing; time one hold in about @sample (a power of 2). */
int lock_init(struct pcpb_lock *l, unsigned int sample);
void lock_destroy(struct pcpb_lock *l);
/* Contended path; @site == PCPB_NR_LOCK_SITES records nothing. */
void lock_acquire_slow(struct pcpb_lock *l, unsigned int site);
void lock_wake(struct pcpb_lock *l);
void lock_stats_reset(struct pcpb_lock *l);
/* pcp_fastpath=rseq: 0, or -EOPNOTSUPP when rseq or membarrier is missing. */
int lock_rseq_supported(void);
void lock_set_rseq_cpu(struct pcpb_lock *l, int cpu);
void lock_set_spin(struct pcpb_lock *l);
/* Before the lock's first use: classify its timed holds and waits as
 * clean or disturbed (preempt.h), where this process can tell. */
void lock_set_watch(struct pcpb_lock *l);
/* The shared protocol (I4), out of line: it is the slow path. */
bool lock_shared_trylock(struct pcpb_lock *l);
void lock_shared_lock(struct pcpb_lock *l, unsigned int site);
void lock_shared_unlock(struct pcpb_lock *l);
/* Out of line: record a timed hold; release a marked spinlock or rseq. */
void lock_hold_end(struct pcpb_lock *l);
void lock_release_slow(struct pcpb_lock *l);

/* The rseq fast path of a lock; tsan sees the edge by hand. */
static inline bool lock_rseq_try(struct pcpb_lock *l)
{
	if (!rseq_lock_on_cpu(&l->state, &l->shared, l->rseq_cpu))
		return false;
	tsan_acquire(&l->state);
	l->holder_shared = false;
	return true;
}

static inline bool lock_try_raw(struct pcpb_lock *l)
{
	int expected = 0;

	return __atomic_compare_exchange_n(&l->state, &expected, 1, false,
					   __ATOMIC_ACQUIRE, __ATOMIC_RELAXED);
}

/* An address unique to the calling thread (its TLS block). */
extern __thread char lock_thread_token
	__attribute__((tls_model("initial-exec")));

static inline void lock_note_holder(struct pcpb_lock *l, bool held)
{
	if (PCPB_DEBUG)
		l->holder = held ? &lock_thread_token : NULL;
}

static inline void lock_acquired(struct pcpb_lock *l, enum pcpb_lock_site site)
{
	lock_note_holder(l, true);
	l->holder_site = (uint8_t)site;
	l->sites[site].nr_acquire++;
	if (l->lockstat && (site > PCPB_SITE_free || --l->sample_left == 0)) {
		l->hold_start = clock_cycles();
		if (l->watch)
			preempt_watch_begin();
	}
}

/* spin_lock(): blocks; the wait is recorded when there was one. */
static inline void spin_lock(struct pcpb_lock *l, enum pcpb_lock_site site)
{
	if (l->rseq_cpu >= 0) {
		if (!lock_rseq_try(l))
			lock_shared_lock(l, site);
	} else if (unlikely(!lock_try_raw(l))) {
		lock_acquire_slow(l, site);
	}
	lock_acquired(l, site);
}

/* spin_trylock(): the kernel's pcp_spin_trylock() semantics. */
static inline bool spin_trylock(struct pcpb_lock *l, enum pcpb_lock_site site)
{
	bool ok;

	if (l->rseq_cpu >= 0)
		ok = lock_rseq_try(l) || lock_shared_trylock(l);
	else
		ok = lock_try_raw(l);
	if (unlikely(!ok)) {
		atomic_add(&l->sites[site].nr_trylock_fail, 1);
		return false;
	}
	lock_acquired(l, site);
	return true;
}

/* The mutex's release: drop the word, wake one sleeper if it was marked. */
static inline void lock_release_mutex(struct pcpb_lock *l)
{
	if (unlikely(__atomic_exchange_n(&l->state, 0, __ATOMIC_RELEASE) == 2))
		lock_wake(l);
}

/*
 * Inlined for the spinlock's and the mutex's common case; a marked
 * spinlock and rseq go to lock_release_slow().
 */
static __always_inline void lock_release(struct pcpb_lock *l)
{
	if (likely(l->spin)) {
		if (likely(READ_ONCE(l->state) == 1)) {
			__atomic_store_n(&l->state, 0, __ATOMIC_RELEASE);
			return;
		}
	} else if (l->rseq_cpu < 0) {
		lock_release_mutex(l);
		return;
	}
	lock_release_slow(l);
}

static __always_inline void spin_unlock(struct pcpb_lock *l)
{
	lock_note_holder(l, false);
	if (unlikely(l->hold_start))
		lock_hold_end(l);
	lock_release(l);
}

/* Time a section under a held lock as if it were a site (claim, steal). */
static inline uint64_t lock_section_begin(struct pcpb_lock *l)
{
	return l->lockstat ? clock_cycles() : 0;
}

static inline void lock_section_end(struct pcpb_lock *l,
				    enum pcpb_lock_site site, uint64_t t0)
{
	l->sites[site].nr_acquire++;
	if (l->lockstat)
		hist_record(l->sites[site].hold,
			    cycles_to_ns(clock_cycles() - t0));
}

/* Raw acquire for observers (stats, check): not counted in lockstat. */
static inline void spin_lock_quiet(struct pcpb_lock *l)
{
	if (l->rseq_cpu >= 0)
		lock_shared_lock(l, PCPB_NR_LOCK_SITES);
	else if (!lock_try_raw(l))
		lock_acquire_slow(l, PCPB_NR_LOCK_SITES);
	lock_note_holder(l, true);
}

static inline void spin_unlock_quiet(struct pcpb_lock *l)
{
	lock_note_holder(l, false);
	lock_release(l);
}

static inline bool spin_is_locked(struct pcpb_lock *l)
{
	return READ_ONCE(l->state) != 0;
}

/* Held, and by this thread (debug builds record the holder). */
static inline bool lock_held_by_me(struct pcpb_lock *l)
{
	return spin_is_locked(l) && l->holder == &lock_thread_token;
}

#define lockdep_assert_held(l) VM_BUG_ON(!lock_held_by_me(l))

#endif /* PCPB_LOCK_H */
