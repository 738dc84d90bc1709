// SPDX-License-Identifier: GPL-2.0-only OR MIT
/*
 * compare.c - 'pcpbuddy compare WORKLOAD --configs A B ... [--runs R]': the
 * same workload and seed on one fresh instance per configuration, runs
 * interleaved A B A B ..., one table of medians (min..max) with a ratio
 * column against the first configuration.  --json embeds each
 * configuration's full report (of its last run); --csv prints one row per
 * configuration.
 *
 * Invariants: every run ends with pcpb_check() passing and no page
 * allocated, or compare fails with exit code 1.
 * Locking: one instance at a time; the driver owns its threads.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "workloads.h"

#define MAX_CONFIGS 16
#define MAX2(a, b) ((a) > (b) ? (a) : (b))
#define MAX_RUNS 25

/* clang-format off */
#define COMPARE_METRICS(X)						\
	X(throughput, "ops/s", 0)					\
	X(zone_acq_per_1k_pages, "zone acq/1k pages", 2)		\
	X(zone_moved_per_1k_pages, "moved/1k pages", 0)		\
	X(pfn_scan_per_1k_pages, "scan/1k pages", 1)		\
	X(freelist_ops_per_1k_pages, "list ops/1k pages", 0)	\
	X(zone_hold_p50, "hold p50", 0)				\
	X(zone_hold_p99, "hold p99", 0)				\
	X(zone_hold_max, "hold max", 0)				\
	X(zone_wait_p99, "wait p99", 0)				\
	X(pcp_hit_rate, "pcp hit", 3)				\
	X(fallback_searches, "fallbacks", 0)			\
	X(claims, "claims", 0)					\
	X(refill_hold_max, "refill max ns", 0)			\
	X(refill_cost_max, "refill cost", 0)			\
	X(phase0_scan_max, "p0 scan max", 0)			\
	X(blocks_claimed, "blocks claimed", 0)			\
	X(mixed_pageblocks, "mixed blocks", 0)			\
	X(free_pages_order9, "free >=9", 0)			\
	X(alloc_pages, "pages", 0)
/* clang-format on */
#define METRIC_ENUM(name, title, fmt) M_##name,
enum { COMPARE_METRICS(METRIC_ENUM) NR_METRICS };
#define METRIC_NAME(name, title, fmt) #name,
static const char *const metric_names[] = { COMPARE_METRICS(METRIC_NAME) };
#define METRIC_TITLE(name, title, fmt) title,
static const char *const metric_titles[] = { COMPARE_METRICS(METRIC_TITLE) };
#define METRIC_DECIMALS(name, title, decimals) decimals,
static const int metric_decimals[] = { COMPARE_METRICS(METRIC_DECIMALS) };

struct config_runs {
	const char *kv;
	double m[MAX_RUNS][NR_METRICS];
	double median[NR_METRICS], lo[NR_METRICS], hi[NR_METRICS];
	char *report; /* JSON of the last run */
};

static const char compare_usage[] =
	"usage: pcpbuddy compare WORKLOAD --configs K=V,... K=V,... [--runs R]\n"
	"                        [workload options] [--json|--csv]\n"
	"\n"
	"Runs WORKLOAD once per configuration (each on a fresh instance, same\n"
	"seed), R times interleaved A B A B ..., and prints one table: medians\n"
	"with min..max over the runs, and ratios against the first config.\n"
	"--config applies to every configuration; --configs entries on top.\n"
	"\n"
	"  --configs A B ...  two or more k=v,... strings (up to 16)\n"
	"  --runs R           runs per configuration, 1..25 (default 1)\n"
	"  --metrics a,b,...  the table's columns (JSON and CSV keep all):\n"
	"                     throughput, zone_acq_per_1k_pages, zone_hold_p50,\n"
	"                     zone_hold_p99, zone_hold_max, zone_wait_p99,\n"
	"                     pcp_hit_rate, fallback_searches, claims,\n"
	"                     refill_hold_max, refill_cost_max, phase0_scan_max,\n"
	"                     blocks_claimed, mixed_pageblocks,\n"
	"                     free_pages_order9, alloc_pages\n"
	"Exit: 0 ok, 1 a run failed its invariant check, 2 bad arguments.\n";

static void metrics_of(struct pcpb *inst, const struct wl_result *res,
		       double *m)
{
	struct pcpb_stats st;
	double pages;

	if (res->stats)
		st = *res->stats;
	else
		pcpb_stats_read(inst, &st);
	pages = (double)(res->pages ? res->pages : st.ops[PCPB_OP_alloc_pages]);
	m[M_throughput] =
		res->seconds > 0 ? (double)res->ops / res->seconds : 0;
	m[M_zone_acq_per_1k_pages] =
		pages ? 1000.0 * (double)st.zone_lock.all.acquisitions / pages
		      : 0;
	m[M_zone_moved_per_1k_pages] =
		pages ? 1000.0 * (double)st.work[PCPB_WORK_pages_moved_zone] /
				pages
		      : 0;
	m[M_pfn_scan_per_1k_pages] =
		pages ? 1000.0 * (double)st.work[PCPB_WORK_pfn_scan_steps] /
				pages
		      : 0;
	m[M_freelist_ops_per_1k_pages] =
		pages ? 1000.0 * (double)st.work[PCPB_WORK_freelist_ops] / pages
		      : 0;
	m[M_zone_hold_p50] = (double)st.zone_lock.all.hold_ns.p50;
	m[M_zone_hold_p99] = (double)st.zone_lock.all.hold_ns.p99;
	m[M_zone_hold_max] = (double)st.zone_lock.all.hold_ns.max;
	m[M_zone_wait_p99] = (double)st.zone_lock.all.wait_ns.p99;
	m[M_pcp_hit_rate] = st.ops[PCPB_OP_alloc]
				    ? (double)st.pcp[PCPB_PCP_hits] /
					      (double)st.ops[PCPB_OP_alloc]
				    : 0;
	m[M_fallback_searches] = (double)st.work[PCPB_WORK_fallback_searches];
	m[M_claims] = (double)st.work[PCPB_WORK_claims];
	m[M_refill_hold_max] =
		(double)MAX2(st.zone_lock.sites[PCPB_SITE_refill].hold_ns.max,
			     st.zone_lock.sites[PCPB_SITE_phase3].hold_ns.max);
	m[M_refill_cost_max] = (double)st.work[PCPB_WORK_refill_cost_max];
	m[M_phase0_scan_max] = (double)st.owner[PCPB_OWN_phase0_scan_max];
	m[M_blocks_claimed] = (double)st.owner[PCPB_OWN_blocks_claimed];
	m[M_mixed_pageblocks] = (double)st.mixed_pageblocks;
	m[M_free_pages_order9] = (double)(st.free_blocks_by_order[9] * 512 +
					  st.free_blocks_by_order[10] * 1024);
	m[M_alloc_pages] = pages;
}

static void summarize_runs(struct config_runs *c, int runs)
{
	double v[MAX_RUNS];
	int k, r;

	for (k = 0; k < NR_METRICS; k++) {
		for (r = 0; r < runs; r++)
			v[r] = c->m[r][k];
		c->median[k] = wl_median(v, runs);
		c->lo[k] = v[0];
		c->hi[k] = v[runs - 1];
	}
}

static char *report_json(struct pcpb *inst, const struct pcpb_stats *st)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	if (!f)
		return NULL;
	if (st)
		pcpb_report_stats(inst, st, f, PCPB_FMT_JSON);
	else
		pcpb_report(inst, f, PCPB_FMT_JSON);
	fclose(f);
	/* Drop the trailing newline: the report nests in our JSON. */
	if (len && buf[len - 1] == '\n')
		buf[len - 1] = '\0';
	return buf;
}

/* One run of @w on a fresh instance.  Return: 0, or 1 on a failed check. */
/*
 * Apply one --configs string: driver keys (w->set) to @priv, the rest to
 * @cfg, all or nothing for @cfg.  Return: 0 or -EINVAL with @err filled.
 */
static int apply_kv(const struct workload *w, const char *kv,
		    struct pcpb_config *cfg, void *priv, char *err, size_t len)
{
	struct pcpb_config tmp = *cfg;
	char buf[1024], *save = NULL, *tok;

	if (strlen(kv) >= sizeof(buf)) {
		snprintf(err, len, "too long");
		return -EINVAL;
	}
	strcpy(buf, kv);
	for (tok = strtok_r(buf, ",", &save); tok;
	     tok = strtok_r(NULL, ",", &save)) {
		char *eq = strchr(tok, '=');
		int rc = -ENOENT;

		if (!eq) {
			snprintf(err, len, "'%s' is not key=value", tok);
			return -EINVAL;
		}
		*eq = '\0';
		rc = wl_option_set(w, priv, tok, eq + 1);
		if (rc == -ENOENT)
			rc = pcpb_config_set(&tmp, tok, eq + 1);
		if (rc) {
			snprintf(err, len, "bad value '%s' for key '%s'",
				 eq + 1, tok);
			return -EINVAL;
		}
	}
	if (w->check && w->check(priv, err, len))
		return -EINVAL;
	if (pcpb_config_parse(&tmp, "", err, len))
		return -EINVAL;
	*cfg = tmp;
	return 0;
}

/*
 * Collect the strings after --configs at argv[*i]; they end at the first
 * argument starting with '-' (config strings never do).
 * Return: 0, or 2 after an error message.
 */
static int take_configs(int argc, char **argv, int *i, struct config_runs *cs,
			int *n, const char *cmd)
{
	while (*i + 1 < argc && argv[*i + 1][0] != '-') {
		if (*n == MAX_CONFIGS)
			return wl_usage_error(cmd, "--configs: at most %d",
					      MAX_CONFIGS);
		cs[(*n)++].kv = argv[++*i];
	}
	return 0;
}

/* Return: the index of the first entry that does not apply, or -1. */
static int validate_configs(const struct workload *w,
			    const struct pcpb_config *base, const void *priv,
			    const struct config_runs *cs, int n, char *err,
			    size_t len)
{
	int i;

	for (i = 0; i < n; i++) {
		void *probe_priv = malloc(w->priv_size ? w->priv_size : 1);
		struct pcpb_config probe = *base;
		int bad;

		if (probe_priv)
			memcpy(probe_priv, priv, w->priv_size);
		bad = !probe_priv ||
		      apply_kv(w, cs[i].kv, &probe, probe_priv, err, len);
		free(probe_priv);
		if (bad)
			return i;
	}
	return -1;
}

static int run_one(const struct workload *w, const struct wl_opts *base,
		   const void *priv_proto, struct config_runs *c, int r,
		   bool keep_report)
{
	struct wl_opts o = *base;
	struct pcpb_check_result check;
	struct wl_result res;
	struct pcpb *inst;
	char err[256], line[320];
	void *priv = malloc(w->priv_size ? w->priv_size : 1);
	int rc;

	if (!priv)
		return 1;
	memcpy(priv, priv_proto, w->priv_size);
	if (apply_kv(w, c->kv, &o.cfg, priv, err, sizeof(err))) {
		fprintf(stderr, "compare: config '%s': %s\n", c->kv, err);
		free(priv);
		return 1;
	}
	rc = pcpb_create(&o.cfg, &inst);
	if (rc) {
		fprintf(stderr, "compare: config '%s': %s\n", c->kv,
			wl_create_strerror(rc));
		free(priv);
		return 1;
	}
	memset(&res, 0, sizeof(res));
	rc = wl_run_with_pressure(w, inst, &o, priv, &res, line, sizeof(line));
	free(res.table);
	free(priv);
	if (!rc)
		metrics_of(inst, &res, c->m[r]);
	if (!rc && (pcpb_check(inst, &check) || check.pages_allocated)) {
		fprintf(stderr, "compare: '%s' run %d: check failed: %s\n",
			c->kv, r + 1, check.msg);
		rc = 1;
	}
	if (!rc && keep_report) {
		free(c->report);
		c->report = report_json(inst, res.stats);
	}
	free(res.stats);
	pcpb_destroy(inst);
	return rc ? 1 : 0;
}

static unsigned int shown = ~0U; /* --metrics: the table's columns */

static int column_width(int k)
{
	int title = (int)strlen(metric_titles[k]) + 1;

	if (k == M_throughput)
		return 26;
	if (k == M_zone_acq_per_1k_pages)
		return 24;
	return title > 12 ? title : 12;
}

static int parse_metrics(const char *list)
{
	char buf[512], *save = NULL, *tok;
	int k;

	if (strlen(list) >= sizeof(buf))
		return -1;
	strcpy(buf, list);
	shown = 0;
	for (tok = strtok_r(buf, ",", &save); tok;
	     tok = strtok_r(NULL, ",", &save)) {
		for (k = 0; k < NR_METRICS; k++)
			if (!strcmp(tok, metric_names[k]))
				break;
		if (k == NR_METRICS)
			return -1;
		shown |= 1U << k;
	}
	return shown ? 0 : -1;
}

static void print_table(const char *name, struct config_runs *cs, int n,
			int runs)
{
	int i, k;

	printf("compare %s: %d configurations x %d run%s; medians", name, n,
	       runs, runs > 1 ? "s" : "");
	if (runs > 1)
		printf(", [min..max] for throughput and zone locks");
	printf("; ratio = throughput / first config's\n\n");
	printf("%-44s %7s", "config", "ratio");
	for (k = 0; k < NR_METRICS; k++)
		if (shown & (1U << k))
			printf(" %*s", column_width(k), metric_titles[k]);
	printf("\n");
	for (i = 0; i < n; i++) {
		struct config_runs *c = &cs[i];
		double base = cs[0].median[M_throughput];

		printf("%-44.44s %7.3f", c->kv,
		       base > 0 ? c->median[M_throughput] / base : 0);
		for (k = 0; k < NR_METRICS; k++) {
			int d = metric_decimals[k];
			char cell[96];

			if (!(shown & (1U << k)))
				continue;
			if (runs > 1 &&
			    (k == M_throughput || k == M_zone_acq_per_1k_pages))
				snprintf(cell, sizeof(cell),
					 "%.*f [%.*f..%.*f]", d, c->median[k],
					 d, c->lo[k], d, c->hi[k]);
			else
				snprintf(cell, sizeof(cell), "%.*f", d,
					 c->median[k]);
			printf(" %*s", column_width(k), cell);
		}
		printf("\n");
	}
}

static void print_json(const char *name, const struct wl_opts *o,
		       struct config_runs *cs, int n, int runs)
{
	int i, k;

	printf("{\n  \"workload\": \"%s\",\n  \"runs\": %d,\n  \"seed\": %llu,\n"
	       "  \"results\": [",
	       name, runs, (unsigned long long)o->seed);
	for (i = 0; i < n; i++) {
		const char *parts[3] = { "median", "min", "max" };
		double *vals[3] = { cs[i].median, cs[i].lo, cs[i].hi };
		int p;

		printf("%s\n    {\n      \"config\": \"%s\",\n", i ? "," : "",
		       cs[i].kv);
		printf("      \"ratio_throughput\": %.6g,\n",
		       cs[0].median[M_throughput] > 0
			       ? cs[i].median[M_throughput] /
					 cs[0].median[M_throughput]
			       : 0);
		for (p = 0; p < 3; p++) {
			printf("      \"%s\": {", parts[p]);
			for (k = 0; k < NR_METRICS; k++)
				printf("%s\"%s\": %.6g", k ? ", " : "",
				       metric_names[k], vals[p][k]);
			printf("},\n");
		}
		printf("      \"report\": %s\n    }",
		       cs[i].report ? cs[i].report : "null");
	}
	printf("\n  ]\n}\n");
}

static void print_csv(struct config_runs *cs, int n)
{
	int i, k;

	printf("config,ratio_throughput");
	for (k = 0; k < NR_METRICS; k++)
		printf(",%s,%s_min,%s_max", metric_names[k], metric_names[k],
		       metric_names[k]);
	printf("\n");
	for (i = 0; i < n; i++) {
		printf("\"%s\",%.6g", cs[i].kv,
		       cs[0].median[M_throughput] > 0
			       ? cs[i].median[M_throughput] /
					 cs[0].median[M_throughput]
			       : 0);
		for (k = 0; k < NR_METRICS; k++)
			printf(",%.6g,%.6g,%.6g", cs[i].median[k], cs[i].lo[k],
			       cs[i].hi[k]);
		printf("\n");
	}
}

int wl_compare_main(int argc, char **argv)
{
	static struct config_runs cs[MAX_CONFIGS];
	const struct workload *w;
	char **rest = calloc((size_t)argc + 1, sizeof(char *));
	struct wl_opts o;
	void *priv = NULL;
	int i, n = 0, nrest = 0, runs = 1, r, rc = 0;
	char err[256];

	if (!rest)
		return 1;
	/* compare may run more than once per process (the showcase). */
	memset(cs, 0, sizeof(cs));
	shown = ~0U;
	if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
		fputs(compare_usage, argc < 2 ? stderr : stdout);
		free(rest);
		return argc < 2 ? 2 : 0;
	}
	w = wl_find(argv[1]);
	if (!w) {
		free(rest);
		return wl_usage_error("pcpbuddy compare",
				      "unknown workload '%s'", argv[1]);
	}
	rest[nrest++] = argv[0];
	for (i = 2; i < argc; i++) {
		if (!strcmp(argv[i], "--configs")) {
			if (take_configs(argc, argv, &i, cs, &n,
					 "pcpbuddy compare")) {
				free(rest);
				return 2;
			}
		} else if (!strcmp(argv[i], "--runs")) {
			char *end;

			if (i + 1 >= argc ||
			    (runs = (int)strtol(argv[i + 1], &end, 10),
			     *end || runs < 1 || runs > MAX_RUNS)) {
				free(rest);
				return wl_usage_error(
					"pcpbuddy compare",
					"--runs: '%s' is not in 1..%d",
					i + 1 < argc ? argv[i + 1] : "",
					MAX_RUNS);
			}
			i++;
		} else if (!strcmp(argv[i], "--metrics")) {
			if (i + 1 >= argc || parse_metrics(argv[i + 1])) {
				free(rest);
				return wl_usage_error(
					"pcpbuddy compare",
					"--metrics: '%s' is not a list of metric names",
					i + 1 < argc ? argv[i + 1] : "");
			}
			i++;
		} else if (!strcmp(argv[i], "--help") ||
			   !strcmp(argv[i], "-h")) {
			fputs(compare_usage, stdout);
			free(rest);
			return 0;
		} else {
			rest[nrest++] = argv[i];
		}
	}
	if (n < 2) {
		free(rest);
		return wl_usage_error(
			"pcpbuddy compare",
			"--configs needs two or more configurations");
	}
	priv = calloc(1, w->priv_size ? w->priv_size : 1);
	if (!priv) {
		free(rest);
		return 1;
	}
	rc = wl_prepare(w, nrest, rest, &o, priv);
	if (!rc && o.record)
		rc = wl_usage_error("pcpbuddy compare",
				    "--record is for 'pcpbuddy run'");
	if (rc) {
		free(rest);
		wl_free_priv(w, priv);
		return rc == 1 ? 0 : rc;
	}
	/* Validate every entry before running any: a bad one changes nothing. */
	i = validate_configs(w, &o.cfg, priv, cs, n, err, sizeof(err));
	if (i >= 0) {
		free(rest);
		wl_free_priv(w, priv);
		return wl_usage_error("pcpbuddy compare", "--configs '%s': %s",
				      cs[i].kv, err);
	}
	for (r = 0; r < runs && !rc; r++)
		for (i = 0; i < n && !rc; i++) {
			if (isatty(STDERR_FILENO))
				fprintf(stderr,
					"\r[compare %s] run %d/%d  %-40.40s",
					w->name, r + 1, runs, cs[i].kv);
			rc = run_one(w, &o, priv, &cs[i], r, r == runs - 1);
		}
	if (isatty(STDERR_FILENO))
		fputs("\r\033[K", stderr);
	if (!rc) {
		for (i = 0; i < n; i++)
			summarize_runs(&cs[i], runs);
		if (o.fmt == PCPB_FMT_JSON)
			print_json(w->name, &o, cs, n, runs);
		else if (o.fmt == PCPB_FMT_CSV)
			print_csv(cs, n);
		else
			print_table(w->name, cs, n, runs);
	}
	for (i = 0; i < n; i++)
		free(cs[i].report);
	wl_free_priv(w, priv);
	free(rest);
	return rc;
}

/* ---- sweep --------------------------------------------------------------- */

static const char sweep_usage[] =
	"usage: pcpbuddy sweep WORKLOAD --param NAME=V1,V2,... --configs A B ...\n"
	"                      [--runs R] [-o FILE] [--csv] [workload options]\n"
	"\n"
	"Runs compare once per value of NAME and writes one table (JSON, or CSV\n"
	"with --csv) to FILE or stdout: for each configuration and value, the\n"
	"medians and min..max of every compare metric.  NAME is threads,\n"
	"seconds or ops (workload options), or any --config key such as cpus,\n"
	"batch or memory.  'pcpbuddy plot FILE -o out.png' draws it.\n"
	"\n"
	"  --param NAME=V1,...  up to 16 values\n"
	"  --configs A B ...    one or more k=v,... strings (up to 16)\n"
	"  --runs R             runs per point, 1..25 (default 1)\n"
	"  -o FILE              write there instead of stdout\n"
	"Exit: 0 ok, 1 a run failed its invariant check, 2 bad arguments.\n";

#define MAX_VALUES 16

static bool is_driver_param(const char *name)
{
	return !strcmp(name, "threads") || !strcmp(name, "seconds") ||
	       !strcmp(name, "ops");
}

/* Set a driver parameter; the CPU count follows threads unless given. */
static int apply_driver_param(const struct workload *w, struct wl_opts *o,
			      const void *priv, const char *name, const char *v)
{
	char *end;
	double x = strtod(v, &end);

	if (end == v || *end || x <= 0)
		return -1;
	if (!strcmp(name, "threads")) {
		if (x != (int)x || x > 1024)
			return -1;
		o->threads = (int)x;
		if (!o->cpus_given)
			o->cfg.nr_cpus =
				w->nr_cpus ? w->nr_cpus(o, priv) : o->threads;
	} else if (!strcmp(name, "seconds")) {
		o->seconds = x;
	} else {
		o->ops = (uint64_t)x;
	}
	return 0;
}

static void sweep_json(FILE *f, const char *wname, const char *param,
		       char **values, int nv,
		       struct config_runs (*pts)[MAX_VALUES],
		       struct config_runs *cs, int n, int runs)
{
	int i, v, k, p;

	fprintf(f,
		"{\n  \"workload\": \"%s\",\n  \"param\": \"%s\",\n  \"runs\": %d,\n  \"metrics\": [",
		wname, param, runs);
	for (k = 0; k < NR_METRICS; k++)
		fprintf(f, "%s\"%s\"", k ? ", " : "", metric_names[k]);
	fprintf(f, "],\n  \"results\": [");
	for (i = 0; i < n; i++) {
		fprintf(f, "%s\n    {\"config\": \"%s\", \"points\": [",
			i ? "," : "", cs[i].kv);
		for (v = 0; v < nv; v++) {
			const char *parts[3] = { "median", "min", "max" };
			double *vals[3] = { pts[i][v].median, pts[i][v].lo,
					    pts[i][v].hi };

			char *end;

			strtod(values[v], &end);
			/* Numbers stay numbers; "256M" becomes a string. */
			fprintf(f,
				*end ? "%s\n      {\"value\": \"%s\""
				     : "%s\n      {\"value\": %s",
				v ? "," : "", values[v]);
			for (p = 0; p < 3; p++) {
				fprintf(f, ", \"%s\": [", parts[p]);
				for (k = 0; k < NR_METRICS; k++)
					fprintf(f, "%s%.6g", k ? ", " : "",
						vals[p][k]);
				fprintf(f, "]");
			}
			fprintf(f, "}");
		}
		fprintf(f, "\n    ]}");
	}
	fprintf(f, "\n  ]\n}\n");
}

static void sweep_csv(FILE *f, const char *param, char **values, int nv,
		      struct config_runs (*pts)[MAX_VALUES],
		      struct config_runs *cs, int n)
{
	int i, v, k;

	fprintf(f, "config,%s", param);
	for (k = 0; k < NR_METRICS; k++)
		fprintf(f, ",%s,%s_min,%s_max", metric_names[k],
			metric_names[k], metric_names[k]);
	fprintf(f, "\n");
	for (i = 0; i < n; i++)
		for (v = 0; v < nv; v++) {
			fprintf(f, "\"%s\",%s", cs[i].kv, values[v]);
			for (k = 0; k < NR_METRICS; k++)
				fprintf(f, ",%.6g,%.6g,%.6g",
					pts[i][v].median[k], pts[i][v].lo[k],
					pts[i][v].hi[k]);
			fprintf(f, "\n");
		}
}

int wl_sweep_main(int argc, char **argv)
{
	static struct config_runs cs[MAX_CONFIGS];
	static struct config_runs pts[MAX_CONFIGS][MAX_VALUES];
	static char param_buf[512];
	const struct workload *w;
	char **rest = calloc((size_t)argc + 1, sizeof(char *));
	char *values[MAX_VALUES], *param = NULL, *save = NULL, *tok, err[256];
	const char *out = NULL;
	struct wl_opts base;
	void *priv = NULL;
	int i, n = 0, nv = 0, nrest = 0, runs = 1, r, v, rc = 0;
	bool csv = false;
	FILE *f = stdout;

	if (!rest)
		return 1;
	memset(cs, 0, sizeof(cs));
	memset(pts, 0, sizeof(pts));
	if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
		fputs(sweep_usage, argc < 2 ? stderr : stdout);
		free(rest);
		return argc < 2 ? 2 : 0;
	}
	w = wl_find(argv[1]);
	if (!w) {
		free(rest);
		return wl_usage_error("pcpbuddy sweep", "unknown workload '%s'",
				      argv[1]);
	}
	rest[nrest++] = argv[0];
	for (i = 2; i < argc; i++) {
		if (!strcmp(argv[i], "--configs")) {
			if (take_configs(argc, argv, &i, cs, &n,
					 "pcpbuddy sweep")) {
				free(rest);
				return 2;
			}
		} else if (!strcmp(argv[i], "--param") && i + 1 < argc) {
			char *eq;

			snprintf(param_buf, sizeof(param_buf), "%s", argv[++i]);
			eq = strchr(param_buf, '=');
			if (!eq || eq == param_buf || !eq[1]) {
				free(rest);
				return wl_usage_error(
					"pcpbuddy sweep",
					"--param: '%s' is not NAME=V1,V2,...",
					argv[i]);
			}
			*eq = '\0';
			param = param_buf;
			for (tok = strtok_r(eq + 1, ",", &save); tok;
			     tok = strtok_r(NULL, ",", &save)) {
				if (nv == MAX_VALUES) {
					free(rest);
					return wl_usage_error(
						"pcpbuddy sweep",
						"--param: at most %d values",
						MAX_VALUES);
				}
				values[nv++] = tok;
			}
		} else if (!strcmp(argv[i], "--runs") && i + 1 < argc) {
			char *end;

			runs = (int)strtol(argv[++i], &end, 10);
			if (*end || runs < 1 || runs > MAX_RUNS) {
				free(rest);
				return wl_usage_error(
					"pcpbuddy sweep",
					"--runs: '%s' is not in 1..%d", argv[i],
					MAX_RUNS);
			}
		} else if (!strcmp(argv[i], "-o") && i + 1 < argc) {
			out = argv[++i];
		} else if (!strcmp(argv[i], "--csv")) {
			csv = true;
		} else if (!strcmp(argv[i], "--help") ||
			   !strcmp(argv[i], "-h")) {
			fputs(sweep_usage, stdout);
			free(rest);
			return 0;
		} else {
			rest[nrest++] = argv[i];
		}
	}
	if (!param || !nv || n < 1) {
		free(rest);
		return wl_usage_error(
			"pcpbuddy sweep",
			"needs --param NAME=V1,... and --configs");
	}
	priv = calloc(1, w->priv_size ? w->priv_size : 1);
	rc = priv ? wl_prepare(w, nrest, rest, &base, priv) : 1;
	if (!rc && base.record)
		rc = wl_usage_error("pcpbuddy sweep",
				    "--record is for 'pcpbuddy run'");
	if (rc) {
		free(rest);
		wl_free_priv(w, priv);
		return rc == 1 ? 0 : rc;
	}
	/* Check every configuration and value before running anything. */
	i = validate_configs(w, &base.cfg, priv, cs, n, err, sizeof(err));
	if (i >= 0) {
		free(rest);
		wl_free_priv(w, priv);
		return wl_usage_error("pcpbuddy sweep", "--configs '%s': %s",
				      cs[i].kv, err);
	}
	for (v = 0; v < nv; v++) {
		struct wl_opts o = base;
		void *probe_priv = malloc(w->priv_size ? w->priv_size : 1);
		char kv[1100];
		int bad;

		if (probe_priv)
			memcpy(probe_priv, priv, w->priv_size);
		snprintf(kv, sizeof(kv), "%s=%s", param, values[v]);
		/* A config key, or a driver key such as pipe's -w. */
		bad = !probe_priv ||
		      (is_driver_param(param)
			       ? apply_driver_param(w, &o, priv, param,
						    values[v])
			       : apply_kv(w, kv, &o.cfg, probe_priv, err,
					  sizeof(err)));
		free(probe_priv);
		if (bad) {
			free(rest);
			wl_free_priv(w, priv);
			return wl_usage_error("pcpbuddy sweep",
					      "--param %s: bad value '%s'",
					      param, values[v]);
		}
	}
	if (out && !(f = fopen(out, "w"))) {
		fprintf(stderr, "pcpbuddy sweep: -o %s: %s\n", out,
			strerror(errno));
		free(rest);
		wl_free_priv(w, priv);
		return 2;
	}
	for (v = 0; v < nv && !rc; v++) {
		struct wl_opts o = base;

		if (is_driver_param(param))
			apply_driver_param(w, &o, priv, param, values[v]);
		for (i = 0; i < n && !rc; i++) {
			static char kvbuf[MAX_CONFIGS][2048];

			snprintf(kvbuf[i], sizeof(kvbuf[i]), "%s%s%s%s%s",
				 cs[i].kv, is_driver_param(param) ? "" : ",",
				 is_driver_param(param) ? "" : param,
				 is_driver_param(param) ? "" : "=",
				 is_driver_param(param) ? "" : values[v]);
			pts[i][v].kv = kvbuf[i];
			for (r = 0; r < runs && !rc; r++) {
				if (isatty(STDERR_FILENO))
					fprintf(stderr,
						"\r[sweep %s] %s=%s run %d/%d %-30.30s",
						w->name, param, values[v],
						r + 1, runs, cs[i].kv);
				rc = run_one(w, &o, priv, &pts[i][v], r, false);
			}
			if (!rc)
				summarize_runs(&pts[i][v], runs);
		}
	}
	if (isatty(STDERR_FILENO))
		fputs("\r\033[K", stderr);
	if (!rc) {
		if (csv)
			sweep_csv(f, param, values, nv, pts, cs, n);
		else
			sweep_json(f, w->name, param, values, nv, pts, cs, n,
				   runs);
	}
	if (out)
		fclose(f);
	wl_free_priv(w, priv);
	free(rest);
	return rc;
}
