// SPDX-License-Identifier: GPL-2.0-only OR MIT
/*
 * registry.c - the workload drivers the CLI knows, by name.
 * Invariants: NULL-terminated.  Locking: immutable.
 */
#include <stddef.h>

#include "workloads.h"

const struct workload wl_registry[] = {
	{ "mixed",
	  "random orders and types, bounded working sets, cross-thread frees",
	  wl_mixed_main },
	{ "purge",
	  "jemalloc purge: faulters allocate, purger threads free on their CPUs",
	  wl_purge_main },
	{ NULL, NULL, NULL },
};
