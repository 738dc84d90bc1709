// SPDX-License-Identifier: GPL-2.0-only OR MIT
/*
 * stacks.c - code running on stacks the program mapped itself calls mmap,
 * munmap and madvise, as coroutine libraries and threads with their own
 * stacks do.  Under the preload shim each new depth of such a stack is a
 * first touch the shim serves, possibly while its own hook runs on it.
 *
 *   preload-stacks context   makecontext/swapcontext on an mmap()ed stack
 *   preload-stacks thread    pthread_attr_setstack() with an mmap()ed stack
 *
 * Prints "ok" and exits 0; a hang is killed by alarm() (exit by SIGALRM).
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <ucontext.h>
#include <unistd.h>

#define STACK_BYTES (1 << 20)
#define DEPTH 200

static int errors;

/* Each level puts 2 KiB on the stack (new pages every other level), then
 * maps, touches, purges and unmaps a little memory. */
static unsigned int descend(int level)
{
	volatile char frame[2048];
	unsigned int sum;
	char *p;

	memset((char *)frame, level & 0xff, sizeof(frame));
	p = mmap(NULL, 8 * 4096, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED) {
		errors++;
		return 0;
	}
	p[0] = 1;
	p[5 * 4096] = 2;
	if (madvise(p, 8 * 4096, MADV_DONTNEED) || p[0] != 0 ||
	    munmap(p, 8 * 4096))
		errors++;
	sum = level < DEPTH ? descend(level + 1) : 0;
	return sum + (unsigned char)frame[level % sizeof(frame)];
}

static ucontext_t main_ctx, co_ctx;

static void coroutine(void)
{
	if (descend(0) == 0)
		errors++;
}

static void *mapped_stack(void)
{
	void *s = mmap(NULL, STACK_BYTES, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	return s == MAP_FAILED ? NULL : s;
}

static int on_context(void)
{
	void *stack = mapped_stack();

	if (!stack || getcontext(&co_ctx))
		return -1;
	co_ctx.uc_stack.ss_sp = stack;
	co_ctx.uc_stack.ss_size = STACK_BYTES;
	co_ctx.uc_link = &main_ctx;
	makecontext(&co_ctx, coroutine, 0);
	if (swapcontext(&main_ctx, &co_ctx))
		return -1;
	return munmap(stack, STACK_BYTES);
}

static void *thread_main(void *arg)
{
	(void)arg;
	if (descend(0) == 0)
		errors++;
	return NULL;
}

static int on_thread(void)
{
	void *stack = mapped_stack();
	pthread_attr_t attr;
	pthread_t t;

	if (!stack || pthread_attr_init(&attr) ||
	    pthread_attr_setstack(&attr, stack, STACK_BYTES) ||
	    pthread_create(&t, &attr, thread_main, NULL) ||
	    pthread_join(t, NULL))
		return -1;
	pthread_attr_destroy(&attr);
	return munmap(stack, STACK_BYTES);
}

int main(int argc, char **argv)
{
	int rc;

	alarm(30); /* a hang fails instead of waiting forever */
	if (argc == 2 && !strcmp(argv[1], "context"))
		rc = on_context();
	else if (argc == 2 && !strcmp(argv[1], "thread"))
		rc = on_thread();
	else
		rc = -1;
	if (rc || errors) {
		printf("FAIL: rc %d, %d errors\n", rc, errors);
		return 1;
	}
	printf("ok\n");
	return 0;
}
