/* job.c: SPEC.md "Job": the rules on struct wb_job and its life.
 *
 * The work is split in two so that the rules exist once: the parser
 * (job_parse.c) checks only what is about JSON (types, unknown or repeated
 * keys, integral numbers, base64) and fills the struct; job_validate() here
 * then checks the meaning (bounds, paths, names) of a struct however it was
 * built, the CLI's included. */
#include "core/job_impl.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int job_fail_with(int rc, struct err *e, const char *fmt, ...)
{
	va_list ap;

	if (e->buf && e->len) {
		va_start(ap, fmt);
		vsnprintf(e->buf, e->len, fmt, ap);
		va_end(ap);
	}
	return rc;
}

/* Names chosen by the client end up in one-line messages and logs, so they
 * are shown printable-only, escaped, and cut short. */
const char *job_quote(const char *s, char buf[QUOTE_MAX])
{
	static const char hex[] = "0123456789abcdef";
	size_t o = 0;

	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (o + 4 > QUOTE_MAX - 4) {
			memcpy(buf + o, "...", 3);
			o += 3;
			break;
		}
		if (c >= 0x20 && c < 0x7f && c != '"' && c != '\\') {
			buf[o++] = (char)c;
		} else {
			buf[o++] = '\\';
			buf[o++] = 'x';
			buf[o++] = hex[c >> 4];
			buf[o++] = hex[c & 15];
		}
	}
	buf[o] = '\0';
	return buf;
}

/* ---- rules on the struct, shared by parse and validate ---------------- */

static const struct limit_rule limit_rules[] = {
	{ "cpu_ms", offsetof(struct wb_limits, cpu_ms), 1, WB_MAX_TIME_MS },
	{ "wall_ms", offsetof(struct wb_limits, wall_ms), 1, WB_MAX_TIME_MS },
	{ "memory_kb", offsetof(struct wb_limits, memory_kb), 1024, WB_MAX_MEMORY_KB },
	{ "procs", offsetof(struct wb_limits, procs), 1, WB_MAX_PROCS },
	{ "output_kb", offsetof(struct wb_limits, output_kb), 0, WB_MAX_OUTPUT_KB },
	{ "file_size_kb", offsetof(struct wb_limits, file_size_kb), 0, WB_MAX_FILE_SIZE_KB },
	{ "stack_kb", offsetof(struct wb_limits, stack_kb), 64, WB_MAX_MEMORY_KB },
};
_Static_assert(sizeof limit_rules / sizeof limit_rules[0] == JOB_NLIMITS, "JOB_NLIMITS is the rules' count");
const struct limit_rule *const job_limit_rules = limit_rules;

uint64_t *job_limit_ptr(struct wb_limits *l, const struct limit_rule *r)
{
	return (uint64_t *)(void *)((char *)l + r->offset);
}

int job_check_limit(struct err *e, const struct limit_rule *r, uint64_t v)
{
	if (v >= r->min && v <= r->max)
		return 0;
	return fail(e, "limits.%s: must be an integer between %" PRIu64 " and %" PRIu64,
		    r->name, r->min, r->max);
}

int job_check_count(struct err *e, const char *field, size_t n, size_t max)
{
	if (n <= max)
		return 0;
	return fail(e, "%s: at most %zu entries are allowed", field, max);
}

int job_check_mode(struct err *e, size_t i, uint64_t mode)
{
	if (mode <= 0777)
		return 0;
	return fail(e, "files[%zu].mode: must be an integer between 0 and 511 (0777)", i);
}

bool job_env_name_ok(const char *name, size_t len)
{
	return len > 0 && !memchr(name, '=', len);
}

/* Why path is not acceptable under /box, or NULL when it is. */
static const char *path_problem(const char *p)
{
	const char *c, *end;

	if (!p || !*p)
		return "must not be empty";
	if (strnlen(p, WB_MAX_PATH + 1) > WB_MAX_PATH)
		return "longer than " WB_STR(WB_MAX_PATH) " bytes";
	if (p[0] == '/')
		return "absolute paths are not allowed";
	for (c = p;; c = end + 1) {
		end = strchrnul(c, '/');
		if (end == c)
			return "empty components are not allowed";
		if (end - c == 1 && c[0] == '.')
			return "\".\" components are not allowed";
		if (end - c == 2 && c[0] == '.' && c[1] == '.')
			return "\"..\" components are not allowed";
		if (!*end)
			return NULL;
	}
}

bool wb_job_path_ok(const char *path)
{
	return path_problem(path) == NULL;
}

static bool has_dotdot(const char *p)
{
	const char *end;

	for (; *p; p = *end ? end + 1 : end) {
		end = strchrnul(p, '/');
		if (end - p == 2 && p[0] == '.' && p[1] == '.')
			return true;
	}
	return false;
}

static bool policy_name_ok(const char *s)
{
	size_t n;

	if (s[0] == '.')
		return false;
	for (n = 0; s[n]; n++) {
		char c = s[n];

		if (n == 64)
			return false;
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      (c >= '0' && c <= '9') || c == '_' || c == '.' || c == '-'))
			return false;
	}
	return n > 0;
}

static int dup_cmp(const void *a, const void *b)
{
	const struct dup_ent *x = a, *y = b;
	int c = strcmp(x->s, y->s);

	if (c)
		return c;
	return x->idx < y->idx ? -1 : x->idx > y->idx;
}

/* Finds two equal strings, sorting rather than comparing all pairs since a
 * job may carry thousands of long paths. Of all duplicates it reports the
 * earliest second occurrence, so the message does not depend on qsort.
 * Returns 1 with *a < *b set, 0 when all differ, or -ENOMEM. */
int job_find_duplicate(struct dup_ent *v, size_t n, size_t *a, size_t *b)
{
	size_t i, best = SIZE_MAX;

	qsort(v, n, sizeof *v, dup_cmp);
	for (i = 1; i < n; i++) {
		/* Within a run of equal strings only the second can be a new best,
		 * and the one before it is then the run's first occurrence. */
		if (v[i].idx >= best || strcmp(v[i - 1].s, v[i].s) != 0)
			continue;
		best = v[i].idx;
		*a = v[i - 1].idx;
	}
	if (best == SIZE_MAX)
		return 0;
	*b = best;
	return 1;
}

static int check_argv(const struct wb_job *job, struct err *e)
{
	size_t i;
	int r;

	if (!job->argv || job->argc == 0)
		return fail(e, "argv: must be a non-empty array of strings");
	r = job_check_count(e, "argv", job->argc, WB_MAX_ARGS);
	if (r < 0)
		return r;
	for (i = 0; i < job->argc; i++)
		if (!job->argv[i])
			return fail(e, "argv[%zu]: must be a string", i);
	if (!job->argv[0][0])
		return fail(e, "argv[0]: must not be empty");
	return 0;
}

static int check_env(const struct wb_job *job, struct err *e)
{
	size_t i;
	int r;

	r = job_check_count(e, "env", job->envc, WB_MAX_ARGS);
	if (r < 0)
		return r;
	for (i = 0; i < job->envc; i++) {
		const char *s = job->env ? job->env[i] : NULL;
		const char *eq = s ? strchr(s, '=') : NULL;

		if (!eq || !job_env_name_ok(s, (size_t)(eq - s)))
			return fail(e, "env[%zu]: must be NAME=VALUE with a non-empty NAME", i);
	}
	return 0;
}

static int check_cwd(const char *cwd, struct err *e)
{
	if (!cwd)
		return fail(e, "cwd: required");
	if (strnlen(cwd, WB_MAX_PATH + 1) > WB_MAX_PATH)
		return fail(e, "cwd: longer than %d bytes", WB_MAX_PATH);
	if (cwd[0] != '/')
		return fail(e, "cwd: must be an absolute path");
	if (has_dotdot(cwd))
		return fail(e, "cwd: \"..\" components are not allowed");
	return 0;
}

/* SPEC "File store": "sha256:" and 64 lowercase hex digits. */
static bool ref_well_formed(const char *ref)
{
	if (strncmp(ref, "sha256:", 7) != 0 || strlen(ref) != WB_REF_LEN)
		return false;
	for (const char *p = ref + 7; *p; p++)
		if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f')))
			return false;
	return true;
}

static int check_files(const struct wb_job *job, struct err *e)
{
	struct dup_ent *v;
	size_t i, a, b, refs = 0;
	int r;

	r = job_check_count(e, "files", job->nfiles, WB_MAX_FILES);
	if (r < 0)
		return r;
	for (i = 0; i < job->nfiles; i++) {
		const char *why = path_problem(job->files[i].path);

		if (why)
			return fail(e, "files[%zu].path: %s", i, why);
		r = job_check_mode(e, i, job->files[i].mode);
		if (r < 0)
			return r;
		if (!job->files[i].ref)
			continue;
		if (!ref_well_formed(job->files[i].ref))
			return fail(e, "files[%zu].ref: expected \"sha256:\" and 64 lowercase hex digits", i);
		if (++refs > WB_MAX_REFS)
			return fail(e, "files[%zu].ref: at most " WB_STR(WB_MAX_REFS) " files by ref in one job", i);
	}
	if (job->nfiles < 2)
		return 0;
	v = malloc(job->nfiles * sizeof *v);
	if (!v)
		return nomem(e);
	for (i = 0; i < job->nfiles; i++)
		v[i] = (struct dup_ent){ job->files[i].path, i };
	r = job_find_duplicate(v, job->nfiles, &a, &b);
	free(v);
	if (r > 0)
		return fail(e, "files[%zu].path: duplicate of files[%zu]", b, a);
	return r;
}

static int check_copy_out(const struct wb_job *job, struct err *e)
{
	size_t i;
	int r;

	r = job_check_count(e, "copy_out", job->ncopy_out, WB_MAX_FILES);
	if (r < 0)
		return r;
	for (i = 0; i < job->ncopy_out; i++)
		if (!job->copy_out || !job->copy_out[i] || !job->copy_out[i][0])
			return fail(e, "copy_out[%zu]: must be a non-empty string", i);
	return 0;
}

/* The interactor reads the program's stdout: the program has no stdin of
 * its own, and the interactor is a plain job, checked by the same rules. */
static int check_interactor(const struct wb_job *job, struct err *e)
{
	const struct wb_job *in = job->interactor;
	char sub[WB_ERR_LEN];
	struct err se = { sub, sizeof sub };

	if (!in)
		return 0;
	if (job->stdin_len)
		return fail(e, "stdin: not with an interactor (the program reads the interactor's stdout)");
	if (in->id || in->stdin_len || in->network || in->interactor)
		return fail(e, "interactor: only argv, env, cwd, files, limits, policy and copy_out");
	if (job_validate(in, &se) < 0)
		return fail(e, "interactor: %s", sub);
	return 0;
}

int job_validate(const struct wb_job *job, struct err *e)
{
	struct wb_limits lim = job->limits;
	size_t i;
	int r;

	if ((r = check_argv(job, e)) < 0 || (r = check_env(job, e)) < 0 ||
	    (r = check_cwd(job->cwd, e)) < 0 || (r = check_files(job, e)) < 0 ||
	    (r = check_copy_out(job, e)) < 0)
		return r;
	for (i = 0; i < JOB_NLIMITS; i++) {
		r = job_check_limit(e, &job_limit_rules[i], *job_limit_ptr(&lim, &job_limit_rules[i]));
		if (r < 0)
			return r;
	}
	if (!job->policy || !policy_name_ok(job->policy))
		return fail(e, "policy: must be 1 to 64 of [A-Za-z0-9_.-], not starting with '.'");
	return check_interactor(job, e);
}

int wb_job_validate(const struct wb_job *job, char *err, size_t errlen)
{
	struct err e = { err, errlen };

	if (err && errlen)
		err[0] = '\0';
	return job_validate(job, &e);
}

void job_strv_free(char **v)
{
	char **p;

	for (p = v; p && *p; p++)
		free(*p);
	free(v);
}

/* ---- construction and destruction ------------------------------------ */

int wb_strv_push(char ***v, size_t *n, const char *s)
{
	char **nv, *copy;

	if (*n > SIZE_MAX / sizeof **v - 2)
		return -ENOMEM;
	copy = strdup(s);
	if (!copy)
		return -ENOMEM;
	nv = realloc(*v, (*n + 2) * sizeof **v);
	if (!nv) {
		free(copy);
		return -ENOMEM;
	}
	nv[(*n)++] = copy;
	nv[*n] = NULL;
	*v = nv;
	return 0;
}

int wb_job_init(struct wb_job *job)
{
	static const char *const default_env[] = {
		"PATH=/usr/local/bin:/usr/bin:/bin", "HOME=/box", "LANG=C.UTF-8",
	};
	size_t i;

	memset(job, 0, sizeof *job);
	job->limits = (struct wb_limits){
		.cpu_ms = WB_DEFAULT_CPU_MS,
		.wall_ms = WB_DEFAULT_WALL_MS,
		.memory_kb = WB_DEFAULT_MEMORY_KB,
		.procs = WB_DEFAULT_PROCS,
		.output_kb = WB_DEFAULT_OUTPUT_KB,
		.file_size_kb = WB_DEFAULT_FILE_SIZE_KB,
		.stack_kb = WB_DEFAULT_STACK_KB,
	};
	/* Empty vectors rather than NULL, so callers may always walk them. */
	job->argv = calloc(1, sizeof *job->argv);
	job->copy_out = calloc(1, sizeof *job->copy_out);
	job->cwd = strdup("/box");
	job->policy = strdup("default");
	if (!job->argv || !job->copy_out || !job->cwd || !job->policy)
		goto nomem;
	for (i = 0; i < sizeof default_env / sizeof default_env[0]; i++)
		if (wb_strv_push(&job->env, &job->envc, default_env[i]) < 0)
			goto nomem;
	return 0;
nomem:
	wb_job_free(job);
	return -ENOMEM;
}

void wb_job_free(struct wb_job *job)
{
	size_t i;

	if (!job)
		return;
	free(job->id);
	job_strv_free(job->argv);
	job_strv_free(job->env);
	free(job->cwd);
	for (i = 0; i < job->nfiles; i++) {
		free(job->files[i].path);
		free(job->files[i].data);
		free(job->files[i].ref);
	}
	free(job->files);
	free(job->stdin_data);
	free(job->policy);
	job_strv_free(job->copy_out);
	free(job->copy_keep);
	wb_job_free(job->interactor);
	free(job->interactor);
	memset(job, 0, sizeof *job);
}
