// SPDX-License-Identifier: GPL-2.0-only OR MIT
/*
 * common.c - what the workload drivers share: options, RNG, progress.
 *
 * Invariants: a parse error prints one line naming the argument and leaves
 * nothing half-applied (the config is applied all or nothing).
 * Locking: none.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "../trace/trace.h"
#include "../util/number.h"
#include "workloads.h"

static uint64_t splitmix64(uint64_t *x)
{
	uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

void wl_rng_seed(struct wl_rng *r, uint64_t seed)
{
	r->s[0] = splitmix64(&seed);
	r->s[1] = splitmix64(&seed);
}

/* xoroshiro128+ */
uint64_t wl_rng_next(struct wl_rng *r)
{
	uint64_t s0 = r->s[0], s1 = r->s[1], result = s0 + s1;

	s1 ^= s0;
	r->s[0] = ((s0 << 24) | (s0 >> 40)) ^ s1 ^ (s1 << 16);
	r->s[1] = (s1 << 37) | (s1 >> 27);
	return result;
}

double wl_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

void wl_progress(const char *name, double elapsed, double total, uint64_t ops)
{
	if (total <= 2.0 || !isatty(STDERR_FILENO))
		return;
	fprintf(stderr, "\r[%s] %5.1f / %.1f s  %llu ops", name, elapsed, total,
		(unsigned long long)ops);
	fflush(stderr);
}

void wl_progress_done(double total)
{
	if (total > 2.0 && isatty(STDERR_FILENO))
		fputs("\r\033[K", stderr);
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

double wl_median(double *v, int n)
{
	qsort(v, (size_t)n, sizeof(double), cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

void wl_measure_end(struct pcpb *inst, struct wl_result *res,
		    const struct pcpb_stats *st)
{
	if (res->stats)
		return; /* the first end counts */
	res->stats = malloc(sizeof(*res->stats));
	if (res->stats && st)
		*res->stats = *st;
	else if (res->stats)
		pcpb_stats_read(inst, res->stats);
	res->nr_cpus = pcpb_get_config(inst)->nr_cpus;
	res->pcp_by_cpu =
		calloc((size_t)res->nr_cpus, sizeof(*res->pcp_by_cpu));
	for (int cpu = 0; res->pcp_by_cpu && cpu < res->nr_cpus; cpu++)
		pcpb_pcp_stats_cpu(inst, cpu, res->pcp_by_cpu[cpu]);
	if (res->show) {
		size_t len;
		FILE *f = open_memstream(&res->show_text, &len);

		if (f) {
			wl_show(inst, f, res->show);
			fclose(f);
		}
	}
	trace_record_mark(inst);
}

bool wl_config_given(const struct wl_opts *o, const char *key)
{
	size_t n = strlen(key);
	const char *p = o->config_text;

	while ((p = strstr(p, key))) {
		if ((p == o->config_text || p[-1] == ',') && p[n] == '=')
			return true;
		p += n;
	}
	return false;
}

void wl_result_free(struct wl_result *res)
{
	free(res->table);
	free(res->stats);
	free(res->pcp_by_cpu);
	res->pcp_by_cpu = NULL;
	free(res->show_text);
	json_decref(res->rows);
	res->table = res->show_text = NULL;
	res->stats = NULL;
	res->rows = NULL;
}

int wl_show(struct pcpb *inst, FILE *out, const char *views)
{
	char buf[128], *view, *save;
	int rc = 0;

	snprintf(buf, sizeof(buf), "%s", views);
	for (view = strtok_r(buf, ",", &save); view && !rc;
	     view = strtok_r(NULL, ",", &save)) {
		fprintf(out, "\n%s:\n", view);
		rc = pcpb_show(inst, out, view);
	}
	return rc;
}

int wl_check_views(const char *views, char *err, size_t len)
{
	char buf[128], *view, *save;
	const char *const *names = pcpb_show_views();
	int i;

	if (strlen(views) >= sizeof(buf) || !views[0]) {
		snprintf(err, len, "'%s' is not a list of views", views);
		return -EINVAL;
	}
	snprintf(buf, sizeof(buf), "%s", views);
	for (view = strtok_r(buf, ",", &save); view;
	     view = strtok_r(NULL, ",", &save)) {
		for (i = 0; names[i] && strcmp(names[i], view); i++)
			;
		if (!names[i]) {
			size_t used = (size_t)snprintf(
				err, len, "unknown view '%s' (", view);

			/* the list the library has, not a copy of it */
			for (i = 0; names[i] && used < len; i++)
				used += (size_t)snprintf(err + used, len - used,
							 "%s%s", i ? ", " : "",
							 names[i]);
			if (used < len)
				snprintf(err + used, len - used, ")");
			return -EINVAL;
		}
	}
	return 0;
}

const char *wl_create_strerror(int rc)
{
	if (rc == -EOPNOTSUPP)
		return "pcp_fastpath=rseq needs rseq registered by glibc "
		       "(>= 2.35, not disabled by glibc.pthread.rseq=0) and "
		       "membarrier(MEMBARRIER_CMD_PRIVATE_EXPEDITED_RSEQ)";
	return strerror(-rc);
}

int wl_usage_error(const char *prog, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: ", prog);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, " (try --help)\n");
	return 2;
}

static int parse_double(const char *s, double lo, double hi, double *out)
{
	return parse_number(s, lo, hi, false, out);
}

void wl_opts_init(struct wl_opts *o)
{
	o->threads = 2;
	o->seconds = 2.0;
	o->seed = 1;
	o->ops = 0;
	o->memory_pressure = false;
	o->hog = 0.5;
	o->pressure = NULL;
	o->fmt = PCPB_FMT_TEXT;
	o->record = NULL;
	o->show = NULL;
	o->lock_unit = o->lock_sort = o->lock_fields = NULL;
	o->config_text[0] = '\0';
	o->cpus_given = false;
	pcpb_config_init(&o->cfg);
}

void wl_common_help(FILE *out)
{
	fputs("\nEvery driver also takes:\n"
	      "  --memory-pressure   a hog, a page cache and kswapd (--hog F, default 0.5)\n"
	      "  --record FILE       write a trace of every allocation and free\n"
	      "                      (docs/trace-format.md) for 'pcpbuddy replay'\n"
	      "  --show V,...        after the text report, the state at the end of\n"
	      "                      the measured phase as /proc shows it: buddyinfo,\n"
	      "                      pagetypeinfo, zoneinfo, extfrag, unusable\n"
	      "  --unit U            the lock table's times: auto (default: each\n"
	      "                      with its unit, as perf lock prints), ns, us, ms\n"
	      "  -k, --sort KEY      order each class's sites by a column, largest\n"
	      "                      first (acquisitions, contended, hold_max, ...)\n"
	      "  -F, --fields F,...  the lock table's columns: acquisitions,\n"
	      "                      contended, trylock_failed, hold_min|avg|p50|p99|\n"
	      "                      max|total, wait_min|avg|p99|max|total\n"
	      "Options take --name=VALUE as well as --name VALUE.\n",
	      out);
}

int wl_common_option(int code, const char *name, const char *val,
		     struct wl_opts *o, const char *prog)
{
	char err[256];
	double v;

	switch (code - WL_OPT_COMMON) {
	case 'h':
		return 1;
	case 'j':
		o->fmt = PCPB_FMT_JSON;
		return 0;
	case 'c':
		o->fmt = PCPB_FMT_CSV;
		return 0;
	case 'm':
		o->memory_pressure = true;
		return 0;
	case 'r':
		if (!val[0])
			return wl_usage_error(prog, "--record needs a file");
		o->record = val;
		return 0;
	case 'S':
		if (wl_check_views(val, err, sizeof(err)))
			return wl_usage_error(prog, "--show: %s", err);
		o->show = val;
		return 0;
	case 'u':
	case 'k':
	case 'F':
		*(code - WL_OPT_COMMON == 'u'	? &o->lock_unit
		  : code - WL_OPT_COMMON == 'k' ? &o->lock_sort
						: &o->lock_fields) = val;
		if (pcpb_report_set_lock_table(NULL, o->lock_unit, o->lock_sort,
					       o->lock_fields, err,
					       sizeof(err)))
			return wl_usage_error(prog, "%s: %s", name, err);
		return 0;
	case 'H':
		if (parse_double(val, 0, 0.9, &v))
			return wl_usage_error(
				prog, "--hog: '%s' is not a fraction in 0..0.9",
				val);
		o->hog = v;
		return 0;
	case 't':
		if (parse_number(val, 1, 1024, true, &v))
			return wl_usage_error(
				prog,
				"--threads: '%s' is not a count in 1..1024",
				val);
		o->threads = (int)v;
		return 0;
	case 's':
		if (parse_double(val, 0.001, 86400, &v))
			return wl_usage_error(
				prog,
				"--seconds: '%s' is not a duration in 0.001..86400",
				val);
		o->seconds = v;
		return 0;
	case 'o':
		if (parse_number(val, 1, 1e12, true, &v))
			return wl_usage_error(
				prog, "--ops: '%s' is not a count in 1..1e12",
				val);
		o->ops = (uint64_t)v;
		return 0;
	case 'x': {
		char *end;

		errno = 0;
		o->seed = strtoull(val, &end, 0);
		if (end == val || *end || errno ||
		    val[strspn(val, " \t")] == '-')
			return wl_usage_error(
				prog,
				"--seed: '%s' is not a number in 0..2^64-1",
				val);
		return 0;
	}
	case 'C': {
		size_t used = strlen(o->config_text);

		/* Repeated --config options merge, in order; within one, a
		 * repeated key: the last wins. */
		if (pcpb_config_parse(&o->cfg, val, err, sizeof(err)))
			return wl_usage_error(prog, "--config: %s", err);
		snprintf(o->config_text + used, sizeof(o->config_text) - used,
			 "%s%s", used ? "," : "", val);
		return 0;
	}
	}
	return wl_usage_error(prog, "unknown argument '%s'", name);
}
