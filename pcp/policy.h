/* SPDX-License-Identifier: GPL-2.0-only OR MIT */
/*
 * policy.h - the seam between the PCP core (pcp.c) and a PCP policy: one
 * struct of hooks per policy, and the table that names them.
 *
 * The core keeps what mainline's PCP code does whatever the policy: the
 * lists, batch and high with their auto-tuning, the trylocked fast paths,
 * the pacing of drains and decay.  A policy decides four things: how an
 * empty list is refilled (pop_slow), where a free goes (free), what
 * happens to frees other CPUs pushed lock-free (splice), and how pages
 * leave the PCP for the zone (drain).  classic.c is mainline; chunky.c and
 * owner.c are the pcp buddy RFC's ablation and the RFC itself;
 * fixed_batch.c is the worked example of docs/design.md.  Adding a policy
 * is one file and one line in pcp_policies[] (policy.c).
 *
 * Invariants: every hook keeps P1-P4 of pcp.h, and leaves pcp->count equal
 * to the base pages on the lists.
 *
 * Locking: written beside each hook.  The lock order stays pcp->lock before
 * zone->lock: a hook that needs zone->lock takes it inside pcp->lock.
 */
#ifndef PCPB_POLICY_H
#define PCPB_POLICY_H

#include "pcp.h"

struct pcp_policy {
	const char *name; /* the config value, policy=NAME */
	const char *help; /* one line for `pcpbuddy config --help` */
	bool owns_blocks; /* pageblocks get an owner CPU (zone/owned.c) */
	/* Its phase counters (PCPB_OWN_*) mean something: report them. */
	bool reports_phases;
	/* Optional: per-PCP state in pcp->policy_data.  Context: init only. */
	int (*init)(struct per_cpu_pages *pcp);
	void (*destroy)(struct per_cpu_pages *pcp);
	/*
	 * Required: the list for (@order, @mt) is empty; fill it (or split
	 * something already on the PCP) and pop one block.  Context:
	 * pcp->lock held; may take zone->lock.  Return: a pfn, or PFN_NONE.
	 */
	unsigned long (*pop_slow)(struct zone *zone, struct per_cpu_pages *pcp,
				  unsigned int order, int mt);
	/*
	 * Optional (NULL: the local PCP, free_frozen_page_commit()): route a
	 * free of a PCP-cacheable block of type @mt.  Context: any thread,
	 * holding no allocator lock.
	 */
	void (*free)(struct zone *zone, int cpu, unsigned long pfn,
		     unsigned int order, int mt);
	/*
	 * Optional: take in the pages other CPUs pushed to pcp->llist; the
	 * core calls it only when the stack is not empty.  Context:
	 * pcp->lock held (the stack's single consumer).
	 */
	void (*splice)(struct zone *zone, struct per_cpu_pages *pcp);
	/*
	 * Required: return at least @count base pages (fewer only when the
	 * PCP runs out) to the zone, starting at list @pindex where the
	 * policy keeps the kernel's order.  Context: pcp->lock held; takes
	 * zone->lock.  Return: the pages freed.
	 */
	int (*drain)(struct zone *zone, int count, struct per_cpu_pages *pcp,
		     unsigned int pindex);
	/*
	 * Optional: prove the policy's own invariants of @pcp, after the
	 * core's P1-P3.  Context: pcp->lock held.  Return: 0, or -EUCLEAN
	 * with @msg filled.
	 */
	int (*verify)(struct per_cpu_pages *pcp, char *msg, size_t len);
};

extern const struct pcp_policy pcp_policy_classic, pcp_policy_owner,
	pcp_policy_chunky, pcp_policy_fixed_batch;

/* The policy with config index @idx, or NULL past the table. */
const struct pcp_policy *pcp_policy_get(unsigned int idx);
/* Return: the index of the policy called @name, or -EINVAL. */
int pcp_policy_lookup(const char *name);

/* ---- what policies share (classic.c, chunky.c) ----------------------- */

/*
 * pcp_refill_pop - rmqueue_bulk() @nr_blocks blocks of (@order, @mt) onto
 * their list and pop one.  Context: pcp->lock held; takes zone->lock
 * (@site).  Return: a pfn or PFN_NONE.
 */
unsigned long pcp_refill_pop(struct zone *zone, struct per_cpu_pages *pcp,
			     unsigned int order, int mt, int nr_blocks);
/*
 * pcp_free_coldest_locked - the kernel's free_pcppages_bulk() loop:
 * coldest first, list by list from @pindex.  Context: pcp->lock and
 * zone->lock held.  Return: pages freed.
 */
int pcp_free_coldest_locked(struct zone *zone, int count,
			    struct per_cpu_pages *pcp, unsigned int pindex);
/* The classic drain: the loop above in one zone->lock hold. */
int pcp_drain_classic(struct zone *zone, int count, struct per_cpu_pages *pcp,
		      unsigned int pindex);
/*
 * chunky_refill - Phase 2 then Phase 3 of the RFC's refill for @needed
 * base pages.  Context: pcp->lock held; takes zone->lock per phase.
 * Return: pages added to the PCP.
 */
long chunky_refill(struct zone *zone, struct per_cpu_pages *pcp,
		   unsigned int order, int mt, long needed);

#endif /* PCPB_POLICY_H */
