// SPDX-License-Identifier: GPL-2.0-only OR MIT
/*
 * owned.c - pageblock ownership for policy=owner (the pcp buddy RFC, 2/2):
 * claiming and releasing blocks, and each owner's list of blocks that have
 * fragments in the zone buddy (the RFC's pcp->owned_blocks, kept here
 * because every change to it happens under zone->lock).
 *
 * Invariants (owned_verify() proves O2-O5; pcp_verify() proves O1):
 *   O1 a PS_PCP_BUDDY page sits on the PCP of its block's owner.
 *   O2 an owned block with pages free in the zone buddy is on its owner's
 *      list (the list of its migratetype with owned_lists=per_migratetype).
 *   O3 nr_free_buddy of every block equals its pages free in the zone buddy.
 *   O4 a listed block is owned, by the list's CPU, with the list's type.
 *   O5 an owned block is never wholly free in the zone buddy: the free that
 *      completes it there releases it (ownership changes only when a block
 *      is complete, so the RFC's Phase 1 could claim it from then on).
 * A listed block may have no free pages left: other CPUs may take an owned
 * fragment from the zone ("stolen", in the RFC thread); Phase 0 then walks
 * it for nothing unless phase0_bound has free_counter.
 *
 * Locking: zone->lock for everything here.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "zone.h"

/* The list helpers reach links at base + i * stride. */
#define OWNED_BASE(zone)                  \
	((char *)(zone)->pageblock_data + \
	 offsetof(struct pageblock_data, cpu_node))

static struct pfn_list *list_of(struct zone *zone, struct pageblock_data *pbd)
{
	return owned_list(zone, pbd->owner - 1, pbd->migratetype);
}

void owned_list_add_locked(struct zone *zone, unsigned long block_pfn)
{
	struct pageblock_data *pbd = pfn_to_pageblock(zone, block_pfn);
	uint32_t *nr;

	lockdep_assert_held(&zone->lock);
	VM_BUG_ON(pbd->owner == PB_OWNER_NONE);
	if (pbd->flags & PB_ON_OWNED_LIST)
		return;
	pfn_list_add_tail_stride(
		OWNED_BASE(zone), sizeof(struct pageblock_data),
		list_of(zone, pbd), (uint32_t)pageblock_idx(zone, block_pfn));
	pbd->flags |= PB_ON_OWNED_LIST;
	nr = &zone->owned_nr[(pbd->owner - 1) * MIGRATE_PCPTYPES +
			     pbd->migratetype];
	WRITE_ONCE(*nr, *nr + 1); /* read by the owner without zone->lock */
}

void owned_list_del_locked(struct zone *zone, unsigned long block_pfn)
{
	struct pageblock_data *pbd = pfn_to_pageblock(zone, block_pfn);
	uint32_t *nr;

	lockdep_assert_held(&zone->lock);
	if (!(pbd->flags & PB_ON_OWNED_LIST))
		return;
	pfn_list_del_stride(OWNED_BASE(zone), sizeof(struct pageblock_data),
			    list_of(zone, pbd),
			    (uint32_t)pageblock_idx(zone, block_pfn));
	pbd->flags &= (uint8_t)~PB_ON_OWNED_LIST;
	nr = &zone->owned_nr[(pbd->owner - 1) * MIGRATE_PCPTYPES +
			     pbd->migratetype];
	WRITE_ONCE(*nr, *nr - 1);
}

/* Phase 1: @cpu takes over a block that is wholly its own now. */
void pageblock_claim_locked(struct zone *zone, unsigned long block_pfn, int cpu)
{
	struct pageblock_data *pbd = pfn_to_pageblock(zone, block_pfn);

	lockdep_assert_held(&zone->lock);
	VM_BUG_ON(pbd->owner != PB_OWNER_NONE);
	WRITE_ONCE(pbd->owner, (uint16_t)(cpu + 1));
	zone_owner_add(zone, blocks_claimed, 1);
}

/* The block is complete again (merged on the PCP, or free in the zone). */
void pageblock_release_locked(struct zone *zone, unsigned long block_pfn)
{
	struct pageblock_data *pbd = pfn_to_pageblock(zone, block_pfn);

	lockdep_assert_held(&zone->lock);
	if (pbd->owner == PB_OWNER_NONE)
		return;
	owned_list_del_locked(zone, block_pfn);
	WRITE_ONCE(pbd->owner, PB_OWNER_NONE);
	zone_owner_add(zone, blocks_disowned, 1);
}

/*
 * A block of 2^@order at @pfn just landed in the zone buddy: remember the
 * fragment for its owner's Phase 0, or release blocks now wholly free.
 */
void owned_note_free_locked(struct zone *zone, unsigned long pfn,
			    unsigned int order)
{
	unsigned long b, nr = pageblock_nr_pages(zone);

	if (order >= zone->pageblock_order) {
		for (b = pfn; b < pfn + (1UL << order); b += nr)
			pageblock_release_locked(zone, b);
		return;
	}
	b = pageblock_start_pfn(zone, pfn);
	if (pfn_to_pageblock(zone, b)->owner != PB_OWNER_NONE)
		owned_list_add_locked(zone, b);
}

/*
 * owned_verify - prove O2-O5 for @zone.  Context: zone->lock held (and,
 * from pcpb_check(), every pcp->lock).  Return: 0 or -EUCLEAN.
 */
int owned_verify(struct zone *zone, char *msg, size_t len)
{
	unsigned long nr_blocks = zone->spanned_pages >> zone->pageblock_order;
	unsigned long b, listed = 0, flagged = 0;
	uint32_t *nr_free_in = calloc(nr_blocks, sizeof(*nr_free_in));
	int cpu, mt, err = 0;
	unsigned int o;

	lockdep_assert_held(&zone->lock);
	if (!nr_free_in)
		return verify_fail(msg, len, "owned_verify: out of memory");
	/* Free pages per block, straight from the free lists. */
	for (o = 0; o < NR_PAGE_ORDERS; o++)
		for (mt = 0; mt < MIGRATE_TYPES; mt++) {
			uint32_t pfn;

			for (pfn = zone->free_area[o].free_list[mt].first;
			     pfn != PFN_NIL; pfn = zone->memmap[pfn].lru.next) {
				unsigned long end = pfn + (1UL << o), p;

				for (p = pfn; p < end;
				     p += pageblock_nr_pages(zone))
					nr_free_in[pageblock_idx(zone, p)] +=
						(uint32_t)min(
							1UL << o,
							pageblock_nr_pages(
								zone));
			}
		}
	for (b = 0; b < nr_blocks && !err; b++) {
		struct pageblock_data *pbd = &zone->pageblock_data[b];
		unsigned long start = pbd->block_pfn;

		if (pbd->nr_free_buddy != nr_free_in[b]) {
			err = verify_fail(
				msg, len,
				"O3: block %lu nr_free_buddy %u but %u pages free in the buddy",
				start, pbd->nr_free_buddy, nr_free_in[b]);
			break;
		}
		if (pbd->flags & PB_ON_OWNED_LIST)
			flagged++;
		if (pbd->owner == PB_OWNER_NONE) {
			if (pbd->flags & PB_ON_OWNED_LIST)
				err = verify_fail(
					msg, len,
					"O4: zone-owned block %lu is on an owned list",
					start);
			continue;
		}
		if (pbd->nr_free_buddy && !(pbd->flags & PB_ON_OWNED_LIST))
			err = verify_fail(
				msg, len,
				"O2: block %lu of cpu %d has %u free pages in the buddy but is not listed",
				start, pbd->owner - 1, pbd->nr_free_buddy);
		else if (pbd->nr_free_buddy >= pageblock_nr_pages(zone))
			err = verify_fail(
				msg, len,
				"O5: block %lu of cpu %d is wholly free in the buddy",
				start, pbd->owner - 1);
	}
	free(nr_free_in);
	if (err)
		return err;
	for (cpu = 0; cpu < zone->nr_cpus; cpu++)
		for (mt = 0; mt < (zone->owned_per_mt ? MIGRATE_PCPTYPES : 1);
		     mt++) {
			struct pfn_list *l = owned_list(zone, cpu, mt);
			uint32_t i;

			for (i = l->first; i != PFN_NIL;
			     i = zone->pageblock_data[i].cpu_node.next) {
				struct pageblock_data *pbd =
					&zone->pageblock_data[i];

				if (++listed > nr_blocks ||
				    pbd->owner != cpu + 1 ||
				    (zone->owned_per_mt &&
				     pbd->migratetype != mt))
					return verify_fail(
						msg, len,
						"O4: block %u on cpu %d's list (type %d) has owner %d type %u",
						pbd->block_pfn, cpu, mt,
						pbd->owner - 1,
						pbd->migratetype);
			}
		}
	for (cpu = 0; cpu < zone->nr_cpus; cpu++)
		for (mt = 0; mt < MIGRATE_PCPTYPES; mt++) {
			unsigned long n = 0;

			for (b = 0; b < nr_blocks; b++) {
				struct pageblock_data *pbd =
					&zone->pageblock_data[b];

				n += (pbd->flags & PB_ON_OWNED_LIST) &&
				     pbd->owner == cpu + 1 &&
				     pbd->migratetype == mt;
			}
			if (n != zone->owned_nr[cpu * MIGRATE_PCPTYPES + mt])
				return verify_fail(
					msg, len,
					"O4: cpu %d type %d: owned_nr %u but %lu listed",
					cpu, mt,
					zone->owned_nr[cpu * MIGRATE_PCPTYPES +
						       mt],
					n);
		}
	if (listed != flagged)
		return verify_fail(
			msg, len,
			"O4: %lu blocks flagged listed but %lu on lists",
			flagged, listed);
	return 0;
}
