// SPDX-License-Identifier: GPL-2.0-only OR MIT
/*
 * import.c - 'pcpbuddy import ftrace' one line at a time: each prefix style
 * gives the same event, and each trap of toolchain-notes section 6 gives
 * what the notes say (an event, a marker, or nothing).  The trace file is
 * read back field by field, then replayed on a small instance, which the
 * teardown checks.
 */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "helpers.h"
#include "../../tools/commands.h"

static struct pcpb *inst;
static char dir[] = "/tmp/pcpb-import-XXXXXX";

struct ev {
	uint64_t time_ns;
	uint32_t id;
	uint16_t cpu;
	uint8_t op, info;
};

static void teardown(void)
{
	char cmd[64];

	assert_check(inst);
	pcpb_destroy(inst);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	cr_assert_eq(system(cmd), 0);
}

TestSuite(import, .fini = teardown);

/* Imports @text, returns its events (up to 16), replays it on @inst. */
static size_t import_text(const char *text, struct ev *ev)
{
	char in[64], out[64], *argv[5];
	const struct workload *w = wl_find("replay");
	struct wl_result res = { 0 };
	struct wl_opts o = { 0 };
	void *priv;
	FILE *f;
	size_t n;

	strcpy(dir, "/tmp/pcpb-import-XXXXXX");
	cr_assert_not_null(mkdtemp(dir));
	snprintf(in, sizeof(in), "%s/in.txt", dir);
	snprintf(out, sizeof(out), "%s/out.trace", dir);
	f = fopen(in, "w");
	cr_assert_not_null(f);
	fputs(text, f);
	fclose(f);
	argv[0] = (char *)"import";
	argv[1] = (char *)"ftrace";
	argv[2] = in;
	argv[3] = (char *)"-o";
	argv[4] = out;
	cr_assert_eq(cmd_import_main(5, argv), 0);
	f = fopen(out, "rb");
	cr_assert_not_null(f);
	cr_assert_eq(fseek(f, 56, SEEK_SET), 0, "past the header");
	n = fread(ev, sizeof(*ev), 16, f);
	fclose(f);

	inst = make_inst("memory=64M");
	priv = calloc(1, w->priv_size);
	cr_assert_eq(wl_option_set(w, priv, "trace", out), 0);
	cr_assert_eq(w->run(inst, &o, priv, &res), 0);
	wl_result_free(&res);
	free(priv);
	return n;
}

static const char *const alloc_styles[] = {
	/* tracefs */
	"  python3-12694   [001] .....   428.672325: mm_page_alloc: page=00000000ed4ed8cd pfn=0x159005 order=0 migratetype=1 gfp_flags=GFP_HIGHUSER_MOVABLE\n",
	/* perf script */
	"  python3 12694 [001]   428.672325:   kmem:mm_page_alloc: page=0x159005 pfn=0x159005 order=0 migratetype=1 gfp_flags=GFP_HIGHUSER_MOVABLE\n",
	/* trace-cmd report, with an instance prefix */
	"eco2:   python3-12694 [001]   428.672325: mm_page_alloc:        page=0x159005 pfn=0x159005 order=0 migratetype=1 gfp_flags=GFP_HIGHUSER_MOVABLE\n",
};

Test(import, each_prefix_style_gives_the_same_alloc)
{
	struct ev first = { 0 }, ev[16];
	int s;

	for (s = 0; s < 3; s++) {
		cr_assert_eq(import_text(alloc_styles[s], ev), 1, "style %d",
			     s);
		cr_assert_eq(ev[0].op, 1, "an alloc");
		cr_assert_eq(ev[0].cpu, 1);
		cr_assert_eq(ev[0].time_ns, 428672325000ULL);
		cr_assert_eq(ev[0].info, 0 | 1 << 4, "order 0, movable");
		if (s == 0)
			first = ev[0];
		cr_assert_eq(memcmp(&first, &ev[0], sizeof(first)), 0,
			     "style %d differs from tracefs", s);
		if (s < 2)
			teardown();
	}
}

Test(import, pages_are_keyed_by_pfn_not_page)
{
	struct ev ev[16];

	/* Same pfn, different hashed page=: the free names the alloc. */
	cr_assert_eq(
		import_text(
			"  a-1 [000] .....   1.000000: mm_page_alloc: page=00000000aaaaaaaa pfn=0x100 order=2 migratetype=0 gfp_flags=GFP_KERNEL_ACCOUNT\n"
			"  a-1 [001] .....   1.000001: mm_page_free: page=00000000bbbbbbbb pfn=0x100 order=2\n",
			ev),
		2);
	cr_assert_eq(ev[0].op, 1);
	cr_assert_eq(ev[0].info, 2 | 0 << 4 | 1 << 6,
		     "order 2, unmovable, accounted");
	cr_assert_eq(ev[1].op, 2, "a free of the traced alloc");
	cr_assert_eq(ev[1].id, ev[0].id);
	cr_assert_eq(ev[1].cpu, 1, "freed on another CPU");
}

Test(import, traps_become_markers_or_nothing)
{
	struct ev ev[16];

	cr_assert_eq(
		import_text(
			/* failed allocation: nothing */
			"  a-1 [000] .....   2.000000: mm_page_alloc: page=0000000000000000 pfn=0x0 order=0 migratetype=1 gfp_flags=GFP_KERNEL\n"
			/* free of a page the trace never allocated: op 5 */
			"  a-1 [000] .....   2.000001: mm_page_free: page=00 pfn=0x200 order=0\n"
			/* free_batched: an annotation, nothing */
			"  a-1 [000] .....   2.000002: mm_page_free_batched: page=00 pfn=0x200 order=0\n"
			/* refill and drain markers */
			"  a-1 [000] d..3.   2.000003: mm_page_alloc_zone_locked: page=00 pfn=0x300 order=0 migratetype=1 percpu_refill=1\n"
			"  a-1 [000] d..3.   2.000004: mm_page_pcpu_drain: page=00 pfn=0x301 order=0 migratetype=1\n"
			/* zone_locked without percpu_refill: not a refill */
			"  a-1 [000] d..3.   2.000005: mm_page_alloc_zone_locked: page=00 pfn=0x302 order=0 migratetype=1 percpu_refill=0\n"
			/* unknown event, garbage, a bad CPU field: nothing */
			"  a-1 [000] .....   2.000006: sched_switch: prev_comm=a\n"
			"this line is garbage\n"
			"  a-1 [xx] .....   2.000007: mm_page_free: page=00 pfn=0x1 order=0\n",
			ev),
		3);
	cr_assert_eq(ev[0].op, 5, "free of a pre-trace page");
	cr_assert_neq(ev[0].id, 0, "with an id of its own");
	cr_assert_eq(ev[1].op, 3, "refill marker");
	cr_assert_eq(ev[2].op, 4, "drain marker");
}
