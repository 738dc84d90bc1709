// SPDX-License-Identifier: GPL-2.0-only OR MIT
/*
 * check.c - pcpb_check(): the full invariant walk.
 *
 * It proves, with every lock held:
 *   I1-I5 of zone/zone.h for every zone (zone_verify());
 *   P1-P3 of pcp/pcp.h for every PCP (pcp_verify());
 *   I6 every pfn of the instance is in exactly one place: a free block, a
 *      PCP block, or an allocated block whose head is PS_ALLOC with an
 *      aligned order and whose other pages are PS_TAIL;
 *   I7 pages free + on PCPs + allocated + in flight (pushed to an owner's
 *      lock-free list, not yet spliced) == pages of the instance;
 *   O1-O5 of zone/owned.c (owned_verify(), and pcp_verify() for O1).
 *
 * Locking: takes every pcp->lock, then every zone->lock (inst_lock_all()).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

int check_locked(struct pcpb *inst, struct pcpb_check_result *res)
{
	unsigned long pfn, free_pages = 0, pcp_pages = 0, allocated = 0,
			   in_flight = 0;
	uint8_t *seen;
	int cpu, n, err = 0;

	memset(res, 0, sizeof(*res));
	res->pages_total = inst->nr_pages;
	seen = calloc(inst->nr_pages, 1);
	if (!seen) {
		snprintf(res->msg, sizeof(res->msg), "check: out of memory");
		return -ENOMEM;
	}
	for (n = 0; n < inst->nr_nodes && !err; n++) {
		err = zone_verify(inst->zones[n], seen, res->msg,
				  sizeof(res->msg));
		if (!err)
			err = owned_verify(inst->zones[n], res->msg,
					   sizeof(res->msg));
	}
	/* Listed pages, ISOLATE included (nr_free_pages leaves it out). */
	for (pfn = 0; pfn < inst->nr_pages; pfn++)
		free_pages += seen[pfn];
	for (cpu = 0; cpu < inst->nr_cpus && !err; cpu++)
		for (n = 0; n < inst->nr_nodes && !err; n++) {
			struct per_cpu_pages *pcp = inst_pcp(inst, cpu, n);

			err = pcp_verify(pcp, seen, res->msg, sizeof(res->msg));
			pcp_pages += (unsigned long)pcp->count;
		}

	for (pfn = 0; pfn < inst->nr_pages && !err;) {
		struct page *page = &inst->memmap[pfn];
		uint8_t state, order;
		unsigned long i, nr;

		if (seen[pfn]) {
			pfn++;
			continue;
		}
		/* A remote free may push this page to an llist right now. */
		state = READ_ONCE(page->state);
		order = READ_ONCE(page->order);
		if ((state != PS_ALLOC && state != PS_LLIST &&
		     state != PS_FREEING) ||
		    order > MAX_PAGE_ORDER || (pfn & ((1UL << order) - 1))) {
			snprintf(res->msg, sizeof(res->msg),
				 "I6: pfn %lu is nowhere (state %u order %u)",
				 pfn, state, order);
			err = -EUCLEAN;
			break;
		}
		nr = 1UL << order;
		for (i = 1; i < nr && !err; i++) {
			if (pfn + i >= inst->nr_pages || seen[pfn + i] ||
			    READ_ONCE(inst->memmap[pfn + i].state) != PS_TAIL) {
				snprintf(
					res->msg, sizeof(res->msg),
					"I6: allocated block %lu/%u overlaps pfn %lu",
					pfn, order, pfn + i);
				err = -EUCLEAN;
			}
		}
		if (state == PS_LLIST || state == PS_FREEING)
			in_flight += nr; /* being freed, not placed yet */
		else
			allocated += nr;
		pfn += nr;
	}
	free(seen);
	res->pages_free = free_pages;
	res->pages_pcp = pcp_pages;
	res->pages_allocated = allocated;
	res->pages_in_flight = in_flight;
	if (!err &&
	    free_pages + pcp_pages + allocated + in_flight != inst->nr_pages) {
		snprintf(
			res->msg, sizeof(res->msg),
			"I7: free %lu + pcp %lu + allocated %lu + in flight %lu != %lu pages",
			free_pages, pcp_pages, allocated, in_flight,
			inst->nr_pages);
		err = -EUCLEAN;
	}
	res->ok = !err;
	return err ? -EUCLEAN : 0;
}

int pcpb_check(struct pcpb *inst, struct pcpb_check_result *res)
{
	struct pcpb_check_result local;
	int err;

	if (!res)
		res = &local;
	inst_lock_all(inst);
	err = check_locked(inst, res);
	inst_unlock_all(inst);
	return err;
}
