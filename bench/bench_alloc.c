// SPDX-License-Identifier: GPL-2.0-only OR MIT
/*
 * bench_alloc.c - allocator microbenchmarks through the public API only.
 * Each pattern runs on several configurations in the same process, the
 * pcp=off boot pageset (high 0, batch 1: every operation takes zone->lock)
 * being the naive baseline.  Names: BM_<pattern>/<params>/<config>, with
 * /lockstat_off for the same configuration without lock statistics, and
 * /lockstat_every_hold with every pcp->lock hold timed (the default times
 * about one alloc or free hold in 8).
 *
 *   BM_repeat/order:N     allocate and free one block, steady state
 *   BM_bulk_get, _put     half of a 4 GiB instance page by page, then back
 *   BM_rand_put/threads:2 pages of both CPUs, shuffled, freed by both
 *                         threads on their own CPUs (half the frees remote)
 *   BM_bulk_api/32        pcpb_alloc_pages_bulk() of 32 pages, then free
 *   BM_create/NGiB        instance setup and teardown; memmap bytes per page
 *   BM_floor/lock:K       not the allocator: the pair on a bare list, under
 *                         no lock, the kernel's spinlock, or our futex lock
 *   BM_floor/line_transfer/threads:2
 *                         not the allocator: one cache line passed between
 *                         CPUs 0 and 1, the cost of touching what the other
 *                         thread wrote last
 *   BM_floor/rand_put_bitmap/threads:2
 *                         not the allocator: rand_put's shuffled frees on one
 *                         bit per page, cleared atomically (llfree's lowest
 *                         level), the least metadata a free can touch
 *
 * Invariants: every benchmark frees what it allocated; each instance is
 * checked with pcpb_check() before it is destroyed.
 * Locking: single-threaded benchmarks act as CPU 0; rand_put's threads as
 * CPUs 0 and 1.
 */
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "../include/pcpbuddy.h"
#include "../common/platform.h"
#include "cbench.h"

#define GIB (1ULL << 30)

struct variant {
	const char *name, *config;
};

static const struct variant variants[] = {
	{ "classic", "policy=classic" },
	{ "owner", "policy=owner" },
	{ "pcp_off", "pcp=off" },
	{ "classic/lockstat_off", "policy=classic,lockstat=off" },
	{ "owner/lockstat_off", "policy=owner,lockstat=off" },
};
#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))
#define NR_VARIANTS ARRAY_LEN(variants)

struct bench_arg {
	unsigned int param;
	const struct variant *v;
};

static cpu_set_t all_cpus;

static void pin_to_cpu(int cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	sched_setaffinity(0, sizeof(set), &set);
}

/*
 * A benchmark acting as CPU 0 runs on CPU 0 under pcp_fastpath=rseq,
 * which is fast only there.  Return: NULL (and the benchmark skipped)
 * where rseq or membarrier is missing, as under valgrind.
 */
static struct pcpb *make(cbench_state *st, const char *kv,
			 unsigned long long bytes)
{
	struct pcpb_config cfg;
	struct pcpb *inst;
	char err[256] = "";
	int rc;

	pcpb_config_init(&cfg);
	cfg.memory_bytes = bytes;
	cfg.nr_cpus = 2;
	cfg.cpu_mode = PCPB_CPU_EXPLICIT;
	cfg.vmstat_ms = 0;
	if (pcpb_config_parse(&cfg, kv, err, sizeof(err))) {
		fprintf(stderr, "bench: bad config '%s': %s\n", kv, err);
		exit(1);
	}
	rc = pcpb_create(&cfg, &inst);
	if (rc == -EOPNOTSUPP) {
		cbench_skip_with_error(st,
				       "pcp_fastpath=rseq unsupported here");
		return NULL;
	}
	if (rc) {
		fprintf(stderr, "bench: pcpb_create '%s': %d\n", kv, rc);
		exit(1);
	}
	if (cfg.pcp_fastpath == PCPB_FASTPATH_RSEQ)
		pin_to_cpu(0);
	return inst;
}

static void finish(struct pcpb *inst)
{
	struct pcpb_check_result res;

	if (pcpb_check(inst, &res) || res.pages_allocated) {
		fprintf(stderr, "bench: check failed: %s (allocated %llu)\n",
			res.msg, (unsigned long long)res.pages_allocated);
		exit(1);
	}
	pcpb_destroy(inst);
	sched_setaffinity(0, sizeof(all_cpus), &all_cpus);
}

static double now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

/* The instance's memmap bytes per page, as its report states them. */
static double memmap_bytes_per_page(struct pcpb *inst)
{
	char *buf = NULL, *p;
	size_t len = 0;
	double v = 0;
	FILE *f = open_memstream(&buf, &len);

	if (!f)
		return 0;
	pcpb_report(inst, f, PCPB_FMT_JSON);
	fclose(f);
	p = strstr(buf, "\"memmap_bytes_per_page\": ");
	if (p)
		v = atof(p + strlen("\"memmap_bytes_per_page\": "));
	free(buf);
	return v;
}

/* Steady state: allocate and free one block on the same CPU. */
static void bm_repeat(cbench_state *st, void *user)
{
	const struct bench_arg *a = user;
	struct pcpb *inst = make(st, a->v->config, 4 * GIB);
	long pfn;

	if (!inst)
		return;
	pfn = pcpb_alloc_pages_cpu(inst, 0, a->param, PCPB_MT_MOVABLE, 0);
	pcpb_free_pages_cpu(inst, 0, (unsigned long)pfn, a->param);
	while (cbench_keep_running(st)) {
		pfn = pcpb_alloc_pages_cpu(inst, 0, a->param, PCPB_MT_MOVABLE,
					   0);
		cbench_do_not_optimize(pfn);
		pcpb_free_pages_cpu(inst, 0, (unsigned long)pfn, a->param);
	}
	cbench_set_ns_per_item(st, "ns_per_pair",
			       (double)cbench_iterations(st));
	finish(inst);
}

/* Half of 4 GiB page by page; param 0 times the gets, 1 the puts. */
static void bm_bulk(cbench_state *st, void *user)
{
	const struct bench_arg *a = user;
	struct pcpb *inst = make(st, a->v->config, 4 * GIB);
	unsigned long n, i;
	long *pfn;
	double pages = 0;

	if (!inst)
		return;
	n = pcpb_nr_pages(inst) / 2;
	pfn = malloc(n * sizeof(*pfn));
	if (!pfn)
		exit(1);
	/*
	 * One untimed round first: its page faults on the memmap (16 MiB)
	 * and pfn[] cost milliseconds, which the ten or so timed rounds
	 * would otherwise share, at up to a third of the result.
	 */
	for (i = 0; i < n; i++)
		pfn[i] = pcpb_alloc_pages_cpu(inst, 0, 0, PCPB_MT_MOVABLE, 0);
	for (i = 0; i < n; i++)
		pcpb_free_pages_cpu(inst, 0, (unsigned long)pfn[i], 0);
	while (cbench_keep_running(st)) {
		if (a->param)
			cbench_pause(st);
		for (i = 0; i < n; i++)
			pfn[i] = pcpb_alloc_pages_cpu(inst, 0, 0,
						      PCPB_MT_MOVABLE, 0);
		if (a->param)
			cbench_resume(st);
		else
			cbench_pause(st);
		for (i = 0; i < n; i++)
			pcpb_free_pages_cpu(inst, 0, (unsigned long)pfn[i], 0);
		if (!a->param)
			cbench_resume(st);
		pages += (double)n;
	}
	cbench_set_ns_per_item(st, "ns_per_page", pages);
	free(pfn);
	finish(inst);
}

/* rand_put: shared between its two threads; thread 0 sets up and tears
 * down outside the loop, the start and stop barriers order the rest. */
static struct {
	struct pcpb *inst;
	long *pfn;
	unsigned long n;
} rp;

#define RAND_PUT_PAGES (1UL << 19) /* half of 4 GiB */

/* The rand_put patterns' one fixed shuffle (Fisher-Yates, xorshift64). */
static void shuffle_pfns(long *pfn, unsigned long n)
{
	uint64_t x = 0x9e3779b97f4a7c15ULL;
	unsigned long i;

	for (i = n - 1; i > 0; i--) {
		unsigned long j;
		long t;

		x ^= x << 13, x ^= x >> 7, x ^= x << 17;
		j = (unsigned long)(x % (i + 1));
		t = pfn[i], pfn[i] = pfn[j], pfn[j] = t;
	}
}

static void bm_rand_put(cbench_state *st, void *user)
{
	const struct bench_arg *a = user;
	int me = cbench_thread_index(st);
	unsigned long i, next;
	double t0 = 0;

	if (me == 0) {
		rp.inst = make(st, a->v->config, 4 * GIB);
		rp.n = RAND_PUT_PAGES;
		rp.pfn = malloc(rp.n * sizeof(*rp.pfn));
		if (!rp.pfn)
			exit(1);
		/* Both CPUs allocate, interleaved; then a fixed shuffle. */
		for (i = 0; i < rp.n; i++)
			rp.pfn[i] = pcpb_alloc_pages_cpu(rp.inst, (int)(i & 1),
							 0, PCPB_MT_MOVABLE, 0);
		shuffle_pfns(rp.pfn, rp.n);
	}
	/* Thread 0 runs on CPU 0 from make(); a short-lived runner thread. */
	if (me && strstr(a->v->config, "pcp_fastpath=rseq"))
		pin_to_cpu(me);
	next = (unsigned long)me * (RAND_PUT_PAGES / 2);
	/* The clock starts after the start barrier (thread 0's setup). */
	if (cbench_keep_running(st)) {
		t0 = now_ns();
		do
			pcpb_free_pages_cpu(rp.inst, me,
					    (unsigned long)rp.pfn[next++], 0);
		while (cbench_keep_running(st));
	}
	/* Each thread's wall time per put, averaged over the threads. */
	cbench_set_counter(st, "ns_per_put",
			   (now_ns() - t0) / (double)cbench_iterations(st),
			   CBENCH_AVG_THREADS);
	if (me == 0) {
		finish(rp.inst);
		free(rp.pfn);
	}
}

static void bm_bulk_api(cbench_state *st, void *user)
{
	const struct bench_arg *a = user;
	struct pcpb *inst = make(st, a->v->config, 4 * GIB);
	long pfn[64];
	unsigned int i;

	if (!inst)
		return;
	while (cbench_keep_running(st)) {
		for (i = 0; i < a->param; i++)
			pfn[i] = PCPB_NO_PAGE;
		if (pcpb_alloc_pages_bulk_cpu(
			    inst, 0, PCPB_MT_MOVABLE, 0, a->param, pfn,
			    PCPB_BULK_FILL_NULL) != (long)a->param) {
			cbench_skip_with_error(st, "bulk allocation failed");
			break;
		}
		for (i = 0; i < a->param; i++)
			pcpb_free_pages_cpu(inst, 0, (unsigned long)pfn[i], 0);
	}
	cbench_set_ns_per_item(st, "ns_per_page",
			       (double)cbench_iterations(st) * a->param);
	finish(inst);
}

/*
 * The floor under a locked PCP on this machine: an order-0 pair on a bare
 * per-CPU list, the pop and the push each under its own lock hold, as
 * rmqueue_pcplist() and free_frozen_pages() take pcp->lock.  The lock is
 * none, a test-and-set spinlock (compare-exchange, release store: the
 * kernel's pcp->lock), or the futex mutex's fast path (compare-exchange,
 * exchange: common/lock.h's, which must know whether to wake a sleeper).
 */
enum floor_lock { FLOOR_NONE, FLOOR_SPIN, FLOOR_FUTEX };
static const char *const floor_lock_names[] = { "none", "spin", "futex" };
#define FLOOR_PAGES 1024

struct floor_list {
	int lock;
	uint32_t head;
	uint32_t next[FLOOR_PAGES];
};

static inline __attribute__((always_inline)) void
floor_lock(struct floor_list *l, enum floor_lock kind)
{
	int expected = 0;

	if (kind == FLOOR_NONE)
		return;
	while (!__atomic_compare_exchange_n(&l->lock, &expected, 1, false,
					    __ATOMIC_ACQUIRE, __ATOMIC_RELAXED))
		expected = 0;
}

static inline __attribute__((always_inline)) void
floor_unlock(struct floor_list *l, enum floor_lock kind)
{
	if (kind == FLOOR_SPIN)
		__atomic_store_n(&l->lock, 0, __ATOMIC_RELEASE);
	else if (kind == FLOOR_FUTEX)
		cbench_do_not_optimize(
			__atomic_exchange_n(&l->lock, 0, __ATOMIC_RELEASE));
}

static inline __attribute__((always_inline)) void
floor_loop(cbench_state *st, struct floor_list *l, enum floor_lock kind)
{
	while (cbench_keep_running(st)) {
		uint32_t pfn;

		floor_lock(l, kind);
		pfn = l->head;
		l->head = l->next[pfn];
		floor_unlock(l, kind);
		cbench_do_not_optimize(pfn);
		floor_lock(l, kind);
		l->next[pfn] = l->head;
		l->head = pfn;
		floor_unlock(l, kind);
	}
}

static void bm_floor(cbench_state *st, void *user)
{
	const struct bench_arg *a = user;
	struct floor_list *l = calloc(1, sizeof(*l));
	uint32_t i;

	if (!l)
		exit(1);
	for (i = 0; i < FLOOR_PAGES; i++)
		l->next[i] = (i + 1) % FLOOR_PAGES;
	switch (a->param) {
	case FLOOR_NONE:
		floor_loop(st, l, FLOOR_NONE);
		break;
	case FLOOR_SPIN:
		floor_loop(st, l, FLOOR_SPIN);
		break;
	default:
		floor_loop(st, l, FLOOR_FUTEX);
	}
	cbench_set_ns_per_item(st, "ns_per_pair",
			       (double)cbench_iterations(st));
	free(l);
}

/* The ping-pong flag, alone on its line; the threads take turns. */
static struct {
	int turn __attribute__((aligned(64)));
} pingpong;

static void bm_line_transfer(cbench_state *st, void *user)
{
	int me = cbench_thread_index(st);
	double t0 = 0;

	(void)user;
	pin_to_cpu(me);
	if (me == 0)
		__atomic_store_n(&pingpong.turn, 0, __ATOMIC_RELAXED);
	if (cbench_keep_running(st)) {
		t0 = now_ns();
		/* Each iteration: wait for our turn, pass the line on. */
		do {
			while (__atomic_load_n(&pingpong.turn,
					       __ATOMIC_ACQUIRE) != me)
				cpu_relax();
			__atomic_store_n(&pingpong.turn, !me, __ATOMIC_RELEASE);
		} while (cbench_keep_running(st));
	}
	/* Two transfers per iteration of either thread: there and back. */
	cbench_set_counter(st, "ns_per_transfer",
			   (now_ns() - t0) / (double)cbench_iterations(st) / 2,
			   CBENCH_AVG_THREADS);
	sched_setaffinity(0, sizeof(all_cpus), &all_cpus);
}

/* rand_put_bitmap: one bit per page of 4 GiB; thread 0 sets up. */
static struct {
	uint64_t *bits;
	long *pfn;
} rb;

static void bm_rand_put_bitmap(cbench_state *st, void *user)
{
	int me = cbench_thread_index(st);
	unsigned long i, next, nr_pages = 4 * GIB >> 12;
	double t0 = 0;

	(void)user;
	if (me == 0) {
		/* The pages BM_rand_put allocates: the low half, shuffled
		 * with its generator. */
		rb.bits = calloc(nr_pages / 64, sizeof(*rb.bits));
		rb.pfn = malloc(RAND_PUT_PAGES * sizeof(*rb.pfn));
		if (!rb.bits || !rb.pfn)
			exit(1);
		for (i = 0; i < RAND_PUT_PAGES; i++) {
			rb.pfn[i] = (long)i;
			rb.bits[i / 64] |= 1ULL << (i % 64);
		}
		shuffle_pfns(rb.pfn, RAND_PUT_PAGES);
	}
	next = (unsigned long)me * (RAND_PUT_PAGES / 2);
	if (cbench_keep_running(st)) {
		t0 = now_ns();
		do {
			unsigned long pfn = (unsigned long)rb.pfn[next++];

			__atomic_fetch_and(&rb.bits[pfn / 64],
					   ~(1ULL << (pfn % 64)),
					   __ATOMIC_RELAXED);
		} while (cbench_keep_running(st));
	}
	cbench_set_counter(st, "ns_per_put",
			   (now_ns() - t0) / (double)cbench_iterations(st),
			   CBENCH_AVG_THREADS);
	if (me == 0) {
		for (i = 0; i < nr_pages / 64; i++)
			if (rb.bits[i]) {
				fprintf(stderr, "bench: bitmap not empty\n");
				exit(1);
			}
		free(rb.bits);
		free(rb.pfn);
	}
}

static long rss_bytes(void)
{
	long pages = 0, rss = 0;
	FILE *f = fopen("/proc/self/statm", "r");

	if (f) {
		if (fscanf(f, "%ld %ld", &pages, &rss) != 2)
			rss = 0;
		fclose(f);
	}
	return rss * sysconf(_SC_PAGESIZE);
}

static void bm_create(cbench_state *st, void *user)
{
	const struct bench_arg *a = user;
	double rss_per_page = 0, memmap = 0;

	while (cbench_keep_running(st)) {
		long before = rss_bytes();
		struct pcpb *inst = make(st, "policy=classic",
					 (unsigned long long)a->param * GIB);

		/* What creation touched, and what the memmap reserves. */
		rss_per_page = (double)(rss_bytes() - before) /
			       (double)pcpb_nr_pages(inst);
		cbench_pause(st);
		memmap = memmap_bytes_per_page(inst);
		pcpb_destroy(inst);
		cbench_resume(st);
	}
	cbench_set_counter(st, "memmap_bytes_per_page", memmap, 0);
	cbench_set_counter(st, "rss_bytes_per_page", rss_per_page, 0);
}

int main(int argc, char **argv)
{
	static struct bench_arg args[96];
	static char names[96][96];
	static const unsigned int orders[] = { 0, 9 }, gib[] = { 4, 16 };
	/* Where owner merges (docs/performance.md): the put patterns, and
	 * the repeat pattern merging on free pessimises. */
	static const struct variant extra_put[] = {
		{ "owner_llist", "policy=owner,remote_free=llist" },
		{ "owner_drain_new", "policy=owner,owner_merge=drain_new" },
		{ "owner_llist_drain_new",
		  "policy=owner,remote_free=llist,owner_merge=drain_new" },
		{ "owner_merge_free", "policy=owner,owner_merge=free" },
		{ "owner_llist_merge_free",
		  "policy=owner,remote_free=llist,owner_merge=free" },
		{ "owner_llist_drain_new_rseq",
		  "policy=owner,remote_free=llist,owner_merge=drain_new,"
		  "pcp_fastpath=rseq" },
	};
	/* lockstat timing every pcp->lock hold, not the default 1 in 8. */
	static const struct variant sampled[] = {
		{ "classic/lockstat_every_hold",
		  "policy=classic,lockstat_pcp_sample=1" },
		{ "owner/lockstat_every_hold",
		  "policy=owner,lockstat_pcp_sample=1" },
	};
	/* The stretch goal's rseq fast path, acting as CPU 0 on CPU 0. */
	static const struct variant rseq[] = {
		{ "classic_rseq/lockstat_off",
		  "policy=classic,pcp_fastpath=rseq,lockstat=off" },
		{ "owner_rseq/lockstat_off",
		  "policy=owner,pcp_fastpath=rseq,lockstat=off" },
	};
	static const struct variant merge_free = {
		"owner_merge_free/lockstat_off",
		"policy=owner,owner_merge=free,lockstat=off"
	};
	unsigned int i, k;
	int n = 0;

#define ADD(fn, arg, ...)                                          \
	do {                                                       \
		args[n] = arg;                                     \
		snprintf(names[n], sizeof(names[n]), __VA_ARGS__); \
		last = cbench_register(names[n], fn, &args[n]);    \
		n++;                                               \
	} while (0)
	cbench_bench *last;

	for (i = 0; i < 2; i++)
		for (k = 0; k < NR_VARIANTS; k++)
			ADD(bm_repeat,
			    ((struct bench_arg){ orders[i], &variants[k] }),
			    "BM_repeat/order:%u/%s", orders[i],
			    variants[k].name);
	for (i = 0; i < 2; i++)
		for (k = 0; k < ARRAY_LEN(sampled); k++)
			ADD(bm_repeat,
			    ((struct bench_arg){ orders[i], &sampled[k] }),
			    "BM_repeat/order:%u/%s", orders[i],
			    sampled[k].name);
	for (i = 0; i < 2; i++)
		for (k = 0; k < ARRAY_LEN(rseq); k++)
			ADD(bm_repeat,
			    ((struct bench_arg){ orders[i], &rseq[k] }),
			    "BM_repeat/order:%u/%s", orders[i], rseq[k].name);
	ADD(bm_repeat, ((struct bench_arg){ 0, &merge_free }),
	    "BM_repeat/order:0/%s", merge_free.name);
	for (k = 0; k < NR_VARIANTS; k++) {
		ADD(bm_bulk, ((struct bench_arg){ 0, &variants[k] }),
		    "BM_bulk_get/%s", variants[k].name);
		ADD(bm_bulk, ((struct bench_arg){ 1, &variants[k] }),
		    "BM_bulk_put/%s", variants[k].name);
	}
	for (k = 0; k < ARRAY_LEN(rseq); k++) {
		ADD(bm_bulk, ((struct bench_arg){ 0, &rseq[k] }),
		    "BM_bulk_get/%s", rseq[k].name);
		ADD(bm_bulk, ((struct bench_arg){ 1, &rseq[k] }),
		    "BM_bulk_put/%s", rseq[k].name);
	}
	for (k = 0; k < NR_VARIANTS; k++) {
		ADD(bm_rand_put, ((struct bench_arg){ 2, &variants[k] }),
		    "BM_rand_put/%s", variants[k].name);
		cbench_set_threads(last, 2);
		cbench_set_iterations(last, RAND_PUT_PAGES / 2);
	}
	for (k = 0; k < sizeof(extra_put) / sizeof(extra_put[0]); k++) {
		ADD(bm_rand_put, ((struct bench_arg){ 2, &extra_put[k] }),
		    "BM_rand_put/%s", extra_put[k].name);
		cbench_set_threads(last, 2);
		cbench_set_iterations(last, RAND_PUT_PAGES / 2);
	}
	for (k = 0; k < NR_VARIANTS; k++)
		ADD(bm_bulk_api, ((struct bench_arg){ 32, &variants[k] }),
		    "BM_bulk_api/32/%s", variants[k].name);
	for (k = 0; k < ARRAY_LEN(sampled); k++)
		ADD(bm_bulk_api, ((struct bench_arg){ 32, &sampled[k] }),
		    "BM_bulk_api/32/%s", sampled[k].name);
	for (k = 0; k < ARRAY_LEN(rseq); k++)
		ADD(bm_bulk_api, ((struct bench_arg){ 32, &rseq[k] }),
		    "BM_bulk_api/32/%s", rseq[k].name);
	for (i = 0; i < ARRAY_LEN(floor_lock_names); i++)
		ADD(bm_floor, ((struct bench_arg){ i, NULL }),
		    "BM_floor/lock:%s", floor_lock_names[i]);
	ADD(bm_line_transfer, ((struct bench_arg){ 0, NULL }),
	    "BM_floor/line_transfer");
	cbench_set_threads(last, 2);
	cbench_set_iterations(last, 1000000);
	ADD(bm_rand_put_bitmap, ((struct bench_arg){ 0, NULL }),
	    "BM_floor/rand_put_bitmap");
	cbench_set_threads(last, 2);
	cbench_set_iterations(last, RAND_PUT_PAGES / 2);
	for (i = 0; i < 2; i++) {
		ADD(bm_create, ((struct bench_arg){ gib[i], NULL }),
		    "BM_create/%uGiB", gib[i]);
		cbench_set_iterations(last, 3);
	}
	sched_getaffinity(0, sizeof(all_cpus), &all_cpus);
	return cbench_main(argc, argv);
}
