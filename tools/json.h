/* SPDX-License-Identifier: GPL-2.0-only OR MIT */
/*
 * json.h - a small JSON reader for what pcpbuddy writes (sweep tables),
 * so plot can read them back without another dependency.
 *
 * Invariants: a parsed tree owns all its memory; json_free() releases it.
 * Locking: none.
 */
#ifndef PCPB_JSON_H
#define PCPB_JSON_H

#include <stddef.h>

enum json_type {
	JSON_NULL,
	JSON_BOOL,
	JSON_NUMBER,
	JSON_STRING,
	JSON_ARRAY,
	JSON_OBJECT
};

struct json {
	enum json_type type;
	double number; /* JSON_NUMBER, JSON_BOOL */
	char *string;  /* JSON_STRING */
	int n;	       /* JSON_ARRAY, JSON_OBJECT: children */
	struct json *kids;
	char **keys; /* JSON_OBJECT */
};

/* Return: the tree, or NULL with @err naming the offset of the problem. */
struct json *json_parse(const char *text, char *err, size_t errlen);
void json_free(struct json *j);
const struct json *json_get(const struct json *obj, const char *key);

#endif /* PCPB_JSON_H */
