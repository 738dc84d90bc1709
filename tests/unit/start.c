// SPDX-License-Identifier: GPL-2.0-only OR MIT
/*
 * start.c - what a replay of a kernel capture starts from: a CPU's pageset
 * stocked list by list (pcpb_pcp_preset()), one CPU's vmstat tick, the
 * min watermark a zoneinfo shows (wmark_min), the /proc/zoneinfo parser,
 * and the version 2 trace that carries the snapshot.
 *
 * Invariants: every scenario ends with assert_check().  Locking: none; one
 * thread.
 */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "../../trace/trace.h"
#include "helpers.h"

static uint64_t refills_on(struct pcpb *inst, int cpu)
{
	uint64_t pcp[PCPB_NR_PCP_STATS];

	pcpb_pcp_stats_cpu(inst, cpu, pcp);
	return pcp[PCPB_PCP_refills];
}

/* Each list holds what was asked: allocating that many needs no refill,
 * one more does. */
static void preset_lists_hold_what_was_asked(const char *kv)
{
	struct pcpb *inst = make_inst(kv);
	const struct pcpb_pcp_stock lists[] = {
		{ .order = 0,
		  .migratetype = PCPB_MT_UNMOVABLE,
		  .nr_blocks = 10 },
		{ .order = 0, .migratetype = PCPB_MT_MOVABLE, .nr_blocks = 20 },
		{ .order = 2, .migratetype = PCPB_MT_MOVABLE, .nr_blocks = 3 },
	};
	long pfns[40];
	int i, n = 0;

	cr_assert_eq(pcpb_pcp_preset(inst, 0, lists, 3, 1000), 0);
	cr_assert_eq(stats_of(inst).pages_pcp, 10 + 20 + 3 * 4);
	pcpb_stats_reset(inst);
	for (i = 0; i < 10; i++)
		pfns[n++] = alloc_on(inst, 0, 0, PCPB_MT_UNMOVABLE);
	for (i = 0; i < 20; i++)
		pfns[n++] = alloc_on(inst, 0, 0, PCPB_MT_MOVABLE);
	for (i = 0; i < 3; i++)
		pfns[n++] = alloc_on(inst, 0, 2, PCPB_MT_MOVABLE);
	cr_assert_eq(refills_on(inst, 0), 0, "%s: the stocked lists refilled",
		     kv);
	pfns[n++] = alloc_on(inst, 0, 0, PCPB_MT_UNMOVABLE);
	cr_assert_eq(refills_on(inst, 0), 1, "%s", kv);
	for (i = 0; i < n; i++)
		free_on(inst, 0, pfns[i], i >= 30 && i < 33 ? 2 : 0);
	assert_check(inst);
	pcpb_destroy(inst);
}

Test(start, preset_lists_hold_what_was_asked)
{
	preset_lists_hold_what_was_asked("policy=classic");
}

Test(start, preset_keeps_the_owner_policy_consistent)
{
	preset_lists_hold_what_was_asked("policy=owner");
}

Test(start, preset_sets_high_within_high_min_and_high_max)
{
	struct pcpb *inst = make_inst("high_min=100,high_max=400");
	const struct pcpb_pcp_stock one = { .order = 0,
					    .migratetype = PCPB_MT_MOVABLE,
					    .nr_blocks = 50 };
	struct per_cpu_pages *pcp = zone0(inst)->per_cpu_pageset[1];

	cr_assert_eq(pcpb_pcp_preset(inst, 1, &one, 1, 300), 0);
	cr_assert_eq(pcp->high, 300);
	cr_assert_eq(pcp->count, 50);
	cr_assert_eq(pcpb_pcp_preset(inst, 1, &one, 1, 5000), 0);
	cr_assert_eq(pcp->high, 400, "clamped to high_max");
	cr_assert_eq(pcp->count, 50, "the lists were emptied first");
	cr_assert_eq(pcpb_pcp_preset(inst, 1, NULL, 0, 1), 0);
	cr_assert_eq(pcp->high, 100, "clamped to high_min");
	cr_assert_eq(pcp->count, 0);
	cr_assert_eq(pcpb_pcp_preset(inst, 2, &one, 1, 1), -EINVAL);
	cr_assert_eq(pcpb_pcp_preset(inst, 0, &one, 1, -1), -EINVAL);
	assert_check(inst);
	pcpb_destroy(inst);
}

Test(start, preset_says_when_the_zone_runs_out)
{
	struct pcpb *inst = make_inst(NULL);
	const struct pcpb_pcp_stock all = { .order = 0,
					    .migratetype = PCPB_MT_MOVABLE,
					    .nr_blocks = 1 << 20 };

	cr_assert_eq(pcpb_pcp_preset(inst, 0, &all, 1, 100), -ENOMEM);
	cr_assert_eq(stats_of(inst).pages_allocated, 0);
	assert_check(inst);
	pcpb_destroy(inst);
}

/* One CPU's tick decays that CPU's high only. */
Test(start, vmstat_tick_cpu_decays_one_cpu)
{
	struct pcpb *inst = make_inst("high_min=100,high_max=800");
	struct per_cpu_pages *p0 = zone0(inst)->per_cpu_pageset[0],
			     *p1 = zone0(inst)->per_cpu_pageset[1];

	cr_assert_eq(pcpb_pcp_preset(inst, 0, NULL, 0, 800), 0);
	cr_assert_eq(pcpb_pcp_preset(inst, 1, NULL, 0, 800), 0);
	pcpb_vmstat_tick_cpu(inst, 1);
	cr_assert_eq(p0->high, 800);
	cr_assert_eq(p1->high, 700, "an eighth off: %d", p1->high);
	pcpb_vmstat_tick_cpu(inst, 7); /* out of range: nothing */
	assert_check(inst);
	pcpb_destroy(inst);
}

Test(start, wmark_min_sets_the_min_watermark)
{
	struct pcpb *inst = make_inst("memory=64M,wmark_min=700");
	struct pcpb_watermarks wm;

	cr_assert_eq(pcpb_node_watermarks(inst, 0, &wm), 0);
	cr_assert_eq(wm.min, 700);
	cr_assert_gt(wm.low, wm.min);
	assert_check(inst);
	pcpb_destroy(inst);
}

static const char zoneinfo_text[] = "Node 0, zone      DMA\n"
				    "  pages free     3840\n"
				    "        min      68\n"
				    "        spanned  4095\n"
				    "        managed  3840\n"
				    "  pagesets\n"
				    "    cpu: 0\n"
				    "              count:    0\n"
				    "              high:     0\n"
				    "              batch:    1\n"
				    "  start_pfn:           1\n"
				    "Node 0, zone   Normal\n"
				    "  per-node stats\n"
				    "      nr_inactive_anon 407\n"
				    "  pages free     46589\n"
				    "        boost    0\n"
				    "        min      2943\n"
				    "        low      3678\n"
				    "        high     4413\n"
				    "        spanned  5505024\n"
				    "        managed  163840\n"
				    "  pagesets\n"
				    "    cpu: 0\n"
				    "              count:    1161\n"
				    "              high:     1839\n"
				    "              batch:    31\n"
				    "              high_min: 1839\n"
				    "              high_max: 10240\n"
				    "  vm stats threshold: 16\n"
				    "    cpu: 2\n"
				    "              count:    1437\n"
				    "              high:     2000\n"
				    "              batch:    31\n"
				    "  start_pfn:           1048576\n";

Test(start, zoneinfo_is_parsed_zone_by_zone_and_cpu_by_cpu)
{
	struct zoneinfo zi;
	const struct zi_zone *z;

	cr_assert_eq(zoneinfo_parse(zoneinfo_text, &zi), 0);
	cr_assert_eq(zi.nr_zones, 2);
	z = zoneinfo_zone(&zi, NULL);
	cr_assert_str_eq(z->name, "Normal", "Normal is the default");
	cr_assert_eq(z->free, 46589);
	cr_assert_eq(z->min, 2943);
	cr_assert_eq(z->low, 3678);
	cr_assert_eq(z->high, 4413, "the zone's high, not a pageset's");
	cr_assert_eq(z->managed, 163840);
	cr_assert_eq(z->nr_cpus, 3);
	cr_assert(z->cpu[0].listed && !z->cpu[1].listed && z->cpu[2].listed);
	cr_assert_eq(z->cpu[0].count, 1161);
	cr_assert_eq(z->cpu[0].high, 1839);
	cr_assert_eq(z->cpu[0].batch, 31);
	cr_assert_eq(z->cpu[0].high_max, 10240);
	cr_assert_eq(z->cpu[2].high_min, 0, "not printed: 0");
	cr_assert_str_eq(zoneinfo_zone(&zi, "dma")->name, "DMA");
	cr_assert_null(zoneinfo_zone(&zi, "Movable"));
	cr_assert_eq(zoneinfo_zone_of_pfn(&zi, 1048576), 1);
	cr_assert_eq(zoneinfo_zone_of_pfn(&zi, 100), 0);
	cr_assert_eq(zoneinfo_zone_of_pfn(&zi, 0), -1);
	zoneinfo_free(&zi);
	cr_assert_eq(zoneinfo_parse("not zoneinfo\n", &zi), -ENOENT);
	zoneinfo_free(&zi);
}

Test(start, version_2_traces_carry_their_metadata)
{
	char path[] = "/tmp/pcpb-start-XXXXXX", err[256];
	struct trace t = { 0 }, back;
	size_t len;
	const char *v;
	char *sec;
	int fd = mkstemp(path);

	cr_assert_geq(fd, 0);
	close(fd);
	cr_assert_eq(trace_push(&t, (struct trace_event){ .op = TOP_ALLOC,
							  .id = 1,
							  .cpu = 1 }),
		     0);
	cr_assert_eq(trace_meta_add(&t, "kernel_release: 6.18.4\nzone: %s\n",
				    "Normal"),
		     0);
	cr_assert_eq(
		trace_meta_add(&t, "=== zoneinfo.before\n%s", zoneinfo_text),
		0);
	cr_assert_eq(trace_meta_add(&t, "=== buddyinfo.after\nNode 0\n"), 0);
	cr_assert_eq(trace_write(path, &t), 0);
	cr_assert_eq(trace_read(path, &back, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(back.h.version, 2);
	cr_assert_eq(back.n, 1);
	v = trace_meta_get(&back, "kernel_release", &len);
	cr_assert(v && len == 6 && !strncmp(v, "6.18.4", 6));
	cr_assert_null(trace_meta_get(&back, "Node 0, zone", &len),
		       "keys end at the first section");
	sec = trace_meta_section(&back, "zoneinfo.before");
	cr_assert_str_eq(sec, zoneinfo_text);
	free(sec);
	sec = trace_meta_section(&back, "buddyinfo.after");
	cr_assert_str_eq(sec, "Node 0\n");
	free(sec);
	cr_assert_null(trace_meta_section(&back, "pagetypeinfo.before"));
	trace_free(&back);
	/* Without metadata it is still a version 1 file. */
	free(t.meta);
	t.meta = NULL;
	t.meta_len = 0;
	cr_assert_eq(trace_write(path, &t), 0);
	cr_assert_eq(trace_read(path, &back, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(back.h.version, 1);
	cr_assert_null(back.meta);
	trace_free(&back);
	trace_free(&t);
	unlink(path);
}
