// SPDX-License-Identifier: GPL-2.0-only OR MIT
/*
 * trace.c - page allocation traces: the binary format (docs/trace-format.md),
 * 'pcpbuddy import ftrace' for kernel kmem: tracepoint text, 'pcpbuddy
 * trace info', the --record event hook of every driver, and the
 * deterministic 'replay' workload.
 *
 * Import rules (docs/trace-format.md, "From kernel text"): pages are keyed
 * by pfn= (page= is a hashed pointer in tracefs); mm_page_free_batched fires
 * besides mm_page_free and its order is a literal 0, so it only annotates;
 * mm_page_alloc_zone_locked and mm_page_pcpu_drain become markers; a failed
 * allocation (pfn=0x0) and a free of a page allocated before the trace are
 * counted, not fatal; a malformed line is reported with its number.
 *
 * Invariants: an alloc event's id is unique among live allocations; a free
 * event names the id of a live allocation.
 * Locking: single-threaded, except the recorder, whose event callback runs
 * on every driver thread and appends under its one mutex.
 */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "workloads.h"

#define TRACE_MAGIC "PCPBTRC1"

enum trace_op {
	TOP_ALLOC = 1,
	TOP_FREE = 2,
	TOP_REFILL_MARK = 3, /* mm_page_alloc_zone_locked, percpu_refill=1 */
	TOP_DRAIN_MARK = 4,  /* mm_page_pcpu_drain */
	TOP_FREE_OLD = 5,    /* free of a page allocated before the trace */
	/* --record only: the instance-wide calls a driver made */
	TOP_DRAIN_ALL = 6,
	TOP_STATS_RESET = 7,
	TOP_VMSTAT_TICK = 8,
	TOP_REPORT_MARK = 9, /* the driver's measured phase ended here */
	NR_TRACE_OPS
};

/* 16 bytes, little-endian on disk (docs/trace-format.md). */
struct trace_event {
	uint64_t time_ns;
	uint32_t id; /* allocation id; frees name it; markers: 0 */
	uint16_t cpu;
	uint8_t op;
	uint8_t info; /* order (bits 0-3), migratetype (4-5), accounted (6) */
};
_Static_assert(sizeof(struct trace_event) == 16, "16-byte events");
#define TRACE_ACCOUNTED (1U << 6)

struct trace_header {
	char magic[8];
	uint32_t version, nr_cpus;
	uint64_t nr_events;
	char source[32];
};

struct trace {
	struct trace_header h;
	struct trace_event *ev;
	size_t n, cap;
	/* A recording's events live in mmap()ed memory, not malloc()ed:
	 * under the LD_PRELOAD shim the event hook runs on its fault handler,
	 * which must never touch memory malloc may have got from a served
	 * range (preload/shim.h, S2). */
	bool mapped;
};

static int trace_push(struct trace *t, struct trace_event e)
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

struct import_stats {
	uint64_t lines, allocs, frees, failed, pre_trace_frees, batched,
		refill_marks, drain_marks, unknown, malformed;
};

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
		       uint32_t *next_id, struct import_stats *st)
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
	pfn = strtoull(p, &end, 16);
	if (end == p)
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

/* Writes @t to @f and closes it. */
static int write_trace_file(FILE *f, struct trace *t)
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

static int write_trace(const char *path, struct trace *t)
{
	FILE *f = fopen(path, "wb");

	return f ? write_trace_file(f, t) : -errno;
}

/* ---- --record: a trace of what a driver asked the allocator ------------- */

struct wl_recorder {
	pthread_mutex_t lock; /* one order for all threads' events */
	struct trace t;
	uint32_t *id_of; /* by pfn: the live allocation's id, 0 when free */
	uint32_t next_id;
	double start;
	int err;
	FILE *out;
};

static void record_event(void *ctx, enum pcpb_event ev, int cpu,
			 unsigned long pfn, unsigned int order, int mt,
			 unsigned int flags)
{
	struct wl_recorder *r = ctx;
	struct trace_event e = { .cpu = (uint16_t)cpu, .info = order };

	pthread_mutex_lock(&r->lock);
	e.time_ns = (uint64_t)((wl_now() - r->start) * 1e9);
	if (ev == PCPB_EV_ALLOC) {
		e.op = TOP_ALLOC;
		e.id = r->id_of[pfn] = r->next_id++;
		e.info |= (uint8_t)(mt << 4);
		if (flags & PCPB_GFP_ACCOUNT)
			e.info |= TRACE_ACCOUNTED;
	} else if (ev == PCPB_EV_FREE) {
		e.op = TOP_FREE;
		e.id = r->id_of[pfn];
		r->id_of[pfn] = 0;
	} else {
		e.op = TOP_DRAIN_ALL + (ev - PCPB_EV_DRAIN_ALL);
		e.info = 0;
	}
	if (!r->err)
		r->err = trace_push(&r->t, e);
	pthread_mutex_unlock(&r->lock);
}

/* The one recording of this process ('run' only), for wl_record_mark(). */
static struct wl_recorder *active_recorder;
static struct pcpb *active_recorder_inst;

void wl_record_mark(struct pcpb *inst)
{
	struct wl_recorder *r = active_recorder;
	struct trace_event e = { .op = TOP_REPORT_MARK };

	if (!r || active_recorder_inst != inst)
		return;
	pthread_mutex_lock(&r->lock);
	e.time_ns = (uint64_t)((wl_now() - r->start) * 1e9);
	if (!r->err)
		r->err = trace_push(&r->t, e);
	pthread_mutex_unlock(&r->lock);
}

struct wl_recorder *wl_record_start(struct pcpb *inst, const char *path,
				    const char *source)
{
	struct wl_recorder *r = calloc(1, sizeof(*r));

	if (!r)
		return NULL;
	r->id_of = calloc(pcpb_nr_pages(inst), sizeof(*r->id_of));
	r->out = fopen(path, "wb");
	if (!r->id_of || !r->out) {
		int err = errno;

		if (r->out)
			fclose(r->out);
		free(r->id_of);
		free(r);
		errno = err;
		return NULL;
	}
	pthread_mutex_init(&r->lock, NULL);
	r->next_id = 1;
	r->t.mapped = true;
	r->t.h.nr_cpus = (uint32_t)pcpb_get_config(inst)->nr_cpus;
	snprintf(r->t.h.source, sizeof(r->t.h.source), "record:%s", source);
	r->start = wl_now();
	pcpb_set_event_hook(inst, record_event, r);
	active_recorder = r;
	active_recorder_inst = inst;
	return r;
}

int wl_record_finish(struct wl_recorder *r, struct pcpb *inst)
{
	int rc;

	pcpb_set_event_hook(inst, NULL, NULL);
	active_recorder = NULL;
	active_recorder_inst = NULL;
	rc = r->err;
	if (rc)
		fclose(r->out);
	else
		rc = write_trace_file(r->out, &r->t);
	pthread_mutex_destroy(&r->lock);
	if (r->t.ev)
		munmap(r->t.ev, r->t.cap * sizeof(*r->t.ev));
	free(r->id_of);
	free(r);
	return rc;
}

static int read_trace(const char *path, struct trace *t, char *err, size_t len)
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

static const char import_usage[] =
	"usage: pcpbuddy import ftrace FILE -o TRACE\n"
	"\n"
	"Reads kmem:mm_page_alloc / mm_page_free text from tracefs\n"
	"(comm-pid [cpu] flags ts: event: ...), perf script\n"
	"(comm pid [cpu] ts: kmem:event: ...) or trace-cmd report\n"
	"(instance: comm-pid [cpu] ts: event: ...), and writes a pcpbuddy\n"
	"trace (docs/trace-format.md).  Pages are keyed by pfn=; free_batched is\n"
	"an annotation; zone_locked (percpu_refill=1) and pcpu_drain become\n"
	"markers; failed allocations, frees of pages allocated before the trace,\n"
	"unknown events and malformed lines are counted (malformed ones listed\n"
	"with their line numbers) and skipped.\n"
	"Exit: 0 ok, 1 I/O error, 2 bad arguments.\n";

/*
 * import_ftrace - kmem tracepoint text (or its gzip) at @in into @t.
 * Malformed lines are counted in @st and the first ten named on stderr,
 * after @who.  Return: 0, or -errno after a message.
 */
static int import_ftrace(const char *who, const char *in, struct trace *t,
			 struct import_stats *st)
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
		st->lines++;
		rc = import_line(line, t, &live, &next_id, st);
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

int wl_import_main(int argc, char **argv)
{
	struct import_stats st = { 0 };
	const char *in = NULL, *out = NULL;
	struct trace t;
	int i, rc;

	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
			fputs(import_usage, stdout);
			return 0;
		} else if (!strcmp(argv[i], "-o") && i + 1 < argc) {
			out = argv[++i];
		} else if (!strcmp(argv[i], "ftrace") && !in && i == 1) {
			continue;
		} else if (argv[i][0] != '-' && !in) {
			in = argv[i];
		} else {
			return wl_usage_error("pcpbuddy import",
					      "unknown argument '%s'", argv[i]);
		}
	}
	if (argc < 2 || strcmp(argv[1], "ftrace") || !in || !out)
		return wl_usage_error("pcpbuddy import",
				      "needs: ftrace FILE -o TRACE");
	rc = import_ftrace("pcpbuddy import", in, &t, &st);
	if (!rc && (rc = write_trace(out, &t)))
		fprintf(stderr, "pcpbuddy import: %s: %s\n", out,
			strerror(-rc));
	printf("import: %llu lines: %llu allocs, %llu frees, %llu frees of pages allocated before the trace, %llu refill markers, %llu drain markers; skipped %llu failed allocs, %llu free_batched annotations, %llu other lines, %llu malformed\n",
	       (unsigned long long)st.lines, (unsigned long long)st.allocs,
	       (unsigned long long)st.frees,
	       (unsigned long long)st.pre_trace_frees,
	       (unsigned long long)st.refill_marks,
	       (unsigned long long)st.drain_marks,
	       (unsigned long long)st.failed, (unsigned long long)st.batched,
	       (unsigned long long)st.unknown,
	       (unsigned long long)st.malformed);
	free(t.ev);
	return rc ? 1 : 0;
}

/*
 * load_trace - a pcpbuddy trace, or kmem tracepoint text (plain or gzip)
 * imported on the fly, so that replay and fidelity take a capture as it is.
 * Return: 0, or -errno with @err set.
 */
static int load_trace(const char *who, const char *path, struct trace *t,
		      char *err, size_t len)
{
	struct import_stats st = { 0 };
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
		return read_trace(path, t, err, len);
	rc = import_ftrace(who, path, t, &st);
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

/* ---- trace info ------------------------------------------------------------ */

int wl_trace_info_main(int argc, char **argv)
{
	uint64_t ops[NR_TRACE_OPS] = { 0 }, orders[11] = { 0 }, mts[3] = { 0 },
		 cross = 0;
	uint64_t *cpus;
	uint16_t *alloc_cpu;
	struct trace t;
	char err[256];
	size_t i;

	if (argc != 3 || strcmp(argv[1], "info")) {
		if (argc > 1 &&
		    (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
			printf("usage: pcpbuddy trace info TRACE\n"
			       "Counts per op, order, migratetype and CPU, the cross-CPU free\n"
			       "fraction and the duration of a pcpbuddy trace (or of kmem\n"
			       "tracepoint text, plain or gzipped, imported on the fly).\n");
			return 0;
		}
		return wl_usage_error("pcpbuddy trace", "needs: info TRACE");
	}
	if (load_trace("pcpbuddy trace", argv[2], &t, err, sizeof(err))) {
		fprintf(stderr, "pcpbuddy trace: %s\n", err);
		return 2;
	}
	cpus = calloc(t.h.nr_cpus + 1, sizeof(*cpus));
	alloc_cpu = calloc((size_t)t.n + 2, sizeof(*alloc_cpu));
	if (!cpus || !alloc_cpu) {
		free(cpus);
		free(alloc_cpu);
		free(t.ev);
		return 1;
	}
	for (i = 0; i < t.n; i++) {
		struct trace_event *e = &t.ev[i];

		ops[e->op < NR_TRACE_OPS ? e->op : 0]++;
		cpus[e->cpu]++;
		if (e->op == TOP_ALLOC) {
			orders[e->info & 15]++;
			mts[(e->info >> 4) & 3]++;
			if (e->id <= t.n)
				alloc_cpu[e->id] = e->cpu;
		} else if (e->op == TOP_FREE && e->id <= t.n &&
			   alloc_cpu[e->id] != e->cpu) {
			cross++;
		}
	}
	printf("trace: %s, %u CPUs, %zu events, %.6f s\n", t.h.source,
	       t.h.nr_cpus, t.n,
	       t.n ? (double)(t.ev[t.n - 1].time_ns - t.ev[0].time_ns) * 1e-9
		   : 0);
	printf("ops: alloc %llu free %llu free_old %llu refill_marker %llu drain_marker %llu drain_all %llu stats_reset %llu vmstat_tick %llu report_mark %llu\n",
	       (unsigned long long)ops[TOP_ALLOC],
	       (unsigned long long)ops[TOP_FREE],
	       (unsigned long long)ops[TOP_FREE_OLD],
	       (unsigned long long)ops[TOP_REFILL_MARK],
	       (unsigned long long)ops[TOP_DRAIN_MARK],
	       (unsigned long long)ops[TOP_DRAIN_ALL],
	       (unsigned long long)ops[TOP_STATS_RESET],
	       (unsigned long long)ops[TOP_VMSTAT_TICK],
	       (unsigned long long)ops[TOP_REPORT_MARK]);
	printf("alloc orders:");
	for (i = 0; i < 11; i++)
		if (orders[i])
			printf(" %zu:%llu", i, (unsigned long long)orders[i]);
	printf("\nalloc migratetypes: unmovable %llu movable %llu reclaimable %llu\n",
	       (unsigned long long)mts[0], (unsigned long long)mts[1],
	       (unsigned long long)mts[2]);
	printf("cross-CPU frees: %.4f (%llu of %llu)\n",
	       ops[TOP_FREE] ? (double)cross / (double)ops[TOP_FREE] : 0,
	       (unsigned long long)cross, (unsigned long long)ops[TOP_FREE]);
	printf("events per CPU:");
	for (i = 0; i < t.h.nr_cpus; i++)
		printf(" %zu:%llu", i, (unsigned long long)cpus[i]);
	printf("\n");
	free(cpus);
	free(alloc_cpu);
	free(t.ev);
	return 0;
}

/* ---- replay: a workload, so run, compare and sweep can drive it ----------- */

struct replay_params {
	char path[512];
	bool threaded, paced; /* --threaded, --paced */
	int cpus;	      /* --cpus N, 0: the trace's */
	/* The trace of @path as parse read and sanitized it, so that a
	 * compare of R runs reads the file once, not R + 2 times; the
	 * per-run copies of the params share it read-only. */
	struct trace *loaded;
	char loaded_path[512];
};

/* pfn_of[] states besides a live pfn (>= 0). */
#define REPLAY_PENDING (-1L) /* not allocated yet */
#define REPLAY_FAILED (-2L)  /* its allocation failed */
#define REPLAY_GONE (-3L)    /* freed */

struct replay_ctx {
	struct pcpb *inst;
	const struct trace *t;
	long *pfn_of; /* by id; atomic in threaded mode */
	struct wl_result *res;
	int cpus;
	bool threaded, paced;
	double start;
};

struct replay_thread {
	struct replay_ctx *c;
	pthread_t tid;
	int cpu;
	uint64_t allocs, pages, enomem;
};

/*
 * Drops what a replay cannot do safely: an alloc reusing an id, a free
 * with no earlier alloc of its id, a second free.  Imported and recorded
 * traces have none; a damaged one would otherwise free someone else's
 * page, or in threaded mode wait forever.
 */
static int replay_sanitize(struct trace *t)
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

static void replay_event(struct replay_ctx *c, const struct trace_event *e,
			 int cpu, struct replay_thread *cnt)
{
	unsigned int order = e->info & 15;
	long pfn;

	switch (e->op) {
	case TOP_ALLOC:
		pfn = pcpb_alloc_pages_cpu(
			c->inst, cpu, order, (e->info >> 4) & 3,
			e->info & TRACE_ACCOUNTED ? PCPB_GFP_ACCOUNT : 0);
		if (pfn < 0) {
			cnt->enomem++;
			pfn = REPLAY_FAILED;
		} else {
			cnt->allocs++;
			cnt->pages += 1UL << order;
		}
		__atomic_store_n(&c->pfn_of[e->id], pfn, __ATOMIC_RELEASE);
		break;
	case TOP_FREE:
	case TOP_FREE_OLD:
		/* Threaded: the alloc is earlier in the trace, on a thread
		 * that is never waiting on us, so this wait ends. */
		while ((pfn = __atomic_load_n(&c->pfn_of[e->id],
					      __ATOMIC_ACQUIRE)) ==
		       REPLAY_PENDING)
			sched_yield();
		if (pfn >= 0) {
			pcpb_free_pages_cpu(c->inst, cpu, (unsigned long)pfn,
					    order);
			__atomic_store_n(&c->pfn_of[e->id], REPLAY_GONE,
					 __ATOMIC_RELAXED);
		}
		break;
	case TOP_DRAIN_ALL:
		pcpb_drain_all(c->inst);
		break;
	case TOP_STATS_RESET:
		pcpb_stats_reset(c->inst);
		break;
	case TOP_VMSTAT_TICK:
		pcpb_vmstat_tick(c->inst);
		break;
	case TOP_REPORT_MARK:
		/* Threads: the others are elsewhere in the trace, so there
		 * is no point to mark; the report is of the whole replay. */
		if (!c->threaded)
			wl_measure_end(c->inst, c->res, NULL);
		break;
	}
}

/* --threaded: one thread per replayed CPU, its events in trace order. */
static void *replay_thread_fn(void *arg)
{
	struct replay_thread *th = arg;
	struct replay_ctx *c = th->c;
	uint64_t t0 = c->t->n ? c->t->ev[0].time_ns : 0;
	size_t i;

	pcpb_set_thread_cpu(th->cpu);
	for (i = 0; i < c->t->n; i++) {
		const struct trace_event *e = &c->t->ev[i];

		if (e->cpu % c->cpus != th->cpu)
			continue;
		if (c->paced) {
			double due =
				c->start + (double)(e->time_ns - t0) * 1e-9;
			double now = wl_now();

			if (due > now)
				usleep((useconds_t)((due - now) * 1e6));
		}
		replay_event(c, e, th->cpu, th);
	}
	return NULL;
}

static int replay_run(struct pcpb *inst, const struct wl_opts *o, void *priv,
		      struct wl_result *res)
{
	const struct replay_params *p = priv;
	struct replay_thread sum = { 0 }, *th = NULL;
	struct replay_ctx c = { .inst = inst, .paced = p->paced, .res = res };
	struct trace own = { .ev = NULL }, *tp = p->loaded;
	char err[256];
	size_t i;
	int cpu;

	(void)o;
	c.cpus = pcpb_get_config(inst)->nr_cpus;
	c.threaded = p->threaded || p->paced;
	/* A --configs trace=... differs from the one parse loaded. */
	if (!tp || strcmp(p->loaded_path, p->path)) {
		if (load_trace("replay", p->path, &own, err, sizeof(err))) {
			fprintf(stderr, "replay: %s\n", err);
			return -EINVAL;
		}
		if (replay_sanitize(&own)) {
			free(own.ev);
			return -ENOMEM;
		}
		tp = &own;
	}
	const struct trace t = *tp;

	c.t = &t;
	c.pfn_of = malloc((t.n + 2) * sizeof(long));
	if (c.threaded)
		th = calloc((size_t)c.cpus, sizeof(*th));
	if (!c.pfn_of || (c.threaded && !th)) {
		free(th);
		free(c.pfn_of);
		free(own.ev);
		return -ENOMEM;
	}
	for (i = 0; i < t.n + 2; i++)
		c.pfn_of[i] = REPLAY_PENDING;
	/* Pages the trace frees but never allocated exist before it starts:
	 * allocate them on the freeing CPU, then start from a clean slate. */
	for (i = 0; i < t.n; i++) {
		const struct trace_event *e = &t.ev[i];

		if (e->op == TOP_FREE_OLD) {
			long pfn = pcpb_alloc_pages_cpu(inst, e->cpu % c.cpus,
							e->info & 15,
							PCPB_MT_MOVABLE, 0);

			c.pfn_of[e->id] = pfn < 0 ? REPLAY_FAILED : pfn;
			sum.enomem += pfn < 0;
		}
	}
	pcpb_drain_all(inst);
	pcpb_stats_reset(inst);
	c.start = wl_now();
	if (!c.threaded) {
		/* Simulation: one thread drives every CPU in trace order. */
		for (i = 0; i < t.n; i++)
			replay_event(&c, &t.ev[i], t.ev[i].cpu % c.cpus, &sum);
	} else {
		for (cpu = 0; cpu < c.cpus; cpu++) {
			th[cpu] = (struct replay_thread){ .c = &c, .cpu = cpu };
			if (pthread_create(&th[cpu].tid, NULL, replay_thread_fn,
					   &th[cpu]))
				break;
		}
		while (cpu-- > 0) {
			pthread_join(th[cpu].tid, NULL);
			sum.allocs += th[cpu].allocs;
			sum.pages += th[cpu].pages;
			sum.enomem += th[cpu].enomem;
		}
	}
	res->seconds = wl_now() - c.start;
	/* Pages still live at the end of the trace go back, on CPU 0. */
	for (i = 0; i < t.n; i++) {
		const struct trace_event *e = &t.ev[i];

		if (e->op == TOP_ALLOC && c.pfn_of[e->id] >= 0) {
			pcpb_free_pages_cpu(inst, 0,
					    (unsigned long)c.pfn_of[e->id],
					    e->info & 15);
			c.pfn_of[e->id] = REPLAY_GONE;
		}
	}
	res->ops = sum.allocs;
	res->pages = sum.pages;
	snprintf(
		res->line, sizeof(res->line),
		"replay%s: %s (%u CPUs traced, replayed on %d): %zu events, %llu allocs, %llu ENOMEM; %.3f s, %.2f M events/s",
		c.paced	     ? " (paced threads)"
		: c.threaded ? " (threads)"
			     : "",
		t.h.source, t.h.nr_cpus, c.cpus, t.n,
		(unsigned long long)sum.allocs, (unsigned long long)sum.enomem,
		res->seconds,
		res->seconds > 0 ? (double)t.n / res->seconds * 1e-6 : 0);
	free(th);
	free(c.pfn_of);
	free(own.ev);
	return 0;
}

static int replay_set(void *priv, const char *key, const char *v)
{
	struct replay_params *p = priv;

	if (strcmp(key, "--trace"))
		return -ENOENT;
	if (strlen(v) >= sizeof(p->path))
		return -EINVAL;
	strcpy(p->path, v);
	return 0;
}

static int replay_parse(int argc, char **argv, void *priv)
{
	struct replay_params *p = priv;
	int i;

	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--sim")) {
			p->threaded = p->paced = false;
			continue;
		}
		if (!strcmp(argv[i], "--threaded") ||
		    !strcmp(argv[i], "--paced")) {
			p->threaded = true;
			p->paced = !strcmp(argv[i], "--paced");
			continue;
		}
		if (!strcmp(argv[i], "--cpus") && i + 1 < argc) {
			char *end;
			long n = strtol(argv[++i], &end, 10);

			if (*end || n < 1 || n > PCPB_MAX_CPUS)
				return wl_usage_error(
					argv[0],
					"--cpus: '%s' is not a CPU count",
					argv[i]);
			p->cpus = (int)n;
			continue;
		}
		if (i + 1 < argc && !replay_set(priv, argv[i], argv[i + 1])) {
			i++;
			continue;
		}
		return wl_usage_error(argv[0], "unknown argument '%s'",
				      argv[i]);
	}
	if (!p->path[0])
		return wl_usage_error(argv[0], "needs --trace TRACE");
	{
		/* A bad trace is bad input: say so before creating anything. */
		struct trace *t = calloc(1, sizeof(*t));
		char err[600];

		if (!t)
			return wl_usage_error(argv[0], "out of memory");
		if (load_trace("replay", p->path, t, err, sizeof(err))) {
			free(t);
			return wl_usage_error(argv[0], "--trace: %s", err);
		}
		if (replay_sanitize(t)) {
			free(t->ev);
			free(t);
			return wl_usage_error(argv[0], "out of memory");
		}
		p->loaded = t;
		strcpy(p->loaded_path, p->path);
	}
	return 0;
}

static void replay_fini(void *priv)
{
	struct replay_params *p = priv;

	if (p->loaded)
		free(p->loaded->ev);
	free(p->loaded);
	p->loaded = NULL;
}

static int replay_nr_cpus(const struct wl_opts *o, const void *priv)
{
	const struct replay_params *p = priv;

	(void)o;
	if (p->cpus)
		return p->cpus;
	return p->loaded && p->loaded->h.nr_cpus ? (int)p->loaded->h.nr_cpus
						 : 1;
}

static const char replay_usage[] =
	"usage: pcpbuddy replay TRACE [--sim|--threads|--paced] [--cpus N]\n"
	"                       [--configs A B ...] [--config k=v,...]\n"
	"       pcpbuddy run replay --trace TRACE [...]\n"
	"\n"
	"Replays a pcpbuddy trace (from 'pcpbuddy import ftrace' or --record),\n"
	"or kmem tracepoint text (plain or gzipped), imported on the fly.\n"
	"  --sim       (default) one thread drives the CPUs in trace order: the\n"
	"              work counters and fragmentation are the same every run\n"
	"  --threads   one thread per CPU, each its events in trace order as\n"
	"              fast as it can; a free waits for its allocation\n"
	"              (--threaded under 'run replay', where --threads N is\n"
	"              the common option and is ignored)\n"
	"  --paced     --threads, each event at its timestamp\n"
	"  --cpus N    fold the traced CPUs onto N (cpu modulo N); the default\n"
	"              is the trace's count (--config cpus=N wins over it)\n"
	"With --configs it is a compare of those configurations.\n"
	"Exit: 0 ok, 1 check failed, 2 bad arguments or trace.\n";

/* Simulated time has no vmstat timer: decays would make runs differ. */
static void replay_adjust(struct wl_opts *o, const void *priv)
{
	(void)priv;
	o->cfg.vmstat_ms = 0;
}

const struct workload wl_replay = {
	.name = "replay",
	.summary =
		"replay a pcpbuddy trace (imported or recorded): simulated or threaded",
	.usage = replay_usage,
	.priv_size = sizeof(struct replay_params),
	.parse = replay_parse,
	.nr_cpus = replay_nr_cpus,
	.set = replay_set,
	.adjust = replay_adjust,
	.run = replay_run,
	.fini = replay_fini,
};

/* ---- fidelity: the model against the kernel's own markers ---------------- */

static const char fidelity_usage[] =
	"usage: pcpbuddy fidelity TRACE --batch B --high-min H --high-max H\n"
	"                         [--memory SIZE] [--json]\n"
	"\n"
	"Replays a kernel trace (imported, or its kmem text as it is, plain or\n"
	"gzipped) on policy=classic with the kernel's PCP\n"
	"batch and high (read them from /proc/zoneinfo: pagesets batch, high_min,\n"
	"high_max of the zone that served the trace) and compares, per CPU,\n"
	"what the model predicts with what the kernel's markers show:\n"
	"  refill: pages pulled into PCPs under zone->lock (kernel:\n"
	"          mm_page_alloc_zone_locked with percpu_refill=1);\n"
	"  drain:  pages drained from PCPs (kernel: mm_page_pcpu_drain).\n"
	"  --memory  the modelled zone (default 1G; use the zone's managed pages)\n"
	"Exit: 0 ok, 1 check failed, 2 bad arguments or trace.\n";

int wl_fidelity_main(int argc, char **argv)
{
	struct replay_params rp = { .path = { 0 } };
	struct wl_opts o = { 0 };
	struct wl_result res = { 0 };
	struct pcpb_check_result check;
	uint64_t *k_refill, *k_drain;
	const char *mem = "1G";
	struct pcpb *inst;
	struct trace t;
	char err[600], kv[256];
	long batch = 0, hmin = 0, hmax = 0;
	bool json = false;
	unsigned int c;
	size_t i;
	int rc;

	for (i = 1; i < (size_t)argc; i++) {
		const char *a = argv[i],
			   *v = i + 1 < (size_t)argc ? argv[i + 1] : NULL;

		if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
			fputs(fidelity_usage, stdout);
			return 0;
		} else if (!strcmp(a, "--json")) {
			json = true;
		} else if (v && !strcmp(a, "--batch")) {
			batch = strtol(v, NULL, 10), i++;
		} else if (v && !strcmp(a, "--high-min")) {
			hmin = strtol(v, NULL, 10), i++;
		} else if (v && !strcmp(a, "--high-max")) {
			hmax = strtol(v, NULL, 10), i++;
		} else if (v && !strcmp(a, "--memory")) {
			mem = v, i++;
		} else if (a[0] != '-' && !rp.path[0] &&
			   strlen(a) < sizeof(rp.path)) {
			strcpy(rp.path, a);
		} else {
			return wl_usage_error("pcpbuddy fidelity",
					      "unknown argument '%s'", a);
		}
	}
	if (!rp.path[0] || batch < 1 || hmin < 1 || hmax < hmin)
		return wl_usage_error(
			"pcpbuddy fidelity",
			"needs TRACE --batch B --high-min H --high-max H (H from /proc/zoneinfo)");
	if (load_trace("pcpbuddy fidelity", rp.path, &t, err, sizeof(err))) {
		fprintf(stderr, "pcpbuddy fidelity: %s\n", err);
		return 2;
	}
	k_refill = calloc(t.h.nr_cpus + 1, sizeof(*k_refill));
	k_drain = calloc(t.h.nr_cpus + 1, sizeof(*k_drain));
	if (!k_refill || !k_drain || replay_sanitize(&t)) {
		free(k_refill);
		free(k_drain);
		free(t.ev);
		return 1;
	}
	rp.loaded = &t; /* replay_run() reuses it; freed here, not by fini */
	strcpy(rp.loaded_path, rp.path);
	for (i = 0; i < t.n; i++) {
		uint64_t pages = 1ULL << (t.ev[i].info & 15);

		if (t.ev[i].op == TOP_REFILL_MARK)
			k_refill[t.ev[i].cpu] += pages;
		else if (t.ev[i].op == TOP_DRAIN_MARK)
			k_drain[t.ev[i].cpu] += pages;
	}
	pcpb_config_init(&o.cfg);
	snprintf(
		kv, sizeof(kv),
		"policy=classic,memory=%s,cpus=%u,batch=%ld,high_min=%ld,high_max=%ld,vmstat_ms=0,cpu_mode=explicit",
		mem, t.h.nr_cpus ? t.h.nr_cpus : 1, batch, hmin, hmax);
	if (pcpb_config_parse(&o.cfg, kv, err, sizeof(err))) {
		fprintf(stderr, "pcpbuddy fidelity: %s\n", err);
		rc = 2;
	} else if ((rc = pcpb_create(&o.cfg, &inst))) {
		fprintf(stderr,
			"pcpbuddy fidelity: cannot create the instance: %s\n",
			wl_create_strerror(rc));
		rc = 1;
	}
	if (rc) {
		free(k_refill);
		free(k_drain);
		free(t.ev);
		return rc;
	}
	rc = replay_run(inst, &o, &rp, &res);
	if (json)
		printf("{\"trace\": \"%s\", \"batch\": %ld, \"high_min\": %ld, \"high_max\": %ld, \"cpus\": [",
		       t.h.source, batch, hmin, hmax);
	else
		printf("fidelity: %s on classic, batch %ld, high %ld..%ld\n"
		       "%4s %14s %14s %7s %14s %14s %7s\n",
		       t.h.source, batch, hmin, hmax, "cpu", "kernel refill",
		       "model refill", "ratio", "kernel drain", "model drain",
		       "ratio");
	for (c = 0; c < t.h.nr_cpus && !rc; c++) {
		uint64_t m[PCPB_NR_PCP_STATS];

		pcpb_pcp_stats_cpu(inst, (int)c, m);
		if (json)
			printf("%s{\"cpu\": %u, \"kernel_refill\": %llu, \"model_refill\": %llu, \"kernel_drain\": %llu, \"model_drain\": %llu}",
			       c ? ", " : "", c,
			       (unsigned long long)k_refill[c],
			       (unsigned long long)m[PCPB_PCP_refill_pages],
			       (unsigned long long)k_drain[c],
			       (unsigned long long)m[PCPB_PCP_drain_pages]);
		else
			printf("%4u %14llu %14llu %7.2f %14llu %14llu %7.2f\n",
			       c, (unsigned long long)k_refill[c],
			       (unsigned long long)m[PCPB_PCP_refill_pages],
			       k_refill[c] ? (double)m[PCPB_PCP_refill_pages] /
						     (double)k_refill[c]
					   : 0,
			       (unsigned long long)k_drain[c],
			       (unsigned long long)m[PCPB_PCP_drain_pages],
			       k_drain[c] ? (double)m[PCPB_PCP_drain_pages] /
						    (double)k_drain[c]
					  : 0);
	}
	if (json)
		printf("]}\n");
	if (!rc && (pcpb_check(inst, &check) || check.pages_allocated))
		rc = 1;
	pcpb_destroy(inst);
	free(k_refill);
	free(k_drain);
	free(t.ev);
	return rc ? 1 : 0;
}
