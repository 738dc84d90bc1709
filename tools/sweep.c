// SPDX-License-Identifier: GPL-2.0-only OR MIT
/*
 * sweep.c - 'pcpbuddy sweep WORKLOAD --param NAME=V1,... --configs A B ...':
 * compare at each value of one parameter (a config key, a driver option,
 * or threads/seconds/ops), every configuration and value interleaved run by
 * run, into one JSON or CSV table that 'pcpbuddy plot' draws.
 *
 * Or spread over machines: --emit-jobs writes one shell command per
 * (configuration, value, run), each the same sweep with --job C,V,R, which
 * runs that one point and writes its metrics as one JSON file; 'pcpbuddy
 * collect DIR' reads them back into the table sweep writes, through the
 * same summary code, so plot and the statistics cannot tell the two apart.
 *
 * Invariants: those of runs.h.  Locking: one instance at a time.
 */
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <jansson.h>

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
	"  --emit-jobs FILE     run nothing: write one shell command per\n"
	"                       configuration, value and run to FILE, for GNU\n"
	"                       parallel or a Slurm array; each writes its point\n"
	"                       as JSON into --jobs-dir DIR (default 'out'), and\n"
	"                       'pcpbuddy collect DIR' makes the table\n"
	"  --job C,V,R          (what an emitted job runs) only configuration C,\n"
	"                       value V, run R (from 0), its metrics as JSON to -o\n"
	"Exit: 0 ok, 1 a run failed its invariant check, 2 bad arguments.\n";

static const char collect_usage[] =
	"usage: pcpbuddy collect DIR [-o FILE] [--csv]\n"
	"\n"
	"Reads the points the jobs of 'pcpbuddy sweep ... --emit-jobs' wrote into\n"
	"DIR (*.json) and writes the table that sweep itself writes (JSON, or\n"
	"CSV with --csv) to FILE or stdout.  Every job of the sweep must be\n"
	"there, once, from the same sweep; a missing one is named.\n"
	"Exit: 0 ok, 1 jobs missing, 2 bad arguments or input.\n";

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

/* Each value's configurations summarized, then against its first. */
static void summarize_points(struct config_runs (*pts)[MAX_VALUES], int n,
			     int nv, int runs)
{
	static struct config_runs col[MAX_CONFIGS];
	int i, v;

	for (v = 0; v < nv; v++) {
		for (i = 0; i < n; i++) {
			summarize_runs(&pts[i][v], runs);
			col[i] = pts[i][v];
		}
		compare_to_base(col, n);
		for (i = 0; i < n; i++)
			memcpy(pts[i][v].vs_base, col[i].vs_base,
			       sizeof(col[i].vs_base));
	}
}

/* @s for a POSIX shell: as it is when plain, else in single quotes. */
static void shell_quote(FILE *f, const char *s)
{
	if (*s && strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuv"
			    "wxyz0123456789_-+=,./:%@") == strlen(s)) {
		fputs(s, f);
		return;
	}
	fputc('\'', f);
	for (; *s; s++)
		if (*s == '\'')
			fputs("'\\''", f);
		else
			fputc(*s, f);
	fputc('\'', f);
}

/*
 * --emit-jobs: one line per (run, value, configuration), in the order sweep
 * runs them, each this sweep (@args, @nargs: without the emit options, -o
 * and --csv) with --job C,V,R and -o DIR/WORKLOAD-cC-vV-rR.json.
 * Return: the number of jobs, or -errno.
 */
static int emit_jobs(const char *file, const char *dir, const char *wname,
		     const char *const *args, int nargs, int n, int nv,
		     int runs)
{
	char exe[PATH_MAX];
	ssize_t len = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	struct outfile of;
	int r, v, i, k, err, jobs = 0;

	if (len <= 0)
		return -errno;
	exe[len] = '\0';
	if (mkdir(dir, 0777) && errno != EEXIST)
		return -errno;
	err = outfile_open(&of, file);
	if (err)
		return err;
	for (r = 0; r < runs; r++)
		for (v = 0; v < nv; v++)
			for (i = 0; i < n; i++, jobs++) {
				char out[PATH_MAX];

				shell_quote(of.f, exe);
				fputs(" sweep", of.f);
				for (k = 0; k < nargs; k++) {
					fputc(' ', of.f);
					shell_quote(of.f, args[k]);
				}
				fprintf(of.f, " --job %d,%d,%d -o ", i, v, r);
				snprintf(out, sizeof(out),
					 "%s/%s-c%d-v%d-r%d.json", dir, wname,
					 i, v, r);
				shell_quote(of.f, out);
				fputc('\n', of.f);
			}
	err = outfile_commit(&of);
	return err ? err : jobs;
}

/* What identifies a sweep: a job's point belongs to it when these match. */
static json_t *sweep_identity(const char *wname, const char *param,
			      char **values, int nv,
			      const struct config_runs *cs, int n, int runs,
			      const char *const *args, int nargs)
{
	json_t *id = json_pack("{s:s, s:s, s:[], s:[], s:i, s:[], s:[]}",
			       "workload", wname, "param", param, "values",
			       "configs", "runs", runs, "args", "metrics");
	int k;

	if (!id)
		return NULL;
	for (k = 0; k < nv; k++)
		json_array_append_new(json_object_get(id, "values"),
				      json_string(values[k]));
	for (k = 0; k < n; k++)
		json_array_append_new(json_object_get(id, "configs"),
				      json_string(cs[k].kv));
	for (k = 0; k < nargs; k++)
		json_array_append_new(json_object_get(id, "args"),
				      json_string(args[k]));
	for (k = 0; k < NR_METRICS; k++)
		json_array_append_new(json_object_get(id, "metrics"),
				      json_string(metric_names[k]));
	return id;
}

/* --job: one point's metrics, with the sweep it belongs to. */
static int write_job(const char *out, json_t *id, int c, int v, int r,
		     const double *m)
{
	json_t *root, *vals = json_array();
	struct utsname u;
	struct outfile of;
	int k, err;

	for (k = 0; k < NR_METRICS; k++)
		json_array_append_new(vals, isfinite(m[k]) ? json_real(m[k])
							   : json_null());
	if (uname(&u))
		snprintf(u.nodename, sizeof(u.nodename), "?");
	root = json_pack("{s:i, s:O, s:i, s:i, s:i, s:s, s:o}", "schema",
			 WL_JSON_SCHEMA, "sweep", id, "config", c, "value", v,
			 "run", r, "host", u.nodename, "m", vals);
	if (!root)
		return -ENOMEM;
	err = outfile_open(&of, out);
	if (!err) {
		json_dumpf(root, of.f, JSON_INDENT(1));
		fputc('\n', of.f);
		err = outfile_commit(&of);
	}
	json_decref(root);
	return err;
}

/* The table: JSON, or CSV. */
static void sweep_write(FILE *f, bool csv, const char *wname, const char *param,
			char **values, int nv,
			struct config_runs (*pts)[MAX_VALUES],
			struct config_runs *cs, int n, int runs)
{
	if (csv)
		sweep_csv(f, param, values, nv, pts, cs, n);
	else
		sweep_json(f, wname, param, values, nv, pts, cs, n, runs);
}

enum {
	OPT_PARAM = CMD_OPT_CONFIGS + 1,
	OPT_RUNS,
	OPT_OUT,
	OPT_CSV,
	OPT_EMIT_JOBS,
	OPT_JOBS_DIR,
	OPT_JOB,
};

static const struct option sweep_options[] = {
	{ "configs", required_argument, NULL, CMD_OPT_CONFIGS },
	{ "param", required_argument, NULL, OPT_PARAM },
	{ "runs", required_argument, NULL, OPT_RUNS },
	{ "output", required_argument, NULL, OPT_OUT },
	{ "csv", no_argument, NULL, OPT_CSV },
	{ "emit-jobs", required_argument, NULL, OPT_EMIT_JOBS },
	{ "jobs-dir", required_argument, NULL, OPT_JOBS_DIR },
	{ "job", required_argument, NULL, OPT_JOB },
	{ NULL, 0, NULL, 0 },
};

/* --param NAME=V1,V2,...: @buf holds it, split.  Return: 0, or 2. */
static int take_param(const char *val, char *buf, size_t len, char **param,
		      char **values, int *nv)
{
	const char *cmd = "pcpbuddy sweep";
	char *eq, *tok, *save = NULL;
	int v;

	if (*param)
		return wl_usage_error(
			cmd,
			"--param: one parameter per sweep ('%s' after '%s')",
			val, *param);
	snprintf(buf, len, "%s", val);
	eq = strchr(buf, '=');
	if (!eq || eq == buf || !eq[1])
		return wl_usage_error(
			cmd, "--param: '%s' is not NAME=V1,V2,...", val);
	*eq = '\0';
	*param = buf;
	for (tok = strtok_r(eq + 1, ",", &save); tok;
	     tok = strtok_r(NULL, ",", &save)) {
		if (*nv == MAX_VALUES)
			return wl_usage_error(cmd, "--param: at most %d values",
					      MAX_VALUES);
		for (v = 0; v < *nv; v++)
			if (!strcmp(values[v], tok))
				return wl_usage_error(
					cmd, "--param: '%s' twice", tok);
		values[(*nv)++] = tok;
	}
	return 0;
}

int cmd_sweep_main(int argc, char **argv)
{
	static struct config_runs cs[MAX_CONFIGS];
	static struct config_runs pts[MAX_CONFIGS][MAX_VALUES];
	static char param_buf[512];
	const struct workload *w = NULL;
	/* the arguments an emitted job repeats: all but -o, --csv, emit's */
	const char **jobargs = calloc((size_t)argc * 2 + 8, sizeof(char *));
	char *values[MAX_VALUES], *param = NULL, err[256];
	const char *out = NULL, *emit = NULL, *jobs_dir = "out", *val;
	const char *param_arg = NULL, *runs_arg = NULL;
	struct cmd_args ca = { 0 };
	struct wl_opts base;
	void *priv = NULL;
	int i, n = 0, nv = 0, njobargs = 0, runs = 1, r, v, rc = 0, c;
	int job[3] = { -1, -1, -1 };
	bool csv = false;
	struct outfile of;
	FILE *f;

	if (!jobargs) {
		rc = 1;
		goto out;
	}
	memset(cs, 0, sizeof(cs));
	memset(pts, 0, sizeof(pts));
	if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
		fputs(sweep_usage, argc < 2 ? stderr : stdout);
		rc = argc < 2 ? 2 : 0;
		goto out;
	}
	w = wl_find(argv[1]);
	if (!w) {
		rc = wl_usage_error("pcpbuddy sweep", "unknown workload '%s'",
				    argv[1]);
		goto out;
	}
	if (cmd_args_begin(&ca, "pcpbuddy sweep", w, sweep_options,
			   "o:", argc - 1, argv + 1)) {
		rc = 1;
		goto out;
	}
	while (!rc && (c = cmd_args_next(&ca, &val)) != -1) {
		double x = 0;
		char end;

		switch (c) {
		case -2:
			rc = 2;
			break;
		case WL_OPT_COMMON + 'h':
			fputs(sweep_usage, stdout);
			goto out;
		case 'o':
		case OPT_OUT:
			out = val;
			break;
		case OPT_CSV:
			csv = true;
			break;
		case OPT_EMIT_JOBS:
			emit = val;
			break;
		case OPT_JOBS_DIR:
			jobs_dir = val;
			break;
		case OPT_JOB:
			if (sscanf(val, "%d,%d,%d%c", &job[0], &job[1], &job[2],
				   &end) != 3 ||
			    job[0] < 0 || job[1] < 0 || job[2] < 0)
				rc = wl_usage_error("pcpbuddy sweep",
						    "--job: '%s' is not C,V,R",
						    val);
			break;
		case CMD_OPT_CONFIGS:
			if (n == MAX_CONFIGS)
				rc = wl_usage_error("pcpbuddy sweep",
						    "--configs: at most %d",
						    MAX_CONFIGS);
			else
				cs[n++].kv = val;
			break;
		case OPT_PARAM:
			rc = take_param(val, param_buf, sizeof(param_buf),
					&param, values, &nv);
			param_arg = val;
			break;
		case OPT_RUNS:
			if (parse_number(val, 1, MAX_RUNS, true, &x))
				rc = wl_usage_error(
					"pcpbuddy sweep",
					"--runs: '%s' is not in 1..%d", val,
					MAX_RUNS);
			runs = (int)x;
			runs_arg = val;
			break;
		}
	}
	if (rc)
		goto out;
	/* What a job repeats: the workload, the run's options, the sweep's */
	jobargs[njobargs++] = argv[1];
	for (i = 1; i < ca.nrest; i++)
		jobargs[njobargs++] = ca.rest[i];
	if (param_arg) {
		jobargs[njobargs++] = "--param";
		jobargs[njobargs++] = param_arg;
	}
	if (runs_arg) {
		jobargs[njobargs++] = "--runs";
		jobargs[njobargs++] = runs_arg;
	}
	for (i = 0; i < n; i++) {
		if (!i)
			jobargs[njobargs++] = "--configs";
		jobargs[njobargs++] = cs[i].kv;
	}
	if (emit && (job[0] >= 0 || out || csv)) {
		rc = wl_usage_error(
			"pcpbuddy sweep",
			"--emit-jobs runs nothing: no --job, -o or --csv with it");
		goto out;
	}
	if (job[0] >= 0 && (!out || csv)) {
		rc = wl_usage_error(
			"pcpbuddy sweep",
			"--job writes its point as JSON to -o FILE");
		goto out;
	}
	if (!param || !nv) {
		rc = wl_usage_error("pcpbuddy sweep",
				    "needs --param NAME=V1,...");
		goto out;
	}
	if (n < 1)
		cs[n++].kv = "default"; /* no --configs: the default */
	if (!prepare_runs("pcpbuddy sweep", w, ca.nrest, ca.rest, &base, &priv,
			  cs, n, &rc))
		goto out; /* priv freed, the exit code in rc */
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
			rc = wl_usage_error("pcpbuddy sweep",
					    "--param %s: bad value '%s'", param,
					    values[v]);
			goto out;
		}
	}
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
	if (emit) {
		rc = emit_jobs(emit, jobs_dir, w->name, jobargs, njobargs, n,
			       nv, runs);
		if (rc < 0) {
			fprintf(stderr, "pcpbuddy sweep: --emit-jobs %s: %s\n",
				emit, strerror(-rc));
			rc = 2;
		} else {
			fprintf(stderr,
				"pcpbuddy sweep: %d jobs in %s, each writing %s/%s-cC-vV-rR.json;\n"
				"  run them (parallel -j2 < %s), then: pcpbuddy collect %s -o sweep.json\n",
				rc, emit, jobs_dir, w->name, emit, jobs_dir);
			rc = 0;
		}
		goto out;
	}
	if (job[0] >= 0) {
		struct wl_opts o = base;
		json_t *id;

		if (job[0] >= n || job[1] >= nv || job[2] >= runs) {
			rc = wl_usage_error(
				"pcpbuddy sweep",
				"--job %d,%d,%d: this sweep has %d configurations, %d values, %d runs",
				job[0], job[1], job[2], n, nv, runs);
			goto out;
		}
		if (is_driver_param(param))
			apply_driver_param(w, &o, priv, param, values[job[1]]);
		rc = run_one(w, &o, priv, &pts[job[0]][job[1]], job[2], false,
			     NULL);
		if (rc)
			goto out;
		id = sweep_identity(w->name, param, values, nv, cs, n, runs,
				    jobargs, njobargs);
		rc = id ? write_job(out, id, job[0], job[1], job[2],
				    pts[job[0]][job[1]].m[job[2]])
			: -ENOMEM;
		json_decref(id);
		if (rc) {
			fprintf(stderr, "pcpbuddy sweep: -o %s: %s\n", out,
				strerror(-rc));
			rc = 1;
		}
		goto out;
	}
	/* The table goes to a temporary file renamed into place when it is
	 * whole: a failed or interrupted sweep leaves the old one. */
	if ((i = outfile_open(&of, out ? out : "-"))) {
		fprintf(stderr, "pcpbuddy sweep: -o %s: %s\n", out,
			strerror(-i));
		rc = 2;
		goto out;
	}
	f = of.f;
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
				rc = run_one(w, &o, priv, &pts[i][v], r, false,
					     NULL);
			}
		}
	if (!rc)
		summarize_points(pts, n, nv, runs);
	if (isatty(STDERR_FILENO))
		fputs("\r\033[K", stderr);
	if (!rc)
		sweep_write(f, csv, w->name, param, values, nv, pts, cs, n,
			    runs);
	if (rc) {
		outfile_abort(&of);
	} else if ((i = outfile_commit(&of))) {
		fprintf(stderr, "pcpbuddy sweep: %s: %s\n",
			out ? out : "stdout", strerror(-i));
		rc = 1;
	}
out:
	wl_free_priv(w, priv);
	cmd_args_end(&ca);
	free((void *)jobargs);
	return rc;
}

/* A string array of @id as a C array (pointers into @id); NULL if not. */
static int id_strings(const json_t *id, const char *key, const char **out,
		      int max)
{
	const json_t *a = json_object_get(id, key), *x;
	size_t k;

	if (!json_is_array(a) || json_array_size(a) > (size_t)max ||
	    !json_array_size(a))
		return -1;
	json_array_foreach(a, k, x)
	{
		if (!json_is_string(x))
			return -1;
		out[k] = json_string_value(x);
	}
	return (int)json_array_size(a);
}

static const struct option collect_options[] = {
	{ "help", no_argument, NULL, 'h' },
	{ "output", required_argument, NULL, OPT_OUT },
	{ "csv", no_argument, NULL, OPT_CSV },
	{ NULL, 0, NULL, 0 },
};

int cmd_collect_main(int argc, char **argv)
{
	struct wl_args args;
	const char *val;
	int opt;
	static struct config_runs cs[MAX_CONFIGS];
	static struct config_runs pts[MAX_CONFIGS][MAX_VALUES];
	static bool seen[MAX_CONFIGS][MAX_VALUES][MAX_RUNS];
	const char *dir = NULL, *out = NULL, *configs[MAX_CONFIGS],
		   *values[MAX_VALUES];
	json_t *id = NULL, *expect_metrics;
	int i, n = 0, nv = 0, runs = 0, files = 0, missing = 0, rc = 2;
	bool csv = false;
	struct dirent *de;
	struct outfile of;
	DIR *d;

	memset(cs, 0, sizeof(cs));
	memset(pts, 0, sizeof(pts));
	memset(seen, 0, sizeof(seen));
	wl_args_init(&args, "pcpbuddy collect", argc, argv,
		     "ho:", collect_options);
	while ((opt = wl_args_next(&args, &val)) != -1) {
		if (opt == 'h') {
			fputs(collect_usage, stdout);
			return 0;
		} else if (opt == 'o' || opt == OPT_OUT) {
			out = val;
		} else if (opt == OPT_CSV) {
			csv = true;
		} else if (opt == 1 && !dir) {
			dir = val;
		} else {
			return opt == 1
				       ? wl_usage_error("pcpbuddy collect",
							"unknown argument '%s'",
							val)
				       : 2;
		}
	}
	if (!dir)
		return wl_usage_error("pcpbuddy collect", "needs DIR");
	d = opendir(dir);
	if (!d) {
		fprintf(stderr, "pcpbuddy collect: %s: %s\n", dir,
			strerror(errno));
		return 2;
	}
	expect_metrics = json_array();
	for (i = 0; i < NR_METRICS; i++)
		json_array_append_new(expect_metrics,
				      json_string(metric_names[i]));
	while ((de = readdir(d))) {
		size_t len = strlen(de->d_name);
		char path[PATH_MAX];
		json_error_t jerr;
		json_t *job, *jid, *m;
		int c, v, r, k;

		if (len < 6 || strcmp(de->d_name + len - 5, ".json"))
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		job = json_load_file(path, 0, &jerr);
		jid = json_object_get(job, "sweep");
		m = json_object_get(job, "m");
		c = (int)json_integer_value(json_object_get(job, "config"));
		v = (int)json_integer_value(json_object_get(job, "value"));
		r = (int)json_integer_value(json_object_get(job, "run"));
		if (!job || !json_is_object(jid) ||
		    json_array_size(m) != NR_METRICS) {
			fprintf(stderr,
				"pcpbuddy collect: %s: not a sweep job's point%s%s\n",
				path, job ? "" : ": ", job ? "" : jerr.text);
			json_decref(job);
			goto fail;
		}
		if (!id) {
			id = json_incref(jid);
			n = id_strings(id, "configs", configs, MAX_CONFIGS);
			nv = id_strings(id, "values", values, MAX_VALUES);
			runs = (int)json_integer_value(
				json_object_get(id, "runs"));
			if (!json_equal(json_object_get(id, "metrics"),
					expect_metrics) ||
			    n < 1 || nv < 1 || runs < 1 || runs > MAX_RUNS ||
			    !json_is_string(json_object_get(id, "param"))) {
				fprintf(stderr,
					"pcpbuddy collect: %s: from another version of pcpbuddy (its metrics differ) or damaged\n",
					path);
				json_decref(job);
				goto fail;
			}
		} else if (!json_equal(id, jid)) {
			fprintf(stderr,
				"pcpbuddy collect: %s: from another sweep than the files before it (workload, parameter, configurations, runs or options differ)\n",
				path);
			json_decref(job);
			goto fail;
		}
		if (c < 0 || c >= n || v < 0 || v >= nv || r < 0 || r >= runs ||
		    seen[c][v][r]) {
			fprintf(stderr,
				"pcpbuddy collect: %s: point %d,%d,%d %s\n",
				path, c, v, r,
				c < 0 || c >= n || v < 0 || v >= nv || r < 0 ||
						r >= runs
					? "is outside the sweep"
					: "twice");
			json_decref(job);
			goto fail;
		}
		seen[c][v][r] = true;
		for (k = 0; k < NR_METRICS; k++) {
			const json_t *x = json_array_get(m, (size_t)k);

			pts[c][v].m[r][k] =
				json_is_number(x) ? json_number_value(x) : NAN;
		}
		files++;
		json_decref(job);
	}
	if (!id) {
		fprintf(stderr,
			"pcpbuddy collect: %s: no sweep points (*.json)\n",
			dir);
		goto fail;
	}
	for (int c = 0; c < n; c++)
		for (int v = 0; v < nv; v++)
			for (int r = 0; r < runs; r++)
				if (!seen[c][v][r] && missing++ < 10)
					fprintf(stderr,
						"pcpbuddy collect: missing: configuration %d (%s), value %s, run %d\n",
						c, configs[c], values[v], r);
	if (missing) {
		fprintf(stderr,
			"pcpbuddy collect: %d of %d points missing; rerun their jobs (--job C,V,R)\n",
			missing, n * nv * runs);
		rc = 1;
		goto fail;
	}
	for (i = 0; i < n; i++)
		cs[i].kv = configs[i];
	summarize_points(pts, n, nv, runs);
	rc = outfile_open(&of, out ? out : "-");
	if (rc) {
		fprintf(stderr, "pcpbuddy collect: -o %s: %s\n", out,
			strerror(-rc));
		rc = 2;
		goto fail;
	}
	sweep_write(of.f, csv,
		    json_string_value(json_object_get(id, "workload")),
		    json_string_value(json_object_get(id, "param")),
		    (char **)values, nv, pts, cs, n, runs);
	rc = outfile_commit(&of);
	if (rc) {
		fprintf(stderr, "pcpbuddy collect: %s: %s\n",
			out ? out : "stdout", strerror(-rc));
		rc = 1;
	} else {
		fprintf(stderr, "pcpbuddy collect: %d points from %s\n", files,
			dir);
	}
fail:
	closedir(d);
	json_decref(id);
	json_decref(expect_metrics);
	return rc;
}
