// SPDX-License-Identifier: GPL-2.0-only OR MIT
/*
 * format.c - the pcpbuddy trace file (docs/trace-format.md): append, read
 * with every field checked, write, and the sanitizer replays rely on.
 *
 * Invariants and locking: trace.h.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>

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

/* Writes @t to @f and closes it. */
int trace_write_file(FILE *f, struct trace *t)
{
	int ok;

	memcpy(t->h.magic, TRACE_MAGIC, 8);
	t->h.version = 1;
	t->h.nr_events = t->n;
	ok = fwrite(&t->h, sizeof(t->h), 1, f) == 1 &&
	     (!t->n || fwrite(t->ev, sizeof(*t->ev), t->n, f) == t->n);
	ok &= fclose(f) == 0;
	return ok ? 0 : -EIO;
}

int trace_write(const char *path, struct trace *t)
{
	FILE *f = fopen(path, "wb");

	return f ? trace_write_file(f, t) : -errno;
}

int trace_read(const char *path, struct trace *t, char *err, size_t len)
{
	FILE *f = fopen(path, "rb");
	struct stat sb;
	size_t i;

	memset(t, 0, sizeof(*t));
	if (!f) {
		snprintf(err, len, "%s: %s", path, strerror(errno));
		return -errno;
	}
	if (fread(&t->h, sizeof(t->h), 1, f) != 1 ||
	    memcmp(t->h.magic, TRACE_MAGIC, 8) || t->h.version != 1 ||
	    t->h.nr_events > (1ULL << 32) || t->h.nr_cpus > 65536) {
		fclose(f);
		snprintf(err, len, "%s: not a pcpbuddy trace (version 1)",
			 path);
		return -EINVAL;
	}
	t->n = t->cap = (size_t)t->h.nr_events;
	/* Found by the fuzzer: trust the header's count only as far as the
	 * file's size backs it, or a bad header asks for 64 GiB. */
	if (fstat(fileno(f), &sb) ||
	    (uint64_t)sb.st_size != sizeof(t->h) + t->n * sizeof(*t->ev)) {
		fclose(f);
		snprintf(err, len, "%s: %s", path,
			 (uint64_t)sb.st_size <
					 sizeof(t->h) + t->n * sizeof(*t->ev)
				 ? "truncated"
				 : "longer than its header says");
		return -EINVAL;
	}
	t->ev = malloc((t->n ? t->n : 1) * sizeof(*t->ev));
	if (!t->ev || fread(t->ev, sizeof(*t->ev), t->n, f) != t->n) {
		fclose(f);
		free(t->ev);
		snprintf(err, len, "%s: truncated", path);
		return -EINVAL;
	}
	fclose(f);
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
			free(t->ev);
			t->ev = NULL;
			return -EINVAL;
		}
	}
	return 0;
}

/*
 * Drops what a replay cannot do safely: an alloc reusing an id, a free
 * with no earlier alloc of its id, a second free.  Imported and recorded
 * traces have none; a damaged one would otherwise free someone else's
 * page, or in threaded mode wait forever.
 */
int trace_sanitize(struct trace *t)
{
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
