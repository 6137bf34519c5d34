/* policy_impl.h: what policy.c (one file's JSON, the filter) and include.c
 * (merging what a policy includes) share; not public, policy.h is. */
#ifndef WB_POLICY_IMPL_H
#define WB_POLICY_IMPL_H

#include <stddef.h>

#include "policy/policy.h"

/* Parses one policy file into p, with no include followed: its fields, its
 * own rules (entries checked, in file order), its binds (checked on the
 * host) and its include names. No filter. name labels messages. */
int policy_read_one(const char *name, const char *text, size_t len, struct wb_policy *p,
		    char *err, size_t errlen);

/* Fills p->includes from a policy's "include" (an array of strings, or
 * NULL), each name checked. */
struct cJSON;
int policy_read_includes(const char *name, const struct cJSON *a, struct wb_policy *p, char *err, size_t errlen);

/* Replaces p's rules and binds (policy_read_one's) with the merged ones:
 * first those of what it includes, read through src and merged the same
 * way, then its own. One syscall with two actions, a cycle or a missing
 * policy is an error naming them; label starts each message. */
int policy_merge(struct wb_policy *p, const char *label, const struct wb_policy_source *src,
		 char *err, size_t errlen);

/* The name of an errno a policy may give ("EACCES"), for messages. */
const char *policy_errno_name(int err);

#endif
