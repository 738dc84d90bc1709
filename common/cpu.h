/* SPDX-License-Identifier: GPL-2.0-only OR MIT */
/*
 * cpu.h - which CPU the calling thread acts as.
 *
 * thread mode: each thread gets a process-wide virtual CPU number on first
 * use (or the one pcpb_set_thread_cpu() gave it), taken modulo nr_cpus, so
 * 16 or 64 CPUs can be modelled on 2 cores.  sched mode: sched_getcpu().
 * explicit mode: the thread's set CPU, else 0; callers normally pass the CPU.
 *
 * Invariants: a thread's virtual number never changes unless it sets it.
 * Locking: thread-local state plus one atomic counter.
 */
#ifndef PCPB_CPU_H
#define PCPB_CPU_H

#include "../include/pcpbuddy.h"

int cpu_thread_vcpu(void);
int cpu_set_thread_vcpu(int vcpu);
int cpu_current(enum pcpb_cpu_mode mode, int nr_cpus);

#endif /* PCPB_CPU_H */
