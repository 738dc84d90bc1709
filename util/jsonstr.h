/* SPDX-License-Identifier: GPL-2.0-only OR MIT */
/*
 * jsonstr.h - a string as a JSON string literal (RFC 8259): quotes,
 * backslash and control characters escaped, so a file or config name
 * with a '"' in it cannot break the JSON around it.
 *
 * And a number as JSON or CSV writes it: whole numbers exactly (a counter
 * of 40375910 stays 40375910, never 4.03759e+07), others to 10 significant
 * digits, null (JSON) or empty (CSV) where the value does not exist.
 *
 * Invariants: the output is a complete literal, quotes included.
 * Locking: none.
 */
#ifndef PCPB_JSONSTR_H
#define PCPB_JSONSTR_H

#include <math.h>
#include <stdio.h>

/* @v into @buf: "" when not finite. */
static inline const char *format_number(char *buf, size_t len, double v)
{
	if (!isfinite(v))
		snprintf(buf, len, "%s", "");
	else if (v == floor(v) && fabs(v) < 9007199254740992.0) /* 2^53 */
		snprintf(buf, len, "%.0f", v);
	else
		snprintf(buf, len, "%.10g", v);
	return buf;
}

static inline void json_fputs_number(FILE *f, double v)
{
	char buf[32];

	fputs(isfinite(v) ? format_number(buf, sizeof(buf), v) : "null", f);
}

static inline void json_fputs_string(FILE *f, const char *s)
{
	fputc('"', f);
	for (; s && *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\')
			fprintf(f, "\\%c", c);
		else if (c < 0x20)
			fprintf(f, "\\u%04x", c);
		else
			fputc(c, f);
	}
	fputc('"', f);
}

#endif /* PCPB_JSONSTR_H */
