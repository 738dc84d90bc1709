// SPDX-License-Identifier: GPL-2.0-only OR MIT
/*
 * fdsafe.c - a program that does to its descriptors what daemons and
 * shells do, under the preload shim: its bytes must arrive exactly, its
 * memory must keep working, and the shim's fault handler must never read
 * the program's files or spin.
 *
 *   preload-fdsafe closefrom   fault memory, closefrom(3), then a pipe
 *                              carries 4 MiB between two threads while
 *                              new memory faults
 *   preload-fdsafe dup2        dup2() a pipe over the shim's userfaultfd
 *                              (found in /proc/self/fd), fault memory,
 *                              read the pipe back through that number
 *   preload-fdsafe rawclose    close the shim's descriptor with a raw
 *                              system call and dup2() a file over it the
 *                              same way: the file reads back whole, new
 *                              memory still works, and no CPU is burnt
 *
 * Prints "ok" and exits 0, or names what went wrong and exits 1.
 */
#include <dirent.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#define PIPE_BYTES (4 << 20)

static int fail(const char *what)
{
	printf("FAIL: %s\n", what);
	return 1;
}

/* Map and touch @pages pages; each page gets its own pattern. */
static int touch_memory(size_t pages)
{
	char *p = mmap(NULL, pages * 4096, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	size_t i;

	if (p == MAP_FAILED)
		return -1;
	for (i = 0; i < pages; i++)
		memset(p + i * 4096, (int)(i & 0xff), 4096);
	for (i = 0; i < pages; i++)
		if (p[i * 4096 + 123] != (char)(i & 0xff))
			return -1;
	return munmap(p, pages * 4096);
}

/* Mapped before the descriptor games, touched after: a fault the shim
 * registered under its old descriptor arrives after the number changed. */
static char *early;
#define EARLY_PAGES 64

static int map_early(void)
{
	early = mmap(NULL, EARLY_PAGES * 4096, PROT_READ | PROT_WRITE,
		     MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (early == MAP_FAILED)
		return -1;
	early[0] = 1;
	return 0;
}

static int touch_early(void)
{
	size_t i;

	for (i = 1; i < EARLY_PAGES; i++)
		early[i * 4096] = (char)i;
	for (i = 1; i < EARLY_PAGES; i++)
		if (early[i * 4096] != (char)i)
			return -1;
	return munmap(early, EARLY_PAGES * 4096);
}

/* The descriptor /proc/self/fd names anon_inode:[userfaultfd], or -1. */
static int find_uffd(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	int found = -1;

	while (d && (e = readdir(d))) {
		char path[300], link[64];
		ssize_t n;

		snprintf(path, sizeof(path), "/proc/self/fd/%s", e->d_name);
		n = readlink(path, link, sizeof(link) - 1);
		if (n > 0) {
			link[n] = '\0';
			if (!strcmp(link, "anon_inode:[userfaultfd]"))
				found = atoi(e->d_name);
		}
	}
	if (d)
		closedir(d);
	return found;
}

static int pipe_w;

static void *writer(void *arg)
{
	static char buf[65536];
	size_t done = 0;

	(void)arg;
	while (done < PIPE_BYTES) {
		size_t i, n = sizeof(buf);

		for (i = 0; i < n; i++)
			buf[i] = (char)((done + i) * 131 % 251);
		if (write(pipe_w, buf, n) != (ssize_t)n)
			return (void *)1;
		done += n;
	}
	close(pipe_w);
	return NULL;
}

/* Read @fd to its end; every byte must be (offset * 131 % 251). */
static int read_pattern(int fd, size_t want)
{
	static char buf[65536];
	size_t got = 0;
	ssize_t n, i;

	while ((n = read(fd, buf, sizeof(buf))) > 0) {
		for (i = 0; i < n; i++)
			if (buf[i] != (char)((got + (size_t)i) * 131 % 251))
				return -1;
		got += (size_t)n;
		if (touch_memory(8)) /* faults while the data flows */
			return -1;
	}
	return n == 0 && got == want ? 0 : -1;
}

static int through_a_pipe(void)
{
	pthread_t t;
	int fds[2], rc;
	void *wrc;

	if (pipe(fds))
		return -1;
	pipe_w = fds[1];
	if (pthread_create(&t, NULL, writer, NULL))
		return -1;
	rc = read_pattern(fds[0], PIPE_BYTES);
	pthread_join(t, &wrc);
	close(fds[0]);
	return rc || wrc ? -1 : 0;
}

static int do_closefrom(void)
{
	if (touch_memory(256) || map_early())
		return fail("memory before closefrom");
	closefrom(3);
	if (touch_early())
		return fail("memory mapped before closefrom");
	if (through_a_pipe())
		return fail("the pipe's bytes after closefrom(3)");
	if (touch_memory(256))
		return fail("memory after closefrom");
	return 0;
}

static int do_dup2(void)
{
	int u = find_uffd(), fds[2];
	pthread_t t;
	void *wrc;
	int rc;

	if (u < 0)
		return fail(
			"no userfaultfd in /proc/self/fd (not under the shim?)");
	if (touch_memory(64) || map_early() || pipe(fds))
		return fail("setup");
	if (dup2(fds[0], u) != u)
		return fail("dup2 over the shim's descriptor");
	close(fds[0]);
	if (touch_early())
		return fail("memory mapped before the dup2");
	pipe_w = fds[1];
	if (pthread_create(&t, NULL, writer, NULL))
		return fail("thread");
	rc = read_pattern(u, PIPE_BYTES);
	pthread_join(t, &wrc);
	if (rc || wrc)
		return fail("the pipe's bytes through the dup2()ed number");
	if (touch_memory(256))
		return fail("memory after dup2");
	return 0;
}

static double cpu_seconds(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 +
	       (double)ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
}

static int do_rawclose(void)
{
	char path[] = "/tmp/preload-fdsafe-XXXXXX";
	int u = find_uffd(), f;
	double cpu0;

	if (u < 0)
		return fail(
			"no userfaultfd in /proc/self/fd (not under the shim?)");
	if (touch_memory(64) || map_early())
		return fail("setup");
	pipe_w = mkstemp(path); /* a file with the pattern */
	if (pipe_w < 0 || writer(NULL))
		return fail("writing a file");
	f = open(path, O_RDONLY);
	unlink(path);
	if (f < 0)
		return fail("reopening the file");
	if (syscall(SYS_close, u) || syscall(SYS_dup2, f, u) != u)
		return fail("raw close and dup2 over the shim's descriptor");
	close(f);
	cpu0 = cpu_seconds();
	if (touch_early())
		return fail("memory mapped before the raw close");
	if (touch_memory(256))
		return fail("memory after the raw close");
	if (read_pattern(u, PIPE_BYTES))
		return fail("the file's bytes through the reused number");
	usleep(300000);
	if (cpu_seconds() - cpu0 > 0.25)
		return fail(
			"CPU burnt after the raw close (a spinning handler?)");
	return 0;
}

int main(int argc, char **argv)
{
	int rc;

	if (argc != 2)
		return fail("usage: preload-fdsafe closefrom|dup2|rawclose");
	if (!strcmp(argv[1], "closefrom"))
		rc = do_closefrom();
	else if (!strcmp(argv[1], "dup2"))
		rc = do_dup2();
	else if (!strcmp(argv[1], "rawclose"))
		rc = do_rawclose();
	else
		rc = fail("unknown mode");
	if (!rc)
		printf("ok\n");
	return rc;
}
