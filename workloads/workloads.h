/* SPDX-License-Identifier: GPL-2.0-only OR MIT */
/*
 * workloads.h - workload drivers on top of the public API, and what they
 * share: option parsing, a seeded RNG, progress lines, and the registry the
 * CLI dispatches through.  Drivers use only pcpbuddy.h.
 *
 * Invariants: a driver frees every page it allocated before it reports, so
 * pcpb_check() after a run sees pages_allocated == 0.
 *
 * Locking: drivers synthesise their own threads; the allocator does the
 * rest.
 */
#ifndef PCPB_WORKLOADS_H
#define PCPB_WORKLOADS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "../include/pcpbuddy.h"
#include "../util/minmax.h"

/* Options every driver honours. */
struct wl_opts {
	int threads;
	double seconds;
	uint64_t ops; /* --ops: fixed work per thread instead of --seconds */
	uint64_t seed;
	struct pcpb_config cfg;
	bool cpus_given;      /* --config set cpus; else the driver picks */
	bool memory_pressure; /* --memory-pressure: hog, cache, reclaim */
	double hog;	      /* --hog: the hog's share of memory */
	struct wl_pressure *pressure; /* set while a run has pressure on */
	enum pcpb_format fmt;
	const char *record; /* --record FILE: write a trace of the run */
	const char *show;   /* --show V,...: pcpb_show() views, text only */
	/* --unit, --sort/-k, --fields/-F: the text report's lock table */
	const char *lock_unit, *lock_sort, *lock_fields;
	/* the --config strings as given, joined by ',' (wl_config_given()) */
	char config_text[1024];
};
/* Return: true when a --config option set @key. */
bool wl_config_given(const struct wl_opts *o, const char *key);

/* xoshiro-style generator seeded by splitmix64: cheap and repeatable. */
struct wl_rng {
	uint64_t s[2];
};

void wl_rng_seed(struct wl_rng *r, uint64_t seed);
uint64_t wl_rng_next(struct wl_rng *r);
static inline uint32_t wl_rng_below(struct wl_rng *r, uint32_t n)
{
	return (uint32_t)(((wl_rng_next(r) >> 32) * n) >> 32);
}

double wl_now(void);
/* A progress line on stderr, only for long runs on a terminal. */
void wl_progress(const char *name, double elapsed, double total, uint64_t ops);
/*
 * fragment's setup, shared with sim: @slab_fraction of memory as order-0
 * unmovable and reclaimable pages on CPU 0, then each slab block frees an
 * aligned 2^@hole_order hole and every eighth page, so that it stays less
 * than half free and a claim of it fails.  Return: the pinned pages
 * (*@nr_pinned of them; free them, then the array), NULL without memory.
 */
long *wl_build_slab(struct pcpb *inst, double slab_fraction,
		    unsigned int hole_order, size_t *nr_pinned);
void wl_progress_done(double total);

/* wl_opts' defaults (no --config: the config's defaults). */
void wl_opts_init(struct wl_opts *o);
/* The common options' help, after a driver's usage. */
void wl_common_help(FILE *out);

/*
 * Arguments through getopt_long() (args.c).  wl_args_next() returns an
 * option's val, 1 for a non-option argument (*@arg), -1 at the end (after
 * "--", a->optind is the first argument after it), or -2 after a message
 * naming the argument.  a->name is the option as "--name" or "-x".
 */
struct option;
struct workload;
struct wl_args {
	const char *prog;
	int argc, optind;
	char **argv;
	const struct option *longopts;
	char shortopts[64];
	char name[64];
};
void wl_args_init(struct wl_args *a, const char *prog, int argc, char **argv,
		  const char *shortopts, const struct option *longopts);
int wl_args_next(struct wl_args *a, const char **arg);

/*
 * A run's options as one getopt_long() table: a command's own (vals below
 * WL_OPT_COMMON), the common ones (WL_OPT_COMMON + a letter), the driver's
 * (WL_OPT_DRIVER + its index in w->options).  wl_optset_code() maps a short
 * option's character to its code.
 */
#define WL_OPT_COMMON 0x1000
#define WL_OPT_DRIVER 0x2000
struct wl_optset {
	struct option *longopts;
	char shortopts[48];
	int short_code[128];
};
/* Return: 0, or -1 without memory. */
int wl_optset_build(struct wl_optset *s, const struct workload *w,
		    const struct option *extra, const char *extra_short);
void wl_optset_free(struct wl_optset *s);
int wl_optset_code(const struct wl_optset *s, int c);
/* The long name of @code (to pass an option on), and whether it takes a
 * value (getopt.h's no_argument/required_argument). */
const char *wl_optset_name(const struct wl_optset *s, int code);
int wl_optset_has_arg(const struct wl_optset *s, int code);
/* One common option (@code from wl_optset_code()), @name as typed.
 * Return: 0, 1 for --help, or 2 after an error message. */
int wl_common_option(int code, const char *name, const char *val,
		     struct wl_opts *o, const char *prog);
/* Why pcpb_create() failed with @rc, for a message. */
const char *wl_create_strerror(int rc);
int wl_usage_error(const char *prog, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* What one run of a driver did, for the report line and for compare. */
struct wl_result {
	uint64_t ops; /* the driver's unit of work (allocations) */
	double seconds;
	char line[320]; /* one human line: what happened */
	uint64_t pages; /* pages moved, when not the allocated pages (exit) */
	char *table;	/* optional: a driver's own table, malloc()ed */
	/* The measured phase's counters and fragmentation, while the
	 * workload still held its pages (wl_measure_end()), malloc()ed;
	 * NULL: the report reads them after the run. */
	struct pcpb_stats *stats;
	/* Each CPU's PCP counters at the same point, malloc()ed, nr_cpus
	 * rows (fidelity compares them with a kernel's, per CPU). */
	uint64_t (*pcp_by_cpu)[PCPB_NR_PCP_STATS];
	int nr_cpus;
	/* --show: the views asked for (set before the run) and their text
	 * as of wl_measure_end(), malloc()ed; NULL: print them after. */
	const char *show;
	char *show_text;
	/* The driver's table as JSON rows for run --json (one object per
	 * row, the same columns as @table), or NULL. */
	struct json_t *rows; /* jansson's json_t */
};

/* run --json's "schema": raised when a field changes meaning or goes. */
#define WL_JSON_SCHEMA 2

/*
 * struct wl_option - one of a driver's own options, in the driver's params
 * struct (its priv).  On the command line it is --NAME VALUE (or
 * SHORT_NAME VALUE; a flag takes no value); in a --configs or --param
 * string it is NAME=VALUE (or SHORT_NAME=VALUE), unless @cli_only: then
 * the key goes to the allocator's config (a flag that is a shorthand for a
 * config key, such as --memcg).  Ranges are inclusive.
 */
struct workload;

enum wl_opt_type {
	WL_OPT_INT,    /* an integer in [lo, hi], into int or 64-bit fields */
	WL_OPT_DOUBLE, /* a finite number in [lo, hi] */
	WL_OPT_FLAG,   /* bool: present on the command line; on/off as a key */
	WL_OPT_ENUM,   /* one of names[] (NULL-terminated), its index */
	WL_OPT_STRING, /* into a char array of the field's size */
	WL_OPT_CHOICE, /* a command-line flag that stores (int)lo: --paced */
};

struct wl_option {
	const char *name;
	const char *short_name; /* e.g. "-w", or "--batch" for a CLI alias */
	enum wl_opt_type type;
	size_t offset, size;
	double lo, hi;
	const char *const *names;
	bool cli_only;
	const char *help;
};

#define WL_OPT(type_, name_, params, field, ...)                         \
	{                                                                \
		.name = name_, .type = type_,                            \
		.offset = offsetof(struct params, field),                \
		.size = sizeof(((struct params *)0)->field), __VA_ARGS__ \
	}

/*
 * wl_option_set - set a driver option by key (--configs, --param).  Return: 0, -ENOENT for a key the
 * driver does not have, -EINVAL for a bad value.
 */
int wl_option_set(const struct workload *w, void *priv, const char *key,
		  const char *value);
/* The driver option w->options[@index] from the command line, @name as
 * typed.  Return: 0, or 2 after a message naming it. */
int wl_driver_option(const struct workload *w, int index, const char *name,
		     const char *val, void *priv, const char *prog);
/* What the option accepts: "1..64", "a|b|c", "on|off". */
void wl_option_range(const struct wl_option *o, char *buf, size_t len);
/* The option table as help lines (after the driver's usage). */
void wl_options_help(const struct workload *w, FILE *out);

/*
 * struct workload - a driver, as the CLI, compare and sweep see it.
 * @priv_size: bytes of driver options; @init fills their defaults.
 * @options: the driver's options (NULL-terminated), on the command line
 *   and as --configs/--param keys.
 * @check: optional; checks across options once they are all set (command
 *   line or --configs).  Return: 0, or -EINVAL with @err filled.
 * @nr_cpus: the CPU count to use unless --config names one.
 * @run: one run on @inst.  Return: 0 or -errno.
 */
struct workload {
	const char *name, *summary, *usage;
	size_t priv_size;
	const struct wl_option *options;
	void (*init)(void *priv);
	int (*check)(void *priv, char *err, size_t len);
	int (*nr_cpus)(const struct wl_opts *o, const void *priv);
	void (*adjust)(struct wl_opts *o, const void *priv); /* after parse */
	int (*run)(struct pcpb *inst, const struct wl_opts *o, void *priv,
		   struct wl_result *res);
	/* Frees what parse loaded into the prototype @priv; the per-run
	 * copies share it and are never passed here. */
	void (*fini)(void *priv);
	/* Optional: what the configurations are read against, when the
	 * workload has it (a kernel trace: the kernel's own zone->lock holds
	 * per 1000 pages allocated, from its refill and drain markers).
	 * Return: true with @name and @zone_acq_per_1k set. */
	bool (*reference)(const void *priv, char *name, size_t len,
			  double *zone_acq_per_1k);
};
extern const struct workload *const wl_registry[];
const struct workload *wl_find(const char *name);
/* Frees a prototype priv from wl_prepare(), through w->fini. */
void wl_free_priv(const struct workload *w, void *priv);

/*
 * wl_prepare - parse argv for @w: common options, then the driver's.
 * Return: 0, 1 for --help (printed), 2 after an error message.
 */
int wl_prepare(const struct workload *w, int argc, char **argv,
	       struct wl_opts *o, void *priv);
/* 'pcpbuddy run WORKLOAD ...': one run, its report, the check. */
int wl_run_main(const struct workload *w, int argc, char **argv);

/* pressure.c: the --memory-pressure environment */
struct wl_pressure;

/*
 * wl_measure_end - the run's report is of now, not of after its teardown:
 * keeps a snapshot in @res->stats (@st, if the caller just read one) and
 * marks the point in a recording, so that a replay reports the same phase.
 */
void wl_measure_end(struct pcpb *inst, struct wl_result *res,
		    const struct pcpb_stats *st);
/* Frees what a run left in @res (table, stats, views, rows). */
void wl_result_free(struct wl_result *res);
/* pcpb_show() for each view of the comma list @views, each titled. */
int wl_show(struct pcpb *inst, FILE *out, const char *views);
/* Return: 0 when every view of @views is known, else -EINVAL and @err. */
int wl_check_views(const char *views, char *err, size_t len);
/* The median of @v[0..@n-1], @n >= 1; sorts @v (so v[0] and v[n-1] are
 * the extremes after). */
double wl_median(double *v, int n);
struct wl_pressure *wl_pressure_start(struct pcpb *inst, double hog,
				      int hog_cpu, int kswapd_cpu);
void wl_pressure_stop(struct wl_pressure *p, char *line, size_t len);
/* A driver's allocation: with pressure on, direct reclaim below min. */
long wl_alloc_pages(const struct wl_opts *o, struct pcpb *inst,
		    unsigned int order, int mt);
/* Start and stop pressure around one run, if the options ask for it. */
int wl_run_with_pressure(const struct workload *w, struct pcpb *inst,
			 struct wl_opts *o, void *priv, struct wl_result *res,
			 char *pressure_line, size_t len);

/* mixed: random orders and types, bounded working sets, cross-thread frees */
struct mixed_result {
	uint64_t allocs, frees, enomem, remote_frees;
	double seconds;
};
int wl_mixed_run(struct pcpb *inst, const struct wl_opts *o,
		 struct mixed_result *res);
extern const struct workload wl_mixed, wl_purge, wl_fragment, wl_exit, wl_bulk,
	wl_pipe, wl_replay, wl_sim;

#endif /* PCPB_WORKLOADS_H */
