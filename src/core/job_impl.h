/* job_impl.h: what job.c (the rules, the struct's life) and job_parse.c
 * (JSON to struct) share; not public, job.h is. */
#ifndef WB_JOB_IMPL_H
#define WB_JOB_IMPL_H

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/job.h"

/* Where messages go: the caller's buffer, possibly NULL or zero-sized. */
struct err {
	char *buf;
	size_t len;
};

/* Writes the message (if there is a buffer) and returns rc. */
__attribute__((format(printf, 3, 4)))
int job_fail_with(int rc, struct err *e, const char *fmt, ...);
#define fail(e, ...) job_fail_with(-EINVAL, (e), __VA_ARGS__)
#define nomem(e) job_fail_with(-ENOMEM, (e), "out of memory")

/* Names chosen by the client end up in one-line messages and logs, so they
 * are shown printable-only, escaped, and cut short. */
#define QUOTE_MAX 64
const char *job_quote(const char *s, char buf[QUOTE_MAX]);

/* The limits: their names, where they sit in struct wb_limits, bounds. */
struct limit_rule {
	const char *name;
	size_t offset;
	uint64_t min, max;
};
#define JOB_NLIMITS 7   /* job.c asserts it is the count of its rules */
extern const struct limit_rule *const job_limit_rules;
uint64_t *job_limit_ptr(struct wb_limits *l, const struct limit_rule *r);
int job_check_limit(struct err *e, const struct limit_rule *r, uint64_t v);
int job_check_count(struct err *e, const char *field, size_t n, size_t max);
int job_check_mode(struct err *e, size_t i, uint64_t mode);
bool job_env_name_ok(const char *name, size_t len);

/* A string and where it came from, for job_find_duplicate. */
struct dup_ent {
	const char *s;
	size_t idx;
};
/* Finds two equal strings (the earliest second occurrence): 1 with *a < *b
 * set, 0 when all differ. Sorts v. */
int job_find_duplicate(struct dup_ent *v, size_t n, size_t *a, size_t *b);

/* The meaning of a filled struct: bounds, paths, names. 0 or -EINVAL. */
int job_validate(const struct wb_job *job, struct err *e);

void job_strv_free(char **v);

#endif
