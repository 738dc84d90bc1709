/* SPDX-License-Identifier: GPL-2.0-only OR MIT */
/*
 * jsonstr.h - a string as a JSON string literal (RFC 8259): quotes,
 * backslash and control characters escaped, so a file or config name
 * with a '"' in it cannot break the JSON around it.
 *
 * Invariants: the output is a complete literal, quotes included.
 * Locking: none.
 */
#ifndef PCPB_JSONSTR_H
#define PCPB_JSONSTR_H

#include <stdio.h>

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
