// SPDX-License-Identifier: GPL-2.0-only OR MIT
/*
 * prog.c - the LD_PRELOAD shim's test program: threads mmap, touch,
 * madvise, mremap and munmap private anonymous memory, verify every page's
 * bytes with a checksum, and print what they did as JSON, so that
 * tests/preload/run.sh can hold the shim's report to it.
 *
 *   prog [--threads N] [--rounds R] [--fork] [--exec PATH]
 *
 * In fault mode each first touch of a page is one fault; a page freed by
 * MADV_DONTNEED or MADV_FREE and touched again faults again.  A quarter of
 * the regions are unmapped by the next thread (a cross-thread free), and a
 * read(2) fills an untouched buffer from inside the kernel.
 * --big: each thread also maps 4 MiB (a 2 MiB THP extent at least);
 * --fork: a child (no exec) does a round of its own and exits; --exec: a
 * child runs PATH.  A 2 ms interval timer interrupts everything.  Exit: 0 when every byte checked out, 1 otherwise.
 *
 * Invariants: each region is touched, checked and unmapped exactly once.
 * Locking: a mutex-protected hand-off slot per thread.
 */
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#define PAGE 4096UL

struct counts {
	uint64_t mmaps, mapped_pages, touched, dontneed_calls, dontneed_pages,
		free_calls, free_pages, munmap_calls, munmap_pages,
		remote_pages, mremap_calls, reserves_opened, bad;
};

struct handoff {
	pthread_mutex_t lock;
	char *addr;
	size_t pages;
};

static int nr_threads = 4, rounds = 200;
static bool big;
static volatile sig_atomic_t ticks;

static void on_alarm(int sig)
{
	(void)sig;
	ticks++;
}
static struct handoff *slots;
static struct counts total;
static pthread_mutex_t total_lock = PTHREAD_MUTEX_INITIALIZER;

static uint64_t word(unsigned int seed, size_t page)
{
	return ((uint64_t)seed << 32 | page) * 0x9e3779b97f4a7c15ULL;
}

static void fill(char *p, size_t from, size_t to, unsigned int seed)
{
	size_t i;

	for (i = from; i < to; i++) {
		uint64_t *w = (uint64_t *)(p + i * PAGE);
		size_t k;

		for (k = 0; k < PAGE / 8; k += 64)
			w[k] = word(seed, i) + k;
	}
}

/* Return: the pages whose bytes are not what fill() or zero left. */
static uint64_t check(const char *p, size_t from, size_t to, unsigned int seed,
		      bool zero)
{
	uint64_t bad = 0;
	size_t i, k;

	for (i = from; i < to; i++) {
		const uint64_t *w = (const uint64_t *)(p + i * PAGE);

		for (k = 0; k < PAGE / 8; k += 64)
			if (w[k] != (zero ? 0 : word(seed, i) + k)) {
				bad++;
				break;
			}
	}
	return bad;
}

static char *map(size_t pages, struct counts *c)
{
	char *p = mmap(NULL, pages * PAGE, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED) {
		perror("mmap");
		exit(1);
	}
	c->mmaps++;
	c->mapped_pages += pages;
	return p;
}

static void unmap(char *p, size_t pages, struct counts *c)
{
	if (munmap(p, pages * PAGE))
		c->bad++;
	c->munmap_calls++;
	c->munmap_pages += pages;
}

static void one_round(int me, int r, struct counts *c)
{
	unsigned int seed = (unsigned int)(me * 100000 + r);
	size_t pages = 8 + (size_t)(seed * 2654435761U % 57), half = pages / 2;
	struct handoff *next = &slots[(me + 1) % nr_threads];
	int pfd[2];
	char *p = map(pages, c);

	/* Fresh memory reads as zero (a read fault is a touch too). */
	c->bad += check(p, 0, pages, seed, true);
	fill(p, 0, pages, seed);
	c->touched += pages;
	c->bad += check(p, 0, pages, seed, false);

	/* Purge the first half: it reads zero, and refaults when rewritten. */
	if (madvise(p, half * PAGE, MADV_DONTNEED))
		c->bad++;
	c->dontneed_calls++;
	c->dontneed_pages += half;
	c->bad += check(p, 0, half, seed, true);
	c->touched += half;
	fill(p, 0, half, seed);

	/* MADV_FREE on the second half: rewritten before it is read. */
	if (madvise(p + half * PAGE, (pages - half) * PAGE, MADV_FREE))
		c->bad++;
	c->free_calls++;
	c->free_pages += pages - half;
	fill(p, half, pages, seed);
	c->touched += pages - half; /* fault mode forwards it as DONTNEED */
	c->bad += check(p, 0, pages, seed, false);

	/* Every eighth round: grow by mremap; the bytes move with it. */
	if (r % 8 == 0) {
		char *q = mremap(p, pages * PAGE, (pages + 4) * PAGE,
				 MREMAP_MAYMOVE);

		if (q == MAP_FAILED) {
			c->bad++;
		} else {
			p = q;
			c->mremap_calls++;
			c->bad += check(p, 0, pages, seed, false);
			fill(p, pages, pages + 4, seed);
			c->touched += 4;
			pages += 4;
		}
	}

	/* A pipe's read(2) touches an untouched region from the kernel. */
	if (r % 16 == 1 && !pipe(pfd)) {
		char *buf = map(1, c);
		static const char msg[] = "written by the kernel";

		if (write(pfd[1], msg, sizeof(msg)) != (ssize_t)sizeof(msg) ||
		    read(pfd[0], buf, sizeof(msg)) != (ssize_t)sizeof(msg) ||
		    memcmp(buf, msg, sizeof(msg)))
			c->bad++;
		c->touched++;
		close(pfd[0]);
		close(pfd[1]);
		unmap(buf, 1, c);
	}

	/* A quarter go to the next thread to unmap: cross-thread frees. */
	if (r % 4 == 3 && nr_threads > 1) {
		char *old;
		size_t old_pages;

		pthread_mutex_lock(&next->lock);
		old = next->addr;
		old_pages = next->pages;
		next->addr = p;
		next->pages = pages;
		pthread_mutex_unlock(&next->lock);
		if (old) { /* the neighbour has not taken the previous one */
			unmap(old, old_pages, c);
			c->remote_pages -= old_pages;
		}
		c->remote_pages += pages;
		return;
	}
	unmap(p, pages, c);
}

static void *worker(void *arg)
{
	int me = (int)(intptr_t)arg, r;
	struct handoff *mine = &slots[me];
	struct counts c = { 0 };

	for (r = 0; r < rounds; r++) {
		one_round(me, r, &c);
		if (r == 0) {
			/* A PROT_NONE reservation, a quarter opened by
			 * mprotect: only that quarter is served. */
			char *res = mmap(NULL, 64 * PAGE, PROT_NONE,
					 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

			if (res == MAP_FAILED ||
			    mprotect(res, 16 * PAGE, PROT_READ | PROT_WRITE)) {
				c.bad++;
			} else {
				fill(res, 0, 16, (unsigned int)me);
				c.touched += 16;
				c.bad += check(res, 0, 16, (unsigned int)me,
					       false);
				c.reserves_opened++;
				c.munmap_calls++;
				c.munmap_pages += 16; /* the served quarter */
				if (munmap(res, 64 * PAGE))
					c.bad++;
			}
		}
		if (big && r == 0) {
			/* 4 MiB hold at least one aligned 2 MiB extent (THP). */
			char *p = map(1024, &c);

			fill(p, 0, 1024, (unsigned int)me);
			c.touched += 1024;
			c.bad += check(p, 0, 1024, (unsigned int)me, false);
			unmap(p, 1024, &c);
		}
		pthread_mutex_lock(&mine->lock);
		if (mine->addr) {
			/* Written by another thread: check, then unmap here. */
			unmap(mine->addr, mine->pages, &c);
			mine->addr = NULL;
		}
		pthread_mutex_unlock(&mine->lock);
	}
	pthread_mutex_lock(&total_lock);
	total.mmaps += c.mmaps;
	total.mapped_pages += c.mapped_pages;
	total.touched += c.touched;
	total.dontneed_calls += c.dontneed_calls;
	total.dontneed_pages += c.dontneed_pages;
	total.free_calls += c.free_calls;
	total.free_pages += c.free_pages;
	total.munmap_calls += c.munmap_calls;
	total.munmap_pages += c.munmap_pages;
	total.remote_pages += c.remote_pages;
	total.mremap_calls += c.mremap_calls;
	total.reserves_opened += c.reserves_opened;
	total.bad += c.bad;
	pthread_mutex_unlock(&total_lock);
	return NULL;
}

/*
 * A child: with @path it execs it (and starts clean under the shim);
 * without, it does a round of its own, which the shim passes through.
 * Return: 0 when the child exited 0.
 */
static int child(const char *path)
{
	struct counts c = { 0 };
	pid_t pid = fork();
	int status;

	if (pid < 0)
		return 1;
	if (pid == 0 && path) {
		execl(path, path, "--threads", "1", "--rounds", "4",
		      (char *)NULL);
		_exit(127);
	}
	if (pid == 0) {
		one_round(0, 1, &c);
		exit(c.bad ? 1 : 0);
	}
	waitpid(pid, &status, 0);
	return !WIFEXITED(status) || WEXITSTATUS(status);
}

int main(int argc, char **argv)
{
	pthread_t *tid;
	const char *exec_path = NULL;
	bool do_fork = false;
	int i, child_bad = 0;

	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--threads") && i + 1 < argc)
			nr_threads = atoi(argv[++i]);
		else if (!strcmp(argv[i], "--rounds") && i + 1 < argc)
			rounds = atoi(argv[++i]);
		else if (!strcmp(argv[i], "--fork"))
			do_fork = true;
		else if (!strcmp(argv[i], "--big"))
			big = true;
		else if (!strcmp(argv[i], "--exec") && i + 1 < argc)
			exec_path = argv[++i];
		else {
			fprintf(stderr,
				"usage: prog [--threads N] [--rounds R] [--big] [--fork] [--exec PATH]\n");
			return 2;
		}
	}
	if (nr_threads < 1 || rounds < 1)
		return 2;
	/* Signals land in the middle of hooks and faults throughout. */
	{
		struct itimerval it = { { 0, 2000 }, { 0, 2000 } };

		signal(SIGALRM, on_alarm);
		setitimer(ITIMER_REAL, &it, NULL);
	}
	/* The shim keeps the real call's errno. */
	errno = 0;
	if (munmap((void *)1, PAGE) != -1 || errno != EINVAL ||
	    madvise(NULL, PAGE, 12345) != -1 || errno != EINVAL ||
	    mmap(NULL, PAGE, PROT_READ, MAP_PRIVATE, -1, 0) != MAP_FAILED ||
	    errno != EBADF) {
		fprintf(stderr, "prog: errno not preserved: %d\n", errno);
		total.bad++;
	}
	slots = calloc((size_t)nr_threads, sizeof(*slots));
	tid = calloc((size_t)nr_threads, sizeof(*tid));
	for (i = 0; i < nr_threads; i++) {
		pthread_mutex_init(&slots[i].lock, NULL);
		pthread_create(&tid[i], NULL, worker, (void *)(intptr_t)i);
	}
	for (i = 0; i < nr_threads; i++)
		pthread_join(tid[i], NULL);
	/* What is still handed off goes now, on the main thread. */
	for (i = 0; i < nr_threads; i++)
		if (slots[i].addr)
			unmap(slots[i].addr, slots[i].pages, &total);
	{
		struct itimerval off = { { 0, 0 }, { 0, 0 } };

		setitimer(ITIMER_REAL, &off, NULL);
	}
	if (do_fork)
		child_bad |= child(NULL);
	if (exec_path)
		child_bad |= child(exec_path);
	printf("{\"mmaps\": %llu, \"mapped_pages\": %llu, \"touched\": %llu, \"dontneed_calls\": %llu, \"dontneed_pages\": %llu, \"free_calls\": %llu, \"free_pages\": %llu, \"munmap_calls\": %llu, \"munmap_pages\": %llu, \"remote_pages\": %llu, \"mremap_calls\": %llu, \"reserves_opened\": %llu, \"bad_pages\": %llu, \"child_bad\": %d}\n",
	       (unsigned long long)total.mmaps,
	       (unsigned long long)total.mapped_pages,
	       (unsigned long long)total.touched,
	       (unsigned long long)total.dontneed_calls,
	       (unsigned long long)total.dontneed_pages,
	       (unsigned long long)total.free_calls,
	       (unsigned long long)total.free_pages,
	       (unsigned long long)total.munmap_calls,
	       (unsigned long long)total.munmap_pages,
	       (unsigned long long)total.remote_pages,
	       (unsigned long long)total.mremap_calls,
	       (unsigned long long)total.reserves_opened,
	       (unsigned long long)total.bad, child_bad);
	free(slots);
	free(tid);
	return total.bad || child_bad ? 1 : 0;
}
