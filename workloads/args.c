// SPDX-License-Identifier: GPL-2.0-only OR MIT
/*
 * args.c - every command's arguments through getopt_long(), with one set
 * of messages: "PROG: unknown argument 'X'", "PROG: X needs a value",
 * "PROG: X takes no value", "PROG: ambiguous argument '--co' (--config,
 * --configs)", each followed by "(try --help)".  getopt_long() gives
 * --opt=value, abbreviations and "--" for free.
 *
 * Arguments are returned in order ("-" mode): a non-option is code 1, so
 * a command sees the values after its --configs where they stand, and
 * nothing is permuted under a program's own arguments after "--".
 *
 * A run's options (the common ones and the driver's table) are one
 * getopt_long() table that compare and sweep extend with their own; what
 * is not theirs they pass on by name (wl_optset_name()).
 *
 * Invariants: getopt_long()'s state is reset at each wl_args_init().
 * Locking: none; getopt_long() is not reentrant, so one parse at a time.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "workloads.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

void wl_args_init(struct wl_args *a, const char *prog, int argc, char **argv,
		  const char *shortopts, const struct option *longopts)
{
	memset(a, 0, sizeof(*a));
	a->prog = prog;
	a->argc = argc;
	a->argv = argv;
	a->longopts = longopts;
	/* '-': in order, non-options as code 1; ':': ':' for a missing value */
	snprintf(a->shortopts, sizeof(a->shortopts), "-:%s",
		 shortopts ? shortopts : "");
	optind = 0; /* glibc: a full reinitialisation */
	opterr = 0;
}

/* --co when both --config and --configs exist: name them. */
static bool report_ambiguous(const struct wl_args *a, const char *arg)
{
	const struct option *o;
	size_t len = strcspn(arg + 2, "=");
	char list[256] = "";
	size_t used = 0;
	int matches = 0;

	for (o = a->longopts; o && o->name; o++)
		if (!strncmp(o->name, arg + 2, len) && used < sizeof(list)) {
			used += (size_t)snprintf(list + used,
						 sizeof(list) - used, "%s--%s",
						 matches ? ", " : "", o->name);
			matches++;
		}
	if (matches < 2)
		return false;
	fprintf(stderr, "%s: ambiguous argument '%.*s' (%s) (try --help)\n",
		a->prog, (int)len + 2, arg, list);
	return true;
}

int wl_args_next(struct wl_args *a, const char **arg)
{
	int index = -1, c;
	const char *tok;

	c = getopt_long(a->argc, a->argv, a->shortopts, a->longopts, &index);
	*arg = optarg;
	a->optind = optind;
	if (c == -1 || c == 1)
		return c;
	if (c != '?' && c != ':') {
		if (index >= 0)
			snprintf(a->name, sizeof(a->name), "--%s",
				 a->longopts[index].name);
		else
			snprintf(a->name, sizeof(a->name), "-%c", c);
		return c;
	}
	/* The token that failed: getopt_long() has stepped past it, except
	 * inside a cluster of short options ("-xk"). */
	tok = optind > 0 && optind <= a->argc ? a->argv[optind - 1] : "";
	if (tok[0] != '-' || (optopt && tok[1] != '-'))
		snprintf(a->name, sizeof(a->name), "-%c", optopt);
	else
		snprintf(a->name, sizeof(a->name), "%.*s",
			 (int)strcspn(tok, "="), tok);
	if (c == ':')
		fprintf(stderr, "%s: %s needs a value (try --help)\n", a->prog,
			a->name);
	else if (optopt && tok[0] == '-' && tok[1] == '-' && strchr(tok, '='))
		fprintf(stderr, "%s: %s takes no value (try --help)\n", a->prog,
			a->name);
	else if (tok[0] != '-' || tok[1] != '-' || !report_ambiguous(a, tok))
		fprintf(stderr, "%s: unknown argument '%s' (try --help)\n",
			a->prog, optopt && tok[1] != '-' ? a->name : tok);
	return -2;
}

/*
 * A run's options: @extra (the command's own, zero-terminated, vals below
 * WL_OPT_COMMON), then the common ones, then @w's table; a driver option
 * named like a common one is shadowed, as it always was.
 */
static const struct option common_options[] = {
	{ "help", no_argument, NULL, WL_OPT_COMMON + 'h' },
	{ "json", no_argument, NULL, WL_OPT_COMMON + 'j' },
	{ "csv", no_argument, NULL, WL_OPT_COMMON + 'c' },
	{ "memory-pressure", no_argument, NULL, WL_OPT_COMMON + 'm' },
	{ "record", required_argument, NULL, WL_OPT_COMMON + 'r' },
	{ "show", required_argument, NULL, WL_OPT_COMMON + 'S' },
	{ "unit", required_argument, NULL, WL_OPT_COMMON + 'u' },
	{ "sort", required_argument, NULL, WL_OPT_COMMON + 'k' },
	{ "fields", required_argument, NULL, WL_OPT_COMMON + 'F' },
	{ "hog", required_argument, NULL, WL_OPT_COMMON + 'H' },
	{ "threads", required_argument, NULL, WL_OPT_COMMON + 't' },
	{ "seconds", required_argument, NULL, WL_OPT_COMMON + 's' },
	{ "seed", required_argument, NULL, WL_OPT_COMMON + 'x' },
	{ "config", required_argument, NULL, WL_OPT_COMMON + 'C' },
	{ "ops", required_argument, NULL, WL_OPT_COMMON + 'o' },
};

int wl_optset_build(struct wl_optset *s, const struct workload *w,
		    const struct option *extra, const char *extra_short)
{
	size_t n_extra = 0, n_drv = 0, n = 0, i;
	const struct wl_option *d;
	size_t used;

	memset(s->short_code, 0, sizeof(s->short_code));
	while (extra && extra[n_extra].name)
		n_extra++;
	for (d = w && w->options ? w->options : NULL; d && d->name; d++)
		n_drv += 2; /* its name and a long alias */
	s->longopts = calloc(n_extra + ARRAY_SIZE(common_options) + n_drv + 1,
			     sizeof(*s->longopts));
	if (!s->longopts)
		return -1;
	for (i = 0; i < n_extra; i++)
		s->longopts[n++] = extra[i];
	for (i = 0; i < ARRAY_SIZE(common_options); i++)
		s->longopts[n++] = common_options[i];
	used = (size_t)snprintf(s->shortopts, sizeof(s->shortopts),
				"%shk:F:", extra_short ? extra_short : "");
	s->short_code['h'] = WL_OPT_COMMON + 'h';
	s->short_code['k'] = WL_OPT_COMMON + 'k';
	s->short_code['F'] = WL_OPT_COMMON + 'F';
	for (i = 0, d = w ? w->options : NULL; d && d->name; d++, i++) {
		int has_arg = d->type == WL_OPT_FLAG || d->type == WL_OPT_CHOICE
				      ? no_argument
				      : required_argument;
		int code = WL_OPT_DRIVER + (int)i;
		const char *alias = d->short_name;

		s->longopts[n++] =
			(struct option){ d->name, has_arg, NULL, code };
		if (alias && alias[1] == '-' && strcmp(alias + 2, d->name))
			s->longopts[n++] = (struct option){ alias + 2, has_arg,
							    NULL, code };
		else if (alias && alias[1] != '-' &&
			 used + 3 < sizeof(s->shortopts)) {
			unsigned char ch = (unsigned char)alias[1];

			s->shortopts[used++] = (char)ch;
			if (has_arg == required_argument)
				s->shortopts[used++] = ':';
			s->shortopts[used] = '\0';
			s->short_code[ch & 127] = code;
		}
	}
	return 0;
}

void wl_optset_free(struct wl_optset *s)
{
	free(s->longopts);
	s->longopts = NULL;
}

int wl_optset_code(const struct wl_optset *s, int c)
{
	if (c > 0 && c < 128 && s->short_code[c])
		return s->short_code[c];
	return c;
}

const char *wl_optset_name(const struct wl_optset *s, int code)
{
	const struct option *o;

	for (o = s->longopts; o && o->name; o++)
		if (o->val == code)
			return o->name;
	return NULL;
}

int wl_optset_has_arg(const struct wl_optset *s, int code)
{
	const struct option *o;

	for (o = s->longopts; o && o->name; o++)
		if (o->val == code)
			return o->has_arg;
	return no_argument;
}
