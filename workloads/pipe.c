// SPDX-License-Identifier: GPL-2.0-only OR MIT
/*
 * pipe.c - a userspace model of anon_pipe_write()/anon_pipe_read() over
 * pcpbuddy pages, in the four shapes of Breno Leitao's 2026 series (the
 * pipe series of docs/references.md), driven like pipe_bench:
 *   baseline       pages are allocated one at a time under pipe->mutex,
 *                  with the tmp_page[2] cache;
 *   prealloc       the merged v2/v3: a write spanning pages allocates up to 8
 *                  pages (per-page loop) before the mutex; inside, prealloc,
 *                  then tmp_page, then allocation under the mutex; leftovers
 *                  go to tmp_page before unlock, the rest is freed after;
 *   pool           the June 2026 RFC: one per-pipe pool; prefill allocates
 *                  outside the lock only what the write needs minus what the
 *                  pool holds, inserts under the lock up to 8; write and read
 *                  end by trimming the pool to 2, freeing outside the lock;
 *   prealloc-bulk  v1: the prealloc pages come from alloc_pages_bulk with
 *                  __GFP_ACCOUNT, which degrades to one page under --memcg.
 * The writer allocates on its CPU; the reader releases on its CPU.  The
 * instance is backed, so the bytes are real: each 8-byte word holds its
 * writer and its position, and readers check every word arrives once.
 *
 * Invariants: every page is in the ring, a cache/pool, a writer's prealloc
 * array, or back in the allocator; all are freed at the end.
 * Locking: pipe->mutex protects the ring and the caches (pthread mutex,
 * with its hold and wait timed here).
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "../util/hist.h"
#include "workloads.h"

#define PAGE 4096UL
#define PREALLOC_MAX 8
#define POOL_KEEP 2

enum pipe_mode { MODE_BASELINE, MODE_PREALLOC, MODE_POOL, MODE_BULK };
static const char *const mode_names[] = { "baseline", "prealloc", "pool",
					  "prealloc-bulk", NULL };

struct pipe_params {
	int writers, readers; /* 0: the default sweep */
	unsigned long msgsize, pipe_size;
	double duration;
	enum pipe_mode mode;
	bool memcg;
	bool lockstep; /* one writer and one reader take turns */
};

struct pipe_buf {
	long pfn;
	unsigned int offset, len;
	bool can_merge;
};

struct pipe_stats {
	uint64_t alloc_locked, alloc_unlocked, free_locked, free_unlocked;
	uint64_t prealloc_unused; /* allocated before the lock, not used */
	struct hist hold, wait;
};

struct pipe {
	pthread_mutex_t mutex;
	pthread_cond_t rd_wait, wr_wait;
	struct pcpb *inst;
	const struct wl_opts *o;
	struct pipe_buf *bufs;
	unsigned int head, tail, max_usage, ring_size;
	long cache[PREALLOC_MAX]; /* tmp_page[2], or the RFC's pool */
	int nr_cache;
	bool closed;
	enum pipe_mode mode;
	bool account;
	uint64_t locked_at; /* for the mutex hold time */
	struct pipe_stats st;
	/* --lockstep: even turns write one message, odd turns read it. */
	bool lockstep;
	pthread_mutex_t turn_lock;
	pthread_cond_t turn_cond;
	uint64_t turn;
};

/* Wait for our turn (parity @odd); Return: false once the pipe closed. */
static bool turn_wait(struct pipe *p, int odd)
{
	bool ok;

	pthread_mutex_lock(&p->turn_lock);
	while ((p->turn & 1) != (uint64_t)odd && !p->closed)
		pthread_cond_wait(&p->turn_cond, &p->turn_lock);
	ok = (p->turn & 1) == (uint64_t)odd;
	pthread_mutex_unlock(&p->turn_lock);
	return ok;
}

static void turn_next(struct pipe *p)
{
	pthread_mutex_lock(&p->turn_lock);
	p->turn++;
	pthread_cond_broadcast(&p->turn_cond);
	pthread_mutex_unlock(&p->turn_lock);
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static void pipe_lock(struct pipe *p)
{
	uint64_t t0 = now_ns();

	pthread_mutex_lock(&p->mutex);
	p->locked_at = now_ns();
	hist_record(&p->st.wait, p->locked_at - t0);
}

static void pipe_unlock(struct pipe *p)
{
	hist_record(&p->st.hold, now_ns() - p->locked_at);
	pthread_mutex_unlock(&p->mutex);
}

static void cond_wait(struct pipe *p, pthread_cond_t *c)
{
	hist_record(&p->st.hold, now_ns() - p->locked_at);
	pthread_cond_wait(c, &p->mutex);
	p->locked_at = now_ns();
}

static long alloc_page(struct pipe *p, bool locked)
{
	long pfn = wl_alloc_pages(p->o, p->inst, 0, PCPB_MT_MOVABLE);

	if (pfn >= 0) {
		if (locked)
			p->st.alloc_locked++;
		else
			__atomic_fetch_add(&p->st.alloc_unlocked, 1,
					   __ATOMIC_RELAXED);
	}
	return pfn;
}

static void free_page(struct pipe *p, long pfn, bool locked)
{
	pcpb_free_pages(p->inst, (unsigned long)pfn, 0);
	if (locked)
		p->st.free_locked++;
	else
		__atomic_fetch_add(&p->st.free_unlocked, 1, __ATOMIC_RELAXED);
}

/* nr_cache is read without the mutex by the pool's prefill (racy, as in
 * the RFC), so it is written atomically. */
static void cache_push(struct pipe *p, long pfn)
{
	p->cache[p->nr_cache] = pfn;
	__atomic_store_n(&p->nr_cache, p->nr_cache + 1, __ATOMIC_RELAXED);
}

static long cache_pop(struct pipe *p)
{
	__atomic_store_n(&p->nr_cache, p->nr_cache - 1, __ATOMIC_RELAXED);
	return p->cache[p->nr_cache];
}

static int cache_cap(const struct pipe *p)
{
	return p->mode == MODE_POOL ? PREALLOC_MAX : POOL_KEEP;
}

/* anon_pipe_put_page(): keep it if there is room, else free it. */
static void put_page_locked(struct pipe *p, long pfn)
{
	if (p->nr_cache < cache_cap(p))
		cache_push(p, pfn);
	else
		free_page(p, pfn, true);
}

/* The RFC: trim the pool to 2 under the lock, free the rest after. */
static int trim_pool_locked(struct pipe *p, long *out)
{
	int n = 0;

	if (p->mode != MODE_POOL)
		return 0;
	while (p->nr_cache > POOL_KEEP)
		out[n++] = cache_pop(p);
	return n;
}

static void write_word_bytes(char *dst, uint64_t writer, uint64_t off,
			     unsigned long n)
{
	unsigned long i;

	/* Word k of writer w's stream is (w << 48 | k): checkable anywhere. */
	for (i = 0; i < n; i += 8) {
		uint64_t word = writer << 48 | ((off + i) / 8);

		memcpy(dst + i, &word, 8);
	}
}

/* Return: bytes written, or -EPIPE when the pipe closed. */
static long pipe_write(struct pipe *p, uint64_t writer, uint64_t *stream_off,
		       unsigned long total)
{
	long pre[PREALLOC_MAX], leftover[2 * PREALLOC_MAX];
	int nr_pre = 0, nr_left = 0, nr_trimmed, want, i;
	unsigned long done = 0, frag = total % PAGE;

	want = (int)MIN((total + PAGE - 1) / PAGE, (unsigned long)PREALLOC_MAX);
	if (p->mode == MODE_PREALLOC && total > PAGE) {
		for (i = 0; i < want; i++) {
			long pfn = alloc_page(p, false);

			if (pfn < 0)
				break;
			pre[nr_pre++] = pfn;
		}
	} else if (p->mode == MODE_BULK && total > PAGE) {
		for (i = 0; i < want; i++)
			pre[i] = PCPB_NO_PAGE;
		nr_pre = (int)pcpb_alloc_pages_bulk(
			p->inst, PCPB_MT_MOVABLE,
			p->account ? PCPB_GFP_ACCOUNT : 0, (unsigned long)want,
			pre, PCPB_BULK_FILL_NULL);
		if (nr_pre < 0)
			nr_pre = 0;
		__atomic_fetch_add(&p->st.alloc_unlocked, (uint64_t)nr_pre,
				   __ATOMIC_RELAXED);
	} else if (p->mode == MODE_POOL) {
		/* Only what the write needs minus what the pool holds. */
		int held = __atomic_load_n(&p->nr_cache, __ATOMIC_RELAXED);
		int need = want - MIN(held, want);

		for (i = 0; i < need; i++) {
			long pfn = alloc_page(p, false);

			if (pfn < 0)
				break;
			pre[nr_pre++] = pfn;
		}
	}

	pipe_lock(p);
	if (p->mode == MODE_POOL) {
		for (i = 0; i < nr_pre; i++) {
			if (p->nr_cache < PREALLOC_MAX)
				cache_push(p, pre[i]);
			else
				leftover[nr_left++] = pre[i];
		}
		nr_pre = 0;
	}
	if (frag && p->head != p->tail) {
		struct pipe_buf *last = &p->bufs[(p->head - 1) % p->ring_size];

		if (last->can_merge &&
		    last->offset + last->len + frag <= PAGE) {
			write_word_bytes(
				(char *)pcpb_pfn_to_addr(
					p->inst, (unsigned long)last->pfn) +
					last->offset + last->len,
				writer, *stream_off, frag);
			last->len += (unsigned int)frag;
			done = frag;
		}
	}
	while (done < total) {
		unsigned long n;
		long pfn = PCPB_NO_PAGE;

		if (p->closed)
			break;
		if (p->head - p->tail >= p->max_usage) {
			pthread_cond_broadcast(&p->rd_wait);
			cond_wait(p, &p->wr_wait);
			continue;
		}
		if (nr_pre)
			pfn = pre[--nr_pre];
		else if (p->nr_cache)
			pfn = cache_pop(p);
		else
			pfn = alloc_page(p, true);
		if (pfn < 0)
			break;
		n = MIN(total - done, PAGE);
		write_word_bytes(pcpb_pfn_to_addr(p->inst, (unsigned long)pfn),
				 writer, *stream_off + done, n);
		p->bufs[p->head % p->ring_size] =
			(struct pipe_buf){ pfn, 0, (unsigned int)n, true };
		p->head++;
		done += n;
	}
	/* Leftovers into empty tmp_page slots before unlock; v1 frees the
	 * rest under the lock, v3 after it. */
	while (nr_pre) {
		long pfn = pre[--nr_pre];

		if (p->mode != MODE_POOL && p->nr_cache < POOL_KEEP) {
			cache_push(p, pfn);
		} else if (p->mode == MODE_BULK) {
			free_page(p, pfn, true);
			p->st.prealloc_unused++;
		} else {
			leftover[nr_left++] = pfn;
		}
	}
	nr_trimmed = trim_pool_locked(p, leftover + nr_left);
	nr_left += nr_trimmed;
	pthread_cond_broadcast(&p->rd_wait);
	pipe_unlock(p);
	/* Trimmed pool pages were used before; prefilled ones that found
	 * no room were allocated in vain. */
	for (i = 0; i < nr_left; i++) {
		free_page(p, leftover[i], false);
		if (i < nr_left - nr_trimmed)
			__atomic_fetch_add(&p->st.prealloc_unused, 1,
					   __ATOMIC_RELAXED);
	}
	*stream_off += done;
	return done ? (long)done : -EPIPE;
}

struct reader_check {
	uint64_t bytes, words;
	uint64_t sum[64];  /* per writer: the sum of word positions seen */
	uint64_t next[64]; /* strict order, with one writer and one reader */
	bool ordered, bad;
};

static void check_words(struct reader_check *c, const char *src,
			unsigned long n)
{
	unsigned long i;

	for (i = 0; i < n; i += 8) {
		uint64_t word, w, k;

		memcpy(&word, src + i, 8);
		w = word >> 48;
		k = word & ((1ULL << 48) - 1);
		if (w >= 64) {
			c->bad = true;
			continue;
		}
		if (c->ordered && k != c->next[w]++)
			c->bad = true;
		c->sum[w] += k;
		c->words++;
	}
	c->bytes += n;
}

/* Return: bytes read, or 0 at end of file. */
static unsigned long pipe_read(struct pipe *p, unsigned long total,
			       struct reader_check *c)
{
	long trimmed[PREALLOC_MAX];
	unsigned long done = 0;
	int nr_trim, i;

	pipe_lock(p);
	while (done < total) {
		struct pipe_buf *b;
		unsigned long n;

		if (p->head == p->tail) {
			if (done || p->closed)
				break;
			cond_wait(p, &p->rd_wait);
			continue;
		}
		b = &p->bufs[p->tail % p->ring_size];
		n = MIN((unsigned long)b->len, total - done);
		check_words(c,
			    (char *)pcpb_pfn_to_addr(p->inst,
						     (unsigned long)b->pfn) +
				    b->offset,
			    n);
		b->offset += (unsigned int)n;
		b->len -= (unsigned int)n;
		done += n;
		if (!b->len) {
			bool was_full = p->head - p->tail >= p->max_usage;

			put_page_locked(p, b->pfn);
			p->tail++;
			if (was_full)
				pthread_cond_signal(&p->wr_wait);
		}
	}
	nr_trim = trim_pool_locked(p, trimmed);
	pthread_cond_signal(&p->wr_wait);
	pipe_unlock(p);
	for (i = 0; i < nr_trim; i++)
		free_page(p, trimmed[i], false);
	return done;
}

struct pipe_thread {
	pthread_t tid;
	struct pipe *p;
	int idx, cpu;
	unsigned long msgsize;
	volatile int *stop;
	struct hist lat;
	uint64_t writes, bytes;
	struct reader_check check;
};

static void *writer_fn(void *arg)
{
	struct pipe_thread *t = arg;
	uint64_t off = 0;

	pcpb_set_thread_cpu(t->cpu);
	while (!__atomic_load_n(t->stop, __ATOMIC_RELAXED) &&
	       (!t->p->o->ops ||
		__atomic_load_n(&t->writes, __ATOMIC_RELAXED) < t->p->o->ops)) {
		uint64_t t0;
		long n;

		if (t->p->lockstep && !turn_wait(t->p, 0))
			break;
		t0 = now_ns();
		n = pipe_write(t->p, (uint64_t)t->idx, &off, t->msgsize);
		if (t->p->lockstep)
			turn_next(t->p);
		if (n < 0)
			break;
		hist_record(&t->lat, now_ns() - t0);
		__atomic_store_n(&t->writes, t->writes + 1, __ATOMIC_RELAXED);
		t->bytes += (uint64_t)n;
	}
	return NULL;
}

static void *reader_fn(void *arg)
{
	struct pipe_thread *t = arg;

	pcpb_set_thread_cpu(t->cpu);
	/* Readers drain until EOF, ignoring the stop flag, as pipe_bench. */
	for (;;) {
		bool my_turn = !t->p->lockstep || turn_wait(t->p, 1);
		unsigned long n = pipe_read(t->p, t->msgsize, &t->check);

		if (t->p->lockstep && my_turn)
			turn_next(t->p);
		if (!n)
			break;
	}
	return NULL;
}

struct pipe_run {
	struct hist lat;
	uint64_t writes, bytes;
	struct pipe_stats st;
	bool verified;
};

/* One pipe_bench configuration on a fresh pipe. */
static int run_config(struct pcpb *inst, const struct wl_opts *o,
		      const struct pipe_params *pp, int nw, int nr,
		      struct pipe_run *out)
{
	struct pipe p = { .inst = inst,
			  .o = o,
			  .mode = pp->mode,
			  .account = o->cfg.memcg,
			  .lockstep = pp->lockstep };
	struct pipe_thread *th = calloc((size_t)(nw + nr), sizeof(*th));
	volatile int stop = 0;
	uint64_t written[64] = { 0 }, sum_expect[64] = { 0 },
		 sum_seen[64] = { 0 };
	int i, w;

	if (!th)
		return -ENOMEM;
	p.max_usage = (unsigned int)(pp->pipe_size / PAGE);
	p.ring_size = 1;
	while (p.ring_size < p.max_usage)
		p.ring_size <<= 1;
	p.bufs = calloc(p.ring_size, sizeof(*p.bufs));
	if (!p.bufs) {
		free(th);
		return -ENOMEM;
	}
	pthread_mutex_init(&p.mutex, NULL);
	pthread_cond_init(&p.rd_wait, NULL);
	pthread_cond_init(&p.wr_wait, NULL);
	pthread_mutex_init(&p.turn_lock, NULL);
	pthread_cond_init(&p.turn_cond, NULL);
	for (i = 0; i < nw + nr; i++) {
		th[i] = (struct pipe_thread){ .p = &p,
					      .idx = i < nw ? i : i - nw,
					      .cpu = i,
					      .msgsize = pp->msgsize,
					      .stop = &stop };
		th[i].check.ordered = nw == 1 && nr == 1;
	}
	for (i = nw; i < nw + nr; i++)
		pthread_create(&th[i].tid, NULL, reader_fn, &th[i]);
	for (i = 0; i < nw; i++)
		pthread_create(&th[i].tid, NULL, writer_fn, &th[i]);
	if (o->ops) {
		/* Fixed work: stop once every writer wrote --ops messages. */
		for (;;) {
			uint64_t least = ~0ULL;

			for (i = 0; i < nw; i++)
				least = MIN(least,
					    __atomic_load_n(&th[i].writes,
							    __ATOMIC_RELAXED));
			if (least >= o->ops)
				break;
			struct timespec ts = { 0, 1000000 };

			nanosleep(&ts, NULL);
		}
	} else {
		struct timespec ts = { (time_t)pp->duration,
				       (long)((pp->duration -
					       (double)(time_t)pp->duration) *
					      1e9) };

		nanosleep(&ts, NULL);
	}
	__atomic_store_n(&stop, 1, __ATOMIC_RELAXED);
	pthread_mutex_lock(&p.turn_lock);
	pthread_mutex_lock(&p.mutex);
	p.closed = true; /* close the write end: readers drain, then EOF */
	pthread_cond_broadcast(&p.rd_wait);
	pthread_cond_broadcast(&p.wr_wait);
	pthread_mutex_unlock(&p.mutex);
	pthread_cond_broadcast(&p.turn_cond);
	pthread_mutex_unlock(&p.turn_lock);
	for (i = 0; i < nw + nr; i++)
		pthread_join(th[i].tid, NULL);

	memset(out, 0, sizeof(*out));
	for (i = 0; i < nw; i++) {
		hist_merge(&out->lat, &th[i].lat);
		out->writes += th[i].writes;
		out->bytes += th[i].bytes;
		/* Words 0..m-1 of writer i's stream, each read exactly once. */
		written[i] = th[i].bytes / 8;
		sum_expect[i] =
			written[i] ? written[i] * (written[i] - 1) / 2 : 0;
	}
	out->verified = true;
	for (i = nw; i < nw + nr; i++) {
		if (th[i].check.bad)
			out->verified = false;
		for (w = 0; w < nw; w++)
			sum_seen[w] += th[i].check.sum[w];
	}
	for (w = 0; w < nw; w++)
		if (sum_seen[w] != sum_expect[w])
			out->verified = false;
	/* Whatever the pipe still caches goes back. */
	for (i = 0; i < p.nr_cache; i++)
		pcpb_free_pages(inst, (unsigned long)p.cache[i], 0);
	out->st = p.st;
	pthread_mutex_destroy(&p.turn_lock);
	pthread_cond_destroy(&p.turn_cond);
	pthread_mutex_destroy(&p.mutex);
	pthread_cond_destroy(&p.rd_wait);
	pthread_cond_destroy(&p.wr_wait);
	free(p.bufs);
	free(th);
	return 0;
}

/* One configuration's figures, computed once for the text and the JSON. */
struct pipe_metrics {
	double writes_per_s, mbps;
	uint64_t lat_avg, lat_p50, lat_p99, lat_max;
	uint64_t hold_p50, hold_p99, hold_max, wait_p50, wait_p99, wait_max;
};

static struct pipe_metrics metrics_of_run(const struct pipe_run *r,
					  double seconds)
{
	return (struct pipe_metrics){
		.writes_per_s = seconds > 0 ? (double)r->writes / seconds : 0,
		.mbps = seconds > 0 ? (double)r->bytes / seconds / 1048576.0
				    : 0,
		.lat_avg = r->lat.count ? r->lat.total / r->lat.count : 0,
		.lat_p50 = hist_quantile(&r->lat, 0.50),
		.lat_p99 = hist_quantile(&r->lat, 0.99),
		.lat_max = r->lat.max,
		.hold_p50 = hist_quantile(&r->st.hold, 0.50),
		.hold_p99 = hist_quantile(&r->st.hold, 0.99),
		.hold_max = r->st.hold.max,
		.wait_p50 = hist_quantile(&r->st.wait, 0.50),
		.wait_p99 = hist_quantile(&r->st.wait, 0.99),
		.wait_max = r->st.wait.max,
	};
}

static size_t print_config(char *buf, size_t len, const struct pipe_params *pp,
			   const struct wl_opts *o, int nw, int nr,
			   const struct pipe_run *r, double seconds,
			   const struct pipe_metrics *m)
{
	return (size_t)snprintf(
		buf, len,
		"config: writers=%d readers=%d msgsize=%lu duration=%g pipe_size=%lu memory_pressure=%s mode=%s\n"
		"writes: total=%llu rate=%.0f/s\n"
		"throughput_MBps: %.2f\n"
		"lat_avg_ns: %llu\n"
		"lat_p50_ns_upper: %llu\n"
		"lat_p99_ns_upper: %llu\n"
		"lat_max_ns: %llu\n"
		"pipe_mutex_hold_ns: p50_upper=%llu p99_upper=%llu max=%llu\n"
		"pipe_mutex_wait_ns: p50_upper=%llu p99_upper=%llu max=%llu\n"
		"pages: alloc_under_mutex=%llu alloc_outside=%llu freed_under_mutex=%llu freed_outside=%llu prealloc_unused=%llu\n"
		"bytes_verified: %s\n",
		nw, nr, pp->msgsize, seconds, pp->pipe_size,
		o->memory_pressure ? "yes" : "no", mode_names[pp->mode],
		(unsigned long long)r->writes, m->writes_per_s, m->mbps,
		(unsigned long long)m->lat_avg, (unsigned long long)m->lat_p50,
		(unsigned long long)m->lat_p99, (unsigned long long)m->lat_max,
		(unsigned long long)m->hold_p50,
		(unsigned long long)m->hold_p99,
		(unsigned long long)m->hold_max,
		(unsigned long long)m->wait_p50,
		(unsigned long long)m->wait_p99,
		(unsigned long long)m->wait_max,
		(unsigned long long)r->st.alloc_locked,
		(unsigned long long)r->st.alloc_unlocked,
		(unsigned long long)r->st.free_locked,
		(unsigned long long)r->st.free_unlocked,
		(unsigned long long)r->st.prealloc_unused,
		r->verified ? "yes" : "NO");
}

/* The same numbers as print_config(), one row of run --json's result. */
static json_t *config_row(const struct pipe_params *pp, int nw, int nr,
			  const struct pipe_run *r, double seconds,
			  const struct pipe_metrics *m)
{
	json_t *row =
		json_pack("{s:i, s:i, s:I, s:s, s:f, s:I, s:f, s:f}", "writers",
			  nw, "readers", nr, "msgsize", (json_int_t)pp->msgsize,
			  "mode", mode_names[pp->mode], "seconds", seconds,
			  "writes", (json_int_t)r->writes, "writes_per_s",
			  m->writes_per_s, "throughput_MBps", m->mbps);
	json_t *more = json_pack(
		"{s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:b}",
		"lat_avg_ns", (json_int_t)m->lat_avg, "lat_p50_ns_upper",
		(json_int_t)m->lat_p50, "lat_p99_ns_upper",
		(json_int_t)m->lat_p99, "lat_max_ns", (json_int_t)m->lat_max,
		"mutex_hold_p99_ns_upper", (json_int_t)m->hold_p99,
		"mutex_hold_max_ns", (json_int_t)m->hold_max,
		"mutex_wait_p99_ns_upper", (json_int_t)m->wait_p99,
		"mutex_wait_max_ns", (json_int_t)m->wait_max,
		"pages_alloc_under_mutex", (json_int_t)r->st.alloc_locked,
		"pages_alloc_outside", (json_int_t)r->st.alloc_unlocked,
		"pages_freed_under_mutex", (json_int_t)r->st.free_locked,
		"pages_freed_outside", (json_int_t)r->st.free_unlocked,
		"prealloc_unused", (json_int_t)r->st.prealloc_unused, "bytes",
		(json_int_t)r->bytes, "bytes_verified", r->verified);

	json_object_update(row, more);
	json_decref(more);
	return row;
}

static int pipe_run_all(struct pcpb *inst, const struct wl_opts *o, void *priv,
			struct wl_result *res)
{
	static const int sweep_w[] = { 1, 2, 5 }, sweep_r[] = { 1, 5, 10 };
	const struct pipe_params *pp = priv;
	size_t len = 1 << 16, n = 0;
	char *out = malloc(len);
	double start = wl_now();
	bool ok = true;
	int a, b;

	if (!out)
		return -ENOMEM;
	out[0] = '\0';
	for (a = 0; a < 3; a++)
		for (b = 0; b < 3; b++) {
			int nw = pp->writers ? pp->writers : sweep_w[a];
			int nr = pp->readers ? pp->readers : sweep_r[b];
			struct pipe_run r;
			struct pipe_metrics m;
			double t0 = wl_now(), secs;
			int rc;

			if ((pp->writers || pp->readers) && (a || b))
				continue; /* one configuration */
			rc = run_config(inst, o, pp, nw, nr, &r);
			if (rc) {
				free(out);
				return rc;
			}
			if (n)
				n += (size_t)snprintf(out + n, len - n,
						      "---\n");
			secs = wl_now() - t0;
			m = metrics_of_run(&r, secs);
			n += print_config(out + n, len - n, pp, o, nw, nr, &r,
					  secs, &m);
			if (!res->rows)
				res->rows = json_array();
			json_array_append_new(
				res->rows,
				config_row(pp, nw, nr, &r, secs, &m));
			res->ops += r.writes;
			res->pages += r.st.alloc_locked + r.st.alloc_unlocked;
			ok &= r.verified;
		}
	res->seconds = wl_now() - start;
	res->table = out;
	snprintf(res->line, sizeof(res->line),
		 "pipe: mode=%s, %llu writes, %llu pages allocated, bytes %s",
		 mode_names[pp->mode], (unsigned long long)res->ops,
		 (unsigned long long)res->pages, ok ? "verified" : "CORRUPTED");
	return ok ? 0 : -EIO;
}

static void pipe_init(void *priv)
{
	struct pipe_params *p = priv;

	*p = (struct pipe_params){ .msgsize = 65536,
				   .pipe_size = 1 << 20,
				   .duration = 3,
				   .mode = MODE_PREALLOC };
}

/* The constraints between options, and pipe_bench's pairing rules. */
static int pipe_check(void *priv, char *err, size_t len)
{
	struct pipe_params *p = priv;

	if (p->msgsize % 8) {
		snprintf(err, len, "-s: %lu is not a multiple of 8",
			 p->msgsize);
		return -EINVAL;
	}
	if (p->pipe_size % PAGE) {
		snprintf(err, len, "-p: %lu is not a multiple of %lu",
			 p->pipe_size, PAGE);
		return -EINVAL;
	}
	if (p->writers && !p->readers)
		p->readers = 1;
	if (p->readers && !p->writers)
		p->writers = 1;
	if (p->lockstep && (p->writers > 1 || p->readers > 1)) {
		snprintf(err, len,
			 "--lockstep needs one writer and one reader");
		return -EINVAL;
	}
	if (p->lockstep)
		p->writers = p->readers = 1;
	return 0;
}

static const struct wl_option pipe_options[] = {
	WL_OPT(WL_OPT_ENUM, "mode", pipe_params, mode, .names = mode_names,
	       .help = "anon_pipe_write()'s page source"),
	WL_OPT(WL_OPT_INT, "writers", pipe_params, writers, .short_name = "-w",
	       .lo = 1, .hi = 64, .help = "writer threads"),
	WL_OPT(WL_OPT_INT, "readers", pipe_params, readers, .short_name = "-r",
	       .lo = 1, .hi = 64, .help = "reader threads"),
	WL_OPT(WL_OPT_INT, "msgsize", pipe_params, msgsize, .short_name = "-s",
	       .lo = 8, .hi = 64 << 20,
	       .help = "bytes per write (a multiple of 8)"),
	WL_OPT(WL_OPT_INT, "pipe-size", pipe_params, pipe_size,
	       .short_name = "-p", .lo = 2 * PAGE, .hi = 64 << 20,
	       .help = "pipe capacity in bytes (whole pages)"),
	WL_OPT(WL_OPT_DOUBLE, "duration", pipe_params, duration,
	       .short_name = "-d", .lo = 0.001, .hi = 3600,
	       .help = "seconds per configuration"),
	WL_OPT(WL_OPT_FLAG, "memcg", pipe_params, memcg, .cli_only = true,
	       .short_name = "--memcg",
	       .help = "--config memcg=on: prealloc-bulk degrades to 1 page"),
	WL_OPT(WL_OPT_FLAG, "lockstep", pipe_params, lockstep,
	       .help = "one writer and one reader take turns"),
	{ 0 }
};
static int pipe_nr_cpus(const struct wl_opts *o, const void *priv)
{
	const struct pipe_params *p = priv;

	(void)o;
	return p->writers ? p->writers + p->readers : 15;
}

static void pipe_adjust(struct wl_opts *o, const void *priv)
{
	const struct pipe_params *p = priv;

	o->cfg.backing = PCPB_BACKING_ANON; /* the bytes are real */
	if (p->memcg)
		o->cfg.memcg = true;
}

static const char pipe_usage[] =
	"usage: pcpbuddy run pipe [-w writers] [-r readers] [-s msgsize] [-d seconds]\n"
	"                         [-p pipe_size] [--mode M] [--memcg]\n"
	"                         [--memory-pressure] [--config k=v,...]\n"
	"\n"
	"A model of anon_pipe_write/anon_pipe_read over pcpbuddy pages, driven\n"
	"like tools/testing/selftests/pipe/pipe_bench.c: writers write msgsize\n"
	"bytes per write(), readers drain, pages are allocated on the writer's\n"
	"CPU and freed on the reader's.  Without -w/-r it runs pipe_bench's\n"
	"sweep, writers {1,2,5} x readers {1,5,10}, a fresh pipe each.\n"
	"Output: pipe_bench's metrics per configuration, then the pipe mutex's\n"
	"hold/wait, where pages were allocated and freed, and the check that\n"
	"every byte arrived once (in order with one writer and one reader).\n"
	"\n"
	"  --mode M     baseline | prealloc (default) | pool | prealloc-bulk\n"
	"  -s msgsize   bytes per write, a multiple of 8 (default 65536)\n"
	"  -d seconds   per configuration (default 3); --ops N: N writes each\n"
	"  -p size      pipe size in bytes (default 1 MiB = 256 slots)\n"
	"  --memcg      memcg accounting on: prealloc-bulk degrades to 1 page\n"
	"  --lockstep   one writer and one reader take turns message by message:\n"
	"               each mode's page discipline without the races\n"
	"  compare: pcpbuddy compare pipe -w 2 -r 2 -d 2 --configs mode=baseline mode=prealloc mode=pool\n"
	"Exit: 0 ok, 1 check failed or bytes corrupted, 2 bad arguments.\n";

const struct workload wl_pipe = {
	.name = "pipe",
	.summary =
		"anon_pipe_write/read: baseline, prealloc (v3), pool (RFC), prealloc-bulk (v1)",
	.usage = pipe_usage,
	.priv_size = sizeof(struct pipe_params),
	.init = pipe_init,
	.options = pipe_options,
	.check = pipe_check,
	.nr_cpus = pipe_nr_cpus,
	.adjust = pipe_adjust,
	.run = pipe_run_all,
};
