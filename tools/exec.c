// SPDX-License-Identifier: GPL-2.0-only OR MIT
/*
 * exec.c - 'pcpbuddy exec': a real program under the LD_PRELOAD backend,
 * once per configuration (and run), and one table of what the allocator
 * went through on each, so that a program's own pattern compares policies
 * the way 'compare' does for the drivers.
 *
 *   pcpbuddy exec [--configs A B ...] [--runs R] [--mode fault|eager]
 *                 [--mem SIZE] [--thp] [--json] -- PROGRAM [ARGS...]
 *
 * Each run is a fresh process with LD_PRELOAD set to the
 * libpcpbuddy-preload.so next to this binary and PCPBUDDY_REPORT to
 * DIR/%p.json, so every process the program starts (a shell's children, a
 * daemon's) writes its own report; the run's figures are the sum over its
 * processes (the hold percentiles their largest), and --json keeps each
 * process's.  Runs are interleaved (run 1 of every configuration, then
 * run 2, ...), as compare does, and the table shows medians of the runs
 * that succeeded; a failed run is named and the others still count.
 *
 * Invariants: every temporary report is removed.  Locking: single-threaded.
 */
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <jansson.h>

#include "../util/jsonstr.h"
#include "../util/number.h"
#include "../trace/trace.h"
#include "commands.h"

#define EXEC_MAX_CONFIGS 16
#define EXEC_MAX_RUNS 99

enum exec_metric {
	EM_seconds,
	EM_pages,
	EM_zone_acq,
	EM_acq_per_1k,
	EM_hold_p99,
	EM_hold_max,
	EM_pcp_contended,
	EM_pcp_trylock_failed,
	EM_remote,
	NR_EXEC_METRICS
};

static const char *const metric_names[NR_EXEC_METRICS] = {
	"seconds",
	"pages",
	"zone_acq",
	"zone_acq_per_1k_pages",
	"zone_hold_p99",
	"zone_hold_max",
	"pcp_contended",
	"pcp_trylock_failed",
	"cross_thread_frees",
};
static const char *const metric_labels[NR_EXEC_METRICS] = {
	"seconds",	"pages",    "zone acq",	     "acq/1k pages",
	"hold p99",	"hold max", "pcp contended", "pcp trylock fail",
	"remote frees",
};

static const char exec_usage[] =
	"usage: pcpbuddy exec [--configs A B ...] [--runs R] [--mode fault|eager]\n"
	"                     [--mem SIZE] [--thp] [--json] -- PROGRAM [ARGS...]\n"
	"\n"
	"Runs PROGRAM under libpcpbuddy-preload.so (its anonymous memory pages\n"
	"allocated and freed through pcpbuddy; see README, Real programs) once\n"
	"per configuration and run, interleaved, and prints medians per\n"
	"configuration: wall seconds, pages faulted (or mapped, eager), zone->lock\n"
	"acquisitions and per 1,000 pages, zone hold p99 and max (ns), pcp->lock\n"
	"acquisitions that waited and trylocks that failed, and the fraction of pages freed by another\n"
	"thread than the one that faulted them.\n"
	"  --configs A B ...  PCPBUDDY_CONFIG for each (default: the default)\n"
	"  --runs R           runs per configuration (default 1)\n"
	"  --mode, --mem, --thp  PCPBUDDY_MODE, PCPBUDDY_MEM, PCPBUDDY_THP=1\n"
	"  --json             every run's figures and full report as JSON\n"
	"Every process PROGRAM starts reports (the figures are their sum, the\n"
	"hold percentiles the largest; --json has each).  PROGRAM's output goes\n"
	"to stderr.  Exit: 0, 1 if a run failed or had no report (the others\n"
	"are still shown), 2 for bad arguments.\n";

/* The preload library beside this binary, as an absolute path. */
static int preload_path(char *out, size_t len)
{
	char self[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	char *slash;

	if (n <= 0)
		return -errno;
	self[n] = '\0';
	slash = strrchr(self, '/');
	if (!slash)
		return -ENOENT;
	*slash = '\0';
	if ((size_t)snprintf(out, len, "%s/libpcpbuddy-preload.so", self) >=
	    len)
		return -ENAMETOOLONG;
	return access(out, R_OK) ? -errno : 0;
}

/* The number at a dotted @path ("locks.zone.acquisitions"), 0 if none. */
static double num(const json_t *j, const char *path)
{
	char key[64];

	while (j && *path) {
		size_t n = strcspn(path, ".");

		snprintf(key, sizeof(key), "%.*s", (int)n, path);
		j = json_object_get(j, key);
		path += n + (path[n] == '.');
	}
	return json_is_number(j) ? json_number_value(j) : 0;
}

/* One process's figures from its report; seconds are the run's. */
static void process_metrics(const json_t *j, double *m)
{
	double pages =
		num(j, "preload.faults.pages") + num(j, "preload.eager_pages");

	m[EM_pages] = pages;
	m[EM_zone_acq] = num(j, "locks.zone.acquisitions");
	m[EM_acq_per_1k] = pages ? 1000.0 * m[EM_zone_acq] / pages : 0;
	m[EM_hold_p99] = num(j, "locks.zone.hold_ns.p99");
	m[EM_hold_max] = num(j, "locks.zone.hold_ns.max");
	m[EM_pcp_contended] = num(j, "locks.pcp.contended");
	m[EM_pcp_trylock_failed] = num(j, "locks.pcp.trylock_failed");
	m[EM_remote] = num(j, "preload.cross_thread_free_fraction");
}

/*
 * The reports in @dir (one per process) into @m, summed (hold percentiles:
 * the largest; the remote fraction: weighted by pages), and into
 * *@procs as [{"pid", "process", figures..., "report"}].  The files go.
 * Return: how many processes reported.
 */
static int collect_reports(const char *dir, double *m, json_t **procs)
{
	double remote = 0;
	struct dirent *de;
	int n = 0, k;
	DIR *d = opendir(dir);

	*procs = json_array();
	while (d && (de = readdir(d))) {
		char path[PATH_MAX + 256];
		double pm[NR_EXEC_METRICS] = { 0 };
		json_t *j, *row;

		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		j = json_load_file(path, 0, NULL);
		unlink(path);
		if (!json_is_object(j)) {
			json_decref(j);
			continue;
		}
		process_metrics(j, pm);
		for (k = EM_pages; k < NR_EXEC_METRICS; k++)
			if (k == EM_hold_p99 || k == EM_hold_max)
				m[k] = pm[k] > m[k] ? pm[k] : m[k];
			else if (k != EM_acq_per_1k && k != EM_remote)
				m[k] += pm[k];
		remote += pm[EM_remote] * pm[EM_pages];
		row = json_pack(
			"{s:O, s:O}", "pid",
			json_object_get(json_object_get(j, "preload"), "pid"),
			"process",
			json_object_get(json_object_get(j, "preload"),
					"process"));
		for (k = EM_pages; k < NR_EXEC_METRICS; k++)
			json_object_set_new(row, metric_names[k],
					    json_real(pm[k]));
		json_object_set_new(row, "report", j);
		json_array_append_new(*procs, row);
		n++;
	}
	if (d)
		closedir(d);
	rmdir(dir);
	m[EM_acq_per_1k] =
		m[EM_pages] ? 1000.0 * m[EM_zone_acq] / m[EM_pages] : 0;
	m[EM_remote] = m[EM_pages] ? remote / m[EM_pages] : 0;
	return n;
}

/*
 * One run: fork, exec PROGRAM with the environment, wait, read back every
 * process's report from @dir.  Return: 0, or -ECHILD (PROGRAM failed) or
 * -ENOENT (no report) with *@why saying so; *@procs is set either way.
 */
static int run_one(const char *lib, const char *config, char **prog,
		   const char *mode, const char *mem, bool thp, const char *dir,
		   double *m, json_t **procs, char *why, size_t why_len)
{
	double start = wl_now();
	char report[PATH_MAX + 16];
	int status, n;
	pid_t pid;

	*procs = NULL;
	if (mkdir(dir, 0700))
		return -errno;
	snprintf(report, sizeof(report), "%s/%%p.json", dir);
	pid = fork();
	if (pid < 0)
		return -errno;
	if (pid == 0) {
		setenv("LD_PRELOAD", lib, 1);
		setenv("PCPBUDDY_REPORT", report, 1);
		if (config)
			setenv("PCPBUDDY_CONFIG", config, 1);
		if (mode)
			setenv("PCPBUDDY_MODE", mode, 1);
		if (mem)
			setenv("PCPBUDDY_MEM", mem, 1);
		if (thp)
			setenv("PCPBUDDY_THP", "1", 1);
		dup2(STDERR_FILENO, STDOUT_FILENO);
		execvp(prog[0], prog);
		fprintf(stderr, "pcpbuddy exec: %s: %s\n", prog[0],
			strerror(errno));
		_exit(127);
	}
	if (waitpid(pid, &status, 0) < 0)
		return -errno;
	m[EM_seconds] = wl_now() - start;
	n = collect_reports(dir, m, procs);
	if (!WIFEXITED(status) || WEXITSTATUS(status)) {
		if (WIFEXITED(status))
			snprintf(why, why_len, "exit status %d",
				 WEXITSTATUS(status));
		else
			snprintf(why, why_len, "killed by signal %d",
				 WTERMSIG(status));
		return -ECHILD;
	}
	if (!n) {
		snprintf(why, why_len,
			 "no report (no process made an mmap the shim saw)");
		return -ENOENT;
	}
	return 0;
}

static const struct option exec_options[] = {
	{ "help", no_argument, NULL, 'h' },
	{ "configs", required_argument, NULL, 'C' },
	{ "runs", required_argument, NULL, 'r' },
	{ "mode", required_argument, NULL, 'm' },
	{ "mem", required_argument, NULL, 'M' },
	{ "thp", no_argument, NULL, 't' },
	{ "json", no_argument, NULL, 'j' },
	{ NULL, 0, NULL, 0 },
};

int cmd_exec_main(int argc, char **argv)
{
	struct wl_args args;
	bool in_configs = false;
	const char *val;
	int opt;
	const char *configs[EXEC_MAX_CONFIGS] = { NULL };
	const char *mode = NULL, *mem = NULL;
	static double m[EXEC_MAX_CONFIGS][EXEC_MAX_RUNS][NR_EXEC_METRICS];
	static json_t *procs[EXEC_MAX_CONFIGS][EXEC_MAX_RUNS];
	static char why[EXEC_MAX_CONFIGS][EXEC_MAX_RUNS][96];
	char lib[PATH_MAX], dir[] = "/tmp/pcpbuddy-exec.XXXXXX", path[PATH_MAX];
	int nc = 0, runs = 1, c, r, k, rc = 0, dash = -1, failed = 0;
	bool thp = false, json = false;

	wl_args_init(&args, "pcpbuddy exec", argc, argv, "h", exec_options);
	while ((opt = wl_args_next(&args, &val)) != -1) {
		bool after_configs = in_configs;
		double x;

		in_configs = false;
		switch (opt) {
		case 'h':
			fputs(exec_usage, stdout);
			return 0;
		case 1:
			if (!after_configs)
				return wl_usage_error(
					"pcpbuddy exec",
					"unknown argument '%s' (the program goes after --)",
					val);
			/* one more configuration */
			__attribute__((fallthrough));
		case 'C':
			if (nc == EXEC_MAX_CONFIGS)
				return wl_usage_error(
					"pcpbuddy exec",
					"at most %d configurations",
					EXEC_MAX_CONFIGS);
			configs[nc++] = val;
			in_configs = true;
			break;
		case 'r':
			if (parse_number(val, 1, EXEC_MAX_RUNS, true, &x))
				return wl_usage_error(
					"pcpbuddy exec",
					"--runs: '%s' is not 1..%d", val,
					EXEC_MAX_RUNS);
			runs = (int)x;
			break;
		case 'm':
			if (strcmp(val, "fault") && strcmp(val, "eager"))
				return wl_usage_error(
					"pcpbuddy exec",
					"--mode: '%s' is not fault or eager",
					val);
			mode = val;
			break;
		case 'M':
			mem = val;
			break;
		case 't':
			thp = true;
			break;
		case 'j':
			json = true;
			break;
		default:
			return 2;
		}
	}
	/* getopt_long() stopped at "--": the program follows it */
	if (args.optind > 1 && args.optind <= argc &&
	    !strcmp(argv[args.optind - 1], "--"))
		dash = args.optind - 1;
	if (dash < 0 || dash + 1 >= argc)
		return wl_usage_error("pcpbuddy exec",
				      "needs -- PROGRAM [ARGS...]");
	if (!nc)
		nc = 1; /* configs[0] NULL: the default configuration */
	for (c = 0; c < nc; c++) {
		struct pcpb_config cfg;
		char err[256];

		pcpb_config_init(&cfg);
		if (configs[c] &&
		    pcpb_config_parse(&cfg, configs[c], err, sizeof(err)))
			return wl_usage_error("pcpbuddy exec",
					      "--configs '%s': %s", configs[c],
					      err);
	}
	if ((rc = preload_path(lib, sizeof(lib)))) {
		fprintf(stderr, "pcpbuddy exec: %s: %s (build it: make)\n", lib,
			strerror(-rc));
		return 1;
	}
	if (!mkdtemp(dir)) {
		perror("pcpbuddy exec: mkdtemp");
		return 1;
	}
	memset(m, 0, sizeof(m));
	memset(why, 0, sizeof(why));
	for (r = 0; r < runs; r++)
		for (c = 0; c < nc; c++) {
			int err;

			snprintf(path, sizeof(path), "%s/%d-%d", dir, c, r);
			wl_progress("exec", (double)(r * nc + c),
				    (double)(runs * nc), (uint64_t)r);
			err = run_one(lib, configs[c], argv + dash + 1, mode,
				      mem, thp, path, m[c][r], &procs[c][r],
				      why[c][r], sizeof(why[c][r]));
			if (err && !why[c][r][0])
				snprintf(why[c][r], sizeof(why[c][r]), "%s",
					 strerror(-err));
			if (err) {
				failed++;
				fprintf(stderr,
					"pcpbuddy exec: %s, configuration '%s', run %d: %s\n",
					argv[dash + 1],
					configs[c] ? configs[c] : "", r + 1,
					why[c][r]);
			}
		}
	rmdir(dir);
	if (json) {
		json_t *root = json_pack(
			"{s:i, s:s, s:i, s:[]}", "schema", WL_JSON_SCHEMA,
			"program", argv[dash + 1], "runs", runs, "results");

		for (c = 0; c < nc; c++) {
			json_t *res =
				json_pack("{s:s, s:[]}", "config",
					  configs[c] ? configs[c] : "", "runs");

			for (r = 0; r < runs; r++) {
				json_t *run = json_object();

				for (k = 0; k < NR_EXEC_METRICS; k++)
					json_object_set_new(
						run, metric_names[k],
						json_real(m[c][r][k]));
				json_object_set_new(
					run, "failed",
					why[c][r][0] ? json_string(why[c][r])
						     : json_null());
				json_object_set_new(
					run, "processes",
					procs[c][r] ? json_incref(procs[c][r])
						    : json_array());
				json_array_append_new(
					json_object_get(res, "runs"), run);
			}
			json_array_append_new(json_object_get(root, "results"),
					      res);
		}
		json_dumpf(root, stdout, JSON_INDENT(1));
		fputc('\n', stdout);
		json_decref(root);
	} else {
		printf("exec %s: %d configuration%s x %d run%s; medians of the runs that succeeded, each the sum over its processes\n\n%-40s %6s",
		       argv[dash + 1], nc, nc > 1 ? "s" : "", runs,
		       runs > 1 ? "s" : "", "config", "procs");
		for (k = 0; k < NR_EXEC_METRICS; k++)
			printf(" %14s", metric_labels[k]);
		printf("\n");
		for (c = 0; c < nc; c++) {
			double v[EXEC_MAX_RUNS];
			int ok = 0;

			for (r = 0; r < runs; r++)
				if (!why[c][r][0])
					v[ok++] = (double)json_array_size(
						procs[c][r]);
			printf("%-40.40s",
			       configs[c] ? configs[c] : "(default)");
			if (!ok) {
				printf(" every run failed\n");
				continue;
			}
			printf(" %6.0f", wl_median(v, ok));
			for (k = 0; k < NR_EXEC_METRICS; k++) {
				ok = 0;
				for (r = 0; r < runs; r++)
					if (!why[c][r][0])
						v[ok++] = m[c][r][k];
				printf(k == EM_seconds || k == EM_remote ||
						       k == EM_acq_per_1k
					       ? " %14.3f"
					       : " %14.0f",
				       wl_median(v, ok));
			}
			printf("\n");
		}
		/* Each process of each configuration's first good run. */
		printf("\nper process (the first run that succeeded):\n");
		for (c = 0; c < nc; c++)
			for (r = 0; r < runs; r++) {
				const json_t *pr;
				size_t pi;

				if (why[c][r][0])
					continue;
				json_array_foreach(procs[c][r], pi, pr)
				{
					printf("  %-30.30s pid %-8lld %-16s",
					       configs[c] ? configs[c]
							  : "(default)",
					       (long long)json_integer_value(
						       json_object_get(pr,
								       "pid")),
					       json_string_value(
						       json_object_get(
							       pr, "process"))
						       ?: "?");
					printf(" pages %.0f zone acq %.0f\n",
					       num(pr, "pages"),
					       num(pr, "zone_acq"));
				}
				break;
			}
		if (failed)
			printf("\n%d of %d runs failed (above, on stderr)\n",
			       failed, runs * nc);
	}
	for (c = 0; c < nc; c++)
		for (r = 0; r < runs; r++)
			json_decref(procs[c][r]);
	return failed ? 1 : 0;
}
