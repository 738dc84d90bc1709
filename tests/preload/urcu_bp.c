// SPDX-License-Identifier: GPL-2.0-only OR MIT
/*
 * urcu_bp.c - liburcu-bp under the shim: its first rcu_read_lock() on each
 * thread registers the thread, which mmaps a registry arena through the PLT
 * while holding the registry mutex with every signal blocked (checked with
 * `objdump -d liburcu-bp.so.8 | grep mmap@plt`).  A hook that entered an RCU
 * read section there would deadlock; the shim's hooks take no RCU and no
 * lock a library could hold, so this finishes.  Exit: 0.
 *
 * Invariants: none.  Locking: urcu-bp's.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <urcu-bp.h>

static int *shared;

static void *reader(void *arg)
{
	long sum = 0;
	int i;

	(void)arg;
	for (i = 0; i < 100000; i++) {
		urcu_bp_read_lock();
		sum += *(int *)urcu_bp_dereference(shared);
		urcu_bp_read_unlock();
	}
	return (void *)sum;
}

int main(void)
{
	static int value = 1;
	pthread_t tid[8];
	long total = 0;
	void *ret;
	int i;

	shared = &value;
	for (i = 0; i < 8; i++)
		pthread_create(&tid[i], NULL, reader, NULL);
	for (i = 0; i < 8; i++) {
		pthread_join(tid[i], &ret);
		total += (long)ret;
	}
	urcu_bp_synchronize_rcu();
	printf("{\"reads\": %ld}\n", total);
	return total == 800000 ? 0 : 1;
}
