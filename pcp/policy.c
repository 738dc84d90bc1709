// SPDX-License-Identifier: GPL-2.0-only OR MIT
/*
 * policy.c - the table of PCP policies: a policy's index here is its
 * config value (enum pcpb_policy names the first three).
 *
 * Invariants: entries are never NULL; names are unique.
 * Locking: none; the table is constant.
 */
#include <errno.h>
#include <string.h>

#include "policy.h"

static const struct pcp_policy *const pcp_policies[] = {
	[PCPB_POLICY_CLASSIC] = &pcp_policy_classic,
	[PCPB_POLICY_OWNER] = &pcp_policy_owner,
	[PCPB_POLICY_CHUNKY] = &pcp_policy_chunky,
	&pcp_policy_fixed_batch,
};

const struct pcp_policy *pcp_policy_get(unsigned int idx)
{
	return idx < ARRAY_SIZE(pcp_policies) ? pcp_policies[idx] : NULL;
}

int pcp_policy_lookup(const char *name)
{
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(pcp_policies); i++)
		if (!strcmp(name, pcp_policies[i]->name))
			return (int)i;
	return -EINVAL;
}
