/* SPDX-License-Identifier: GPL-2.0-only OR MIT */
/*
 * preempt.h - did this thread lose its CPU during an interval?  Used to
 * tell a lock hold the host disturbed (the holder was preempted, slept or
 * took a signal inside it) from one that measured the allocator's work.
 *
 * The kernel rewrites the cpu_id_start field of a thread's struct rseq
 * (registered by glibc >= 2.35) on the way back to user space after every
 * context switch, migration and signal (rseq_preempt() from
 * prepare_task_switch(), rseq_handle_notify_resume()), and at no other
 * time.  So a watch writes a value no CPU has into it when the interval
 * starts, and the interval was disturbed when the value is gone at its
 * end: two stores and a load, no system call (getrusage(RUSAGE_THREAD) and
 * CLOCK_THREAD_CPUTIME_ID cost 450 ns and 900 ns here, more than most
 * holds).  Nothing else in the process reads cpu_id_start while a watch
 * runs except through the rseq API's "start" CPU, which the end restores.
 *
 * Whether it works is checked once per process, when a lock first asks
 * (preempt_watch_usable(), from lock_set_watch()):
 * rseq registered, and a forked child whose marker a sleep must clear
 * (a kernel built with CONFIG_DEBUG_RSEQ from 6.13 on checks that user
 * space left the field alone and kills the process: only the child dies,
 * and the watch stays off).  What it misses: time the hypervisor takes
 * the vCPU away (the guest sees no switch), interrupts handled without a
 * reschedule, and cache misses caused by other tasks.
 *
 * Invariants: watches nest (pcp->lock, then zone->lock inside); each end
 * reports a switch inside its own interval, and an outer one also every
 * switch its inner ones saw.
 * Locking: per thread.
 */
#ifndef PCPB_PREEMPT_H
#define PCPB_PREEMPT_H

#include <stdbool.h>
#include <stdint.h>

#include "compat.h"
#include "rseq.h"

#define PREEMPT_MARK 0x7ffffff0u /* no CPU; not RSEQ_CPU_ID_UNINITIALIZED */

struct preempt_watch {
	unsigned int depth;
	bool lost; /* since the outermost watch began */
};

extern __thread struct preempt_watch preempt_watch_state
	__attribute__((tls_model("initial-exec")));

/* Return: true when watches work here; false with the reason in @why. */
bool preempt_watch_usable(const char **why);

static inline void preempt_watch_begin(void)
{
	struct preempt_watch *w = &preempt_watch_state;
	struct rseq *rs = rseq_area();

	if (w->depth++ == 0)
		w->lost = false;
	else if (READ_ONCE(rs->cpu_id_start) != PREEMPT_MARK)
		w->lost = true; /* the outer interval lost it before this one */
	WRITE_ONCE(rs->cpu_id_start, PREEMPT_MARK);
}

/* Return: true when the thread lost its CPU since the matching begin. */
static inline bool preempt_watch_end(void)
{
	struct preempt_watch *w = &preempt_watch_state;
	struct rseq *rs = rseq_area();
	bool gone = READ_ONCE(rs->cpu_id_start) != PREEMPT_MARK;

	if (--w->depth) {
		w->lost |= gone;
		WRITE_ONCE(rs->cpu_id_start,
			   PREEMPT_MARK); /* the outer goes on */
		return gone;
	}
	if (!gone) /* the CPU we run on: what the kernel would have left */
		WRITE_ONCE(rs->cpu_id_start, READ_ONCE(rs->cpu_id));
	return gone || w->lost;
}

#endif /* PCPB_PREEMPT_H */
