// SPDX-License-Identifier: GPL-2.0-only OR MIT
/*
 * capture.c - 'pcpbuddy capture': the kernel's kmem page events while a
 * command runs, with the state a replay starts from, as one pcpbuddy trace
 * (version 2, docs/trace-format.md "Metadata").
 *
 * Through libtracefs: a tracefs instance of its own (the global buffer is
 * left alone), the five kmem events, a per-CPU buffer size, and the
 * per-CPU ring-buffer stats read at the end.  Order of work: tracing on,
 * then buddyinfo and pagetypeinfo read, then /proc/zoneinfo into memory
 * touched beforehand (no page allocation of ours during the read), then a
 * trace_marker line (TRACE_START_MARKER): the import drops what came
 * before it, since the snapshot holds its effect.  Events between a CPU's
 * line of zoneinfo and the marker are in neither; the window is the end
 * of one read (docs/fidelity.md).
 *
 * The allocator is global, so every CPU's events are recorded, not only
 * the command's.  A ring-buffer overrun fails the capture with the counts
 * unless --allow-loss, and then the trace records the loss.
 *
 * Invariants: the instance is removed on every path.  Locking: single
 * threaded; the command runs in a child.
 */
#include <errno.h>
#include <getopt.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <tracefs/tracefs.h>
#include <unistd.h>
#include <zlib.h>

#include "../trace/trace.h"
#include "commands.h"

static const char capture_usage[] =
	"usage: pcpbuddy capture [-o TRACE] [--buffer-kb N] [--zone NAME]\n"
	"                        [--allow-loss] [--keep-text FILE]\n"
	"                        (-- COMMAND [ARGS...] | --pid P | --cgroup DIR)\n"
	"                        [--seconds S]\n"
	"\n"
	"Records the kernel's kmem page events (mm_page_alloc, mm_page_free,\n"
	"mm_page_free_batched, mm_page_alloc_zone_locked, mm_page_pcpu_drain,\n"
	"mm_page_alloc_extfrag)\n"
	"on every CPU while COMMAND runs, in a tracefs instance of its own, with\n"
	"the start state a replay needs: /proc/zoneinfo (watermarks, managed\n"
	"pages, each CPU's pageset count/high/batch), buddyinfo and pagetypeinfo\n"
	"read right after tracing starts and again at the end, the kernel\n"
	"release, its command line and the vm sysctls.  Writes one pcpbuddy\n"
	"trace (version 2) that 'pcpbuddy fidelity' and 'pcpbuddy replay' start\n"
	"from.  The allocator is global: the whole system's events are kept;\n"
	"those of the workload (COMMAND, process P or the tasks of cgroup DIR,\n"
	"and every task they fork) are marked, and 'trace info' gives their\n"
	"share.  Needs root and tracefs.\n"
	"  --pid P           capture while process P lives (or --seconds, or ^C)\n"
	"  --cgroup DIR      the tasks in DIR/cgroup.procs; for --seconds or ^C\n"
	"  --seconds S       stop after S seconds (--pid, --cgroup; default 10)\n"
	"  -o TRACE          output (default kmem.trace)\n"
	"  --buffer-kb N     ring buffer per CPU in KiB (default 65536)\n"
	"  --zone NAME       the zone kept for the replay (default Normal, else\n"
	"                    the largest)\n"
	"  --allow-loss      keep a capture whose ring buffer overran (the trace\n"
	"                    records the loss; every later command warns)\n"
	"  --keep-text FILE  also keep the raw tracefs text\n"
	"Exit: 0 ok, 1 capture failed (events lost, tracefs, I/O), 2 bad\n"
	"arguments.  The command's own exit status is reported, not returned.\n";

static const char *const kmem_events[] = {
	"mm_page_alloc",	"mm_page_free",
	"mm_page_free_batched", "mm_page_alloc_zone_locked",
	"mm_page_pcpu_drain",	NULL
};

static volatile sig_atomic_t interrupted;

static void on_sigint(int sig)
{
	(void)sig;
	interrupted = 1;
}

/* The pids in @dir/cgroup.procs, space-separated into @pids. */
static int cgroup_pids(const char *dir, char *pids, size_t len)
{
	char path[4096], *text, *p, *save = NULL;
	size_t used = 0;

	snprintf(path, sizeof(path), "%s/cgroup.procs", dir);
	text = trace_read_text(path, NULL);
	if (!text)
		return -errno;
	for (p = strtok_r(text, "\n", &save); p && used + 24 < len;
	     p = strtok_r(NULL, "\n", &save))
		used += (size_t)snprintf(pids + used, len - used, "%s%s",
					 used ? " " : "", p);
	free(text);
	return 0;
}

struct snapshot {
	char *zoneinfo, *buddyinfo, *pagetypeinfo;
};

/*
 * /proc/zoneinfo into memory already touched, so that reading it makes no
 * page allocation of ours: the per-CPU counts it prints are then what the
 * trace starts from, up to the events of the read itself.
 */
static char *read_zoneinfo(void)
{
	size_t cap = 4U << 20, len = 0;
	char *buf = malloc(cap);
	int fd = open("/proc/zoneinfo", O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (!buf || fd < 0) {
		free(buf);
		if (fd >= 0)
			close(fd);
		return NULL;
	}
	memset(buf, 0, cap);
	while (len < cap - 1 && (n = read(fd, buf + len, cap - 1 - len)) > 0)
		len += (size_t)n;
	close(fd);
	buf[len] = '\0';
	return buf;
}

/* zoneinfo last, right before the caller's marker: the window between
 * its per-CPU counts and the marker is the end of one read. */
static void snapshot_take(struct snapshot *s)
{
	s->buddyinfo = trace_read_text("/proc/buddyinfo", NULL);
	s->pagetypeinfo = trace_read_text("/proc/pagetypeinfo", NULL);
	s->zoneinfo = read_zoneinfo();
}

static void snapshot_free(struct snapshot *s)
{
	free(s->zoneinfo);
	free(s->buddyinfo);
	free(s->pagetypeinfo);
}

/* The ring buffer's losses over every CPU: overrun and dropped events. */
static void buffer_losses(struct tracefs_instance *ti, unsigned long long *lost,
			  unsigned long long *entries)
{
	long cpu, ncpu = sysconf(_SC_NPROCESSORS_CONF);

	*lost = *entries = 0;
	for (cpu = 0; cpu < ncpu; cpu++) {
		char file[64], *text, *p;

		snprintf(file, sizeof(file), "per_cpu/cpu%ld/stats", cpu);
		text = tracefs_instance_file_read(ti, file, NULL);
		if (!text)
			continue;
		if ((p = strstr(text, "overrun:")))
			*lost += strtoull(p + 8, NULL, 10);
		if ((p = strstr(text, "dropped events:")))
			*lost += strtoull(p + 15, NULL, 10);
		if ((p = strstr(text, "\nentries:")) ||
		    (p = strstr(text, "entries:")))
			*entries += strtoull(strchr(p, ':') + 1, NULL, 10);
		free(text);
	}
}

/* Copies the instance's trace text to @path.  Return: 0 or -errno. */
static int save_text(struct tracefs_instance *ti, const char *path)
{
	char *src = tracefs_instance_get_file(ti, "trace"), buf[1 << 16];
	FILE *in = src ? fopen(src, "r") : NULL, *out = fopen(path, "w");
	size_t n;
	int rc = 0;

	while (in && out && (n = fread(buf, 1, sizeof(buf), in)) > 0)
		if (fwrite(buf, 1, n, out) != n)
			rc = -EIO;
	if (!in || !out)
		rc = -errno ? -errno : -EIO;
	if (in)
		fclose(in);
	if (out && fclose(out))
		rc = -EIO;
	tracefs_put_tracing_file(src);
	return rc;
}

static void meta_sysctl(struct trace *t, const char *name, const char *path)
{
	char *v = trace_read_text(path, NULL);

	if (v) {
		v[strcspn(v, "\n")] = '\0';
		trace_meta_add(t, "%s: %s\n", name, v);
	}
	free(v);
}

/* CONFIG_HZ from /proc/config.gz: the replay's vmstat ticks skew by it. */
static void meta_kernel_hz(struct trace *t)
{
	gzFile gz = gzopen("/proc/config.gz", "r");
	char line[256];

	while (gz && gzgets(gz, line, sizeof(line)))
		if (!strncmp(line, "CONFIG_HZ=", 10)) {
			trace_meta_add(t, "kernel_hz: %ld\n",
				       strtol(line + 10, NULL, 10));
			break;
		}
	if (gz)
		gzclose(gz);
}

static const struct option capture_options[] = {
	{ "help", no_argument, NULL, 'h' },
	{ "output", required_argument, NULL, 'o' },
	{ "zone", required_argument, NULL, 'z' },
	{ "keep-text", required_argument, NULL, 'k' },
	{ "buffer-kb", required_argument, NULL, 'b' },
	{ "allow-loss", no_argument, NULL, 'a' },
	{ "pid", required_argument, NULL, 'p' },
	{ "cgroup", required_argument, NULL, 'c' },
	{ "seconds", required_argument, NULL, 's' },
	{ NULL, 0, NULL, 0 },
};

int cmd_capture_main(int argc, char **argv)
{
	struct wl_args args;
	const char *v;
	int opt;
	const char *out = "kmem.trace", *zone = NULL, *keep_text = NULL,
		   *cgroup = NULL;
	long watch_pid = 0;
	double seconds = 0;
	char pids[4096] = "";
	unsigned long buffer_kb = 65536;
	bool allow_loss = false;
	struct tracefs_instance *ti = NULL;
	struct snapshot before = { 0 }, after = { 0 };
	struct trace_import_stats st = { 0 };
	struct trace_import_opts io = { 0 };
	unsigned long long lost = 0, entries = 0;
	char name[64], *trace_file = NULL;
	struct utsname uts;
	struct trace t = { 0 };
	int i, status = 0, rc = 1, cmd = 0;
	pid_t child;

	wl_args_init(&args, "pcpbuddy capture", argc, argv,
		     "ho:", capture_options);
	while ((opt = wl_args_next(&args, &v)) != -1) {
		char *end;

		switch (opt) {
		case 'h':
			fputs(capture_usage, stdout);
			return 0;
		case 'o':
			out = v;
			break;
		case 'z':
			zone = v;
			break;
		case 'k':
			keep_text = v;
			break;
		case 'b':
			buffer_kb = strtoul(v, &end, 10);
			if (end == v || *end || buffer_kb < 64 ||
			    buffer_kb > (1UL << 22))
				return wl_usage_error(
					"pcpbuddy capture",
					"--buffer-kb: '%s' is not in 64..4194304",
					v);
			break;
		case 'a':
			allow_loss = true;
			break;
		case 'p':
			watch_pid = strtol(v, &end, 10);
			if (end == v || *end || watch_pid < 1 ||
			    (kill((pid_t)watch_pid, 0) && errno == ESRCH))
				return wl_usage_error("pcpbuddy capture",
						      "--pid: no process '%s'",
						      v);
			break;
		case 'c':
			cgroup = v;
			break;
		case 's':
			seconds = strtod(v, &end);
			if (end == v || *end ||
			    !(seconds > 0 && seconds <= 86400))
				return wl_usage_error(
					"pcpbuddy capture",
					"--seconds: '%s' is not in (0, 86400]",
					v);
			break;
		case 1:
			return wl_usage_error(
				"pcpbuddy capture",
				"unknown argument '%s' (the command goes after --)",
				v);
		default:
			return 2;
		}
	}
	/* getopt_long() stopped at "--": the command follows it */
	if (args.optind > 1 && args.optind <= argc &&
	    !strcmp(argv[args.optind - 1], "--"))
		cmd = args.optind;
	if ((cmd && cmd < argc) + !!watch_pid + !!cgroup != 1)
		return wl_usage_error(
			"pcpbuddy capture",
			"needs one of -- COMMAND [ARGS...], --pid P, --cgroup DIR");
	if (cmd >= argc)
		cmd = 0;
	if (cgroup && cgroup_pids(cgroup, pids, sizeof(pids)))
		return wl_usage_error("pcpbuddy capture",
				      "--cgroup: cannot read %s/cgroup.procs",
				      cgroup);
	if (!cmd && !seconds)
		seconds = 10;
	if (geteuid())
		return wl_usage_error(
			"pcpbuddy capture",
			"needs root (it creates a tracefs instance)");
	if (!tracefs_tracing_dir()) {
		fprintf(stderr,
			"pcpbuddy capture: tracefs is not mounted (mount -t tracefs nodev /sys/kernel/tracing)\n");
		return 1;
	}
	snprintf(name, sizeof(name), "pcpbuddy-%d", (int)getpid());
	ti = tracefs_instance_create(name);
	if (!ti) {
		fprintf(stderr,
			"pcpbuddy capture: cannot create tracefs instance %s: %s\n",
			name, strerror(errno));
		return 1;
	}
	if (tracefs_instance_set_buffer_size(ti, buffer_kb, -1) < 0)
		fprintf(stderr,
			"pcpbuddy capture: buffer_size_kb %lu refused; using %zd\n",
			buffer_kb, tracefs_instance_get_buffer_size(ti, 0));
	for (i = 0; kmem_events[i]; i++)
		if (tracefs_event_enable(ti, "kmem", kmem_events[i])) {
			fprintf(stderr,
				"pcpbuddy capture: cannot enable kmem:%s\n",
				kmem_events[i]);
			goto out;
		}
	/* which tasks the workload forks, to mark theirs too */
	if (tracefs_event_enable(ti, "sched", "sched_process_fork"))
		fprintf(stderr,
			"pcpbuddy capture: no sched:sched_process_fork: only the workload's first task is marked\n");
	tracefs_print_init(ti);
	if (cmd)
		fprintf(stderr,
			"pcpbuddy capture: tracing kmem page events on every CPU (the allocator is global) while '%s' runs\n",
			argv[cmd]);
	else
		fprintf(stderr,
			"pcpbuddy capture: tracing kmem page events on every CPU (the allocator is global) for %g s, ^C to stop sooner\n",
			seconds);
	signal(SIGINT, on_sigint);
	tracefs_trace_on(ti);
	snapshot_take(&before);
	tracefs_printf(ti, "%s\n", TRACE_START_MARKER);
	fflush(NULL);
	if (cmd) {
		child = fork();
		if (child == 0) {
			signal(SIGINT, SIG_DFL);
			execvp(argv[cmd], argv + cmd);
			fprintf(stderr, "pcpbuddy capture: %s: %s\n", argv[cmd],
				strerror(errno));
			_exit(127);
		}
		while (child > 0 && waitpid(child, &status, 0) < 0 &&
		       errno == EINTR)
			;
		if (child < 0) {
			tracefs_trace_off(ti);
			fprintf(stderr, "pcpbuddy capture: cannot run %s: %s\n",
				argv[cmd], strerror(errno));
			goto out;
		}
		snprintf(pids, sizeof(pids), "%d", (int)child);
	} else {
		double end = wl_now() + seconds;

		if (watch_pid)
			snprintf(pids, sizeof(pids), "%ld", watch_pid);
		while (!interrupted && wl_now() < end &&
		       !(watch_pid && kill((pid_t)watch_pid, 0) &&
			 errno == ESRCH))
			usleep(50000);
	}
	signal(SIGINT, SIG_DFL);
	tracefs_trace_off(ti);
	snapshot_take(&after);
	buffer_losses(ti, &lost, &entries);
	if (lost && !allow_loss) {
		fprintf(stderr,
			"pcpbuddy capture: the ring buffer lost %llu events (%llu kept): the trace would undercount; raise --buffer-kb (now %lu per CPU) or pass --allow-loss\n",
			lost, entries, buffer_kb);
		goto out;
	}
	if (keep_text && save_text(ti, keep_text)) {
		fprintf(stderr, "pcpbuddy capture: %s: cannot write\n",
			keep_text);
		goto out;
	}
	/* The import reads the instance's buffer itself (or the kept copy);
	 * the start state is the snapshot in memory. */
	trace_file = keep_text ? NULL : tracefs_instance_get_file(ti, "trace");
	io.zoneinfo_text = before.zoneinfo;
	io.zone = zone;
	io.workload_pids = pids;
	if (!keep_text && !trace_file) {
		fprintf(stderr, "pcpbuddy capture: no trace file in %s\n",
			name);
		goto out;
	}
	if (trace_import_ftrace("pcpbuddy capture",
				keep_text ? keep_text : trace_file, &io, &t,
				&st))
		goto out;
	/* The capture's keys go before what the import wrote (its zone and
	 * zoneinfo.before), then the other snapshots. */
	{
		struct trace keys = { 0 };
		int k;

		uname(&uts);
		trace_meta_add(&keys, "pcpbuddy_capture: 1\n");
		trace_meta_add(&keys, "kernel_release: %s\n", uts.release);
		trace_meta_add(&keys, "kernel_version: %s\n", uts.version);
		trace_meta_add(&keys, "machine: %s\n", uts.machine);
		meta_sysctl(&keys, "cmdline", "/proc/cmdline");
		meta_sysctl(&keys, "vm.min_free_kbytes",
			    "/proc/sys/vm/min_free_kbytes");
		meta_sysctl(&keys, "vm.watermark_scale_factor",
			    "/proc/sys/vm/watermark_scale_factor");
		meta_sysctl(&keys, "vm.watermark_boost_factor",
			    "/proc/sys/vm/watermark_boost_factor");
		meta_sysctl(&keys, "vm.percpu_pagelist_high_fraction",
			    "/proc/sys/vm/percpu_pagelist_high_fraction");
		meta_sysctl(&keys, "vm.stat_interval",
			    "/proc/sys/vm/stat_interval");
		meta_kernel_hz(&keys);
		meta_sysctl(&keys, "thp.enabled",
			    "/sys/kernel/mm/transparent_hugepage/enabled");
		if (cmd) {
			trace_meta_add(&keys, "command:");
			for (k = cmd; k < argc; k++)
				trace_meta_add(&keys, " %s", argv[k]);
			trace_meta_add(&keys, "\ncommand_status: %d\n",
				       WIFEXITED(status)
					       ? WEXITSTATUS(status)
					       : 128 + WTERMSIG(status));
		} else {
			trace_meta_add(&keys, "workload: %s %s\n",
				       watch_pid ? "pid" : "cgroup",
				       watch_pid ? pids : cgroup);
		}
		trace_meta_add(&keys, "workload_pids: %s\n", pids);
		trace_meta_add(&keys, "workload_events: %llu\n",
			       (unsigned long long)st.workload);
		trace_meta_add(&keys, "buffer_kb: %lu\n", buffer_kb);
		trace_meta_add(&keys, "ring_buffer_entries: %llu\n", entries);
		trace_meta_add(&keys, "lost_events: %llu\n", lost);
		trace_meta_add(&keys, "events_before_start: %llu\n",
			       (unsigned long long)st.before_start);
		if (!keys.meta || trace_meta_insert_keys(&t, keys.meta) ||
		    trace_meta_add_section(&t, "zoneinfo.after",
					   after.zoneinfo) ||
		    trace_meta_add_section(&t, "buddyinfo.before",
					   before.buddyinfo) ||
		    trace_meta_add_section(&t, "buddyinfo.after",
					   after.buddyinfo) ||
		    trace_meta_add_section(&t, "pagetypeinfo.before",
					   before.pagetypeinfo) ||
		    trace_meta_add_section(&t, "pagetypeinfo.after",
					   after.pagetypeinfo)) {
			trace_free(&keys);
			fprintf(stderr, "pcpbuddy capture: out of memory\n");
			goto out;
		}
		trace_free(&keys);
	}
	if (cmd)
		snprintf(t.h.source, sizeof(t.h.source), "capture:%.23s",
			 strrchr(argv[cmd], '/') ? strrchr(argv[cmd], '/') + 1
						 : argv[cmd]);
	else
		snprintf(t.h.source, sizeof(t.h.source), "capture:%s %.16s",
			 watch_pid ? "pid" : "cgroup",
			 watch_pid ? pids : cgroup);
	if (trace_write(out, &t)) {
		fprintf(stderr, "pcpbuddy capture: %s: cannot write\n", out);
		goto out;
	}
	fprintf(stderr,
		"pcpbuddy capture: %s: %zu events on %u CPUs (%llu allocs, %llu frees, %llu refill and %llu drain markers; %llu of the workload's tasks), %llu events of other zones dropped, %llu lost\n",
		out, t.n, t.h.nr_cpus, (unsigned long long)st.allocs,
		(unsigned long long)st.frees,
		(unsigned long long)st.refill_marks,
		(unsigned long long)st.drain_marks,
		(unsigned long long)st.workload,
		(unsigned long long)st.other_zone, lost);
	if (cmd)
		fprintf(stderr, "pcpbuddy capture: '%s' exited %d\n", argv[cmd],
			WIFEXITED(status) ? WEXITSTATUS(status) : -1);
	rc = 0;
out:
	if (ti) {
		tracefs_trace_off(ti);
		/* The trace_marker descriptor keeps the instance busy. */
		tracefs_print_close(ti);
		if (tracefs_instance_destroy(ti)) {
			fprintf(stderr,
				"pcpbuddy capture: cannot remove tracefs instance %s (%s): its ring buffers stay allocated; rmdir it\n",
				name, strerror(errno));
			rc = 1;
		}
		tracefs_instance_free(ti);
	}
	tracefs_put_tracing_file(trace_file);
	snapshot_free(&before);
	snapshot_free(&after);
	trace_free(&t);
	return rc;
}
