// SPDX-License-Identifier: GPL-2.0-only OR MIT
/*
 * config.c - struct pcpb_config: defaults, "key=value" parsing, validation
 * and formatting.  The CLI's --config and the LD_PRELOAD environment use
 * the same keys.
 *
 * Invariants: a failed set or parse leaves the config unchanged.
 * Locking: none; a config is the caller's.
 */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "internal.h"

#define MAX_MEMORY_BYTES (4ULL << 40) /* 32-bit pfns, with room to spare */

void pcpb_config_init(struct pcpb_config *cfg)
{
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);

	memset(cfg, 0, sizeof(*cfg));
	cfg->memory_bytes = 1ULL << 30;
	cfg->nodes = 1;
	cfg->nr_cpus = ncpu > 0 ? (int)min(ncpu, (long)PCPB_MAX_CPUS) : 1;
	cfg->cpu_mode = PCPB_CPU_THREAD;
	cfg->policy = PCPB_POLICY_CLASSIC;
	cfg->fallback = PCPB_FALLBACK_CACHED;
	cfg->pcp_enabled = true;
	cfg->pageblock_order = 9;
	cfg->backing = PCPB_BACKING_NONE;
	cfg->lockstat = true;
	cfg->lockstat_pcp_sample = 8;
	cfg->vmstat_ms = 1000;
	cfg->remote_free = PCPB_REMOTE_LOCK;
	cfg->phase0_scan_limit = 4;
}

static const char *const remote_free_names[] = { "lock", "trylock", "llist" };
static const char *const owned_lists_names[] = { "single", "per_migratetype" };
static const char *const owner_merge_names[] = { "drain", "drain_new", "free" };
static const char *const pcp_fastpath_names[] = { "spin", "mutex", "rseq" };
static const char *const fallback_names[] = { "legacy", "hygiene", "smallest",
					      "cached" };
static const char *const cpu_mode_names[] = { "thread", "sched", "explicit" };
static const char *const backing_names[] = { "none", "anon" };

const char *config_policy_name(enum pcpb_policy p)
{
	const struct pcp_policy *policy = pcp_policy_get(p);

	return policy ? policy->name : "?";
}

const char *config_fallback_name(enum pcpb_fallback f)
{
	return fallback_names[f];
}

const char *config_cpu_mode_name(enum pcpb_cpu_mode m)
{
	return cpu_mode_names[m];
}

static int parse_enum(const char *v, const char *const *names, int n)
{
	int i;

	for (i = 0; i < n; i++)
		if (!strcmp(v, names[i]))
			return i;
	return -EINVAL;
}

static int parse_long(const char *v, long lo, long hi, long *out)
{
	char *end;
	long x;

	if (!*v || isspace((unsigned char)*v))
		return -EINVAL;
	errno = 0;
	x = strtol(v, &end, 10);
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
static int parse_phase0_bound(const char *v, unsigned int *bound,
			      unsigned int *limit)
{
	char buf[128], *save = NULL, *tok;
	unsigned int b = 0, n = *limit;

	if (!strcmp(v, "none")) {
		*bound = 0;
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
			long x = 4;

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
	*bound = b;
	*limit = n;
	return 0;
}

#define SET_INT(field, lo, hi)                       \
	do {                                         \
		long x_;                             \
		if (parse_long(value, lo, hi, &x_))  \
			return -EINVAL;              \
		cfg->field = (typeof(cfg->field))x_; \
	} while (0)
#define SET_ENUM(field, names)                                             \
	do {                                                               \
		int e_ = parse_enum(value, names, (int)ARRAY_SIZE(names)); \
		if (e_ < 0)                                                \
			return -EINVAL;                                    \
		cfg->field = (typeof(cfg->field))e_;                       \
	} while (0)

int pcpb_config_set(struct pcpb_config *cfg, const char *key, const char *value)
{
	if (!cfg || !key || !value)
		return -EINVAL;
	if (!strcmp(key, "memory")) {
		uint64_t sz;

		if (parse_size(value, &sz) || sz < (4ULL << 20))
			return -EINVAL;
		cfg->memory_bytes = sz;
	} else if (!strcmp(key, "nodes")) {
		SET_INT(nodes, 0, PCPB_MAX_NODES);
	} else if (!strcmp(key, "cpus")) {
		SET_INT(nr_cpus, 1, PCPB_MAX_CPUS);
	} else if (!strcmp(key, "cpu_mode")) {
		SET_ENUM(cpu_mode, cpu_mode_names);
	} else if (!strcmp(key, "policy")) {
		int idx = pcp_policy_lookup(value);

		if (idx < 0)
			return -EINVAL;
		cfg->policy = (enum pcpb_policy)idx;
	} else if (!strcmp(key, "fallback")) {
		SET_ENUM(fallback, fallback_names);
	} else if (!strcmp(key, "pcp")) {
		return parse_bool(value, &cfg->pcp_enabled);
	} else if (!strcmp(key, "batch")) {
		SET_INT(batch, 0, 4096);
	} else if (!strcmp(key, "high_min")) {
		SET_INT(high_min, 0, 1 << 24);
	} else if (!strcmp(key, "high_max")) {
		SET_INT(high_max, 0, 1 << 24);
	} else if (!strcmp(key, "pageblock_order")) {
		SET_INT(pageblock_order, PAGE_ALLOC_COSTLY_ORDER + 1,
			MAX_PAGE_ORDER);
	} else if (!strcmp(key, "backing")) {
		SET_ENUM(backing, backing_names);
	} else if (!strcmp(key, "lockstat")) {
		return parse_bool(value, &cfg->lockstat);
	} else if (!strcmp(key, "lockstat_pcp_sample")) {
		long n;

		if (parse_long(value, 1, 1 << 15, &n) || (n & (n - 1)))
			return -EINVAL;
		cfg->lockstat_pcp_sample = (unsigned int)n;
	} else if (!strcmp(key, "vmstat_ms")) {
		SET_INT(vmstat_ms, 0, 60000);
	} else if (!strcmp(key, "memcg")) {
		return parse_bool(value, &cfg->memcg);
	} else if (!strcmp(key, "remote_free")) {
		SET_ENUM(remote_free, remote_free_names);
	} else if (!strcmp(key, "phase0_bound")) {
		return parse_phase0_bound(value, &cfg->phase0_bound,
					  &cfg->phase0_scan_limit);
	} else if (!strcmp(key, "owned_lists")) {
		int e = parse_enum(value, owned_lists_names, 2);

		if (e < 0)
			return -EINVAL;
		cfg->owned_per_mt = e == 1;
	} else if (!strcmp(key, "owner_merge")) {
		int e = parse_enum(value, owner_merge_names, 3);

		if (e < 0)
			return -EINVAL;
		cfg->owner_merge = (enum pcpb_owner_merge)e;
	} else if (!strcmp(key, "pcp_fastpath")) {
		SET_ENUM(pcp_fastpath, pcp_fastpath_names);
	} else if (!strcmp(key, "cma_bytes")) {
		uint64_t sz;

		if (strcmp(value, "0") && parse_size(value, &sz))
			return -EINVAL;
		cfg->cma_bytes = strcmp(value, "0") ? sz : 0;
	} else {
		return -EINVAL;
	}
	return 0;
}

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
	strcpy(buf, kvlist);
	for (tok = strtok_r(buf, ",", &save); tok;
	     tok = strtok_r(NULL, ",", &save)) {
		char *eq = strchr(tok, '=');

		if (!eq) {
			if (err)
				snprintf(err, errlen,
					 "config: '%s' is not key=value", tok);
			return -EINVAL;
		}
		*eq = '\0';
		if (pcpb_config_set(&tmp, tok, eq + 1)) {
			if (err)
				snprintf(err, errlen,
					 "config: bad value '%s' for key '%s'",
					 eq + 1, tok);
			return -EINVAL;
		}
	}
	if (config_validate(&tmp, err, errlen))
		return -EINVAL;
	*cfg = tmp;
	return 0;
}

/* Checks that need more than one field. */
int config_validate(const struct pcpb_config *cfg, char *err, size_t len)
{
	int nodes = cfg->nodes ? cfg->nodes : 1;

	if (cfg->memory_bytes < (uint64_t)nodes * (4ULL << 20) ||
	    cfg->memory_bytes > MAX_MEMORY_BYTES) {
		if (err)
			snprintf(
				err, len,
				"config: memory must be 4 MiB per node .. 4 TiB");
		return -EINVAL;
	}
	if (cfg->nr_cpus < 1 || cfg->nr_cpus > PCPB_MAX_CPUS ||
	    cfg->nodes < 0 || cfg->nodes > PCPB_MAX_NODES ||
	    cfg->pageblock_order <= PAGE_ALLOC_COSTLY_ORDER ||
	    cfg->pageblock_order > MAX_PAGE_ORDER ||
	    !pcp_policy_get(cfg->policy) ||
	    (unsigned)cfg->fallback >= ARRAY_SIZE(fallback_names) ||
	    (unsigned)cfg->cpu_mode >= ARRAY_SIZE(cpu_mode_names) ||
	    (unsigned)cfg->backing >= ARRAY_SIZE(backing_names) ||
	    (unsigned)cfg->remote_free >= ARRAY_SIZE(remote_free_names) ||
	    (unsigned)cfg->pcp_fastpath >= ARRAY_SIZE(pcp_fastpath_names) ||
	    cfg->phase0_bound > 7 || cfg->phase0_scan_limit < 1 ||
	    cfg->batch < 0 || cfg->high_min < 0 || cfg->high_max < 0 ||
	    cfg->vmstat_ms < 0) {
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
				"config: policy=owner needs freelist hygiene, not fallback=legacy");
		return -EINVAL;
	}
	if (cfg->high_min && cfg->high_max && cfg->high_min > cfg->high_max) {
		if (err)
			snprintf(err, len, "config: high_min > high_max");
		return -EINVAL;
	}
	return 0;
}

static void format_phase0_bound(const struct pcpb_config *cfg, char *buf,
				size_t len)
{
	size_t n = 0;

	buf[0] = '\0';
	if (cfg->phase0_bound & PCPB_P0_CYCLE_LOCK)
		n += (size_t)snprintf(buf + n, len - n, "+cycle_lock");
	if (cfg->phase0_bound & PCPB_P0_FREE_COUNTER)
		n += (size_t)snprintf(buf + n, len - n, "+free_counter");
	if (cfg->phase0_bound & PCPB_P0_SCAN_LIMIT)
		n += (size_t)snprintf(buf + n, len - n, "+scan_limit:%u",
				      cfg->phase0_scan_limit);
	if (!n)
		snprintf(buf, len, "+none");
}

/* The config as "k=v,...": pcpb_config_parse() of it gives it back. */
int pcpb_config_format(const struct pcpb_config *cfg, char *buf, size_t len)
{
	char p0[64];

	format_phase0_bound(cfg, p0, sizeof(p0));
	return snprintf(
		buf, len,
		"memory=%lluM,nodes=%d,cpus=%d,cpu_mode=%s,policy=%s,"
		"fallback=%s,pcp=%s,batch=%d,high_min=%d,high_max=%d,"
		"pageblock_order=%u,backing=%s,lockstat=%s,"
		"lockstat_pcp_sample=%u,vmstat_ms=%d,"
		"remote_free=%s,phase0_bound=%s,owned_lists=%s,cma_bytes=%lluM,"
		"memcg=%s,owner_merge=%s,pcp_fastpath=%s",
		(unsigned long long)(cfg->memory_bytes >> 20), cfg->nodes,
		cfg->nr_cpus, cpu_mode_names[cfg->cpu_mode],
		config_policy_name(cfg->policy), fallback_names[cfg->fallback],
		cfg->pcp_enabled ? "on" : "off", cfg->batch, cfg->high_min,
		cfg->high_max, cfg->pageblock_order,
		backing_names[cfg->backing], cfg->lockstat ? "on" : "off",
		cfg->lockstat_pcp_sample, cfg->vmstat_ms,
		remote_free_names[cfg->remote_free], p0 + 1,
		owned_lists_names[cfg->owned_per_mt],
		(unsigned long long)(cfg->cma_bytes >> 20),
		cfg->memcg ? "on" : "off", owner_merge_names[cfg->owner_merge],
		pcp_fastpath_names[cfg->pcp_fastpath]);
}
