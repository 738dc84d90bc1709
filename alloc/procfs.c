// SPDX-License-Identifier: GPL-2.0-only OR MIT
/*
 * procfs.c - the instance's state laid out as the kernel's /proc/buddyinfo,
 * /proc/pagetypeinfo, /proc/zoneinfo (the watermark and pageset part) and
 * debugfs extfrag/{extfrag_index,unusable_index}, one line per node's zone,
 * so that 'diff' against a real machine's file lines up column by column.
 * The field widths and the two indices' definitions follow mm/vmstat.c
 * (6.1 to 6.18 print them the same way); the code is our own.
 *
 * Invariants: each zone is read under its zone->lock, each pageset under
 * its pcp->lock, into a snapshot printed after the lock is dropped, so a
 * line describes one state of its zone (not one state of the machine).
 *
 * Locking: takes zone->lock and pcp->lock quietly (not in lock statistics);
 * never holds two locks at once.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

/* The kernel's migratetype_names[], for pagetypeinfo's columns. */
static const char *const proc_mt_names[MIGRATE_TYPES] = {
	"Unmovable", "Movable", "Reclaimable", "HighAtomic", "CMA", "Isolate"
};

struct zone_snapshot {
	uint64_t blocks[NR_PAGE_ORDERS][MIGRATE_TYPES]; /* free blocks */
	uint64_t nr_free[NR_PAGE_ORDERS];		/* all types */
	uint64_t pageblocks[MIGRATE_TYPES];
	long free_pages, free_cma;
};

static const char *zone_name(const struct pcpb *inst)
{
	return inst->cfg.zone_type == PCPB_ZONE_DMA32 ? "DMA32" : "Normal";
}

static void snapshot_zone(struct zone *zone, struct zone_snapshot *s)
{
	unsigned long b,
		nr_blocks = zone->spanned_pages >> zone->pageblock_order;
	int o, mt;

	memset(s, 0, sizeof(*s));
	spin_lock_quiet(&zone->lock);
	for (o = 0; o < NR_PAGE_ORDERS; o++) {
		s->nr_free[o] = zone->free_area[o].nr_free;
		for (mt = 0; mt < MIGRATE_TYPES; mt++)
			s->blocks[o][mt] = free_list_len(zone, o, mt);
	}
	for (b = 0; b < nr_blocks; b++)
		s->pageblocks[zone->pageblock_data[b].migratetype]++;
	s->free_pages = zone->nr_free_pages;
	s->free_cma = zone->nr_free_cma;
	spin_unlock_quiet(&zone->lock);
}

static void show_buddyinfo(struct pcpb *inst, FILE *f)
{
	struct zone_snapshot s;
	int n, o;

	for (n = 0; n < inst->nr_nodes; n++) {
		snapshot_zone(inst->zones[n], &s);
		fprintf(f, "Node %d, zone %8s ", n, zone_name(inst));
		for (o = 0; o < NR_PAGE_ORDERS; o++)
			fprintf(f, "%6llu ", (unsigned long long)s.nr_free[o]);
		fputc('\n', f);
	}
}

/* The kernel stops counting a free list at this many blocks, marked '>'. */
#define PAGETYPEINFO_CAP 100000

/* Return: 0, or -ENOMEM.  Each node is read once, for both tables. */
static int show_pagetypeinfo(struct pcpb *inst, FILE *f)
{
	struct zone_snapshot *s = calloc((size_t)inst->nr_nodes, sizeof(*s));
	int n, o, mt;

	if (!s)
		return -ENOMEM;
	for (n = 0; n < inst->nr_nodes; n++)
		snapshot_zone(inst->zones[n], &s[n]);
	fprintf(f, "Page block order: %u\n", inst->zones[0]->pageblock_order);
	fprintf(f, "Pages per block:  %lu\n\n",
		pageblock_nr_pages(inst->zones[0]));
	fprintf(f, "%-43s ", "Free pages count per migrate type at order");
	for (o = 0; o < NR_PAGE_ORDERS; o++)
		fprintf(f, "%6d ", o);
	fputc('\n', f);
	for (n = 0; n < inst->nr_nodes; n++)
		for (mt = 0; mt < MIGRATE_TYPES; mt++) {
			fprintf(f, "Node %4d, zone %8s, type %12s ", n,
				zone_name(inst), proc_mt_names[mt]);
			for (o = 0; o < NR_PAGE_ORDERS; o++) {
				uint64_t nr = s[n].blocks[o][mt];

				fprintf(f, "%s%6llu ",
					nr >= PAGETYPEINFO_CAP ? ">" : "",
					(unsigned long long)min(
						nr,
						(uint64_t)PAGETYPEINFO_CAP));
			}
			fputc('\n', f);
		}
	fprintf(f, "\n%-23s", "Number of blocks type ");
	for (mt = 0; mt < MIGRATE_TYPES; mt++)
		fprintf(f, "%12s ", proc_mt_names[mt]);
	fputc('\n', f);
	for (n = 0; n < inst->nr_nodes; n++) {
		fprintf(f, "Node %d, zone %8s ", n, zone_name(inst));
		for (mt = 0; mt < MIGRATE_TYPES; mt++)
			fprintf(f, "%12llu ",
				(unsigned long long)s[n].pageblocks[mt]);
		fputc('\n', f);
	}
	free(s);
	return 0;
}

static void show_zoneinfo(struct pcpb *inst, FILE *f)
{
	struct zone_snapshot s;
	int n, cpu;

	for (n = 0; n < inst->nr_nodes; n++) {
		struct zone *zone = inst->zones[n];

		snapshot_zone(zone, &s);
		fprintf(f, "Node %d, zone %8s", n, zone_name(inst));
		/* min, low and high include the boost, as the kernel's;
		 * promo is not modelled: high, as a kernel without memory
		 * tiering prints it. */
		fprintf(f,
			"\n  pages free     %ld\n        boost    %lu"
			"\n        min      %lu\n        low      %lu"
			"\n        high     %lu\n        promo    %lu"
			"\n        spanned  %lu\n        present  %lu"
			"\n        managed  %lu\n        cma      %ld",
			s.free_pages, READ_ONCE(zone->watermark_boost),
			wmark_pages(zone, WMARK_MIN),
			wmark_pages(zone, WMARK_LOW),
			wmark_pages(zone, WMARK_HIGH),
			wmark_pages(zone, WMARK_HIGH), zone->spanned_pages,
			zone->spanned_pages, zone->managed_pages, s.free_cma);
		fprintf(f, "\n  pagesets");
		for (cpu = 0; cpu < inst->nr_cpus; cpu++) {
			struct per_cpu_pages *pcp = inst_pcp(inst, cpu, n);
			int count, high, batch;

			spin_lock_quiet(&pcp->lock);
			count = pcp->count;
			high = pcp->high;
			batch = pcp->batch;
			spin_unlock_quiet(&pcp->lock);
			fprintf(f,
				"\n    cpu: %i\n              count: %i"
				"\n              high:  %i\n              batch: %i",
				cpu, count, high, batch);
		}
		fprintf(f, "\n  start_pfn:           %lu\n",
			zone->zone_start_pfn);
	}
}

/*
 * The fragmentation indices of debugfs extfrag/, per order, in thousandths.
 * extfrag_index: -1000 when a block of the order is free; else towards
 * 1000 the more of the failure is fragmentation (many small free blocks)
 * and towards 0 the more it is a lack of memory.  unusable_index: the
 * share of free memory in blocks too small for the order.
 */
static int extfrag_index(const struct zone_snapshot *s, int order,
			 bool unusable)
{
	uint64_t free_pages = 0, free_blocks = 0, suitable = 0;
	int o;

	for (o = 0; o < NR_PAGE_ORDERS; o++) {
		free_blocks += s->nr_free[o];
		free_pages += s->nr_free[o] << o;
		if (o >= order)
			suitable += s->nr_free[o] << (o - order);
	}
	if (unusable)
		return free_pages ? (int)((free_pages - (suitable << order)) *
					  1000 / free_pages)
				  : 1000;
	if (!free_blocks)
		return 0;
	if (suitable)
		return -1000;
	return 1000 - (int)((1000 + free_pages * 1000 / (1ULL << order)) /
			    free_blocks);
}

static void show_index(struct pcpb *inst, FILE *f, bool unusable)
{
	struct zone_snapshot s;
	int n, o;

	for (n = 0; n < inst->nr_nodes; n++) {
		snapshot_zone(inst->zones[n], &s);
		fprintf(f, "Node %d, zone %8s ", n, zone_name(inst));
		for (o = 0; o < NR_PAGE_ORDERS; o++) {
			int idx = extfrag_index(&s, o, unusable);

			/* -1000 prints as -1.000, as the kernel's %2d.%03d */
			fprintf(f, unusable ? "%d.%03d " : "%2d.%03d ",
				idx / 1000, (idx < 0 ? -idx : idx) % 1000);
		}
		fputc('\n', f);
	}
}

static const char *const view_names[] = { "buddyinfo", "pagetypeinfo",
					  "zoneinfo",  "extfrag",
					  "unusable",  NULL };

const char *const *pcpb_show_views(void)
{
	return view_names;
}

int pcpb_show(struct pcpb *inst, FILE *out, const char *view)
{
	int rc = 0;

	if (!inst || !out || !view)
		return -EINVAL;
	if (!strcmp(view, "buddyinfo"))
		show_buddyinfo(inst, out);
	else if (!strcmp(view, "pagetypeinfo"))
		rc = show_pagetypeinfo(inst, out);
	else if (!strcmp(view, "zoneinfo"))
		show_zoneinfo(inst, out);
	else if (!strcmp(view, "extfrag"))
		show_index(inst, out, false);
	else if (!strcmp(view, "unusable"))
		show_index(inst, out, true);
	else
		return -EINVAL;
	return rc ? rc : ferror(out) ? -EIO : 0;
}
