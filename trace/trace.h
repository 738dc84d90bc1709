/* SPDX-License-Identifier: GPL-2.0-only OR MIT */
/*
 * trace.h - page allocation traces, the library below the workload drivers,
 * the CLI and the LD_PRELOAD shim: the binary format (docs/trace-format.md),
 * its reader and writer, the importer of kernel kmem: tracepoint text, and
 * the recorder that turns an instance's event hook into a trace.  It uses
 * only the public API (pcpbuddy.h).
 *
 * Invariants: an alloc event's id is unique among live allocations; a free
 * event names the id of a live allocation (trace_sanitize() drops the
 * events of a damaged trace that would break this).
 * Locking: a struct trace is its caller's; the recorder's event callback
 * runs on every allocating thread and appends under the recorder's mutex.
 */
#ifndef PCPB_TRACE_H
#define PCPB_TRACE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "../include/pcpbuddy.h"

#define TRACE_MAGIC "PCPBTRC1"
/* The trace_marker line pcpbuddy capture writes once the start state is
 * read: the import drops the events before it. */
#define TRACE_START_MARKER "pcpbuddy: start state taken"
/* Version 2's metadata: at most this many bytes of text. */
#define TRACE_MAX_META (64U << 20)

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
	uint8_t info; /* order (0-3), migratetype (4-5), accounted (6),
		       * the workload's (7) */
};
_Static_assert(sizeof(struct trace_event) == 16, "16-byte events");
#define TRACE_ACCOUNTED (1U << 6)
/* A kernel capture's event of the workload's tasks (capture --pid,
 * --cgroup or COMMAND, and their children); the rest is the machine's. */
#define TRACE_WORKLOAD (1U << 7)

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
	/* Version 2: the capture's metadata and start state, text after the
	 * events (docs/trace-format.md, "Metadata"); NULL in version 1.
	 * malloc()ed, NUL-terminated, meta_len without the NUL. */
	char *meta;
	size_t meta_len;
	/* A recording's events live in mmap()ed memory, not malloc()ed:
	 * under the LD_PRELOAD shim the event hook runs on its fault handler,
	 * which must never touch memory malloc may have got from a served
	 * range (preload/shim.h, S2). */
	bool mapped;
};

/* Frees what @t holds (not @t). */
void trace_free(struct trace *t);
/* Append @e, growing the array.  Return: 0 or -ENOMEM. */
int trace_push(struct trace *t, struct trace_event e);
/* Read a pcpbuddy trace, checking every event's fields.
 * Return: 0, or -errno with @err set. */
int trace_read(const char *path, struct trace *t, char *err, size_t len);
/* The same from @f (left open), which holds @size bytes; @path names it
 * in messages. */
int trace_read_stream(FILE *f, uint64_t size, const char *path, struct trace *t,
		      char *err, size_t len);
/* Write @t to @f (left open).  Return: 0 or -EIO. */
int trace_write_file(FILE *f, struct trace *t);
/* Write @t to @path whole, through a temporary file, or leave it as it
 * was.  Return: 0 or -errno. */
int trace_write(const char *path, struct trace *t);
/* Drop the events a replay cannot do safely.  Return: 0 or -ENOMEM. */
int trace_sanitize(struct trace *t);

/*
 * Timestamps a replay can pace by: one that goes back in time is set to
 * the one before it, and a gap over TRACE_MAX_GAP_NS is cut to it (a
 * paced replay then never sleeps longer).  The counts are reported.
 */
#define TRACE_MAX_GAP_NS (10ULL * 1000000000ULL)
struct trace_time_fixes {
	uint64_t backwards, gaps, largest_gap_ns;
	uint64_t first_backwards, first_gap; /* line or event numbers */
};
/* Check (and fix) event @i of @t against the one before it; @where is
 * its line (import) or event number, named in the first message. */
void trace_check_time(const char *who, const char *name, struct trace *t,
		      size_t i, uint64_t where, struct trace_time_fixes *fx);

struct trace_import_stats {
	uint64_t lines, allocs, frees, failed, pre_trace_frees, batched,
		refill_marks, drain_marks, unknown, malformed;
	/* kmem lines without a [cpu] field (perf script -F without cpu) */
	uint64_t no_cpu;
	/* events on pages of other zones than the replayed one */
	uint64_t other_zone;
	int last_zone; /* the zone index of the last line's pfn */
	/* refill markers from mm_page_alloc_extfrag (in refill_marks) */
	uint64_t extfrag_marks;
	/* events of the workload's tasks (TRACE_WORKLOAD) */
	uint64_t workload;
	/* events before TRACE_START_MARKER, dropped */
	uint64_t before_start;
	struct trace_time_fixes time;
};

/*
 * The metadata (version 2): "key: value" lines, then sections, each a
 * "=== NAME" line and the text up to the next one: "zoneinfo.before",
 * "zoneinfo.after", "buddyinfo.before", ...
 */
/* Return: @key's value (up to the end of its line, *@len bytes), or NULL. */
const char *trace_meta_get(const struct trace *t, const char *key, size_t *len);
/* Return: a malloc()ed copy of section @name, or NULL when absent. */
char *trace_meta_section(const struct trace *t, const char *name);
/* Appends printf text to @t's metadata.  Return: 0 or -ENOMEM. */
int trace_meta_add(struct trace *t, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Appends section @name with @text (a newline added where it has none;
 * nothing when @text is NULL).  Return: 0 or -ENOMEM. */
int trace_meta_add_section(struct trace *t, const char *name, const char *text);
/* Puts "key: value" lines @keys before the metadata @t has (keys must come
 * before any section).  Return: 0 or -ENOMEM. */
int trace_meta_insert_keys(struct trace *t, const char *keys);
/* Return: @key's value as a number, or 0 when absent. */
unsigned long long trace_meta_ull(const struct trace *t, const char *key);

/*
 * The kernel's own PCP flows on one CPU, from a kernel trace's markers:
 * pages refilled and drained, and the zone->lock holds doing it, a hold
 * being a run of one kind of marker on a CPU with no other event of that
 * CPU between (a refill or a drain is one hold up to 6.18).
 */
struct trace_kernel_flows {
	uint64_t refill_pages, refill_holds, drain_pages, drain_holds;
};
/* Fills @out[0..t->h.nr_cpus-1].  Return: 0 or -ENOMEM. */
int trace_kernel_flows(const struct trace *t, struct trace_kernel_flows *out);

/* ---- /proc/zoneinfo (zoneinfo.c) -------------------------------------- */

struct zi_cpu {
	long count, high, batch, high_min, high_max; /* 0: not printed */
	bool listed;
};
struct zi_zone {
	int node;
	char name[16];
	unsigned long free, min, low, high, managed, spanned, start_pfn;
	int nr_cpus;
	struct zi_cpu *cpu;
};
#define ZI_MAX_ZONES 64
struct zoneinfo {
	int nr_zones;
	struct zi_zone zones[ZI_MAX_ZONES];
};
int zoneinfo_parse(const char *text, struct zoneinfo *zi);
void zoneinfo_free(struct zoneinfo *zi);
/* Node 0's zone @name (case-insensitive), or with @name NULL or "" the
 * zone a trace's pages come from: Normal when it has memory, else the
 * largest.  Return: the zone or NULL. */
const struct zi_zone *zoneinfo_zone(const struct zoneinfo *zi,
				    const char *name);
/* Return: the index of the zone spanning @pfn, or -1. */
int zoneinfo_zone_of_pfn(const struct zoneinfo *zi, unsigned long pfn);

/*
 * How text is imported: @zoneinfo, a /proc/zoneinfo snapshot taken when
 * tracing started (NULL: none; or its text in @zoneinfo_text), becomes the
 * trace's start state; with it,
 * only the events on pages of zone @zone (NULL: zoneinfo_zone()'s choice)
 * are kept, since the model replays one zone.
 */
struct trace_import_opts {
	const char *zoneinfo;
	const char *zoneinfo_text; /* the snapshot itself, instead of a file */
	const char *zone;
	/* the workload's tasks, space-separated pids: their events, and
	 * those of the children they fork (sched_process_fork), get
	 * TRACE_WORKLOAD; NULL: none marked */
	const char *workload_pids;
};

/*
 * trace_import_ftrace - kmem tracepoint text (plain, gzip or zstd; "-" is
 * standard input) at @in into @t.  Malformed lines are counted in @st and
 * the first ten named on stderr, after @who.  Input with no kmem event,
 * binary input and kmem lines without a CPU field are errors.
 * Return: 0, or -errno after a message.
 */
int trace_import_ftrace(const char *who, const char *in,
			const struct trace_import_opts *io, struct trace *t,
			struct trace_import_stats *st);
/* All of the file at @path (/proc files too: read to the end, not by its
 * size), malloc()ed and NUL-terminated, or NULL; its length in *@len when
 * @len is not NULL (a NUL inside makes it longer than strlen()). */
char *trace_read_text(const char *path, size_t *len);

/* A trace-cmd .dat file's records as tracefs text lines on @out (dat.c).
 * Return: 0, or -EINVAL / -EIO with @err set. */
int trace_dat_to_text(const char *path, FILE *out, char *err, size_t len);

/*
 * trace_load - a pcpbuddy trace, or kmem tracepoint text imported on the
 * fly with @io (may be NULL), so that replay and fidelity take a capture
 * as it is.  Return: 0, or -errno with @err set.
 */
int trace_load(const char *who, const char *path,
	       const struct trace_import_opts *io, struct trace *t, char *err,
	       size_t len);

/* --record: a trace of every allocation and free made on an instance. */
struct trace_recorder;
struct trace_recorder *trace_record_start(struct pcpb *inst, const char *path,
					  const char *source);
/* Stops recording and writes the trace.  Return: 0 or -errno. */
int trace_record_finish(struct trace_recorder *r, struct pcpb *inst);
/* Records that the measured phase ended, if @inst is being recorded. */
void trace_record_mark(struct pcpb *inst);

#endif /* PCPB_TRACE_H */
