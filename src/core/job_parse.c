/* job_parse.c: JSON text to struct wb_job. Only what is about JSON is
 * checked here (types, unknown or repeated keys, integral numbers, UTF-8,
 * base64); job_validate() (job.c) then checks the meaning. */
#include "core/job_impl.h"

#include <cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/base64.h"
#include "core/utf8.h"

static bool is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/* cJSON keeps strings NUL-terminated, so "\u0000" would silently cut a
 * file's content short; it is refused here, before cJSON sees the text,
 * together with the raw NULs and control characters JSON does not allow,
 * and bytes that are not UTF-8 (JSON text is UTF-8, RFC 8259; cJSON would
 * pass them on, and the result could not echo such an id back). */
static int scan_text(const char *text, size_t len, struct err *e)
{
	bool in_string = false;
	size_t i;

	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)text[i];

		if (c == '\0')
			return fail(e, "invalid JSON: NUL byte at offset %zu", i);
		if (c >= 0x80) {
			size_t k = wb_utf8_seq((const unsigned char *)text + i, len - i);

			if (!k)
				return fail(e, "invalid JSON: not UTF-8 at offset %zu", i);
			i += k - 1;
			continue;
		}
		if (!in_string) {
			in_string = c == '"';
		} else if (c == '"') {
			in_string = false;
		} else if (c < 0x20) {
			return fail(e, "invalid JSON: control character in a string at offset %zu", i);
		} else if (c == '\\') {
			if (len - i > 5 && memcmp(text + i + 1, "u0000", 5) == 0)
				return fail(e, "invalid JSON: \\u0000 at offset %zu (send binary data as base64)", i);
			i++;
		}
	}
	return 0;
}

static int parse_root(const char *text, size_t len, cJSON **root, struct err *e)
{
	const char *end = NULL;
	int r;

	r = scan_text(text, len, e);
	if (r < 0)
		return r;
	*root = cJSON_ParseWithLengthOpts(text, len, &end, 0);
	if (!*root) {
		size_t off = end && end >= text && end <= text + len ? (size_t)(end - text) : 0;

		return fail(e, "invalid JSON: syntax error at offset %zu", off);
	}
	for (; end < text + len; end++)
		if (!is_space(*end))
			return fail(e, "invalid JSON: trailing data at offset %zu", (size_t)(end - text));
	if (!cJSON_IsObject(*root))
		return fail(e, "job: expected a JSON object");
	return 0;
}

/* Sorts the members of obj into found[] by name, refusing unknown names and
 * repeated ones, which cJSON would otherwise resolve silently. */
static int pick_fields(const cJSON *obj, const char *where, const char *const *names,
		       size_t n, const cJSON **found, struct err *e)
{
	const char *sep = *where ? ": " : "";
	const cJSON *m;
	char q[QUOTE_MAX];
	size_t i;

	memset(found, 0, n * sizeof *found);
	cJSON_ArrayForEach(m, obj) {
		for (i = 0; i < n && strcmp(m->string, names[i]) != 0; i++)
			;
		if (i == n)
			return fail(e, "%s%sunknown field \"%s\"", where, sep, job_quote(m->string, q));
		if (found[i])
			return fail(e, "%s%sduplicate field \"%s\"", where, sep, names[i]);
		found[i] = m;
	}
	return 0;
}

/* JSON numbers arrive as doubles; only exact integers up to 2^53 are taken,
 * so nothing is rounded or wrapped on the way to uint64_t. */
static bool get_uint(const cJSON *v, uint64_t *out)
{
	double d;

	if (!cJSON_IsNumber(v))
		return false;
	d = v->valuedouble;
	if (!(d >= 0 && d <= 9007199254740992.0))
		return false;
	*out = (uint64_t)d;
	return (double)*out == d;
}

static int get_string(const cJSON *v, const char *field, char **dst, struct err *e)
{
	char *s;

	if (!cJSON_IsString(v))
		return fail(e, "%s: must be a string", field);
	s = strdup(v->valuestring);
	if (!s)
		return nomem(e);
	free(*dst);
	*dst = s;
	return 0;
}

/* Text or base64 into bytes; base64 errors name field. */
static int get_bytes(const char *text, bool base64, const char *field,
		     unsigned char **data, size_t *len, struct err *e)
{
	int r;

	if (base64) {
		r = wb_base64_decode(text, data, len);
		if (r == -EINVAL)
			return fail(e, "%s: invalid base64", field);
		return r < 0 ? nomem(e) : 0;
	}
	*len = strlen(text);
	*data = malloc(*len + 1);
	if (!*data)
		return nomem(e);
	memcpy(*data, text, *len + 1);
	return 0;
}

static int parse_strv(const cJSON *v, const char *field, size_t max, char ***dst,
		      size_t *n, struct err *e)
{
	const cJSON *it;
	size_t i = 0;
	int r;

	if (!cJSON_IsArray(v))
		return fail(e, "%s: must be an array of strings", field);
	/* Bounded before copying so that a huge array costs nothing more. */
	r = job_check_count(e, field, (size_t)cJSON_GetArraySize(v), max);
	if (r < 0)
		return r;
	cJSON_ArrayForEach(it, v) {
		if (!cJSON_IsString(it))
			return fail(e, "%s[%zu]: must be a string", field, i);
		if (wb_strv_push(dst, n, it->valuestring) < 0)
			return nomem(e);
		i++;
	}
	return 0;
}

/* The string a job_find_duplicate()d array holds for the original index idx. */
static const char *names_at(const struct dup_ent *v, size_t n, size_t idx)
{
	size_t i;

	for (i = 0; i < n && v[i].idx != idx; i++)
		;
	return i < n ? v[i].s : "";
}

static int parse_env(const cJSON *v, struct wb_job *job, struct err *e)
{
	struct dup_ent *names = NULL;
	const cJSON *m;
	char q[QUOTE_MAX], *s;
	size_t n = 0, a, b;
	int r;

	if (!cJSON_IsObject(v))
		return fail(e, "env: must be an object of strings");
	r = job_check_count(e, "env", (size_t)cJSON_GetArraySize(v), WB_MAX_ARGS);
	if (r < 0)
		return r;
	/* A given env replaces the defaults rather than adding to them. */
	job_strv_free(job->env);
	job->env = calloc(1, sizeof *job->env);
	job->envc = 0;
	names = calloc((size_t)cJSON_GetArraySize(v) + 1, sizeof *names);
	if (!job->env || !names) {
		r = nomem(e);
		goto out;
	}
	cJSON_ArrayForEach(m, v) {
		if (!job_env_name_ok(m->string, strlen(m->string))) {
			r = fail(e, "env: invalid variable name \"%s\"", job_quote(m->string, q));
			goto out;
		}
		if (!cJSON_IsString(m)) {
			r = fail(e, "env.%s: must be a string", job_quote(m->string, q));
			goto out;
		}
		if (asprintf(&s, "%s=%s", m->string, m->valuestring) < 0) {
			r = nomem(e);
			goto out;
		}
		r = wb_strv_push(&job->env, &job->envc, s);
		free(s);
		if (r < 0) {
			r = nomem(e);
			goto out;
		}
		names[n] = (struct dup_ent){ m->string, n };
		n++;
	}
	r = 0;
	if (job_find_duplicate(names, n, &a, &b) > 0)
		r = fail(e, "env: duplicate variable \"%s\"", job_quote(names_at(names, n, b), q));
out:
	free(names);
	return r;
}

static int parse_file(const cJSON *v, size_t i, struct wb_file *f, struct err *e)
{
	static const char *const names[] = { "path", "content", "base64", "mode", "ref" };
	const cJSON *found[5];
	char field[48];
	uint64_t mode = 0644;
	int r;

	snprintf(field, sizeof field, "files[%zu]", i);
	if (!cJSON_IsObject(v))
		return fail(e, "%s: must be an object", field);
	r = pick_fields(v, field, names, 5, found, e);
	if (r < 0)
		return r;
	if (!found[0])
		return fail(e, "%s.path: required", field);
	if ((found[1] != NULL) + (found[2] != NULL) + (found[4] != NULL) != 1)
		return fail(e, "%s: exactly one of content, base64 and ref is required", field);
	snprintf(field, sizeof field, "files[%zu].path", i);
	r = get_string(found[0], field, &f->path, e);
	if (r < 0)
		return r;
	if (found[4]) {
		snprintf(field, sizeof field, "files[%zu].ref", i);
		r = get_string(found[4], field, &f->ref, e);
	} else {
		snprintf(field, sizeof field, "files[%zu].%s", i, found[1] ? "content" : "base64");
		v = found[1] ? found[1] : found[2];
		if (!cJSON_IsString(v))
			return fail(e, "%s: must be a string", field);
		r = get_bytes(v->valuestring, found[2] != NULL, field, &f->data, &f->len, e);
	}
	if (r < 0)
		return r;
	if (found[3] && !get_uint(found[3], &mode))
		mode = UINT64_MAX;
	r = job_check_mode(e, i, mode);
	if (r < 0)
		return r;
	f->mode = (unsigned)mode;
	return 0;
}

static int parse_files(const cJSON *v, struct wb_job *job, struct err *e)
{
	const cJSON *it;
	size_t n;
	int r;

	if (!cJSON_IsArray(v))
		return fail(e, "files: must be an array of objects");
	n = (size_t)cJSON_GetArraySize(v);
	r = job_check_count(e, "files", n, WB_MAX_FILES);
	if (r < 0)
		return r;
	job->files = calloc(n + 1, sizeof *job->files);
	if (!job->files)
		return nomem(e);
	cJSON_ArrayForEach(it, v) {
		/* Counted first so that wb_job_free sees a half-filled entry. */
		job->nfiles++;
		r = parse_file(it, job->nfiles - 1, &job->files[job->nfiles - 1], e);
		if (r < 0)
			return r;
	}
	return 0;
}

static int parse_stdin(const cJSON *v, struct wb_job *job, struct err *e)
{
	static const char *const names[] = { "base64" };
	const cJSON *b64;
	int r;

	if (cJSON_IsString(v))
		return get_bytes(v->valuestring, false, "stdin", &job->stdin_data,
				 &job->stdin_len, e);
	if (!cJSON_IsObject(v))
		return fail(e, "stdin: must be a string or {\"base64\": \"...\"}");
	r = pick_fields(v, "stdin", names, 1, &b64, e);
	if (r < 0)
		return r;
	if (!b64)
		return fail(e, "stdin.base64: required");
	if (!cJSON_IsString(b64))
		return fail(e, "stdin.base64: must be a string");
	return get_bytes(b64->valuestring, true, "stdin.base64", &job->stdin_data,
			 &job->stdin_len, e);
}

static int parse_limits(const cJSON *v, struct wb_limits *l, struct err *e)
{
	const char *names[JOB_NLIMITS];
	const cJSON *found[JOB_NLIMITS];
	size_t i;
	int r;

	if (!cJSON_IsObject(v))
		return fail(e, "limits: must be an object");
	for (i = 0; i < JOB_NLIMITS; i++)
		names[i] = job_limit_rules[i].name;
	r = pick_fields(v, "limits", names, JOB_NLIMITS, found, e);
	if (r < 0)
		return r;
	for (i = 0; i < JOB_NLIMITS; i++) {
		uint64_t x;

		if (!found[i])
			continue;
		if (!get_uint(found[i], &x))
			x = UINT64_MAX;
		r = job_check_limit(e, &job_limit_rules[i], x);
		if (r < 0)
			return r;
		*job_limit_ptr(l, &job_limit_rules[i]) = x;
	}
	/* A judge sets cpu_ms per problem and expects the wall clock to follow
	 * it, not to stay at a default that may be shorter than the cpu limit. */
	if (found[0] && !found[1]) {
		uint64_t w = 2 * l->cpu_ms + 1000;

		if (w < WB_DEFAULT_WALL_MS)
			w = WB_DEFAULT_WALL_MS;
		l->wall_ms = w > WB_MAX_TIME_MS ? WB_MAX_TIME_MS : w;
	}
	return 0;
}

/* Paths, or {"path": P, "keep": true}: into the daemon's store (SPEC
 * "File store"). */
static int parse_copy_out(const cJSON *v, struct wb_job *job, struct err *e)
{
	static const char *const names[] = { "path", "keep" };
	const cJSON *it, *path, *found[2];
	char field[48];
	size_t i = 0;
	int r;

	if (!cJSON_IsArray(v))
		return fail(e, "copy_out: must be an array of paths or {\"path\": P, \"keep\": true}");
	r = job_check_count(e, "copy_out", (size_t)cJSON_GetArraySize(v), WB_MAX_FILES);
	if (r < 0)
		return r;
	job->copy_keep = calloc((size_t)cJSON_GetArraySize(v) + 1, sizeof(*job->copy_keep));
	if (!job->copy_keep)
		return nomem(e);
	cJSON_ArrayForEach(it, v) {
		snprintf(field, sizeof field, "copy_out[%zu]", i);
		path = it;
		if (cJSON_IsObject(it)) {
			if ((r = pick_fields(it, field, names, 2, found, e)) < 0)
				return r;
			if (!cJSON_IsString(found[0]))
				return fail(e, "%s.path: a string is required", field);
			if (found[1] && !cJSON_IsBool(found[1]))
				return fail(e, "%s.keep: must be true or false", field);
			job->copy_keep[i] = cJSON_IsTrue(found[1]);
			path = found[0];
		} else if (!cJSON_IsString(it)) {
			return fail(e, "%s: must be a string or {\"path\": P, \"keep\": true}", field);
		}
		if (wb_strv_push(&job->copy_out, &job->ncopy_out, path->valuestring) < 0)
			return nomem(e);
		i++;
	}
	return 0;
}

enum { F_ID, F_ARGV, F_ENV, F_CWD, F_FILES, F_STDIN, F_LIMITS, F_POLICY,
       F_NETWORK, F_COPY_OUT, F_INTERACTOR, F_COUNT };

static const char *const top_names[F_COUNT] = {
	"id", "argv", "env", "cwd", "files", "stdin", "limits", "policy",
	"network", "copy_out", "interactor",
};

static int parse_fields(const cJSON *root, struct wb_job *job, bool nested, struct err *e);

/* The interactor is parsed as a job of its own, its messages prefixed;
 * the fields it may not have are refused here by name. */
static int parse_interactor(const cJSON *v, struct wb_job *job, struct err *e)
{
	char sub[WB_ERR_LEN];
	struct err se = { sub, sizeof sub };
	int r;

	if (!cJSON_IsObject(v))
		return fail(e, "interactor: must be an object");
	job->interactor = malloc(sizeof *job->interactor);
	if (!job->interactor || wb_job_init(job->interactor) < 0) {
		free(job->interactor);
		job->interactor = NULL;
		return nomem(e);
	}
	r = parse_fields(v, job->interactor, true, &se);
	if (r < 0)
		return job_fail_with(r, e, "interactor: %s", sub);
	return 0;
}

static int parse_fields(const cJSON *root, struct wb_job *job, bool nested, struct err *e)
{
	static const char *const not_nested[] = {
		[F_ID] = "id: not allowed (the job's id names both)",
		[F_STDIN] = "stdin: not allowed (its stdin is the program's stdout)",
		[F_NETWORK] = "network: not allowed",
		[F_INTERACTOR] = "interactor: not allowed (an interactor has none of its own)",
	};
	const cJSON *f[F_COUNT];
	int r;

	r = pick_fields(root, "", top_names, F_COUNT, f, e);
	if (r < 0)
		return r;
	for (size_t i = 0; nested && i < sizeof not_nested / sizeof not_nested[0]; i++)
		if (not_nested[i] && f[i])
			return fail(e, "%s", not_nested[i]);
	if (!f[F_ARGV])
		return fail(e, "argv: required");
	if ((f[F_ID] && (r = get_string(f[F_ID], "id", &job->id, e)) < 0) ||
	    (r = parse_strv(f[F_ARGV], "argv", WB_MAX_ARGS, &job->argv, &job->argc, e)) < 0 ||
	    (f[F_ENV] && (r = parse_env(f[F_ENV], job, e)) < 0) ||
	    (f[F_CWD] && (r = get_string(f[F_CWD], "cwd", &job->cwd, e)) < 0) ||
	    (f[F_FILES] && (r = parse_files(f[F_FILES], job, e)) < 0) ||
	    (f[F_STDIN] && (r = parse_stdin(f[F_STDIN], job, e)) < 0) ||
	    (f[F_LIMITS] && (r = parse_limits(f[F_LIMITS], &job->limits, e)) < 0) ||
	    (f[F_POLICY] && (r = get_string(f[F_POLICY], "policy", &job->policy, e)) < 0) ||
	    (f[F_COPY_OUT] && (r = parse_copy_out(f[F_COPY_OUT], job, e)) < 0) ||
	    (f[F_INTERACTOR] && (r = parse_interactor(f[F_INTERACTOR], job, e)) < 0))
		return r;
	if (f[F_NETWORK]) {
		if (!cJSON_IsBool(f[F_NETWORK]))
			return fail(e, "network: must be true or false");
		job->network = cJSON_IsTrue(f[F_NETWORK]);
	}
	return 0;
}

int wb_job_check_text(const char *text, size_t len, char *err, size_t errlen)
{
	struct err e = { err, errlen };

	if (err && errlen)
		err[0] = '\0';
	return scan_text(text, len, &e);
}

int wb_job_parse(const char *text, size_t len, struct wb_job *job, char *err, size_t errlen)
{
	struct err e = { err, errlen };
	cJSON *root = NULL;
	int r;

	if (err && errlen)
		err[0] = '\0';
	r = wb_job_init(job);
	if (r < 0) {
		nomem(&e);
		return r;
	}
	r = parse_root(text, len, &root, &e);
	if (r < 0)
		goto out;
	r = parse_fields(root, job, false, &e);
	if (r < 0)
		goto out;
	r = job_validate(job, &e);
out:
	cJSON_Delete(root);
	if (r < 0)
		wb_job_free(job);
	return r;
}

char *wb_job_peek_id(const char *text, size_t len)
{
	cJSON *root = cJSON_ParseWithLength(text, len);
	const cJSON *id = cJSON_GetObjectItemCaseSensitive(root, "id");
	/* An id that is not UTF-8 could only be echoed altered: null instead. */
	char *copy = cJSON_IsString(id) &&
		wb_utf8_valid((const unsigned char *)id->valuestring, strlen(id->valuestring)) ?
		strdup(id->valuestring) : NULL;

	cJSON_Delete(root);
	return copy;
}

