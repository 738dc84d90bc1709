// SPDX-License-Identifier: GPL-2.0-only OR MIT
/*
 * config.c - struct pcpb_config as one declarative table of keys: name,
 * type, field, range, default and help.  Parsing, range checks, the
 * defaults, the printed "k=v,..." form and `pcpbuddy config --help` are
 * all generated from config_keys[]; a new knob is one field in
 * pcpbuddy.h and one row here.  The CLI's --config and the LD_PRELOAD
 * environment use the same keys.
 *
 * Invariants: a failed set or parse leaves the config unchanged; every
 * key's default parses; formatting a config and parsing the result gives
 * the same config.
 * Locking: none; a config is the caller's.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <strings.h>
#include <unistd.h>

#include "internal.h"

#define MAX_MEMORY_BYTES (4ULL << 40) /* 32-bit pfns, with room to spare */

enum key_type {
	KEY_INT,  /* a decimal integer in [lo, hi] */
	KEY_BOOL, /* on/off, 1/0, true/false */
	KEY_SIZE, /* bytes with K/M/G/T suffixes, in [lo, MAX_MEMORY_BYTES] */
	KEY_ENUM, /* one of names[] */
	KEY_CUSTOM,
};

struct config_key {
	const char *name;
	enum key_type type;
	size_t offset, size; /* the field in struct pcpb_config */
	long long lo, hi;    /* KEY_INT range; KEY_SIZE minimum (lo) */
	const char *const *names;
	/* the default, as a value; "online": the CPUs; "profile": what the
	 * kernel profile (kernel=) sets, unless overridden */
	const char *def;
	const char *help; /* one line for `pcpbuddy config --help` */
	bool profile;	  /* a rule of the kernel profile (kernel=) */
	/* KEY_CUSTOM: parse into @cfg (0 or -EINVAL), print the value. */
	int (*parse)(struct pcpb_config *cfg, const char *value);
	int (*format)(const struct pcpb_config *cfg, char *buf, size_t len);
};

static const char *const remote_free_names[] = { "lock", "trylock", "llist",
						 NULL };
static const char *const owned_lists_names[] = { "single", "per_migratetype",
						 NULL };
static const char *const owner_merge_names[] = { "drain", "drain_new", "free",
						 NULL };
static const char *const pcp_fastpath_names[] = { "spin", "mutex", "rseq",
						  NULL };
static const char *const fallback_names[] = { "legacy", "hygiene", "smallest",
					      "cached", NULL };
static const char *const cpu_mode_names[] = { "thread", "sched", "explicit",
					      NULL };
static const char *const backing_names[] = { "none", "anon", NULL };
static const char *const kernel_names[] = { "next", "6.1",  "6.6",
					    "6.12", "6.18", NULL };
static const char *const pcp_refill_names[] = { "scaled", "batch", NULL };
static const char *const pcp_free_names[] = { "free_count", "free_factor",
					      NULL };
static const char *const pcp_high_names[] = { "autotune", "fixed", NULL };
static const char *const free_high_names[] = { "half_high_min", "batch", NULL };
static const char *const drain_names[] = { "chunked", "single", NULL };
static const char *const pcp_mt_names[] = { "pageblock", "cached", NULL };
static const char *const thp_names[] = { "never", "always", NULL };
static const char *const zone_type_names[] = { "normal", "dma32", NULL };
static const char *const grouping_names[] = { "auto", "on", "off", NULL };

/*
 * The kernel profiles: the rules each sets, as a config string of the
 * keys marked "profile" below.  docs/fidelity.md gives each rule's commit.
 * 6.6 is 6.1's PCP rules: the PCP auto-tuning series and the freelist
 * hygiene came later (v6.7, v6.10).  6.12 is 6.12.y as distributions ship
 * it (Debian's 6.12.118): the claim/steal split and the remembered rmqueue
 * mode (c2f6ea38fc1b, 90abee6d7895, v6.15) were backported to 6.12.y, so
 * its fallback is cached; fallback=hygiene is an early 6.12.y.
 */
static const char *const kernel_profiles[] = {
	[PCPB_KERNEL_NEXT] =
		"fallback=cached,pcp_refill=scaled,pcp_free=free_count,"
		"pcp_high=autotune,free_high=half_high_min,"
		"drain=chunked,pcp_mt=pageblock",
	[PCPB_KERNEL_6_1] =
		"fallback=legacy,pcp_refill=batch,pcp_free=free_factor,"
		"pcp_high=fixed,free_high=batch,drain=single,"
		"pcp_mt=cached",
	[PCPB_KERNEL_6_6] =
		"fallback=legacy,pcp_refill=batch,pcp_free=free_factor,"
		"pcp_high=fixed,free_high=batch,drain=single,"
		"pcp_mt=cached",
	[PCPB_KERNEL_6_12] =
		"fallback=cached,pcp_refill=scaled,pcp_free=free_count,"
		"pcp_high=autotune,free_high=batch,drain=single,"
		"pcp_mt=pageblock",
	[PCPB_KERNEL_6_18] =
		"fallback=cached,pcp_refill=scaled,pcp_free=free_count,"
		"pcp_high=autotune,free_high=half_high_min,"
		"drain=single,pcp_mt=pageblock",
};

const char *config_policy_name(enum pcpb_policy p)
{
	const struct pcp_policy *policy = pcp_policy_get(p);

	return policy ? policy->name : "?";
}

const char *config_fallback_name(enum pcpb_fallback f)
{
	return (unsigned int)f < ARRAY_SIZE(fallback_names) - 1
		       ? fallback_names[f]
		       : "?";
}

const char *config_cpu_mode_name(enum pcpb_cpu_mode m)
{
	return (unsigned int)m < ARRAY_SIZE(cpu_mode_names) - 1
		       ? cpu_mode_names[m]
		       : "?";
}

static int parse_long(const char *v, long long lo, long long hi, long long *out)
{
	char *end;
	long long x;

	if (!*v || isspace((unsigned char)*v))
		return -EINVAL;
	errno = 0;
	x = strtoll(v, &end, 10);
	if (errno || *end || x < lo || x > hi)
		return -EINVAL;
	*out = x;
	return 0;
}

static int parse_bool(const char *v, bool *out)
{
	if (!strcmp(v, "on") || !strcmp(v, "1") || !strcmp(v, "true")) {
		*out = true;
		return 0;
	}
	if (!strcmp(v, "off") || !strcmp(v, "0") || !strcmp(v, "false")) {
		*out = false;
		return 0;
	}
	return -EINVAL;
}

/* "512M", "4G", "1GiB", "65536" (bytes); K/M/G/T are powers of 1024. */
static int parse_size(const char *v, uint64_t *out)
{
	static const char units[] = "KMGT";
	unsigned long long x;
	const char *u;
	char *end;
	int shift = 0;

	if (!isdigit((unsigned char)*v))
		return -EINVAL;
	errno = 0;
	x = strtoull(v, &end, 10);
	if (errno)
		return -EINVAL;
	if (*end) {
		u = strchr(units, toupper((unsigned char)*end));
		if (!u)
			return -EINVAL;
		shift = 10 * (int)(u - units + 1);
		end++;
		if (*end && strcasecmp(end, "b") && strcasecmp(end, "ib"))
			return -EINVAL;
	}
	if (x > (MAX_MEMORY_BYTES >> shift))
		return -EINVAL;
	*out = (uint64_t)x << shift;
	return 0;
}

/* "none", or '+'-joined cycle_lock, free_counter, scan_limit[:N]. */
static int parse_phase0_bound(struct pcpb_config *cfg, const char *v)
{
	char buf[128], *save = NULL, *tok;
	unsigned int b = 0, n = cfg->phase0_scan_limit;

	if (!strcmp(v, "none")) {
		cfg->phase0_bound = 0;
		return 0;
	}
	/* strtok_r() would skip empty tokens: "a+" and "a++b" are errors. */
	if (!*v || strlen(v) >= sizeof(buf) || *v == '+' ||
	    v[strlen(v) - 1] == '+' || strstr(v, "++"))
		return -EINVAL;
	strcpy(buf, v);
	for (tok = strtok_r(buf, "+", &save); tok;
	     tok = strtok_r(NULL, "+", &save)) {
		if (!strcmp(tok, "cycle_lock")) {
			b |= PCPB_P0_CYCLE_LOCK;
		} else if (!strcmp(tok, "free_counter")) {
			b |= PCPB_P0_FREE_COUNTER;
		} else if (!strncmp(tok, "scan_limit", 10)) {
			long long x = 4;

			if (tok[10] == ':' && parse_long(tok + 11, 1, 512, &x))
				return -EINVAL;
			if (tok[10] && tok[10] != ':')
				return -EINVAL;
			b |= PCPB_P0_SCAN_LIMIT;
			n = (unsigned int)x;
		} else {
			return -EINVAL;
		}
	}
	cfg->phase0_bound = b;
	cfg->phase0_scan_limit = n;
	return 0;
}

static int format_phase0_bound(const struct pcpb_config *cfg, char *buf,
			       size_t len)
{
	char tmp[64];
	size_t n = 0;

	tmp[0] = '\0';
	if (cfg->phase0_bound & PCPB_P0_CYCLE_LOCK)
		n += (size_t)snprintf(tmp + n, sizeof(tmp) - n, "+cycle_lock");
	if (cfg->phase0_bound & PCPB_P0_FREE_COUNTER)
		n += (size_t)snprintf(tmp + n, sizeof(tmp) - n,
				      "+free_counter");
	if (cfg->phase0_bound & PCPB_P0_SCAN_LIMIT)
		n += (size_t)snprintf(tmp + n, sizeof(tmp) - n,
				      "+scan_limit:%u", cfg->phase0_scan_limit);
	return snprintf(buf, len, "%s", n ? tmp + 1 : "none");
}

static int parse_policy(struct pcpb_config *cfg, const char *v)
{
	int idx = pcp_policy_lookup(v);

	if (idx < 0)
		return -EINVAL;
	cfg->policy = (enum pcpb_policy)idx;
	return 0;
}

static int format_policy(const struct pcpb_config *cfg, char *buf, size_t len)
{
	return snprintf(buf, len, "%s", config_policy_name(cfg->policy));
}

/* "F:S:L:M[:H]": ns per free-list op, scan step, fallback search, page
 * moved, and per hold (0 when left out). */
static int parse_hold_cost_numbers(double c[5], const char *v)
{
	char buf[128], *save = NULL, *tok;
	int n = 0;

	if (strlen(v) >= sizeof(buf))
		return -EINVAL;
	strcpy(buf, v);
	c[4] = 0;
	for (tok = strtok_r(buf, ":", &save); tok;
	     tok = strtok_r(NULL, ":", &save)) {
		char *end;

		if (n == 5)
			return -EINVAL;
		errno = 0;
		c[n] = strtod(tok, &end);
		if (*end || errno || !(c[n] >= 0 && c[n] <= 1e6))
			return -EINVAL;
		n++;
	}
	return n == 4 || n == 5 ? 0 : -EINVAL;
}

/*
 * hold_cost=F:S:L:M[:H], or hold_cost=@FILE: the "hold_cost=" line of a
 * file 'pcpbuddy calibrate' wrote (a regular file, read up to 4 KiB;
 * '#' lines are comments), whose name the report then carries.
 */
static int parse_hold_cost(struct pcpb_config *cfg, const char *v)
{
	char text[4096], *line, *save = NULL;
	struct stat sb;
	double c[5];
	ssize_t len;
	int fd;

	if (v[0] != '@') {
		if (parse_hold_cost_numbers(c, v))
			return -EINVAL;
		memcpy(cfg->hold_cost, c, sizeof(c));
		cfg->hold_cost_file[0] = '\0';
		return 0;
	}
	if (!v[1] || strlen(v + 1) >= sizeof(cfg->hold_cost_file))
		return -EINVAL;
	/* a regular file only: a FIFO or a terminal would block the parse */
	fd = open(v + 1, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		return -EINVAL;
	len = fstat(fd, &sb) || !S_ISREG(sb.st_mode)
		      ? -1
		      : read(fd, text, sizeof(text) - 1);
	close(fd);
	if (len < 0)
		return -EINVAL;
	text[len] = '\0';
	for (line = strtok_r(text, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		if (strncmp(line, "hold_cost=", 10))
			continue;
		if (parse_hold_cost_numbers(c, line + 10))
			return -EINVAL;
		memcpy(cfg->hold_cost, c, sizeof(c));
		snprintf(cfg->hold_cost_file, sizeof(cfg->hold_cost_file), "%s",
			 v + 1);
		return 0;
	}
	return -EINVAL;
}

int config_format_hold_cost(const struct pcpb_config *cfg, char *buf,
			    size_t len)
{
	const double *c = cfg->hold_cost;

	if (c[4])
		return snprintf(buf, len, "%g:%g:%g:%g:%g", c[0], c[1], c[2],
				c[3], c[4]);
	return snprintf(buf, len, "%g:%g:%g:%g", c[0], c[1], c[2], c[3]);
}

/* A power of two, 1 .. 32768. */
static int parse_sample(struct pcpb_config *cfg, const char *v)
{
	long long n;

	if (parse_long(v, 1, 1 << 15, &n) || (n & (n - 1)))
		return -EINVAL;
	cfg->lockstat_pcp_sample = (unsigned int)n;
	return 0;
}

static int format_sample(const struct pcpb_config *cfg, char *buf, size_t len)
{
	return snprintf(buf, len, "%u", cfg->lockstat_pcp_sample);
}

static int parse_kernel(struct pcpb_config *cfg, const char *v);
static int format_kernel(const struct pcpb_config *cfg, char *buf, size_t len);

/* clang-format off */
#define K(key, t, f, ...) { .name = key, .type = t, .offset = offsetof(struct pcpb_config, f), \
			    .size = sizeof(((struct pcpb_config *)0)->f), __VA_ARGS__ }
static const struct config_key config_keys[] = {
	K("memory", KEY_SIZE, memory_bytes, .lo = 4LL << 20, .def = "1G",
	  .help = "modelled memory (K/M/G/T), rounded down to 4 MiB per node"),
	K("nodes", KEY_INT, nodes, .lo = 0, .hi = PCPB_MAX_NODES, .def = "1",
	  .help = "virtual nodes; 0 = the machine's real nodes (libnuma)"),
	K("cpus", KEY_INT, nr_cpus, .lo = 1, .hi = PCPB_MAX_CPUS, .def = "online",
	  .help = "(virtual) CPUs; drivers default to their --threads"),
	K("cpu_mode", KEY_ENUM, cpu_mode, .names = cpu_mode_names, .def = "thread",
	  .help = "thread: a thread is a CPU; sched: sched_getcpu(); explicit: the caller names it"),
	K("policy", KEY_CUSTOM, policy, .parse = parse_policy, .format = format_policy,
	  .def = "classic", .help = "the PCP policy (below)"),
	K("kernel", KEY_CUSTOM, kernel, .parse = parse_kernel, .format = format_kernel,
	  .def = "next", .help = "the kernel whose rules the model follows: next, 6.1, 6.6, 6.12, 6.18"),
	K("fallback", KEY_ENUM, fallback, .names = fallback_names, .def = "profile", .profile = true,
	  .help = "legacy (< v6.10), hygiene (c0cd6f557b90), smallest (c2f6ea38fc1b), cached (90abee6d7895)"),
	K("pcp_refill", KEY_ENUM, pcp_refill, .names = pcp_refill_names, .def = "profile",
	  .profile = true, .help = "refill size: nr_pcp_alloc() (v6.7), or batch >> order"),
	K("pcp_free", KEY_ENUM, pcp_free, .names = pcp_free_names, .def = "profile",
	  .profile = true, .help = "free sizing: free_count (v6.7), or free_factor doubling"),
	K("pcp_high", KEY_ENUM, pcp_high, .names = pcp_high_names, .def = "profile",
	  .profile = true, .help = "PCP high: auto-tuned with decay (v6.7), or fixed"),
	K("free_high", KEY_ENUM, free_high, .names = free_high_names, .def = "profile",
	  .profile = true, .help = "order 1..3 free streak threshold: batch + high_min/2, or batch"),
	K("drain", KEY_ENUM, drain, .names = drain_names, .def = "profile", .profile = true,
	  .help = "overflow and decay drains: chunked with lock cycling (2026), or one hold"),
	K("pcp_mt", KEY_ENUM, pcp_mt, .names = pcp_mt_names, .def = "profile", .profile = true,
	  .help = "type a drain frees to: the pageblock's (v6.10), or cached at free"),
	K("thp", KEY_ENUM, thp, .names = thp_names, .def = "always",
	  .help = "always: min_free_kbytes raised as khugepaged does; never: THP off"),
	K("zone", KEY_ENUM, zone_type, .names = zone_type_names, .def = "normal",
	  .help = "normal: first passes use ALLOC_NOFRAGMENT (node 0); dma32: all-DMA32 memory, none"),
	K("grouping", KEY_ENUM, grouping, .names = grouping_names, .def = "auto",
	  .help = "group pages by mobility; auto: off below 12 MiB (pageblock x MIGRATE_TYPES)"),
	K("watermark_scale_factor", KEY_INT, watermark_scale_factor, .lo = 1,
	  .hi = 3000, .def = "10", .help = "vm.watermark_scale_factor: min to low to high, in 1/10000 of the zone"),
	K("watermark_boost_factor", KEY_INT, watermark_boost_factor, .lo = 0,
	  .hi = 1 << 30, .def = "15000", .help = "vm.watermark_boost_factor: a fallback's boost cap, in 1/10000 of the high watermark; 0 = off"),
	K("wmark_min", KEY_INT, wmark_min, .lo = 0, .hi = 1LL << 40, .def = "0",
	  .help = "each zone's min watermark in pages (a kernel's zoneinfo); 0 = from min_free_kbytes"),
	K("hold_cost", KEY_CUSTOM, hold_cost, .parse = parse_hold_cost,
	  .format = config_format_hold_cost, .def = "5.7:2.4:7.4:3.9:28",
	  .help = "modelled zone->lock hold: ns per free-list op, pfn-scan step, fallback search, page moved[, hold]; @FILE: pcpbuddy calibrate's"),
	K("free_check", KEY_BOOL, free_check, .def = "off",
	  .help = "detect two threads freeing one page at once (always on in debug builds)"),
	K("pcp", KEY_BOOL, pcp_enabled, .def = "on",
	  .help = "off: the boot pageset, high 0 and batch 1"),
	K("batch", KEY_INT, batch, .lo = 0, .hi = 4096, .def = "0",
	  .help = "PCP batch; 0 = zone_batchsize()"),
	K("high_min", KEY_INT, high_min, .lo = 0, .hi = 1 << 24, .def = "0",
	  .help = "PCP high_min; 0 = low watermark / node CPUs"),
	K("high_max", KEY_INT, high_max, .lo = 0, .hi = 1 << 24, .def = "0",
	  .help = "PCP high_max; 0 = managed / 8 / node CPUs"),
	K("pageblock_order", KEY_INT, pageblock_order, .lo = PAGE_ALLOC_COSTLY_ORDER + 1,
	  .hi = MAX_PAGE_ORDER, .def = "9", .help = "pageblock order"),
	K("backing", KEY_ENUM, backing, .names = backing_names, .def = "none",
	  .help = "anon: real memory behind every pfn"),
	K("lockstat", KEY_BOOL, lockstat, .def = "on",
	  .help = "hold and wait timing (counts are always kept)"),
	K("lockstat_pcp_sample", KEY_CUSTOM, lockstat_pcp_sample, .parse = parse_sample,
	  .format = format_sample, .def = "8",
	  .help = "time one pcp->lock alloc/free hold in about N (a power of 2)"),
	K("lockstat_preempt", KEY_BOOL, lockstat_preempt, .def = "on",
	  .help = "count holds and waits the host disturbed (the thread lost its CPU) apart"),
	K("vmstat_ms", KEY_INT, vmstat_ms, .lo = 0, .hi = 60000, .def = "1000",
	  .help = "PCP high decay period in ms; 0 = no timer"),
	K("remote_free", KEY_ENUM, remote_free, .names = remote_free_names, .def = "lock",
	  .help = "owner: how a free reaches the owner's PCP"),
	K("phase0_bound", KEY_CUSTOM, phase0_bound, .parse = parse_phase0_bound,
	  .format = format_phase0_bound, .def = "none",
	  .help = "owner: none, or +-joined cycle_lock, free_counter, scan_limit[:N]"),
	K("owned_lists", KEY_ENUM, owned_per_mt, .names = owned_lists_names, .def = "single",
	  .help = "owner: per_migratetype gives each type its own fragment list"),
	K("cma_bytes", KEY_SIZE, cma_bytes, .lo = 0, .def = "0",
	  .help = "CMA pageblocks at the top of each zone (at most half of memory)"),
	K("memcg", KEY_BOOL, memcg, .def = "off",
	  .help = "memcg kmem accounting: bulk with PCPB_GFP_ACCOUNT goes page by page"),
	K("owner_merge", KEY_ENUM, owner_merge, .names = owner_merge_names, .def = "drain",
	  .help = "owner: drain (the RFC), drain_new, or free"),
	K("pcp_fastpath", KEY_ENUM, pcp_fastpath, .names = pcp_fastpath_names, .def = "spin",
	  .help = "how pcp->lock is taken: spin, mutex or rseq"),
};
#undef K
/* clang-format on */

static const struct config_key *find_key(const char *name)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(config_keys); i++)
		if (!strcmp(config_keys[i].name, name))
			return &config_keys[i];
	return NULL;
}

static void store(struct pcpb_config *cfg, const struct config_key *k,
		  long long v)
{
	char *p = (char *)cfg + k->offset;

	switch (k->size) {
	case sizeof(bool): {
		bool b = v != 0;

		memcpy(p, &b, sizeof(b));
		break;
	}
	case sizeof(int): {
		int x = (int)v;

		memcpy(p, &x, sizeof(x));
		break;
	}
	default: {
		uint64_t x = (uint64_t)v;

		memcpy(p, &x, sizeof(x));
		break;
	}
	}
}

static long long load(const struct pcpb_config *cfg, const struct config_key *k)
{
	const char *p = (const char *)cfg + k->offset;

	switch (k->size) {
	case sizeof(bool): {
		bool b;

		memcpy(&b, p, sizeof(b));
		return b;
	}
	case sizeof(int): {
		int x;

		memcpy(&x, p, sizeof(x));
		return x;
	}
	default: {
		uint64_t x;

		memcpy(&x, p, sizeof(x));
		return (long long)x;
	}
	}
}

static int set_key(struct pcpb_config *cfg, const struct config_key *k,
		   const char *value)
{
	long long x;
	uint64_t sz;
	bool b;
	int i;

	switch (k->type) {
	case KEY_INT:
		if (parse_long(value, k->lo, k->hi, &x))
			return -EINVAL;
		store(cfg, k, x);
		return 0;
	case KEY_BOOL:
		if (parse_bool(value, &b))
			return -EINVAL;
		store(cfg, k, b);
		return 0;
	case KEY_SIZE:
		if (parse_size(value, &sz) || sz < (uint64_t)k->lo)
			return -EINVAL;
		store(cfg, k, (long long)sz);
		return 0;
	case KEY_ENUM:
		for (i = 0; k->names[i]; i++)
			if (!strcmp(value, k->names[i])) {
				store(cfg, k, i);
				return 0;
			}
		return -EINVAL;
	case KEY_CUSTOM:
		return k->parse(cfg, value);
	}
	return -EINVAL;
}

static int format_key(const struct pcpb_config *cfg, const struct config_key *k,
		      char *buf, size_t len)
{
	long long v = load(cfg, k);

	switch (k->type) {
	case KEY_INT:
		return snprintf(buf, len, "%lld", v);
	case KEY_BOOL:
		return snprintf(buf, len, "%s", v ? "on" : "off");
	case KEY_SIZE:
		return snprintf(buf, len, "%lluM",
				(unsigned long long)((uint64_t)v >> 20));
	case KEY_ENUM: {
		int i;

		for (i = 0; k->names[i]; i++)
			if (i == v)
				return snprintf(buf, len, "%s", k->names[i]);
		return snprintf(buf, len, "?");
	}
	case KEY_CUSTOM:
		return k->format(cfg, buf, len);
	}
	return snprintf(buf, len, "?");
}

/* The bit of profile key @k in profile_overrides: its rank among them. */
static uint32_t profile_bit(const struct config_key *k)
{
	uint32_t bit = 1;
	size_t i;

	for (i = 0; &config_keys[i] != k; i++)
		if (config_keys[i].profile)
			bit <<= 1;
	return bit;
}

/* Apply profile @idx's rules to @cfg, except the overridden ones. */
static void apply_profile(struct pcpb_config *cfg, int idx, bool all)
{
	char buf[256], *save = NULL, *tok;

	snprintf(buf, sizeof(buf), "%s", kernel_profiles[idx]);
	for (tok = strtok_r(buf, ",", &save); tok;
	     tok = strtok_r(NULL, ",", &save)) {
		char *eq = strchr(tok, '=');
		const struct config_key *k;

		*eq = '\0';
		k = find_key(tok);
		if (all || !(cfg->profile_overrides & profile_bit(k)))
			set_key(cfg, k, eq + 1);
	}
}

static int parse_kernel(struct pcpb_config *cfg, const char *v)
{
	int i;

	for (i = 0; kernel_names[i]; i++)
		if (!strcmp(v, kernel_names[i])) {
			cfg->kernel = (enum pcpb_kernel)i;
			apply_profile(cfg, i, false);
			return 0;
		}
	return -EINVAL;
}

static int format_kernel(const struct pcpb_config *cfg, char *buf, size_t len)
{
	return snprintf(buf, len, "%s",
			(unsigned int)cfg->kernel < ARRAY_SIZE(kernel_names) - 1
				? kernel_names[cfg->kernel]
				: "?");
}

/* A profile key set by hand overrides the profile when it differs. */
static void note_override(struct pcpb_config *cfg, const struct config_key *k)
{
	struct pcpb_config profile = *cfg;

	apply_profile(&profile, cfg->kernel, true);
	if (load(&profile, k) != load(cfg, k))
		cfg->profile_overrides |= profile_bit(k);
	else
		cfg->profile_overrides &= ~profile_bit(k);
}

int pcpb_config_profile(const struct pcpb_config *cfg, char *buf, size_t len)
{
	size_t i, n;
	bool any = false;

	n = (size_t)snprintf(buf, len, "kernel=");
	n += (size_t)format_kernel(cfg, buf + min(n, len), len - min(n, len));
	n += (size_t)snprintf(buf + min(n, len), len - min(n, len), ":");
	for (i = 0; i < ARRAY_SIZE(config_keys); i++) {
		char val[64];

		if (!config_keys[i].profile)
			continue;
		format_key(cfg, &config_keys[i], val, sizeof(val));
		n += (size_t)snprintf(buf + min(n, len), len - min(n, len),
				      " %s=%s", config_keys[i].name, val);
	}
	n += (size_t)snprintf(buf + min(n, len), len - min(n, len),
			      "; overrides:");
	for (i = 0; i < ARRAY_SIZE(config_keys); i++)
		if (config_keys[i].profile &&
		    (cfg->profile_overrides & profile_bit(&config_keys[i]))) {
			n += (size_t)snprintf(buf + min(n, len),
					      len - min(n, len), " %s",
					      config_keys[i].name);
			any = true;
		}
	if (!any)
		n += (size_t)snprintf(buf + min(n, len), len - min(n, len),
				      " none");
	return (int)n;
}

void pcpb_config_init(struct pcpb_config *cfg)
{
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	size_t i;

	memset(cfg, 0, sizeof(*cfg));
	cfg->phase0_scan_limit = 4;
	for (i = 0; i < ARRAY_SIZE(config_keys); i++) {
		const struct config_key *k = &config_keys[i];

		if (!strcmp(k->def, "online"))
			cfg->nr_cpus =
				ncpu > 0 ? (int)min(ncpu, (long)PCPB_MAX_CPUS)
					 : 1;
		else if (strcmp(k->def, "profile") && set_key(cfg, k, k->def))
			VM_BUG_ON(1); /* a default that does not parse */
	}
}

int pcpb_config_set(struct pcpb_config *cfg, const char *key, const char *value)
{
	const struct config_key *k;

	if (!cfg || !key || !value)
		return -EINVAL;
	k = find_key(key);
	if (!k || set_key(cfg, k, value))
		return -EINVAL;
	if (k->profile)
		note_override(cfg, k);
	return 0;
}

static void key_values(const struct config_key *k, char *buf, size_t len);

int pcpb_config_parse(struct pcpb_config *cfg, const char *kvlist, char *err,
		      size_t errlen)
{
	struct pcpb_config tmp = *cfg;
	char buf[1024], *save = NULL, *tok;

	if (err && errlen)
		err[0] = '\0';
	if (strlen(kvlist) >= sizeof(buf)) {
		if (err)
			snprintf(err, errlen, "config string too long");
		return -EINVAL;
	}
	/* kernel= first, so the keys beside it override its rules. */
	strcpy(buf, kvlist);
	for (tok = strtok_r(buf, ",", &save); tok;
	     tok = strtok_r(NULL, ",", &save))
		if (!strncmp(tok, "kernel=", 7) &&
		    pcpb_config_set(&tmp, "kernel", tok + 7)) {
			if (err)
				snprintf(
					err, errlen,
					"config: bad value '%s' for key 'kernel'",
					tok + 7);
			return -EINVAL;
		}
	strcpy(buf, kvlist);
	for (tok = strtok_r(buf, ",", &save); tok;
	     tok = strtok_r(NULL, ",", &save)) {
		char *eq = strchr(tok, '=');
		int rc;

		if (!strncmp(tok, "kernel=", 7))
			continue;
		if (!eq) {
			if (err)
				snprintf(err, errlen,
					 "config: '%s' is not key=value", tok);
			return -EINVAL;
		}
		*eq = '\0';
		rc = pcpb_config_set(&tmp, tok, eq + 1);
		if (rc && !find_key(tok)) {
			if (err)
				snprintf(
					err, errlen,
					"config: unknown key '%s' (pcpbuddy config --help lists them)",
					tok);
			return -EINVAL;
		}
		if (rc) {
			char takes[256];

			key_values(find_key(tok), takes, sizeof(takes));
			if (err)
				snprintf(
					err, errlen,
					"config: bad value '%s' for key '%s' (takes %s)",
					eq + 1, tok, takes);
			return -EINVAL;
		}
	}
	if (config_validate(&tmp, err, errlen))
		return -EINVAL;
	*cfg = tmp;
	return 0;
}

/* Every field in its key's range (a caller may fill the struct by hand),
 * then the checks that need more than one field. */
int config_validate(const struct pcpb_config *cfg, char *err, size_t len)
{
	int nodes = cfg->nodes ? cfg->nodes : 1;
	size_t i;

	for (i = 0; i < ARRAY_SIZE(config_keys); i++) {
		const struct config_key *k = &config_keys[i];
		long long v = load(cfg, k);
		bool bad = false;
		int n;

		if (k->type == KEY_INT)
			bad = v < k->lo || v > k->hi;
		if (k->type == KEY_ENUM) {
			for (n = 0; k->names[n]; n++)
				;
			bad = v < 0 || v >= n;
		}
		if (bad) {
			if (err)
				snprintf(err, len, "config: %s out of range",
					 k->name);
			return -EINVAL;
		}
	}
	if (cfg->memory_bytes < (uint64_t)nodes * (4ULL << 20) ||
	    cfg->memory_bytes > MAX_MEMORY_BYTES) {
		if (err)
			snprintf(
				err, len,
				"config: memory must be 4 MiB per node .. 4 TiB");
		return -EINVAL;
	}
	if (!pcp_policy_get(cfg->policy) || cfg->phase0_bound > 7 ||
	    cfg->phase0_scan_limit < 1 ||
	    (cfg->lockstat_pcp_sample & (cfg->lockstat_pcp_sample - 1))) {
		if (err)
			snprintf(err, len, "config: a field is out of range");
		return -EINVAL;
	}
	if (cfg->cma_bytes > cfg->memory_bytes / 2) {
		if (err)
			snprintf(err, len,
				 "config: cma_bytes above half of memory");
		return -EINVAL;
	}
	if (cfg->policy == PCPB_POLICY_OWNER &&
	    cfg->fallback == PCPB_FALLBACK_LEGACY) {
		if (err)
			snprintf(
				err, len,
				"config: policy=owner needs freelist hygiene, not fallback=legacy (kernel=6.1 and 6.6 set it; add fallback=hygiene,pcp_mt=pageblock)");
		return -EINVAL;
	}
	if (cfg->policy != PCPB_POLICY_OWNER) {
		struct pcpb_config def;
		static const char *const owner_keys[] = { "remote_free",
							  "phase0_bound",
							  "owned_lists",
							  "owner_merge" };
		size_t k_idx;

		/* A knob of the owner policy set under another one would
		 * be printed as if it applied. */
		pcpb_config_init(&def);
		for (k_idx = 0; k_idx < ARRAY_SIZE(owner_keys); k_idx++) {
			const struct config_key *k =
				find_key(owner_keys[k_idx]);

			if (load(cfg, k) != load(&def, k) ||
			    (!strcmp(k->name, "phase0_bound") &&
			     cfg->phase0_scan_limit != def.phase0_scan_limit)) {
				if (err)
					snprintf(
						err, len,
						"config: %s applies to policy=owner only",
						k->name);
				return -EINVAL;
			}
		}
	}
	if (cfg->high_max && !cfg->high_min && cfg->pcp_enabled) {
		/* zone_highsize() never goes below four batches: an explicit
		 * high_max under that would be raised behind the user. */
		unsigned long managed =
			(unsigned long)(cfg->memory_bytes >> 12) /
			(unsigned long)nodes;
		int batch = cfg->batch ? cfg->batch : batchsize_of(managed);

		if (cfg->high_max < 4 * batch) {
			if (err)
				snprintf(
					err, len,
					"config: high_max=%d is below four batches (%d): set high_min too, or a smaller batch",
					cfg->high_max, 4 * batch);
			return -EINVAL;
		}
	}
	if (cfg->pcp_mt == PCPB_PCP_MT_CACHED &&
	    cfg->fallback != PCPB_FALLBACK_LEGACY) {
		if (err)
			snprintf(
				err, len,
				"config: pcp_mt=cached frees pages to a type their block may no longer have: it needs fallback=legacy (no freelist hygiene)");
		return -EINVAL;
	}
	if (cfg->high_min && cfg->high_max && cfg->high_min > cfg->high_max) {
		if (err)
			snprintf(err, len, "config: high_min > high_max");
		return -EINVAL;
	}
	return 0;
}

/* The config as "k=v,...": pcpb_config_parse() of it gives it back. */
int pcpb_config_format(const struct pcpb_config *cfg, char *buf, size_t len)
{
	size_t i, n = 0;

	if (len)
		buf[0] = '\0';
	for (i = 0; i < ARRAY_SIZE(config_keys); i++) {
		char val[128];

		format_key(cfg, &config_keys[i], val, sizeof(val));
		n += (size_t)snprintf(buf + min(n, len), len - min(n, len),
				      "%s%s=%s", i ? "," : "",
				      config_keys[i].name, val);
	}
	return (int)n;
}

/* What a key accepts, for the help: "a|b|c", "lo..hi", or its type. */
static void key_values(const struct config_key *k, char *buf, size_t len)
{
	size_t n = 0;
	int i;

	switch (k->type) {
	case KEY_INT:
		snprintf(buf, len, "%lld..%lld", k->lo, k->hi);
		return;
	case KEY_BOOL:
		snprintf(buf, len, "on|off");
		return;
	case KEY_SIZE:
		snprintf(buf, len, "bytes[KMGT] in %lldK..%lluT", k->lo >> 10,
			 MAX_MEMORY_BYTES >> 40);
		return;
	case KEY_ENUM:
		buf[0] = '\0';
		for (i = 0; k->names[i] && n < len; i++)
			n += (size_t)snprintf(buf + n, len - n, "%s%s",
					      i ? "|" : "", k->names[i]);
		return;
	case KEY_CUSTOM:
		snprintf(buf, len, "see meaning");
		return;
	}
}

int pcpb_config_help(FILE *out)
{
	unsigned int p;
	size_t i;

	fprintf(out, "%-20s %-8s %-26s %s\n", "key", "default", "values",
		"meaning");
	for (i = 0; i < ARRAY_SIZE(config_keys); i++) {
		char values[96];

		key_values(&config_keys[i], values, sizeof(values));
		fprintf(out, "%-20s %-8s %-26s %s\n", config_keys[i].name,
			config_keys[i].def, values, config_keys[i].help);
	}
	fprintf(out, "\npolicies (policy=NAME):\n");
	for (p = 0; pcp_policy_get(p); p++)
		fprintf(out, "  %-18s %s\n", pcp_policy_get(p)->name,
			pcp_policy_get(p)->help);
	return ferror(out) ? -EIO : 0;
}
