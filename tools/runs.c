// SPDX-License-Identifier: GPL-2.0-only OR MIT
/*
 * runs.c - one run of a workload for compare and sweep: a fresh instance
 * per configuration, the same seed, the metrics and the report of the run.
 *
 * Invariants and locking: runs.h.
 */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "runs.h"

const char *const metric_names[] = { COMPARE_METRICS(METRIC_NAME) };
const char *const metric_titles[] = { COMPARE_METRICS(METRIC_TITLE) };
const int metric_decimals[] = { COMPARE_METRICS(METRIC_DECIMALS) };

void metrics_of(struct pcpb *inst, const struct wl_result *res, double *m)
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
	m[M_zone_hold_max_raw] =
		(double)MAX(st.zone_lock.all.hold_ns.max,
			    st.zone_lock.hold_disturbed_ns.max);
	m[M_zone_holds_disturbed] = (double)st.zone_lock.all.hold_disturbed;
	m[M_zone_hold_model_p99] = (double)st.zone_hold_model.p99;
	m[M_zone_hold_model_max] = (double)st.zone_hold_model.max;
	m[M_pcp_hit_rate] = st.ops[PCPB_OP_alloc]
				    ? (double)st.pcp[PCPB_PCP_hits] /
					      (double)st.ops[PCPB_OP_alloc]
				    : 0;
	m[M_fallback_searches] = (double)st.work[PCPB_WORK_fallback_searches];
	m[M_claims] = (double)st.work[PCPB_WORK_claims];
	m[M_refill_hold_max] =
		(double)MAX(st.zone_lock.sites[PCPB_SITE_refill].hold_ns.max,
			    st.zone_lock.sites[PCPB_SITE_phase3].hold_ns.max);
	m[M_refill_cost_max] = (double)st.work[PCPB_WORK_refill_cost_max];
	m[M_phase0_scan_max] = (double)st.owner[PCPB_OWN_phase0_scan_max];
	m[M_blocks_claimed] = (double)st.owner[PCPB_OWN_blocks_claimed];
	m[M_mixed_pageblocks] = (double)st.mixed_pageblocks;
	m[M_free_pages_order9] = (double)(st.free_blocks_by_order[9] * 512 +
					  st.free_blocks_by_order[10] * 1024);
	m[M_alloc_pages] = pages;
}

void summarize_runs(struct config_runs *c, int runs)
{
	double v[MAX_RUNS];
	int k, r;

	c->runs = runs;
	for (k = 0; k < NR_METRICS; k++) {
		for (r = 0; r < runs; r++)
			v[r] = c->m[r][k];
		sample_stats(v, runs, &c->st[k]);
		c->median[k] = wl_median(v, runs);
		c->lo[k] = v[0];
		c->hi[k] = v[runs - 1];
	}
}

bool metric_is_timed(int k)
{
	return k == M_throughput || k == M_zone_hold_p50 ||
	       k == M_zone_hold_p99 || k == M_zone_hold_max ||
	       k == M_zone_wait_p99 || k == M_zone_hold_max_raw ||
	       k == M_refill_hold_max;
}

void compare_to_base(struct config_runs *cs, int n)
{
	double a[MAX_RUNS], b[MAX_RUNS];
	int i, k, r;

	for (i = 0; i < n; i++)
		for (k = 0; k < NR_METRICS; k++) {
			for (r = 0; r < cs[0].runs; r++)
				a[r] = cs[0].m[r][k];
			for (r = 0; r < cs[i].runs; r++)
				b[r] = cs[i].m[r][k];
			ratio_stats(a, cs[0].runs, b, cs[i].runs,
				    &cs[i].vs_base[k]);
		}
}

int print_warnings(FILE *f, const struct config_runs *cs, int n,
		   unsigned int metrics)
{
	int i, k, nr = 0;

	for (i = 0; i < n; i++) {
		const struct ratio_stats *t = &cs[i].vs_base[M_throughput];

		if (i && isfinite(t->lo) && t->lo <= 1 && t->hi >= 1) {
			fprintf(f,
				"warning: %s: the 95%% interval of its throughput ratio, %.3f..%.3f, contains 1.0: no difference shown\n",
				cs[i].kv, t->lo, t->hi);
			nr++;
		}
		for (k = 0; k < NR_METRICS; k++)
			if (metric_is_timed(k) && (metrics & (1U << k)) &&
			    cs[i].st[k].cv > 0.10) {
				fprintf(f,
					"warning: %s: %s varies %.0f%% (CV) over %d runs: more runs, or a quieter machine\n",
					cs[i].kv, metric_names[k],
					100 * cs[i].st[k].cv, cs[i].runs);
				nr++;
			}
	}
	return nr;
}

char *report_json(struct pcpb *inst, const struct pcpb_stats *st)
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
int apply_kv(const struct workload *w, const char *kv, struct pcpb_config *cfg,
	     void *priv, char *err, size_t len)
{
	struct pcpb_config tmp = *cfg;
	char buf[1024], *save = NULL, *tok;

	if (strlen(kv) >= sizeof(buf)) {
		snprintf(err, len, "too long");
		return -EINVAL;
	}
	if (!strcmp(kv, "default"))
		return 0; /* the command line's configuration, unchanged */
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

int cmd_args_begin(struct cmd_args *ca, const char *prog,
		   const struct workload *w, const struct option *own,
		   const char *own_short, int argc, char **argv)
{
	memset(ca, 0, sizeof(*ca));
	ca->rest = calloc((size_t)argc * 2 + 2, sizeof(char *));
	if (!ca->rest || wl_optset_build(&ca->set, w, own, own_short)) {
		free(ca->rest);
		ca->rest = NULL;
		return -1;
	}
	ca->rest[ca->nrest++] = strdup(argv[0]);
	wl_args_init(&ca->args, prog, argc, argv, ca->set.shortopts,
		     ca->set.longopts);
	return ca->rest[0] ? 0 : -1;
}

int cmd_args_next(struct cmd_args *ca, const char **val)
{
	for (;;) {
		int c = wl_optset_code(&ca->set, wl_args_next(&ca->args, val));
		bool configs = ca->in_configs;

		ca->in_configs = false;
		if (c == 1 && configs) {
			ca->in_configs = true;
			return CMD_OPT_CONFIGS;
		}
		if (c == 1) {
			wl_usage_error(ca->args.prog, "unknown argument '%s'",
				       *val);
			return -2;
		}
		ca->in_configs = c == CMD_OPT_CONFIGS;
		if (c < WL_OPT_COMMON || c == WL_OPT_COMMON + 'h')
			return c;
		/* A run option: on to wl_prepare() by its long name. */
		if (asprintf(&ca->rest[ca->nrest], "--%s",
			     wl_optset_name(&ca->set, c)) < 0)
			return -2;
		ca->nrest++;
		if (wl_optset_has_arg(&ca->set, c) != no_argument &&
		    !(ca->rest[ca->nrest++] = strdup(*val)))
			return -2;
	}
}

void cmd_args_end(struct cmd_args *ca)
{
	int i;

	for (i = 0; ca->rest && i < ca->nrest; i++)
		free(ca->rest[i]);
	free(ca->rest);
	ca->rest = NULL;
	wl_optset_free(&ca->set);
}

/* Return: the index of the first entry that does not apply, or -1. */
int validate_configs(const struct workload *w, const struct pcpb_config *base,
		     const void *priv, const struct config_runs *cs, int n,
		     char *err, size_t len)
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

int run_one(const struct workload *w, const struct wl_opts *base,
	    const void *priv_proto, struct config_runs *c, int r,
	    bool keep_report, struct pcpb_stats *stats)
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
	if (!rc && stats) {
		if (res.stats)
			*stats = *res.stats;
		else
			pcpb_stats_read(inst, stats);
	}
	wl_result_free(&res);
	pcpb_destroy(inst);
	return rc ? 1 : 0;
}

/*
 * prepare_runs - the options of @w (argv[0..argc-1], after the command's
 * own were taken out) into @o and a new *@priv, then every --configs
 * entry checked before anything runs: a bad one changes nothing.
 * Return: true to run; false with the exit code in *@exit_code (0 after
 * --help) and *@priv freed.
 */
bool prepare_runs(const char *cmd, const struct workload *w, int argc,
		  char **argv, struct wl_opts *o, void **priv,
		  const struct config_runs *cs, int n, int *exit_code)
{
	char err[256];
	int rc, i;

	*priv = calloc(1, w->priv_size ? w->priv_size : 1);
	if (!*priv) {
		*exit_code = 1;
		return false;
	}
	rc = wl_prepare(w, argc, argv, o, *priv);
	if (rc == 1) /* --help, printed */
		rc = 0;
	else if (!rc && o->record)
		rc = wl_usage_error(cmd, "--record is for 'pcpbuddy run'");
	else if (!rc && (i = validate_configs(w, &o->cfg, *priv, cs, n, err,
					      sizeof(err))) >= 0)
		rc = wl_usage_error(cmd, "--configs '%s': %s", cs[i].kv, err);
	else if (!rc)
		return true;
	wl_free_priv(w, *priv);
	*priv = NULL;
	*exit_code = rc;
	return false;
}
