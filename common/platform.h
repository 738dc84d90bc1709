/* SPDX-License-Identifier: GPL-2.0-only OR MIT */
/*
 * platform.h - the machine specifics, in one place: the spin-wait hint,
 * whether the rseq critical sections (rseq.h, x86-64 assembly) exist, and
 * the cycle counter (clock.h uses it).  Every other file is portable C11
 * with GNU extensions; a new architecture adds its lines here, and without
 * them gets the generic fallbacks: a compiler barrier for cpu_relax(),
 * pcp_fastpath=rseq refused (-EOPNOTSUPP), clock_gettime() for cycles.
 *
 * Invariants: none.  Locking: none.
 */
#ifndef PCPB_PLATFORM_H
#define PCPB_PLATFORM_H

#if defined(__x86_64__) || defined(__i386__)
#include <x86intrin.h>
#define PCPB_HAVE_CYCLE_COUNTER 1
#define platform_cycles() __rdtsc()
#define cpu_relax() __builtin_ia32_pause()
#elif defined(__aarch64__)
#define PCPB_HAVE_CYCLE_COUNTER 0
#define cpu_relax() __asm__ volatile("yield" ::: "memory")
#else
#define PCPB_HAVE_CYCLE_COUNTER 0
#define cpu_relax() __asm__ volatile("" ::: "memory")
#endif

/* rseq.h's sections are written in x86-64 assembly. */
#if defined(__x86_64__)
#define PCPB_HAVE_RSEQ_ASM 1
#else
#define PCPB_HAVE_RSEQ_ASM 0
#endif

#endif /* PCPB_PLATFORM_H */
