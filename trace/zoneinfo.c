// SPDX-License-Identifier: GPL-2.0-only OR MIT
/*
 * zoneinfo.c - /proc/zoneinfo text, as a capture snapshots it, parsed into
 * the figures a replay starts from: each zone's managed pages, free pages,
 * watermarks and pfn span, and each CPU's pageset (count, high, batch, and
 * high_min/high_max where the kernel prints them, v6.7 and later).
 *
 * The layout read is the one every kernel from 6.1 to 6.18 prints
 * (mm/vmstat.c zoneinfo_show_print()): a "Node N, zone NAME" line, then
 * "pages free", "min", "low", "high", "spanned", "managed" lines, a
 * "pagesets" line and per CPU "cpu: C" followed by "count:", "high:",
 * "batch:" (and "high_min:", "high_max:"), and "start_pfn:".  Unknown
 * lines are skipped, so the per-node vmstat block and later additions do
 * not matter.
 *
 * Invariants: a parsed zone's cpu[] has nr_cpus entries (malloc()ed);
 * a CPU the text does not list has listed == false.  Locking: none; the result is the caller's.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "trace.h"

static struct zi_zone *zi_new_zone(struct zoneinfo *zi, int node,
				   const char *name)
{
	struct zi_zone *z;

	if (zi->nr_zones == ZI_MAX_ZONES)
		return NULL;
	z = &zi->zones[zi->nr_zones++];
	memset(z, 0, sizeof(*z));
	z->node = node;
	snprintf(z->name, sizeof(z->name), "%.15s", name);
	return z;
}

/* "  key  value" with the key matched whole: Return the value or -1. */
static long long zi_value(const char *line, const char *key)
{
	size_t n = strlen(key);
	char *end;
	long long v;

	line += strspn(line, " \t");
	if (strncmp(line, key, n) ||
	    (line[n] != ' ' && line[n] != '\t' && line[n] != ':'))
		return -1;
	line += n + (line[n] == ':');
	v = strtoll(line, &end, 10);
	return end == line || v < 0 ? -1 : v;
}

void zoneinfo_free(struct zoneinfo *zi)
{
	int i;

	for (i = 0; i < zi->nr_zones; i++)
		free(zi->zones[i].cpu);
	zi->nr_zones = 0;
}

/* Return: 0, -ENOENT when @text lists no zone, -E2BIG, or -ENOMEM (@zi
 * then holds what was read, for zoneinfo_free()). */
int zoneinfo_parse(const char *text, struct zoneinfo *zi)
{
	struct zi_zone *z = NULL;
	struct zi_cpu *c = NULL;
	const char *line = text;

	memset(zi, 0, sizeof(*zi));
	while (line && *line) {
		const char *nl = strchr(line, '\n');
		char buf[256], name[32];
		size_t len = nl ? (size_t)(nl - line) : strlen(line);
		long long v;
		int node;

		snprintf(buf, sizeof(buf), "%.*s",
			 (int)(len < sizeof(buf) ? len : sizeof(buf) - 1),
			 line);
		line = nl ? nl + 1 : NULL;
		if (sscanf(buf, "Node %d, zone %31s", &node, name) == 2) {
			z = zi_new_zone(zi, node, name);
			if (!z)
				return -E2BIG;
			c = NULL;
			continue;
		}
		if (!z)
			continue;
		if ((v = zi_value(buf, "pages free")) >= 0)
			z->free = (unsigned long)v;
		else if ((v = zi_value(buf, "min")) >= 0)
			z->min = (unsigned long)v;
		else if ((v = zi_value(buf, "low")) >= 0)
			z->low = (unsigned long)v;
		else if (!c && (v = zi_value(buf, "high")) >= 0)
			z->high = (unsigned long)v;
		else if ((v = zi_value(buf, "spanned")) >= 0)
			z->spanned = (unsigned long)v;
		else if ((v = zi_value(buf, "managed")) >= 0)
			z->managed = (unsigned long)v;
		else if ((v = zi_value(buf, "start_pfn")) >= 0)
			z->start_pfn = (unsigned long)v;
		else if ((v = zi_value(buf, "cpu")) >= 0) {
			if (v >= PCPB_MAX_CPUS)
				return -E2BIG;
			if (v >= z->nr_cpus) {
				struct zi_cpu *n = realloc(
					z->cpu, (size_t)(v + 1) * sizeof(*n));

				if (!n)
					return -ENOMEM;
				memset(n + z->nr_cpus, 0,
				       (size_t)(v + 1 - z->nr_cpus) *
					       sizeof(*n));
				z->cpu = n;
				z->nr_cpus = (int)v + 1;
			}
			c = &z->cpu[v];
			c->listed = true;
		} else if (c && (v = zi_value(buf, "count")) >= 0)
			c->count = (long)v;
		else if (c && (v = zi_value(buf, "high")) >= 0)
			c->high = (long)v;
		else if (c && (v = zi_value(buf, "batch")) >= 0)
			c->batch = (long)v;
		else if (c && (v = zi_value(buf, "high_min")) >= 0)
			c->high_min = (long)v;
		else if (c && (v = zi_value(buf, "high_max")) >= 0)
			c->high_max = (long)v;
	}
	return zi->nr_zones ? 0 : -ENOENT;
}

const struct zi_zone *zoneinfo_zone(const struct zoneinfo *zi, const char *name)
{
	const struct zi_zone *best = NULL;
	int i;

	for (i = 0; i < zi->nr_zones; i++) {
		const struct zi_zone *z = &zi->zones[i];

		if (name && *name) {
			if (!strcasecmp(z->name, name) && z->node == 0)
				return z;
			continue;
		}
		/* The zone most allocations come from: Normal when it has
		 * memory, else the largest. */
		if (!z->managed)
			continue;
		if (!strcmp(z->name, "Normal"))
			return z;
		if (!best || z->managed > best->managed)
			best = z;
	}
	return best;
}

int zoneinfo_zone_of_pfn(const struct zoneinfo *zi, unsigned long pfn)
{
	int i;

	for (i = 0; i < zi->nr_zones; i++) {
		const struct zi_zone *z = &zi->zones[i];

		if (z->spanned && pfn >= z->start_pfn &&
		    pfn - z->start_pfn < z->spanned)
			return i;
	}
	return -1;
}
