/* SPDX-License-Identifier: GPL-2.0-only OR MIT */
/*
 * rseq.h - the restartable-sequence critical sections of
 * pcp_fastpath=rseq: take and release a lock word with plain stores.  The
 * kernel restarts a section that is preempted, migrated or signalled
 * before its commit, so two threads of one CPU cannot interleave in it;
 * threads elsewhere announce themselves first and then fence every
 * section with membarrier(MEMBARRIER_CMD_PRIVATE_EXPEDITED_RSEQ)
 * (lock.c, lock_shared_enter()).
 *
 * glibc (>= 2.35) registers each thread's struct rseq; __rseq_offset
 * finds it from the thread pointer.  Where it is not registered (valgrind,
 * glibc.pthread.rseq=0) cpu_id is negative, and every section fails.
 *
 * Invariants: a section's only store is its last instruction, the commit;
 * the abort handler is preceded by RSEQ_SIG, as the kernel checks.
 * Locking: none; these are the lock's fast path.
 */
#ifndef PCPB_RSEQ_H
#define PCPB_RSEQ_H

#include <stdbool.h>
#include <sys/rseq.h>

#include "compat.h"
#include "platform.h"

static inline struct rseq *rseq_area(void)
{
	return (struct rseq *)((char *)__builtin_thread_pointer() +
			       __rseq_offset);
}

/* The CPU this thread runs on, or negative when rseq is not registered. */
static inline int rseq_current_cpu(void)
{
	return (int)READ_ONCE(rseq_area()->cpu_id);
}

#if PCPB_HAVE_RSEQ_ASM
#define RSEQ_STR_(x) #x
#define RSEQ_STR(x) RSEQ_STR_(x)

/*
 * Descriptor 3 covers [1, 2) and aborts to 4, which sits behind the
 * signature in its own section (the ud1 encoding makes the signature an
 * invalid instruction should it ever be executed).
 */
#define RSEQ_SECTION_BEGIN                                       \
	".pushsection __rseq_cs, \"aw\"\n\t"                     \
	".balign 32\n\t"                                         \
	"3: .long 0, 0\n\t"                                      \
	".quad 1f, 2f - 1f, 4f\n\t"                              \
	".popsection\n\t"                                        \
	".pushsection __rseq_failure, \"ax\"\n\t"                \
	".byte 0x0f, 0xb9, 0x3d\n\t"                             \
	".long " RSEQ_STR(RSEQ_SIG) "\n\t"                       \
				    "4: jmp %l[abort]\n\t"       \
				    ".popsection\n\t"            \
				    "leaq 3b(%%rip), %%rax\n\t"  \
				    "movq %%rax, %[rseq_cs]\n\t" \
				    "1:\n\t"

/*
 * On CPU @cpu, with no thread announced in @shared, turn a free @state
 * (0) into held (1).  Return: false when any of that is not so, or the
 * section was restarted.
 */
static inline bool rseq_lock_on_cpu(int *state, const int *shared, int cpu)
{
	struct rseq *rs = rseq_area();

	__asm__ goto(
		RSEQ_SECTION_BEGIN "cmpl %[cpu], %[cpu_id]\n\t"
				   "jnz %l[abort]\n\t"
				   "cmpl $0, %[shared]\n\t"
				   "jnz %l[abort]\n\t"
				   "cmpl $0, %[state]\n\t"
				   "jnz %l[abort]\n\t"
				   "movl $1, %[state]\n\t"
				   "2:\n\t"
		:
		: [rseq_cs] "m"(rs->rseq_cs), [cpu_id] "m"(rs->cpu_id),
		  [cpu] "r"(cpu), [shared] "m"(*shared), [state] "m"(*state)
		: "rax", "memory", "cc"
		: abort);
	return true;
abort:
	return false;
}

/*
 * With no thread announced in @shared, turn a held @state (1, no
 * waiters) into free.  Any CPU: a membarrier restarts sections everywhere,
 * but only in threads that registered rseq.
 * Return: false when that is not so, or the section was restarted.
 */
static inline bool rseq_unlock(int *state, const int *shared)
{
	struct rseq *rs = rseq_area();

	__asm__ goto(RSEQ_SECTION_BEGIN "cmpl $0, %[cpu_id]\n\t"
					"jl %l[abort]\n\t"
					"cmpl $0, %[shared]\n\t"
					"jnz %l[abort]\n\t"
					"cmpl $1, %[state]\n\t"
					"jnz %l[abort]\n\t"
					"movl $0, %[state]\n\t"
					"2:\n\t"
		     :
		     : [rseq_cs] "m"(rs->rseq_cs), [cpu_id] "m"(rs->cpu_id),
		       [shared] "m"(*shared), [state] "m"(*state)
		     : "rax", "memory", "cc"
		     : abort);
	return true;
abort:
	return false;
}
#else
/* No sections on this architecture: lock_rseq_supported() says so. */
static inline bool rseq_lock_on_cpu(int *state, const int *shared, int cpu)
{
	(void)state, (void)shared, (void)cpu;
	return false;
}

static inline bool rseq_unlock(int *state, const int *shared)
{
	(void)state, (void)shared;
	return false;
}
#endif /* PCPB_HAVE_RSEQ_ASM */

#endif /* PCPB_RSEQ_H */
