/* SPDX-License-Identifier: GPL-2.0-only OR MIT */
/*
 * runs.h - what compare and sweep share: the metrics of one run, applying a
 * --configs string (driver options and config keys), and running a
 * workload once on a fresh instance.
 *
 * Invariants: every run ends with pcpb_check() passing and no page
 * allocated, or the run reports failure.
 * Locking: one instance at a time; the driver owns its threads.
 */
#ifndef PCPB_RUNS_H
#define PCPB_RUNS_H

#include "commands.h"
#include "stats.h"

#define MAX_CONFIGS 16
#define MAX_RUNS 25

/* clang-format off */
#define COMPARE_METRICS(X)						\
	X(throughput, "ops/s", 0)					\
	X(zone_acq_per_1k_pages, "zone acq/1k pages", 2)		\
	X(zone_moved_per_1k_pages, "moved/1k pages", 0)		\
	X(pfn_scan_per_1k_pages, "scan/1k pages", 1)		\
	X(freelist_ops_per_1k_pages, "list ops/1k pages", 0)	\
	X(zone_hold_p50, "clean hold p50", 0)			\
	X(zone_hold_p99, "clean hold p99", 0)			\
	X(zone_hold_max, "clean hold max", 0)			\
	X(zone_wait_p99, "clean wait p99", 0)			\
	X(zone_hold_max_raw, "raw hold max", 0)			\
	X(zone_holds_disturbed, "disturbed holds", 0)		\
	X(zone_hold_model_p99, "model p99", 0)			\
	X(zone_hold_model_max, "model max", 0)			\
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
extern const char *const metric_names[];
#define METRIC_TITLE(name, title, fmt) title,
extern const char *const metric_titles[];
#define METRIC_DECIMALS(name, title, decimals) decimals,
extern const int metric_decimals[];

struct config_runs {
	const char *kv;
	double m[MAX_RUNS][NR_METRICS];
	double median[NR_METRICS], lo[NR_METRICS], hi[NR_METRICS];
	struct sample_stats st[NR_METRICS]; /* mean, sd, cv over the runs */
	/* Each metric against the first configuration's (compare_to_base) */
	struct ratio_stats vs_base[NR_METRICS];
	int runs;
	char *report; /* JSON of the last run */
};

/* The metrics measured in time, which vary from run to run; the others
 * are counts that repeat for the same work. */
bool metric_is_timed(int k);
/* Fill every configuration's vs_base against cs[0]. */
void compare_to_base(struct config_runs *cs, int n);
/* Warnings a reader must see: a throughput ratio whose interval contains
 * 1.0, or a timed metric whose CV is above 10%.  Return: how many. */
int print_warnings(FILE *f, const struct config_runs *cs, int n,
		   unsigned int metrics);

void metrics_of(struct pcpb *inst, const struct wl_result *res, double *m);
void summarize_runs(struct config_runs *c, int runs);
char *report_json(struct pcpb *inst, const struct pcpb_stats *st);
int apply_kv(const struct workload *w, const char *kv, struct pcpb_config *cfg,
	     void *priv, char *err, size_t len);

/*
 * A compare-like command's arguments (compare, sweep): getopt_long() over
 * its own options @own (vals below WL_OPT_COMMON; CMD_OPT_CONFIGS takes
 * the strings after it too) and the run's, which are passed on by name
 * into ca->rest for prepare_runs().  argv[0] is the workload's name.
 * cmd_args_next() returns an own option's val (*@val its value),
 * CMD_OPT_CONFIGS once per configuration string, WL_OPT_COMMON + 'h' for
 * --help, -1 at the end, -2 after an error message.
 */
#define CMD_OPT_CONFIGS 0x100
struct cmd_args {
	struct wl_optset set;
	struct wl_args args;
	char **rest; /* strdup()ed, freed by cmd_args_end() */
	int nrest;
	bool in_configs;
};
/* Return: 0, or -1 without memory. */
int cmd_args_begin(struct cmd_args *ca, const char *prog,
		   const struct workload *w, const struct option *own,
		   const char *own_short, int argc, char **argv);
int cmd_args_next(struct cmd_args *ca, const char **val);
void cmd_args_end(struct cmd_args *ca);
int validate_configs(const struct workload *w, const struct pcpb_config *base,
		     const void *priv, const struct config_runs *cs, int n,
		     char *err, size_t len);
/* One run of @c on a fresh instance into c->m[r]; @stats, when not NULL,
 * gets the measured phase's counters.  Return: 0, or 1 (said on stderr). */
int run_one(const struct workload *w, const struct wl_opts *base,
	    const void *priv_proto, struct config_runs *c, int r,
	    bool keep_report, struct pcpb_stats *stats);
bool prepare_runs(const char *cmd, const struct workload *w, int argc,
		  char **argv, struct wl_opts *o, void **priv,
		  const struct config_runs *cs, int n, int *exit_code);

#endif /* PCPB_RUNS_H */
