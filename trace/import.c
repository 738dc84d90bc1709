// SPDX-License-Identifier: GPL-2.0-only OR MIT
/*
 * import.c - kernel kmem: tracepoint text to a pcpbuddy trace: tracefs,
 * perf script and trace-cmd report lines, plain or gzipped.
 *
 * Import rules (docs/trace-format.md, "From kernel text"): pages are keyed
 * by pfn= (page= is a hashed pointer in tracefs); mm_page_free_batched fires
 * besides mm_page_free and its order is a literal 0, so it only annotates;
 * mm_page_alloc_zone_locked and mm_page_pcpu_drain become markers; a failed
 * allocation (pfn=0x0) and a free of a page allocated before the trace are
 * counted, not fatal; a malformed line is reported with its number.
 *
 * Invariants: those of trace.h.  Locking: none; single-threaded.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "trace.h"

/* ---- pfn -> allocation id, open addressing ------------------------------ */

struct pfn_map {
	uint64_t *key; /* pfn + 1; 0 empty, ~0 deleted */
	uint32_t *val;
	size_t cap, used;
};

static size_t pm_slot(const struct pfn_map *m, uint64_t key)
{
	return (size_t)((key * 0x9e3779b97f4a7c15ULL) >> 20) & (m->cap - 1);
}

static int pm_put(struct pfn_map *m, uint64_t pfn, uint32_t id)
{
	uint64_t key = pfn + 1;
	size_t i;

	if ((m->used + 1) * 2 > m->cap) {
		struct pfn_map n = { .cap = m->cap ? m->cap * 2 : 1 << 16 };
		size_t j;

		n.key = calloc(n.cap, sizeof(*n.key));
		n.val = calloc(n.cap, sizeof(*n.val));
		if (!n.key || !n.val) {
			free(n.key);
			free(n.val);
			return -ENOMEM;
		}
		for (j = 0; j < m->cap; j++)
			if (m->key[j] && m->key[j] != ~0ULL) {
				i = pm_slot(&n, m->key[j]);
				while (n.key[i])
					i = (i + 1) & (n.cap - 1);
				n.key[i] = m->key[j];
				n.val[i] = m->val[j];
				n.used++;
			}
		free(m->key);
		free(m->val);
		*m = n;
	}
	for (i = pm_slot(m, key); m->key[i] && m->key[i] != ~0ULL;
	     i = (i + 1) & (m->cap - 1))
		if (m->key[i] == key)
			break;
	if (!m->key[i] || m->key[i] == ~0ULL)
		m->used++;
	m->key[i] = key;
	m->val[i] = id;
	return 0;
}

/* Return: the id and remove it, or 0 when @pfn is not live. */
static uint32_t pm_take(struct pfn_map *m, uint64_t pfn)
{
	uint64_t key = pfn + 1;
	size_t i;

	if (!m->cap)
		return 0;
	for (i = pm_slot(m, key); m->key[i]; i = (i + 1) & (m->cap - 1))
		if (m->key[i] == key) {
			m->key[i] = ~0ULL; /* tombstone */
			return m->val[i];
		}
	return 0;
}

/* ---- import --------------------------------------------------------------- */

static const char *field(const char *s, const char *name)
{
	const char *p = strstr(s, name);

	return p ? p + strlen(name) : NULL;
}

/*
 * One line of tracefs, perf script or trace-cmd report text.
 * Return: 0 (event or skipped line), or -EINVAL for a malformed kmem line.
 */
static int import_line(char *line, struct trace *t, struct pfn_map *live,
		       uint32_t *next_id, struct trace_import_stats *st)
{
	const char *ev, *p, *colon;
	char *end;
	unsigned long cpu, order = 0, mt = 1;
	unsigned long long pfn;
	double ts;
	struct trace_event e = { 0 };

	while (*line == ' ' || *line == '\t')
		line++;
	if (!*line || *line == '#' || *line == '\n')
		return 0;
	ev = strstr(line, "mm_page_");
	if (!ev) {
		st->unknown++;
		return 0;
	}
	/* "[cpu]" then the timestamp before ": [kmem:]mm_page_..." */
	p = strchr(line, '[');
	if (!p || p > ev)
		return -EINVAL;
	cpu = strtoul(p + 1, &end, 10);
	if (end == p + 1 || *end != ']' || cpu > 65535)
		return -EINVAL;
	colon = ev;
	while (colon > end && colon[-1] != ':')
		colon--; /* the ':' after the timestamp, skipping "kmem:" */
	if (colon - end >= 5 && !strncmp(colon - 5, "kmem:", 5))
		colon -= 5;
	while (colon > end && (colon[-1] == ' ' || colon[-1] == ':'))
		colon--;
	p = colon;
	while (p > end && (p[-1] == '.' || (p[-1] >= '0' && p[-1] <= '9')))
		p--;
	ts = strtod(p, &end);
	/* Found by the fuzzer: a timestamp past 2^64 ns does not convert. */
	if (end == p || end != colon || !(ts >= 0 && ts < 1.8e10))
		return -EINVAL;
	e.time_ns = (uint64_t)(ts * 1e9);
	e.cpu = (uint16_t)cpu;
	p = field(ev, "pfn=");
	if (!p)
		return -EINVAL;
	errno = 0;
	pfn = strtoull(p, &end, 16);
	/* A pfn is below 2^52 on any machine; the top of the range is the
	 * live map's empty and deleted markers. */
	if (end == p || errno || pfn >= (1ULL << 52))
		return -EINVAL;
	if ((p = field(ev, " order=")))
		order = strtoul(p, NULL, 10);
	if ((p = field(ev, "migratetype=")))
		mt = strtoul(p, NULL, 10);
	if (order > 10)
		return -EINVAL;
	if (mt > 2)
		mt = 1; /* highatomic/CMA/isolate: replay as movable */
	e.info = (uint8_t)(order | mt << 4);

	if (!strncmp(ev, "mm_page_alloc_zone_locked:", 26)) {
		const char *r = field(ev, "percpu_refill=");

		if (!r || *r != '1')
			return 0;
		e.op = TOP_REFILL_MARK;
		st->refill_marks++;
	} else if (!strncmp(ev, "mm_page_alloc:", 14)) {
		if (!pfn) {
			st->failed++;
			return 0;
		}
		if (strstr(ev, "ACCOUNT"))
			e.info |= TRACE_ACCOUNTED;
		e.op = TOP_ALLOC;
		e.id = (*next_id)++;
		if (pm_put(live, pfn, e.id))
			return -ENOMEM;
		st->allocs++;
	} else if (!strncmp(ev, "mm_page_free_batched:", 21)) {
		st->batched++; /* annotation: mm_page_free has the real order */
		return 0;
	} else if (!strncmp(ev, "mm_page_free:", 13)) {
		e.id = pm_take(live, pfn);
		e.op = TOP_FREE;
		if (!e.id) {
			/* Allocated before the trace: the replay allocates it
			 * up front, so this free can still happen. */
			e.id = (*next_id)++;
			e.op = TOP_FREE_OLD;
			st->pre_trace_frees++;
		} else {
			st->frees++;
		}
	} else if (!strncmp(ev, "mm_page_pcpu_drain:", 19)) {
		e.op = TOP_DRAIN_MARK;
		st->drain_marks++;
	} else {
		st->unknown++;
		return 0;
	}
	return trace_push(t, e);
}

/*
 * import_ftrace - kmem tracepoint text (or its gzip) at @in into @t.
 * Malformed lines are counted in @st and the first ten named on stderr,
 * after @who.  Return: 0, or -errno after a message.
 */
int trace_import_ftrace(const char *who, const char *in, struct trace *t,
			struct trace_import_stats *st)
{
	struct pfn_map live = { 0 };
	uint32_t next_id = 1;
	bool gzipped = false;
	char line[4096];
	int rc = 0;
	FILE *f;

	memset(t, 0, sizeof(*t));
	f = fopen(in, "r");
	if (!f) {
		rc = -errno;
		fprintf(stderr, "%s: %s: %s\n", who, in, strerror(errno));
		return rc;
	}
	/* Captures are often shipped gzipped: read those through gzip.
	 * The path goes in the environment, so no quoting can break. */
	if (fgetc(f) == 0x1f && fgetc(f) == 0x8b) {
		fclose(f);
		setenv("PCPB_IMPORT_GZ", in, 1);
		f = popen("exec gzip -dc -- \"$PCPB_IMPORT_GZ\"", "r");
		gzipped = true;
		if (!f) {
			rc = -errno;
			fprintf(stderr, "%s: %s: gzip: %s\n", who, in,
				strerror(errno));
			return rc;
		}
	} else {
		rewind(f);
	}
	snprintf(t->h.source, sizeof(t->h.source), "ftrace:%s",
		 strrchr(in, '/') ? strrchr(in, '/') + 1 : in);
	while (fgets(line, sizeof(line), f)) {
		size_t before = t->n;

		st->lines++;
		rc = import_line(line, t, &live, &next_id, st);
		if (!rc && t->n > before)
			trace_check_time(who, in, t, t->n - 1, st->lines,
					 &st->time);
		if (rc == -ENOMEM)
			break;
		if (rc) {
			if (++st->malformed <= 10)
				fprintf(stderr,
					"%s: %s:%llu: malformed kmem line\n",
					who, in, (unsigned long long)st->lines);
			rc = 0;
		}
	}
	if (rc == -ENOMEM)
		fprintf(stderr, "%s: %s: out of memory\n", who, in);
	if (gzipped && pclose(f) && !rc) {
		fprintf(stderr, "%s: %s: gzip -dc failed\n", who, in);
		rc = -EIO;
	} else if (!gzipped) {
		fclose(f);
	}
	free(live.key);
	free(live.val);
	if (rc) {
		free(t->ev);
		t->ev = NULL;
	}
	return rc;
}

/*
 * load_trace - a pcpbuddy trace, or kmem tracepoint text (plain or gzip)
 * imported on the fly, so that replay and fidelity take a capture as it is.
 * Return: 0, or -errno with @err set.
 */
int trace_load(const char *who, const char *path, struct trace *t, char *err,
	       size_t len)
{
	struct trace_import_stats st = { 0 };
	char magic[8] = { 0 };
	FILE *f = fopen(path, "rb");
	size_t n;
	int rc;

	if (!f) {
		rc = -errno;
		snprintf(err, len, "%s: %s", path, strerror(errno));
		return rc;
	}
	n = fread(magic, 1, sizeof(magic), f);
	fclose(f);
	/* Binary and not gzip: a pcpbuddy trace, or an error that says so. */
	if ((n == sizeof(magic) && !memcmp(magic, TRACE_MAGIC, 8)) ||
	    (magic[0] != 0x1f && memchr(magic, 0, n)))
		return trace_read(path, t, err, len);
	rc = trace_import_ftrace(who, path, t, &st);
	if (rc) {
		snprintf(err, len, "%s: import: %s", path, strerror(-rc));
		return rc;
	}
	if (!st.allocs && !st.frees && !st.refill_marks && !st.drain_marks) {
		free(t->ev);
		t->ev = NULL;
		snprintf(
			err, len,
			"%s: neither a pcpbuddy trace nor kmem tracepoint text (%llu lines, no kmem events)",
			path, (unsigned long long)st.lines);
		return -EINVAL;
	}
	t->h.nr_events = t->n;
	return 0;
}
