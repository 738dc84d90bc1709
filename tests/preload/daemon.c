// SPDX-License-Identifier: GPL-2.0-only OR MIT
/*
 * daemon.c - a program that daemonizes as redis-server --daemonize yes
 * does (fork, the parent exits, setsid, fork again, the first child exits)
 * and then works: maps, fills, checks and unmaps anonymous memory, and
 * unmaps some of what it inherited from before the forks.  The shim must
 * follow it: the daemon's mappings served, its own report written.
 *
 *   daemon DONE_FILE [ROUNDS]
 *
 * The daemon writes one JSON line to DONE_FILE when it is done (the
 * parent has long exited, so the test waits for the file).  Exit: 0, or 1
 * when a page read back wrong.
 */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define PAGE 4096UL

/* Map @pages, write each page's own pattern, read it back, unmap. */
static unsigned long one_round(unsigned long pages, unsigned long seed)
{
	unsigned char *p = mmap(NULL, pages * PAGE, PROT_READ | PROT_WRITE,
				MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	unsigned long i, bad = 0;

	if (p == MAP_FAILED)
		return pages;
	for (i = 0; i < pages; i++)
		memset(p + i * PAGE, (int)((i + seed) & 0xff), PAGE);
	for (i = 0; i < pages; i++)
		bad += p[i * PAGE + PAGE / 2] !=
		       (unsigned char)((i + seed) & 0xff);
	munmap(p, pages * PAGE);
	return bad;
}

int main(int argc, char **argv)
{
	unsigned long rounds = argc > 2 ? strtoul(argv[2], NULL, 10) : 50;
	unsigned long i, bad = 0, pages = 0;
	unsigned char *before;
	FILE *f;

	if (argc < 2) {
		fprintf(stderr, "usage: daemon DONE_FILE [ROUNDS]\n");
		return 2;
	}
	/* Memory the daemon inherits: mapped and touched before the forks. */
	before = mmap(NULL, 64 * PAGE, PROT_READ | PROT_WRITE,
		      MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (before == MAP_FAILED)
		return 1;
	memset(before, 0x5a, 32 * PAGE);
	if (fork())
		return 0; /* the parent exits at once */
	setsid();
	if (fork())
		_exit(0); /* the session leader exits too */
	for (i = 0; i < rounds; i++) {
		bad += one_round(16 + i % 48, i);
		pages += 16 + i % 48;
	}
	for (i = 0; i < 32; i++)
		bad += before[i * PAGE] != 0x5a;
	munmap(before, 64 * PAGE);
	f = fopen(argv[1], "w");
	if (!f)
		return 1;
	fprintf(f, "{\"pid\": %d, \"pages\": %lu, \"bad\": %lu}\n",
		(int)getpid(), pages, bad);
	fclose(f);
	return bad ? 1 : 0;
}
