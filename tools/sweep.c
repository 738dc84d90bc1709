// SPDX-License-Identifier: GPL-2.0-only OR MIT
/*
 * sweep.c - 'pcpbuddy sweep WORKLOAD --param NAME=V1,... --configs A B ...':
 * compare at each value of one parameter (a config key, a driver option,
 * or threads/seconds/ops), every configuration and value interleaved run by
 * run, into one JSON or CSV table that 'pcpbuddy plot' draws.
 *
 * Invariants: those of runs.h.  Locking: one instance at a time.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../util/number.h"
#include "../util/jsonstr.h"
#include "../util/outfile.h"
#include "runs.h"

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
	"  --configs A B ...    one or more k=v,... strings (up to 16); without\n"
	"                       it, one: 'default' (the --config given, or none)\n"
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
	double x;

	if (parse_number(v, 1e-3, 1e12, false, &x))
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

static void json_num(FILE *f, double v)
{
	json_fputs_number(f, v);
}

/* mean, stddev, cv per metric; throughput against the first config. */
static void sweep_json_stats(FILE *f, const struct config_runs *c)
{
	const struct ratio_stats *r = &c->vs_base[M_throughput];
	const char *names[3] = { "mean", "stddev", "cv" };
	int p, k;

	for (p = 0; p < 3; p++) {
		fprintf(f, ", \"%s\": [", names[p]);
		for (k = 0; k < NR_METRICS; k++) {
			if (k)
				fputs(", ", f);
			json_num(f, p == 0   ? c->st[k].mean
				    : p == 1 ? c->st[k].sd
					     : c->st[k].cv);
		}
		fputs("]", f);
	}
	fputs(", \"ratio_throughput\": ", f);
	json_num(f, r->ratio);
	fputs(", \"ratio_ci95\": [", f);
	json_num(f, r->lo);
	fputs(", ", f);
	json_num(f, r->hi);
	fputs("], \"p_welch\": ", f);
	json_num(f, r->p);
	fprintf(f, ", \"significant\": %s", r->significant ? "true" : "false");
}

static void sweep_json(FILE *f, const char *wname, const char *param,
		       char **values, int nv,
		       struct config_runs (*pts)[MAX_VALUES],
		       struct config_runs *cs, int n, int runs)
{
	int i, v, k, p;

	fprintf(f, "{\n  \"schema\": %d,\n  \"workload\": ", WL_JSON_SCHEMA);
	json_fputs_string(f, wname);
	fprintf(f, ",\n  \"param\": ");
	json_fputs_string(f, param);
	fprintf(f, ",\n  \"runs\": %d,\n  \"metrics\": [", runs);
	for (k = 0; k < NR_METRICS; k++)
		fprintf(f, "%s\"%s\"", k ? ", " : "", metric_names[k]);
	fprintf(f, "],\n  \"results\": [");
	for (i = 0; i < n; i++) {
		fprintf(f, "%s\n    {\"config\": ", i ? "," : "");
		json_fputs_string(f, cs[i].kv);
		fprintf(f, ", \"points\": [");
		for (v = 0; v < nv; v++) {
			const char *parts[3] = { "median", "min", "max" };
			double *vals[3] = { pts[i][v].median, pts[i][v].lo,
					    pts[i][v].hi };

			double num;

			/* Numbers stay numbers; "256M" becomes a string. */
			fprintf(f, "%s\n      {\"value\": ", v ? "," : "");
			if (!parse_number(values[v], -1e300, 1e300, false,
					  &num))
				fputs(values[v], f);
			else
				json_fputs_string(f, values[v]);
			for (p = 0; p < 3; p++) {
				fprintf(f, ", \"%s\": [", parts[p]);
				for (k = 0; k < NR_METRICS; k++) {
					fputs(k ? ", " : "", f);
					json_num(f, vals[p][k]);
				}
				fprintf(f, "]");
			}
			sweep_json_stats(f, &pts[i][v]);
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

	fprintf(f,
		"config,%s,ratio_throughput,ratio_ci95_lo,ratio_ci95_hi,"
		"p_welch,significant,throughput_mean,throughput_sd,"
		"throughput_cv",
		param);
	for (k = 0; k < NR_METRICS; k++)
		fprintf(f, ",%s,%s_min,%s_max", metric_names[k],
			metric_names[k], metric_names[k]);
	fprintf(f, "\n");
	for (i = 0; i < n; i++)
		for (v = 0; v < nv; v++) {
			const struct config_runs *c = &pts[i][v];
			const struct ratio_stats *r = &c->vs_base[M_throughput];
			char b[8][32];

			fprintf(f, "\"%s\",%s,%s,%s,%s,%s,%d,%s,%s,%s",
				cs[i].kv, values[v],
				format_number(b[0], sizeof(b[0]), r->ratio),
				format_number(b[1], sizeof(b[1]), r->lo),
				format_number(b[2], sizeof(b[2]), r->hi),
				format_number(b[3], sizeof(b[3]), r->p),
				r->significant,
				format_number(b[4], sizeof(b[4]),
					      c->st[M_throughput].mean),
				format_number(b[5], sizeof(b[5]),
					      c->st[M_throughput].sd),
				format_number(b[6], sizeof(b[6]),
					      c->st[M_throughput].cv));
			for (k = 0; k < NR_METRICS; k++)
				fprintf(f, ",%s,%s,%s",
					format_number(b[0], sizeof(b[0]),
						      pts[i][v].median[k]),
					format_number(b[1], sizeof(b[1]),
						      pts[i][v].lo[k]),
					format_number(b[2], sizeof(b[2]),
						      pts[i][v].hi[k]));
			fprintf(f, "\n");
		}
}

int cmd_sweep_main(int argc, char **argv)
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
	struct outfile of;
	FILE *f;

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

			if (param) {
				free(rest);
				return wl_usage_error(
					"pcpbuddy sweep",
					"--param: one parameter per sweep ('%s' after '%s')",
					argv[i + 1], param);
			}

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
				for (v = 0; v < nv; v++)
					if (!strcmp(values[v], tok)) {
						free(rest);
						return wl_usage_error(
							"pcpbuddy sweep",
							"--param: '%s' twice",
							tok);
					}
				values[nv++] = tok;
			}
		} else if (!strcmp(argv[i], "--runs") && i + 1 < argc) {
			double x;

			if (parse_number(argv[++i], 1, MAX_RUNS, true, &x)) {
				free(rest);
				return wl_usage_error(
					"pcpbuddy sweep",
					"--runs: '%s' is not in 1..%d", argv[i],
					MAX_RUNS);
			}
			runs = (int)x;
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
	if (!param || !nv) {
		free(rest);
		return wl_usage_error("pcpbuddy sweep",
				      "needs --param NAME=V1,...");
	}
	if (n < 1)
		cs[n++].kv = "default"; /* no --configs: the default */
	if (!prepare_runs("pcpbuddy sweep", w, nrest, rest, &base, &priv, cs, n,
			  &rc)) {
		free(rest);
		return rc;
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
	/* The table goes to a temporary file renamed into place when it is
	 * whole: a failed or interrupted sweep leaves the old one. */
	if ((i = outfile_open(&of, out ? out : "-"))) {
		fprintf(stderr, "pcpbuddy sweep: -o %s: %s\n", out,
			strerror(-i));
		free(rest);
		wl_free_priv(w, priv);
		return 2;
	}
	f = of.f;
	for (v = 0; v < nv; v++)
		for (i = 0; i < n; i++) {
			static char kvbuf[MAX_CONFIGS][MAX_VALUES][2048];

			bool dflt = !strcmp(cs[i].kv, "default");

			/* "default" is the command line's configuration:
			 * the swept key alone goes on top of it. */
			if (is_driver_param(param))
				snprintf(kvbuf[i][v], sizeof(kvbuf[i][v]), "%s",
					 cs[i].kv);
			else
				snprintf(kvbuf[i][v], sizeof(kvbuf[i][v]),
					 "%s%s%s=%s", dflt ? "" : cs[i].kv,
					 dflt ? "" : ",", param, values[v]);
			pts[i][v].kv = kvbuf[i][v];
		}
	/* Interleaved, as compare: every configuration at every value once,
	 * A B C A B C ..., so a drift of the machine reaches them all. */
	for (r = 0; r < runs && !rc; r++)
		for (v = 0; v < nv && !rc; v++) {
			struct wl_opts o = base;

			if (is_driver_param(param))
				apply_driver_param(w, &o, priv, param,
						   values[v]);
			for (i = 0; i < n && !rc; i++) {
				if (isatty(STDERR_FILENO))
					fprintf(stderr,
						"\r[sweep %s] run %d/%d %s=%s %-30.30s",
						w->name, r + 1, runs, param,
						values[v], cs[i].kv);
				rc = run_one(w, &o, priv, &pts[i][v], r, false);
			}
		}
	for (v = 0; v < nv && !rc; v++) {
		static struct config_runs col[MAX_CONFIGS];

		/* Each value's configurations against its first. */
		for (i = 0; i < n; i++) {
			summarize_runs(&pts[i][v], runs);
			col[i] = pts[i][v];
		}
		compare_to_base(col, n);
		for (i = 0; i < n; i++)
			memcpy(pts[i][v].vs_base, col[i].vs_base,
			       sizeof(col[i].vs_base));
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
	if (rc) {
		outfile_abort(&of);
	} else if ((i = outfile_commit(&of))) {
		fprintf(stderr, "pcpbuddy sweep: %s: %s\n",
			out ? out : "stdout", strerror(-i));
		rc = 1;
	}
	wl_free_priv(w, priv);
	free(rest);
	return rc;
}
