/* include.c: a policy's "include" followed and merged (README "Policies"):
 * the included policies' allow, errno and binds join its own, one syscall
 * keeps one action, and cycles and missing names are load errors. */
#include "policy/policy.h"
#include "policy/policy_impl.h"

#include <cJSON.h>
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A policy name as a job may give it (core/job.c): no '/', so an include
 * stays in its directory. */
static bool name_ok(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > 64 || s[0] == '.')
		return false;
	return strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-") == n;
}

int policy_read_includes(const char *name, const cJSON *a, struct wb_policy *p, char *err, size_t errlen)
{
	const cJSON *it;
	int i = 0;

	p->includes = calloc((size_t)cJSON_GetArraySize(a) + 1, sizeof(char *));
	if (!p->includes)
		return -ENOMEM;
	cJSON_ArrayForEach(it, a) {
		if (!name_ok(it->valuestring)) {
			snprintf(err, errlen, "%s: include[%d]: \"%s\" is no policy name "
				 "(1 to 64 of [A-Za-z0-9_.-], not starting with '.')", name, i, it->valuestring);
			return -EINVAL;
		}
		p->includes[p->nincludes] = strdup(it->valuestring);
		if (!p->includes[p->nincludes])
			return -ENOMEM;
		p->nincludes++;
		i++;
	}
	return 0;
}

/* Policies one load may read, the including one aside: a bound on the
 * work a directory of hostile files can cause, far above any real use. */
#define MAX_PARTS 64

struct merge {
	const char *label;             /* the policy being loaded: starts messages */
	const struct wb_policy_source *src;
	struct wb_policy_rule *rules;  /* merged so far */
	const char **from;             /* the policy each rule came from */
	size_t n;
	char **binds;
	size_t nbinds;
	struct wb_policy parts[MAX_PARTS];  /* kept whole: from points at their names */
	size_t nparts;
	const char *stack[MAX_PARTS + 2];   /* names being merged, outermost first */
	size_t depth;
	const char *done[MAX_PARTS + 1];    /* names merged: a second path to one adds nothing */
	size_t ndone;
	char *err;
	size_t errlen;
};

static int fail(struct merge *m, int rc, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static int fail(struct merge *m, int rc, const char *fmt, ...)
{
	va_list ap;
	int n = snprintf(m->err, m->errlen, "%s: ", m->label);

	va_start(ap, fmt);
	if (n >= 0 && (size_t)n < m->errlen)
		vsnprintf(m->err + n, m->errlen - (size_t)n, fmt, ap);
	va_end(ap);
	return rc;
}

static void action(const struct wb_policy_rule *r, char *buf, size_t len)
{
	if (r->err)
		snprintf(buf, len, "errno.%s", policy_errno_name(r->err));
	else
		snprintf(buf, len, "allow");
}

static bool same_entry(const struct wb_policy_rule *a, const struct wb_policy_rule *b)
{
	return a->nr == b->nr && a->arg == b->arg && (a->arg < 0 || a->value == b->value);
}

static void drop_rule(struct merge *m, size_t i)
{
	free(m->rules[i].entry);
	memmove(&m->rules[i], &m->rules[i + 1], (m->n - i - 1) * sizeof(*m->rules));
	memmove(&m->from[i], &m->from[i + 1], (m->n - i - 1) * sizeof(*m->from));
	m->n--;
}

/* Takes rule r (its entry) from the file named from. A syscall has one
 * action for any one call: "read" allowed in one file and refused in
 * another, or refused with two errnos, is an error, and so is a condition
 * on one side only (a call the condition leaves out gets the default
 * action, not another rule's). Conditions that no call meets both of (the
 * same argument, two values: socket of AF_INET allowed, of AF_UNIX
 * refused) are two calls, each with its action. The
 * same entry twice in one file is an error too; in two files it is one
 * rule. A rule without a condition covers the same syscall's conditional
 * ones of its action, which go. */
static int add_rule(struct merge *m, struct wb_policy_rule *r, const char *from)
{
	int len = (int)strcspn(r->entry, " ");

	for (size_t i = 0; i < m->n; i++) {
		struct wb_policy_rule *x = &m->rules[i];
		char a[32], b[32];

		if (x->nr != r->nr)
			continue;
		if (x->arg >= 0 && x->arg == r->arg && x->value != r->value)
			continue;
		if (x->err != r->err) {
			action(x, a, sizeof(a));
			action(r, b, sizeof(b));
			return fail(m, -EINVAL, "syscall \"%.*s\" given two actions: %s in %s, %s in %s "
				    "(a syscall takes one)", len, r->entry, a, m->from[i], b, from);
		}
		if (!same_entry(x, r))
			continue;
		if (m->from[i] == from)
			return fail(m, -EINVAL, "\"%s\" listed twice in %s", r->entry, from);
		return 0;
	}
	if (r->arg < 0) {
		for (size_t i = m->n; i-- > 0;)
			if (m->rules[i].nr == r->nr)
				drop_rule(m, i);
	} else {
		for (size_t i = 0; i < m->n; i++)
			if (m->rules[i].nr == r->nr && m->rules[i].arg < 0)
				return 0;
	}
	m->rules[m->n] = *r;
	m->from[m->n] = from;
	m->n++;
	r->entry = NULL;
	return 0;
}

/* Moves part's own rules and binds into the merge (what is left in part is
 * freed with it). */
static int take(struct merge *m, struct wb_policy *part, const char *from)
{
	size_t want = m->n + part->nrules;
	struct wb_policy_rule *rules = realloc(m->rules, (want + 1) * sizeof(*rules));
	const char **fr;
	char **binds;
	int rc;

	if (!rules)
		return -ENOMEM;
	m->rules = rules;
	fr = realloc(m->from, (want + 1) * sizeof(*fr));
	if (!fr)
		return -ENOMEM;
	m->from = fr;
	binds = realloc(m->binds, (m->nbinds + part->nbinds + 1) * sizeof(*binds));
	if (!binds)
		return -ENOMEM;
	m->binds = binds;
	for (size_t i = 0; i < part->nrules; i++)
		if ((rc = add_rule(m, &part->rules[i], from)) < 0)
			return rc;
	for (size_t i = 0; i < part->nbinds; i++) {
		bool dup = false;

		for (size_t k = 0; k < m->nbinds; k++)
			dup |= strcmp(m->binds[k], part->binds[i]) == 0;
		if (!dup) {
			m->binds[m->nbinds++] = part->binds[i];
			part->binds[i] = NULL;
		}
	}
	m->binds[m->nbinds] = NULL;
	return 0;
}

static bool listed(const char *const *v, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (v[i] && strcmp(v[i], name) == 0)
			return true;
	return false;
}

static int cycle(struct merge *m, const char *name)
{
	char path[512] = "";
	size_t at = 0;

	while (at < m->depth && strcmp(m->stack[at], name) != 0)
		at++;
	for (size_t i = at; i < m->depth; i++) {
		strncat(path, m->stack[i], sizeof(path) - strlen(path) - 1);
		strncat(path, " -> ", sizeof(path) - strlen(path) - 1);
	}
	strncat(path, name, sizeof(path) - strlen(path) - 1);
	return fail(m, -EINVAL, "include: a cycle: %s", path);
}

static int merge_part(struct merge *m, struct wb_policy *part, const char *name);

/* Reads the policy name, which the policy includer includes, and merges
 * it. */
static int merge_include(struct merge *m, const char *name, const char *includer)
{
	struct wb_policy *child;
	char *label = NULL, *text = NULL, why[384] = "";
	size_t len = 0;
	int rc;

	if (listed(m->stack, m->depth, name))
		return cycle(m, name);
	if (listed(m->done, m->ndone, name))
		return 0;
	if (!m->src)
		return fail(m, -EINVAL, "include \"%s\": only a policy loaded from a directory may include",
			    name);
	if (m->nparts == MAX_PARTS)
		return fail(m, -E2BIG, "include: more than %d policies", MAX_PARTS);
	rc = m->src->read(m->src->ctx, name, &label, &text, &len, why, sizeof(why));
	/* Not -ENOENT, which warmbox serve takes for a runtime missing here. */
	if (rc == -ENOENT)
		return fail(m, -EINVAL, "include \"%s\" in %s: no such policy (%s)", name, includer, why);
	if (rc < 0)
		return fail(m, rc, "include \"%s\" in %s: %s", name, includer, why);
	child = &m->parts[m->nparts];
	rc = policy_read_one(label, text, len, child, m->err, m->errlen);
	free(text);
	free(label);
	if (rc < 0)
		return rc;
	m->nparts++;
	free(child->name);
	child->name = strdup(name);
	if (!child->name)
		return -ENOMEM;
	return merge_part(m, child, child->name);
}

/* Merges what part includes, depth first, then part's own rules; name is
 * the policy's, in cycles and in messages. */
static int merge_part(struct merge *m, struct wb_policy *part, const char *name)
{
	int rc = 0;

	m->stack[m->depth++] = name;
	for (size_t i = 0; i < part->nincludes && rc == 0; i++)
		rc = merge_include(m, part->includes[i], name);
	m->depth--;
	if (rc == 0)
		rc = take(m, part, name);
	if (rc == 0)
		m->done[m->ndone++] = name;
	return rc;
}

int policy_merge(struct wb_policy *p, const char *label, const struct wb_policy_source *src,
		 char *err, size_t errlen)
{
	struct merge *m = calloc(1, sizeof(*m));
	int rc;

	if (!m)
		return -ENOMEM;
	m->label = label;
	m->src = src;
	m->err = err;
	m->errlen = errlen;
	rc = merge_part(m, p, src && src->name ? src->name : label);
	if (rc == 0) {
		for (size_t i = 0; i < p->nrules; i++)
			free(p->rules[i].entry);
		free(p->rules);
		p->rules = m->rules;
		p->nrules = m->n;
		p->nallow = 0;
		for (size_t i = 0; i < m->n; i++)
			p->nallow += m->rules[i].err == 0;
		for (size_t i = 0; i < p->nbinds; i++)
			free(p->binds[i]);
		free(p->binds);
		p->binds = m->binds;
		p->nbinds = m->nbinds;
		m->rules = NULL;
		m->n = 0;
		m->binds = NULL;
		m->nbinds = 0;
	}
	for (size_t i = 0; i < m->n; i++)
		free(m->rules[i].entry);
	free(m->rules);
	free(m->from);
	for (size_t i = 0; i < m->nbinds; i++)
		free(m->binds[i]);
	free(m->binds);
	for (size_t i = 0; i < m->nparts; i++)
		wb_policy_free(&m->parts[i]);
	free(m);
	return rc;
}
