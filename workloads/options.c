// SPDX-License-Identifier: GPL-2.0-only OR MIT
/*
 * options.c - a driver's own options, declared as a table (struct
 * wl_option) and handled here the same way for every driver: on the
 * command line (--name VALUE, or -x VALUE; a flag takes no value; parsed
 * with getopt_long() in args.c) and as
 * keys of a --configs or --param string (name=VALUE, flags on/off), so
 * every driver option can be compared and swept.
 *
 * Invariants: a failed set leaves the driver's options unchanged.
 * Locking: none; the options are the caller's.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../util/number.h"
#include "workloads.h"

static const struct wl_option *find_option(const struct wl_option *opts,
					   const char *key)
{
	const struct wl_option *o;

	const char *bare = key;

	if (!opts)
		return NULL;
	/* "--pages", "pages" and a short "-w" all name the same option. */
	if (key[0] == '-' && key[1] == '-')
		bare = key + 2;
	for (o = opts; o->name; o++)
		if (!strcmp(bare, o->name) ||
		    (o->short_name && !strcmp(key, o->short_name)))
			return o;
	return NULL;
}

static void store_int(void *field, size_t size, long long v)
{
	if (size == sizeof(int32_t)) {
		int32_t x = (int32_t)v;

		memcpy(field, &x, sizeof(x));
	} else if (size == sizeof(bool)) {
		bool b = v != 0;

		memcpy(field, &b, sizeof(b));
	} else {
		int64_t x = v;

		memcpy(field, &x, sizeof(x));
	}
}

/* Return: 0, or -EINVAL for a value outside the option's range. */
static int set_value(const struct wl_option *o, void *priv, const char *v)
{
	char *field = (char *)priv + o->offset;
	double x;
	int i;

	switch (o->type) {
	case WL_OPT_INT:
	case WL_OPT_DOUBLE:
		if (parse_number(v, o->lo, o->hi, o->type == WL_OPT_INT, &x))
			return -EINVAL;
		if (o->type == WL_OPT_DOUBLE)
			memcpy(field, &x, sizeof(x));
		else
			store_int(field, o->size, (long long)x);
		return 0;
	case WL_OPT_FLAG:
		if (!strcmp(v, "on") || !strcmp(v, "1") || !strcmp(v, "true"))
			store_int(field, o->size, 1);
		else if (!strcmp(v, "off") || !strcmp(v, "0") ||
			 !strcmp(v, "false"))
			store_int(field, o->size, 0);
		else
			return -EINVAL;
		return 0;
	case WL_OPT_ENUM:
		for (i = 0; o->names[i]; i++)
			if (!strcmp(v, o->names[i])) {
				store_int(field, o->size, i);
				return 0;
			}
		return -EINVAL;
	case WL_OPT_STRING:
		if (strlen(v) >= o->size)
			return -EINVAL;
		strcpy(field, v);
		return 0;
	case WL_OPT_CHOICE:
		return -EINVAL;
	}
	return -EINVAL;
}

int wl_option_set(const struct workload *w, void *priv, const char *key,
		  const char *value)
{
	const struct wl_option *o = find_option(w->options, key);

	/* A key of the command line only: the config's, not ours. */
	if (o && o->cli_only && strcmp(key, o->short_name ? o->short_name : ""))
		o = NULL;
	if (o && o->type == WL_OPT_CHOICE) /* a flag; its enum is the key */
		o = NULL;
	if (!o)
		return -ENOENT;
	return set_value(o, priv, value);
}

void wl_option_range(const struct wl_option *o, char *buf, size_t len)
{
	size_t n = 0;
	int i;

	switch (o->type) {
	case WL_OPT_INT:
		snprintf(buf, len, "%.0f..%.0f", o->lo, o->hi);
		return;
	case WL_OPT_DOUBLE:
		snprintf(buf, len, "%g..%g", o->lo, o->hi);
		return;
	case WL_OPT_FLAG:
		snprintf(buf, len, "(flag) on|off");
		return;
	case WL_OPT_ENUM:
		buf[0] = '\0';
		for (i = 0; o->names[i] && n < len; i++)
			n += (size_t)snprintf(buf + n, len - n, "%s%s",
					      i ? "|" : "", o->names[i]);
		return;
	case WL_OPT_STRING:
		snprintf(buf, len, "a string");
		return;
	case WL_OPT_CHOICE:
		snprintf(buf, len, "(flag)");
		return;
	}
}

int wl_driver_option(const struct workload *w, int index, const char *name,
		     const char *val, void *priv, const char *prog)
{
	const struct wl_option *o = &w->options[index];
	char range[160];

	if (o->type == WL_OPT_FLAG || o->type == WL_OPT_CHOICE) {
		store_int((char *)priv + o->offset, o->size,
			  o->type == WL_OPT_FLAG ? 1 : (long long)o->lo);
		return 0;
	}
	if (set_value(o, priv, val)) {
		wl_option_range(o, range, sizeof(range));
		return wl_usage_error(prog, "%s: bad value '%s' (takes %s)",
				      name, val, range);
	}
	return 0;
}

void wl_options_help(const struct workload *w, FILE *out)
{
	const struct wl_option *o;

	if (!w->options || !w->options->name)
		return;
	fprintf(out,
		"\n%s options (also name=VALUE in --configs and --param):\n",
		w->name);
	for (o = w->options; o->name; o++) {
		char range[160], flag[48];

		wl_option_range(o, range, sizeof(range));
		if (!o->short_name)
			snprintf(flag, sizeof(flag), "--%s", o->name);
		else if (o->short_name[1] != '-')
			snprintf(flag, sizeof(flag), "--%s, %s", o->name,
				 o->short_name);
		else if (o->cli_only)
			snprintf(flag, sizeof(flag), "%s", o->short_name);
		else /* a CLI alias whose key differs from a config key */
			snprintf(flag, sizeof(flag), "%s (%s=)", o->short_name,
				 o->name);
		fprintf(out, "  %-24s %-20s %s\n", flag, range, o->help);
	}
}
