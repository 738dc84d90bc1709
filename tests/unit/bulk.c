// SPDX-License-Identifier: GPL-2.0-only OR MIT
/*
 * bulk.c - alloc_pages_bulk() under both contracts, slot by slot: NULL
 * slots only and the counting return (fill_null), sequential pure output
 * and the per-call return (output), and every single-page fallback.
 */
#include "helpers.h"

static struct pcpb *inst;

static void teardown(void)
{
	assert_check(inst);
	pcpb_destroy(inst);
}

TestSuite(bulk, .fini = teardown);

static void free_all(long *arr, unsigned long nr)
{
	unsigned long i;

	for (i = 0; i < nr; i++)
		if (arr[i] != PCPB_NO_PAGE) {
			cr_assert_eq(pcpb_free_pages_cpu(
					     inst, 0, (unsigned long)arr[i], 0),
				     0);
			arr[i] = PCPB_NO_PAGE;
		}
}

static uint64_t site(int s)
{
	struct pcpb_stats st;

	pcpb_stats_read(inst, &st);
	return st.pcp_lock.sites[s].acquisitions;
}

Test(bulk, fill_null_fills_only_empty_slots_and_counts_all)
{
	long arr[32], keep[3];
	long ret;
	int i;

	inst = make_inst("memory=64M");
	for (i = 0; i < 32; i++)
		arr[i] = PCPB_NO_PAGE;
	/* sunrpc's shape: some slots still hold pages from last time. */
	for (i = 0; i < 3; i++)
		keep[i] = arr[5 * i] = pcpb_alloc_pages_cpu(inst, 0, 0, 1, 0);
	ret = pcpb_alloc_pages_bulk_cpu(inst, 0, PCPB_MT_MOVABLE, 0, 32, arr,
					PCPB_BULK_FILL_NULL);
	cr_assert_eq(ret, 32, "counts the pre-filled slots too");
	for (i = 0; i < 3; i++)
		cr_assert_eq(arr[5 * i], keep[i], "slot %d untouched", 5 * i);
	for (i = 0; i < 32; i++)
		cr_assert_neq(arr[i], PCPB_NO_PAGE, "slot %d", i);
	cr_assert_eq(site(PCPB_SITE_bulk), 1, "one pcp->lock hold");
	/* Full array: nothing to do, the count comes back. */
	cr_assert_eq(pcpb_alloc_pages_bulk_cpu(inst, 0, PCPB_MT_MOVABLE, 0, 32,
					       arr, PCPB_BULK_FILL_NULL),
		     32);
	free_all(arr, 32);
}

Test(bulk, output_writes_sequentially_and_returns_this_calls_pages)
{
	long arr[16];
	long ret;
	int i;

	inst = make_inst("memory=64M");
	for (i = 0; i < 16; i++)
		arr[i] = 12345; /* garbage: the output contract ignores it */
	ret = pcpb_alloc_pages_bulk_cpu(inst, 0, PCPB_MT_MOVABLE, 0, 10, arr,
					PCPB_BULK_OUTPUT);
	cr_assert_eq(ret, 10);
	for (i = 0; i < 10; i++)
		cr_assert_neq(arr[i], 12345);
	cr_assert_eq(arr[10], 12345, "nothing past the request");
	/* A second call into the rest returns only its own pages. */
	ret = pcpb_alloc_pages_bulk_cpu(inst, 0, PCPB_MT_MOVABLE, 0, 6,
					arr + 10, PCPB_BULK_OUTPUT);
	cr_assert_eq(ret, 6);
	free_all(arr, 16);
}

Test(bulk, single_page_fallbacks_take_the_slow_path)
{
	long arr[8];
	int i;

	inst = make_inst("memory=64M,memcg=on");
	for (i = 0; i < 8; i++)
		arr[i] = PCPB_NO_PAGE;
	/* One page wanted: the single-page path, no bulk lock hold. */
	cr_assert_eq(pcpb_alloc_pages_bulk_cpu(inst, 0, 1, 0, 1, arr,
					       PCPB_BULK_FILL_NULL),
		     1);
	cr_assert_eq(site(PCPB_SITE_bulk), 0);
	/* memcg + __GFP_ACCOUNT: exactly one page per call. */
	cr_assert_eq(pcpb_alloc_pages_bulk_cpu(inst, 0, 1, PCPB_GFP_ACCOUNT, 8,
					       arr, PCPB_BULK_FILL_NULL),
		     2);
	cr_assert_eq(pcpb_alloc_pages_bulk_cpu(inst, 0, 1, PCPB_GFP_ACCOUNT, 8,
					       arr + 2, PCPB_BULK_OUTPUT),
		     1);
	cr_assert_eq(site(PCPB_SITE_bulk), 0);
	/* PCP trylock failure: one page the slow way. */
	spin_lock_quiet(&inst_pcp(inst, 0, 0)->lock);
	cr_assert_eq(pcpb_alloc_pages_bulk_cpu(inst, 0, 1, 0, 8, arr,
					       PCPB_BULK_FILL_NULL),
		     4);
	spin_unlock_quiet(&inst_pcp(inst, 0, 0)->lock);
	cr_assert_eq(site(PCPB_SITE_bulk), 0);
	cr_assert_eq(pcpb_alloc_pages_bulk_cpu(inst, 0, 1, 0, 8, arr,
					       PCPB_BULK_FILL_NULL),
		     8, "the PCP path again");
	cr_assert_eq(site(PCPB_SITE_bulk), 1);
	free_all(arr, 8);
}

Test(bulk, low_watermark_plus_request_forces_single_pages)
{
	struct zone *z;
	long *held = malloc(sizeof(long) * 16384), arr[64];
	unsigned long n = 0;
	long pfn;
	int i;

	inst = make_inst("memory=64M,pcp=off");
	z = zone0(inst);
	/* Stand just above low: low + 64 is out of reach for 64 pages. */
	while (zone_page_state_free(z) > wmark_pages(z, WMARK_LOW) + 8 &&
	       (pfn = pcpb_alloc_pages_cpu(inst, 0, 0, 1, 0)) >= 0)
		held[n++] = pfn;
	for (i = 0; i < 64; i++)
		arr[i] = PCPB_NO_PAGE;
	cr_assert_eq(pcpb_alloc_pages_bulk_cpu(inst, 0, 1, 0, 64, arr,
					       PCPB_BULK_OUTPUT),
		     1);
	cr_assert_eq(site(PCPB_SITE_bulk), 0);
	free_all(arr, 64);
	while (n)
		pcpb_free_pages_cpu(inst, 0, (unsigned long)held[--n], 0);
	free(held);
}

Test(bulk, bad_arguments_are_rejected)
{
	long arr[4] = { PCPB_NO_PAGE, PCPB_NO_PAGE, PCPB_NO_PAGE,
			PCPB_NO_PAGE };

	inst = make_inst(NULL);
	cr_assert_eq(pcpb_alloc_pages_bulk_cpu(inst, 0, 3, 0, 4, arr,
					       PCPB_BULK_OUTPUT),
		     -EINVAL);
	cr_assert_eq(pcpb_alloc_pages_bulk_cpu(inst, 9, 1, 0, 4, arr,
					       PCPB_BULK_OUTPUT),
		     -EINVAL);
	cr_assert_eq(pcpb_alloc_pages_bulk_cpu(inst, 0, 1, 0, 4, NULL,
					       PCPB_BULK_OUTPUT),
		     -EINVAL);
	cr_assert_eq(pcpb_alloc_pages_bulk_cpu(inst, 0, 1, 0, 4, arr,
					       (enum pcpb_bulk_contract)5),
		     -EINVAL);
	cr_assert_eq(pcpb_alloc_pages_bulk_cpu(inst, 0, 1, 0, 0, arr,
					       PCPB_BULK_FILL_NULL),
		     0);
	for (int i = 0; i < 4; i++)
		cr_assert_eq(arr[i], PCPB_NO_PAGE);
}

/* What --record sees: one event per page this call took, none for slots
 * that already held a page, and frees before they happen. */
struct seen {
	int allocs, frees, other;
	long pfns[64];
};

static void note_event(void *ctx, enum pcpb_event ev, int cpu,
		       unsigned long pfn, unsigned int order, int mt,
		       unsigned int flags)
{
	struct seen *s = ctx;

	(void)cpu;
	(void)flags;
	if (ev == PCPB_EV_ALLOC) {
		cr_assert_eq(order, 0);
		cr_assert_eq(mt, PCPB_MT_MOVABLE);
		s->pfns[s->allocs++ % 64] = (long)pfn;
	} else if (ev == PCPB_EV_FREE) {
		s->frees++;
	} else {
		s->other++;
	}
}

Test(bulk, event_hook_sees_each_new_page_once)
{
	struct seen s = { 0 };
	long arr[16];
	int i, j;

	inst = make_inst("memory=64M,vmstat_ms=0");
	for (i = 0; i < 16; i++)
		arr[i] = PCPB_NO_PAGE;
	arr[3] = pcpb_alloc_pages_cpu(inst, 0, 0, PCPB_MT_MOVABLE, 0);
	arr[9] = pcpb_alloc_pages_cpu(inst, 0, 0, PCPB_MT_MOVABLE, 0);
	pcpb_set_event_hook(inst, note_event, &s);
	cr_assert_eq(pcpb_alloc_pages_bulk_cpu(inst, 0, PCPB_MT_MOVABLE, 0, 16,
					       arr, PCPB_BULK_FILL_NULL),
		     16);
	cr_assert_eq(s.allocs, 14, "the two pre-filled slots are not new");
	for (i = 0; i < 16; i++) {
		bool found = false;

		for (j = 0; j < s.allocs; j++)
			found |= s.pfns[j] == arr[i];
		cr_assert_eq(found, i != 3 && i != 9, "slot %d", i);
	}
	free_all(arr, 16);
	cr_assert_eq(s.frees, 16);
	pcpb_drain_all(inst);
	pcpb_stats_reset(inst);
	cr_assert_eq(s.other, 2, "drain_all and stats_reset are events");
	pcpb_set_event_hook(inst, NULL, NULL);
	pcpb_drain_all(inst);
	cr_assert_eq(s.other, 2, "a removed hook sees nothing");
}
