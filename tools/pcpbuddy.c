// SPDX-License-Identifier: GPL-2.0-only OR MIT
/*
 * pcpbuddy.c - the command line: main() and the command table; each
 * command is a main() of its own in tools/ (commands.h), on the workload
 * drivers (workloads/) and the trace library (trace/).
 *
 * Exit codes: 0 ok, 1 the run failed (e.g. an invariant check), 2 bad
 * arguments (the message names the argument).
 *
 * Invariants: none.  Locking: single-threaded until a driver starts.
 */
#include <ctype.h>
#include <stdbool.h>
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"

static const char usage[] =
	"usage: pcpbuddy [COMMAND [ARGS]]\n"
	"\n"
	"A userspace port of the Linux zone/PCP page allocator.\n"
	"\n"
	"commands:\n"
	"  run WORKLOAD [options]   run a workload driver and print a report\n"
	"  compare WORKLOAD --configs A B ... [--runs R]\n"
	"                           run it on each configuration, one table\n"
	"  sweep WORKLOAD --param NAME=V1,V2,... --configs A B ... [-o FILE]\n"
	"                           compare at each value, one JSON/CSV table\n"
	"                           (--emit-jobs FILE: one command per point)\n"
	"  collect DIR [-o FILE]    the points of an emitted sweep's jobs, merged\n"
	"                           into the table sweep writes\n"
	"  calibrate [-o FILE]      the modelled zone->lock hold's costs, measured\n"
	"                           here (--config hold_cost=@FILE)\n"
	"  plot SWEEP.json -o OUT.png [--metric NAME]\n"
	"                           draw a sweep with gnuplot\n"
	"  capture [-o TRACE] -- COMMAND [ARGS...]\n"
	"                           the kernel's kmem page events and start state\n"
	"                           while COMMAND runs (root)\n"
	"  import ftrace FILE -o TRACE [--zoneinfo FILE]\n"
	"                           kernel kmem: tracepoint text to a trace\n"
	"  trace info TRACE         what a trace holds\n"
	"  fidelity TRACE [--tolerance PCT] [--json]\n"
	"                           the model against the kernel's PCP markers,\n"
	"                           per CPU: PASS or FAIL\n"
	"  replay TRACE [--configs A B ...]\n"
	"                           replay a trace: simulated, threaded or paced\n"
	"  sim MODEL --cpus N1,N2,... [--configs A B ...] [-o FILE]\n"
	"                           mixed, purge, exit or fragment on N CPUs,\n"
	"                           one thread, swept over N\n"
	"  exec [--configs A B ...] [--runs R] -- PROGRAM [ARGS...]\n"
	"                           a real program under the LD_PRELOAD backend,\n"
	"                           one table per configuration\n"
	"  config [--config k=v]    print the effective configuration\n"
	"  show VIEW[,VIEW] [--config k=v]\n"
	"                           a new instance as /proc shows it: buddyinfo,\n"
	"                           pagetypeinfo, zoneinfo, extfrag, unusable\n"
	"                           (after a workload: run WORKLOAD --show VIEW)\n"
	"  help                     this text\n"
	"\n"
	"With no command, runs the showcase: classic against owner on purge and\n"
	"exit, and the four fallback modes on fragment (about 15 s).\n"
	"Each command and workload takes --help.\n";

static void list_workloads(FILE *f)
{
	int i;

	fprintf(f, "workloads:\n");
	for (i = 0; wl_registry[i]; i++)
		fprintf(f, "  %-10s %s\n", wl_registry[i]->name,
			wl_registry[i]->summary);
}

static int cmd_run(int argc, char **argv)
{
	const struct workload *w;

	if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
		printf("usage: pcpbuddy run WORKLOAD [--threads N] [--seconds S] [--seed X]\n"
		       "                    [--config k=v,...] [--json|--csv]\n\n");
		list_workloads(stdout);
		return argc < 2 ? 2 : 0;
	}
	w = wl_find(argv[1]);
	if (w)
		return wl_run_main(w, argc - 1, argv + 1);
	fprintf(stderr, "pcpbuddy run: unknown workload '%s'\n", argv[1]);
	list_workloads(stderr);
	return 2;
}

/* What the instance derives from the config: batch, high, watermarks. */
static int print_effective(const struct pcpb_config *cfg)
{
	struct pcpb_config c = *cfg;
	struct pcpb *inst;
	int n, rc;

	c.vmstat_ms = 0;
	c.backing = PCPB_BACKING_NONE;
	rc = pcpb_create(&c, &inst);
	if (rc) {
		fprintf(stderr, "pcpbuddy config: cannot create it: %s\n",
			wl_create_strerror(rc));
		return 1;
	}
	for (n = 0; n < pcpb_nr_nodes(inst); n++) {
		struct pcpb_watermarks wm;
		struct pcpb_pageset ps;

		pcpb_node_watermarks(inst, n, &wm);
		pcpb_node_pageset(inst, n, &ps);
		printf("effective: node %d: managed %llu pages, batch %d, high_min %d, high_max %d, watermarks min %llu low %llu high %llu\n",
		       n, (unsigned long long)ps.managed_pages, ps.batch,
		       ps.high_min, ps.high_max, (unsigned long long)wm.min,
		       (unsigned long long)wm.low, (unsigned long long)wm.high);
	}
	pcpb_destroy(inst);
	return ferror(stdout) ? 1 : 0;
}

static const struct option config_options[] = {
	{ "help", no_argument, NULL, 'h' },
	{ "config", required_argument, NULL, 'C' },
	{ NULL, 0, NULL, 0 },
};

static int cmd_config(int argc, char **argv)
{
	struct pcpb_config cfg;
	char err[256], buf[1024];
	struct wl_args args;
	const char *val;
	int c;

	pcpb_config_init(&cfg);
	wl_args_init(&args, "pcpbuddy config", argc, argv, "h", config_options);
	while ((c = wl_args_next(&args, &val)) != -1) {
		if (c == 'h') {
			printf("usage: pcpbuddy config [--config k=v,...]\n"
			       "Prints the configuration after applying the keys.\n\n");
			return pcpb_config_help(stdout) ? 1 : 0;
		}
		if (c == 1)
			return wl_usage_error("pcpbuddy config",
					      "unknown argument '%s'", val);
		if (c != 'C')
			return 2;
		if (pcpb_config_parse(&cfg, val, err, sizeof(err))) {
			fprintf(stderr, "pcpbuddy config: --config: %s\n", err);
			return 2;
		}
	}
	pcpb_config_format(&cfg, buf, sizeof(buf));
	printf("%s\n", buf);
	pcpb_config_profile(&cfg, buf, sizeof(buf));
	printf("%s\n", buf);
	return print_effective(&cfg);
}

/* 'pcpbuddy show VIEW,... [--config k=v]': a new instance's state. */
static int cmd_show(int argc, char **argv)
{
	struct pcpb_config cfg;
	struct pcpb *inst;
	const char *views = NULL, *val;
	struct wl_args args;
	char err[256];
	int c, rc;

	pcpb_config_init(&cfg);
	wl_args_init(&args, "pcpbuddy show", argc, argv, "h", config_options);
	while ((c = wl_args_next(&args, &val)) != -1) {
		if (c == 'h') {
			printf("usage: pcpbuddy show VIEW[,VIEW...] [--config k=v,...]\n\n"
			       "A new instance of the configuration laid out as the kernel's\n"
			       "/proc files, one line per node's zone:\n"
			       "  buddyinfo     free blocks per order (/proc/buddyinfo)\n"
			       "  pagetypeinfo  free blocks per order and type, pageblocks per\n"
			       "                type (/proc/pagetypeinfo)\n"
			       "  zoneinfo      watermarks and per-CPU pagesets (/proc/zoneinfo)\n"
			       "  extfrag       fragmentation index per order (debugfs\n"
			       "                extfrag/extfrag_index)\n"
			       "  unusable      unusable free space index per order (debugfs\n"
			       "                extfrag/unusable_index)\n"
			       "For the state a workload leaves: pcpbuddy run WORKLOAD --show VIEW\n");
			return 0;
		}
		if (c == 'C') {
			if (pcpb_config_parse(&cfg, val, err, sizeof(err))) {
				fprintf(stderr, "pcpbuddy show: --config: %s\n",
					err);
				return 2;
			}
		} else if (c == 1 && !views) {
			views = val;
		} else {
			return c == 1 ? wl_usage_error("pcpbuddy show",
						       "unknown argument '%s'",
						       val)
				      : 2;
		}
	}
	if (!views || wl_check_views(views, err, sizeof(err))) {
		fprintf(stderr, "pcpbuddy show: %s (try --help)\n",
			views ? err : "which view?");
		return 2;
	}
	rc = pcpb_create(&cfg, &inst);
	if (rc) {
		fprintf(stderr,
			"pcpbuddy show: cannot create the instance: %s\n",
			wl_create_strerror(rc));
		return 1;
	}
	/* One view prints bare, for diff against the /proc file. */
	if (strchr(views, ','))
		rc = wl_show(inst, stdout, views);
	else
		rc = pcpb_show(inst, stdout, views);
	pcpb_destroy(inst);
	return rc ? 1 : 0;
}

/* Run one compare from a fixed argument list. */
static int showcase_compare(const char *const *args)
{
	char *argv[32];
	int argc = 0;

	while (args[argc] && argc < 31) {
		argv[argc] = (char *)args[argc];
		argc++;
	}
	argv[argc] = NULL;
	printf("\n$ pcpbuddy");
	for (int i = 0; i < argc; i++)
		printf(" %s", argv[i]);
	printf("\n");
	fflush(stdout);
	return cmd_compare_main(argc, argv);
}

/*
 * The default: the threads' three headline experiments, about 20 s of work.
 * Each table is one 'pcpbuddy compare' the user can rerun and vary.
 */
static int showcase(void)
{
	static const char *const purge[] = {
		"compare",
		"purge",
		"--threads",
		"1",
		"--purgers",
		"1",
		"--seconds",
		"1.5",
		"--metrics",
		"throughput,zone_acq_per_1k_pages,zone_hold_p99,zone_hold_max,pcp_hit_rate",
		"--configs",
		"policy=classic",
		"policy=owner",
		"policy=owner,remote_free=llist",
		NULL
	};
	static const char *const exits[] = {
		"compare",
		"exit",
		"--threads",
		"2",
		"--runs",
		"3",
		"--metrics",
		"throughput,zone_acq_per_1k_pages,zone_hold_p99,zone_hold_max",
		"--configs",
		"policy=classic",
		"policy=owner",
		NULL
	};
	static const char *const fragment[] = {
		"compare",
		"fragment",
		"--threads",
		"1",
		"--seconds",
		"1.5",
		"--config",
		"memory=256M",
		"--metrics",
		"throughput,fallback_searches,claims,refill_hold_max,refill_cost_max",
		"--configs",
		"fallback=legacy",
		"fallback=hygiene",
		"fallback=smallest",
		"fallback=cached",
		NULL
	};
	int rc;

	printf("pcpbuddy: no command given; the showcase follows (about 15 s).\n"
	       "See 'pcpbuddy --help' for the commands, docs/results.md for what the tables mean.\n");
	rc = showcase_compare(purge);
	if (!rc)
		rc = showcase_compare(exits);
	if (!rc)
		rc = showcase_compare(fragment);
	return rc;
}

/*
 * replay and sim rewrite their arguments into another command's before
 * getopt_long() sees them, so they read the few options they rewrite in
 * both of its forms: --NAME VALUE and --NAME=VALUE.
 */
static bool is_option(const char *arg, const char *name)
{
	size_t len = strlen(name);

	return !strncmp(arg, name, len) && (!arg[len] || arg[len] == '=');
}

/* The value of --NAME at argv[*i] in either form, stepping *i; or NULL. */
static const char *option_value(int argc, char **argv, int *i, const char *name)
{
	const char *eq = strchr(argv[*i], '=');

	if (!is_option(argv[*i], name))
		return NULL;
	if (eq)
		return eq + 1;
	return *i + 1 < argc ? argv[++*i] : NULL;
}

/*
 * 'pcpbuddy replay TRACE [--configs ...] ...' is 'run replay --trace TRACE',
 * or with --configs 'compare replay --trace TRACE ...'.
 */
static int cmd_replay(int argc, char **argv)
{
	char **args = calloc((size_t)argc + 4, sizeof(char *));
	static char cmp[] = "compare", rep[] = "replay", trace[] = "--trace",
		    threaded[] = "--threaded";
	bool configs = false;
	int i, n = 0, rc;

	if (!args)
		return 1;
	if (argc < 2 || argv[1][0] == '-') {
		free(args);
		return wl_run_main(wl_find("replay"), argc, argv); /* --help */
	}
	for (i = 2; i < argc; i++)
		configs |= is_option(argv[i], "--configs");
	if (configs)
		args[n++] = cmp;
	args[n++] = rep;
	args[n++] = trace;
	args[n++] = argv[1];
	for (i = 2; i < argc; i++) {
		/* Here --threads is the mode, as in --sim|--threads: the
		 * thread count is the trace's CPU count (or --cpus N). */
		if (is_option(argv[i], "--threads")) {
			if (strchr(argv[i], '=') ||
			    (i + 1 < argc &&
			     isdigit((unsigned char)argv[i + 1][0]))) {
				fprintf(stderr,
					"pcpbuddy replay: --threads takes no count: one thread replays each CPU; --cpus N sets how many\n");
				free(args);
				return 2;
			}
			args[n++] = threaded;
			continue;
		}
		args[n++] = argv[i];
	}
	rc = configs ? cmd_compare_main(n, args)
		     : wl_run_main(wl_find("replay"), n, args);
	free(args);
	return rc;
}

/*
 * 'pcpbuddy sim MODEL --cpus N1,N2,... [--configs ...]' is 'sweep sim
 * --model MODEL --param cpus=N1,N2,...', on classic, chunky and owner
 * unless --configs says otherwise; without --cpus it is one run.
 */
static int cmd_sim(int argc, char **argv)
{
	static char sweep[] = "sweep", sim[] = "sim", model[] = "--model",
		    param[] = "--param", configs[] = "--configs",
		    classic[] = "policy=classic", chunky[] = "policy=chunky",
		    owner[] = "policy=owner";
	char **args = calloc((size_t)argc + 10, sizeof(char *));
	char *cpus = NULL;
	bool has_configs = false;
	int i, n = 0, rc;

	if (!args)
		return 1;
	if (argc < 2 || argv[1][0] == '-') {
		free(args);
		return wl_run_main(wl_find("sim"), argc, argv); /* --help */
	}
	args[n++] = sweep;
	args[n++] = sim;
	args[n++] = model;
	args[n++] = argv[1];
	for (i = 2; i < argc; i++) {
		const char *list = option_value(argc, argv, &i, "--cpus");

		if (list && cpus) {
			fprintf(stderr,
				"pcpbuddy sim: --cpus once, as a list: --cpus 1,2,4\n");
			rc = 2;
			goto out;
		}
		if (list) {
			cpus = malloc(strlen(list) + 6);
			if (!cpus)
				break;
			sprintf(cpus, "cpus=%s", list);
			args[n++] = param;
			args[n++] = cpus;
			continue;
		}
		has_configs |= is_option(argv[i], "--configs");
		args[n++] = argv[i];
	}
	if (!cpus) {
		rc = wl_run_main(wl_find("sim"), n - 1, args + 1);
	} else {
		if (!has_configs) {
			args[n++] = configs;
			args[n++] = classic;
			args[n++] = chunky;
			args[n++] = owner;
		}
		rc = cmd_sweep_main(n, args);
	}
out:
	free(cpus);
	free(args);
	return rc;
}

static int cmd_help(int argc, char **argv)
{
	(void)argc, (void)argv;
	fputs(usage, stdout);
	list_workloads(stdout);
	return ferror(stdout) ? 1 : 0;
}

static int cmd_version(int argc, char **argv);

/* The commands; 'pcpbuddy WORKLOAD ...' is 'pcpbuddy run WORKLOAD ...'. */
static const struct command {
	const char *name;
	int (*main)(int argc, char **argv);
} commands[] = {
	{ "run", cmd_run },
	{ "config", cmd_config },
	{ "show", cmd_show },
	{ "compare", cmd_compare_main },
	{ "sweep", cmd_sweep_main },
	{ "collect", cmd_collect_main },
	{ "calibrate", cmd_calibrate_main },
	{ "plot", cmd_plot_main },
	{ "exec", cmd_exec_main },
	{ "capture", cmd_capture_main },
	{ "import", cmd_import_main },
	{ "trace", cmd_trace_info_main },
	{ "replay", cmd_replay },
	{ "fidelity", cmd_fidelity_main },
	{ "sim", cmd_sim },
	{ "help", cmd_help },
	{ "--version", cmd_version },
	{ "version", cmd_version },
	{ "--help", cmd_help },
	{ "-h", cmd_help },
};

static int cmd_version(int argc, char **argv)
{
	(void)argc, (void)argv;
	printf("pcpbuddy %s\n", PCPB_VERSION);
	return 0;
}

int main(int argc, char **argv)
{
	size_t i;
	int rc = -1;

	if (argc < 2)
		rc = showcase();
	for (i = 0; rc < 0 && i < sizeof(commands) / sizeof(commands[0]); i++)
		if (!strcmp(argv[1], commands[i].name))
			rc = commands[i].main(argc - 1, argv + 1);
	if (rc < 0 && wl_find(argv[1]))
		rc = wl_run_main(wl_find(argv[1]), argc - 1, argv + 1);
	if (rc < 0) {
		fprintf(stderr, "pcpbuddy: unknown command '%s' (try --help)\n",
			argv[1]);
		return 2;
	}
	/* What went to stdout must have got there (a full disk, EIO). */
	errno = 0;
	if ((fflush(stdout) || ferror(stdout)) && !rc) {
		fprintf(stderr, "pcpbuddy: writing standard output: %s\n",
			strerror(errno ? errno : EIO));
		rc = 1;
	}
	return rc;
}
