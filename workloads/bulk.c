// SPDX-License-Identifier: GPL-2.0-only OR MIT
/*
 * bulk.c - the callers of alloc_pages_bulk() under both contracts (the bulk
 * thread of docs/references.md), each loop in its real
 * shape:
 *   sunrpc   svc_alloc_arg(): rq_pages keeps the previous request's pages in
 *            some slots; fill_null loops on the counting return, output
 *            first defragments the array (the pass Chuck Lever asked about);
 *   btrfs    btrfs_alloc_page_array(): loop until no progress; output
 *            defragments first;
 *   xfs      xfs_buf_alloc_pages(): loop, progress or retry;
 *   erofs    z_erofs_gbuf_growsize(): a pre-filled prefix, loop to full;
 *   pp       __page_pool_alloc_pages_slow(): fill_null memsets the cache
 *            slots to empty and makes one call; output skips the memset.
 * Every loop ends with its pages, or with its documented failure.
 *
 * Invariants: each caller frees what it allocated before the next round.
 * Locking: one thread; the allocator locks itself.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "workloads.h"

enum caller {
	CALLER_SUNRPC,
	CALLER_BTRFS,
	CALLER_XFS,
	CALLER_EROFS,
	CALLER_PAGE_POOL,
	NR_CALLERS
};
static const char *const caller_names[] = { "sunrpc", "btrfs", "xfs", "erofs",
					    "page_pool" };
static const unsigned long caller_pages[] = {
	[CALLER_SUNRPC] = 259,	 /* a 1 MiB RPC plus head and tail */
	[CALLER_BTRFS] = 16,	 /* a 64 KiB extent buffer */
	[CALLER_XFS] = 16,	 /* a 64 KiB buffer */
	[CALLER_EROFS] = 64,	 /* grow a 32-page global buffer to 64 */
	[CALLER_PAGE_POOL] = 64, /* PP_ALLOC_CACHE_REFILL */
};

struct bulk_cell {
	uint64_t rounds, pages, calls, singles, failures;
	double ns;
};

struct bulk_params {
	bool memcg;
	int rounds_scale;
};

/* One bulk call, counted (fallbacks are counted by the allocator). */
static long call(struct pcpb *inst, unsigned int flags, unsigned long nr,
		 long *arr, enum pcpb_bulk_contract c, struct bulk_cell *cell,
		 long before)
{
	(void)before;
	cell->calls++;
	return pcpb_alloc_pages_bulk(inst, PCPB_MT_UNMOVABLE, flags, nr, arr,
				     c);
}

/* Calls that took the PCP path hold pcp->lock at site bulk once. */
static uint64_t bulk_holds(struct pcpb *inst)
{
	struct pcpb_stats st;

	pcpb_stats_read(inst, &st);
	return st.pcp_lock.sites[PCPB_SITE_bulk].acquisitions;
}

/* Move the occupied slots to the front; Return: how many there are. */
static unsigned long defragment(long *arr, unsigned long nr)
{
	unsigned long i, j = 0;

	for (i = 0; i < nr; i++)
		if (arr[i] != PCPB_NO_PAGE) {
			long v = arr[i];

			arr[i] = PCPB_NO_PAGE;
			arr[j++] = v;
		}
	return j;
}

/* fill_null callers: loop on the counting return until full or stuck. */
static bool fill_counting(struct pcpb *inst, unsigned int flags,
			  unsigned long nr, long *arr, struct bulk_cell *cell,
			  long before)
{
	for (;;) {
		long ret = call(inst, flags, nr, arr, PCPB_BULK_FILL_NULL, cell,
				before);

		if (ret == (long)nr)
			return true;
		if (ret <= before)
			return false;
		before = ret;
	}
}

/* output callers: advance by each call's own return. */
static bool fill_sequential(struct pcpb *inst, unsigned int flags,
			    unsigned long nr, long *arr, struct bulk_cell *cell,
			    unsigned long done)
{
	while (done < nr) {
		long ret = call(inst, flags, nr - done, arr + done,
				PCPB_BULK_OUTPUT, cell, 0);

		if (ret <= 0)
			return false;
		done += (unsigned long)ret;
	}
	return true;
}

/* Fill @arr to @nr pages in @caller's loop shape.  Return: false on the
 * caller's failure (no progress). */
static bool fill(struct pcpb *inst, enum caller who, long *arr,
		 unsigned long nr, enum pcpb_bulk_contract c,
		 unsigned int flags, struct bulk_cell *cell)
{
	unsigned long done, i;
	long ret;

	switch (who) {
	case CALLER_SUNRPC:
	case CALLER_BTRFS:
	case CALLER_XFS:
	case CALLER_EROFS:
		/* erofs arrives with a copied prefix, the others do not. */
		done = who == CALLER_EROFS ? nr / 2 : 0;
		if (c == PCPB_BULK_FILL_NULL)
			return fill_counting(inst, flags, nr, arr, cell,
					     (long)done);
		/* Pure output: sunrpc and btrfs compact their array first. */
		if (who == CALLER_SUNRPC || who == CALLER_BTRFS)
			done = defragment(arr, nr);
		return fill_sequential(inst, flags, nr, arr, cell, done);
	case CALLER_PAGE_POOL:
	default:
		/* One call; 0 pages is a failure.  fill_null zeroes first. */
		if (c == PCPB_BULK_FILL_NULL)
			for (i = 0; i < nr; i++)
				arr[i] = PCPB_NO_PAGE;
		ret = call(inst, flags, nr, arr, c, cell, 0);
		for (i = (unsigned long)(ret > 0 ? ret : 0); i < nr; i++)
			arr[i] = PCPB_NO_PAGE;
		return ret > 0;
	}
}

static void release(struct pcpb *inst, long *arr, unsigned long nr,
		    unsigned long keep_every)
{
	unsigned long i;

	for (i = 0; i < nr; i++)
		if (arr[i] != PCPB_NO_PAGE && (!keep_every || i % keep_every)) {
			pcpb_free_pages(inst, (unsigned long)arr[i], 0);
			arr[i] = PCPB_NO_PAGE;
		}
}

static void run_cell(struct pcpb *inst, enum caller who,
		     enum pcpb_bulk_contract c, unsigned int flags,
		     uint64_t rounds, struct bulk_cell *cell)
{
	unsigned long nr = caller_pages[who], i;
	long *arr = malloc(nr * sizeof(long));
	uint64_t r, holds = bulk_holds(inst);

	if (!arr)
		return;
	for (i = 0; i < nr; i++)
		arr[i] = PCPB_NO_PAGE;
	for (r = 0; r < rounds; r++) {
		unsigned long held = 0, now = 0;
		double t0;

		if (who == CALLER_EROFS)
			for (i = 0; i < nr / 2; i++)
				arr[i] = pcpb_alloc_pages(inst, 0,
							  PCPB_MT_UNMOVABLE, 0);
		for (i = 0; i < nr; i++)
			held += arr[i] != PCPB_NO_PAGE;
		t0 = wl_now(); /* the caller's loop only, not the set-up */
		if (!fill(inst, who, arr, nr, c, flags, cell))
			cell->failures++;
		cell->ns += (wl_now() - t0) * 1e9;
		for (i = 0; i < nr; i++)
			now += arr[i] != PCPB_NO_PAGE;
		cell->pages += now - held;
		cell->rounds++;
		/* sunrpc keeps every third page for the next request. */
		release(inst, arr, nr,
			who == CALLER_SUNRPC && r + 1 < rounds ? 3 : 0);
	}
	cell->singles = cell->calls - (bulk_holds(inst) - holds);
	release(inst, arr, nr, 0);
	free(arr);
}

struct bulk_table {
	struct bulk_cell cell[NR_CALLERS][2];
};

static int bulk_run(struct pcpb *inst, const struct wl_opts *o, void *priv,
		    struct wl_result *res)
{
	(void)priv; /* --memcg reached the config in bulk_adjust() */
	struct bulk_table *t = calloc(1, sizeof(*t));
	uint64_t rounds = o->ops ? o->ops : 20000, pages = 0;
	/* Accounted allocations matter only when memcg accounting is on
	 * (memcg=on, or --memcg). */
	bool memcg = pcpb_get_config(inst)->memcg;
	unsigned int flags = memcg ? PCPB_GFP_ACCOUNT : 0;
	char *out;
	size_t len = 4096, n;
	double start = wl_now();
	int w, c;

	if (!t || !(out = malloc(len))) {
		free(t);
		return -ENOMEM;
	}
	pcpb_set_thread_cpu(0);
	for (w = 0; w < NR_CALLERS; w++)
		for (c = 0; c < 2; c++) {
			run_cell(inst, (enum caller)w,
				 (enum pcpb_bulk_contract)c, flags, rounds,
				 &t->cell[w][c]);
			pages += t->cell[w][c].pages;
		}
	n = (size_t)snprintf(out, len, "%-10s %-10s %10s %12s %12s %10s %9s\n",
			     "caller", "contract", "ns/page", "calls/fill",
			     "single %", "failures", "pages");
	/* One pass: each cell's ratios, into the text table and its row. */
	res->rows = json_array();
	for (w = 0; w < NR_CALLERS; w++)
		for (c = 0; c < 2; c++) {
			struct bulk_cell *x = &t->cell[w][c];
			const char *contract = c ? "output" : "fill_null";
			double ns_per_page = x->pages ? x->ns / (double)x->pages
						      : 0.0,
			       calls_per_fill =
				       x->rounds ? (double)x->calls /
							   (double)x->rounds
						 : 0.0,
			       single_pct =
				       x->calls ? 100.0 * (double)x->singles /
							  (double)x->calls
						: 0.0;

			n += (size_t)snprintf(
				out + n, len - n,
				"%-10s %-10s %10.2f %12.2f %12.1f %10llu %9llu\n",
				caller_names[w], contract, ns_per_page,
				calls_per_fill, single_pct,
				(unsigned long long)x->failures,
				(unsigned long long)x->pages);
			if (res->rows)
				json_array_append_new(
					res->rows,
					json_pack(
						"{s:s, s:s, s:f, s:f, s:f, s:I, s:I, s:I}",
						"caller", caller_names[w],
						"contract", contract,
						"ns_per_page", ns_per_page,
						"calls_per_fill",
						calls_per_fill, "single_pct",
						single_pct, "failures",
						(json_int_t)x->failures,
						"pages", (json_int_t)x->pages,
						"calls", (json_int_t)x->calls));
		}
	res->ops = pages;
	res->pages = pages;
	res->seconds = wl_now() - start;
	res->table = out;
	snprintf(
		res->line, sizeof(res->line),
		"bulk: 5 callers x 2 contracts x %llu rounds%s: %llu pages in %.2f s",
		(unsigned long long)rounds,
		memcg ? " (memcg, __GFP_ACCOUNT)" : "",
		(unsigned long long)pages, res->seconds);
	free(t);
	return 0;
}

static int bulk_nr_cpus(const struct wl_opts *o, const void *priv)
{
	(void)o;
	(void)priv;
	return 1;
}

static const char bulk_usage[] =
	"usage: pcpbuddy run bulk [--ops ROUNDS] [--memcg] [--config k=v,...]\n"
	"                         [--json|--csv]\n"
	"\n"
	"alloc_pages_bulk()'s five caller loops, each under the fill_null\n"
	"contract (today's) and the output contract (Lin's v2): sunrpc (259\n"
	"pages, keeps a third for the next request; output defragments first),\n"
	"btrfs (16; output defragments), xfs (16), erofs (64 with a 32-page\n"
	"prefix), page_pool (64; fill_null memsets the slots first).  Prints\n"
	"ns per page, bulk calls per fill, the share of calls that fell back to\n"
	"a single page, and failures, as a caller x contract table.\n"
	"\n"
	"  --ops ROUNDS   fills per caller and contract (default 20000)\n"
	"  --memcg        memcg kmem accounting on, every call __GFP_ACCOUNT:\n"
	"                 the bulk path degrades to one page per call\n"
	"Exit: 0 ok, 1 invariant check failed, 2 bad arguments.\n";

static void bulk_adjust(struct wl_opts *o, const void *priv)
{
	const struct bulk_params *p = priv;

	if (p->memcg)
		o->cfg.memcg = true;
}

static const struct wl_option bulk_options[] = {
	WL_OPT(WL_OPT_FLAG, "memcg", bulk_params, memcg, .cli_only = true,
	       .short_name = "--memcg",
	       .help = "--config memcg=on: accounted calls go page by page"),
	{ 0 }
};

const struct workload wl_bulk = {
	.name = "bulk",
	.summary =
		"alloc_pages_bulk callers (sunrpc, btrfs, xfs, erofs, page_pool) x both contracts",
	.usage = bulk_usage,
	.priv_size = sizeof(struct bulk_params),
	.options = bulk_options,
	.nr_cpus = bulk_nr_cpus,
	.adjust = bulk_adjust,
	.run = bulk_run,
};
