// SPDX-License-Identifier: GPL-2.0-only OR MIT
/*
 * debug.c - the VM_BUG_ON and VM_WARN_ON_ONCE report paths, and the
 * verifiers' failure report.  They never allocate: they format into a stack
 * buffer and write(2) it (a bug then aborts), because they may run inside
 * the LD_PRELOAD shim with a libc lock held.
 *
 * Invariants: none.  Locking: none.
 */
#include "compat.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

/* One line to stderr, formatted on the stack; a failed write is ignored. */
static void report_line(const char *what, const char *cond, const char *file,
			int line, const char *func)
{
	char buf[512];
	int n;

	n = snprintf(buf, sizeof(buf), "pcpbuddy: %s at %s:%d %s(): %s\n", what,
		     file, line, func, cond);
	if (n > 0 && write(2, buf, (size_t)min(n, (int)sizeof(buf) - 1)) < 0)
		return;
}

void pcpb_bug(const char *cond, const char *file, int line, const char *func)
{
	report_line("BUG", cond, file, line, func);
	abort();
}

void pcpb_warn(const char *cond, const char *file, int line, const char *func)
{
	report_line("WARNING", cond, file, line, func);
}

int verify_fail(char *msg, size_t len, const char *fmt, ...)
{
	va_list ap;

	if (msg && len) {
		va_start(ap, fmt);
		vsnprintf(msg, len, fmt, ap);
		va_end(ap);
	}
	return -EUCLEAN;
}
