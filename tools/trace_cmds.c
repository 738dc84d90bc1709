// SPDX-License-Identifier: GPL-2.0-only OR MIT
/*
 * trace_cmds.c - the trace commands of the CLI: 'pcpbuddy import ftrace',
 * 'pcpbuddy trace info' and 'pcpbuddy fidelity' (the model against the
 * kernel's own PCP markers, per CPU and flow, through the replay workload
 * from the kernel's start state: a verdict, with its exit code).
 *
 * Invariants: none.  Locking: single-threaded.
 */
#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../trace/trace.h"
#include "../util/jsonstr.h"
#include "commands.h"

static const char import_usage[] =
	"usage: pcpbuddy import ftrace FILE -o TRACE [--zoneinfo ZONEINFO]\n"
	"                             [--zone NAME] [--meta FILE]\n"
	"                             [--snapshot NAME=FILE ...] [--pid 'P ...']\n"
	"\n"
	"Reads kmem:mm_page_alloc / mm_page_free text from tracefs\n"
	"(comm-pid [cpu] flags ts: event: ...), perf script\n"
	"(comm pid [cpu] ts: kmem:event: ...) or trace-cmd report\n"
	"(instance: comm-pid [cpu] ts: event: ...), plain, gzip or zstd, FILE\n"
	"'-' for standard input, and writes a pcpbuddy trace\n"
	"(docs/trace-format.md).  Pages are keyed by pfn=; free_batched is\n"
	"an annotation; zone_locked (percpu_refill=1) and pcpu_drain become\n"
	"markers; failed allocations, frees of pages allocated before the trace,\n"
	"unknown events and malformed lines are counted (malformed ones listed\n"
	"with their line numbers) and skipped.  A trace-cmd .dat file is read\n"
	"through libtracecmd, a perf.data file through 'perf script'.  Input\n"
	"with no kmem event, kmem lines without a [cpu] field, and other binary\n"
	"input are errors.\n"
	"  --zoneinfo F  /proc/zoneinfo as tracing began: stored as the trace's\n"
	"                start state, and only the events on pages of the\n"
	"                replayed zone are kept (the model has one zone)\n"
	"  --zone NAME   that zone (default: Normal, else the largest)\n"
	"  --meta FILE   'key: value' lines for the trace's metadata (a capture\n"
	"                made elsewhere: kernel_release, kernel_hz, lost_events,\n"
	"                ...; docs/trace-format.md lists the keys)\n"
	"  --snapshot NAME=FILE  a snapshot to keep (zoneinfo.after, buddyinfo.before,\n"
	"                ...); repeatable\n"
	"  --pid 'P ...' the workload's tasks: their events, and those of the\n"
	"                tasks they fork (sched:sched_process_fork lines), are\n"
	"                marked as the workload's\n"
	"Exit: 0 ok, 1 I/O error, 2 bad arguments or input.\n";

/* A text file whole, or NULL (also for binary: metadata is text). */
static char *read_small(const char *path)
{
	size_t len;
	char *buf = trace_read_text(path, &len);

	if (buf && strlen(buf) != len) {
		free(buf);
		buf = NULL;
	}
	return buf;
}

/*
 * The metadata of a capture made elsewhere: @meta's key lines before what
 * the import wrote, then each NAME=FILE snapshot.  Return: 0, or 2 after a
 * message.
 */
static int add_meta(struct trace *t, const char *meta, char **snaps, int n)
{
	char *text;
	int i, rc = 0;

	if (meta) {
		text = read_small(meta);
		if (!text || strstr(text, "\n=== ") ||
		    !strncmp(text, "=== ", 4)) {
			fprintf(stderr, "pcpbuddy import: --meta %s: %s\n",
				meta,
				text ? "'key: value' lines only, no sections"
				     : "cannot read it as text");
			free(text);
			return 2;
		}
		rc = trace_meta_insert_keys(t, text);
		free(text);
	}
	for (i = 0; i < n && !rc; i++) {
		char *eq = strchr(snaps[i], '=');

		text = eq ? read_small(eq + 1) : NULL;
		if (!text || eq == snaps[i]) {
			fprintf(stderr,
				"pcpbuddy import: --snapshot %s: needs NAME=FILE with a readable text FILE\n",
				snaps[i]);
			free(text);
			return 2;
		}
		*eq = '\0';
		rc = trace_meta_add_section(t, snaps[i], text);
		*eq = '=';
		free(text);
	}
	if (rc)
		fprintf(stderr, "pcpbuddy import: out of memory\n");
	return rc ? 2 : 0;
}

static const struct option import_options[] = {
	{ "help", no_argument, NULL, 'h' },
	{ "output", required_argument, NULL, 'o' },
	{ "zoneinfo", required_argument, NULL, 'z' },
	{ "zone", required_argument, NULL, 'Z' },
	{ "meta", required_argument, NULL, 'm' },
	{ "pid", required_argument, NULL, 'p' },
	{ "snapshot", required_argument, NULL, 's' },
	{ NULL, 0, NULL, 0 },
};

int cmd_import_main(int argc, char **argv)
{
	struct wl_args args;
	const char *val;
	int c;
	struct trace_import_stats st = { 0 };
	struct trace_import_opts io = { 0 };
	const char *in = NULL, *out = NULL, *meta = NULL;
	char **snaps = calloc((size_t)argc + 1, sizeof(*snaps));
	struct trace t;
	int rc, nsnaps = 0;

	wl_args_init(&args, "pcpbuddy import", argc, argv,
		     "ho:", import_options);
	while ((c = wl_args_next(&args, &val)) != -1) {
		switch (c) {
		case 'h':
			fputs(import_usage, stdout);
			free(snaps);
			return 0;
		case 'o':
			out = val;
			break;
		case 'z':
			io.zoneinfo = val;
			break;
		case 'Z':
			io.zone = val;
			break;
		case 'm':
			meta = val;
			break;
		case 'p':
			io.workload_pids = val;
			break;
		case 's':
			if (snaps)
				snaps[nsnaps++] = (char *)val;
			break;
		case 1:
			/* "ftrace FILE": the format, then the input */
			if (args.optind == 2 && !strcmp(val, "ftrace"))
				break;
			if (!in) {
				in = val;
				break;
			}
			/* fall through */
		default:
			if (c == 1)
				wl_usage_error("pcpbuddy import",
					       "unknown argument '%s'", val);
			free(snaps);
			return 2;
		}
	}
	if (argc < 2 || strcmp(argv[1], "ftrace") || !in || !out) {
		free(snaps);
		return wl_usage_error("pcpbuddy import",
				      "needs: ftrace FILE -o TRACE");
	}
	rc = trace_import_ftrace("pcpbuddy import", in, &io, &t, &st);
	if (rc) {
		free(snaps);
		return rc == -EINVAL ? 2 : 1;
	}
	if ((meta || nsnaps) && add_meta(&t, meta, snaps, nsnaps)) {
		free(snaps);
		trace_free(&t);
		return 2;
	}
	free(snaps);
	rc = trace_write(out, &t);
	if (rc)
		fprintf(stderr, "pcpbuddy import: %s: %s\n", out,
			strerror(-rc));
	printf("import: %llu lines: %llu allocs, %llu frees, %llu frees of pages allocated before the trace, %llu refill markers, %llu drain markers; skipped %llu failed allocs, %llu free_batched annotations, %llu other lines, %llu malformed",
	       (unsigned long long)st.lines, (unsigned long long)st.allocs,
	       (unsigned long long)st.frees,
	       (unsigned long long)st.pre_trace_frees,
	       (unsigned long long)st.refill_marks,
	       (unsigned long long)st.drain_marks,
	       (unsigned long long)st.failed, (unsigned long long)st.batched,
	       (unsigned long long)st.unknown,
	       (unsigned long long)st.malformed);
	if (io.zoneinfo)
		printf(", %llu events of other zones",
		       (unsigned long long)st.other_zone);
	printf("\n");
	trace_free(&t);
	return rc ? 1 : 0;
}

/* ---- trace info ------------------------------------------------------------ */

/* A capture's metadata: its keys as they are, its sections by size. */
static void print_meta(const struct trace *t)
{
	const char *line = t->meta;
	bool in_section = false;

	printf("metadata (version 2):\n");
	while (line && *line) {
		const char *nl = strchr(line, '\n');
		int len = nl ? (int)(nl - line) : (int)strlen(line);

		if (!strncmp(line, "=== ", 4)) {
			char name[64];
			char *sec;

			snprintf(name, sizeof(name), "%.*s", len - 4, line + 4);
			sec = trace_meta_section(t, name);
			printf("  snapshot %s: %zu bytes\n", name,
			       sec ? strlen(sec) : 0);
			free(sec);
		} else if (len && !in_section) {
			printf("  %.*s\n", len, line);
		}
		in_section |= !strncmp(line, "=== ", 4);
		line = nl ? nl + 1 : NULL;
	}
	if (trace_meta_ull(t, "lost_events"))
		fprintf(stderr,
			"pcpbuddy trace: warning: this capture lost %llu events (ring buffer overrun): its counts are low\n",
			trace_meta_ull(t, "lost_events"));
}

static const char trace_usage[] =
	"usage: pcpbuddy trace info TRACE\n"
	"       pcpbuddy trace dump TRACE\n"
	"       pcpbuddy trace snapshot TRACE NAME\n"
	"info: counts per op, order, migratetype and CPU, the cross-CPU free\n"
	"fraction and the duration of a pcpbuddy trace (or of kmem tracepoint\n"
	"text, plain, gzip or zstd, imported on the fly), and a capture's\n"
	"metadata: the kernel, the sysctls, events lost, and its snapshots.\n"
	"dump: every event, one line each: index, time_ns, cpu, op, id, order,\n"
	"migratetype (tab-separated, with a header).\n"
	"snapshot: one of a capture's snapshots as it was read (zoneinfo.before,\n"
	"buddyinfo.after, ...), to compare with /proc.\n"
	"Exit: 0 ok, 1 out of memory, 2 bad arguments or trace.\n";

static const char *const op_names[NR_TRACE_OPS] = {
	"?",	    "alloc",	 "free",	"refill_marker", "drain_marker",
	"free_old", "drain_all", "stats_reset", "vmstat_tick",	 "report_mark"
};

/* 'trace dump' and 'trace snapshot'. */
static int trace_dump_main(int argc, char **argv)
{
	struct trace t;
	char err[256];
	size_t i;
	int rc = 0;

	if (argc != 3 + !strcmp(argv[1], "snapshot"))
		return wl_usage_error(
			"pcpbuddy trace", "needs: %s TRACE%s", argv[1],
			strcmp(argv[1], "snapshot") ? "" : " NAME");
	if (trace_load("pcpbuddy trace", argv[2], NULL, &t, err, sizeof(err))) {
		fprintf(stderr, "pcpbuddy trace: %s\n", err);
		return 2;
	}
	if (!strcmp(argv[1], "snapshot")) {
		char *sec = trace_meta_section(&t, argv[3]);

		if (sec)
			fputs(sec, stdout);
		else {
			fprintf(stderr,
				"pcpbuddy trace: %s has no snapshot '%s' (trace info lists them)\n",
				argv[2], argv[3]);
			rc = 2;
		}
		free(sec);
	} else {
		printf("index\ttime_ns\tcpu\top\tid\torder\tmigratetype\n");
		for (i = 0; i < t.n; i++) {
			const struct trace_event *e = &t.ev[i];

			printf("%zu\t%llu\t%u\t%s\t%u\t%u\t%s\n", i,
			       (unsigned long long)e->time_ns, e->cpu,
			       op_names[e->op < NR_TRACE_OPS ? e->op : 0],
			       e->id, e->info & 15,
			       pcpb_migratetype_name((e->info >> 4) & 3));
		}
	}
	trace_free(&t);
	return rc;
}

static const struct option help_only[] = {
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

int cmd_trace_info_main(int argc, char **argv)
{
	struct wl_args args;
	const char *word;
	int c, words;
	uint64_t ops[NR_TRACE_OPS] = { 0 }, orders[11] = { 0 }, mts[3] = { 0 },
		 cross = 0;
	uint64_t *cpus;
	uint16_t *alloc_cpu;
	struct trace t;
	char err[256];
	size_t i;

	/* No options but --help: the rest, in order, are the words. */
	wl_args_init(&args, "pcpbuddy trace", argc, argv, "h", help_only);
	for (words = 1; (c = wl_args_next(&args, &word)) != -1;) {
		if (c == 'h') {
			fputs(trace_usage, stdout);
			return 0;
		}
		if (c != 1)
			return 2;
		argv[words++] = (char *)word; /* argv is ours to reorder */
	}
	argc = words;
	if (argc > 1 &&
	    (!strcmp(argv[1], "dump") || !strcmp(argv[1], "snapshot")))
		return trace_dump_main(argc, argv);
	if (argc != 3 || strcmp(argv[1], "info"))
		return wl_usage_error(
			"pcpbuddy trace",
			"needs: info|dump TRACE, or snapshot TRACE NAME");
	if (trace_load("pcpbuddy trace", argv[2], NULL, &t, err, sizeof(err))) {
		fprintf(stderr, "pcpbuddy trace: %s\n", err);
		return 2;
	}
	cpus = calloc(t.h.nr_cpus + 1, sizeof(*cpus));
	alloc_cpu = calloc((size_t)t.n + 2, sizeof(*alloc_cpu));
	if (!cpus || !alloc_cpu) {
		free(cpus);
		free(alloc_cpu);
		trace_free(&t);
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
	{
		size_t vlen;
		uint64_t w_ev = 0, w_pages = 0, pages = 0;

		for (i = 0; i < t.n; i++) {
			const struct trace_event *e = &t.ev[i];
			bool w = e->info & TRACE_WORKLOAD;

			w_ev += w;
			if (e->op == TOP_ALLOC) {
				pages += 1ULL << (e->info & 15);
				w_pages += w ? 1ULL << (e->info & 15) : 0;
			}
		}
		if (trace_meta_get(&t, "workload_pids", &vlen) || w_ev)
			printf("workload share: %llu of %zu events, %llu of %llu pages allocated (%.1f%%); the rest is the machine's\n",
			       (unsigned long long)w_ev, t.n,
			       (unsigned long long)w_pages,
			       (unsigned long long)pages,
			       pages ? 100.0 * (double)w_pages / (double)pages
				     : 0);
	}
	if (t.meta)
		print_meta(&t);
	free(cpus);
	free(alloc_cpu);
	trace_free(&t);
	return 0;
}

/* ---- fidelity: the model against the kernel's own markers ---------------- */

static const char fidelity_usage[] =
	"usage: pcpbuddy fidelity TRACE [--tolerance PCT] [--slack N] [--json]\n"
	"                         [--zoneinfo FILE] [--zone NAME] [--cold]\n"
	"                         [--config k=v,...]\n"
	"\n"
	"Replays a kernel trace (a capture, an imported trace, or kmem text\n"
	"as it is) in simulation from the kernel's start state, under the\n"
	"kernel profile of the traced kernel, and compares, per CPU, what the\n"
	"model did with what the kernel's own markers show:\n"
	"  refill pages / refill locks: pages pulled into the PCP, and\n"
	"      zone->lock holds doing it (kernel: mm_page_alloc_zone_locked\n"
	"      with percpu_refill=1; one hold per run of them on a CPU)\n"
	"  drain pages / drain locks: pages drained from the PCP, and holds\n"
	"      (kernel: mm_page_pcpu_drain, one hold per run)\n"
	"The counts are of the trace's events only, not of the frees that\n"
	"return what is still allocated at its end.  A cell passes when the\n"
	"model is within the tolerance of the kernel; where the kernel saw 0\n"
	"the ratio is n/a (model 0) or inf.  Small counts pass within a\n"
	"slack, one hold and one batch of pages by default: which list holds a\n"
	"CPU's pages is not in the snapshot, so one refill more or less on a\n"
	"CPU that barely refills is the resolution of the start state.\n"
	"  --tolerance PCT  default 10\n"
	"  --slack N        absolute slack for every cell (default: 1 hold, batch pages)\n"
	"  --zoneinfo FILE  the start state for a trace without one\n"
	"  --zone NAME      the zone to replay (default: the capture's)\n"
	"  --cold           empty PCPs at high_min: the model without the state\n"
	"  --config k=v,... model keys (policy, kernel, batch, high_min, ...)\n"
	"  --batch B --high-min H --high-max H --memory SIZE\n"
	"                   the same as --config batch=B,... (older form)\n"
	"  --json           the cells and the verdict as JSON\n"
	"Exit: 0 every cell passes, 1 a cell fails or the check failed,\n"
	"2 bad arguments or trace.\n";

enum fid_flow {
	FID_REFILL_PAGES,
	FID_REFILL_LOCKS,
	FID_DRAIN_PAGES,
	FID_DRAIN_LOCKS,
	NR_FID_FLOWS
};
static const char *const fid_flow_names[NR_FID_FLOWS] = {
	"refill pages", "refill locks", "drain pages", "drain locks"
};

struct fid_cell {
	uint64_t kernel, model;
	double ratio; /* model / kernel; INFINITY, or NAN for n/a */
	bool pass;
};

/* The kernel's flows of one CPU, in fid_flow order. */
static uint64_t flow_of(const struct trace_kernel_flows *k, int f)
{
	const uint64_t v[NR_FID_FLOWS] = { k->refill_pages, k->refill_holds,
					   k->drain_pages, k->drain_holds };

	return v[f];
}

/* A cell passes within @tol of the kernel, or within @slack of it in
 * absolute terms (one hold, one batch: the resolution of the start
 * state, which does not say which list holds a CPU's pages). */
static struct fid_cell fid_cell(uint64_t kernel, uint64_t model, double tol,
				uint64_t slack)
{
	struct fid_cell c = { .kernel = kernel, .model = model };
	uint64_t diff = model > kernel ? model - kernel : kernel - model;

	if (!kernel)
		c.ratio = model ? INFINITY : NAN;
	else
		c.ratio = (double)model / (double)kernel;
	c.pass =
		diff <= slack || (kernel && fabs(c.ratio - 1.0) <= tol + 1e-12);
	return c;
}

static const char *fid_ratio_text(const struct fid_cell *c, char *buf,
				  size_t len)
{
	if (isnan(c->ratio))
		return "n/a";
	if (isinf(c->ratio))
		return "inf";
	snprintf(buf, len, "%.3f", c->ratio);
	return buf;
}

static json_t *fid_cell_json(int cpu, int flow, const struct fid_cell *c)
{
	json_t *o = json_object();

	if (cpu < 0)
		json_object_set_new(o, "cpu", json_string("all"));
	else
		json_object_set_new(o, "cpu", json_integer(cpu));
	json_object_set_new(o, "flow", json_string(fid_flow_names[flow]));
	json_object_set_new(o, "kernel", json_integer((json_int_t)c->kernel));
	json_object_set_new(o, "model", json_integer((json_int_t)c->model));
	if (isnan(c->ratio))
		json_object_set_new(o, "ratio", json_string("n/a"));
	else if (isinf(c->ratio))
		json_object_set_new(o, "ratio", json_string("inf"));
	else
		json_object_set_new(o, "ratio", json_real(c->ratio));
	json_object_set_new(o, "pass", json_boolean(c->pass));
	return o;
}

/* The replay's line without its wall-clock part ("; 0.003 s, ..."), so
 * that fidelity's output is the same on every run. */
static const char *without_timing(char *line)
{
	char *semi = strstr(line, "; "), *nl;

	if (semi) {
		nl = strchr(semi, '\n');
		memmove(semi, nl ? nl : semi + strlen(semi),
			strlen(nl ? nl : semi + strlen(semi)) + 1);
	}
	return line;
}

/* How far a cell is off, for "the worst cell": inf beats any ratio. */
static double fid_badness(const struct fid_cell *c)
{
	if (isnan(c->ratio))
		return 0;
	if (isinf(c->ratio))
		return HUGE_VAL;
	return fabs(c->ratio - 1.0);
}

static const struct option fidelity_options[] = {
	{ "help", no_argument, NULL, 'h' },
	{ "json", no_argument, NULL, 'j' },
	{ "cold", no_argument, NULL, 'c' },
	{ "tolerance", required_argument, NULL, 't' },
	{ "slack", required_argument, NULL, 's' },
	{ "zoneinfo", required_argument, NULL, 'z' },
	{ "zone", required_argument, NULL, 'Z' },
	{ "config", required_argument, NULL, 'C' },
	{ "batch", required_argument, NULL, 'b' },
	{ "high-min", required_argument, NULL, 'l' },
	{ "high-max", required_argument, NULL, 'u' },
	{ "memory", required_argument, NULL, 'm' },
	{ NULL, 0, NULL, 0 },
};

int cmd_fidelity_main(int argc, char **argv)
{
	struct wl_args args;
	const char *v;
	int opt;
	const struct workload *replay = wl_find("replay");
	struct trace_import_opts io = { 0 };
	struct wl_opts o;
	struct wl_result res = { 0 };
	struct pcpb_check_result check;
	struct trace_kernel_flows *k = NULL;
	struct fid_cell worst = { 0 };
	int worst_cpu = 0, worst_flow = 0, nr_failed = 0, nr_cells = 0;
	const char *path = NULL;
	double tol = 0.10;
	long slack = -1; /* -1: one hold and one batch */
	uint64_t slack_locks = 1, slack_pages = 0;
	bool json = false, cold = false;
	char err[600], cfgbuf[1024] = "policy=classic,lockstat=off";
	char a_prog[] = "pcpbuddy fidelity", a_trace[] = "--trace",
	     a_config[] = "--config", a_zoneinfo[] = "--zoneinfo",
	     a_zone[] = "--zone", a_cold[] = "--cold";
	char *rargv[16];
	int rargc = 0, rc, c, f;
	struct pcpb *inst = NULL;
	void *priv = NULL;
	struct trace t = { 0 };
	json_t *jcells = NULL, *top = NULL;

	wl_args_init(&args, "pcpbuddy fidelity", argc, argv, "h",
		     fidelity_options);
	while ((opt = wl_args_next(&args, &v)) != -1) {
		const char *key = NULL;
		size_t used = strlen(cfgbuf);
		char *end;

		switch (opt) {
		case 'h':
			fputs(fidelity_usage, stdout);
			return 0;
		case 'j':
			json = true;
			break;
		case 'c':
			cold = true;
			break;
		case 't':
			tol = strtod(v, &end) / 100.0;
			if (end == v || *end || !(tol >= 0 && tol < 100))
				return wl_usage_error(
					"pcpbuddy fidelity",
					"--tolerance: '%s' is not a percentage",
					v);
			break;
		case 's':
			slack = strtol(v, &end, 10);
			if (end == v || *end || slack < 0)
				return wl_usage_error(
					"pcpbuddy fidelity",
					"--slack: '%s' is not a count >= 0", v);
			break;
		case 'z':
			io.zoneinfo = v;
			break;
		case 'Z':
			io.zone = v;
			break;
		case 'C':
			snprintf(cfgbuf + used, sizeof(cfgbuf) - used, ",%s",
				 v);
			break;
		case 'b':
		case 'l':
		case 'u':
		case 'm':
			/* shorthands for the replay's config keys */
			key = opt == 'b'   ? "batch"
			      : opt == 'l' ? "high_min"
			      : opt == 'u' ? "high_max"
					   : "memory";
			snprintf(cfgbuf + used, sizeof(cfgbuf) - used, ",%s=%s",
				 key, v);
			break;
		case 1:
			if (!path) {
				path = v;
				break;
			}
			return wl_usage_error("pcpbuddy fidelity",
					      "unknown argument '%s'", v);
		default:
			return 2;
		}
	}
	if (!path)
		return wl_usage_error("pcpbuddy fidelity", "needs TRACE");
	if (!strcmp(path, "-"))
		return wl_usage_error(
			"pcpbuddy fidelity",
			"TRACE must be a file (it is read twice): import standard input first");
	/* The replay workload does the run: its options, start state and
	 * profile, exactly as 'pcpbuddy replay' would. */
	rargv[rargc++] = a_prog;
	rargv[rargc++] = a_trace;
	rargv[rargc++] = (char *)path;
	rargv[rargc++] = a_config;
	rargv[rargc++] = cfgbuf;
	if (io.zoneinfo) {
		rargv[rargc++] = a_zoneinfo;
		rargv[rargc++] = (char *)io.zoneinfo;
	}
	if (io.zone) {
		rargv[rargc++] = a_zone;
		rargv[rargc++] = (char *)io.zone;
	}
	if (cold)
		rargv[rargc++] = a_cold;
	rargv[rargc] = NULL;
	priv = calloc(1, replay->priv_size);
	if (!priv)
		return 1;
	rc = wl_prepare(replay, rargc, rargv, &o, priv);
	if (rc) {
		wl_free_priv(replay, priv);
		return 2;
	}
	if (trace_load("pcpbuddy fidelity", path, &io, &t, err, sizeof(err))) {
		fprintf(stderr, "pcpbuddy fidelity: %s\n", err);
		wl_free_priv(replay, priv);
		return 2;
	}
	rc = pcpb_create(&o.cfg, &inst);
	if (rc) {
		fprintf(stderr,
			"pcpbuddy fidelity: cannot create the instance: %s\n",
			wl_create_strerror(rc));
		trace_free(&t);
		wl_free_priv(replay, priv);
		return 1;
	}
	rc = replay->run(inst, &o, priv, &res);
	k = calloc(t.h.nr_cpus + 1, sizeof(*k));
	if (rc || !k || !res.pcp_by_cpu) {
		fprintf(stderr, "pcpbuddy fidelity: the replay failed\n");
		rc = 1;
		goto out;
	}
	trace_kernel_flows(&t, k);
	{
		char cfgtext[2048];
		size_t len;
		const char *rel = trace_meta_get(&t, "kernel_release", &len);
		struct pcpb_pageset ps;

		pcpb_node_pageset(inst, 0, &ps);
		if (slack >= 0)
			slack_locks = slack_pages = (uint64_t)slack;
		else
			slack_pages = (uint64_t)ps.batch;
		pcpb_config_format(pcpb_get_config(inst), cfgtext,
				   sizeof(cfgtext));
		if (json) {
			top = json_object();
			jcells = json_array();
			json_object_set_new(top, "schema",
					    json_integer(WL_JSON_SCHEMA));
			json_object_set_new(top, "trace", json_string(path));
			json_object_set_new(top, "source",
					    json_string(t.h.source));
			if (rel)
				json_object_set_new(top, "kernel_release",
						    json_stringn(rel, len));
			json_object_set_new(top, "config",
					    json_string(cfgtext));
			json_object_set_new(
				top, "replay",
				json_string(without_timing(res.line)));
			json_object_set_new(top, "tolerance",
					    json_real(tol * 100));
			json_object_set_new(
				top, "slack_locks",
				json_integer((json_int_t)slack_locks));
			json_object_set_new(
				top, "slack_pages",
				json_integer((json_int_t)slack_pages));
			json_object_set_new(top, "cells", jcells);
		} else {
			printf("fidelity: %s (%s%s%.*s), tolerance %g%% or %llu holds, %llu pages\n"
			       "model: %s\n%s\n",
			       path, t.h.source, rel ? ", kernel " : "",
			       rel ? (int)len : 0, rel ? rel : "", tol * 100,
			       (unsigned long long)slack_locks,
			       (unsigned long long)slack_pages, cfgtext,
			       without_timing(res.line));
			printf("%4s %-13s %12s %12s %8s  %s\n", "cpu", "flow",
			       "kernel", "model", "ratio", "verdict");
		}
	}
	for (c = -1; c < (int)t.h.nr_cpus; c++) {
		for (f = 0; f < NR_FID_FLOWS; f++) {
			static const int model_of[NR_FID_FLOWS] = {
				PCPB_PCP_refill_pages, PCPB_PCP_refills,
				PCPB_PCP_drain_pages, PCPB_PCP_drains
			};
			uint64_t kv = 0, mv = 0;
			struct fid_cell cell;
			char rbuf[32], cpu[8];
			int x;

			/* c == -1: the sum over CPUs, printed first */
			for (x = c < 0 ? 0 : c;
			     x < (c < 0 ? (int)t.h.nr_cpus : c + 1); x++) {
				kv += flow_of(&k[x], f);
				if (x < res.nr_cpus)
					mv += res.pcp_by_cpu[x][model_of[f]];
			}
			cell = fid_cell(kv, mv, tol,
					f == FID_REFILL_LOCKS ||
							f == FID_DRAIN_LOCKS
						? slack_locks
						: slack_pages);
			if (c >= 0) {
				nr_cells++;
				if (!cell.pass)
					nr_failed++;
				/* failing cells first, then the farthest */
				if (nr_cells == 1 ||
				    (!cell.pass && worst.pass) ||
				    (cell.pass == worst.pass &&
				     fid_badness(&cell) >
					     fid_badness(&worst))) {
					worst = cell;
					worst_cpu = c;
					worst_flow = f;
				}
			}
			if (json) {
				json_array_append_new(
					jcells, fid_cell_json(c, f, &cell));
				continue;
			}
			snprintf(cpu, sizeof(cpu), c < 0 ? "all" : "%d", c);
			printf("%4s %-13s %12llu %12llu %8s  %s\n", cpu,
			       fid_flow_names[f],
			       (unsigned long long)cell.kernel,
			       (unsigned long long)cell.model,
			       fid_ratio_text(&cell, rbuf, sizeof(rbuf)),
			       cell.pass ? "PASS" : "FAIL");
		}
	}
	if (pcpb_check(inst, &check) || check.pages_allocated) {
		fprintf(stderr, "pcpbuddy fidelity: check failed: %s\n",
			check.msg);
		rc = 1;
	}
	{
		char rbuf[32];

		if (json) {
			json_t *w =
				fid_cell_json(worst_cpu, worst_flow, &worst);

			json_object_set_new(top, "worst", w);
			json_object_set_new(top, "cells_failed",
					    json_integer(nr_failed));
			json_object_set_new(top, "pass",
					    json_boolean(!nr_failed));
			json_dumpf(top, stdout, JSON_INDENT(1));
			printf("\n");
		} else {
			printf("worst: cpu %d %s: kernel %llu, model %llu, ratio %s\n",
			       worst_cpu, fid_flow_names[worst_flow],
			       (unsigned long long)worst.kernel,
			       (unsigned long long)worst.model,
			       fid_ratio_text(&worst, rbuf, sizeof(rbuf)));
			printf("verdict: %s: %d of %d cells within %g%% (or the slack)\n",
			       nr_failed ? "FAIL" : "PASS",
			       nr_cells - nr_failed, nr_cells, tol * 100);
		}
	}
	if (!rc && nr_failed)
		rc = 1;
out:
	json_decref(top);
	pcpb_destroy(inst);
	wl_result_free(&res);
	wl_free_priv(replay, priv);
	free(k);
	trace_free(&t);
	return rc ? 1 : 0;
}
