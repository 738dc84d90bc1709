// SPDX-License-Identifier: GPL-2.0-only OR MIT
/*
 * mixed.c - the general-purpose driver: every thread is a CPU that
 * allocates random orders (mostly 0, sometimes up to MAX_PAGE_ORDER) and
 * migratetypes, keeps a bounded working set, and hands a share of its
 * frees to another thread's mailbox, so those pages are freed on a CPU
 * other than the one that allocated them.
 *
 * Invariants: every allocated block is in exactly one of a thread's working
 * set or a mailbox until it is freed; all are freed before the report.
 *
 * Locking: a mailbox has its own mutex; a thread's working set is private.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "workloads.h"

#define MIXED_SLOTS 256
#define MAILBOX_SLOTS 1024
#define REMOTE_PERCENT 25

struct block {
	long pfn;
	unsigned int order;
};

struct mailbox {
	pthread_mutex_t lock;
	int nr;
	struct block blocks[MAILBOX_SLOTS];
};

struct mixed_thread {
	pthread_t tid;
	int idx;
	struct pcpb *inst;
	const struct wl_opts *o;
	struct mailbox *boxes;
	double deadline;
	struct mixed_result res;
	uint64_t ops; /* read by the progress line */
};

/* Orders as a page cache-heavy kernel sees them; mostly order 0. */
static unsigned int pick_order(struct wl_rng *r)
{
	uint32_t x = wl_rng_below(r, 1000);

	if (x < 700)
		return 0;
	if (x < 800)
		return 1;
	if (x < 870)
		return 2;
	if (x < 920)
		return 3;
	if (x < 970)
		return 4 + wl_rng_below(r, 5);
	return x < 990 ? 9 : 10;
}

static int pick_mt(struct wl_rng *r)
{
	uint32_t x = wl_rng_below(r, 10);

	return x < 7 ? PCPB_MT_MOVABLE
		     : (x < 9 ? PCPB_MT_UNMOVABLE : PCPB_MT_RECLAIMABLE);
}

static void free_block(struct mixed_thread *t, struct block b)
{
	if (pcpb_free_pages(t->inst, (unsigned long)b.pfn, b.order) == 0)
		t->res.frees++;
}

static void drain_mailbox(struct mixed_thread *t)
{
	struct mailbox *box = &t->boxes[t->idx];
	struct block local[MAILBOX_SLOTS];
	int i, nr;

	pthread_mutex_lock(&box->lock);
	nr = box->nr;
	memcpy(local, box->blocks, (size_t)nr * sizeof(local[0]));
	box->nr = 0;
	pthread_mutex_unlock(&box->lock);
	for (i = 0; i < nr; i++)
		free_block(t, local[i]);
}

/* Hand @b to another thread; Return: false when its mailbox is full. */
static bool post_remote(struct mixed_thread *t, struct wl_rng *r,
			struct block b)
{
	int to = (t->idx + 1 +
		  (int)wl_rng_below(r, (uint32_t)(t->o->threads - 1))) %
		 t->o->threads;
	struct mailbox *box = &t->boxes[to];
	bool posted = false;

	pthread_mutex_lock(&box->lock);
	if (box->nr < MAILBOX_SLOTS) {
		box->blocks[box->nr++] = b;
		posted = true;
	}
	pthread_mutex_unlock(&box->lock);
	return posted;
}

static void *mixed_thread_fn(void *arg)
{
	struct mixed_thread *t = arg;
	struct block slots[MIXED_SLOTS];
	struct wl_rng rng;
	int nr = 0, i;
	uint64_t ops = 0;

	pcpb_set_thread_cpu(t->idx);
	wl_rng_seed(&rng, t->o->seed * 7919 + (uint64_t)t->idx);
	while (t->o->ops ? ops < t->o->ops
			 : ((ops & 255) || wl_now() < t->deadline)) {
		ops++;
		if ((ops & 63) == 0) {
			drain_mailbox(t);
			__atomic_store_n(&t->ops, ops, __ATOMIC_RELAXED);
		}
		if (nr == MIXED_SLOTS || (nr && wl_rng_below(&rng, 2))) {
			int k = (int)wl_rng_below(&rng, (uint32_t)nr);
			struct block b = slots[k];

			slots[k] = slots[--nr];
			if (t->o->threads > 1 &&
			    wl_rng_below(&rng, 100) < REMOTE_PERCENT &&
			    post_remote(t, &rng, b)) {
				t->res.remote_frees++;
				continue;
			}
			free_block(t, b);
		} else {
			unsigned int order = pick_order(&rng);
			long pfn = wl_alloc_pages(t->o, t->inst, order,
						  pick_mt(&rng));

			if (pfn >= 0) {
				slots[nr++] = (struct block){ pfn, order };
				t->res.allocs++;
			} else {
				t->res.enomem++;
			}
		}
	}
	for (i = 0; i < nr; i++)
		free_block(t, slots[i]);
	drain_mailbox(t);
	return NULL;
}

int wl_mixed_run(struct pcpb *inst, const struct wl_opts *o,
		 struct mixed_result *res)
{
	struct mixed_thread *th = calloc((size_t)o->threads, sizeof(*th));
	struct mailbox *boxes = calloc((size_t)o->threads, sizeof(*boxes));
	double start = wl_now();
	int i, err = 0;

	memset(res, 0, sizeof(*res));
	if (!th || !boxes) {
		free(th);
		free(boxes);
		return -ENOMEM;
	}
	for (i = 0; i < o->threads; i++) {
		pthread_mutex_init(&boxes[i].lock, NULL);
		th[i] = (struct mixed_thread){ .idx = i,
					       .inst = inst,
					       .o = o,
					       .boxes = boxes,
					       .deadline = start + o->seconds };
	}
	for (i = 0; i < o->threads; i++)
		if (pthread_create(&th[i].tid, NULL, mixed_thread_fn, &th[i])) {
			err = -EAGAIN;
			th[i].deadline = 0;
			break;
		}
	while (!err && !o->ops && wl_now() < start + o->seconds) {
		uint64_t ops = 0;
		int k;

		usleep(200000);
		for (k = 0; k < o->threads; k++)
			ops += __atomic_load_n(&th[k].ops, __ATOMIC_RELAXED);
		wl_progress("mixed", wl_now() - start, o->seconds, ops);
	}
	wl_progress_done(o->seconds);
	for (i = 0; i < o->threads && th[i].tid; i++)
		pthread_join(th[i].tid, NULL);
	/* Whatever was posted after its owner's last drain. */
	for (i = 0; i < o->threads; i++) {
		struct mixed_thread *t = &th[0];
		int k;

		for (k = 0; k < boxes[i].nr; k++)
			free_block(t, boxes[i].blocks[k]);
		boxes[i].nr = 0;
		pthread_mutex_destroy(&boxes[i].lock);
	}
	for (i = 0; i < o->threads; i++) {
		res->allocs += th[i].res.allocs;
		res->frees += th[i].res.frees;
		res->enomem += th[i].res.enomem;
		res->remote_frees += th[i].res.remote_frees;
	}
	res->seconds = wl_now() - start;
	free(th);
	free(boxes);
	return err;
}

static const char mixed_usage[] =
	"usage: pcpbuddy run mixed [--threads N] [--seconds S|--ops N] [--seed X]\n"
	"                          [--config k=v,...] [--json|--csv]\n"
	"\n"
	"Every thread is a virtual CPU (cpus defaults to --threads). It\n"
	"allocates random orders (70% order 0, up to order 10) and types\n"
	"(70% movable, 20% unmovable, 10% reclaimable), keeps at most 256\n"
	"blocks, and passes 25% of its frees to another thread, which frees\n"
	"them on its own CPU. At the end everything is freed, pcpb_check()\n"
	"runs, and the report is printed (text, --json or --csv).\n"
	"\n"
	"  --threads N   threads, 1..1024 (default 2)\n"
	"  --seconds S   run time (default 2)\n"
	"  --ops N       N operations per thread instead of --seconds: the same\n"
	"                work for the same seed, whatever the configuration\n"
	"  --seed X      RNG seed (default 1)\n"
	"  --config ...  pcpb_config keys, e.g. memory=2G,fallback=smallest\n"
	"Exit: 0 ok, 1 invariant check failed, 2 bad arguments.\n";

static int mixed_run(struct pcpb *inst, const struct wl_opts *o, void *priv,
		     struct wl_result *res)
{
	struct mixed_result m;
	int rc;

	(void)priv;
	rc = wl_mixed_run(inst, o, &m);
	if (rc)
		return rc;
	res->ops = m.allocs;
	res->seconds = m.seconds;
	snprintf(
		res->line, sizeof(res->line),
		"mixed: %d threads, %.2f s: %llu allocs (%.0f/s), %llu frees, %llu remote, %llu ENOMEM",
		o->threads, m.seconds, (unsigned long long)m.allocs,
		(double)m.allocs / m.seconds, (unsigned long long)m.frees,
		(unsigned long long)m.remote_frees,
		(unsigned long long)m.enomem);
	return 0;
}

const struct workload wl_mixed = {
	.name = "mixed",
	.summary =
		"random orders and types, bounded working sets, cross-thread frees",
	.usage = mixed_usage,
	.run = mixed_run,
};
