// SPDX-License-Identifier: GPL-2.0-only OR MIT
/*
 * cpu.c - CPU identity (see cpu.h).
 *
 * Invariants: next_vcpu only grows.  Locking: atomic next_vcpu; TLS.
 */
#include "cpu.h"

#include <errno.h>
#include <sched.h>

#include "compat.h"

static int next_vcpu;
static __thread int thread_vcpu __attribute__((tls_model("initial-exec"))) = -1;

int cpu_thread_vcpu(void)
{
	if (unlikely(thread_vcpu < 0))
		thread_vcpu = atomic_add(&next_vcpu, 1);
	return thread_vcpu;
}

int cpu_set_thread_vcpu(int vcpu)
{
	if (vcpu < 0)
		return -EINVAL;
	thread_vcpu = vcpu;
	return 0;
}

int cpu_current(enum pcpb_cpu_mode mode, int nr_cpus)
{
	int cpu;

	switch (mode) {
	case PCPB_CPU_SCHED:
		cpu = sched_getcpu();
		return cpu < 0 ? 0 : cpu % nr_cpus;
	case PCPB_CPU_EXPLICIT:
		return thread_vcpu < 0 ? 0 : thread_vcpu % nr_cpus;
	case PCPB_CPU_THREAD:
	default:
		return cpu_thread_vcpu() % nr_cpus;
	}
}
