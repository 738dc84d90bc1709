// SPDX-License-Identifier: GPL-2.0-only OR MIT
/*
 * crossfree.c - a cross-CPU free for kernel captures: a thread on CPU 0
 * faults in anonymous memory, a thread on CPU 1 gives it back (munmap, or
 * madvise(MADV_DONTNEED) with "madvise"), so the pages are freed on
 * another CPU than the one that allocated them.  Rounds repeat it.  With
 * "exit" the memory is faulted in and the process exits holding it: the
 * exit frees it all at once (an exit avalanche).
 *   crossfree [MiB per round] [rounds] [munmap|madvise|exit]
 * Invariants: none.  Locking: the two threads hand the region over by
 * joining, nothing else is shared.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

static size_t len;
static char *region;
static int use_madvise;

static void pin(int cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	sched_setaffinity(0, sizeof(set), &set);
}

static void *fault_in(void *arg)
{
	(void)arg;
	pin(0);
	for (size_t off = 0; off < len; off += 4096)
		region[off] = 1;
	return NULL;
}

static void *give_back(void *arg)
{
	(void)arg;
	pin(1);
	if (use_madvise)
		madvise(region, len, MADV_DONTNEED);
	else
		munmap(region, len);
	return NULL;
}

int main(int argc, char **argv)
{
	int rounds = argc > 2 ? atoi(argv[2]) : 8;
	pthread_t t;

	len = (size_t)(argc > 1 ? atoi(argv[1]) : 64) << 20;
	use_madvise = argc > 3 && !strcmp(argv[3], "madvise");
	for (int r = 0; r < rounds; r++) {
		if (!use_madvise || !region) {
			region = mmap(NULL, len, PROT_READ | PROT_WRITE,
				      MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
			if (region == MAP_FAILED)
				return 1;
			/* 4 KiB pages: the PCP's order 0, not THP's order 9 */
			madvise(region, len, MADV_NOHUGEPAGE);
		}
		pthread_create(&t, NULL, fault_in, NULL);
		pthread_join(t, NULL);
		if (argc > 3 && !strcmp(argv[3], "exit"))
			continue; /* freed by the exit */
		pthread_create(&t, NULL, give_back, NULL);
		pthread_join(t, NULL);
	}
	return 0;
}
