// SPDX-License-Identifier: GPL-2.0-only OR MIT
/*
 * driver.c - what every driver's 'run' does the same way: parse the common
 * and the driver's options, size the CPUs, create the instance, run, print
 * the driver's line and the report, and run the invariant check.
 *
 * Invariants: the check runs after the driver freed everything, and its
 * failure (or pages still allocated) is exit code 1.
 * Locking: single-threaded around the driver's run.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "../trace/trace.h"
#include "workloads.h"

/*
 * The JSON of 'run --json': the run's own fields (schema, workload, its
 * arguments and common options, duration, throughput, the driver's result
 * rows) and then the library's report, whose keys stay at the top level.
 * jansson writes it, so integers stay exact and strings are escaped.
 * Return: 0, or -EIO when the report did not parse or could not be written.
 */
static int print_run_json(const struct workload *w, json_t *args,
			  const struct wl_opts *o, struct wl_result *res,
			  struct pcpb *inst)
{
	json_t *top, *report, *result;
	json_error_t jerr;
	char *text = NULL;
	size_t len = 0;
	FILE *m = open_memstream(&text, &len);
	int rc = -EIO;

	if (!m)
		return -ENOMEM;
	if (res->stats)
		pcpb_report_stats(inst, res->stats, m, PCPB_FMT_JSON);
	else
		pcpb_report(inst, m, PCPB_FMT_JSON);
	fclose(m);
	report = json_loads(text, 0, &jerr);
	free(text);
	if (!report) {
		fprintf(stderr, "%s: the report is not JSON: %s (line %d)\n",
			w->name, jerr.text, jerr.line);
		return -EIO;
	}
	result =
		json_pack("{s:s, s:I, s:I, s:o}", "line", res->line, "ops",
			  (json_int_t)res->ops, "pages", (json_int_t)res->pages,
			  "rows", res->rows ? res->rows : json_array());
	res->rows = NULL; /* the result owns them now */
	top = json_pack(
		"{s:i, s:s, s:O, s:{s:i, s:f, s:I, s:s}, s:f, s:f, s:o}",
		"schema", WL_JSON_SCHEMA, "workload", w->name, "args", args,
		"options", "threads", o->threads, "seconds", o->seconds, "ops",
		(json_int_t)o->ops, "seed", "", "duration_s", res->seconds,
		"throughput",
		res->seconds > 0 ? (double)res->ops / res->seconds : 0.0,
		"result", result);
	if (top) {
		/* The seed is a u64: a string, so no reader rounds it. */
		char seed[24];

		snprintf(seed, sizeof(seed), "%llu",
			 (unsigned long long)o->seed);
		json_object_set_new(json_object_get(top, "options"), "seed",
				    json_string(seed));
		json_object_update(top, report);
		if (!json_dumpf(top, stdout,
				JSON_INDENT(2) | JSON_REAL_PRECISION(10)) &&
		    fputc('\n', stdout) != EOF)
			rc = 0;
	}
	json_decref(top);
	json_decref(report);
	return rc;
}

static uint64_t einval_of(struct pcpb *inst)
{
	struct pcpb_stats st;

	return pcpb_stats_read(inst, &st) ? 0 : st.ops[PCPB_OP_einval];
}

void wl_free_priv(const struct workload *w, void *priv)
{
	if (priv && w->fini)
		w->fini(priv);
	free(priv);
}

int wl_prepare(const struct workload *w, int argc, char **argv,
	       struct wl_opts *o, void *priv)
{
	struct wl_optset set;
	struct wl_args args;
	const char *val;
	int c, rc = 0;
	char err[256];

	wl_opts_init(o);
	if (w->init)
		w->init(priv);
	if (wl_optset_build(&set, w, NULL, NULL))
		return 1;
	wl_args_init(&args, argv[0], argc, argv, set.shortopts, set.longopts);
	while (!rc && (c = wl_args_next(&args, &val)) != -1) {
		c = wl_optset_code(&set, c);
		if (c == -2)
			rc = 2;
		else if (c == 1)
			rc = wl_usage_error(argv[0], "unknown argument '%s'",
					    val);
		else if (c >= WL_OPT_DRIVER)
			rc = wl_driver_option(w, c - WL_OPT_DRIVER, args.name,
					      val, priv, argv[0]);
		else
			rc = wl_common_option(c, args.name, val, o, argv[0]);
	}
	wl_optset_free(&set);
	if (rc == 1) {
		fputs(w->usage, stdout);
		wl_common_help(stdout);
		wl_options_help(w, stdout);
	}
	if (rc)
		return rc;
	if (o->show && o->fmt != PCPB_FMT_TEXT)
		return wl_usage_error(
			argv[0],
			"--show is for the text report, not --json/--csv");
	/* Each thread is a CPU unless --config says otherwise. */
	o->cpus_given = wl_config_given(o, "cpus");
	if (!o->cpus_given)
		o->cfg.nr_cpus = o->threads;
	if (w->check && w->check(priv, err, sizeof(err)))
		return wl_usage_error(argv[0], "%s", err);
	if (!o->cpus_given && w->nr_cpus)
		o->cfg.nr_cpus = w->nr_cpus(o, priv);
	if (w->adjust)
		w->adjust(o, priv);
	if (o->memory_pressure && !o->cpus_given)
		o->cfg.nr_cpus += 2; /* the hog and filler, and kswapd */
	if (o->cfg.nr_cpus > PCPB_MAX_CPUS)
		/* A trace from a bigger machine, say: its CPUs fold. */
		return wl_usage_error(
			argv[0],
			"%d CPUs, the model takes at most %d: fold them with --cpus N (or --config cpus=N)",
			o->cfg.nr_cpus, PCPB_MAX_CPUS);
	return 0;
}

int wl_run_with_pressure(const struct workload *w, struct pcpb *inst,
			 struct wl_opts *o, void *priv, struct wl_result *res,
			 char *pressure_line, size_t len)
{
	int cpus = pcpb_get_config(inst)->nr_cpus, rc;

	pressure_line[0] = '\0';
	o->pressure = NULL;
	if (o->memory_pressure) {
		o->pressure = wl_pressure_start(
			inst, o->hog, cpus > 1 ? cpus - 2 : 0, cpus - 1);
		if (!o->pressure)
			return -ENOMEM;
	}
	rc = w->run(inst, o, priv, res);
	wl_pressure_stop(o->pressure, pressure_line, len);
	o->pressure = NULL;
	return rc;
}

int wl_run_main(const struct workload *w, int argc, char **argv)
{
	struct pcpb_check_result check;
	struct trace_recorder *rec = NULL;
	struct wl_result res;
	struct wl_opts o;
	struct pcpb *inst;
	char pressure_line[320];
	void *priv = calloc(1, w->priv_size ? w->priv_size : 1);
	json_t *args = json_array(); /* argv as given, for run --json */
	int rc;

	if (!priv || !args) {
		free(priv);
		json_decref(args);
		return 1;
	}
	for (int i = 1; i < argc; i++)
		json_array_append_new(args, json_string(argv[i]));
	rc = wl_prepare(w, argc, argv, &o, priv);
	if (rc) {
		wl_free_priv(w, priv);
		json_decref(args);
		return rc == 1 ? 0 : rc;
	}
	rc = pcpb_create(&o.cfg, &inst);
	if (rc) {
		fprintf(stderr, "%s: cannot create the instance: %s\n", argv[0],
			wl_create_strerror(rc));
		wl_free_priv(w, priv);
		json_decref(args);
		return 1;
	}
	/* checked when parsed (wl_common_option()): cannot fail here */
	pcpb_report_set_lock_table(inst, o.lock_unit, o.lock_sort,
				   o.lock_fields, NULL, 0);
	if (o.record) {
		rec = trace_record_start(inst, o.record, w->name);
		if (!rec) {
			fprintf(stderr, "%s: --record %s: %s\n", argv[0],
				o.record, strerror(errno));
			pcpb_destroy(inst);
			wl_free_priv(w, priv);
			json_decref(args);
			return 1;
		}
	}
	memset(&res, 0, sizeof(res));
	res.show = o.show;
	rc = wl_run_with_pressure(w, inst, &o, priv, &res, pressure_line,
				  sizeof(pressure_line));
	wl_free_priv(w, priv);
	if (rec) {
		int wrc = trace_record_finish(rec, inst);

		if (wrc) {
			fprintf(stderr, "%s: --record %s: %s\n", argv[0],
				o.record, strerror(-wrc));
			rc = rc ? rc : wrc;
		}
	}
	if (rc) {
		fprintf(stderr, "%s: %s\n", argv[0], strerror(-rc));
		wl_result_free(&res);
		json_decref(args);
		pcpb_destroy(inst);
		return 1;
	}
	if (o.fmt == PCPB_FMT_TEXT)
		printf("%s\n%s%s%s", res.line, res.table ? res.table : "",
		       pressure_line, pressure_line[0] ? "\n" : "");
	free(res.table);
	res.table = NULL;
	if (o.fmt == PCPB_FMT_JSON)
		rc = print_run_json(w, args, &o, &res, inst);
	else if (res.stats)
		pcpb_report_stats(inst, res.stats, stdout, o.fmt);
	else
		pcpb_report(inst, stdout, o.fmt);
	json_decref(args);
	if (res.show_text)
		fputs(res.show_text, stdout);
	else if (o.show)
		wl_show(inst, stdout, o.show);
	wl_result_free(&res);
	rc = pcpb_check(inst, &check) || check.pages_allocated || rc ? 1 : 0;
	if (!check.ok)
		fprintf(stderr, "%s: check failed: %s\n", argv[0], check.msg);
	else if (check.pages_allocated)
		/* The invariants hold; the run did not give everything back
		 * (a trace's free that named a different order, say). */
		fprintf(stderr,
			"%s: the run left %llu pages allocated (%llu frees were refused as invalid: ops.einval)\n",
			argv[0], (unsigned long long)check.pages_allocated,
			(unsigned long long)einval_of(inst));
	pcpb_destroy(inst);
	return rc;
}
