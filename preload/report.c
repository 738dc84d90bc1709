// SPDX-License-Identifier: GPL-2.0-only OR MIT
/*
 * report.c - the shim's report at exit: pcpbuddy's report (the JSON
 * contract of every driver: locks, work, PCP, fragmentation, check) and a
 * "preload" section: mappings served and passed through (and why), faults,
 * frees by call, the cross-thread free fraction, the top threads.
 *
 * Invariants: runs once, from the destructor, after which every hook
 * passes through.  Locking: reads relaxed counters; pcpb_report() takes
 * every lock of the instance.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "shim.h"

static const char *const pass_names[NR_PASS] = {
	"not_anon",  "prot_none", "stack",  "populate",	     "fixed_foreign",
	"no_memory", "not_ready", "nested", "uffd_register",
};
static const char *const free_names[NR_FREE_CALLS] = {
	"munmap", "dontneed", "free", "remove", "mremap", "fixed", "yield",
};

#define TOP_THREADS 8

/* A thread that never named itself through a hook: ask /proc. */
static void fill_name(struct shim_thread *t)
{
	char path[64];
	FILE *f;

	if (t->name[0])
		return;
	snprintf(path, sizeof(path), "/proc/self/task/%d/comm", (int)t->tid);
	f = fopen(path, "r");
	if (f) {
		if (fgets(t->name, sizeof(t->name), f))
			t->name[strcspn(t->name, "\n")] = '\0';
		fclose(f);
	}
	if (!t->name[0])
		strcpy(t->name, "(exited)");
}

/* The @n busiest slots by allocations (@by_frees: by frees), into @top,
 * each with its name. */
static int top_threads(int *top, int n, bool by_frees)
{
	uint64_t last = UINT64_MAX;
	int k, s;

	for (k = 0; k < n; k++) {
		uint64_t best_v = 0;
		int best = 0;

		/* The next below the previous pick (ties: by slot order). */
		for (s = 1; s < SHIM_MAX_THREADS; s++) {
			const struct shim_thread *t = &shim.threads[s];
			uint64_t v = by_frees ? t->frees : t->allocs;
			bool taken = false;
			int j;

			for (j = 0; j < k; j++)
				taken |= top[j] == s;
			if (!taken && v > best_v && v <= last) {
				best_v = v;
				best = s;
			}
		}
		if (!best)
			break;
		fill_name(&shim.threads[best]);
		top[k] = best;
		last = best_v;
	}
	return k;
}

struct field {
	const char *name;
	uint64_t value;
};

/* The fault counters, in the order both formats print them. */
static int fault_fields(struct field *out)
{
	const struct shim_stats *st = &shim.st;
	const struct field f[] = {
		{ "faults", st->faults },
		{ "thp_faults", st->thp_faults },
		{ "pages", st->fault_pages },
		{ "no_memory", st->fault_no_memory },
		{ "unserved", st->faults_unserved },
		{ "lock_holder", st->faults_holder },
		{ "retried", st->fault_retries },
	};

	memcpy(out, f, sizeof(f));
	return (int)(sizeof(f) / sizeof(f[0]));
}

static json_t *json_threads(bool by_frees)
{
	int top[TOP_THREADS], n = top_threads(top, TOP_THREADS, by_frees), k;
	json_t *arr = json_array();

	for (k = 0; k < n; k++) {
		struct shim_thread *t = &shim.threads[top[k]];

		json_array_append_new(
			arr,
			json_pack("{s:i, s:s, s:i, s:I, s:I, s:I}", "tid",
				  (int)t->tid, "name", t->name, "vcpu", t->vcpu,
				  "allocs", (json_int_t)t->allocs, "frees",
				  (json_int_t)t->frees, "frees_remote",
				  (json_int_t)t->frees_remote));
	}
	return arr;
}

static uint64_t freed_pages(void)
{
	uint64_t n = 0;
	int c;

	for (c = 0; c < NR_FREE_CALLS; c++)
		n += shim.st.free_pages[c];
	return n;
}

static int threads_seen(void)
{
	int s, n = 0;

	for (s = 1; s < SHIM_MAX_THREADS; s++)
		n += shim.threads[s].tid > 0;
	return n + (int)shim.st.slots_recycled;
}

/*
 * What share of the process's anonymous memory the shim serves at the
 * report (at exit: memory the program unmapped before is not in it), and
 * what the rest is: /proc/self/smaps, each mapping's Anonymous (private)
 * or Rss (shared anonymous) kilobytes, served in the proportion of its
 * bytes in served ranges, the rest by kind; the model's own struct page
 * array is left out.
 */
struct coverage {
	uint64_t anon_kb, served_kb;
	uint64_t heap_kb;   /* [heap]: brk, glibc malloc's main arena */
	uint64_t stack_kb;  /* [stack] and thread stacks (MAP_STACK) */
	uint64_t thp_kb;    /* unserved, in huge pages */
	uint64_t shared_kb; /* MAP_SHARED anonymous: not the buddy's pages */
	uint64_t other_kb;  /* passed through for another reason */
};

static void read_coverage(struct coverage *c)
{
	struct vma {
		uintptr_t lo, hi;
		uint64_t anon_kb, rss_kb, thp_kb;
		char kind; /* h heap, s stack, m shared, o other */
	} *v = NULL;
	size_t n = 0, cap = 0, i;
	size_t mm_len;
	uintptr_t mm = (uintptr_t)pcpb_memmap(shim.inst, &mm_len);
	char line[512];
	FILE *f = fopen("/proc/self/smaps", "re");

	memset(c, 0, sizeof(*c));
	while (f && fgets(line, sizeof(line), f)) {
		unsigned long lo, hi;
		char perms[8] = "", name[256] = "";
		unsigned long long kb;

		if (sscanf(line, "%lx-%lx %7s %*s %*s %*s %255[^\n]", &lo, &hi,
			   perms, name) >= 3) {
			if (n == cap) {
				struct vma *nv =
					realloc(v, (cap = cap ? 2 * cap : 256) *
							   sizeof(*v));

				if (!nv)
					break;
				v = nv;
			}
			memset(&v[n], 0, sizeof(v[n]));
			v[n].lo = lo;
			v[n].hi = hi;
			v[n].kind =
				lo < mm + mm_len && hi > mm ? 'x'
				: !strcmp(name, "[heap]")   ? 'h'
				: strstr(name, "[stack")    ? 's'
				: perms[3] == 's' &&
						(!name[0] ||
						 !strncmp(name, "/dev/zero",
							  9) ||
						 !strncmp(name, "[anon_shmem",
							  11) ||
						 !strncmp(name, "/SYSV", 5))
					? 'm'
					: 'o';
			n++;
		} else if (n && sscanf(line, "Anonymous: %llu kB", &kb) == 1) {
			v[n - 1].anon_kb = kb;
		} else if (n && sscanf(line, "Rss: %llu kB", &kb) == 1) {
			v[n - 1].rss_kb = kb;
		} else if (n &&
			   sscanf(line, "AnonHugePages: %llu kB", &kb) == 1) {
			v[n - 1].thp_kb = kb;
		}
	}
	if (f)
		fclose(f);
	/* The table, under its lock; no other library is called here. */
	space_lock();
	for (i = 0; i < n; i++) {
		uint64_t kb = v[i].kind == 'm' ? v[i].rss_kb : v[i].anon_kb;
		uint64_t served =
			v[i].kind == 'm' ? 0
					 : space_served_bytes(v[i].lo, v[i].hi);
		uint64_t skb = kb * served / (v[i].hi - v[i].lo);
		uint64_t rest = kb - skb;

		if (v[i].kind == 'x') /* the shim's own: the model's memmap */
			continue;
		c->anon_kb += kb;
		c->served_kb += skb;
		if (v[i].kind == 'h')
			c->heap_kb += rest;
		else if (v[i].kind == 's')
			c->stack_kb += rest;
		else if (v[i].kind == 'm')
			c->shared_kb += rest;
		else if (!served && v[i].thp_kb)
			c->thp_kb += rest;
		else
			c->other_kb += rest;
	}
	space_unlock();
	free(v);
}

/* The "preload" object of the JSON report (docs/json-schema.md). */
static json_t *json_preload(void)
{
	const struct shim_stats *st = &shim.st;
	uint64_t freed = freed_pages(), passed = 0;
	FILE *cf = fopen("/proc/self/comm", "re");
	json_t *o, *by_reason = json_object(), *faults = json_object(),
		   *frees = json_object();
	struct field fields[8];
	struct coverage cov;
	char comm[32] = "";
	int i, nf;

	if (cf) {
		if (fgets(comm, sizeof(comm), cf))
			comm[strcspn(comm, "\n")] = '\0';
		fclose(cf);
	}
	for (i = 0; i < NR_PASS; i++) {
		passed += st->passed[i];
		json_object_set_new(by_reason, pass_names[i],
				    json_integer((json_int_t)st->passed[i]));
	}
	nf = fault_fields(fields);
	for (i = 0; i < nf; i++)
		json_object_set_new(faults, fields[i].name,
				    json_integer((json_int_t)fields[i].value));
	for (i = 0; i < NR_FREE_CALLS; i++)
		json_object_set_new(frees, free_names[i],
				    json_pack("{s:I, s:I}", "calls",
					      (json_int_t)st->free_calls[i],
					      "pages",
					      (json_int_t)st->free_pages[i]));
	read_coverage(&cov);
	o = json_pack("{s:i, s:s, s:s, s:s, s:b, s:s, s:i, s:b, s:i}", "pid",
		      (int)getpid(), "process", comm, "mode",
		      shim.mode == SHIM_FAULT ? "fault" : "eager", "why_eager",
		      shim.why_eager, "thp", shim.thp, "cpu_mode",
		      shim.sched_cpus ? "sched" : "thread", "cpus",
		      shim.nr_cpus, "uffd_lost", shim.uffd_lost, "forked_from",
		      (int)shim.parent);
	json_object_set_new(
		o, "coverage",
		json_pack("{s:I, s:I, s:f, s:{s:I, s:I, s:I, s:I, s:I}}",
			  "anon_kb", (json_int_t)cov.anon_kb, "served_kb",
			  (json_int_t)cov.served_kb, "served_share",
			  cov.anon_kb
				  ? (double)cov.served_kb / (double)cov.anon_kb
				  : 0.0,
			  "unserved_kb", "brk_heap", (json_int_t)cov.heap_kb,
			  "stacks", (json_int_t)cov.stack_kb, "thp",
			  (json_int_t)cov.thp_kb, "shared",
			  (json_int_t)cov.shared_kb, "other",
			  (json_int_t)cov.other_kb));
	json_object_set_new(o, "calls",
			    json_pack("{s:I, s:I, s:I, s:I, s:I}", "mmap",
				      (json_int_t)st->calls_mmap, "munmap",
				      (json_int_t)st->calls_munmap, "mremap",
				      (json_int_t)st->calls_mremap, "madvise",
				      (json_int_t)st->calls_madvise, "mprotect",
				      (json_int_t)st->calls_mprotect));
	json_object_set_new(
		o, "mappings",
		json_pack("{s:I, s:I, s:I, s:I, s:o}", "served",
			  (json_int_t)st->served, "served_bytes",
			  (json_int_t)st->served_bytes, "reservations_opened",
			  (json_int_t)st->reservations_opened, "passed",
			  (json_int_t)passed, "passed_by_reason", by_reason));
	json_object_set_new(o, "faults", faults);
	json_object_set_new(o, "eager_pages",
			    json_integer((json_int_t)st->eager_pages));
	json_object_set_new(o, "eager_rolled_back_pages",
			    json_integer((json_int_t)st->eager_rolled_back));
	json_object_set_new(o, "inherited_pages",
			    json_integer((json_int_t)shim.inherited_pages));
	json_object_set_new(o, "frees", frees);
	json_object_set_new(o, "frees_remote_pages",
			    json_integer((json_int_t)st->frees_remote));
	json_object_set_new(
		o, "cross_thread_free_fraction",
		json_real(freed ? (double)st->frees_remote / (double)freed
				: 0.0));
	json_object_set_new(o, "mremap_moved_pages",
			    json_integer((json_int_t)st->mremap_moved_pages));
	json_object_set_new(o, "threads_seen", json_integer(threads_seen()));
	json_object_set_new(o, "exited_threads",
			    json_pack("{s:I, s:I, s:I, s:I}", "slots_recycled",
				      (json_int_t)st->slots_recycled, "allocs",
				      (json_int_t)st->exited_allocs, "frees",
				      (json_int_t)st->exited_frees,
				      "frees_remote",
				      (json_int_t)st->exited_frees_remote));
	json_object_set_new(o, "top_threads_by_allocs", json_threads(false));
	json_object_set_new(o, "top_threads_by_frees", json_threads(true));
	return o;
}

static void text_preload(FILE *f)
{
	const struct shim_stats *st = &shim.st;
	uint64_t freed = freed_pages();
	int top[TOP_THREADS], n, i, by, nf;
	struct field fields[8];
	struct coverage cov;

	fprintf(f, "preload: mode %s%s%s%s, cpu_mode %s, %d CPUs\n",
		shim.mode == SHIM_FAULT ? "fault" : "eager",
		shim.why_eager[0] ? " (" : "", shim.why_eager,
		shim.why_eager[0] ? ")" : "",
		shim.sched_cpus ? "sched" : "thread", shim.nr_cpus);
	if (shim.uffd_lost)
		fprintf(f,
			"  the program closed the shim's userfaultfd past its hooks (a raw system call): faults unserved from then on\n");
	read_coverage(&cov);
	fprintf(f,
		"  coverage: %.1f%% of the process's anonymous memory served (%llu of %llu KiB); not served: brk heap %llu (glibc malloc: preload jemalloc to serve it), stacks %llu, huge pages %llu (PCPBUDDY_THP=1), shared %llu, other %llu KiB\n",
		cov.anon_kb
			? 100.0 * (double)cov.served_kb / (double)cov.anon_kb
			: 0.0,
		(unsigned long long)cov.served_kb,
		(unsigned long long)cov.anon_kb,
		(unsigned long long)cov.heap_kb,
		(unsigned long long)cov.stack_kb,
		(unsigned long long)cov.thp_kb,
		(unsigned long long)cov.shared_kb,
		(unsigned long long)cov.other_kb);
	fprintf(f,
		"  mappings: served %llu (%llu bytes, %llu opened reservations); passed through:",
		(unsigned long long)st->served,
		(unsigned long long)st->served_bytes,
		(unsigned long long)st->reservations_opened);
	for (i = 0; i < NR_PASS; i++)
		fprintf(f, " %s %llu", pass_names[i],
			(unsigned long long)st->passed[i]);
	fprintf(f, "\n ");
	nf = fault_fields(fields);
	for (i = 0; i < nf; i++)
		fprintf(f, " %s %llu", fields[i].name,
			(unsigned long long)fields[i].value);
	fprintf(f, "; eager pages %llu", (unsigned long long)st->eager_pages);
	if (st->eager_rolled_back)
		fprintf(f,
			" (and %llu allocated for mappings that did not fit, given back at once)",
			(unsigned long long)st->eager_rolled_back);
	fprintf(f, "\n  frees (calls/pages):");
	for (i = 0; i < NR_FREE_CALLS; i++)
		fprintf(f, " %s %llu/%llu", free_names[i],
			(unsigned long long)st->free_calls[i],
			(unsigned long long)st->free_pages[i]);
	fprintf(f, "\n  cross-thread frees: %.4f (%llu of %llu pages)\n",
		freed ? (double)st->frees_remote / (double)freed : 0.0,
		(unsigned long long)st->frees_remote,
		(unsigned long long)freed);
	for (by = 0; by < 2; by++) {
		n = top_threads(top, TOP_THREADS, by);
		fprintf(f,
			"  top threads by %s (tid name vcpu allocs frees remote):\n",
			by ? "frees" : "allocations");
		for (i = 0; i < n; i++) {
			struct shim_thread *t = &shim.threads[top[i]];

			fprintf(f, "    %d %s %d %llu %llu %llu\n", (int)t->tid,
				t->name, t->vcpu, (unsigned long long)t->allocs,
				(unsigned long long)t->frees,
				(unsigned long long)t->frees_remote);
		}
	}
}

/* The preload section as CSV key,value lines, the keys of its JSON. */
static void csv_preload(FILE *f)
{
	const struct shim_stats *st = &shim.st;
	static const char *const calls[] = { "mmap", "munmap", "mremap",
					     "madvise", "mprotect" };
	const uint64_t call_n[] = { st->calls_mmap, st->calls_munmap,
				    st->calls_mremap, st->calls_madvise,
				    st->calls_mprotect };
	uint64_t freed = freed_pages();
	struct field fields[8];
	int top[TOP_THREADS], i, n, by;

	fprintf(f,
		"preload.mode,%s\npreload.thp,%s\npreload.cpu_mode,%s\npreload.cpus,%d\n",
		shim.mode == SHIM_FAULT ? "fault" : "eager",
		shim.thp ? "true" : "false",
		shim.sched_cpus ? "sched" : "thread", shim.nr_cpus);
	for (i = 0; i < 5; i++)
		fprintf(f, "preload.calls.%s,%llu\n", calls[i],
			(unsigned long long)call_n[i]);
	fprintf(f,
		"preload.mappings.served,%llu\npreload.mappings.served_bytes,%llu\npreload.mappings.reservations_opened,%llu\n",
		(unsigned long long)st->served,
		(unsigned long long)st->served_bytes,
		(unsigned long long)st->reservations_opened);
	for (i = 0; i < NR_PASS; i++)
		fprintf(f, "preload.mappings.passed_by_reason.%s,%llu\n",
			pass_names[i], (unsigned long long)st->passed[i]);
	n = fault_fields(fields);
	for (i = 0; i < n; i++)
		fprintf(f, "preload.faults.%s,%llu\n", fields[i].name,
			(unsigned long long)fields[i].value);
	fprintf(f,
		"preload.eager_pages,%llu\npreload.eager_rolled_back_pages,%llu\n",
		(unsigned long long)st->eager_pages,
		(unsigned long long)st->eager_rolled_back);
	for (i = 0; i < NR_FREE_CALLS; i++)
		fprintf(f,
			"preload.frees.%s.calls,%llu\npreload.frees.%s.pages,%llu\n",
			free_names[i], (unsigned long long)st->free_calls[i],
			free_names[i], (unsigned long long)st->free_pages[i]);
	fprintf(f,
		"preload.frees_remote_pages,%llu\npreload.cross_thread_free_fraction,%.4f\npreload.mremap_moved_pages,%llu\npreload.threads_seen,%d\n",
		(unsigned long long)st->frees_remote,
		freed ? (double)st->frees_remote / (double)freed : 0.0,
		(unsigned long long)st->mremap_moved_pages, threads_seen());
	for (by = 0; by < 2; by++) {
		const char *key =
			by ? "top_threads_by_frees" : "top_threads_by_allocs";

		n = top_threads(top, TOP_THREADS, by);
		for (i = 0; i < n; i++) {
			struct shim_thread *t = &shim.threads[top[i]];

			fprintf(f,
				"preload.%s.%d.tid,%d\npreload.%s.%d.name,%s\npreload.%s.%d.allocs,%llu\npreload.%s.%d.frees,%llu\npreload.%s.%d.frees_remote,%llu\n",
				key, i, (int)t->tid, key, i, t->name, key, i,
				(unsigned long long)t->allocs, key, i,
				(unsigned long long)t->frees, key, i,
				(unsigned long long)t->frees_remote);
		}
	}
}

/*
 * PCPBUDDY_REPORT with each %p replaced by the pid: one report per process.
 * A fork child's path without %p gets ".PID" before its extension, so that
 * it does not overwrite its parent's.
 */
static void report_path(char *out, size_t len)
{
	const char *s = shim.report_path, *dot = strrchr(s, '.');
	size_t n = 0;

	if (shim.parent && !strstr(s, "%p")) {
		if (!dot || strchr(dot, '/'))
			dot = s + strlen(s);
		snprintf(out, len, "%.*s.%d%s", (int)(dot - s), s,
			 (int)getpid(), dot);
		return;
	}

	for (; *s && n + 12 < len; s++) {
		if (s[0] == '%' && s[1] == 'p') {
			n += (size_t)snprintf(out + n, len - n, "%d",
					      (int)getpid());
			s++;
		} else {
			out[n++] = *s;
		}
	}
	out[n] = '\0';
}

void shim_report(void)
{
	char path[600], tmp[640];
	size_t len, blen = 0;
	char *buf = NULL;
	FILE *out, *mem;
	bool json, csv, ok;
	json_t *root;

	/* A process that never called a hook (a wrapper such as timeout(1)
	 * or a shell, which LD_PRELOAD reaches too) would only overwrite the
	 * real program's report with an empty one. */
	if (!shim.st.calls_mmap && !shim.st.calls_munmap &&
	    !shim.st.calls_madvise && !shim.st.calls_mremap)
		return;
	report_path(path, sizeof(path));
	len = strlen(path);
	json = len > 5 && !strcmp(path + len - 5, ".json");
	csv = len > 4 && !strcmp(path + len - 4, ".csv");
	if (!len)
		return;
	/* Whole or not at all: a reader (pcpbuddy exec) never sees half. */
	snprintf(tmp, sizeof(tmp), "%s.%d.tmp", path, (int)getpid());
	out = fopen(tmp, "w");
	if (!out) {
		perror("libpcpbuddy-preload: PCPBUDDY_REPORT");
		return;
	}
	if (!json) {
		pcpb_report(shim.inst, out, csv ? PCPB_FMT_CSV : PCPB_FMT_TEXT);
		if (csv)
			csv_preload(out);
		else
			text_preload(out);
		if (!fclose(out))
			rename(tmp, path);
		return;
	}
	/* The instance's report with our object added, through jansson. */
	mem = open_memstream(&buf, &blen);
	if (mem) {
		pcpb_report(shim.inst, mem, PCPB_FMT_JSON);
		fclose(mem);
	}
	root = buf ? json_loads(buf, 0, NULL) : NULL;
	free(buf);
	if (!root)
		root = json_object();
	json_object_set_new(root, "preload", json_preload());
	ok = !json_dumpf(root, out, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	fputc('\n', out);
	json_decref(root);
	if (!fclose(out) && ok)
		rename(tmp, path);
	else
		unlink(tmp);
}
