// SPDX-License-Identifier: GPL-2.0-only OR MIT
/*
 * json.c - recursive-descent JSON reader (see json.h).  Strings keep the
 * escapes pcpbuddy writes (\" and \\) decoded; \u escapes are not needed.
 *
 * Invariants: on failure nothing leaks.  Locking: none.
 */
#include "json.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct parser {
	const char *s, *start;
	char *err;
	size_t errlen;
	int depth;
};

static int fail(struct parser *p, const char *what)
{
	if (p->err && p->errlen)
		snprintf(p->err, p->errlen, "%s at offset %ld", what,
			 (long)(p->s - p->start));
	return -1;
}

static void skip_ws(struct parser *p)
{
	while (isspace((unsigned char)*p->s))
		p->s++;
}

static int parse_value(struct parser *p, struct json *j);

static int parse_string(struct parser *p, char **out)
{
	const char *q = ++p->s;
	size_t n = 0;
	char *buf;

	while (*q && *q != '"') {
		if (*q == '\\' && q[1])
			q++;
		q++;
		n++;
	}
	if (*q != '"')
		return fail(p, "unterminated string");
	buf = malloc(n + 1);
	if (!buf)
		return fail(p, "out of memory");
	for (n = 0; p->s < q; p->s++) {
		if (*p->s == '\\')
			p->s++;
		buf[n++] = *p->s;
	}
	buf[n] = '\0';
	p->s++;
	*out = buf;
	return 0;
}

static int add_kid(struct json *j, struct json *kid, char *key)
{
	struct json *kids =
		realloc(j->kids, (size_t)(j->n + 1) * sizeof(*kids));

	if (!kids)
		return -1;
	j->kids = kids;
	if (j->type == JSON_OBJECT) {
		char **keys =
			realloc(j->keys, (size_t)(j->n + 1) * sizeof(char *));

		if (!keys)
			return -1;
		j->keys = keys;
		j->keys[j->n] = key;
	}
	j->kids[j->n++] = *kid;
	return 0;
}

static int parse_container(struct parser *p, struct json *j, char close)
{
	j->type = close == '}' ? JSON_OBJECT : JSON_ARRAY;
	p->s++;
	skip_ws(p);
	if (*p->s == close) {
		p->s++;
		return 0;
	}
	for (;;) {
		struct json kid = { 0 };
		char *key = NULL;

		skip_ws(p);
		if (j->type == JSON_OBJECT) {
			if (*p->s != '"' || parse_string(p, &key))
				return fail(p, "expected a key");
			skip_ws(p);
			if (*p->s++ != ':') {
				free(key);
				return fail(p, "expected ':'");
			}
		}
		if (parse_value(p, &kid) || add_kid(j, &kid, key)) {
			free(key);
			json_free(&kid);
			return -1;
		}
		skip_ws(p);
		if (*p->s == ',') {
			p->s++;
			continue;
		}
		if (*p->s++ == close)
			return 0;
		return fail(p, "expected ',' or a closing bracket");
	}
}

static int parse_scalar(struct parser *p, struct json *j);

/* Nesting is bounded so hostile input cannot exhaust the stack. */
static int parse_value(struct parser *p, struct json *j)
{
	int rc;

	if (++p->depth > 64)
		return fail(p, "too deep");
	rc = parse_scalar(p, j);
	p->depth--;
	return rc;
}

static int parse_scalar(struct parser *p, struct json *j)
{
	char *end;

	skip_ws(p);
	switch (*p->s) {
	case '{':
		return parse_container(p, j, '}');
	case '[':
		return parse_container(p, j, ']');
	case '"':
		j->type = JSON_STRING;
		return parse_string(p, &j->string);
	default:
		break;
	}
	if (!strncmp(p->s, "true", 4) || !strncmp(p->s, "false", 5)) {
		j->type = JSON_BOOL;
		j->number = *p->s == 't';
		p->s += *p->s == 't' ? 4 : 5;
		return 0;
	}
	if (!strncmp(p->s, "null", 4)) {
		j->type = JSON_NULL;
		p->s += 4;
		return 0;
	}
	j->number = strtod(p->s, &end);
	if (end == p->s)
		return fail(p, "unexpected character");
	j->type = JSON_NUMBER;
	p->s = end;
	return 0;
}

static void free_kids(struct json *j)
{
	int i;

	for (i = 0; i < j->n; i++) {
		free_kids(&j->kids[i]);
		if (j->keys)
			free(j->keys[i]);
	}
	free(j->kids);
	free(j->keys);
	free(j->string);
}

void json_free(struct json *j)
{
	if (j)
		free_kids(j);
}

struct json *json_parse(const char *text, char *err, size_t errlen)
{
	struct parser p = {
		.s = text, .start = text, .err = err, .errlen = errlen
	};
	struct json *j = calloc(1, sizeof(*j));

	if (!j)
		return NULL;
	if (parse_value(&p, j)) {
		json_free(j);
		free(j);
		return NULL;
	}
	skip_ws(&p);
	if (*p.s) {
		fail(&p, "trailing characters");
		json_free(j);
		free(j);
		return NULL;
	}
	return j;
}

const struct json *json_get(const struct json *obj, const char *key)
{
	int i;

	if (!obj || obj->type != JSON_OBJECT)
		return NULL;
	for (i = 0; i < obj->n; i++)
		if (!strcmp(obj->keys[i], key))
			return &obj->kids[i];
	return NULL;
}
