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
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../util/number.h"
#include "../util/jsonstr.h"
#include "runs.h"

/* The width of the config column in the text table. */
#define CONFIG_COLUMN 44

static const char compare_usage[] =
	"usage: pcpbuddy compare WORKLOAD --configs K=V,... K=V,... [--runs R]\n"
	"                        [workload options] [--json|--csv]\n"
	"\n"
	"Runs WORKLOAD once per configuration (each on a fresh instance, same\n"
	"seed), R times interleaved A B A B ..., and prints one table: for\n"
	"throughput the mean, standard deviation and CV over the runs, the\n"
	"ratio of means to the first configuration with its 95%% interval and\n"
	"Welch's t-test (* p < 0.05, ** p < 0.01; nothing: not significant);\n"
	"counts as medians with min..max.  A warning follows when an interval\n"
	"contains 1.0 or a timed metric varies more than 10%%.\n"
	"--config applies to every configuration; --configs entries on top.\n"
	"\n"
	"  --configs A B ...  two or more k=v,... strings (up to 16); 'default'\n"
	"                     is the --config given (or none) unchanged\n"
	"  --runs R           runs per configuration, 1..25 (default 5; statistics\n"
	"                     need 2 or more)\n"
	"  --until-ci PCT     after the runs, more rounds until every throughput\n"
	"                     ratio's 95%% interval is within +-PCT%% of it, 25 runs\n"
	"                     or --until-seconds S (default 600) have passed\n"
	"  --metrics a,b,...  the table's columns (JSON and CSV keep all):\n"
	"                     throughput, zone_acq_per_1k_pages, zone_hold_p50,\n"
	"                     zone_hold_p99, zone_hold_max, zone_wait_p99 (clean:\n"
	"                     the holder and waiter kept their CPU),\n"
	"                     zone_hold_max_raw, zone_holds_disturbed,\n"
	"                     zone_hold_model_p99, zone_hold_model_max,\n"
	"                     pcp_hit_rate, fallback_searches, claims,\n"
	"                     refill_hold_max, refill_cost_max, phase0_scan_max,\n"
	"                     blocks_claimed, mixed_pageblocks,\n"
	"                     free_pages_order9, alloc_pages\n"
	"Exit: 0 ok, 1 a run failed its invariant check, 2 bad arguments.\n";

static unsigned int shown = ~0U; /* --metrics: the table's columns */

static int column_width(int k)
{
	int title = (int)strlen(metric_titles[k]) + 1;

	if (k == M_throughput)
		return 30;
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

/* The workload's reference as the table's first row: only its zone
 * acquisitions per 1000 pages; the other cells are "-". */
static void print_reference(const struct workload *w, const void *priv)
{
	char name[96];
	double acq;
	int k;

	if (!w->reference || !w->reference(priv, name, sizeof(name), &acq))
		return;
	printf("%-*.*s %-24s", CONFIG_COLUMN, CONFIG_COLUMN, name, "-");
	for (k = 0; k < NR_METRICS; k++) {
		char cell[32] = "-";

		if (!(shown & (1U << k)))
			continue;
		if (k == M_zone_acq_per_1k_pages)
			snprintf(cell, sizeof(cell), "%.*f", metric_decimals[k],
				 acq);
		printf(" %*s", column_width(k), cell);
	}
	printf("\n");
}

static void print_table(const char *name, struct config_runs *cs, int n,
			int runs, const struct workload *w, const void *priv)
{
	bool legend = false;
	int i, k;

	printf("compare %s: %d configurations x %d run%s; throughput: mean "
	       "+-sd (CV); ratio: of mean throughputs to the first config's, "
	       "[95%% interval], Welch's t mark; counts: medians",
	       name, n, runs, runs > 1 ? "s" : "");
	if (runs > 1)
		printf(" [min..max] for zone locks");
	printf("\n\n");
	/* A name longer than the column is cut there and marked [A], [B],
	 * ...; the legend under the table gives it whole, so two rows that
	 * differ only at the end never look the same. */
	for (i = 0; i < n; i++)
		legend |= strlen(cs[i].kv) > CONFIG_COLUMN;
	printf("%-*s %-24s", CONFIG_COLUMN, "config", "ratio [95% CI]");
	for (k = 0; k < NR_METRICS; k++)
		if (shown & (1U << k))
			printf(" %*s", column_width(k), metric_titles[k]);
	printf("\n");
	print_reference(w, priv);
	for (i = 0; i < n; i++) {
		struct config_runs *c = &cs[i];
		double base = cs[0].median[M_throughput];

		const struct ratio_stats *rs = &c->vs_base[M_throughput];
		char ratio[64];

		(void)base;
		if (runs > 1 && i)
			snprintf(ratio, sizeof(ratio), "%.3f [%.3f..%.3f]%s",
				 rs->ratio, rs->lo, rs->hi,
				 significance_mark(rs));
		else
			snprintf(ratio, sizeof(ratio), "%.3f", rs->ratio);
		if (legend)
			printf("[%c] %-*.*s %-24s", 'A' + i, CONFIG_COLUMN - 4,
			       CONFIG_COLUMN - 4, c->kv, ratio);
		else
			printf("%-*s %-24s", CONFIG_COLUMN, c->kv, ratio);
		for (k = 0; k < NR_METRICS; k++) {
			int d = metric_decimals[k];
			char cell[96];

			if (!(shown & (1U << k)))
				continue;
			if (runs > 1 && k == M_throughput)
				snprintf(cell, sizeof(cell),
					 "%.0f +-%.0f (%.1f%%)", c->st[k].mean,
					 c->st[k].sd, 100 * c->st[k].cv);
			else if (runs > 1 && k == M_zone_acq_per_1k_pages)
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
	for (i = 0; legend && i < n; i++)
		printf("%s[%c] %s\n", i ? "" : "\n", 'A' + i, cs[i].kv);
}

/* A number, or null where the statistic does not exist (one run). */
static void json_num(double v)
{
	json_fputs_number(stdout, v);
}

/* Every metric's mean, sd and CV; the timed ones against the first. */
static void print_json_stats(const struct config_runs *c)
{
	int k;

	printf("      \"stats\": {");
	for (k = 0; k < NR_METRICS; k++) {
		printf("%s\"%s\": {\"mean\": ", k ? ", " : "", metric_names[k]);
		json_num(c->st[k].mean);
		printf(", \"stddev\": ");
		json_num(c->st[k].sd);
		printf(", \"cv\": ");
		json_num(c->st[k].cv);
		printf("}");
	}
	printf("},\n      \"vs_first\": {");
	for (k = 0; k < NR_METRICS; k++) {
		const struct ratio_stats *r = &c->vs_base[k];

		if (!metric_is_timed(k))
			continue;
		printf("%s\"%s\": {\"ratio\": ", k == M_throughput ? "" : ", ",
		       metric_names[k]);
		json_num(r->ratio);
		printf(", \"ci95\": [");
		json_num(r->lo);
		printf(", ");
		json_num(r->hi);
		printf("], \"p_welch\": ");
		json_num(r->p);
		printf(", \"significant\": %s}",
		       r->significant ? "true" : "false");
	}
	printf("},\n");
}

static void print_json(const struct workload *w, const void *priv,
		       const struct wl_opts *o, struct config_runs *cs, int n,
		       int runs)
{
	char ref[96];
	double acq;
	int i, k;

	printf("{\n  \"schema\": %d,\n  \"workload\": ", WL_JSON_SCHEMA);
	json_fputs_string(stdout, w->name);
	if (w->reference && w->reference(priv, ref, sizeof(ref), &acq)) {
		printf(",\n  \"reference\": {\"name\": ");
		json_fputs_string(stdout, ref);
		printf(", \"zone_acq_per_1k_pages\": ");
		json_fputs_number(stdout, acq);
		printf("}");
	}
	printf(",\n  \"runs\": %d,\n  \"seed\": %llu,\n  \"results\": [", runs,
	       (unsigned long long)o->seed);
	for (i = 0; i < n; i++) {
		const char *parts[3] = { "median", "min", "max" };
		double *vals[3] = { cs[i].median, cs[i].lo, cs[i].hi };
		int p;

		printf("%s\n    {\n      \"config\": ", i ? "," : "");
		json_fputs_string(stdout, cs[i].kv);
		printf(",\n");
		printf("      \"ratio_throughput\": ");
		json_num(cs[0].median[M_throughput] > 0
				 ? cs[i].median[M_throughput] /
					   cs[0].median[M_throughput]
				 : 0);
		printf(",\n");
		for (p = 0; p < 3; p++) {
			printf("      \"%s\": {", parts[p]);
			for (k = 0; k < NR_METRICS; k++) {
				printf("%s\"%s\": ", k ? ", " : "",
				       metric_names[k]);
				json_num(vals[p][k]);
			}
			printf("},\n");
		}
		print_json_stats(&cs[i]);
		printf("      \"report\": %s\n    }",
		       cs[i].report ? cs[i].report : "null");
	}
	printf("\n  ]\n}\n");
}

static void print_csv(struct config_runs *cs, int n)
{
	int i, k;

	printf("config,ratio_throughput,ratio_ci95_lo,ratio_ci95_hi,p_welch,"
	       "significant,throughput_mean,throughput_sd,throughput_cv");
	for (k = 0; k < NR_METRICS; k++)
		printf(",%s,%s_min,%s_max", metric_names[k], metric_names[k],
		       metric_names[k]);
	printf("\n");
	for (i = 0; i < n; i++) {
		const struct ratio_stats *r = &cs[i].vs_base[M_throughput];
		const struct sample_stats *t = &cs[i].st[M_throughput];

		char b[8][32];

		printf("\"%s\",%s,%s,%s,%s,%d,%s,%s,%s", cs[i].kv,
		       format_number(
			       b[0], sizeof(b[0]),
			       cs[0].median[M_throughput] > 0
				       ? cs[i].median[M_throughput] /
						 cs[0].median[M_throughput]
				       : 0),
		       format_number(b[1], sizeof(b[1]), r->lo),
		       format_number(b[2], sizeof(b[2]), r->hi),
		       format_number(b[3], sizeof(b[3]), r->p), r->significant,
		       format_number(b[4], sizeof(b[4]), t->mean),
		       format_number(b[5], sizeof(b[5]), t->sd),
		       format_number(b[6], sizeof(b[6]), t->cv));
		for (k = 0; k < NR_METRICS; k++)
			printf(",%s,%s,%s",
			       format_number(b[0], sizeof(b[0]),
					     cs[i].median[k]),
			       format_number(b[1], sizeof(b[1]), cs[i].lo[k]),
			       format_number(b[2], sizeof(b[2]), cs[i].hi[k]));
		printf("\n");
	}
}

/* The widest half-interval of a throughput ratio, in % of the ratio,
 * over @runs runs of each configuration. */
static double widest_interval(struct config_runs *cs, int n, int runs)
{
	double widest = 0;
	int i;

	for (i = 0; i < n; i++)
		summarize_runs(&cs[i], runs);
	compare_to_base(cs, n);
	for (i = 1; i < n; i++) {
		const struct ratio_stats *t = &cs[i].vs_base[M_throughput];
		double half = 100 * (t->hi - t->lo) / 2 / t->ratio;

		if (!isfinite(half))
			return INFINITY;
		if (half > widest)
			widest = half;
	}
	return widest;
}

enum {
	OPT_RUNS = CMD_OPT_CONFIGS + 1,
	OPT_UNTIL_CI,
	OPT_UNTIL_SECONDS,
	OPT_METRICS,
};

static const struct option compare_options[] = {
	{ "configs", required_argument, NULL, CMD_OPT_CONFIGS },
	{ "runs", required_argument, NULL, OPT_RUNS },
	{ "until-ci", required_argument, NULL, OPT_UNTIL_CI },
	{ "until-seconds", required_argument, NULL, OPT_UNTIL_SECONDS },
	{ "metrics", required_argument, NULL, OPT_METRICS },
	{ NULL, 0, NULL, 0 },
};

/* Return: -1 to go on, else the exit code (after a message). */
static int compare_option(int c, const char *name, const char *val,
			  struct config_runs *cs, int *n, int *runs,
			  double *until_ci, double *until_seconds)
{
	const char *cmd = "pcpbuddy compare";
	double x;

	switch (c) {
	case CMD_OPT_CONFIGS:
		if (*n == MAX_CONFIGS)
			return wl_usage_error(cmd, "--configs: at most %d",
					      MAX_CONFIGS);
		cs[(*n)++].kv = val;
		return -1;
	case OPT_RUNS:
		if (parse_number(val, 1, MAX_RUNS, true, &x))
			return wl_usage_error(cmd,
					      "--runs: '%s' is not in 1..%d",
					      val, MAX_RUNS);
		*runs = (int)x;
		return -1;
	case OPT_UNTIL_CI:
	case OPT_UNTIL_SECONDS: {
		bool ci = c == OPT_UNTIL_CI;

		if (parse_number(val, ci ? 0.01 : 1, ci ? 100 : 86400, false,
				 &x))
			return wl_usage_error(
				cmd, "%s: '%s' is not in %s", name, val,
				ci ? "0.01..100 (%)" : "1..86400 (s)");
		*(ci ? until_ci : until_seconds) = x;
		return -1;
	}
	case OPT_METRICS:
		if (parse_metrics(val))
			return wl_usage_error(
				cmd,
				"--metrics: '%s' is not a list of metric names",
				val);
		return -1;
	case WL_OPT_COMMON + 'h':
		fputs(compare_usage, stdout);
		return 0;
	}
	return 2; /* -2: the message is out */
}

int cmd_compare_main(int argc, char **argv)
{
	static struct config_runs cs[MAX_CONFIGS];
	const struct workload *w;
	struct cmd_args ca;
	const char *val;
	struct wl_opts o;
	void *priv = NULL;
	int i, n = 0, runs = 5, r, rc = -1, c;
	double until_ci = 0, until_seconds = 600, start;

	/* compare may run more than once per process (the showcase). */
	memset(cs, 0, sizeof(cs));
	shown = ~0U;
	if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
		fputs(compare_usage, argc < 2 ? stderr : stdout);
		return argc < 2 ? 2 : 0;
	}
	w = wl_find(argv[1]);
	if (!w)
		return wl_usage_error("pcpbuddy compare",
				      "unknown workload '%s'", argv[1]);
	if (cmd_args_begin(&ca, "pcpbuddy compare", w, compare_options, NULL,
			   argc - 1, argv + 1))
		return 1;
	while (rc < 0 && (c = cmd_args_next(&ca, &val)) != -1)
		rc = compare_option(c, ca.args.name, val, cs, &n, &runs,
				    &until_ci, &until_seconds);
	if (rc < 0 && n < 2)
		rc = wl_usage_error(
			"pcpbuddy compare",
			"--configs needs two or more configurations");
	if (rc >= 0 || !prepare_runs("pcpbuddy compare", w, ca.nrest, ca.rest,
				     &o, &priv, cs, n, &rc)) {
		cmd_args_end(&ca);
		return rc;
	}
	rc = 0;
	start = wl_now();
	for (r = 0; r < MAX_RUNS && !rc; r++) {
		/* The runs asked for, then rounds until the intervals are
		 * tight enough (--until-ci) or the time is up. */
		if (r >= runs) {
			if (!until_ci || r < 2 ||
			    widest_interval(cs, n, r) <= until_ci ||
			    wl_now() - start > until_seconds)
				break;
			runs = r + 1;
		}
		for (i = 0; i < n && !rc; i++) {
			if (isatty(STDERR_FILENO))
				fprintf(stderr,
					"\r[compare %s] run %d/%d  %-40.40s",
					w->name, r + 1, runs, cs[i].kv);
			rc = run_one(w, &o, priv, &cs[i], r,
				     r == runs - 1 || until_ci, NULL);
		}
	}
	if (until_ci && r > 0 && !rc)
		fprintf(stderr,
			"compare: %d runs; the widest throughput interval is +-%.2f%%%s\n",
			runs, widest_interval(cs, n, runs),
			widest_interval(cs, n, runs) > until_ci
				? " (short of --until-ci: more runs, or a quieter machine)"
				: "");
	if (isatty(STDERR_FILENO))
		fputs("\r\033[K", stderr);
	if (!rc) {
		for (i = 0; i < n; i++)
			summarize_runs(&cs[i], runs);
		compare_to_base(cs, n);
		if (o.fmt == PCPB_FMT_JSON)
			print_json(w, priv, &o, cs, n, runs);
		else if (o.fmt == PCPB_FMT_CSV)
			print_csv(cs, n);
		else
			print_table(w->name, cs, n, runs, w, priv);
		/* The columns shown, or every metric for JSON and CSV. */
		print_warnings(o.fmt == PCPB_FMT_TEXT ? stdout : stderr, cs, n,
			       o.fmt == PCPB_FMT_TEXT ? shown : ~0U);
	}
	for (i = 0; i < n; i++)
		free(cs[i].report);
	wl_free_priv(w, priv);
	cmd_args_end(&ca);
	return rc;
}

/* ---- sweep --------------------------------------------------------------- */
