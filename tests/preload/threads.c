// SPDX-License-Identifier: GPL-2.0-only OR MIT
/*
 * threads.c - more threads over the program's life than the shim has
 * thread slots (4,096), one at a time, each faulting exactly one served
 * page: the report's per-thread figures must stay per thread.
 *
 *   preload-threads [N]   N threads (default 6000); prints "ok"
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>

static void *one_page(void *arg)
{
	char *p = mmap(NULL, 2 * 4096, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	(void)arg;
	if (p == MAP_FAILED)
		return (void *)1;
	p[0] = 1;
	munmap(p, 2 * 4096);
	return NULL;
}

int main(int argc, char **argv)
{
	int i, n = argc > 1 ? atoi(argv[1]) : 6000;

	for (i = 0; i < n; i++) {
		pthread_t t;
		void *rc;

		if (pthread_create(&t, NULL, one_page, NULL) ||
		    pthread_join(t, &rc) || rc) {
			printf("FAIL: thread %d\n", i);
			return 1;
		}
	}
	printf("ok\n");
	return 0;
}
