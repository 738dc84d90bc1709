// SPDX-License-Identifier: GPL-2.0-only OR MIT
/*
 * jemalloc.c - a program linked with Debian's libjemalloc2, for the shim's
 * purge test: threads allocate, fill and free blocks of 8 KiB to 1 MiB in
 * waves, idling between them so that jemalloc's background threads
 * (MALLOC_CONF=background_thread:true,dirty_decay_ms:100,...) purge the
 * dirty pages with MADV_FREE / MADV_DONTNEED on threads of their own.
 *
 *   jemalloc [--threads N] [--waves W]
 *
 * Every block is checked before it is freed.  Exit: 0, or 1 on bad bytes.
 * Invariants: a block is written and checked by the thread that owns it.
 * Locking: none shared; jemalloc's own.
 */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define BLOCKS 64

static int nr_threads = 4, waves = 6;
static uint64_t bad_total;

static void *worker(void *arg)
{
	unsigned int seed = (unsigned int)(uintptr_t)arg * 7919U + 1;
	uint64_t bad = 0;
	int w, b;

	for (w = 0; w < waves; w++) {
		unsigned char *blk[BLOCKS];
		size_t len[BLOCKS];

		for (b = 0; b < BLOCKS; b++) {
			seed = seed * 1103515245U + 12345U;
			len[b] = (size_t)8192 << (seed >> 16) % 8;
			blk[b] = malloc(len[b]);
			if (!blk[b])
				return (void *)1;
			memset(blk[b], (int)(b + w) & 0xff, len[b]);
		}
		for (b = 0; b < BLOCKS; b++) {
			size_t i;

			for (i = 0; i < len[b]; i += 4096)
				bad += blk[b][i] != ((b + w) & 0xff);
			free(blk[b]);
		}
		/* Idle past the decay time: the background threads purge. */
		usleep(250 * 1000);
	}
	__atomic_add_fetch(&bad_total, bad, __ATOMIC_RELAXED);
	return NULL;
}

int main(int argc, char **argv)
{
	pthread_t tid[64];
	int i;

	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--threads") && i + 1 < argc)
			nr_threads = atoi(argv[++i]);
		else if (!strcmp(argv[i], "--waves") && i + 1 < argc)
			waves = atoi(argv[++i]);
		else {
			fprintf(stderr,
				"usage: jemalloc [--threads N] [--waves W]\n");
			return 2;
		}
	}
	if (nr_threads < 1 || nr_threads > 64)
		return 2;
	for (i = 0; i < nr_threads; i++)
		pthread_create(&tid[i], NULL, worker, (void *)(uintptr_t)i);
	for (i = 0; i < nr_threads; i++)
		pthread_join(tid[i], NULL);
	printf("{\"threads\": %d, \"waves\": %d, \"bad_pages\": %llu}\n",
	       nr_threads, waves, (unsigned long long)bad_total);
	return bad_total ? 1 : 0;
}
