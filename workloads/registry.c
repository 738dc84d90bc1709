// SPDX-License-Identifier: GPL-2.0-only OR MIT
/*
 * registry.c - the workload drivers the CLI, compare and sweep know.
 * Invariants: NULL-terminated.  Locking: immutable.
 */
#include <stddef.h>
#include <string.h>

#include "workloads.h"

const struct workload *const wl_registry[] = {
	&wl_mixed, &wl_purge,  &wl_fragment, &wl_exit, &wl_bulk,
	&wl_pipe,  &wl_replay, &wl_sim,	     NULL,
};

const struct workload *wl_find(const char *name)
{
	int i;

	for (i = 0; wl_registry[i]; i++)
		if (!strcmp(wl_registry[i]->name, name))
			return wl_registry[i];
	return NULL;
}
