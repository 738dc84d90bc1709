// SPDX-License-Identifier: GPL-2.0-only OR MIT
/*
 * ownuffd.c - a program with its own userfaultfd (as CRIU, QEMU's postcopy
 * and garbage collectors have): it registers an anonymous mapping and
 * fills every page it touches with its own pattern.  Under the preload
 * shim, which serves the same mapping through its userfaultfd, the
 * registration must still succeed, the pattern arrive, and the pages
 * written before the registration keep what was written.
 *
 * Prints "ok" and exits 0, or names what went wrong and exits 1.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/userfaultfd.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#define PAGES 64
#define TOUCHED 4 /* before the registration: the program's data */

static int uffd;
static char pattern[4096];

static void *serve(void *arg)
{
	int served = 0;

	(void)arg;
	while (served < PAGES - TOUCHED) {
		struct pollfd p = { .fd = uffd, .events = POLLIN };
		struct uffd_msg msg;
		struct uffdio_copy c;

		if (poll(&p, 1, 10000) <= 0)
			return (void *)1;
		if (read(uffd, &msg, sizeof(msg)) != sizeof(msg))
			continue;
		if (msg.event != UFFD_EVENT_PAGEFAULT)
			continue;
		c.dst = msg.arg.pagefault.address & ~4095ULL;
		c.src = (unsigned long)pattern;
		c.len = 4096;
		c.mode = 0;
		if (!ioctl(uffd, UFFDIO_COPY, &c))
			served++;
	}
	return NULL;
}

int main(void)
{
	struct uffdio_api api = { .api = UFFD_API };
	struct uffdio_register reg;
	pthread_t t;
	void *trc;
	char *p;
	int i;

	memset(pattern, 'A', sizeof(pattern));
	uffd = (int)syscall(SYS_userfaultfd, O_CLOEXEC | O_NONBLOCK);
	if (uffd < 0 || ioctl(uffd, UFFDIO_API, &api)) {
		printf("FAIL: no userfaultfd here: %s\n", strerror(errno));
		return 1;
	}
	p = mmap(NULL, PAGES * 4096, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return 1;
	for (i = 0; i < TOUCHED; i++)
		p[i * 4096 + 7] = 'Z';
	reg.range.start = (unsigned long)p;
	reg.range.len = PAGES * 4096;
	reg.mode = UFFDIO_REGISTER_MODE_MISSING;
	if (ioctl(uffd, UFFDIO_REGISTER, &reg)) {
		printf("FAIL: UFFDIO_REGISTER: %s\n", strerror(errno));
		return 1;
	}
	if (pthread_create(&t, NULL, serve, NULL))
		return 1;
	for (i = 0; i < PAGES; i++)
		if (p[i * 4096 + 7] != (i < TOUCHED ? 'Z' : 'A')) {
			printf("FAIL: page %d is not the program's\n", i);
			return 1;
		}
	pthread_join(t, &trc);
	if (trc) {
		printf("FAIL: the program's handler saw no faults\n");
		return 1;
	}
	printf("ok\n");
	return 0;
}
