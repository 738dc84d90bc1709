// SPDX-License-Identifier: GPL-2.0-only OR MIT
/*
 * plot.c - 'pcpbuddy plot SWEEP.json -o out.png [--metric NAME]': one line
 * per configuration of a metric against the swept parameter, with 95%
 * confidence intervals (or min..max) as error bars, drawn by gnuplot (pngcairo, noenhanced so '_' stays '_').
 * An axis goes logarithmic when its values span 8x (x) or 100x (y).  Swept
 * sizes ("512M") sit at their byte values and names ("cached") at 0, 1, 2,
 * each under its own tick label; the y axis names the metric's unit.
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
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sys/stat.h>

#include <gsl/gsl_cdf.h>

#include "../util/outfile.h"
#include "../trace/trace.h"
#include "commands.h"
#include "json.h"

static const char plot_usage[] =
	"usage: pcpbuddy plot SWEEP.json -o OUT.{png,svg,pdf} [--metric NAME]\n"
	"                     [--title T] [--bars ci|range]\n"
	"\n"
	"Draws a 'pcpbuddy sweep' table with gnuplot: one line per\n"
	"configuration, the metric (default throughput) against the swept\n"
	"parameter.  --bars ci (the default): the mean and its 95% confidence\n"
	"interval where the sweep had --runs 2 or more; --bars range (or one\n"
	"run): the median and min..max over the runs.  The format\n"
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

static int metric_index(const struct json *metrics, const char *name)
{
	int i;

	for (i = 0; metrics && i < metrics->n; i++)
		if (metrics->kids[i].type == JSON_STRING &&
		    !strcmp(metrics->kids[i].string, name))
			return i;
	return -1;
}

static double num(const struct json *arr, int i)
{
	return arr && arr->type == JSON_ARRAY && i < arr->n
		       ? arr->kids[i].number
		       : NAN;
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

static enum x_axis axis_of(const struct json *pts)
{
	enum x_axis kind = X_NUMBER;
	double b;
	int j;

	for (j = 0; pts && j < pts->n; j++) {
		const struct json *v = json_get(&pts->kids[j], "value");

		if (!v || v->type == JSON_NUMBER)
			continue;
		if (v->type != JSON_STRING || !size_of(v->string, &b))
			return X_CATEGORY;
		kind = X_SIZE;
	}
	return kind;
}

static double x_of(const struct json *pts, int j, enum x_axis kind)
{
	const struct json *v = json_get(&pts->kids[j], "value");
	double b;

	if (kind == X_CATEGORY)
		return j;
	if (v && v->type == JSON_STRING && size_of(v->string, &b))
		return b;
	return v && v->type == JSON_NUMBER ? v->number : NAN;
}

/*
 * A point and its error bar: with --bars ci (the default) the mean and its
 * 95% confidence interval, mean +- t(0.975, runs-1) sd / sqrt(runs), where
 * the sweep had two runs or more; else (one run, or --bars range) the
 * median and min..max over the runs.
 */
static void point_of(const struct json *pt, int m, int runs, bool ci, double *y,
		     double *lo, double *hi)
{
	double mean = num(json_get(pt, "mean"), m),
	       sd = num(json_get(pt, "stddev"), m);

	if (ci && runs > 1 && isfinite(mean) && isfinite(sd)) {
		double half = gsl_cdf_tdist_Pinv(0.975, runs - 1) * sd /
			      sqrt((double)runs);

		*y = mean;
		*lo = mean - half;
		*hi = mean + half;
		return;
	}
	*y = num(json_get(pt, "median"), m);
	*lo = num(json_get(pt, "min"), m);
	*hi = num(json_get(pt, "max"), m);
}

int cmd_plot_main(int argc, char **argv)
{
	const char *in = NULL, *out = NULL, *metric = "throughput",
		   *title = NULL;
	const struct json *results, *metrics, *param;
	double xmin = INFINITY, xmax = 0, ymin = INFINITY, ymax = 0;
	bool ci = true;
	int runs = 1;
	enum x_axis axis;
	struct json *root;
	char err[128], *text, label[256], label2[256];
	const char *term;
	struct outfile of;
	struct stat sb;
	int i, j, m, rc;
	FILE *gp;

	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
			fputs(plot_usage, stdout);
			return 0;
		} else if (!strcmp(argv[i], "-o") && i + 1 < argc) {
			out = argv[++i];
		} else if (!strcmp(argv[i], "--metric") && i + 1 < argc) {
			metric = argv[++i];
		} else if (!strcmp(argv[i], "--title") && i + 1 < argc) {
			title = argv[++i];
		} else if (!strcmp(argv[i], "--bars") && i + 1 < argc) {
			i++;
			if (strcmp(argv[i], "ci") && strcmp(argv[i], "range")) {
				fprintf(stderr,
					"pcpbuddy plot: --bars: '%s' is not ci or range\n",
					argv[i]);
				return 2;
			}
			ci = !strcmp(argv[i], "ci");
		} else if (argv[i][0] != '-' && !in) {
			in = argv[i];
		} else {
			return wl_usage_error("pcpbuddy plot",
					      "unknown argument '%s'", argv[i]);
		}
	}
	if (!in || !out)
		return wl_usage_error("pcpbuddy plot",
				      "needs SWEEP.json and -o OUT.png");
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
	root = json_parse(text, err, sizeof(err));
	free(text);
	if (!root) {
		fprintf(stderr, "pcpbuddy plot: %s: %s\n", in, err);
		return 2;
	}
	results = json_get(root, "results");
	if (json_get(root, "runs") && json_get(root, "runs")->number >= 1 &&
	    json_get(root, "runs")->number <= 1000)
		runs = (int)json_get(root, "runs")->number;
	metrics = json_get(root, "metrics");
	param = json_get(root, "param");
	m = metric_index(metrics, metric);
	if (!results || results->type != JSON_ARRAY || !param ||
	    param->type != JSON_STRING || m < 0) {
		fprintf(stderr,
			"pcpbuddy plot: %s is not a sweep table with metric '%s'\n",
			in, metric);
		json_free(root);
		free(root);
		return 2;
	}
	axis = axis_of(results->n ? json_get(&results->kids[0], "points")
				  : NULL);
	for (i = 0; i < results->n; i++) {
		const struct json *pts = json_get(&results->kids[i], "points");

		for (j = 0; pts && j < pts->n; j++) {
			double x = x_of(pts, j, axis),
			       y = num(json_get(&pts->kids[j], "median"), m);

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
		json_free(root);
		free(root);
		return 1;
	}
	gp = popen("gnuplot", "w");
	if (!gp) {
		fprintf(stderr, "pcpbuddy plot: cannot run gnuplot\n");
		outfile_abort(&of);
		json_free(root);
		free(root);
		return 1;
	}
	safe_label(label, sizeof(label), param->string);
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
	safe_label(label, sizeof(label),
		   title ? title
			 : (json_get(root, "workload") &&
					    json_get(root, "workload")->string
				    ? json_get(root, "workload")->string
				    : ""));
	fprintf(gp, "set title '%s'\n", label);
	if (axis != X_CATEGORY && xmin > 0 && xmax / xmin >= 8)
		fprintf(gp, "set logscale x 2\n");
	else if (axis == X_CATEGORY)
		fprintf(gp, "set xrange [-0.5:%g]\n", xmax + 0.5);
	{
		/* Ticks at the swept values, not at fractions of them. */
		const struct json *pts =
			results->n ? json_get(&results->kids[0], "points")
				   : NULL;

		fprintf(gp, "set xtics (");
		for (j = 0; pts && j < pts->n; j++) {
			const struct json *v = json_get(&pts->kids[j], "value");

			safe_label(label, sizeof(label),
				   v && v->type == JSON_STRING ? v->string
							       : "");
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
	for (i = 0; i < results->n; i++) {
		const struct json *c = json_get(&results->kids[i], "config");

		safe_label(label, sizeof(label),
			   c && c->string ? c->string : "?");
		fprintf(gp,
			"%s'-' using 1:2:3:4 with yerrorlines lw 2 title '%s'",
			i ? ", " : "", label);
	}
	fprintf(gp, "\n");
	for (i = 0; i < results->n; i++) {
		const struct json *pts = json_get(&results->kids[i], "points");

		for (j = 0; pts && j < pts->n; j++) {
			const struct json *pt = &pts->kids[j];

			double y, lo, hi;

			point_of(pt, m, runs, ci, &y, &lo, &hi);
			fprintf(gp, "%.17g %.10g %.10g %.10g\n",
				x_of(pts, j, axis), y, lo, hi);
		}
		fprintf(gp, "e\n");
	}
	rc = pclose(gp);
	json_free(root);
	free(root);
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
