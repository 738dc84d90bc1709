// SPDX-License-Identifier: GPL-2.0-only OR MIT
/*
 * space.c - the served address space: a sorted table of served ranges,
 * each page's frame (the pfn pcpbuddy gave it, and the thread that faulted
 * it), the thread table, and the userfaultfd handler that allocates a frame
 * for each first touch on the touching thread's CPU.
 *
 * Fault mode: a served range is registered with userfaultfd for missing
 * faults.  The handler thread reads each fault with the faulting thread's
 * id (UFFD_FEATURE_THREAD_ID), allocates a frame on that thread's virtual
 * CPU (order 9 for a whole empty 2 MiB extent under PCPBUDDY_THP=1) and
 * resolves the fault with UFFDIO_COPY of zeroes, under space_lock, so that
 * a concurrent munmap or MADV_DONTNEED sees either no page and no frame or
 * both.  munmap and madvise free the frames of the range on the calling
 * thread's CPU; the next touch faults again.  mremap keeps the frames; a
 * moved range loses its registration (no UFFD_FEATURE_EVENT_REMAP, whose
 * event would make mremap wait for the handler while the hook holds the
 * lock) and is registered again, under the same lock as the move.
 * Eager mode: every page gets its frame at mmap time, on the mapping
 * thread's CPU; munmap and madvise free them; reuse after a purge is not
 * seen.
 *
 * The userfaultfd is the program's descriptor too: it sits high (from the
 * soft RLIMIT_NOFILE down, where closefrom(3) or `exec 3<` does not look
 * for its own), the hooks refuse to close it and move it before a dup2()
 * lands on it, and the handler reads it only while it is still the same
 * file (device and inode: each userfaultfd has its own anon inode).  Closed
 * past the hooks, by a raw system call, the handler stops cleanly: the
 * program's files are never read, new mappings pass through, and the
 * report says so.
 *
 * The holder of space_lock may itself fault on a served page: a hook's
 * stack frames, when the program runs on a stack it mapped (makecontext,
 * pthread_attr_setstack).  So the handler never blocks on the lock: it
 * queues what it read, serves each fault whose thread holds the lock at
 * once with a zero page and no frame (touching no shim state: that thread
 * is stopped in the fault, and nobody else can hold the lock), and the
 * others when a trylock succeeds, polling the descriptor meanwhile.
 * Everything that takes an instance lock does so under space_lock, so no
 * stopped thread holds one the handler would need.
 *
 * Invariants: S1 and S2 of shim.h; ranges are page-aligned, sorted and
 * disjoint; frames[] has one entry per page of its range.
 * Locking: space_mutex (space_lock()) over all of it; the thread table's
 * slots are claimed with a CAS and need no lock.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/userfaultfd.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "shim.h"

#define MIN_INT(a, b) ((a) < (b) ? (a) : (b))

/* A frame entry: 0 none, else pfn + 1, the faulting thread's slot, THP. */
#define FRAME_PFN_MASK ((1ULL << 40) - 1)
#define FRAME_SLOT_SHIFT 40
#define FRAME_THP (1ULL << 62)

struct range {
	uintptr_t start, end;
	uint64_t *frames;
	bool reserved; /* PROT_NONE: not served until mprotect opens it */
};

static pthread_mutex_t space_mutex = PTHREAD_MUTEX_INITIALIZER;
static __thread sigset_t saved_mask __attribute__((tls_model("initial-exec")));
static __thread int my_slot __attribute__((tls_model("initial-exec")));
static struct range *ranges;
static size_t nr_ranges, cap_ranges;
static uint16_t *thp_live; /* by pfn >> 9: live subpages of a THP frame */
static void *zero_src;	   /* SHIM_THP_BYTES of zeroes, never written */
static int next_vcpu;

static size_t frames_bytes(size_t npages)
{
	return (npages * sizeof(uint64_t) + SHIM_PAGE - 1) & ~(SHIM_PAGE - 1);
}

/* The thread holding space_mutex (atomic; 0: none, or the handler). */
static pid_t space_holder;
static __thread pid_t my_tid __attribute__((tls_model("initial-exec")));

void space_lock(void)
{
	sigset_t all;

	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &saved_mask);
	pthread_mutex_lock(&space_mutex);
	if (!my_tid)
		my_tid = (pid_t)syscall(SYS_gettid);
	__atomic_store_n(&space_holder, my_tid, __ATOMIC_RELEASE);
}

void space_unlock(void)
{
	__atomic_store_n(&space_holder, 0, __ATOMIC_RELEASE);
	pthread_mutex_unlock(&space_mutex);
	pthread_sigmask(SIG_SETMASK, &saved_mask, NULL);
}

/* ---- threads --------------------------------------------------------------- */

/*
 * Take back the slots of threads that exited (tgkill(0) says ESRCH), what
 * they did kept in the totals.  Called when the table is full: a program
 * that made more threads than SHIM_MAX_THREADS over its life keeps exact
 * per-thread figures as long as no more than that live at once.  (A frame
 * still names the slot of the thread that faulted it; a slot taken back
 * counts a later free of it against its new thread.)
 */
static void recycle_exited_slots(void)
{
	pid_t pid = getpid();
	int s;

	for (s = 1; s < SHIM_MAX_THREADS - 1; s++) {
		struct shim_thread *t = &shim.threads[s];
		pid_t cur = __atomic_load_n(&t->tid, __ATOMIC_ACQUIRE);

		if (cur <= 0 || syscall(SYS_tgkill, pid, cur, 0) == 0 ||
		    errno != ESRCH)
			continue;
		if (!__atomic_compare_exchange_n(&t->tid, &cur, SLOT_EXITED,
						 false, __ATOMIC_ACQ_REL,
						 __ATOMIC_ACQUIRE))
			continue;
		shim_add(&shim.st.exited_allocs,
			 __atomic_exchange_n(&t->allocs, 0, __ATOMIC_RELAXED));
		shim_add(&shim.st.exited_frees,
			 __atomic_exchange_n(&t->frees, 0, __ATOMIC_RELAXED));
		shim_add(&shim.st.exited_frees_remote,
			 __atomic_exchange_n(&t->frees_remote, 0,
					     __ATOMIC_RELAXED));
		t->name[0] = '\0';
		shim_add(&shim.st.slots_recycled, 1);
	}
}

/*
 * Open addressing from the tid's hash: a probe passes tombstones
 * (SLOT_EXITED) and stops at an empty slot; a new thread takes the first
 * tombstone on its way, else that empty slot.  Claims are a CAS, so two
 * claimers of one tid agree on one slot.
 */
int shim_thread_slot(pid_t tid)
{
	unsigned int h =
		((unsigned int)tid * 2654435761U) % (SHIM_MAX_THREADS - 2);
	int attempt;

	for (attempt = 0; attempt < 4; attempt++) {
		int free_slot = -1;
		unsigned int i;

		for (i = 0; i < SHIM_MAX_THREADS - 2; i++) {
			unsigned int s = 1 + (h + i) % (SHIM_MAX_THREADS - 2);
			pid_t cur = __atomic_load_n(&shim.threads[s].tid,
						    __ATOMIC_ACQUIRE);

			if (cur == tid)
				return (int)s;
			if (cur == SLOT_EXITED && free_slot < 0)
				free_slot = (int)s;
			if (!cur) {
				if (free_slot < 0)
					free_slot = (int)s;
				break;
			}
		}
		if (free_slot >= 0) {
			struct shim_thread *t = &shim.threads[free_slot];
			pid_t cur = __atomic_load_n(&t->tid, __ATOMIC_ACQUIRE);
			/* The vcpu first, so that a reader of tid sees it. */
			int vcpu = __atomic_fetch_add(&next_vcpu, 1,
						      __ATOMIC_RELAXED);

			if (cur != 0 && cur != SLOT_EXITED)
				continue; /* taken meanwhile: look again */
			t->vcpu = vcpu % shim.nr_cpus;
			if (__atomic_compare_exchange_n(&t->tid, &cur, tid,
							false, __ATOMIC_ACQ_REL,
							__ATOMIC_ACQUIRE))
				return free_slot;
			if (cur == tid)
				return free_slot;
			continue;
		}
		recycle_exited_slots(); /* full: take back the exited */
	}
	return SHIM_MAX_THREADS - 1; /* the overflow slot */
}

/* The CPU a thread last ran on, from /proc (cpu_mode=sched faults). */
static int cpu_of_tid(pid_t tid)
{
	char path[64], buf[1024], *p;
	int fd, field;
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/self/task/%d/stat", (int)tid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	p = strrchr(buf, ')'); /* comm may hold spaces */
	for (field = 2; p && field < 39; field++)
		p = strchr(p + 1, ' ');
	return p ? atoi(p + 1) : 0;
}

int shim_vcpu_of(int slot, pid_t tid)
{
	if (shim.sched_cpus) {
		int cpu = tid == (pid_t)syscall(SYS_gettid) ? sched_getcpu()
							    : cpu_of_tid(tid);

		return (cpu < 0 ? 0 : cpu) % shim.nr_cpus;
	}
	return shim.threads[slot].vcpu;
}

/* The calling application thread's slot, its name kept fresh. */
int shim_self_slot(void)
{
	static const unsigned int refresh = 64;
	struct shim_thread *t;

	if (!my_slot)
		my_slot = shim_thread_slot((pid_t)syscall(SYS_gettid));
	t = &shim.threads[my_slot];
	/* jemalloc names its background threads after their first call. */
	if (!t->name[0] || (t->allocs + t->frees) % refresh == 0)
		prctl(PR_GET_NAME, t->name);
	return my_slot;
}

/* ---- the range table --------------------------------------------------------- */

/* Return: the index of the first range ending above @addr. */
static size_t find_from(uintptr_t addr)
{
	size_t lo = 0, hi = nr_ranges;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;

		if (ranges[mid].end <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static struct range *find(uintptr_t addr)
{
	size_t i = find_from(addr);

	return i < nr_ranges && ranges[i].start <= addr ? &ranges[i] : NULL;
}

bool space_lock_if_served(void *addr, size_t len)
{
	uintptr_t a = (uintptr_t)addr;
	size_t i;

	space_lock();
	i = find_from(a);
	if (i < nr_ranges && ranges[i].start < a + len)
		return true;
	space_unlock();
	return false;
}

static int insert(uintptr_t start, uintptr_t end, uint64_t *frames)
{
	size_t i = find_from(start);

	if (nr_ranges == cap_ranges) {
		size_t cap = cap_ranges ? 2 * cap_ranges : 1024;
		struct range *r = raw_alloc(cap * sizeof(*r));

		if (!r)
			return -ENOMEM;
		memcpy(r, ranges, nr_ranges * sizeof(*r));
		raw_free(ranges, cap_ranges * sizeof(*r));
		ranges = r;
		cap_ranges = cap;
	}
	if (!frames) {
		frames = raw_alloc(frames_bytes((end - start) / SHIM_PAGE));
		if (!frames)
			return -ENOMEM;
	}
	memmove(&ranges[i + 1], &ranges[i], (nr_ranges - i) * sizeof(*ranges));
	ranges[i] = (struct range){ start, end, frames, false };
	nr_ranges++;
	return 0;
}

/* Gives one page's frame back on @cpu.  Return: the slot that faulted it. */
static int release_frame(uint64_t *entry, int cpu)
{
	uint64_t f = *entry;
	unsigned long pfn = (unsigned long)((f & FRAME_PFN_MASK) - 1);

	*entry = 0;
	if (f & FRAME_THP) {
		/* The kernel would split the huge page; the model keeps the
		 * order-9 block until its last subpage goes (design.md). */
		if (--thp_live[pfn >> SHIM_THP_ORDER] == 0)
			pcpb_free_pages_cpu(shim.inst, cpu, pfn,
					    SHIM_THP_ORDER);
	} else {
		pcpb_free_pages_cpu(shim.inst, cpu, pfn, 0);
	}
	return (int)((f >> FRAME_SLOT_SHIFT) & (SHIM_MAX_THREADS - 1));
}

/*
 * Takes back frames the shim gave and could not use (a fault it could not
 * resolve, a mapping it could not fill): entries @from..@from+@n-1 of @r,
 * uncounted as frees, and no longer allocations of thread @slot.
 */
static void undo_frames(struct range *r, size_t from, size_t n, int cpu,
			int slot)
{
	uint64_t undone = 0;
	size_t k;

	for (k = from; k < from + n; k++)
		if (r->frames[k]) {
			release_frame(&r->frames[k], cpu);
			undone++;
		}
	shim_add(&shim.threads[slot].allocs, -undone);
}

/* Frees one page's frame on @cpu, counted.  Return: 1 if it had one. */
static unsigned int free_frame(uint64_t *entry, int cpu, int slot,
			       enum shim_free_call why)
{
	int owner;

	if (!*entry)
		return 0;
	owner = release_frame(entry, cpu);
	shim_add(&shim.st.free_pages[why], 1);
	shim_add(&shim.threads[slot].frees, 1);
	if (owner != slot) {
		shim_add(&shim.st.frees_remote, 1);
		shim_add(&shim.threads[slot].frees_remote, 1);
	}
	return 1;
}

static void free_frames(struct range *r, uintptr_t from, uintptr_t to,
			enum shim_free_call why)
{
	int slot = shim_self_slot();
	int cpu = shim_vcpu_of(slot, (pid_t)syscall(SYS_gettid));
	size_t i;

	for (i = (from - r->start) / SHIM_PAGE; i < (to - r->start) / SHIM_PAGE;
	     i++)
		free_frame(&r->frames[i], cpu, slot, why);
}

/*
 * Cuts [start, end) out of the table; frees its frames unless @keep gets
 * them (keep[i] for page start + i * SHIM_PAGE, zeroed by the caller).
 */
static void cut(uintptr_t start, uintptr_t end, enum shim_free_call why,
		uint64_t *keep)
{
	size_t i = find_from(start);

	while (i < nr_ranges && ranges[i].start < end) {
		struct range r = ranges[i];
		uintptr_t lo = r.start > start ? r.start : start;
		uintptr_t hi = r.end < end ? r.end : end;
		size_t npages = (r.end - r.start) / SHIM_PAGE;

		if (keep) {
			memcpy(&keep[(lo - start) / SHIM_PAGE],
			       &r.frames[(lo - r.start) / SHIM_PAGE],
			       (hi - lo) / SHIM_PAGE * sizeof(uint64_t));
			memset(&r.frames[(lo - r.start) / SHIM_PAGE], 0,
			       (hi - lo) / SHIM_PAGE * sizeof(uint64_t));
		} else {
			free_frames(&r, lo, hi, why);
		}
		memmove(&ranges[i], &ranges[i + 1],
			(nr_ranges - i - 1) * sizeof(*ranges));
		nr_ranges--;
		/* The remnants get frame arrays of their own. */
		if (r.start < lo && !insert(r.start, lo, NULL)) {
			memcpy(find(r.start)->frames, r.frames,
			       (lo - r.start) / SHIM_PAGE * sizeof(uint64_t));
			find(r.start)->reserved = r.reserved;
			i++;
		}
		if (hi < r.end && !insert(hi, r.end, NULL)) {
			memcpy(find(hi)->frames,
			       &r.frames[(hi - r.start) / SHIM_PAGE],
			       (r.end - hi) / SHIM_PAGE * sizeof(uint64_t));
			find(hi)->reserved = r.reserved;
			i++;
		}
		raw_free(r.frames, frames_bytes(npages));
	}
}

/* ---- allocation ------------------------------------------------------------ */

/*
 * Gives page @i of @r a frame (the whole 2 MiB extent when @thp), on the
 * CPU of thread @slot.  Return: the pages covered, 0 without memory.
 */
static unsigned int give_frame(struct range *r, size_t i, int slot, int cpu,
			       bool thp)
{
	uint64_t tag = (uint64_t)slot << FRAME_SLOT_SHIFT;
	unsigned int n = thp ? 1U << SHIM_THP_ORDER : 1, k;
	long pfn = pcpb_alloc_pages_cpu(
		shim.inst, cpu, thp ? SHIM_THP_ORDER : 0, PCPB_MT_MOVABLE, 0);

	if (pfn < 0)
		return 0;
	if (thp) {
		thp_live[pfn >> SHIM_THP_ORDER] = (uint16_t)n;
		tag |= FRAME_THP;
	}
	for (k = 0; k < n; k++)
		r->frames[i + k] = tag | ((uint64_t)pfn + 1);
	shim_add(&shim.threads[slot].allocs, n);
	return n;
}

/* Whether page @i's 2 MiB extent lies in @r with no frame yet. */
static bool thp_extent_free(const struct range *r, size_t i, size_t *first)
{
	uintptr_t a = r->start + i * SHIM_PAGE;
	uintptr_t ext = a & ~(SHIM_THP_BYTES - 1);
	size_t j, k;

	if (ext < r->start || ext + SHIM_THP_BYTES > r->end)
		return false;
	j = (ext - r->start) / SHIM_PAGE;
	for (k = 0; k < SHIM_THP_BYTES / SHIM_PAGE; k++)
		if (r->frames[j + k])
			return false;
	*first = j;
	return true;
}

/* Return: 0, or -ENOMEM with every frame it gave taken back. */
static int eager_fill(struct range *r)
{
	int slot = shim_self_slot();
	int cpu = shim_vcpu_of(slot, (pid_t)syscall(SYS_gettid));
	size_t npages = (r->end - r->start) / SHIM_PAGE, i = 0, first;

	while (i < npages) {
		bool thp =
			shim.thp && thp_extent_free(r, i, &first) && first == i;
		unsigned int n = give_frame(r, i, slot, cpu, thp);

		if (!n && thp)
			n = give_frame(r, i, slot, cpu, false);
		if (!n) {
			undo_frames(r, 0, i, cpu, slot);
			shim_add(&shim.st.eager_rolled_back, i);
			return -ENOMEM;
		}
		i += n;
	}
	shim_add(&shim.st.eager_pages, npages);
	return 0;
}

static int uffd_register(uintptr_t start, uintptr_t end)
{
	struct uffdio_register reg = {
		.range = { .start = start, .len = end - start },
		.mode = UFFDIO_REGISTER_MODE_MISSING,
	};

	return ioctl(shim.uffd, UFFDIO_REGISTER, &reg) ? -errno : 0;
}

void space_mapped(void *addr, size_t len, int prot, int flags)
{
	uintptr_t start = (uintptr_t)addr;
	uintptr_t end = (start + len + SHIM_PAGE - 1) & ~(SHIM_PAGE - 1);
	enum shim_pass why = NR_PASS;

	if (!(flags & MAP_ANONYMOUS) || !(flags & MAP_PRIVATE) ||
	    (flags & MAP_HUGETLB))
		why = PASS_NOT_ANON;
	else if (flags & (MAP_STACK | MAP_GROWSDOWN))
		why = PASS_STACK;
	else if (flags & MAP_POPULATE)
		why = PASS_POPULATE;
	else if ((end - start) / SHIM_PAGE > pcpb_nr_pages(shim.inst))
		why = PASS_NO_MEMORY;
	else if (prot == PROT_NONE)
		why = PASS_PROT_NONE; /* remembered: mprotect may open it */
	if (why != NR_PASS && why != PASS_PROT_NONE) {
		shim_add(&shim.st.passed[why], 1);
		return;
	}
	space_lock();
	cut(start, end, FREE_FIXED, NULL); /* stale: unmapped behind our back */
	if (why == PASS_PROT_NONE) {
		if (!insert(start, end, NULL))
			find(start)->reserved = true;
		shim_add(&shim.st.passed[why], 1);
		space_unlock();
		return;
	}
	if (insert(start, end, NULL)) {
		why = PASS_NO_MEMORY;
	} else if (shim.mode == SHIM_EAGER) {
		if (eager_fill(find(start)))
			why = PASS_NO_MEMORY;
	} else if (uffd_register(start, end)) {
		why = PASS_UFFD;
	}
	if (why != NR_PASS) {
		cut(start, end, FREE_MUNMAP, NULL);
		shim_add(&shim.st.passed[why], 1);
	} else {
		shim_add(&shim.st.served, 1);
		shim_add(&shim.st.served_bytes, end - start);
	}
	space_unlock();
}

void space_opened(void *addr, size_t len)
{
	uintptr_t start = (uintptr_t)addr & ~(SHIM_PAGE - 1);
	uintptr_t end =
		((uintptr_t)addr + len + SHIM_PAGE - 1) & ~(SHIM_PAGE - 1);
	size_t i = find_from(start);

	while (i < nr_ranges && ranges[i].start < end) {
		uintptr_t lo, hi;
		struct range *r;

		if (!ranges[i].reserved) {
			i++;
			continue;
		}
		lo = ranges[i].start > start ? ranges[i].start : start;
		hi = ranges[i].end < end ? ranges[i].end : end;
		/* The opened part becomes a served range of its own. */
		cut(lo, hi, FREE_FIXED, NULL);
		if (insert(lo, hi, NULL))
			return;
		r = find(lo);
		if (shim.mode == SHIM_EAGER ? eager_fill(r)
					    : uffd_register(lo, hi)) {
			r->reserved = true; /* stays a reservation, unserved */
		} else {
			shim_add(&shim.st.served, 1);
			shim_add(&shim.st.served_bytes, hi - lo);
			shim_add(&shim.st.reservations_opened, 1);
		}
		i = find_from(hi);
	}
}

void space_unmapped(void *addr, size_t len, enum shim_free_call why)
{
	uintptr_t start = (uintptr_t)addr;

	shim_add(&shim.st.free_calls[why], 1);
	cut(start, (start + len + SHIM_PAGE - 1) & ~(SHIM_PAGE - 1), why, NULL);
}

void space_purged(void *addr, size_t len, enum shim_free_call why)
{
	uintptr_t start = (uintptr_t)addr & ~(SHIM_PAGE - 1);
	uintptr_t end =
		((uintptr_t)addr + len + SHIM_PAGE - 1) & ~(SHIM_PAGE - 1);
	size_t i = find_from(start);

	shim_add(&shim.st.free_calls[why], 1);
	for (; i < nr_ranges && ranges[i].start < end; i++)
		free_frames(&ranges[i],
			    ranges[i].start > start ? ranges[i].start : start,
			    ranges[i].end < end ? ranges[i].end : end, why);
}

uint64_t space_served_bytes(uintptr_t lo, uintptr_t hi)
{
	uint64_t n = 0;
	size_t i;

	for (i = find_from(lo); i < nr_ranges && ranges[i].start < hi; i++)
		if (!ranges[i].reserved)
			n += (ranges[i].end < hi ? ranges[i].end : hi) -
			     (ranges[i].start > lo ? ranges[i].start : lo);
	return n;
}

void space_yielded(void *addr, size_t len)
{
	uintptr_t start = (uintptr_t)addr & ~(SHIM_PAGE - 1);
	uintptr_t end =
		((uintptr_t)addr + len + SHIM_PAGE - 1) & ~(SHIM_PAGE - 1);
	size_t i = find_from(start);

	for (; i < nr_ranges && ranges[i].start < end; i++) {
		struct uffdio_range r;

		if (ranges[i].reserved || shim.mode != SHIM_FAULT)
			continue;
		r.start = ranges[i].start > start ? ranges[i].start : start;
		r.len = (ranges[i].end < end ? ranges[i].end : end) - r.start;
		ioctl(shim.uffd, UFFDIO_UNREGISTER, &r);
	}
	shim_add(&shim.st.free_calls[FREE_YIELD], 1);
	cut(start, end, FREE_YIELD, NULL);
}

void space_remapped(void *old, size_t old_len, void *new_addr, size_t new_len)
{
	uintptr_t o = (uintptr_t)old, n = (uintptr_t)new_addr;
	size_t old_pages = (old_len + SHIM_PAGE - 1) / SHIM_PAGE;
	size_t new_pages = (new_len + SHIM_PAGE - 1) / SHIM_PAGE;
	size_t keep_pages = old_pages > new_pages ? old_pages : new_pages;
	uint64_t *keep = raw_alloc(frames_bytes(keep_pages));
	size_t i, moved = 0;
	bool reserved;

	if (!keep)
		return;
	reserved = find(o) && find(o)->reserved;
	cut(o, o + old_pages * SHIM_PAGE, FREE_MREMAP, keep);
	/* A shrink releases the tail; the frames of the rest move. */
	if (new_pages < old_pages) {
		struct range tail = { o + new_pages * SHIM_PAGE,
				      o + old_pages * SHIM_PAGE,
				      keep + new_pages, false };

		shim_add(&shim.st.free_calls[FREE_MREMAP], 1);
		free_frames(&tail, tail.start, tail.end, FREE_MREMAP);
	}
	cut(n, n + new_pages * SHIM_PAGE, FREE_FIXED, NULL);
	if (reserved) {
		if (!insert(n, n + new_pages * SHIM_PAGE, NULL))
			find(n)->reserved = true;
	} else if (insert(n, n + new_pages * SHIM_PAGE, NULL) ||
		   (shim.mode == SHIM_FAULT &&
		    uffd_register(n, n + new_pages * SHIM_PAGE))) {
		struct range lost = { n, n + new_pages * SHIM_PAGE, keep,
				      false };

		cut(n, n + new_pages * SHIM_PAGE, FREE_MREMAP, NULL);
		free_frames(&lost, lost.start, lost.end, FREE_MREMAP);
	} else {
		memcpy(find(n)->frames, keep, new_pages * sizeof(uint64_t));
		for (i = 0; i < new_pages; i++)
			moved += keep[i] != 0;
	}
	shim_add(&shim.st.mremap_moved_pages, moved);
	raw_free(keep, frames_bytes(keep_pages));
}

/* ---- the userfaultfd handler ------------------------------------------------ */

static bool uffd_copy(uintptr_t dst, size_t len)
{
	struct uffdio_copy c = { .dst = dst,
				 .src = (uintptr_t)zero_src,
				 .len = len };

	return !ioctl(shim.uffd, UFFDIO_COPY, &c);
}

static void uffd_wake(uintptr_t page)
{
	struct uffdio_range r = { .start = page, .len = SHIM_PAGE };

	ioctl(shim.uffd, UFFDIO_WAKE, &r);
}

/* Context: the handler, holding space_mutex. */
static void handle_fault(uintptr_t addr, pid_t ptid)
{
	uintptr_t page = addr & ~(SHIM_PAGE - 1);
	struct range *r;
	unsigned int n = 0;
	size_t i, first = 0;
	int slot, cpu;
	bool thp;

	r = find(page);
	if (r && r->reserved)
		r = NULL; /* cannot happen: reservations are not registered */
	/* After the report began (shim.final) the instance is the report's:
	 * it may hold every lock while it allocates, and that may fault. */
	if (!r || shim.final || r->frames[(page - r->start) / SHIM_PAGE]) {
		/* Raced with an unmap or a mremap, or a second waiter on a
		 * resolved page: resolve it, without a frame. */
		if (!uffd_copy(page, SHIM_PAGE) && errno != EEXIST)
			uffd_wake(page);
		shim_add(&shim.st.faults_unserved, !r);
		return;
	}
	i = (page - r->start) / SHIM_PAGE;
	slot = shim_thread_slot(ptid);
	cpu = shim_vcpu_of(slot, ptid);
	thp = shim.thp && thp_extent_free(r, i, &first);
	if (thp)
		n = give_frame(r, first, slot, cpu, true);
	if (n) {
		if (uffd_copy(r->start + first * SHIM_PAGE, SHIM_THP_BYTES)) {
			shim_add(&shim.st.thp_faults, 1);
			goto done;
		}
		/* Part of the extent is mapped after all: 4 KiB it is. */
		undo_frames(r, first, n, cpu, slot);
	}
	n = give_frame(r, i, slot, cpu, false);
	if (!n)
		shim_add(&shim.st.fault_no_memory, 1);
	if (!uffd_copy(page, SHIM_PAGE)) {
		/*
		 * Not resolved by us: EAGAIN (the mm is changing; the thread
		 * faults again), or the page went or got mapped meanwhile.
		 * No frame.
		 */
		undo_frames(r, i, n, cpu, slot);
		if (errno != EEXIST)
			uffd_wake(page);
		shim_add(&shim.st.fault_retries, 1);
		return;
	}
done:
	shim_add(&shim.st.faults, 1);
	shim_add(&shim.st.fault_pages, n);
}

/* Each thread waits in one fault at a time: room for all of them. */
#define FAULT_QUEUE SHIM_MAX_THREADS

struct fault_queue {
	struct {
		uintptr_t addr;
		pid_t tid;
	} q[FAULT_QUEUE];
	int n;
};

/*
 * Serve what can be served now: the lock holder's faults at once, without
 * a frame; the others under the lock when it is free.  Return: true when
 * the queue is empty.
 */
static bool serve_queue(struct fault_queue *fq)
{
	pid_t holder = __atomic_load_n(&space_holder, __ATOMIC_ACQUIRE);
	bool locked = false;
	int k, kept = 0;

	for (k = 0; k < fq->n; k++) {
		uintptr_t page = fq->q[k].addr & ~(SHIM_PAGE - 1);

		if (holder && fq->q[k].tid == holder) {
			if (!uffd_copy(page, SHIM_PAGE) && errno != EEXIST)
				uffd_wake(page);
			shim_add(&shim.st.faults_holder, 1);
			continue;
		}
		if (!locked && !pthread_mutex_trylock(&space_mutex))
			locked = true;
		if (locked)
			handle_fault(fq->q[k].addr, fq->q[k].tid);
		else
			fq->q[kept++] = fq->q[k];
	}
	if (locked)
		pthread_mutex_unlock(&space_mutex);
	fq->n = kept;
	return !kept;
}

static dev_t uffd_dev;
static ino_t uffd_ino;

/* @fd is still the userfaultfd uffd_open() made. */
static bool uffd_is_ours(int fd)
{
	struct stat sb;

	return fd >= 0 && !fstat(fd, &sb) && sb.st_dev == uffd_dev &&
	       sb.st_ino == uffd_ino;
}

/* A free descriptor number programs do not reach for: from the soft
 * NOFILE limit down.  Return: the new number (@fd closed), or @fd. */
static int uffd_move_high(int fd)
{
	struct rlimit rl;
	int min = 1024, hi;

	if (!getrlimit(RLIMIT_NOFILE, &rl) && rl.rlim_cur != RLIM_INFINITY)
		min = rl.rlim_cur > 128 ? (int)rl.rlim_cur - 64 : 64;
	hi = fcntl(fd, F_DUPFD_CLOEXEC, min);
	if (hi < 0)
		hi = fcntl(fd, F_DUPFD_CLOEXEC, 64);
	if (hi < 0)
		return fd;
	close(fd);
	return hi;
}

bool space_is_uffd(int fd)
{
	return fd >= 0 && fd == __atomic_load_n(&shim.uffd, __ATOMIC_ACQUIRE);
}

int space_uffd_move_away(int fd)
{
	int moved;

	space_lock();
	if (fd != shim.uffd) { /* moved meanwhile */
		space_unlock();
		return 0;
	}
	moved = fcntl(fd, F_DUPFD_CLOEXEC, fd + 1);
	if (moved < 0)
		moved = fcntl(fd, F_DUPFD_CLOEXEC, 64);
	if (moved < 0) {
		space_unlock();
		return -errno;
	}
	/* The handler may be blocked in read(fd): the file stays, and it
	 * reads the new number from here on.  dup2() closes the old one. */
	__atomic_store_n(&shim.uffd, moved, __ATOMIC_RELEASE);
	space_unlock();
	return 0;
}

/* The program closed our descriptor past the hooks: stop serving faults
 * (the kernel unregistered our ranges with the file) and passing. */
static void uffd_lost(void)
{
	space_lock();
	__atomic_store_n(&shim.uffd, -1, __ATOMIC_RELEASE);
	shim.uffd_lost = true;
	space_unlock();
}

static void *uffd_handler(void *arg)
{
	static struct fault_queue fq;
	struct uffd_msg msg[16];
	sigset_t all;

	(void)arg;
	shim_internal_thread(); /* the recorder mmaps from here */
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, NULL);
	prctl(PR_SET_NAME, "pcpbuddy-uffd");
	for (;;) {
		int fd = __atomic_load_n(&shim.uffd, __ATOMIC_ACQUIRE);
		struct pollfd p = { .fd = fd, .events = POLLIN };
		int ready = 0;
		ssize_t n = 0, k;

		/* Non-blocking descriptor: poll, for 100 ms when nothing
		 * waits for the lock, else for one, then look at the lock and
		 * the number again.  (A blocking read after a poll can sleep
		 * with faults queued: a fault whose thread took a signal
		 * leaves the file readable in poll's eyes and empty in
		 * read's.  And a dup2() that moved our descriptor after we
		 * loaded its number has us polling the program's file.) */
		if (fq.n < FAULT_QUEUE)
			ready = poll(&p, 1, fq.n ? 1 : 100);
		if (fd != __atomic_load_n(&shim.uffd, __ATOMIC_ACQUIRE))
			continue; /* moved by a dup2(): poll the new number */
		/* Never read a number that is not ours any more (poll may
		 * have slept through a close): it may be the program's file. */
		if (!uffd_is_ours(fd)) {
			uffd_lost();
			return NULL;
		}
		if (ready > 0)
			n = read(fd, msg,
				 sizeof(msg[0]) *
					 (size_t)MIN_INT(16,
							 FAULT_QUEUE - fq.n));
		/* A message read from a file that was closed while we
		 * waited: releasing it woke the faulting threads already. */
		if (n < 0 || (n > 0 && !uffd_is_ours(fd)))
			n = 0;
		for (k = 0; k < n / (ssize_t)sizeof(msg[0]); k++)
			if (msg[k].event == UFFD_EVENT_PAGEFAULT) {
				fq.q[fq.n].addr = msg[k].arg.pagefault.address;
				fq.q[fq.n].tid =
					(pid_t)msg[k].arg.pagefault.feat.ptid;
				fq.n++;
			}
		serve_queue(&fq);
	}
}

static int uffd_open(void)
{
	struct uffdio_api api = {
		.api = UFFD_API,
		.features = UFFD_FEATURE_THREAD_ID,
	};
	pthread_t tid;
	int fd, err;

	/* Not UFFD_USER_MODE_ONLY: a read(2) into an untouched buffer
	 * faults in the kernel, and must be served, not fail with EFAULT. */
	fd = (int)syscall(SYS_userfaultfd, O_CLOEXEC | O_NONBLOCK);
	if (fd < 0)
		return -errno;
	if (ioctl(fd, UFFDIO_API, &api)) {
		err = -errno;
		close(fd);
		return err;
	}
	fd = uffd_move_high(fd);
	{
		struct stat sb;

		if (fstat(fd, &sb)) {
			err = -errno;
			close(fd);
			return err;
		}
		uffd_dev = sb.st_dev;
		uffd_ino = sb.st_ino;
	}
	__atomic_store_n(&shim.uffd, fd, __ATOMIC_RELEASE);
	zero_src = raw_alloc(SHIM_THP_BYTES);
	if (!zero_src || pthread_create(&tid, NULL, uffd_handler, NULL)) {
		close(fd);
		return -ENOMEM;
	}
	pthread_detach(tid);
	return 0;
}

int space_init(void)
{
	unsigned long blocks = pcpb_nr_pages(shim.inst) >> SHIM_THP_ORDER;
	int err;

	shim.threads = raw_alloc(SHIM_MAX_THREADS * sizeof(*shim.threads));
	thp_live = raw_alloc((blocks + 1) * sizeof(*thp_live));
	if (!shim.threads || !thp_live)
		return -ENOMEM;
	shim.uffd = -1;
	if (shim.mode == SHIM_FAULT) {
		err = uffd_open();
		if (err) {
			shim.mode = SHIM_EAGER;
			snprintf(shim.why_eager, sizeof(shim.why_eager),
				 "userfaultfd unavailable: %s", strerror(-err));
		} else {
			shim.uffd_ok = true;
		}
	}
	return 0;
}

void space_follow_fork_child(void)
{
	uint64_t frames = 0;
	size_t i, j;

	if (shim.uffd >= 0)
		close(shim.uffd);
	__atomic_store_n(&shim.uffd, -1, __ATOMIC_RELEASE);
	shim.uffd_ok = false;
	if (shim.mode == SHIM_FAULT) {
		shim.mode = SHIM_EAGER;
		snprintf(shim.why_eager, sizeof(shim.why_eager),
			 "a fork child: served at mmap time, no fault handler");
	}
	for (i = 0; i < nr_ranges; i++)
		for (j = 0; ranges[i].frames &&
			    j < (ranges[i].end - ranges[i].start) / SHIM_PAGE;
		     j++)
			frames += ranges[i].frames[j] != 0;
	shim.inherited_pages = frames;
	memset(&shim.st, 0, sizeof(shim.st));
	memset(shim.threads, 0, SHIM_MAX_THREADS * sizeof(*shim.threads));
	next_vcpu = 0;
	my_slot = 0;
	my_tid = (pid_t)syscall(SYS_gettid);
	__atomic_store_n(&space_holder, my_tid, __ATOMIC_RELEASE);
}

void space_after_fork_child(void)
{
	/* The child's copy of the lock may be held by a parent thread that
	 * does not exist here; nothing in the child takes it again. */
	if (shim.uffd >= 0)
		close(shim.uffd);
	__atomic_store_n(&shim.uffd, -1, __ATOMIC_RELEASE);
	__atomic_store_n(&space_holder, 0, __ATOMIC_RELEASE);
	my_slot = 0;
	my_tid = 0;
}
