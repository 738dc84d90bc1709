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
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <zlib.h>
#include <zstd.h>

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

/* Return: the value of @key, or 0 when it is not in @m. */
static uint32_t pm_get(const struct pfn_map *m, uint64_t key)
{
	size_t i;

	if (!m->cap)
		return 0;
	for (i = pm_slot(m, key + 1); m->key[i]; i = (i + 1) & (m->cap - 1))
		if (m->key[i] == key + 1)
			return m->val[i];
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
 * mm_page_alloc_extfrag, per CPU, until that CPU's next event says what it
 * was: since the 2025 claim/steal split a block taken by fallback fires
 * only extfrag (no zone_locked), so it is the refill's marker; before it
 * (6.1) __rmqueue_smallest() ran after the steal and fired zone_locked
 * too, and that one counts.
 */
struct extfrag_pending {
	struct trace_event *ev; /* by CPU; op 0: none */
	size_t nr;
};

static int pending_flush(struct extfrag_pending *xp, unsigned int cpu,
			 struct trace *t, struct trace_import_stats *st)
{
	if (cpu >= xp->nr || !xp->ev[cpu].op)
		return 0;
	xp->ev[cpu].op = 0;
	st->refill_marks++;
	st->extfrag_marks++;
	return trace_push(t,
			  (struct trace_event){ .time_ns = xp->ev[cpu].time_ns,
						.cpu = (uint16_t)cpu,
						.op = TOP_REFILL_MARK,
						.info = xp->ev[cpu].info });
}

static int pending_set(struct extfrag_pending *xp, struct trace_event e)
{
	if (e.cpu >= xp->nr) {
		size_t nr = (size_t)e.cpu + 16;
		struct trace_event *ev = realloc(xp->ev, nr * sizeof(*ev));

		if (!ev)
			return -ENOMEM;
		memset(ev + xp->nr, 0, (nr - xp->nr) * sizeof(*ev));
		xp->ev = ev;
		xp->nr = nr;
	}
	e.op = TOP_REFILL_MARK;
	xp->ev[e.cpu] = e;
	return 0;
}

/* What an import carries from line to line. */
struct import_state {
	struct pfn_map live;  /* pfn -> id of its live allocation */
	struct pfn_map freed; /* pfn -> index + 1 of its free event, until
			       * its mm_page_free_batched (the commit) */
	uint32_t next_id;
	struct extfrag_pending xp;
	struct pfn_map workload; /* pid -> 1: the workload's tasks */
	bool marking;		 /* workload pids were given */
};

static void pm_free(struct pfn_map *m)
{
	free(m->key);
	free(m->val);
	memset(m, 0, sizeof(*m));
}

/* At the start-state marker: what came before is forgotten, but the
 * workload's tasks. */
static void import_state_reset(struct import_state *is)
{
	pm_free(&is->live);
	pm_free(&is->freed);
	is->next_id = 1;
	for (size_t c = 0; c < is->xp.nr; c++)
		is->xp.ev[c].op = 0;
}

static void import_state_free(struct import_state *is)
{
	import_state_reset(is);
	pm_free(&is->workload);
	free(is->xp.ev);
	is->xp.ev = NULL;
	is->xp.nr = 0;
}

/*
 * A batched free (free_unref_folios(), free_unref_page_list()) traces
 * mm_page_free for every page first, then commits them one by one, each
 * with mm_page_free_batched, and a commit may drain.  The free moves to
 * its commit, so that it is replayed where the kernel did it, and the
 * drains between commits stay apart.  The old event becomes op 0, dropped
 * when the import ends.
 */
static int free_to_commit(struct trace *t, struct import_state *is,
			  unsigned long long pfn, uint64_t time_ns,
			  unsigned int cpu)
{
	uint32_t idx = pm_take(&is->freed, pfn);
	struct trace_event e;

	if (!idx || idx > t->n || t->ev[idx - 1].cpu != cpu ||
	    (t->ev[idx - 1].op != TOP_FREE &&
	     t->ev[idx - 1].op != TOP_FREE_OLD))
		return 0;
	e = t->ev[idx - 1];
	t->ev[idx - 1].op = 0;
	e.time_ns = time_ns;
	return trace_push(t, e);
}

/* The pid of a line: the number before " [cpu]" (tracefs and
 * trace-cmd "comm-PID", perf script "comm PID").  Return: it, or -1. */
static long line_pid(const char *line, const char *bracket)
{
	const char *p = bracket;

	while (p > line && p[-1] == ' ')
		p--;
	while (p > line && p[-1] >= '0' && p[-1] <= '9')
		p--;
	if (p == bracket || (p > line && p[-1] != '-' && p[-1] != ' '))
		return -1;
	return strtol(p, NULL, 10);
}

/* sched_process_fork of a workload task: its child joins the workload. */
static int note_fork(struct import_state *is, const char *line)
{
	const char *ev = strstr(line, "sched_process_fork:");
	const char *p, *c;
	long parent, child;

	if (!ev || !is->marking)
		return 0;
	p = strstr(ev, " pid=");
	c = strstr(ev, "child_pid=");
	if (!p || !c)
		return 0;
	parent = strtol(p + 5, NULL, 10);
	child = strtol(c + 10, NULL, 10);
	if (parent > 0 && child > 0 && pm_get(&is->workload, (uint64_t)parent))
		return pm_put(&is->workload, (uint64_t)child, 1);
	return 0;
}

/*
 * One line of tracefs, perf script or trace-cmd report text.
 * Return: 0 (event or skipped line), -ENODEV for a kmem line without a
 * CPU field, -EINVAL for a malformed kmem line, or -ENOMEM.
 */
static int import_line(char *line, struct trace *t, struct import_state *is,
		       struct trace_import_stats *st, const struct zoneinfo *zi)
{
	struct pfn_map *live = &is->live;
	uint32_t *next_id = &is->next_id;
	struct extfrag_pending *xp = &is->xp;
	const char *ev, *p, *colon;
	char *end;
	bool workload = false, extfrag;
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
		return note_fork(is, line);
	}
	/* "[cpu]" then the timestamp before ": [kmem:]mm_page_..." */
	p = strchr(line, '[');
	if (!p || p > ev)
		return -ENODEV; /* no CPU field */
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
	if (is->marking) {
		long pid = line_pid(line, strchr(line, '['));

		workload = pid > 0 && pm_get(&is->workload, (uint64_t)pid);
	}
	p = field(ev, "pfn=");
	if (!p)
		return -EINVAL;
	errno = 0;
	pfn = strtoull(p, &end, 16);
	/* A pfn is below 2^52 on any machine; the top of the range is the
	 * live map's empty and deleted markers. */
	if (end == p || errno || pfn >= (1ULL << 52))
		return -EINVAL;
	if (zi)
		st->last_zone = zoneinfo_zone_of_pfn(zi, (unsigned long)pfn);
	/* extfrag names the allocation's order and type alloc_order= and
	 * alloc_migratetype= (its order= is the fallback block's). */
	extfrag = !strncmp(ev, "mm_page_alloc_extfrag:", 22);
	if ((p = field(ev, extfrag ? "alloc_order=" : " order=")))
		order = strtoul(p, NULL, 10);
	if ((p = field(ev, extfrag ? "alloc_migratetype=" : "migratetype=")))
		mt = strtoul(p, NULL, 10);
	if (order > 10)
		return -EINVAL;
	/* highatomic, CMA and isolate replay as movable */
	e.info = (uint8_t)(order | (mt > 2 ? 1 : mt) << 4 |
			   (workload ? TRACE_WORKLOAD : 0));

	if (extfrag) {
		if (pending_flush(xp, e.cpu, t, st))
			return -ENOMEM;
		/* Only the PCP orders and types are refills. */
		if (mt > 2 || (order > 3 && order != 9))
			return 0;
		return pending_set(xp, e);
	}
	if (!strncmp(ev, "mm_page_alloc_zone_locked:", 22 + 4)) {
		const char *r = field(ev, "percpu_refill=");

		/* 6.1: the zone_locked after a steal is the one to count. */
		if (e.cpu < xp->nr)
			xp->ev[e.cpu].op = 0;
		if (!r || *r != '1')
			return 0;
		e.op = TOP_REFILL_MARK;
		st->refill_marks++;
		return trace_push(t, e);
	}
	if (pending_flush(xp, e.cpu, t, st))
		return -ENOMEM;
	if (!strncmp(ev, "mm_page_alloc:", 14)) {
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
		/* Its order is a literal 0: mm_page_free has the real one. */
		st->batched++;
		return free_to_commit(t, is, pfn, e.time_ns, e.cpu);
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
		if (pm_put(&is->freed, pfn, (uint32_t)t->n + 1))
			return -ENOMEM;
	} else if (!strncmp(ev, "mm_page_pcpu_drain:", 19)) {
		e.op = TOP_DRAIN_MARK;
		st->drain_marks++;
	} else {
		st->unknown++;
		return 0;
	}
	return trace_push(t, e);
}

/* ---- input: plain, gzip (zlib) or zstd (libzstd), file or stdin ---------- */

enum text_codec { CODEC_PLAIN, CODEC_GZIP, CODEC_ZSTD };

struct text_in {
	int fd;
	enum text_codec codec;
	z_stream gz;
	ZSTD_DCtx *zstd;
	unsigned char raw[1 << 16]; /* compressed bytes read, not yet used */
	size_t raw_pos, raw_len;
	char out[1 << 16]; /* decompressed text not yet split into lines */
	size_t out_pos, out_len;
	bool eof, failed;
	char *line; /* the current line, grown as needed */
	size_t line_cap;
};

static ssize_t ti_fill_raw(struct text_in *in)
{
	ssize_t n;

	if (in->raw_pos < in->raw_len)
		return (ssize_t)(in->raw_len - in->raw_pos);
	do
		n = read(in->fd, in->raw, sizeof(in->raw));
	while (n < 0 && errno == EINTR);
	in->raw_pos = 0;
	in->raw_len = n > 0 ? (size_t)n : 0;
	if (n < 0)
		in->failed = true;
	return n;
}

/* Decompresses the next piece into out[].  Return: false at the end. */
static bool ti_fill_out(struct text_in *in)
{
	in->out_pos = in->out_len = 0;
	while (!in->out_len && !in->eof && !in->failed) {
		ssize_t n = ti_fill_raw(in);

		if (n <= 0) {
			in->eof = true;
			break;
		}
		if (in->codec == CODEC_PLAIN) {
			memcpy(in->out, in->raw, (size_t)n);
			in->out_len = (size_t)n;
			in->raw_pos = in->raw_len;
		} else if (in->codec == CODEC_GZIP) {
			int rc;

			in->gz.next_in = in->raw + in->raw_pos;
			in->gz.avail_in = (uInt)(in->raw_len - in->raw_pos);
			in->gz.next_out = (Bytef *)in->out;
			in->gz.avail_out = sizeof(in->out);
			rc = inflate(&in->gz, Z_NO_FLUSH);
			in->raw_pos = in->raw_len - in->gz.avail_in;
			in->out_len = sizeof(in->out) - in->gz.avail_out;
			/* Concatenated gzip members, as pigz and logrotate
			 * write them, go on. */
			if (rc == Z_STREAM_END)
				rc = inflateReset(&in->gz);
			if (rc != Z_OK && rc != Z_BUF_ERROR)
				in->failed = true;
		} else {
			ZSTD_inBuffer zi = { in->raw, in->raw_len,
					     in->raw_pos };
			ZSTD_outBuffer zo = { in->out, sizeof(in->out), 0 };
			size_t rc = ZSTD_decompressStream(in->zstd, &zo, &zi);

			in->raw_pos = zi.pos;
			in->out_len = zo.pos;
			if (ZSTD_isError(rc))
				in->failed = true;
		}
	}
	return in->out_len > 0;
}

/*
 * ti_open - @path ("-": standard input), its codec told by its first
 * bytes.  Return: 0 or -errno.
 */
static int ti_open(struct text_in *in, const char *path)
{
	memset(in, 0, sizeof(*in));
	in->fd = strcmp(path, "-") ? open(path, O_RDONLY | O_CLOEXEC) : 0;
	if (in->fd < 0)
		return -errno;
	/* Peek without consuming: the codec's decoder gets these bytes. */
	while (in->raw_len < 4) {
		ssize_t n = read(in->fd, in->raw + in->raw_len,
				 sizeof(in->raw) - in->raw_len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			int rc = -errno;

			if (in->fd)
				close(in->fd);
			return rc;
		}
		if (!n)
			break;
		in->raw_len += (size_t)n;
	}
	if (in->raw_len >= 2 && in->raw[0] == 0x1f && in->raw[1] == 0x8b) {
		in->codec = CODEC_GZIP;
		if (inflateInit2(&in->gz, 16 + MAX_WBITS) != Z_OK)
			return -ENOMEM;
	} else if (in->raw_len >= 4 &&
		   !memcmp(in->raw, "\x28\xb5\x2f\xfd", 4)) {
		in->codec = CODEC_ZSTD;
		in->zstd = ZSTD_createDCtx();
		if (!in->zstd)
			return -ENOMEM;
	}
	return 0;
}

static void ti_close(struct text_in *in)
{
	if (in->codec == CODEC_GZIP)
		inflateEnd(&in->gz);
	ZSTD_freeDCtx(in->zstd);
	if (in->fd > 0)
		close(in->fd);
	free(in->line);
}

/* Return: the next line (without its newline; NUL bytes kept in *@len),
 * or NULL at the end or on an error (in->failed). */
static char *ti_getline(struct text_in *in, size_t *len)
{
	size_t n = 0;

	for (;;) {
		char *nl;
		size_t take;

		if (in->out_pos == in->out_len && !ti_fill_out(in))
			break;
		nl = memchr(in->out + in->out_pos, '\n',
			    in->out_len - in->out_pos);
		take = nl ? (size_t)(nl - (in->out + in->out_pos))
			  : in->out_len - in->out_pos;
		if (n + take + 1 > in->line_cap) {
			size_t cap = (n + take + 1) * 2;
			char *grown = realloc(in->line, cap);

			if (!grown) {
				in->failed = true;
				return NULL;
			}
			in->line = grown;
			in->line_cap = cap;
		}
		memcpy(in->line + n, in->out + in->out_pos, take);
		n += take;
		in->out_pos += take + (nl != NULL);
		if (nl)
			break;
	}
	if (!n && in->out_pos == in->out_len && (in->eof || in->failed))
		return NULL;
	if (!in->line) { /* an empty line first: nothing was grown yet */
		in->line = malloc(1);
		if (!in->line) {
			in->failed = true;
			return NULL;
		}
		in->line_cap = 1;
	}
	in->line[n] = '\0';
	*len = n;
	return in->line;
}

/* What binary input is, for the error: the formats tracing tools write. */
static const char *binary_kind(const char *buf, size_t len)
{
	if (len >= 8 && !memcmp(buf, "PERFILE2", 8))
		return "a perf.data file 'perf script' could not read";
	if (len >= 10 && !memcmp(buf, "\x17\x08\x44tracing", 10))
		return "a trace-cmd .dat file libtracecmd could not read";
	return "binary data, not kmem tracepoint text";
}

/*
 * A perf.data file: 'perf script' prints its events in the text the
 * importer reads (comm pid [cpu] time: kmem:event: fields) into @f.
 * Return: 0, or -EINVAL with @err set.
 */
static int perf_to_text(const char *in, FILE *f, char *err, size_t len)
{
	int status;
	pid_t pid;

	fflush(f);
	pid = fork();
	if (pid == 0) {
		char a0[] = "perf", a1[] = "script", a2[] = "-i", a4[] = "-F",
		     a5[] = "comm,pid,cpu,time,event,trace";
		char *argv[] = { a0, a1, a2, (char *)in, a4, a5, NULL };

		int null = open("/dev/null", O_WRONLY);

		dup2(fileno(f), STDOUT_FILENO);
		if (null >= 0)
			dup2(null, STDERR_FILENO); /* perf's notes on other
						    * event kinds: noise */
		execvp("perf", argv);
		_exit(127);
	}
	if (pid < 0 || waitpid(pid, &status, 0) < 0) {
		snprintf(err, len, "cannot run perf: %s", strerror(errno));
		return -EINVAL;
	}
	if (WIFEXITED(status) && WEXITSTATUS(status) == 127) {
		snprintf(
			err, len,
			"a perf.data file: reading it needs perf (Debian package linux-perf), which is not installed");
		return -EINVAL;
	}
	if (!WIFEXITED(status) || WEXITSTATUS(status)) {
		snprintf(err, len,
			 "a perf.data file 'perf script' could not read");
		return -EINVAL;
	}
	return 0;
}

/*
 * A trace-cmd .dat file is read through libtracecmd (dat.c), a perf.data
 * file through 'perf script', into a temporary text file, which @ti then
 * reads instead.
 * Return: 0 (a .dat or not), -EINVAL after a message, or -errno.
 */
static int open_dat(const char *who, const char *in, struct text_in *ti)
{
	char tmpl[] = "/tmp/pcpbuddy-dat-XXXXXX", err[256];
	bool perf;
	FILE *f;
	int fd, rc;

	if (ti->codec != CODEC_PLAIN || ti->raw_len < 8)
		return 0;
	perf = !memcmp(ti->raw, "PERFILE2", 8);
	if (!perf &&
	    (ti->raw_len < 10 || memcmp(ti->raw, "\x17\x08\x44tracing", 10)))
		return 0;
	if (!strcmp(in, "-")) {
		fprintf(stderr,
			"%s: -: a %s file on standard input: give its path\n",
			who, perf ? "perf.data" : "trace-cmd .dat");
		ti_close(ti);
		return -EINVAL;
	}
	fd = mkstemp(tmpl);
	f = fd >= 0 ? fdopen(fd, "w") : NULL;
	if (!f) {
		rc = -errno;
		if (fd >= 0)
			close(fd);
		ti_close(ti);
		return rc;
	}
	rc = perf ? perf_to_text(in, f, err, sizeof(err))
		  : trace_dat_to_text(in, f, err, sizeof(err));
	if (fclose(f) && !rc)
		rc = -EIO;
	ti_close(ti);
	if (!rc)
		rc = ti_open(ti, tmpl);
	unlink(tmpl); /* the open descriptor keeps it until ti_close() */
	if (rc == -EINVAL || rc == -EIO)
		fprintf(stderr, "%s: %s: %s\n", who, in, err);
	return rc == -EIO ? -EINVAL : rc;
}

/* ---- import --------------------------------------------------------------- */

/*
 * Keep the events of one zone: @zone_of[i] is event i's zone index (-1
 * markers and frees of pages the map did not know keep theirs from the
 * pfn too, so every event has one).
 */
static void keep_zone(struct trace *t, const int8_t *zone_of, int keep,
		      struct trace_import_stats *st)
{
	size_t i, out = 0;

	t->h.nr_cpus = 0;
	for (i = 0; i < t->n; i++) {
		if (zone_of[i] != keep) {
			st->other_zone++;
			continue;
		}
		t->ev[out++] = t->ev[i];
		if (t->ev[i].cpu + 1U > t->h.nr_cpus)
			t->h.nr_cpus = t->ev[i].cpu + 1U;
	}
	t->n = out;
}

/* Drops the op 0 events free_to_commit() left, with their zones. */
static void drop_moved(struct trace *t, int8_t *zone_of)
{
	size_t i, out = 0;

	for (i = 0; i < t->n; i++) {
		if (!t->ev[i].op)
			continue;
		if (zone_of)
			zone_of[out] = zone_of[i];
		t->ev[out++] = t->ev[i];
	}
	t->n = out;
}

/* Events [@from, t->n) are new: fix their times, note their zone. */
static int note_events(const char *who, const char *in, struct trace *t,
		       size_t from, struct trace_import_stats *st, bool zones,
		       int8_t **zone_of, size_t *zone_cap)
{
	size_t i;

	for (i = from; i < t->n; i++) {
		trace_check_time(who, in, t, i, st->lines, &st->time);
		if (!zones)
			continue;
		if (i >= *zone_cap) {
			size_t cap = *zone_cap ? 2 * *zone_cap : 4096;
			int8_t *grown = realloc(*zone_of, cap);

			if (!grown)
				return -ENOMEM;
			*zone_of = grown;
			*zone_cap = cap;
		}
		(*zone_of)[i] = (int8_t)st->last_zone;
	}
	return 0;
}

int trace_import_ftrace(const char *who, const char *in,
			const struct trace_import_opts *io, struct trace *t,
			struct trace_import_stats *st)
{
	struct zoneinfo zi = { 0 };
	const struct zi_zone *zone = NULL;
	int8_t *zone_of = NULL;
	size_t zone_cap = 0;
	struct import_state is = { .next_id = 1 };
	bool started = false;
	struct text_in *ti;
	char *zi_text = NULL, *line;
	size_t len;
	int rc = 0;

	memset(t, 0, sizeof(*t));
	if (io && (io->zoneinfo || io->zoneinfo_text)) {
		const char *zi_name =
			io->zoneinfo ? io->zoneinfo : "(the start state)";

		zi_text = io->zoneinfo ? trace_read_text(io->zoneinfo, NULL)
				       : strdup(io->zoneinfo_text);
		if (!zi_text || zoneinfo_parse(zi_text, &zi)) {
			fprintf(stderr, "%s: --zoneinfo %s: %s\n", who, zi_name,
				zi_text ? "no 'Node N, zone NAME' in it (not /proc/zoneinfo)"
					: strerror(errno));
			free(zi_text);
			zoneinfo_free(&zi);
			return -EINVAL;
		}
		zone = zoneinfo_zone(&zi, io->zone);
		if (!zone) {
			fprintf(stderr,
				"%s: --zoneinfo %s: no zone '%s' with memory\n",
				who, zi_name, io->zone ? io->zone : "Normal");
			free(zi_text);
			zoneinfo_free(&zi);
			return -EINVAL;
		}
	}
	ti = malloc(sizeof(*ti));
	if (!ti || (rc = ti_open(ti, in)) || (rc = open_dat(who, in, ti))) {
		rc = ti ? rc : -ENOMEM;
		if (rc != -EINVAL)
			fprintf(stderr, "%s: %s: %s\n", who, in, strerror(-rc));
		free(ti);
		free(zi_text);
		zoneinfo_free(&zi);
		return rc;
	}
	snprintf(t->h.source, sizeof(t->h.source), "ftrace:%s",
		 strrchr(in, '/') ? strrchr(in, '/') + 1 : in);
	for (const char *w = io ? io->workload_pids : NULL; w && *w;) {
		char *end;
		long pid = strtol(w, &end, 10);

		if (end == w)
			break;
		if (pid > 0 && pm_put(&is.workload, (uint64_t)pid, 1))
			rc = -ENOMEM;
		is.marking = true;
		w = end;
	}
	while ((line = ti_getline(ti, &len))) {
		size_t before = t->n;

		st->lines++;
		if (memchr(line, '\0', len)) {
			fprintf(stderr, "%s: %s: %s\n", who, in,
				binary_kind(line, len));
			rc = -EINVAL;
			break;
		}
		if (strstr(line, TRACE_START_MARKER)) {
			started = true;
			/* pcpbuddy capture took the start state here: what
			 * came before is in it, and the pages allocated
			 * before it are pre-trace pages. */
			struct trace_import_stats keep = *st;

			/* The counts are of the events kept. */
			memset(st, 0, sizeof(*st));
			st->lines = keep.lines;
			st->malformed = keep.malformed;
			st->no_cpu = keep.no_cpu;
			st->before_start = keep.before_start + t->n;
			t->n = 0;
			import_state_reset(&is);
			continue;
		}
		rc = import_line(line, t, &is, st, zone ? &zi : NULL);
		if (!rc && t->n > before)
			rc = note_events(who, in, t, before, st, zone != NULL,
					 &zone_of, &zone_cap);
		if (rc == -ENOMEM)
			break;
		if (rc == -ENODEV) {
			st->no_cpu++;
			rc = 0;
		} else if (rc) {
			if (++st->malformed <= 10)
				fprintf(stderr,
					"%s: %s:%llu: malformed kmem line\n",
					who, in, (unsigned long long)st->lines);
			rc = 0;
		}
	}
	for (size_t c = 0; !rc && c < is.xp.nr; c++) {
		size_t before = t->n;

		rc = pending_flush(&is.xp, (unsigned int)c, t, st);
		if (!rc && t->n > before)
			rc = note_events(who, in, t, before, st, zone != NULL,
					 &zone_of, &zone_cap);
	}
	import_state_free(&is);
	if (!rc)
		drop_moved(t, zone_of);
	if (rc == -ENOMEM)
		fprintf(stderr, "%s: %s: out of memory\n", who, in);
	if (!rc && ti->failed) {
		fprintf(stderr, "%s: %s: %s\n", who, in,
			ti->codec == CODEC_PLAIN ? "read error"
						 : "corrupt compressed data");
		rc = -EIO;
	}
	/* A capture (its start marker seen) may hold no event: nothing ran. */
	if (!rc && !st->allocs && !st->frees && !st->pre_trace_frees &&
	    !st->refill_marks && !st->drain_marks && !started) {
		fprintf(stderr,
			"%s: %s: no kmem page events: %llu lines, %llu kmem lines without a [cpu] field (perf script -F without cpu, or trace-cmd report -l), %llu malformed, %llu of other events\n",
			who, in, (unsigned long long)st->lines,
			(unsigned long long)st->no_cpu,
			(unsigned long long)st->malformed,
			(unsigned long long)st->unknown);
		rc = -EINVAL;
	} else if (!rc && st->no_cpu) {
		fprintf(stderr,
			"%s: %s: %llu kmem lines have no [cpu] field: a replay needs the CPU of every event\n",
			who, in, (unsigned long long)st->no_cpu);
		rc = -EINVAL;
	}
	if (!rc && zone)
		keep_zone(t, zone_of, (int)(zone - zi.zones), st);
	for (size_t i = 0; !rc && i < t->n; i++)
		st->workload += !!(t->ev[i].info & TRACE_WORKLOAD);
	if (!rc && zone) {
		if (trace_meta_add(
			    t,
			    "zone: %s\nzone_events_dropped: %llu\n=== zoneinfo.before\n%s",
			    zone->name, (unsigned long long)st->other_zone,
			    zi_text))
			rc = -ENOMEM;
	}
	ti_close(ti);
	free(ti);
	free(zone_of);
	free(zi_text);
	zoneinfo_free(&zi);
	if (rc)
		trace_free(t);
	return rc;
}

/*
 * A pcpbuddy trace compressed with gzip or zstd (as tests/data ships
 * them), read whole into memory.  Return: -ENOENT when @path holds
 * compressed text instead, else what trace_read_stream() returns.
 */
static int load_compressed_trace(const char *path, struct trace *t, char *err,
				 size_t len)
{
	struct text_in *ti = malloc(sizeof(*ti));
	char *buf = NULL;
	size_t size = 0;
	FILE *mem;
	int rc;

	if (!ti || ti_open(ti, path)) {
		free(ti);
		snprintf(err, len, "%s: cannot open", path);
		return -EIO;
	}
	if (!ti_fill_out(ti) || ti->out_len < 8 ||
	    memcmp(ti->out, TRACE_MAGIC, 8)) {
		ti_close(ti);
		free(ti);
		return -ENOENT;
	}
	mem = open_memstream(&buf, &size);
	do
		fwrite(ti->out, 1, ti->out_len, mem);
	while (ti_fill_out(ti));
	fclose(mem);
	if (ti->failed) {
		snprintf(err, len, "%s: corrupt compressed data", path);
		rc = -EIO;
	} else {
		mem = fmemopen(buf, size ? size : 1, "rb");
		rc = mem ? trace_read_stream(mem, size, path, t, err, len)
			 : -ENOMEM;
		if (mem)
			fclose(mem);
	}
	free(buf);
	ti_close(ti);
	free(ti);
	return rc;
}

/* See trace.h: a pcpbuddy trace (compressed or not), or kmem text
 * imported on the fly. */
int trace_load(const char *who, const char *path,
	       const struct trace_import_opts *io, struct trace *t, char *err,
	       size_t len)
{
	struct trace_import_stats st = { 0 };
	char magic[8] = { 0 };
	FILE *f = strcmp(path, "-") ? fopen(path, "rb") : NULL;
	size_t n;
	int rc;

	if (!strcmp(path, "-"))
		goto text; /* standard input is read once, as text */
	if (!f) {
		rc = -errno;
		snprintf(err, len, "%s: %s", path, strerror(errno));
		return rc;
	}
	n = fread(magic, 1, sizeof(magic), f);
	fclose(f);
	/* Binary and not gzip: a pcpbuddy trace, or an error that says so. */
	if (n == sizeof(magic) && !memcmp(magic, TRACE_MAGIC, 8))
		return trace_read(path, t, err, len);
	if (n >= 4 && (!memcmp(magic, "\x1f\x8b", 2) ||
		       !memcmp(magic, "\x28\xb5\x2f\xfd", 4))) {
		rc = load_compressed_trace(path, t, err, len);
		if (rc != -ENOENT)
			return rc;
	}
text:
	rc = trace_import_ftrace(who, path, io, t, &st);
	if (rc) {
		/* The import said why on stderr. */
		snprintf(err, len, "%s: not a trace pcpbuddy can read", path);
		return rc;
	}
	t->h.nr_events = t->n;
	return 0;
}
