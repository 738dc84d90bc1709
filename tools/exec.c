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
 * libpcpbuddy-preload.so next to this binary and PCPBUDDY_REPORT to a
 * temporary JSON file, which is read back.  Runs are interleaved (run 1 of
 * every configuration, then run 2, ...), as compare does, and the table
 * shows medians.
 *
 * Invariants: every temporary report is removed.  Locking: single-threaded.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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
	"PROGRAM's output goes to stderr.  Exit: 0, 1 if PROGRAM failed or a\n"
	"report is missing, 2 for bad arguments.\n";

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

/* One run: fork, exec PROGRAM with the environment, wait, read back. */
static int run_one(const char *lib, const char *config, char **prog,
		   const char *mode, const char *mem, bool thp,
		   const char *report, double *m, char **json_out)
{
	double start = wl_now(), pages;
	char *text;
	json_t *j;
	int status;
	pid_t pid = fork();

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
	if (!WIFEXITED(status) || WEXITSTATUS(status)) {
		fprintf(stderr, "pcpbuddy exec: %s %s (config '%s')\n", prog[0],
			WIFEXITED(status) ? "failed" : "was killed",
			config ? config : "");
		unlink(report);
		return -ECHILD;
	}
	text = trace_read_text(report, NULL);
	unlink(report);
	j = text ? json_loads(text, 0, NULL) : NULL;
	if (!j) {
		fprintf(stderr,
			"pcpbuddy exec: no report from %s (it made no mmap the shim saw?)\n",
			prog[0]);
		free(text);
		return -ENOENT;
	}
	pages = num(j, "preload.faults.pages") + num(j, "preload.eager_pages");
	m[EM_pages] = pages;
	m[EM_zone_acq] = num(j, "locks.zone.acquisitions");
	m[EM_acq_per_1k] = pages ? 1000.0 * m[EM_zone_acq] / pages : 0;
	m[EM_hold_p99] = num(j, "locks.zone.hold_ns.p99");
	m[EM_hold_max] = num(j, "locks.zone.hold_ns.max");
	m[EM_pcp_contended] = num(j, "locks.pcp.contended");
	m[EM_pcp_trylock_failed] = num(j, "locks.pcp.trylock_failed");
	m[EM_remote] = num(j, "preload.cross_thread_free_fraction");
	json_decref(j);
	*json_out = text;
	return 0;
}

int cmd_exec_main(int argc, char **argv)
{
	const char *configs[EXEC_MAX_CONFIGS] = { NULL };
	const char *mode = NULL, *mem = NULL;
	static double m[EXEC_MAX_CONFIGS][EXEC_MAX_RUNS][NR_EXEC_METRICS];
	static char *reports[EXEC_MAX_CONFIGS][EXEC_MAX_RUNS];
	char lib[PATH_MAX], dir[] = "/tmp/pcpbuddy-exec.XXXXXX", path[PATH_MAX];
	int nc = 0, runs = 1, i, c, r, k, rc = 0, dash = -1;
	bool thp = false, json = false;

	for (i = 1; i < argc; i++)
		if (!strcmp(argv[i], "--")) {
			dash = i;
			break;
		}
	for (i = 1; i < (dash < 0 ? argc : dash); i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;

		if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
			fputs(exec_usage, stdout);
			return 0;
		} else if (!strcmp(a, "--configs")) {
			while (i + 1 < (dash < 0 ? argc : dash) &&
			       argv[i + 1][0] != '-') {
				if (nc == EXEC_MAX_CONFIGS)
					return wl_usage_error(
						"pcpbuddy exec",
						"at most %d configurations",
						EXEC_MAX_CONFIGS);
				configs[nc++] = argv[++i];
			}
		} else if (!strcmp(a, "--runs") && v) {
			double x;

			if (parse_number(v, 1, EXEC_MAX_RUNS, true, &x))
				return wl_usage_error(
					"pcpbuddy exec",
					"--runs: '%s' is not 1..%d", v,
					EXEC_MAX_RUNS);
			runs = (int)x;
			i++;
		} else if (!strcmp(a, "--mode") && v) {
			if (strcmp(v, "fault") && strcmp(v, "eager"))
				return wl_usage_error(
					"pcpbuddy exec",
					"--mode: '%s' is not fault or eager",
					v);
			mode = argv[++i];
		} else if (!strcmp(a, "--mem") && v) {
			mem = argv[++i];
		} else if (!strcmp(a, "--thp")) {
			thp = true;
		} else if (!strcmp(a, "--json")) {
			json = true;
		} else {
			return wl_usage_error("pcpbuddy exec",
					      "unknown argument '%s'", a);
		}
	}
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
	for (r = 0; r < runs && !rc; r++)
		for (c = 0; c < nc && !rc; c++) {
			snprintf(path, sizeof(path), "%s/%d-%d.json", dir, c,
				 r);
			wl_progress("exec", (double)(r * nc + c),
				    (double)(runs * nc), (uint64_t)r);
			rc = run_one(lib, configs[c], argv + dash + 1, mode,
				     mem, thp, path, m[c][r], &reports[c][r]);
		}
	rmdir(dir);
	if (!rc && json) {
		printf("{\"schema\": %d, \"program\": ", WL_JSON_SCHEMA);
		json_fputs_string(stdout, argv[dash + 1]);
		printf(", \"runs\": %d, \"results\": [", runs);
		for (c = 0; c < nc; c++) {
			printf("%s\n  {\"config\": ", c ? "," : "");
			json_fputs_string(stdout, configs[c] ? configs[c] : "");
			printf(", \"runs\": [");
			for (r = 0; r < runs; r++) {
				printf("%s\n    {", r ? "," : "");
				for (k = 0; k < NR_EXEC_METRICS; k++) {
					printf("\"%s\": ", metric_names[k]);
					json_fputs_number(stdout, m[c][r][k]);
					printf(", ");
				}
				printf("\"report\": %s}", reports[c][r]);
			}
			printf("]}");
		}
		printf("\n]}\n");
	} else if (!rc) {
		printf("exec %s: %d configuration%s x %d run%s; medians\n\n%-40s",
		       argv[dash + 1], nc, nc > 1 ? "s" : "", runs,
		       runs > 1 ? "s" : "", "config");
		for (k = 0; k < NR_EXEC_METRICS; k++)
			printf(" %14s", metric_labels[k]);
		printf("\n");
		for (c = 0; c < nc; c++) {
			printf("%-40.40s",
			       configs[c] ? configs[c] : "(default)");
			for (k = 0; k < NR_EXEC_METRICS; k++) {
				double v[EXEC_MAX_RUNS], med;

				for (r = 0; r < runs; r++)
					v[r] = m[c][r][k];
				med = wl_median(v, runs);
				printf(k == EM_seconds || k == EM_remote ||
						       k == EM_acq_per_1k
					       ? " %14.3f"
					       : " %14.0f",
				       med);
			}
			printf("\n");
		}
	}
	for (c = 0; c < nc; c++)
		for (r = 0; r < runs; r++)
			free(reports[c][r]);
	return rc ? 1 : 0;
}
