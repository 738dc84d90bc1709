// SPDX-License-Identifier: GPL-2.0-only OR MIT
/*
 * pressure.c - the --memory-pressure environment any driver can switch on:
 *   a hog holds a fraction of memory (stress-ng --vm);
 *   a filler keeps reclaimable page cache around, topping it up whenever free
 *     memory is above the high watermark;
 *   kswapd wakes below the low watermark and reclaims the oldest cache to the
 *     high watermark, with ZONE_RECLAIM_ACTIVE set while it works; it is also
 *     the instance's kswapd for watermark boost (pcpb_kswapd_attach()): a
 *     boost's wake makes it reclaim up to the boost even when the zone is
 *     balanced, then take the boost back, as balance_pgdat() does;
 *   direct reclaim: a driver allocation that fails below min reclaims cache
 *     in the allocating thread, on its CPU, and retries (wl_alloc_pages()).
 *
 * CPUs: the hog and the filler share the second-to-last CPU, kswapd has the
 * last one (drivers get two more CPUs when pressure is on).
 *
 * Invariants: every hog and cache page is freed by wl_pressure_stop().
 * Locking: the cache LRU is one mutex-protected FIFO; counters are atomics.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "workloads.h"

struct wl_pressure {
	struct pcpb *inst;
	int hog_cpu, kswapd_cpu;
	long *hog;
	size_t nr_hog;
	pthread_mutex_t lock; /* the cache LRU */
	long *cache;
	size_t head, nr, cap;
	pthread_t filler, kswapd;
	int stop; /* atomic */
	uint64_t filled, kswapd_wakeups, kswapd_pages, direct, direct_pages;
};

/* Free up to @max of the oldest cache pages on this thread's CPU. */
static size_t reclaim(struct wl_pressure *p, size_t max)
{
	long batch[64];
	size_t n = 0, i;

	if (max > 64)
		max = 64;
	pthread_mutex_lock(&p->lock);
	while (n < max && p->nr) {
		batch[n++] = p->cache[p->head];
		p->head = (p->head + 1) % p->cap;
		p->nr--;
	}
	pthread_mutex_unlock(&p->lock);
	for (i = 0; i < n; i++)
		pcpb_free_pages(p->inst, (unsigned long)batch[i], 0);
	return n;
}

static bool above(struct wl_pressure *p, int which)
{
	struct pcpb_watermarks wm;
	uint64_t free = 0, mark = 0;
	int n;

	for (n = 0; n < pcpb_nr_nodes(p->inst); n++) {
		pcpb_node_watermarks(p->inst, n, &wm);
		free += wm.free;
		mark += which == 2 ? wm.high : wm.low;
	}
	return free > mark;
}

static void *filler_fn(void *arg)
{
	struct wl_pressure *p = arg;
	uint64_t filled = 0;

	pcpb_set_thread_cpu(p->hog_cpu);
	while (!__atomic_load_n(&p->stop, __ATOMIC_RELAXED)) {
		int i;

		if (!above(p, 2)) {
			usleep(200);
			continue;
		}
		/* Reading files: page cache until free memory is at high. */
		for (i = 0; i < 64; i++) {
			long pfn = pcpb_alloc_pages(p->inst, 0, PCPB_MT_MOVABLE,
						    PCPB_GFP_NORETRY);

			if (pfn < 0)
				break;
			pthread_mutex_lock(&p->lock);
			if (p->nr < p->cap) {
				p->cache[(p->head + p->nr++) % p->cap] = pfn;
				pfn = -1;
			}
			pthread_mutex_unlock(&p->lock);
			if (pfn >= 0)
				pcpb_free_pages(p->inst, (unsigned long)pfn, 0);
			else
				filled++;
		}
	}
	__atomic_fetch_add(&p->filled, filled, __ATOMIC_RELAXED);
	return NULL;
}

static void *kswapd_fn(void *arg)
{
	struct wl_pressure *p = arg;
	int n, nodes = pcpb_nr_nodes(p->inst);
	uint64_t boost[PCPB_MAX_NODES];

	pcpb_set_thread_cpu(p->kswapd_cpu);
	while (!__atomic_load_n(&p->stop, __ATOMIC_RELAXED)) {
		size_t got = 1, total = 0;
		uint64_t boosted = 0;

		for (n = 0; n < nodes; n++)
			boosted += boost[n] = pcpb_kswapd_take_wake(p->inst, n);
		if (above(p, 1) && !boosted) {
			usleep(100);
			continue;
		}
		__atomic_fetch_add(&p->kswapd_wakeups, 1, __ATOMIC_RELAXED);
		for (n = 0; n < nodes; n++)
			pcpb_set_reclaim_active(p->inst, n, true);
		/* The boosted high watermark, and for a boost at least the
		 * boost's worth (nr_boost_reclaim) until reclaim stalls. */
		while (got && (!above(p, 2) || total < boosted) &&
		       !__atomic_load_n(&p->stop, __ATOMIC_RELAXED)) {
			got = reclaim(p, 32);
			total += got;
		}
		for (n = 0; n < nodes; n++) {
			pcpb_set_reclaim_active(p->inst, n, false);
			pcpb_kswapd_boost_done(p->inst, n, boost[n]);
		}
		__atomic_fetch_add(&p->kswapd_pages, total, __ATOMIC_RELAXED);
		/* Nothing left to reclaim: back off, as a hopeless kswapd does. */
		if (!total)
			usleep(1000);
	}
	return NULL;
}

struct wl_pressure *wl_pressure_start(struct pcpb *inst, double hog,
				      int hog_cpu, int kswapd_cpu)
{
	struct wl_pressure *p = calloc(1, sizeof(*p));
	size_t want, i;

	if (!p)
		return NULL;
	p->inst = inst;
	p->hog_cpu = hog_cpu;
	p->kswapd_cpu = kswapd_cpu;
	p->cap = pcpb_nr_pages(inst);
	want = (size_t)((double)p->cap * hog);
	p->cache = malloc(p->cap * sizeof(long));
	p->hog = malloc((want ? want : 1) * sizeof(long));
	if (!p->cache || !p->hog) {
		free(p->cache);
		free(p->hog);
		free(p);
		return NULL;
	}
	pthread_mutex_init(&p->lock, NULL);
	pcpb_set_thread_cpu(hog_cpu);
	for (i = 0; i < want; i++) {
		long pfn = pcpb_alloc_pages(inst, 0, PCPB_MT_MOVABLE,
					    PCPB_GFP_NORETRY);

		if (pfn < 0)
			break;
		p->hog[p->nr_hog++] = pfn;
	}
	pcpb_kswapd_attach(inst, true);
	pthread_create(&p->filler, NULL, filler_fn, p);
	pthread_create(&p->kswapd, NULL, kswapd_fn, p);
	/* Let the cache fill up to the high watermark before the run. */
	for (i = 0; i < 200 && above(p, 2); i++)
		usleep(1000);
	return p;
}

long wl_alloc_pages(const struct wl_opts *o, struct pcpb *inst,
		    unsigned int order, int mt)
{
	struct wl_pressure *p = o->pressure;
	long pfn;
	int tries;

	if (!p)
		return pcpb_alloc_pages(inst, order, mt, 0);
	for (tries = 0; tries < 8; tries++) {
		size_t got;

		pfn = pcpb_alloc_pages(inst, order, mt, PCPB_GFP_NORETRY);
		if (pfn != -ENOMEM)
			return pfn;
		/* Below min: reclaim in this thread, on this CPU, then retry. */
		got = reclaim(p, (size_t)32 << order);
		__atomic_fetch_add(&p->direct, 1, __ATOMIC_RELAXED);
		__atomic_fetch_add(&p->direct_pages, got, __ATOMIC_RELAXED);
		if (!got)
			break;
	}
	return pcpb_alloc_pages(inst, order, mt, 0);
}

void wl_pressure_stop(struct wl_pressure *p, char *line, size_t len)
{
	size_t i;

	if (!p)
		return;
	__atomic_store_n(&p->stop, 1, __ATOMIC_RELAXED);
	pthread_join(p->filler, NULL);
	pthread_join(p->kswapd, NULL);
	pcpb_kswapd_attach(p->inst, false);
	snprintf(
		line, len,
		"pressure: hog %zu pages; page cache filled %llu, kswapd %llu wakeups reclaimed %llu, direct reclaim %llu times %llu pages",
		p->nr_hog, (unsigned long long)p->filled,
		(unsigned long long)p->kswapd_wakeups,
		(unsigned long long)p->kswapd_pages,
		(unsigned long long)p->direct,
		(unsigned long long)p->direct_pages);
	pcpb_set_thread_cpu(p->hog_cpu);
	while (reclaim(p, 64))
		;
	for (i = 0; i < p->nr_hog; i++)
		pcpb_free_pages(p->inst, (unsigned long)p->hog[i], 0);
	pthread_mutex_destroy(&p->lock);
	free(p->cache);
	free(p->hog);
	free(p);
}
