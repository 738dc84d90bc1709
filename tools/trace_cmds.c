// SPDX-License-Identifier: GPL-2.0-only OR MIT
/*
 * trace_cmds.c - the trace commands of the CLI: 'pcpbuddy import ftrace',
 * 'pcpbuddy trace info' and 'pcpbuddy fidelity' (the model against the
 * kernel's own PCP markers, through the replay workload).
 *
 * Invariants: none.  Locking: single-threaded.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../trace/trace.h"
#include "../util/jsonstr.h"
#include "commands.h"

static const char import_usage[] =
	"usage: pcpbuddy import ftrace FILE -o TRACE\n"
	"\n"
	"Reads kmem:mm_page_alloc / mm_page_free text from tracefs\n"
	"(comm-pid [cpu] flags ts: event: ...), perf script\n"
	"(comm pid [cpu] ts: kmem:event: ...) or trace-cmd report\n"
	"(instance: comm-pid [cpu] ts: event: ...), and writes a pcpbuddy\n"
	"trace (docs/trace-format.md).  Pages are keyed by pfn=; free_batched is\n"
	"an annotation; zone_locked (percpu_refill=1) and pcpu_drain become\n"
	"markers; failed allocations, frees of pages allocated before the trace,\n"
	"unknown events and malformed lines are counted (malformed ones listed\n"
	"with their line numbers) and skipped.\n"
	"Exit: 0 ok, 1 I/O error, 2 bad arguments.\n";

int cmd_import_main(int argc, char **argv)
{
	struct trace_import_stats st = { 0 };
	const char *in = NULL, *out = NULL;
	struct trace t;
	int i, rc;

	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
			fputs(import_usage, stdout);
			return 0;
		} else if (!strcmp(argv[i], "-o") && i + 1 < argc) {
			out = argv[++i];
		} else if (!strcmp(argv[i], "ftrace") && !in && i == 1) {
			continue;
		} else if (argv[i][0] != '-' && !in) {
			in = argv[i];
		} else {
			return wl_usage_error("pcpbuddy import",
					      "unknown argument '%s'", argv[i]);
		}
	}
	if (argc < 2 || strcmp(argv[1], "ftrace") || !in || !out)
		return wl_usage_error("pcpbuddy import",
				      "needs: ftrace FILE -o TRACE");
	rc = trace_import_ftrace("pcpbuddy import", in, &t, &st);
	if (!rc && (rc = trace_write(out, &t)))
		fprintf(stderr, "pcpbuddy import: %s: %s\n", out,
			strerror(-rc));
	printf("import: %llu lines: %llu allocs, %llu frees, %llu frees of pages allocated before the trace, %llu refill markers, %llu drain markers; skipped %llu failed allocs, %llu free_batched annotations, %llu other lines, %llu malformed\n",
	       (unsigned long long)st.lines, (unsigned long long)st.allocs,
	       (unsigned long long)st.frees,
	       (unsigned long long)st.pre_trace_frees,
	       (unsigned long long)st.refill_marks,
	       (unsigned long long)st.drain_marks,
	       (unsigned long long)st.failed, (unsigned long long)st.batched,
	       (unsigned long long)st.unknown,
	       (unsigned long long)st.malformed);
	free(t.ev);
	return rc ? 1 : 0;
}

/* ---- trace info ------------------------------------------------------------ */

int cmd_trace_info_main(int argc, char **argv)
{
	uint64_t ops[NR_TRACE_OPS] = { 0 }, orders[11] = { 0 }, mts[3] = { 0 },
		 cross = 0;
	uint64_t *cpus;
	uint16_t *alloc_cpu;
	struct trace t;
	char err[256];
	size_t i;

	if (argc != 3 || strcmp(argv[1], "info") ||
	    !strcmp(argv[2], "--help") || !strcmp(argv[2], "-h")) {
		if (argc > 1 && (!strcmp(argv[argc - 1], "--help") ||
				 !strcmp(argv[argc - 1], "-h"))) {
			printf("usage: pcpbuddy trace info TRACE\n"
			       "Counts per op, order, migratetype and CPU, the cross-CPU free\n"
			       "fraction and the duration of a pcpbuddy trace (or of kmem\n"
			       "tracepoint text, plain or gzipped, imported on the fly).\n");
			return 0;
		}
		return wl_usage_error("pcpbuddy trace", "needs: info TRACE");
	}
	if (trace_load("pcpbuddy trace", argv[2], &t, err, sizeof(err))) {
		fprintf(stderr, "pcpbuddy trace: %s\n", err);
		return 2;
	}
	cpus = calloc(t.h.nr_cpus + 1, sizeof(*cpus));
	alloc_cpu = calloc((size_t)t.n + 2, sizeof(*alloc_cpu));
	if (!cpus || !alloc_cpu) {
		free(cpus);
		free(alloc_cpu);
		free(t.ev);
		return 1;
	}
	for (i = 0; i < t.n; i++) {
		struct trace_event *e = &t.ev[i];

		ops[e->op < NR_TRACE_OPS ? e->op : 0]++;
		cpus[e->cpu]++;
		if (e->op == TOP_ALLOC) {
			orders[e->info & 15]++;
			mts[(e->info >> 4) & 3]++;
			if (e->id <= t.n)
				alloc_cpu[e->id] = e->cpu;
		} else if (e->op == TOP_FREE && e->id <= t.n &&
			   alloc_cpu[e->id] != e->cpu) {
			cross++;
		}
	}
	printf("trace: %s, %u CPUs, %zu events, %.6f s\n", t.h.source,
	       t.h.nr_cpus, t.n,
	       t.n ? (double)(t.ev[t.n - 1].time_ns - t.ev[0].time_ns) * 1e-9
		   : 0);
	printf("ops: alloc %llu free %llu free_old %llu refill_marker %llu drain_marker %llu drain_all %llu stats_reset %llu vmstat_tick %llu report_mark %llu\n",
	       (unsigned long long)ops[TOP_ALLOC],
	       (unsigned long long)ops[TOP_FREE],
	       (unsigned long long)ops[TOP_FREE_OLD],
	       (unsigned long long)ops[TOP_REFILL_MARK],
	       (unsigned long long)ops[TOP_DRAIN_MARK],
	       (unsigned long long)ops[TOP_DRAIN_ALL],
	       (unsigned long long)ops[TOP_STATS_RESET],
	       (unsigned long long)ops[TOP_VMSTAT_TICK],
	       (unsigned long long)ops[TOP_REPORT_MARK]);
	printf("alloc orders:");
	for (i = 0; i < 11; i++)
		if (orders[i])
			printf(" %zu:%llu", i, (unsigned long long)orders[i]);
	printf("\nalloc migratetypes: unmovable %llu movable %llu reclaimable %llu\n",
	       (unsigned long long)mts[0], (unsigned long long)mts[1],
	       (unsigned long long)mts[2]);
	printf("cross-CPU frees: %.4f (%llu of %llu)\n",
	       ops[TOP_FREE] ? (double)cross / (double)ops[TOP_FREE] : 0,
	       (unsigned long long)cross, (unsigned long long)ops[TOP_FREE]);
	printf("events per CPU:");
	for (i = 0; i < t.h.nr_cpus; i++)
		printf(" %zu:%llu", i, (unsigned long long)cpus[i]);
	printf("\n");
	free(cpus);
	free(alloc_cpu);
	free(t.ev);
	return 0;
}

/* ---- fidelity: the model against the kernel's own markers ---------------- */

static const char fidelity_usage[] =
	"usage: pcpbuddy fidelity TRACE --batch B --high-min H --high-max H\n"
	"                         [--memory SIZE] [--json]\n"
	"\n"
	"Replays a kernel trace (imported, or its kmem text as it is, plain or\n"
	"gzipped) on policy=classic with the kernel's PCP\n"
	"batch and high (read them from /proc/zoneinfo: pagesets batch, high_min,\n"
	"high_max of the zone that served the trace) and compares, per CPU,\n"
	"what the model predicts with what the kernel's markers show:\n"
	"  refill: pages pulled into PCPs under zone->lock (kernel:\n"
	"          mm_page_alloc_zone_locked with percpu_refill=1);\n"
	"  drain:  pages drained from PCPs (kernel: mm_page_pcpu_drain).\n"
	"  --memory  the modelled zone (default 1G; use the zone's managed pages)\n"
	"Exit: 0 ok, 1 check failed, 2 bad arguments or trace.\n";

int cmd_fidelity_main(int argc, char **argv)
{
	const struct workload *replay = wl_find("replay");
	const char *path = NULL;
	void *priv = NULL;
	struct wl_opts o = { 0 };
	struct wl_result res = { 0 };
	struct pcpb_check_result check;
	uint64_t *k_refill, *k_drain;
	const char *mem = "1G";
	struct pcpb *inst;
	struct trace t;
	char err[600], kv[256];
	long batch = 0, hmin = 0, hmax = 0;
	bool json = false;
	unsigned int c;
	size_t i;
	int rc;

	for (i = 1; i < (size_t)argc; i++) {
		const char *a = argv[i],
			   *v = i + 1 < (size_t)argc ? argv[i + 1] : NULL;

		if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
			fputs(fidelity_usage, stdout);
			return 0;
		} else if (!strcmp(a, "--json")) {
			json = true;
		} else if (v && !strcmp(a, "--batch")) {
			batch = strtol(v, NULL, 10), i++;
		} else if (v && !strcmp(a, "--high-min")) {
			hmin = strtol(v, NULL, 10), i++;
		} else if (v && !strcmp(a, "--high-max")) {
			hmax = strtol(v, NULL, 10), i++;
		} else if (v && !strcmp(a, "--memory")) {
			mem = v, i++;
		} else if (a[0] != '-' && !path) {
			path = a;
		} else {
			return wl_usage_error("pcpbuddy fidelity",
					      "unknown argument '%s'", a);
		}
	}
	if (!path || batch < 1 || hmin < 1 || hmax < hmin)
		return wl_usage_error(
			"pcpbuddy fidelity",
			"needs TRACE --batch B --high-min H --high-max H (H from /proc/zoneinfo)");
	if (trace_load("pcpbuddy fidelity", path, &t, err, sizeof(err))) {
		fprintf(stderr, "pcpbuddy fidelity: %s\n", err);
		return 2;
	}
	k_refill = calloc(t.h.nr_cpus + 1, sizeof(*k_refill));
	k_drain = calloc(t.h.nr_cpus + 1, sizeof(*k_drain));
	priv = calloc(1, replay->priv_size);
	if (!k_refill || !k_drain || !priv ||
	    wl_option_set(replay, priv, "--trace", path)) {
		free(k_refill);
		free(k_drain);
		free(priv);
		free(t.ev);
		return 1;
	}
	for (i = 0; i < t.n; i++) {
		uint64_t pages = 1ULL << (t.ev[i].info & 15);

		if (t.ev[i].op == TOP_REFILL_MARK)
			k_refill[t.ev[i].cpu] += pages;
		else if (t.ev[i].op == TOP_DRAIN_MARK)
			k_drain[t.ev[i].cpu] += pages;
	}
	pcpb_config_init(&o.cfg);
	snprintf(
		kv, sizeof(kv),
		"policy=classic,memory=%s,cpus=%u,batch=%ld,high_min=%ld,high_max=%ld,vmstat_ms=0,cpu_mode=explicit",
		mem, t.h.nr_cpus ? t.h.nr_cpus : 1, batch, hmin, hmax);
	if (pcpb_config_parse(&o.cfg, kv, err, sizeof(err))) {
		fprintf(stderr, "pcpbuddy fidelity: %s\n", err);
		rc = 2;
	} else if ((rc = pcpb_create(&o.cfg, &inst))) {
		fprintf(stderr,
			"pcpbuddy fidelity: cannot create the instance: %s\n",
			wl_create_strerror(rc));
		rc = 1;
	}
	if (rc) {
		free(k_refill);
		free(k_drain);
		wl_free_priv(replay, priv);
		free(t.ev);
		return rc;
	}
	/* The replay workload reads the trace itself and sanitizes it. */
	rc = replay->run(inst, &o, priv, &res);
	if (json) {
		printf("{\"trace\": ");
		json_fputs_string(stdout, t.h.source);
		printf(", \"batch\": %ld, \"high_min\": %ld, \"high_max\": %ld, \"cpus\": [",
		       batch, hmin, hmax);
	} else
		printf("fidelity: %s on classic, batch %ld, high %ld..%ld\n"
		       "%4s %14s %14s %7s %14s %14s %7s\n",
		       t.h.source, batch, hmin, hmax, "cpu", "kernel refill",
		       "model refill", "ratio", "kernel drain", "model drain",
		       "ratio");
	for (c = 0; c < t.h.nr_cpus && !rc; c++) {
		uint64_t m[PCPB_NR_PCP_STATS];

		pcpb_pcp_stats_cpu(inst, (int)c, m);
		if (json)
			printf("%s{\"cpu\": %u, \"kernel_refill\": %llu, \"model_refill\": %llu, \"kernel_drain\": %llu, \"model_drain\": %llu}",
			       c ? ", " : "", c,
			       (unsigned long long)k_refill[c],
			       (unsigned long long)m[PCPB_PCP_refill_pages],
			       (unsigned long long)k_drain[c],
			       (unsigned long long)m[PCPB_PCP_drain_pages]);
		else
			printf("%4u %14llu %14llu %7.2f %14llu %14llu %7.2f\n",
			       c, (unsigned long long)k_refill[c],
			       (unsigned long long)m[PCPB_PCP_refill_pages],
			       k_refill[c] ? (double)m[PCPB_PCP_refill_pages] /
						     (double)k_refill[c]
					   : 0,
			       (unsigned long long)k_drain[c],
			       (unsigned long long)m[PCPB_PCP_drain_pages],
			       k_drain[c] ? (double)m[PCPB_PCP_drain_pages] /
						    (double)k_drain[c]
					  : 0);
	}
	if (json)
		printf("]}\n");
	if (!rc && (pcpb_check(inst, &check) || check.pages_allocated))
		rc = 1;
	pcpb_destroy(inst);
	wl_result_free(&res);
	wl_free_priv(replay, priv);
	free(k_refill);
	free(k_drain);
	free(t.ev);
	return rc ? 1 : 0;
}
