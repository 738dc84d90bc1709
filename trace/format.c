// SPDX-License-Identifier: GPL-2.0-only OR MIT
/*
 * format.c - the pcpbuddy trace file (docs/trace-format.md): append, read
 * with every field checked, write, and the sanitizer replays rely on.
 *
 * Invariants and locking: trace.h.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>

#include "../util/outfile.h"
#include "trace.h"

int trace_push(struct trace *t, struct trace_event e)
{
	if (t->n == t->cap) {
		size_t cap = t->cap ? 2 * t->cap : 4096;
		struct trace_event *ev;

		if (t->mapped) {
			ev = t->ev ? mremap(t->ev, t->cap * sizeof(*ev),
					    cap * sizeof(*ev), MREMAP_MAYMOVE)
				   : mmap(NULL, cap * sizeof(*ev),
					  PROT_READ | PROT_WRITE,
					  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
			if (ev == MAP_FAILED)
				ev = NULL;
		} else {
			ev = realloc(t->ev, cap * sizeof(*ev));
		}
		if (!ev)
			return -ENOMEM;
		t->ev = ev;
		t->cap = cap;
	}
	t->ev[t->n++] = e;
	if (e.cpu + 1U > t->h.nr_cpus)
		t->h.nr_cpus = e.cpu + 1U;
	return 0;
}

void trace_free(struct trace *t)
{
	if (t->mapped && t->ev)
		munmap(t->ev, t->cap * sizeof(*t->ev));
	else
		free(t->ev);
	free(t->meta);
	t->ev = NULL;
	t->meta = NULL;
	t->n = t->cap = t->meta_len = 0;
}

int trace_kernel_flows(const struct trace *t, struct trace_kernel_flows *out)
{
	uint8_t *last = calloc(t->h.nr_cpus + 1, 1);
	size_t i;

	if (!last)
		return -ENOMEM;
	memset(out, 0, t->h.nr_cpus * sizeof(*out));
	for (i = 0; i < t->n; i++) {
		const struct trace_event *e = &t->ev[i];
		struct trace_kernel_flows *k = &out[e->cpu];
		uint64_t pages = 1ULL << (e->info & 15);

		if (e->op == TOP_REFILL_MARK) {
			k->refill_pages += pages;
			k->refill_holds += last[e->cpu] != TOP_REFILL_MARK;
		} else if (e->op == TOP_DRAIN_MARK) {
			k->drain_pages += pages;
			k->drain_holds += last[e->cpu] != TOP_DRAIN_MARK;
		}
		last[e->cpu] = e->op;
	}
	free(last);
	return 0;
}

char *trace_read_text(const char *path, size_t *lenp)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = fopen(path, "r"), *m;

	if (!f)
		return NULL;
	m = open_memstream(&buf, &len);
	if (m) {
		char chunk[4096];
		size_t n;

		while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
			fwrite(chunk, 1, n, m);
		fclose(m);
	}
	fclose(f);
	if (lenp)
		*lenp = len;
	return buf;
}

/* ---- metadata (version 2) ------------------------------------------------ */

int trace_meta_add(struct trace *t, const char *fmt, ...)
{
	va_list ap;
	char *grown;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		return -EINVAL;
	grown = realloc(t->meta, t->meta_len + (size_t)n + 1);
	if (!grown)
		return -ENOMEM;
	va_start(ap, fmt);
	vsnprintf(grown + t->meta_len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	t->meta = grown;
	t->meta_len += (size_t)n;
	return 0;
}

int trace_meta_add_section(struct trace *t, const char *name, const char *text)
{
	size_t n = text ? strlen(text) : 0;

	if (!text)
		return 0;
	return trace_meta_add(t, "=== %s\n%s%s", name, text,
			      n && text[n - 1] != '\n' ? "\n" : "");
}

int trace_meta_insert_keys(struct trace *t, const char *keys)
{
	size_t n = strlen(keys);
	bool nl = n && keys[n - 1] != '\n';
	char *meta = malloc(n + nl + t->meta_len + 1);

	if (!meta)
		return -ENOMEM;
	memcpy(meta, keys, n);
	if (nl)
		meta[n++] = '\n';
	if (t->meta_len)
		memcpy(meta + n, t->meta, t->meta_len);
	meta[n + t->meta_len] = '\0';
	free(t->meta);
	t->meta = meta;
	t->meta_len += n;
	return 0;
}

unsigned long long trace_meta_ull(const struct trace *t, const char *key)
{
	size_t len;
	const char *v = trace_meta_get(t, key, &len);

	return v ? strtoull(v, NULL, 10) : 0;
}

const char *trace_meta_get(const struct trace *t, const char *key, size_t *len)
{
	size_t klen = strlen(key);
	const char *line = t->meta;

	/* Keys come before the first section. */
	while (line && *line && strncmp(line, "=== ", 4)) {
		const char *nl = strchr(line, '\n');

		if (!strncmp(line, key, klen) && line[klen] == ':') {
			const char *v = line + klen + 1;

			v += strspn(v, " ");
			*len = nl ? (size_t)(nl - v) : strlen(v);
			return v;
		}
		line = nl ? nl + 1 : NULL;
	}
	return NULL;
}

char *trace_meta_section(const struct trace *t, const char *name)
{
	const char *p = t->meta, *end;
	size_t nlen = strlen(name);

	while (p && *p) {
		if (!strncmp(p, "=== ", 4) && !strncmp(p + 4, name, nlen) &&
		    p[4 + nlen] == '\n') {
			p += 5 + nlen;
			end = strstr(p, "\n=== ");
			return strndup(p,
				       end ? (size_t)(end - p) + 1 : strlen(p));
		}
		p = strchr(p, '\n');
		p = p ? p + 1 : NULL;
	}
	return NULL;
}

/* Writes @t to @f: version 2 when it has metadata.  Return: 0 or -EIO. */
int trace_write_file(FILE *f, struct trace *t)
{
	memcpy(t->h.magic, TRACE_MAGIC, 8);
	t->h.version = t->meta_len ? 2 : 1;
	t->h.nr_events = t->n;
	if (fwrite(&t->h, sizeof(t->h), 1, f) != 1 ||
	    (t->n && fwrite(t->ev, sizeof(*t->ev), t->n, f) != t->n) ||
	    (t->meta_len && fwrite(t->meta, 1, t->meta_len, f) != t->meta_len))
		return -EIO;
	return 0;
}

/* The whole trace or nothing at @path: an old file there stays on error. */
int trace_write(const char *path, struct trace *t)
{
	struct outfile of;
	int rc = outfile_open(&of, path);

	if (rc)
		return rc;
	rc = trace_write_file(of.f, t);
	if (rc) {
		outfile_abort(&of);
		return rc;
	}
	return outfile_commit(&of);
}

int trace_read_stream(FILE *f, uint64_t size, const char *path, struct trace *t,
		      char *err, size_t len)
{
	uint64_t events_end;
	size_t i;

	memset(t, 0, sizeof(*t));
	if (fread(&t->h, sizeof(t->h), 1, f) != 1 ||
	    memcmp(t->h.magic, TRACE_MAGIC, 8) || t->h.version < 1 ||
	    t->h.version > 2) {
		snprintf(err, len, "%s: not a pcpbuddy trace (version 1 or 2)",
			 path);
		return -EINVAL;
	}
	if (t->h.nr_events > (1ULL << 32) || t->h.nr_cpus > 65536) {
		snprintf(
			err, len,
			"%s: a pcpbuddy trace whose header claims %llu events on %u CPUs (at most 2^32 on 65536)",
			path, (unsigned long long)t->h.nr_events, t->h.nr_cpus);
		return -EINVAL;
	}
	t->n = t->cap = (size_t)t->h.nr_events;
	/* Found by the fuzzer: trust the header's count only as far as the
	 * file's size backs it, or a bad header asks for 64 GiB. */
	events_end = sizeof(t->h) + t->n * sizeof(*t->ev);
	if (size < events_end || (t->h.version == 1 && size != events_end) ||
	    size - events_end > TRACE_MAX_META) {
		snprintf(err, len, "%s: %s", path,
			 size < events_end ? "truncated"
					   : "longer than its header says");
		return -EINVAL;
	}
	t->meta_len = (size_t)(size - events_end);
	t->ev = malloc((t->n ? t->n : 1) * sizeof(*t->ev));
	t->meta = t->meta_len ? malloc(t->meta_len + 1) : NULL;
	if (!t->ev || fread(t->ev, sizeof(*t->ev), t->n, f) != t->n ||
	    (t->meta_len &&
	     (!t->meta || fread(t->meta, 1, t->meta_len, f) != t->meta_len))) {
		trace_free(t);
		snprintf(err, len, "%s: truncated", path);
		return -EINVAL;
	}
	if (t->meta) {
		t->meta[t->meta_len] = '\0';
		if (strlen(t->meta) != t->meta_len) {
			trace_free(t);
			snprintf(err, len, "%s: binary bytes in its metadata",
				 path);
			return -EINVAL;
		}
	}
	/* Found by the fuzzer: every reader indexes by these fields. */
	for (i = 0; i < t->n; i++) {
		const struct trace_event *e = &t->ev[i];

		if (e->cpu >= t->h.nr_cpus || !e->op || e->op >= NR_TRACE_OPS ||
		    (e->info & 15) > PCPB_MAX_PAGE_ORDER ||
		    ((e->info >> 4) & 3) > PCPB_MT_RECLAIMABLE) {
			snprintf(
				err, len,
				"%s: event %zu: cpu %u of %u, op %u, order %u, type %u out of range",
				path, i, e->cpu, t->h.nr_cpus, e->op,
				e->info & 15, (e->info >> 4) & 3);
			trace_free(t);
			return -EINVAL;
		}
	}
	return 0;
}

int trace_read(const char *path, struct trace *t, char *err, size_t len)
{
	FILE *f = fopen(path, "rb");
	struct stat sb;
	int rc;

	memset(t, 0, sizeof(*t));
	if (!f || fstat(fileno(f), &sb)) {
		rc = -errno;
		snprintf(err, len, "%s: %s", path, strerror(errno));
		if (f)
			fclose(f);
		return rc;
	}
	rc = trace_read_stream(f, (uint64_t)sb.st_size, path, t, err, len);
	fclose(f);
	return rc;
}

/*
 * Drops what a replay cannot do safely: an alloc reusing an id, a free
 * with no earlier alloc of its id, a second free.  Imported and recorded
 * traces have none; a damaged one would otherwise free someone else's
 * page, or in threaded mode wait forever.
 */
void trace_check_time(const char *who, const char *name, struct trace *t,
		      size_t i, uint64_t where, struct trace_time_fixes *fx)
{
	struct trace_event *e = &t->ev[i];
	uint64_t prev;

	if (!i)
		return;
	prev = t->ev[i - 1].time_ns;
	if (e->time_ns < prev) {
		if (!fx->backwards++) {
			fx->first_backwards = where;
			fprintf(stderr,
				"%s: %s:%llu: the timestamp goes back %.6f s; set to the one before it (so are the later ones, counted)\n",
				who, name, (unsigned long long)where,
				(double)(prev - e->time_ns) * 1e-9);
		}
		e->time_ns = prev;
	} else if (e->time_ns - prev > TRACE_MAX_GAP_NS) {
		uint64_t gap = e->time_ns - prev;

		if (!fx->gaps++) {
			fx->first_gap = where;
			fprintf(stderr,
				"%s: %s:%llu: a gap of %.3f s; cut to %llu s (so are the later ones, counted)\n",
				who, name, (unsigned long long)where,
				(double)gap * 1e-9,
				TRACE_MAX_GAP_NS / 1000000000ULL);
		}
		if (gap > fx->largest_gap_ns)
			fx->largest_gap_ns = gap;
		e->time_ns = prev + TRACE_MAX_GAP_NS;
	}
}

int trace_sanitize(struct trace *t)
{
	struct trace_time_fixes fx = { 0 };
	size_t k;

	/* A recorded or damaged trace can hold the same: fix it here too,
	 * so a paced replay never waits for a wrapped difference. */
	for (k = 1; k < t->n; k++) {
		struct trace_event *e = &t->ev[k];
		uint64_t prev = t->ev[k - 1].time_ns;

		if (e->time_ns < prev)
			e->time_ns = prev, fx.backwards++;
		else if (e->time_ns - prev > TRACE_MAX_GAP_NS)
			e->time_ns = prev + TRACE_MAX_GAP_NS, fx.gaps++;
	}
	if (fx.backwards || fx.gaps)
		fprintf(stderr,
			"replay: %llu timestamps went back and %llu gaps over %llu s: set to the previous one, cut\n",
			(unsigned long long)fx.backwards,
			(unsigned long long)fx.gaps,
			TRACE_MAX_GAP_NS / 1000000000ULL);
	uint8_t *seen = calloc(t->n + 2, 1); /* 1 allocated, 2 freed */
	size_t i;

	if (!seen)
		return -ENOMEM;
	for (i = 0; i < t->n; i++) {
		struct trace_event *e = &t->ev[i];
		bool is_free = e->op == TOP_FREE || e->op == TOP_FREE_OLD;

		if (e->op != TOP_ALLOC && !is_free)
			continue;
		if (e->id > t->n || e->id == 0 ||
		    seen[e->id] != (e->op == TOP_FREE ? 1 : 0)) {
			e->op = 0;
			continue;
		}
		seen[e->id] = is_free ? 2 : 1;
	}
	free(seen);
	return 0;
}
