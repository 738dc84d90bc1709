// SPDX-License-Identifier: GPL-2.0-only OR MIT
/*
 * hooks.c - libpcpbuddy-preload.so's interposition of mmap, mmap64,
 * munmap, mremap, madvise and mprotect (which opens PROT_NONE
 * reservations), its configuration and its lifecycle.
 *
 *   LD_PRELOAD=/abs/libpcpbuddy-preload.so PCPBUDDY_REPORT=out.json ./prog
 *
 * Environment, read once by the constructor (a bad value prints one line
 * and leaves the program untouched, every call passed through):
 *   PCPBUDDY_CONFIG  the CLI's k=v,... (cpu_mode=thread|sched, cpus=, ...)
 *   PCPBUDDY_MEM     the modelled memory (default 4G)
 *   PCPBUDDY_MODE    fault (default where userfaultfd works) or eager
 *   PCPBUDDY_THP     1: a fault in a 2 MiB-aligned extent takes order 9
 *   PCPBUDDY_REPORT  where the report goes at exit: *.json JSON, *.csv CSV
 *   PCPBUDDY_TRACE   record a pcpbuddy trace of the run, for replay
 *
 * Robustness (docs/design.md, "The LD_PRELOAD backend"): the real
 * functions are resolved lazily with dlsym(RTLD_NEXT), a raw syscall
 * standing in while they are unresolved or while this thread is inside
 * dlsym; a per-thread initial-exec TLS flag passes nested calls and the
 * shim's own through untouched (S3); errno is the real call's; calls made
 * before the constructor pass through.  A fork child carries on with its
 * copy of the instance, serving eagerly, and writes a report of its own
 * (%p in PCPBUDDY_REPORT, or the pid added to the name): daemons that fork
 * and setsid are served; exec starts a process clean.  A vfork child
 * passes everything through.
 *
 * Invariants: S1-S3 of shim.h.  Locking: see shim.h; the hooks take
 * space_lock around the real call only when the range is served.
 */
#include <dlfcn.h>
#include <errno.h>
#include <linux/close_range.h>
#include <linux/userfaultfd.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "../trace/trace.h"
#include "shim.h"

#define SHIM_API __attribute__((visibility("default")))

struct shim shim = { .uffd = -1 };

static __thread int in_shim __attribute__((tls_model("initial-exec")));
static __thread int in_dlsym __attribute__((tls_model("initial-exec")));

static void *(*p_mmap)(void *, size_t, int, int, int, off_t);
static int (*p_close)(int);
static int (*p_dup2)(int, int);
static int (*p_dup3)(int, int, int);
static int (*p_ioctl)(int, unsigned long, ...);
static int (*p_munmap)(void *, size_t);
static void *(*p_mremap)(void *, size_t, size_t, int, ...);
static int (*p_madvise)(void *, size_t, int);
static int (*p_mprotect)(void *, size_t, int);

static void *resolve(const char *name)
{
	void *p;

	in_dlsym = 1;
	p = dlsym(RTLD_NEXT, name);
	in_dlsym = 0;
	return p;
}

#define REAL(fn)             \
	(p_##fn	    ? p_##fn \
	 : in_dlsym ? NULL   \
		    : (p_##fn = (__typeof__(p_##fn))resolve(#fn)))

void *real_mmap(void *addr, size_t len, int prot, int flags, int fd, off_t off)
{
	__typeof__(p_mmap) f = REAL(mmap);

	if (f)
		return f(addr, len, prot, flags, fd, off);
	return (void *)syscall(SYS_mmap, addr, len, prot, flags, fd, off);
}

int real_munmap(void *addr, size_t len)
{
	__typeof__(p_munmap) f = REAL(munmap);

	return f ? f(addr, len) : (int)syscall(SYS_munmap, addr, len);
}

void *real_mremap(void *old, size_t old_len, size_t new_len, int flags,
		  void *new_addr)
{
	__typeof__(p_mremap) f = REAL(mremap);

	if (f)
		return f(old, old_len, new_len, flags, new_addr);
	return (void *)syscall(SYS_mremap, old, old_len, new_len, flags,
			       new_addr);
}

int real_madvise(void *addr, size_t len, int advice)
{
	__typeof__(p_madvise) f = REAL(madvise);

	return f ? f(addr, len, advice)
		 : (int)syscall(SYS_madvise, addr, len, advice);
}

int real_mprotect(void *addr, size_t len, int prot)
{
	__typeof__(p_mprotect) f = REAL(mprotect);

	return f ? f(addr, len, prot)
		 : (int)syscall(SYS_mprotect, addr, len, prot);
}

void *raw_alloc(size_t len)
{
	void *p = (void *)syscall(SYS_mmap, NULL, len, PROT_READ | PROT_WRITE,
				  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	return p == MAP_FAILED ? NULL : p;
}

void raw_free(void *p, size_t len)
{
	if (p)
		syscall(SYS_munmap, p, len);
}

void shim_internal_thread(void)
{
	in_shim = 1; /* for good: everything it maps is the shim's (S3) */
}

static bool shim_active(void)
{
	return __atomic_load_n(&shim.ready, __ATOMIC_ACQUIRE) && !shim.disabled;
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

/*
 * The vmstat timer without a thread of its own (a hidden thread would
 * outlive fork and show in the program): the first hook after each period
 * runs the tick.
 */
static void maybe_tick(void)
{
	uint64_t due = __atomic_load_n(&shim.next_tick_ns, __ATOMIC_RELAXED);
	uint64_t now;

	if (!shim.vmstat_ms)
		return;
	now = now_ns();
	if (now < due ||
	    !__atomic_compare_exchange_n(
		    &shim.next_tick_ns, &due, now + shim.vmstat_ms * 1000000ULL,
		    false, __ATOMIC_RELAXED, __ATOMIC_RELAXED))
		return;
	/* Instance locks only under space_lock (space.c): a tick whose
	 * stack faults must not hold a lock the fault handler needs. */
	space_lock();
	pcpb_vmstat_tick(shim.inst);
	space_unlock();
}

static void count_pass(enum shim_pass why)
{
	shim_add(&shim.st.passed[why], 1);
}

static void *hook_mmap(void *addr, size_t len, int prot, int flags, int fd,
		       off_t off)
{
	bool fixed = flags & MAP_FIXED;
	int saved;
	void *p;

	if (in_shim || !shim_active()) {
		if (!in_shim && !shim.disabled)
			count_pass(PASS_NOT_READY);
		else if (in_shim && shim.ready)
			count_pass(PASS_NESTED);
		return real_mmap(addr, len, prot, flags, fd, off);
	}
	in_shim = 1;
	shim_add(&shim.st.calls_mmap, 1);
	shim_self_slot(); /* names the thread while it is alive */
	if (fixed && space_lock_if_served(addr, len)) {
		/* The kernel replaces the served pages: their frames go. */
		p = real_mmap(addr, len, prot, flags, fd, off);
		saved = errno;
		if (p != MAP_FAILED)
			space_unmapped(p, len, FREE_FIXED);
		space_unlock();
	} else {
		p = real_mmap(addr, len, prot, flags, fd, off);
		saved = errno;
		if (p != MAP_FAILED && fixed) {
			count_pass(PASS_FIXED);
			goto out;
		}
	}
	if (p != MAP_FAILED)
		space_mapped(p, len, prot, flags);
out:
	maybe_tick();
	in_shim = 0;
	errno = saved;
	return p;
}

SHIM_API void *mmap(void *addr, size_t len, int prot, int flags, int fd,
		    off_t off)
{
	return hook_mmap(addr, len, prot, flags, fd, off);
}

/* Python (and anything built with _FILE_OFFSET_BITS=64) calls mmap64. */
SHIM_API void *mmap64(void *addr, size_t len, int prot, int flags, int fd,
		      off_t off)
{
	return hook_mmap(addr, len, prot, flags, fd, off);
}

SHIM_API int munmap(void *addr, size_t len)
{
	int rc, saved;

	if (in_shim || !shim_active() || !space_lock_if_served(addr, len))
		return real_munmap(addr, len);
	in_shim = 1;
	shim_add(&shim.st.calls_munmap, 1);
	rc = real_munmap(addr, len);
	saved = errno;
	if (!rc)
		space_unmapped(addr, len, FREE_MUNMAP);
	space_unlock();
	maybe_tick();
	in_shim = 0;
	errno = saved;
	return rc;
}

SHIM_API int madvise(void *addr, size_t len, int advice)
{
	enum shim_free_call why;
	int rc, saved, real_advice = advice;

	switch (advice) {
	case MADV_DONTNEED:
		why = FREE_DONTNEED;
		break;
	case MADV_FREE:
		/*
		 * One of the outcomes MADV_FREE allows is DONTNEED's (the
		 * kernel reclaimed the pages before the next write); it is
		 * the one whose next touch faults, so the reuse is seen.
		 */
		why = FREE_FREE;
		if (shim.mode == SHIM_FAULT)
			real_advice = MADV_DONTNEED;
		break;
	case MADV_REMOVE:
		why = FREE_REMOVE;
		break;
	default:
		return real_madvise(addr, len, advice);
	}
	if (in_shim || !shim_active() || !space_lock_if_served(addr, len))
		return real_madvise(addr, len, advice);
	in_shim = 1;
	shim_add(&shim.st.calls_madvise, 1);
	rc = real_madvise(addr, len, real_advice);
	saved = errno;
	if (!rc)
		space_purged(addr, len, why);
	space_unlock();
	maybe_tick();
	in_shim = 0;
	errno = saved;
	return rc;
}

SHIM_API void *mremap(void *old, size_t old_len, size_t new_len, int flags, ...)
{
	void *new_addr = NULL, *p;
	int saved;

	if (flags & MREMAP_FIXED) {
		va_list ap;

		va_start(ap, flags);
		new_addr = va_arg(ap, void *);
		va_end(ap);
	}
	/* Under the lock, or an mmap elsewhere could take the old
	 * addresses in the table before the frames leave them. */
	if (in_shim || !shim_active() || !old_len ||
	    !space_lock_if_served(old, old_len))
		return real_mremap(old, old_len, new_len, flags, new_addr);
	in_shim = 1;
	shim_add(&shim.st.calls_mremap, 1);
	p = real_mremap(old, old_len, new_len, flags, new_addr);
	saved = errno;
	if (p != MAP_FAILED)
		space_remapped(old, old_len, p, new_len);
	space_unlock();
	in_shim = 0;
	errno = saved;
	return p;
}

/* A PROT_NONE reservation becomes served when it becomes accessible. */
SHIM_API int mprotect(void *addr, size_t len, int prot)
{
	int rc, saved;

	if (in_shim || !shim_active() || prot == PROT_NONE ||
	    !space_lock_if_served(addr, len))
		return real_mprotect(addr, len, prot);
	in_shim = 1;
	shim_add(&shim.st.calls_mprotect, 1);
	rc = real_mprotect(addr, len, prot);
	saved = errno;
	if (!rc)
		space_opened(addr, len);
	space_unlock();
	in_shim = 0;
	errno = saved;
	return rc;
}

/* ---- the userfaultfd is not the program's to close ------------------------ */

/*
 * The program never opened the shim's descriptor, so to it the number is
 * not open: close() says EBADF, closefrom() and close_range() close
 * everything else, and a dup2()/dup3() onto it moves the shim's elsewhere
 * first.  (A raw system call gets past these; space.c then stops.)
 */
SHIM_API int close(int fd)
{
	__typeof__(p_close) f;

	if (space_is_uffd(fd)) {
		errno = EBADF;
		return -1;
	}
	f = REAL(close);
	return f ? f(fd) : (int)syscall(SYS_close, fd);
}

/* close_range() around the shim's descriptor, in up to two calls. */
static int close_range_around(unsigned int first, unsigned int last, int flags)
{
	int u = __atomic_load_n(&shim.uffd, __ATOMIC_ACQUIRE), rc = 0;

	if (u < 0 || (unsigned int)u < first || (unsigned int)u > last)
		return (int)syscall(SYS_close_range, first, last, flags);
	if ((unsigned int)u > first)
		rc = (int)syscall(SYS_close_range, first, (unsigned int)u - 1,
				  flags);
	if (!rc && (unsigned int)u < last)
		rc = (int)syscall(SYS_close_range, (unsigned int)u + 1, last,
				  flags & ~CLOSE_RANGE_UNSHARE);
	return rc;
}

SHIM_API int close_range(unsigned int first, unsigned int last, int flags)
{
	return close_range_around(first, last, flags);
}

SHIM_API void closefrom(int lowfd)
{
	int saved = errno;

	if (lowfd < 0)
		lowfd = 0;
	if (close_range_around((unsigned int)lowfd, ~0U, 0) &&
	    errno == ENOSYS) {
		/* Before Linux 5.9: one by one, to the soft limit. */
		long max = sysconf(_SC_OPEN_MAX);
		int fd;

		for (fd = lowfd; fd < max; fd++)
			if (!space_is_uffd(fd))
				syscall(SYS_close, fd);
	}
	errno = saved;
}

/* dup2()/dup3() onto the shim's descriptor: move it first.  Return: 0,
 * or -1 with errno set (the program's call fails then). */
static int dup_target_free(int oldfd, int newfd)
{
	int rc = 0;

	if (space_is_uffd(newfd) && oldfd != newfd)
		rc = space_uffd_move_away(newfd);
	if (rc)
		errno = -rc;
	return rc ? -1 : 0;
}

SHIM_API int dup2(int oldfd, int newfd)
{
	__typeof__(p_dup2) f = REAL(dup2);

	if (dup_target_free(oldfd, newfd))
		return -1;
	return f ? f(oldfd, newfd) : (int)syscall(SYS_dup2, oldfd, newfd);
}

SHIM_API int dup3(int oldfd, int newfd, int flags)
{
	__typeof__(p_dup3) f = REAL(dup3);

	if (dup_target_free(oldfd, newfd))
		return -1;
	return f ? f(oldfd, newfd, flags)
		 : (int)syscall(SYS_dup3, oldfd, newfd, flags);
}

/* ---- a program with a userfaultfd of its own ------------------------------- */

/*
 * A range can be registered with one userfaultfd only: when the program
 * registers one the shim serves (with its own userfaultfd: CRIU, QEMU,
 * garbage collectors), the shim steps aside for that range first, and the
 * report counts it (frees.yield).
 */
SHIM_API int ioctl(int fd, unsigned long request, ...)
{
	__typeof__(p_ioctl) f;
	va_list ap;
	void *arg;

	va_start(ap, request);
	arg = va_arg(ap, void *);
	va_end(ap);
	if (request == UFFDIO_REGISTER && arg && !in_shim && shim_active() &&
	    !space_is_uffd(fd)) {
		const struct uffdio_register *reg = arg;

		if (space_lock_if_served((void *)(uintptr_t)reg->range.start,
					 (size_t)reg->range.len)) {
			in_shim = 1;
			space_yielded((void *)(uintptr_t)reg->range.start,
				      (size_t)reg->range.len);
			space_unlock();
			in_shim = 0;
		}
	}
	f = REAL(ioctl);
	return f ? f(fd, request, arg)
		 : (int)syscall(SYS_ioctl, fd, request, arg);
}

/* ---- configuration and lifecycle ----------------------------------------- */

__attribute__((format(printf, 1, 2))) static void shim_refuse(const char *fmt,
							      ...)
{
	va_list ap;

	fprintf(stderr, "libpcpbuddy-preload: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "; running the program untouched\n");
	shim.disabled = true;
}

/* The process whose report this is: a fork or vfork child is not it. */
static pid_t shim_pid;
/* The forking thread took space_lock, so that the child's copy of the
 * table and of the instance is between operations. */
static bool fork_locked;

static void before_fork(void)
{
	if (__atomic_load_n(&shim.ready, __ATOMIC_ACQUIRE) && !shim.disabled &&
	    getpid() == shim_pid && !in_shim) {
		space_lock();
		fork_locked = true;
	}
}

static void after_fork_parent(void)
{
	if (fork_locked) {
		fork_locked = false;
		space_unlock();
	}
}

/*
 * The child: its served ranges lost their userfaultfd registration (no
 * EVENT_FORK), so what it faults from now on is the kernel's; what it maps
 * from now on is served eagerly from its copy of the instance, and its own
 * report counts only what it did.  The trace stays the parent's.
 */
static void after_fork_child(void)
{
	if (!fork_locked) {
		shim.disabled = true;
		space_after_fork_child();
		return;
	}
	fork_locked = false;
	shim.parent = shim_pid;
	shim_pid = getpid();
	if (shim.recorder) {
		pcpb_set_event_hook(shim.inst, NULL, NULL);
		shim.recorder = NULL; /* the parent's, abandoned here */
	}
	space_follow_fork_child();
	pcpb_stats_reset(shim.inst);
	space_unlock();
}

static int shim_configure(struct pcpb_config *cfg)
{
	const char *mode = getenv("PCPBUDDY_MODE"),
		   *thp = getenv("PCPBUDDY_THP");
	const char *mem = getenv("PCPBUDDY_MEM"),
		   *kv = getenv("PCPBUDDY_CONFIG");
	const char *report = getenv("PCPBUDDY_REPORT");
	const char *trace = getenv("PCPBUDDY_TRACE");
	char err[256], memkv[64];

	pcpb_config_init(cfg);
	cfg->nr_cpus = 16;
	shim.mode = SHIM_FAULT;
	if (mode && !strcmp(mode, "eager")) {
		shim.mode = SHIM_EAGER;
		snprintf(shim.why_eager, sizeof(shim.why_eager),
			 "PCPBUDDY_MODE=eager");
	} else if (mode && strcmp(mode, "fault")) {
		shim_refuse("PCPBUDDY_MODE='%s' is not fault or eager", mode);
		return -EINVAL;
	}
	if (thp && strcmp(thp, "0") && strcmp(thp, "1")) {
		shim_refuse("PCPBUDDY_THP='%s' is not 0 or 1", thp);
		return -EINVAL;
	}
	shim.thp = thp && !strcmp(thp, "1");
	snprintf(memkv, sizeof(memkv), "memory=%s", mem ? mem : "4G");
	snprintf(err, sizeof(err), "too long");
	if (strlen(mem ? mem : "") > 32 ||
	    pcpb_config_parse(cfg, memkv, err, sizeof(err))) {
		/* the parser's words, with the range it takes */
		shim_refuse("PCPBUDDY_MEM='%s': %s", mem,
			    strncmp(err, "config: ", 8) ? err : err + 8);
		return -EINVAL;
	}
	if (kv && pcpb_config_parse(cfg, kv, err, sizeof(err))) {
		shim_refuse("PCPBUDDY_CONFIG: %s", err);
		return -EINVAL;
	}
	if ((report && strlen(report) >= sizeof(shim.report_path)) ||
	    (trace && strlen(trace) >= sizeof(shim.trace_path))) {
		shim_refuse("PCPBUDDY_REPORT or PCPBUDDY_TRACE is too long");
		return -EINVAL;
	}
	strcpy(shim.report_path, report ? report : "");
	strcpy(shim.trace_path, trace ? trace : "");
	/* Faults arrive on the handler thread: the shim names the CPU. */
	shim.sched_cpus = cfg->cpu_mode == PCPB_CPU_SCHED;
	cfg->cpu_mode = PCPB_CPU_EXPLICIT;
	shim.vmstat_ms = cfg->vmstat_ms;
	cfg->vmstat_ms = 0;
	return 0;
}

static void catch_terminating_signals(void);

__attribute__((constructor)) static void shim_init(void)
{
	struct pcpb_config cfg;
	int rc;

	in_shim = 1;
	if (shim_configure(&cfg))
		goto out;
	rc = pcpb_create(&cfg, &shim.inst);
	if (rc) {
		fprintf(stderr,
			"libpcpbuddy-preload: cannot create the instance: %s; running the program untouched\n",
			strerror(-rc));
		shim.disabled = true;
		goto out;
	}
	shim.nr_cpus = cfg.nr_cpus;
	if (space_init()) {
		shim.disabled = true;
		goto out;
	}
	if (shim.trace_path[0]) {
		shim.recorder = trace_record_start(shim.inst, shim.trace_path,
						   "preload");
		if (!shim.recorder)
			fprintf(stderr,
				"libpcpbuddy-preload: PCPBUDDY_TRACE=%s: %s; not recording\n",
				shim.trace_path, strerror(errno));
	}
	pthread_atfork(before_fork, after_fork_parent, after_fork_child);
	shim_pid = getpid();
	catch_terminating_signals();
	shim.next_tick_ns = now_ns() + shim.vmstat_ms * 1000000ULL;
	__atomic_store_n(&shim.ready, true, __ATOMIC_RELEASE);
out:
	in_shim = 0;
}

/*
 * The report and the trace, once: at exit (the destructor), at _exit()
 * and _Exit() (hooked: they skip destructors), and on a SIGINT, SIGTERM or
 * SIGHUP the program left at its default (which would kill it silently).
 */
static void shim_finish(void)
{
	if (shim.disabled || getpid() != shim_pid ||
	    !__atomic_exchange_n(&shim.ready, false, __ATOMIC_ACQ_REL))
		return;
	in_shim = 1;
	/* From here every call passes through; the handler keeps serving
	 * faults (other threads may still run) but the report is final. */
	space_lock();
	shim.final = true;
	space_unlock();
	shim_report();
	if (shim.recorder) {
		int rc = trace_record_finish(shim.recorder, shim.inst);

		shim.recorder = NULL;
		if (rc)
			fprintf(stderr,
				"libpcpbuddy-preload: PCPBUDDY_TRACE=%s: %s\n",
				shim.trace_path, strerror(-rc));
	}
	in_shim = 0;
}

__attribute__((destructor)) static void shim_fini(void)
{
	shim_finish();
}

SHIM_API void _exit(int status)
{
	if (!in_shim)
		shim_finish();
	for (;;)
		syscall(SYS_exit_group, status);
}

SHIM_API void _Exit(int status)
{
	_exit(status);
}

/*
 * A terminating signal the program does not handle: write the report,
 * then die of the signal as the program would have.  Not async-signal-
 * safe (the report allocates): if the signal interrupted the program's
 * malloc, the report can deadlock, so an alarm ends the process in 2 s
 * either way.  (space_lock blocks signals, so the shim's own lock is
 * never held under this handler.)
 */
static void on_terminating_signal(int sig)
{
	alarm(2);
	shim_finish();
	signal(sig, SIG_DFL);
	raise(sig);
}

static void catch_terminating_signals(void)
{
	static const int sigs[] = { SIGINT, SIGTERM, SIGHUP };
	unsigned int i;

	for (i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++) {
		struct sigaction old;

		/* The program's own handler (or SIG_IGN) stays: it exits
		 * through exit() or _exit(), which report. */
		if (!sigaction(sigs[i], NULL, &old) &&
		    old.sa_handler == SIG_DFL)
			signal(sigs[i], on_terminating_signal);
	}
}
