// SPDX-License-Identifier: GPL-2.0-only OR MIT
/*
 * preempt.c - the once-per-process check that preempt.h's watch works.
 *
 * A child made with a raw clone (no atfork handlers of a program the
 * preload shim sits in, and no SIGCHLD: it is waited for with __WALL)
 * writes the mark, sleeps a microsecond (a context switch) and reports
 * whether the kernel rewrote the field.  A kernel that forbids the write
 * (CONFIG_DEBUG_RSEQ) kills the child, not us.
 *
 * Invariants: the answer never changes after the first call.
 * Locking: pthread_once.
 */
#include "preempt.h"

#include <errno.h>
#include <pthread.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

__thread struct preempt_watch preempt_watch_state
	__attribute__((tls_model("initial-exec")));

static pthread_once_t probe_once = PTHREAD_ONCE_INIT;
static bool usable;
static const char *reason = "";

static void probe(void)
{
	int status = 0;
	pid_t pid;

	if (rseq_current_cpu() < 0) {
		reason =
			"rseq is not registered (glibc < 2.35, glibc.pthread.rseq=0, or valgrind)";
		return;
	}
	pid = (pid_t)syscall(SYS_clone, 0, NULL, NULL, NULL, NULL);
	if (pid == 0) {
		struct timespec ts = { .tv_nsec = 1000 };
		struct rseq *rs = rseq_area();

		WRITE_ONCE(rs->cpu_id_start, PREEMPT_MARK);
		syscall(SYS_nanosleep, &ts, NULL);
		syscall(SYS_exit_group,
			READ_ONCE(rs->cpu_id_start) != PREEMPT_MARK ? 0 : 1);
	}
	if (pid < 0) {
		reason = "the check's child could not be made";
		return;
	}
	while (waitpid(pid, &status, __WALL) < 0)
		if (errno != EINTR) {
			reason = "the check's child was lost";
			return;
		}
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		usable = true;
	else if (WIFEXITED(status))
		reason =
			"the kernel does not rewrite rseq's cpu_id_start on a switch";
	else
		reason =
			"the kernel checks rseq's read-only fields (CONFIG_DEBUG_RSEQ)";
}

bool preempt_watch_usable(const char **why)
{
	pthread_once(&probe_once, probe);
	if (why)
		*why = usable ? "" : reason;
	return usable;
}
