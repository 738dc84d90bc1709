// SPDX-License-Identifier: GPL-2.0-only OR MIT
/*
 * bench_alloc.c - allocator microbenchmarks through the public API only.
 * Each pattern runs on several configurations in the same process, the
 * pcp=off boot pageset being the naive baseline.  Names follow
 * BM_<pattern>/<params>/<config>[/lockstat_off].
 *
 * Invariants: every benchmark frees what it allocated; each instance is
 * checked with pcpb_check() before it is destroyed.
 * Locking: single-threaded benchmarks act as CPU 0.
 */
#include <stdio.h>
#include <stdlib.h>

#include "../include/pcpbuddy.h"
#include "cbench.h"

struct variant {
	const char *name, *config;
};

static const struct variant variants[] = {
	{ "classic", "policy=classic" },
	{ "pcp_off", "pcp=off" },
	{ "classic/lockstat_off", "policy=classic,lockstat=off" },
};

struct repeat_arg {
	unsigned int order;
	const struct variant *v;
};

static struct pcpb *make(const char *kv)
{
	struct pcpb_config cfg;
	struct pcpb *inst;
	char err[256];

	pcpb_config_init(&cfg);
	cfg.memory_bytes = 4ULL << 30;
	cfg.nr_cpus = 2;
	cfg.cpu_mode = PCPB_CPU_EXPLICIT;
	cfg.vmstat_ms = 0;
	if (pcpb_config_parse(&cfg, kv, err, sizeof(err)) ||
	    pcpb_create(&cfg, &inst)) {
		fprintf(stderr, "bench: bad config '%s': %s\n", kv, err);
		exit(1);
	}
	return inst;
}

static void finish(struct pcpb *inst)
{
	struct pcpb_check_result res;

	if (pcpb_check(inst, &res) || res.pages_allocated) {
		fprintf(stderr, "bench: check failed: %s\n", res.msg);
		exit(1);
	}
	pcpb_destroy(inst);
}

/* Steady state: allocate and free one block on the same CPU. */
static void bm_repeat(cbench_state *st, void *user)
{
	const struct repeat_arg *a = user;
	struct pcpb *inst = make(a->v->config);
	long pfn;

	pfn = pcpb_alloc_pages_cpu(inst, 0, a->order, PCPB_MT_MOVABLE, 0);
	pcpb_free_pages_cpu(inst, 0, (unsigned long)pfn, a->order);
	while (cbench_keep_running(st)) {
		pfn = pcpb_alloc_pages_cpu(inst, 0, a->order, PCPB_MT_MOVABLE,
					   0);
		cbench_do_not_optimize(pfn);
		pcpb_free_pages_cpu(inst, 0, (unsigned long)pfn, a->order);
	}
	cbench_set_ns_per_item(st, "ns_per_pair",
			       (double)cbench_iterations(st));
	finish(inst);
}

int main(int argc, char **argv)
{
	static struct repeat_arg args[2 * 3];
	static char names[2 * 3][96];
	static const unsigned int orders[] = { 0, 9 };
	int i, k, n = 0;

	for (i = 0; i < 2; i++)
		for (k = 0; k < 3; k++, n++) {
			args[n] =
				(struct repeat_arg){ orders[i], &variants[k] };
			snprintf(names[n], sizeof(names[n]),
				 "BM_repeat/order:%u/%s", orders[i],
				 variants[k].name);
			cbench_register(names[n], bm_repeat, &args[n]);
		}
	return cbench_main(argc, argv);
}
