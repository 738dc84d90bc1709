/* SPDX-License-Identifier: GPL-2.0-only OR MIT */
/*
 * compat.h - the kernel vocabulary in userspace: READ_ONCE/WRITE_ONCE,
 * debug assertions, bit helpers, and pfn-indexed intrusive lists.
 *
 * Ported code (zone/, pcp/) includes this instead of kernel headers, so it
 * differs from mm/page_alloc.c only by names and lock types.
 *
 * Invariants:
 *   I1 a pfn_list is NIL-terminated both ways; first == NIL iff last == NIL.
 *   I2 a page is on at most one pfn_list at a time (its next/prev links).
 *
 * Locking: none here; a list is protected by the lock of its owner
 * (zone->lock for free_area lists, pcp->lock for PCP lists).
 */
#ifndef PCPB_COMPAT_H
#define PCPB_COMPAT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifndef PCPB_DEBUG
#define PCPB_DEBUG 0
#endif
#define PCPB_DEBUG_EXPENSIVE (PCPB_DEBUG >= 2)

#define likely(x) __builtin_expect(!!(x), 1)
#define unlikely(x) __builtin_expect(!!(x), 0)
#define __maybe_unused __attribute__((unused))
#define noinline __attribute__((noinline))
#define __cacheline_aligned __attribute__((aligned(64)))
#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define BUILD_BUG_ON(c) _Static_assert(!(c), #c)

#define min(a, b) ((a) < (b) ? (a) : (b))
#define max(a, b) ((a) > (b) ? (a) : (b))
#define clamp(v, lo, hi) min(max(v, lo), hi)

/* Lockless accesses to lock-protected fields, on both sides (style §7). */
#define READ_ONCE(x) __atomic_load_n(&(x), __ATOMIC_RELAXED)
#define WRITE_ONCE(x, v) __atomic_store_n(&(x), (v), __ATOMIC_RELAXED)
#define atomic_add(p, v) __atomic_fetch_add((p), (v), __ATOMIC_RELAXED)

/*
 * liburcu's atomics are inline assembly that TSan cannot see: publish the
 * happens-before edge of a lock-free hand-off by hand in TSan builds.
 */
#ifdef __SANITIZE_THREAD__
#include <sanitizer/tsan_interface.h>
#define tsan_release(addr) __tsan_release((void *)(addr))
#define tsan_acquire(addr) __tsan_acquire((void *)(addr))
#else
#define tsan_release(addr) ((void)(addr))
#define tsan_acquire(addr) ((void)(addr))
#endif

/*
 * A verifier's failure: format @fmt into @msg (may be NULL) and return
 * -EUCLEAN, so "return verify_fail(...)" reports and fails in one step.
 */
int verify_fail(char *msg, size_t len, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

void pcpb_bug(const char *cond, const char *file, int line, const char *func)
	__attribute__((noreturn));
void pcpb_warn(const char *cond, const char *file, int line, const char *func);

/* The condition stays compiled (and type-checked) at PCPB_DEBUG == 0. */
#define VM_BUG_ON(c)                                                \
	do {                                                        \
		if (PCPB_DEBUG && (c))                              \
			pcpb_bug(#c, __FILE__, __LINE__, __func__); \
	} while (0)
/*
 * The kernel's VM_WARN_ON_ONCE(): report the first time, carry on, and
 * give the condition's value.  The flag is per call site.
 */
#define VM_WARN_ON_ONCE(c)                                                  \
	({                                                                  \
		static bool warned_;                                        \
		bool c_ = PCPB_DEBUG && (c);                                \
		if (unlikely(c_) &&                                         \
		    !__atomic_exchange_n(&warned_, true, __ATOMIC_RELAXED)) \
			pcpb_warn(#c, __FILE__, __LINE__, __func__);        \
		c_;                                                         \
	})

static inline unsigned int ilog2_ul(unsigned long v)
{
	return 63 - __builtin_clzl(v);
}

static inline unsigned long rounddown_pow_of_two(unsigned long v)
{
	return 1UL << ilog2_ul(v);
}

/* ---- pfn-indexed lists ---------------------------------------------------
 * struct page links are 32-bit pfns (the memmap must stay <= 16 bytes per
 * page), so list heads hold first/last pfns and the memmap base is passed in.
 */
#define PFN_NIL UINT32_MAX

struct pfn_list {
	uint32_t first, last;
};

struct pfn_link {
	uint32_t next, prev;
};

static inline void pfn_list_init(struct pfn_list *h)
{
	h->first = h->last = PFN_NIL;
}

static inline bool pfn_list_empty(const struct pfn_list *h)
{
	return h->first == PFN_NIL;
}

/*
 * The list code reaches links through a stride so that the same helpers
 * serve struct page (pfn links) and struct pageblock_data (block links).
 */
#define PFN_LINK(base, stride, i) \
	((struct pfn_link *)((char *)(base) + (size_t)(i) * (stride)))

static inline void pfn_list_add_head_stride(void *base, size_t stride,
					    struct pfn_list *h, uint32_t i)
{
	struct pfn_link *l = PFN_LINK(base, stride, i);

	l->prev = PFN_NIL;
	l->next = h->first;
	if (h->first != PFN_NIL)
		PFN_LINK(base, stride, h->first)->prev = i;
	else
		h->last = i;
	h->first = i;
}

static inline void pfn_list_add_tail_stride(void *base, size_t stride,
					    struct pfn_list *h, uint32_t i)
{
	struct pfn_link *l = PFN_LINK(base, stride, i);

	l->next = PFN_NIL;
	l->prev = h->last;
	if (h->last != PFN_NIL)
		PFN_LINK(base, stride, h->last)->next = i;
	else
		h->first = i;
	h->last = i;
}

static inline void pfn_list_del_stride(void *base, size_t stride,
				       struct pfn_list *h, uint32_t i)
{
	struct pfn_link *l = PFN_LINK(base, stride, i);

	if (l->prev != PFN_NIL)
		PFN_LINK(base, stride, l->prev)->next = l->next;
	else
		h->first = l->next;
	if (l->next != PFN_NIL)
		PFN_LINK(base, stride, l->next)->prev = l->prev;
	else
		h->last = l->prev;
	l->next = l->prev = PFN_NIL;
}

#endif /* PCPB_COMPAT_H */
