// SPDX-License-Identifier: GPL-2.0-only OR MIT
/*
 * plot.c - 'pcpbuddy plot SWEEP.json -o out.png [--metric NAME]': one line
 * per configuration of a metric against the swept parameter, with 95%
 * confidence intervals (or min..max) as error bars, drawn by gnuplot (pngcairo, noenhanced so '_' stays '_').
 * An axis goes logarithmic when its values span 8x (x) or 100x (y).  Swept
 * sizes ("512M") sit at their byte values and names ("cached") at 0, 1, 2,
 * each under its own tick label; the y axis names the metric's unit.
 * A sweep's CSV (sweep --csv) is read into the tree its JSON gives, with
 * the median and min..max of each metric (the CSV has no per-metric
 * spread, so its bars are ranges).
 *
 * No string from the input or the command line reaches gnuplot as it is:
 * labels and titles are reduced to a safe set of characters (no quote,
 * backquote, backslash, '@' or control character can open a command),
 * and a path that needs quoting is refused.  The image is drawn into a
 * temporary file beside the target, renamed into place when gnuplot
 * succeeded.
 *
 * Invariants: nothing is written unless the input parsed.
 * Locking: none.
 */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sys/stat.h>

#include <gsl/gsl_cdf.h>
#include <jansson.h>

#include "../util/number.h"
#include "../util/outfile.h"
#include "../trace/trace.h"
#include "commands.h"

static const char plot_usage[] =
	"usage: pcpbuddy plot SWEEP.{json,csv} -o OUT.{png,svg,pdf} [--metric NAME]\n"
	"                     [--title T] [--bars ci|range]\n"
	"\n"
	"Draws a 'pcpbuddy sweep' table with gnuplot: one line per\n"
	"configuration, the metric (default throughput) against the swept\n"
	"parameter.  --bars ci (the default): the mean and its 95% confidence\n"
	"interval where the sweep had --runs 2 or more; --bars range (or one\n"
	"run): the median and min..max over the runs; a sweep's --csv output\n"
	"gives min..max bars (it has no per-metric spread).  The format\n"
	"follows the extension (pngcairo, svg, pdfcairo); -o - writes PNG to\n"
	"standard output.  Sizes (memory=512M,1G) are placed by bytes, names\n"
	"(fallback=cached,legacy) one per tick, each labelled as swept.\n"
	"Exit: 0 ok, 1 gnuplot failed, 2 bad arguments or input.\n";

/* A label for gnuplot: safe characters kept, the rest become '?'. */
static void safe_label(char *dst, size_t len, const char *src)
{
	size_t i;

	for (i = 0; src && src[i] && i + 1 < len; i++) {
		unsigned char c = (unsigned char)src[i];

		dst[i] = (c >= 0x20 && c < 0x7f && !strchr("'\"`\\@$", c))
				 ? (char)c
				 : '?';
	}
	dst[i] = '\0';
}

/* A path gnuplot can take in single quotes without any escaping. */
static bool path_is_plain(const char *p)
{
	for (; *p; p++)
		if ((unsigned char)*p < 0x20 || strchr("'`@$\\", *p))
			return false;
	return true;
}

/* The cairo terminal for @out's extension, or NULL. */
static const char *terminal_for(const char *out)
{
	const char *dot = strrchr(out, '.');

	if (!strcmp(out, "-") || (dot && !strcmp(dot, ".png")))
		return "pngcairo size 900,560 noenhanced";
	if (dot && !strcmp(dot, ".svg"))
		return "svg size 900,560 noenhanced";
	if (dot && !strcmp(dot, ".pdf"))
		return "pdfcairo size 9in,5.6in noenhanced";
	return NULL;
}

static int metric_index(const json_t *metrics, const char *name)
{
	const json_t *v;
	size_t i;

	json_array_foreach(metrics, i, v) if (json_is_string(v) &&
					      !strcmp(json_string_value(v),
						      name)) return (int)i;
	return -1;
}

/* Element @i of an array of numbers, NAN where there is none. */
static double num(const json_t *arr, size_t i)
{
	const json_t *v = json_array_get(arr, i);

	return json_is_number(v) ? json_number_value(v) : NAN;
}

/*
 * The x axis: numbers where the swept values are numbers, bytes where they
 * are all sizes ("512M", "1G"), else categories (fallback=..., policy=...)
 * at 0, 1, 2, ... in sweep order.  Sizes and categories keep their own
 * words as tick labels.
 */
enum x_axis { X_NUMBER, X_SIZE, X_CATEGORY };

/* The unit of a compare/sweep metric, for the y axis. */
static const char *metric_unit(const char *m)
{
	size_t len = strlen(m);

	if (!strcmp(m, "throughput"))
		return "driver ops/s";
	if (len > 13 && !strcmp(m + len - 13, "_per_1k_pages"))
		return "per 1000 pages";
	if (strstr(m, "_hold_") || strstr(m, "_wait_"))
		return "ns";
	if (!strcmp(m, "pcp_hit_rate"))
		return "fraction";
	return strstr(m, "pages") ? "pages" : "count";
}

static bool size_of(const char *s, double *bytes)
{
	static const char units[] = "KMGT";
	const char *u;
	char *end;
	double v = strtod(s, &end);

	if (end == s || !(v >= 0))
		return false;
	if (!*end) {
		*bytes = v;
		return true;
	}
	u = strchr(units, *end);
	if (!u || !*u ||
	    (end[1] && strcmp(end + 1, "B") && strcmp(end + 1, "iB")))
		return false;
	*bytes = ldexp(v, 10 * (int)(u - units + 1));
	return true;
}

static enum x_axis axis_of(const json_t *pts)
{
	enum x_axis kind = X_NUMBER;
	const json_t *pt;
	double b;
	size_t j;

	json_array_foreach(pts, j, pt)
	{
		const json_t *v = json_object_get(pt, "value");

		if (!v || json_is_number(v))
			continue;
		if (!json_is_string(v) || !size_of(json_string_value(v), &b))
			return X_CATEGORY;
		kind = X_SIZE;
	}
	return kind;
}

static double x_of(const json_t *pts, size_t j, enum x_axis kind)
{
	const json_t *v = json_object_get(json_array_get(pts, j), "value");
	double b;

	if (kind == X_CATEGORY)
		return (double)j;
	if (json_is_string(v) && size_of(json_string_value(v), &b))
		return b;
	return json_is_number(v) ? json_number_value(v) : NAN;
}

/*
 * A point and its error bar: with --bars ci (the default) the mean and its
 * 95% confidence interval, mean +- t(0.975, runs-1) sd / sqrt(runs), where
 * the sweep had two runs or more; else (one run, or --bars range) the
 * median and min..max over the runs.
 */
static void point_of(const json_t *pt, int m, int runs, bool ci, double *y,
		     double *lo, double *hi)
{
	double mean = num(json_object_get(pt, "mean"), (size_t)m),
	       sd = num(json_object_get(pt, "stddev"), (size_t)m);

	if (ci && runs > 1 && isfinite(mean) && isfinite(sd)) {
		double half = gsl_cdf_tdist_Pinv(0.975, runs - 1) * sd /
			      sqrt((double)runs);

		*y = mean;
		*lo = mean - half;
		*hi = mean + half;
		return;
	}
	*y = num(json_object_get(pt, "median"), (size_t)m);
	*lo = num(json_object_get(pt, "min"), (size_t)m);
	*hi = num(json_object_get(pt, "max"), (size_t)m);
}

/* One CSV field at *@p (quoted or not) into a new string; *@p moves past
 * it and its comma.  Return: NULL without memory. */
static char *csv_field(const char **p)
{
	const char *s = *p;
	size_t n;
	char *f;

	if (*s == '"') {
		const char *end = strchr(s + 1, '"');

		n = end ? (size_t)(end - s - 1) : strlen(s + 1);
		f = strndup(s + 1, n);
		s = end ? end + 1 : s + 1 + n;
	} else {
		n = strcspn(s, ",\n");
		f = strndup(s, n);
		s += n;
	}
	if (*s == ',')
		s++;
	*p = s;
	return f;
}

/* A number, or a size or name kept as a string (as sweep's JSON has it). */
static json_t *csv_value(const char *f)
{
	double v;

	if (!*f)
		return json_null();
	if (!parse_number(f, -1e300, 1e300, false, &v))
		return json_real(v);
	return json_string(f);
}

/*
 * sweep --csv's table as the tree sweep's JSON gives: header
 * "config,PARAM,<10 statistics of throughput>,M,M_min,M_max,..." and one
 * row per configuration and value, configurations in order.
 * Return: the tree, or NULL with the reason in @err.
 */
static json_t *csv_to_sweep(const char *text, char *err, size_t len)
{
	json_t *root = json_object(), *metrics = json_array(),
	       *results = json_array(), *cur = NULL;
	const char *p = text;
	char *f;
	int col, nr_cols = 0, nr_rows = 0;

	/* the header: config, the parameter, 8 statistics, then triples */
	for (col = 0; *p && *p != '\n'; col++) {
		f = csv_field(&p);
		if (!f)
			goto fail;
		if (col == 0 && strcmp(f, "config"))
			snprintf(err, len,
				 "not a sweep CSV (no 'config' column)");
		else if (col == 1)
			json_object_set_new(root, "param", json_string(f));
		else if (col >= 10 && (col - 10) % 3 == 0)
			json_array_append_new(metrics, json_string(f));
		free(f);
		if (col == 0 && err[0])
			goto fail;
	}
	nr_cols = col;
	if (nr_cols < 13 || (nr_cols - 10) % 3) {
		snprintf(err, len, "not a sweep CSV (%d columns)", nr_cols);
		goto fail;
	}
	while (*p == '\n')
		p++;
	while (*p) {
		json_t *pt = json_object(), *arr[3];
		int k;

		for (k = 0; k < 3; k++)
			arr[k] = json_array();
		for (col = 0; *p && *p != '\n'; col++) {
			f = csv_field(&p);
			if (!f) {
				for (k = 0; k < 3; k++)
					json_decref(arr[k]);
				json_decref(pt);
				goto fail;
			}
			if (col == 0 &&
			    (!cur || strcmp(json_string_value(json_object_get(
						    cur, "config")),
					    f))) {
				cur = json_pack("{s:s, s:[]}", "config", f,
						"points");
				json_array_append_new(results, cur);
			} else if (col == 1) {
				json_object_set_new(pt, "value", csv_value(f));
			} else if (col >= 10) {
				json_array_append_new(arr[(col - 10) % 3],
						      csv_value(f));
			}
			free(f);
		}
		json_object_set_new(pt, "median", arr[0]);
		json_object_set_new(pt, "min", arr[1]);
		json_object_set_new(pt, "max", arr[2]);
		nr_rows++;
		if (col != nr_cols) {
			json_decref(pt);
			snprintf(err, len, "row %d has %d fields, not %d",
				 nr_rows, col, nr_cols);
			goto fail;
		}
		json_array_append_new(json_object_get(cur, "points"), pt);
		while (*p == '\n')
			p++;
	}
	json_object_set_new(root, "metrics", metrics);
	json_object_set_new(root, "results", results);
	json_object_set_new(root, "runs", json_integer(1));
	return root;
fail:
	if (!err[0])
		snprintf(err, len, "out of memory");
	json_decref(metrics);
	json_decref(results);
	json_decref(root);
	return NULL;
}

static const struct option plot_options[] = {
	{ "help", no_argument, NULL, 'h' },
	{ "output", required_argument, NULL, 'o' },
	{ "metric", required_argument, NULL, 'm' },
	{ "title", required_argument, NULL, 't' },
	{ "bars", required_argument, NULL, 'b' },
	{ NULL, 0, NULL, 0 },
};

int cmd_plot_main(int argc, char **argv)
{
	const char *in = NULL, *out = NULL, *metric = "throughput",
		   *title = NULL, *val;
	struct wl_args args;
	int opt;
	const json_t *results, *metrics, *param;
	double xmin = INFINITY, xmax = 0, ymin = INFINITY, ymax = 0;
	bool ci = true;
	int runs = 1;
	enum x_axis axis;
	json_t *root;
	json_error_t jerr;
	char err[256] = "", *text, label[256], label2[256];
	const char *term;
	struct outfile of;
	struct stat sb;
	size_t i, j;
	int m, rc;
	FILE *gp;

	wl_args_init(&args, "pcpbuddy plot", argc, argv, "ho:", plot_options);
	while ((opt = wl_args_next(&args, &val)) != -1) {
		switch (opt) {
		case 'h':
			fputs(plot_usage, stdout);
			return 0;
		case 'o':
			out = val;
			break;
		case 'm':
			metric = val;
			break;
		case 't':
			title = val;
			break;
		case 'b':
			if (strcmp(val, "ci") && strcmp(val, "range"))
				return wl_usage_error(
					"pcpbuddy plot",
					"--bars: '%s' is not ci or range", val);
			ci = !strcmp(val, "ci");
			break;
		case 1:
			if (!in) {
				in = val;
				break;
			}
			return wl_usage_error("pcpbuddy plot",
					      "unknown argument '%s'", val);
		default:
			return 2;
		}
	}
	if (!in || !out)
		return wl_usage_error(
			"pcpbuddy plot",
			"needs SWEEP.json (or .csv) and -o OUT.png");
	term = terminal_for(out);
	if (!term)
		return wl_usage_error(
			"pcpbuddy plot",
			"-o %s: the extension must be .png, .svg or .pdf", out);
	if (!path_is_plain(out))
		return wl_usage_error(
			"pcpbuddy plot",
			"-o: a path with quotes, '@', '$', '\\' or control characters is refused");
	if (stat(in, &sb) == 0 && !S_ISREG(sb.st_mode)) {
		fprintf(stderr, "pcpbuddy plot: %s: not a file\n", in);
		return 2;
	}
	text = trace_read_text(in, NULL);
	if (!text) {
		fprintf(stderr, "pcpbuddy plot: %s: %s\n", in, strerror(errno));
		return 2;
	}
	if (text[strspn(text, " \t\r\n")] == '{') {
		root = json_loads(text, 0, &jerr);
		if (!root)
			snprintf(err, sizeof(err), "line %d: %s", jerr.line,
				 jerr.text);
	} else {
		root = csv_to_sweep(text, err, sizeof(err));
	}
	free(text);
	if (!root) {
		fprintf(stderr, "pcpbuddy plot: %s: %s\n", in, err);
		return 2;
	}
	results = json_object_get(root, "results");
	if (json_integer_value(json_object_get(root, "runs")) >= 1 &&
	    json_integer_value(json_object_get(root, "runs")) <= 1000)
		runs = (int)json_integer_value(json_object_get(root, "runs"));
	metrics = json_object_get(root, "metrics");
	param = json_object_get(root, "param");
	m = metric_index(metrics, metric);
	if (!json_is_array(results) || !json_is_string(param) || m < 0) {
		fprintf(stderr,
			"pcpbuddy plot: %s is not a sweep table with metric '%s'\n",
			in, metric);
		json_decref(root);
		return 2;
	}
	axis = axis_of(json_object_get(json_array_get(results, 0), "points"));
	for (i = 0; i < json_array_size(results); i++) {
		const json_t *pts =
			json_object_get(json_array_get(results, i), "points");

		for (j = 0; j < json_array_size(pts); j++) {
			double x = x_of(pts, j, axis),
			       y = num(json_object_get(json_array_get(pts, j),
						       "median"),
				       (size_t)m);

			xmin = fmin(xmin, x);
			xmax = fmax(xmax, x);
			ymin = fmin(ymin, y);
			ymax = fmax(ymax, y);
		}
	}
	rc = outfile_open(&of, out);
	if (rc) {
		fprintf(stderr, "pcpbuddy plot: -o %s: %s\n", out,
			strerror(-rc));
		json_decref(root);
		return 1;
	}
	gp = popen("gnuplot", "w");
	if (!gp) {
		fprintf(stderr, "pcpbuddy plot: cannot run gnuplot\n");
		outfile_abort(&of);
		json_decref(root);
		return 1;
	}
	safe_label(label, sizeof(label), json_string_value(param));
	safe_label(label2, sizeof(label2), metric);
	fprintf(gp, "set terminal %s\n", term);
	if (of.tmp)
		fprintf(gp, "set output '%s'\n", of.tmp);
	else
		fprintf(gp, "set output\n"); /* -o -: gnuplot's stdout */
	fprintf(gp,
		"set grid\nset key top left\n"
		"set xlabel '%s'\nset ylabel '%s (%s)'\n",
		label, label2, metric_unit(metric));
	safe_label(
		label, sizeof(label),
		title ? title
		      : json_string_value(json_object_get(root, "workload")));
	fprintf(gp, "set title '%s'\n", label);
	if (axis != X_CATEGORY && xmin > 0 && xmax / xmin >= 8)
		fprintf(gp, "set logscale x 2\n");
	else if (axis == X_CATEGORY)
		fprintf(gp, "set xrange [-0.5:%g]\n", xmax + 0.5);
	{
		/* Ticks at the swept values, not at fractions of them. */
		const json_t *pts =
			json_object_get(json_array_get(results, 0), "points");

		fprintf(gp, "set xtics (");
		for (j = 0; j < json_array_size(pts); j++) {
			const json_t *v = json_object_get(
				json_array_get(pts, j), "value");

			safe_label(label, sizeof(label), json_string_value(v));
			if (axis == X_NUMBER)
				fprintf(gp, "%s%g", j ? ", " : "",
					x_of(pts, j, axis));
			else
				fprintf(gp, "%s'%s' %.17g", j ? ", " : "",
					label, x_of(pts, j, axis));
		}
		fprintf(gp, ")\n");
	}
	if (ymin > 0 && ymax / ymin >= 100)
		fprintf(gp, "set logscale y 10\n");
	fprintf(gp, "plot ");
	for (i = 0; i < json_array_size(results); i++) {
		const char *c = json_string_value(
			json_object_get(json_array_get(results, i), "config"));

		safe_label(label, sizeof(label), c ? c : "?");
		fprintf(gp,
			"%s'-' using 1:2:3:4 with yerrorlines lw 2 title '%s'",
			i ? ", " : "", label);
	}
	fprintf(gp, "\n");
	for (i = 0; i < json_array_size(results); i++) {
		const json_t *pts =
			json_object_get(json_array_get(results, i), "points");

		for (j = 0; j < json_array_size(pts); j++) {
			const json_t *pt = json_array_get(pts, j);
			double y, lo, hi;

			point_of(pt, m, runs, ci, &y, &lo, &hi);
			fprintf(gp, "%.17g %.10g %.10g %.10g\n",
				x_of(pts, j, axis), y, lo, hi);
		}
		fprintf(gp, "e\n");
	}
	rc = pclose(gp);
	json_decref(root);
	if (rc) {
		outfile_abort(&of);
		fprintf(stderr, "pcpbuddy plot: gnuplot failed (status %d)\n",
			rc);
		return 1;
	}
	rc = outfile_commit(&of);
	if (rc) {
		fprintf(stderr, "pcpbuddy plot: %s: %s\n", out, strerror(-rc));
		return 1;
	}
	return 0;
}
