// SPDX-License-Identifier: GPL-2.0-only OR MIT
/*
 * boost.c - watermark boost: which fallbacks raise it in which mode, its
 * cap, the zones it skips, the kswapd wake that takes it back, and the
 * watermarks it raises.
 *
 * The zone is 16 MiB (4096 pages, eight pageblocks: a boost needs four),
 * built with take() so that the one fallback each test makes is known.
 */
#include "helpers.h"

static struct pcpb *inst;
static struct zone *z;
static unsigned long held[32];
static unsigned int held_order[32];
static int nr_held;
#define NO_PAGE 99U /* held_order of a page given back */

static void setup(const char *kv)
{
	char buf[160];

	snprintf(buf, sizeof(buf), "pcp=off,memory=16M,grouping=on,%s", kv);
	inst = make_inst(buf);
	z = zone0(inst);
	nr_held = 0;
}

static void hold(unsigned int order, int mt)
{
	unsigned long pfn = take(z, order, mt);

	cr_assert_neq(pfn, PFN_NONE, "order %u", order);
	held[nr_held] = pfn;
	held_order[nr_held++] = order;
}

/* Free room above the watermarks: two of the order-10 blocks held. */
static void release_room(void)
{
	int i, n = 0;

	for (i = 0; i < nr_held && n < 2; i++)
		if (held_order[i] == 10) {
			give_back(z, held[i], 10);
			held_order[i] = NO_PAGE;
			n++;
		}
	cr_assert_eq(n, 2);
}

static void teardown(void)
{
	while (nr_held--)
		if (held_order[nr_held] != NO_PAGE)
			give_back(z, held[nr_held], held_order[nr_held]);
	assert_check(inst);
	pcpb_destroy(inst);
}

static unsigned long fallback_alloc(unsigned int order, int mt)
{
	enum rmqueue_mode mode = RMQUEUE_NORMAL;
	unsigned long pfn;

	zlock(z);
	pfn = rmqueue_locked(z, order, mt, &mode, 0);
	if (pfn != PFN_NONE)
		prep_new_page(pfn_to_page(z, pfn), order, mt);
	zunlock(z);
	return pfn;
}

/* Everything movable in use but one free page: an unmovable request must
 * fall back to it, and may try to claim its (mostly used) block. */
static unsigned long unmovable_claim_attempt(void)
{
	unsigned int o;

	for (o = 0; o < 3; o++)
		hold(10, MIGRATE_MOVABLE);
	for (o = 9; o >= 1; o--)
		hold(o, MIGRATE_MOVABLE);
	return fallback_alloc(0, MIGRATE_UNMOVABLE);
}

/* One block claimed whole for unmovable and used down to one free order-3
 * buddy, every movable page in use: a movable request may not claim (order
 * 3 < pageblock_order / 2), it steals. */
static unsigned long movable_steal(void)
{
	unsigned int o;

	for (o = 0; o < 3; o++)
		hold(10, MIGRATE_MOVABLE);
	/* claims the free order-10 (two blocks) outright */
	held[nr_held] = fallback_alloc(9, MIGRATE_UNMOVABLE);
	held_order[nr_held++] = 9;
	for (o = 8; o >= 4; o--)
		hold(o, MIGRATE_UNMOVABLE);
	hold(3, MIGRATE_UNMOVABLE);
	cr_assert_eq(work(inst, PCPB_WORK_boosts), 0,
		     "a whole block is claimed without a boost");
	return fallback_alloc(0, MIGRATE_MOVABLE);
}

Test(boost, a_claim_attempt_boosts_in_every_mode)
{
	static const char *const modes[] = { "legacy", "hygiene", "smallest",
					     "cached" };
	int i;

	for (i = 0; i < 4; i++) {
		char kv[64];
		unsigned long pfn;

		snprintf(kv, sizeof(kv), "fallback=%s", modes[i]);
		setup(kv);
		pfn = unmovable_claim_attempt();
		cr_assert_neq(pfn, PFN_NONE);
		held[nr_held] = pfn;
		held_order[nr_held++] = 0;
		cr_assert_eq(work(inst, PCPB_WORK_boosts), 1, "%s", modes[i]);
		cr_assert_eq(z->watermark_boost, 512, "%s: one pageblock",
			     modes[i]);
		cr_assert(z->flags & ZONE_BOOSTED_WATERMARK, "%s", modes[i]);
		teardown();
	}
}

/* steal_suitable_fallback() boosted before it looked at whole_block;
 * __rmqueue_steal() (c2f6ea38fc1b) never boosts. */
Test(boost, a_plain_steal_boosts_only_before_the_claim_steal_split)
{
	static const char *const modes[] = { "legacy", "hygiene", "smallest",
					     "cached" };
	static const int boosts[] = { 1, 1, 0, 0 };
	int i;

	for (i = 0; i < 4; i++) {
		char kv[64];
		unsigned long pfn;

		snprintf(kv, sizeof(kv), "fallback=%s", modes[i]);
		setup(kv);
		pfn = movable_steal();
		cr_assert_neq(pfn, PFN_NONE);
		held[nr_held] = pfn;
		held_order[nr_held++] = 0;
		cr_assert_eq(work(inst, PCPB_WORK_claims), 1,
			     "%s: the whole "
			     "block only",
			     modes[i]);
		cr_assert_eq(work(inst, PCPB_WORK_boosts), (uint64_t)boosts[i],
			     "%s", modes[i]);
		teardown();
	}
}

/* Three fallbacks into the four pages left of the last block. */
static void three_fallbacks(void)
{
	unsigned int o;
	int i;

	for (o = 0; o < 3; o++)
		hold(10, MIGRATE_MOVABLE);
	for (o = 9; o >= 2; o--)
		hold(o, MIGRATE_MOVABLE);
	for (i = 0; i < 3; i++) {
		held[nr_held] = fallback_alloc(0, MIGRATE_UNMOVABLE);
		cr_assert_neq(held[nr_held], PFN_NONE);
		held_order[nr_held++] = 0;
	}
	/* __rmqueue_claim() goes on down after a failed claim: every
	 * attempt boosts. */
	cr_assert_eq(work(inst, PCPB_WORK_boosts),
		     work(inst, PCPB_WORK_claims));
	cr_assert_geq(work(inst, PCPB_WORK_boosts), 3);
}

/* boost_watermark(): a pageblock per boost, up to
 * max(pageblock, high x factor / 10000). */
Test(boost, adds_a_pageblock_up_to_the_factor_of_high, .fini = teardown)
{
	unsigned long high, cap;
	char kv[96];

	setup("fallback=cached");
	high = z->_watermark[WMARK_HIGH];
	pcpb_destroy(inst);
	/* a cap of about two and a half pageblocks */
	snprintf(kv, sizeof(kv), "fallback=cached,watermark_boost_factor=%lu",
		 1280UL * 10000 / high);
	setup(kv);
	cap = z->_watermark[WMARK_HIGH] * (1280UL * 10000 / high) / 10000;
	cr_assert(cap > 1024 && cap < 1536, "cap %lu", cap);
	three_fallbacks();
	cr_assert_eq(z->watermark_boost, cap,
		     "three or more boosts stop at the cap");
	teardown();

	/* The default factor: 1.5 x high, but at least a pageblock. */
	setup("fallback=cached");
	three_fallbacks();
	cap = z->_watermark[WMARK_HIGH] * 15000 / 10000;
	cr_assert_eq(z->watermark_boost, cap > 1536  ? 1536
					 : cap > 512 ? cap
						     : 512);
}

Test(boost, factor_zero_and_small_zones_never_boost)
{
	unsigned long pfn;

	setup("fallback=cached,watermark_boost_factor=0");
	pfn = unmovable_claim_attempt();
	held[nr_held] = pfn;
	held_order[nr_held++] = 0;
	cr_assert_eq(work(inst, PCPB_WORK_boosts), 0);
	cr_assert_eq(z->watermark_boost, 0);
	teardown();

	/* Under four pageblocks (4 MiB: two) a zone never boosts. */
	inst = make_inst("pcp=off,memory=4M,grouping=on,fallback=cached");
	z = zone0(inst);
	nr_held = 0;
	hold(9, MIGRATE_MOVABLE);
	hold(8, MIGRATE_MOVABLE); /* half of the last block left */
	pfn = fallback_alloc(0, MIGRATE_UNMOVABLE);
	held[nr_held] = pfn;
	held_order[nr_held++] = 0;
	cr_assert_eq(work(inst, PCPB_WORK_claims), 1, "a claim attempt");
	cr_assert_eq(work(inst, PCPB_WORK_boosts), 0);
	teardown();
}

/* Every watermark carries the boost (wmark_pages()), in the API too. */
Test(boost, raises_every_watermark, .fini = teardown)
{
	struct pcpb_watermarks wm;
	unsigned long pfn;

	setup("fallback=cached");
	pfn = unmovable_claim_attempt();
	held[nr_held] = pfn;
	held_order[nr_held++] = 0;
	cr_assert_eq(pcpb_node_watermarks(inst, 0, &wm), 0);
	cr_assert_eq(wm.boost, 512);
	cr_assert_eq(wm.min, z->_watermark[WMARK_MIN] + 512);
	cr_assert_eq(wm.low, z->_watermark[WMARK_LOW] + 512);
	cr_assert_eq(wm.high, z->_watermark[WMARK_HIGH] + 512);
}

static uint64_t kswapd_acquisitions(void)
{
	struct pcpb_stats st;

	pcpb_stats_read(inst, &st);
	return st.zone_lock.sites[PCPB_SITE_kswapd].acquisitions;
}

/* rmqueue()'s end: the next allocation wakes kswapd, which (with no page
 * cache of its own) takes the boost back in one zone->lock hold. */
Test(boost, the_next_allocation_wakes_kswapd_which_takes_it_back,
     .fini = teardown)
{
	unsigned long pfn;
	long page;

	setup("fallback=cached");
	pfn = unmovable_claim_attempt();
	held[nr_held] = pfn;
	held_order[nr_held++] = 0;
	cr_assert_eq(kswapd_acquisitions(), 0, "not woken yet");
	release_room();
	page = pcpb_alloc_pages_cpu(inst, 0, 0, PCPB_MT_MOVABLE, 0);
	cr_assert_geq(page, 0);
	cr_assert_eq(z->watermark_boost, 0);
	cr_assert_eq(z->flags & ZONE_BOOSTED_WATERMARK, 0);
	cr_assert_eq(work(inst, PCPB_WORK_boost_resets), 1);
	cr_assert_eq(kswapd_acquisitions(), 1);
	cr_assert_eq(pcpb_free_pages_cpu(inst, 0, (unsigned long)page, 0), 0);
}

/* An attached kswapd (--memory-pressure's) gets the wake instead; the boost
 * stays until it says it is done, and detaching runs a pending wake. */
Test(boost, an_attached_kswapd_takes_the_wake, .fini = teardown)
{
	unsigned long pfn;
	long page;

	setup("fallback=cached");
	pcpb_kswapd_attach(inst, true);
	pfn = unmovable_claim_attempt();
	held[nr_held] = pfn;
	held_order[nr_held++] = 0;
	release_room();
	cr_assert_eq(pcpb_kswapd_take_wake(inst, 0), 0, "no wake before");
	page = pcpb_alloc_pages_cpu(inst, 0, 0, PCPB_MT_MOVABLE, 0);
	cr_assert_geq(page, 0);
	cr_assert_eq(z->watermark_boost, 512, "still boosted");
	cr_assert_eq(pcpb_kswapd_take_wake(inst, 0), 512);
	cr_assert_eq(pcpb_kswapd_take_wake(inst, 0), 0, "taken once");
	pcpb_kswapd_boost_done(inst, 0, 512);
	cr_assert_eq(z->watermark_boost, 0);
	cr_assert_eq(kswapd_acquisitions(), 1);
	pcpb_kswapd_attach(inst, false);
	cr_assert_eq(pcpb_free_pages_cpu(inst, 0, (unsigned long)page, 0), 0);
}
