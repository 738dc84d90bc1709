/* SPDX-License-Identifier: GPL-2.0-only OR MIT */
/*
 * shim.h - the LD_PRELOAD page-source backend's internals, shared by its
 * three files: hooks.c (interposition, configuration, lifecycle), space.c
 * (served ranges, their frames, the userfaultfd handler) and report.c.
 *
 * A program's private anonymous mappings are "served": each of their pages,
 * when it is first touched (fault mode) or when it is mapped (eager mode),
 * is allocated from a pcpbuddy instance on the CPU of the thread that
 * touched it, and freed to it when the program unmaps or purges it.  The
 * bytes the program sees are still the kernel's; pcpbuddy decides which pfn
 * on which CPU under which lock, and counts it.
 *
 * Invariants:
 *  S1 a served page has at most one frame; a frame is in exactly one
 *     page's entry (THP: in the entries of its extent, counted in
 *     thp_live[pfn >> 9]);
 *  S2 nothing the shim or its pcpbuddy instance touches after setup lives
 *     in a served range (its memory comes from raw mmap(2) or from before
 *     anything was served), or the fault handler could fault on itself;
 *  S3 the shim's own calls, and calls nested in a hook, are never served.
 * Locking: space_lock (a mutex, signals blocked while held in application
 * threads) orders the range table, the frames and the uffd ioctls; it is
 * taken before any pcpbuddy lock and never around a call into another
 * library.  Counters are relaxed atomics.
 */
#ifndef PCPB_PRELOAD_SHIM_H
#define PCPB_PRELOAD_SHIM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <pcpbuddy.h>

#define SHIM_PAGE 4096UL
#define SHIM_THP_ORDER 9
#define SHIM_THP_BYTES (SHIM_PAGE << SHIM_THP_ORDER)
#define SHIM_MAX_THREADS 4096 /* slot 0 unused; the last collects overflow */

struct trace_recorder;

enum shim_mode { SHIM_FAULT, SHIM_EAGER };

/* Why a mapping was not served. */
enum shim_pass {
	PASS_NOT_ANON,	/* file-backed, shared, hugetlb */
	PASS_PROT_NONE, /* a reservation (served once mprotect opens it) */
	PASS_STACK,	/* MAP_STACK / MAP_GROWSDOWN: a hook may run on it */
	PASS_POPULATE,	/* MAP_POPULATE: the kernel fills it before we see it */
	PASS_FIXED,	/* MAP_FIXED over a range the shim does not serve */
	PASS_NO_MEMORY, /* the modelled memory ran out */
	PASS_NOT_READY, /* before the constructor, or disabled */
	PASS_NESTED,	/* inside a hook or the shim itself */
	PASS_UFFD,	/* userfaultfd registration failed */
	NR_PASS
};

/* Frees by call. */
enum shim_free_call {
	FREE_MUNMAP,
	FREE_DONTNEED,
	FREE_FREE,
	FREE_REMOVE,
	FREE_MREMAP,
	FREE_FIXED,
	FREE_YIELD, /* the program registered it with its own userfaultfd */
	NR_FREE_CALLS
};

#define SLOT_EXITED ((pid_t)-1) /* a tombstone: reusable, probes go on */

struct shim_thread {
	pid_t tid; /* 0: free slot; SLOT_EXITED: its thread exited */
	int vcpu;  /* cpu_mode=thread: first-seen order modulo the CPUs */
	char name[16];
	uint64_t allocs, frees, frees_remote; /* pages */
};

struct shim_stats {
	uint64_t calls_mmap, calls_munmap, calls_mremap, calls_madvise;
	uint64_t served, served_bytes;
	uint64_t passed[NR_PASS];
	uint64_t faults, thp_faults, fault_pages, fault_no_memory;
	uint64_t faults_unserved; /* resolved without a frame (raced) */
	/* resolved without a frame or a lock: the faulting thread held
	 * space_lock (a hook running on a stack the program mapped) */
	uint64_t faults_holder;
	uint64_t fault_retries; /* not resolved (EAGAIN...): it faults again */
	uint64_t eager_pages;
	/* slots whose threads exited, taken back when the table was full,
	 * and what those threads did */
	uint64_t slots_recycled, exited_allocs, exited_frees,
		exited_frees_remote;
	/* eager: allocated for a mapping that did not fit, then given back
	 * (the allocator's ops count them; the program never had them) */
	uint64_t eager_rolled_back;
	uint64_t free_calls[NR_FREE_CALLS], free_pages[NR_FREE_CALLS];
	uint64_t
		frees_remote; /* pages freed by a thread that did not fault them */
	uint64_t mremap_moved_pages;
	uint64_t
		reservations_opened; /* PROT_NONE ranges served after mprotect */
	uint64_t calls_mprotect;
};

struct shim {
	struct pcpb *inst;
	enum shim_mode mode;
	bool thp, sched_cpus, ready, disabled, uffd_ok;
	bool final; /* under space_lock: faults get no more frames */
	/* the userfaultfd, above the descriptors programs use; -1 when none.
	 * Atomic: the fd hooks read it without space_lock. */
	int uffd;
	int nr_cpus;
	/* the program closed the userfaultfd past the hooks (a raw system
	 * call): the handler stopped, new mappings pass through */
	bool uffd_lost;
	unsigned int vmstat_ms;
	uint64_t next_tick_ns;
	char report_path[512], trace_path[512], why_eager[128];
	struct trace_recorder *recorder;
	/* A fork child that follows its parent: the parent's pid, and the
	 * served pages it inherited (frames of the instance's copy); 0 in
	 * a process that was not forked under the shim. */
	pid_t parent;
	uint64_t inherited_pages;
	struct shim_stats st;
	struct shim_thread *threads; /* SHIM_MAX_THREADS, raw mmap */
};

extern struct shim shim;

/* hooks.c: the real calls, never served. */
void *real_mmap(void *addr, size_t len, int prot, int flags, int fd, off_t off);
int real_munmap(void *addr, size_t len);
void *real_mremap(void *old, size_t old_len, size_t new_len, int flags,
		  void *new_addr);
int real_madvise(void *addr, size_t len, int advice);
int real_mprotect(void *addr, size_t len, int prot);
/* The calling thread is the shim's: its calls all pass through. */
void shim_internal_thread(void);
/* Memory for the shim itself, straight from the kernel (S2). */
void *raw_alloc(size_t len);
void raw_free(void *p, size_t len);

/* space.c */
int space_init(void); /* after the instance exists; 0 or -errno */
int shim_thread_slot(pid_t tid);
/* The calling application thread's slot; keeps its name fresh. */
int shim_self_slot(void);
int shim_vcpu_of(int slot, pid_t tid);
/* The mmap hook's decision and bookkeeping for a mapping it made. */
void space_mapped(void *addr, size_t len, int prot, int flags);
/* mprotect made [addr, addr+len) accessible: serve what was reserved. */
void space_opened(void *addr, size_t len);
/* Frees the frames of [addr, addr+len) and forgets the range. */
void space_unmapped(void *addr, size_t len, enum shim_free_call why);
/* Frees the frames of [addr, addr+len); the range stays served. */
void space_purged(void *addr, size_t len, enum shim_free_call why);
/* The program registers [addr, addr+len) with a userfaultfd of its own:
 * the shim unregisters it, frees its frames and forgets it, so the
 * program's registration succeeds.  Context: space_lock held. */
void space_yielded(void *addr, size_t len);
/* Moves the frames of a range mremap moved or resized. */
void space_remapped(void *old, size_t old_len, void *new_addr, size_t new_len);
/* Takes space_lock and keeps it if [addr, addr+len) overlaps a range of
 * the table (served or reserved): the check and the call it guards are
 * one step.  Return: true with the lock held, false without. */
bool space_lock_if_served(void *addr, size_t len);
/* Blocks signals while space_lock is held (see Locking). */
void space_lock(void);
void space_unlock(void);
void space_after_fork_child(void);
/* A fork child carries on with its copy of the instance and the table,
 * served eagerly (it has no fault handler): counters start again, the
 * inherited frames are counted.  Context: space_lock held (taken before
 * the fork by the forking thread, whose copy this thread is). */
void space_follow_fork_child(void);
/* The fd hooks: true when @fd is the shim's userfaultfd, which the
 * program never opened and must not close. */
bool space_is_uffd(int fd);
/* dup2/dup3 onto the shim's descriptor: move it elsewhere first.
 * Return: 0, or -errno (then the program's call must fail). */
int space_uffd_move_away(int fd);

/* Bytes of [lo, hi) in served ranges.  Context: space_lock held. */
uint64_t space_served_bytes(uintptr_t lo, uintptr_t hi);

/* report.c */
void shim_report(void);

static inline uint64_t shim_add(uint64_t *c, uint64_t n)
{
	return __atomic_add_fetch(c, n, __ATOMIC_RELAXED);
}

#endif /* PCPB_PRELOAD_SHIM_H */
