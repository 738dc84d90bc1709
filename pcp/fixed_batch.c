// SPDX-License-Identifier: GPL-2.0-only OR MIT
/*
 * fixed_batch.c - the worked example of a PCP policy (docs/design.md):
 * classic, except that an empty list is refilled with exactly batch pages
 * (batch >> order blocks, at least two), as kernels before v6.7 did,
 * without nr_pcp_alloc()'s growth of high and alloc_factor.
 *
 * Invariants: P1-P3 of pcp.h.
 * Locking: as classic.c.
 */
#include "policy.h"

static unsigned long fixed_batch_pop_slow(struct zone *zone,
					  struct per_cpu_pages *pcp,
					  unsigned int order, int mt)
{
	/* A batch of 1 is a boot pageset: it keeps nothing. */
	int blocks = pcp->batch > 1 ? max(pcp->batch >> order, 2) : 1;

	return pcp_refill_pop(zone, pcp, order, mt, blocks);
}

const struct pcp_policy pcp_policy_fixed_batch = {
	.name = "fixed_batch",
	.help = "classic, refilling exactly batch pages (before v6.7)",
	.pop_slow = fixed_batch_pop_slow,
	.drain = pcp_drain_classic,
};
