// SPDX-License-Identifier: GPL-2.0-only OR MIT
/*
 * calibrate.c - 'pcpbuddy calibrate [-o FILE] [--runs R] [--json]': the
 * modelled zone->lock hold's costs (hold_cost: ns per free-list operation,
 * pfn-scan step, fallback search, page moved, and per hold) measured on
 * the machine at hand, from the model's own uncontended runs.
 *
 * Each benchmark is a `sim` run (one thread, so no hold waits or is
 * preempted by a waiter's wakeup) chosen for a different mix of work:
 * single pages without PCPs, refills and drains of small and large
 * batches, an exit avalanche drained in chunks and in whole holds,
 * fallback-heavy fragmentation under the four fallback modes.  Its work
 * counters repeat exactly; its measured hold time varies, so each runs R
 * times interleaved and the smallest total is kept: the host's noise
 * (preemption, other tenants' cache traffic) only ever adds time, and the
 * minimum moved the costs less than the median did (docs/design.md has
 * the spread).  The costs are the least-squares fit of total hold ns
 * against the work counts, each benchmark weighted by the inverse of its total (so a
 * small benchmark counts as much as a large one), by GSL's multifit;
 * a cost that fits negative is dropped (0) and the rest refitted.
 *
 * The file has one "hold_cost=F:S:L:M:H" line and comments naming the
 * machine; --config hold_cost=@FILE uses it, and reports name it.
 *
 * Invariants: nothing is written unless every run passed its check.
 * Locking: one instance at a time.
 */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <time.h>

#include <gsl/gsl_multifit.h>
#include <jansson.h>

#include "../util/number.h"
#include "../util/outfile.h"
#include "commands.h"
#include "runs.h"

static const char calibrate_usage[] =
	"usage: pcpbuddy calibrate [-o FILE] [--runs R] [--json]\n"
	"\n"
	"Measures the modelled zone->lock hold's costs on this machine: ns per\n"
	"free-list operation, pfn-scan step, fallback search, page moved and per\n"
	"hold, fitted (least squares, GSL) to the hold times of the model's own\n"
	"one-thread benchmarks, which mix the five kinds of work differently.\n"
	"Writes FILE (default hold_cost.txt) with one hold_cost= line; use it\n"
	"with --config hold_cost=@FILE, and reports name the file.\n"
	"\n"
	"  -o FILE    where the costs go\n"
	"  --runs R   runs per benchmark, interleaved; the fastest counts\n"
	"             (default 5, 1..25)\n"
	"  --json     the benchmarks, the fit and the costs as JSON\n"
	"Run it on a quiet machine: the fit is of measured times.\n"
	"Exit: 0 ok, 1 a run failed or nothing could be fitted, 2 bad arguments.\n";

enum { K_FREELIST, K_SCAN, K_FALLBACK, K_MOVED, K_HOLDS, NR_KINDS };
static const char *const kind_names[NR_KINDS] = {
	"freelist_op", "pfn_scan_step", "fallback_search", "page_moved", "hold"
};

/* sim's models, each for a different mix of the five kinds */
static const struct bench {
	const char *name, *args;
} benches[] = {
	{ "pages, no PCP",
	  "--model mixed --ops 30000 --config cpus=4,pcp=off" },
	{ "refill batch 7",
	  "--model mixed --ops 100000 --config cpus=4,batch=7,high_min=7,high_max=7,pcp_high=fixed" },
	{ "refill batch 63",
	  "--model mixed --ops 100000 --config cpus=4,batch=63,high_min=63,high_max=63,pcp_high=fixed" },
	{ "exit avalanche", "--model exit --ops 20000 --config cpus=8" },
	{ "exit, whole drains",
	  "--model exit --ops 20000 --config cpus=8,drain=single" },
	{ "fragment cached", "--model fragment --ops 20000 --config cpus=8" },
	{ "fragment legacy",
	  "--model fragment --ops 20000 --config cpus=8,fallback=legacy" },
	{ "fragment hygiene",
	  "--model fragment --ops 20000 --config cpus=8,fallback=hygiene" },
	{ "fragment smallest",
	  "--model fragment --ops 20000 --config cpus=8,fallback=smallest" },
};
#define NR_BENCHES ((int)(sizeof(benches) / sizeof(benches[0])))

struct bench_result {
	double work[NR_KINDS]; /* the same every run */
	double ns[MAX_RUNS];   /* total zone->lock hold ns per run */
	double best_ns, model_ns;
};

/* A benchmark's sim options, parsed once: what run_one() takes. */
struct bench_run {
	struct wl_opts o;
	void *priv;
	struct config_runs c; /* "default": the options as they are */
};

static int prepare_bench(const struct bench *b, struct bench_run *br)
{
	char args[256], *argv[32], *save = NULL, *tok;
	int argc = 0, rc = 0;

	snprintf(args, sizeof(args), "calibrate %s", b->args);
	for (tok = strtok_r(args, " ", &save); tok && argc < 31;
	     tok = strtok_r(NULL, " ", &save))
		argv[argc++] = tok;
	argv[argc] = NULL;
	br->c.kv = "default";
	return prepare_runs("pcpbuddy calibrate", wl_find("sim"), argc, argv,
			    &br->o, &br->priv, &br->c, 1, &rc)
		       ? 0
		       : -EINVAL;
}

/* Run @r of @b: its work and hold total into @out. */
static int run_bench(struct bench_run *b, struct bench_result *out, int r)
{
	struct pcpb_stats st;

	if (run_one(wl_find("sim"), &b->o, b->priv, &b->c, r, false, &st))
		return -EUCLEAN;
	out->work[K_FREELIST] = (double)st.work[PCPB_WORK_freelist_ops];
	out->work[K_SCAN] = (double)st.work[PCPB_WORK_pfn_scan_steps];
	out->work[K_FALLBACK] = (double)st.work[PCPB_WORK_fallback_searches];
	out->work[K_MOVED] = (double)(st.work[PCPB_WORK_pages_moved_zone] +
				      st.work[PCPB_WORK_pages_moved_block]);
	out->work[K_HOLDS] = (double)st.zone_lock.all.acquisitions;
	out->ns[r] = (double)st.zone_lock.all.hold_ns.total_ns;
	return 0;
}

/*
 * The non-negative weighted least-squares costs: minimise the sum over
 * benchmarks of ((work . cost - ns) / ns)^2 with GSL, dropping the most
 * negative cost (and any kind no benchmark did) until none is negative.
 * Return: 0, or -EDOM when no cost could be fitted.
 */
static int fit_costs(struct bench_result *br, double cost[NR_KINDS],
		     double *rms)
{
	bool on[NR_KINDS];
	int k, j;

	for (k = 0; k < NR_KINDS; k++) {
		on[k] = false;
		for (j = 0; j < NR_BENCHES; j++)
			on[k] |= br[j].work[k] > 0;
	}
	for (;;) {
		int cols[NR_KINDS], p = 0, worst = -1;
		gsl_multifit_linear_workspace *ws;
		gsl_matrix *X, *cov;
		gsl_vector *y, *c;
		double chisq, sum = 0;

		for (k = 0; k < NR_KINDS; k++)
			if (on[k])
				cols[p++] = k;
		if (!p || p > NR_BENCHES)
			return -EDOM;
		X = gsl_matrix_alloc(NR_BENCHES, (size_t)p);
		y = gsl_vector_alloc(NR_BENCHES);
		c = gsl_vector_alloc((size_t)p);
		cov = gsl_matrix_alloc((size_t)p, (size_t)p);
		ws = gsl_multifit_linear_alloc(NR_BENCHES, (size_t)p);
		for (j = 0; j < NR_BENCHES; j++) {
			for (k = 0; k < p; k++)
				gsl_matrix_set(X, (size_t)j, (size_t)k,
					       br[j].work[cols[k]] /
						       br[j].best_ns);
			gsl_vector_set(y, (size_t)j, 1.0);
		}
		gsl_multifit_linear(X, y, c, cov, &chisq, ws);
		for (k = 0; k < NR_KINDS; k++)
			cost[k] = 0;
		for (k = 0; k < p; k++) {
			cost[cols[k]] = gsl_vector_get(c, (size_t)k);
			if (cost[cols[k]] < 0 &&
			    (worst < 0 || cost[cols[k]] < cost[worst]))
				worst = cols[k];
		}
		gsl_multifit_linear_free(ws);
		gsl_matrix_free(X);
		gsl_matrix_free(cov);
		gsl_vector_free(y);
		gsl_vector_free(c);
		if (worst >= 0) {
			on[worst] = false;
			continue;
		}
		for (j = 0; j < NR_BENCHES; j++) {
			double e;

			br[j].model_ns = 0;
			for (k = 0; k < NR_KINDS; k++)
				br[j].model_ns += cost[k] * br[j].work[k];
			e = (br[j].model_ns - br[j].best_ns) / br[j].best_ns;
			sum += e * e;
		}
		*rms = sqrt(sum / NR_BENCHES);
		return 0;
	}
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* "model name" of /proc/cpuinfo, or "?" */
static void cpu_model(char *buf, size_t len)
{
	FILE *f = fopen("/proc/cpuinfo", "re");
	char line[256];

	snprintf(buf, len, "?");
	while (f && fgets(line, sizeof(line), f))
		if (!strncmp(line, "model name", 10) && strchr(line, ':')) {
			snprintf(buf, len, "%s", strchr(line, ':') + 2);
			buf[strcspn(buf, "\n")] = '\0';
			break;
		}
	if (f)
		fclose(f);
}

static int write_costs(const char *path, const double cost[NR_KINDS],
		       double rms, int runs)
{
	char cpu[128], when[32];
	struct utsname u;
	struct outfile of;
	time_t now = time(NULL);
	int err;

	cpu_model(cpu, sizeof(cpu));
	if (uname(&u))
		snprintf(u.nodename, sizeof(u.nodename), "?");
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%MZ", gmtime(&now));
	err = outfile_open(&of, path);
	if (err)
		return err;
	fprintf(of.f,
		"# pcpbuddy %s calibrate, %s: ns per free-list operation, pfn-scan\n"
		"# step, fallback search, page moved, and per zone->lock hold\n"
		"# machine: %s, %s, kernel %s; %d benchmarks x %d runs, relative rms error %.1f%%\n"
		"hold_cost=%.4g:%.4g:%.4g:%.4g:%.4g\n",
		PCPB_VERSION, when, u.nodename, cpu, u.release, NR_BENCHES,
		runs, 100 * rms, cost[0], cost[1], cost[2], cost[3], cost[4]);
	return outfile_commit(&of);
}

static const struct option calibrate_options[] = {
	{ "help", no_argument, NULL, 'h' },
	{ "output", required_argument, NULL, 'o' },
	{ "json", no_argument, NULL, 'j' },
	{ "runs", required_argument, NULL, 'r' },
	{ NULL, 0, NULL, 0 },
};

int cmd_calibrate_main(int argc, char **argv)
{
	struct wl_args args;
	const char *val;
	int c;
	static struct bench_result br[NR_BENCHES];
	static struct bench_run prep[NR_BENCHES];
	const char *out = "hold_cost.txt";
	double cost[NR_KINDS], rms, x;
	bool json = false;
	int j, k, r, runs = 5, rc;

	wl_args_init(&args, "pcpbuddy calibrate", argc, argv,
		     "ho:", calibrate_options);
	while ((c = wl_args_next(&args, &val)) != -1) {
		switch (c) {
		case 'h':
			fputs(calibrate_usage, stdout);
			return 0;
		case 'o':
			out = val;
			break;
		case 'j':
			json = true;
			break;
		case 'r':
			if (parse_number(val, 1, MAX_RUNS, true, &x))
				return wl_usage_error(
					"pcpbuddy calibrate",
					"--runs: '%s' is not in 1..%d", val,
					MAX_RUNS);
			runs = (int)x;
			break;
		case 1:
			return wl_usage_error("pcpbuddy calibrate",
					      "unknown argument '%s'", val);
		default:
			return 2;
		}
	}
	memset(br, 0, sizeof(br));
	for (j = 0; j < NR_BENCHES; j++)
		if (prepare_bench(&benches[j], &prep[j])) {
			while (j--)
				wl_free_priv(wl_find("sim"), prep[j].priv);
			return 1;
		}
	/* interleaved, as compare: a drift of the machine reaches them all */
	rc = 0;
	for (r = 0; r < runs && !rc; r++)
		for (j = 0; j < NR_BENCHES && !rc; j++) {
			wl_progress("calibrate", r * NR_BENCHES + j,
				    runs * NR_BENCHES, 0);
			rc = run_bench(&prep[j], &br[j], r);
			if (rc)
				fprintf(stderr, "pcpbuddy calibrate: %s: %s\n",
					benches[j].name, strerror(-rc));
		}
	wl_progress_done(runs * NR_BENCHES);
	for (j = 0; j < NR_BENCHES; j++)
		wl_free_priv(wl_find("sim"), prep[j].priv);
	if (rc)
		return 1;
	for (j = 0; j < NR_BENCHES; j++) {
		double sorted[MAX_RUNS];

		/* The least disturbed run: the host only ever adds time. */
		memcpy(sorted, br[j].ns, sizeof(sorted[0]) * (size_t)runs);
		qsort(sorted, (size_t)runs, sizeof(sorted[0]), cmp_double);
		br[j].best_ns = sorted[0];
		if (!(br[j].best_ns > 0)) {
			fprintf(stderr,
				"pcpbuddy calibrate: %s: no timed hold (lockstat off?)\n",
				benches[j].name);
			return 1;
		}
	}
	if (fit_costs(br, cost, &rms)) {
		fprintf(stderr,
			"pcpbuddy calibrate: no cost could be fitted\n");
		return 1;
	}
	rc = write_costs(out, cost, rms, runs);
	if (rc) {
		fprintf(stderr, "pcpbuddy calibrate: -o %s: %s\n", out,
			strerror(-rc));
		return 1;
	}
	if (json) {
		json_t *root = json_pack(
			"{s:i, s:s, s:i, s:{}, s:f, s:[]}", "schema",
			WL_JSON_SCHEMA, "file", out, "runs", runs, "costs_ns",
			"relative_rms_error", rms, "benchmarks");

		for (k = 0; k < NR_KINDS; k++)
			json_object_set_new(json_object_get(root, "costs_ns"),
					    kind_names[k], json_real(cost[k]));
		for (j = 0; j < NR_BENCHES; j++) {
			json_t *b = json_pack("{s:s, s:s, s:{}, s:f, s:f}",
					      "name", benches[j].name, "sim",
					      benches[j].args, "work",
					      "measured_ns", br[j].best_ns,
					      "modelled_ns", br[j].model_ns);

			for (k = 0; k < NR_KINDS; k++)
				json_object_set_new(
					json_object_get(b, "work"),
					kind_names[k],
					json_integer(
						(json_int_t)br[j].work[k]));
			json_array_append_new(
				json_object_get(root, "benchmarks"), b);
		}
		json_dumpf(root, stdout, JSON_INDENT(2));
		fputc('\n', stdout);
		json_decref(root);
		return 0;
	}
	printf("calibrate: %d benchmarks x %d runs (sim, one thread, uncontended); "
	       "the fastest run's total zone->lock hold per benchmark\n",
	       NR_BENCHES, runs);
	printf("%-18s %9s %10s %9s %9s %9s %13s %13s %7s\n", "benchmark",
	       "holds", "list ops", "scan", "fallback", "moved", "measured ns",
	       "modelled ns", "error");
	for (j = 0; j < NR_BENCHES; j++)
		printf("%-18s %9.0f %10.0f %9.0f %9.0f %9.0f %13.0f %13.0f %6.1f%%\n",
		       benches[j].name, br[j].work[K_HOLDS],
		       br[j].work[K_FREELIST], br[j].work[K_SCAN],
		       br[j].work[K_FALLBACK], br[j].work[K_MOVED],
		       br[j].best_ns, br[j].model_ns,
		       100 * (br[j].model_ns - br[j].best_ns) / br[j].best_ns);
	printf("hold_cost=%.4g:%.4g:%.4g:%.4g:%.4g  (ns per free-list op, pfn-scan step, "
	       "fallback search, page moved, hold; relative rms error %.1f%%)\n",
	       cost[0], cost[1], cost[2], cost[3], cost[4], 100 * rms);
	printf("wrote %s; use it with --config hold_cost=@%s\n", out, out);
	return 0;
}
