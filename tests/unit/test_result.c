/* test_result.c: verdict precedence, status names and the result JSON of
 * SPEC.md "Result", read back through cJSON key by key. */
#include "core/render.h"
#include "core/result.h"
#include "core/base64.h"
#include "check.h"

#include <cJSON.h>
#include <stdlib.h>
#include <string.h>

static void test_verdict(void)
{
	/* Every combination of the six conditions, against SPEC's ranking. */
	static const enum wb_status rank[] = {
		WB_STATUS_SV, WB_STATUS_ML, WB_STATUS_TL, WB_STATUS_OL, WB_STATUS_SG, WB_STATUS_RE,
	};
	unsigned m;

	for (m = 0; m < 64; m++) {
		struct wb_verdict_in in = {
			.seccomp = m & 1, .memory = m & 2, .time = m & 4, .output = m & 8,
			.signal = (m & 16) ? 11 : 0, .exit_code = (m & 32) ? 3 : 0,
		};
		enum wb_status want = WB_STATUS_OK;
		int k;

		for (k = 5; k >= 0; k--)
			if (m & (1u << k))
				want = rank[k];
		CHECKF(wb_result_verdict(&in) == want, "mask %u: got %s want %s", m,
		       wb_status_name(wb_result_verdict(&in)), wb_status_name(want));
	}
	/* A negative exit code still counts as non-zero. */
	CHECK(wb_result_verdict(&(struct wb_verdict_in){ .exit_code = -1 }) == WB_STATUS_RE);
}

static void test_names(void)
{
	CHECK(strcmp(wb_status_name(WB_STATUS_OK), "OK") == 0);
	CHECK(strcmp(wb_status_name(WB_STATUS_RE), "RE") == 0);
	CHECK(strcmp(wb_status_name(WB_STATUS_SG), "SG") == 0);
	CHECK(strcmp(wb_status_name(WB_STATUS_TL), "TL") == 0);
	CHECK(strcmp(wb_status_name(WB_STATUS_ML), "ML") == 0);
	CHECK(strcmp(wb_status_name(WB_STATUS_OL), "OL") == 0);
	CHECK(strcmp(wb_status_name(WB_STATUS_SV), "SV") == 0);
	CHECK(strcmp(wb_status_name(WB_STATUS_XX), "XX") == 0);
}

static const char *const key_order[] = {
	"id", "status", "exit_code", "signal", "cpu_ms", "wall_ms", "memory_kb",
	"stdout", "stderr", "stdout_truncated", "stderr_truncated", "files",
	"syscall", "error", "accounting",
};

/* Renders r, checks it is one line of JSON with every key in SPEC order. */
static cJSON *render(const struct wb_result *r, char **text)
{
	cJSON *root, *it;
	size_t i = 0;

	*text = wb_render_line(r);
	CHECK(*text != NULL);
	if (!*text)
		return NULL;
	CHECKF(strchr(*text, '\n') == NULL, "%s", *text);
	root = cJSON_Parse(*text);
	CHECKF(cJSON_IsObject(root), "not JSON: %s", *text);
	cJSON_ArrayForEach(it, root) {
		CHECKF(i < 15 && strcmp(it->string, key_order[i]) == 0, "key %zu is %s", i, it->string);
		i++;
	}
	CHECK(i == 15);
	return root;
}

static bool is_str(const cJSON *root, const char *key, const char *want)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(root, key);

	return cJSON_IsString(v) && strcmp(v->valuestring, want) == 0;
}

static bool is_num(const cJSON *root, const char *key, double want)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(root, key);

	return cJSON_IsNumber(v) && v->valuedouble == want;
}

static bool is_null(const cJSON *root, const char *key)
{
	return cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(root, key));
}

static void test_full(void)
{
	struct wb_result r = {
		.id = "job-1", .status = WB_STATUS_SV, .exit_code = 0, .signal = 31,
		.cpu_ms = 12, .wall_ms = 15, .memory_kb = 1480,
		.out_truncated = true, .err_truncated = false,
		.accounting = "cgroup-v2",
	};
	const cJSON *files, *f;
	unsigned char *bytes;
	size_t len;
	cJSON *root;
	char *text;

	CHECK(wb_buf_append(&r.out, "42\n", 3) == 0);
	CHECK(wb_buf_append(&r.err, "warn: \"q\" \\ \t\x01 \xe2\x82\xac", 18) == 0);
	r.files = calloc(2, sizeof *r.files);
	r.nfiles = 2;
	r.files[0].path = strdup("out.txt");
	r.files[0].data = (unsigned char *)strdup("hi\n");
	r.files[0].len = 3;
	r.files[1].path = strdup("../etc/passwd");
	r.files[1].error = strdup("escapes /box");
	r.syscall = strdup("ptrace");
	r.error = strdup("refused syscall");

	root = render(&r, &text);
	CHECK(is_str(root, "id", "job-1"));
	CHECK(is_str(root, "status", "SV"));
	CHECK(is_num(root, "exit_code", 0));
	CHECK(is_num(root, "signal", 31));
	CHECK(is_num(root, "cpu_ms", 12) && is_num(root, "wall_ms", 15));
	CHECK(is_num(root, "memory_kb", 1480));
	CHECK(is_str(root, "stdout", "42\n"));
	CHECK(is_str(root, "stderr", "warn: \"q\" \\ \t\x01 \xe2\x82\xac"));
	CHECK(cJSON_IsTrue(cJSON_GetObjectItem(root, "stdout_truncated")));
	CHECK(cJSON_IsFalse(cJSON_GetObjectItem(root, "stderr_truncated")));
	files = cJSON_GetObjectItem(root, "files");
	CHECK(cJSON_IsArray(files) && cJSON_GetArraySize(files) == 2);
	f = cJSON_GetArrayItem(files, 0);
	CHECK(is_str(f, "path", "out.txt") && cJSON_GetArraySize(f) == 2);
	CHECK(wb_base64_decode(cJSON_GetObjectItem(f, "base64")->valuestring, &bytes, &len) == 0);
	CHECK(len == 3 && memcmp(bytes, "hi\n", 3) == 0);
	free(bytes);
	f = cJSON_GetArrayItem(files, 1);
	CHECK(is_str(f, "path", "../etc/passwd") && is_str(f, "error", "escapes /box"));
	CHECK(cJSON_GetArraySize(f) == 2);
	CHECK(is_str(root, "syscall", "ptrace") && is_str(root, "error", "refused syscall"));
	CHECK(is_str(root, "accounting", "cgroup-v2"));
	cJSON_Delete(root);
	free(text);
	wb_result_free(&r);
	CHECK(r.files == NULL && r.out.data == NULL && r.syscall == NULL);
	wb_result_free(&r);
	wb_result_free(NULL);
}

static void test_nulls(void)
{
	struct wb_result r = { .status = WB_STATUS_XX, .exit_code = -1, .signal = 0 };
	const cJSON *files;
	cJSON *root;
	char *text;

	root = render(&r, &text);
	CHECK(is_null(root, "id") && is_str(root, "status", "XX"));
	CHECK(is_null(root, "exit_code") && is_null(root, "signal"));
	CHECK(is_num(root, "cpu_ms", 0));
	CHECK(is_str(root, "stdout", "") && is_str(root, "stderr", ""));
	files = cJSON_GetObjectItem(root, "files");
	CHECK(cJSON_IsArray(files) && cJSON_GetArraySize(files) == 0);
	CHECK(is_null(root, "syscall") && is_null(root, "error") && is_null(root, "accounting"));
	cJSON_Delete(root);
	free(text);

	/* Exit code 127 with an error: a program that could not be started. */
	r = (struct wb_result){ .status = WB_STATUS_RE, .exit_code = 127, .signal = 0 };
	r.error = strdup("execve ./a.out: No such file or directory");
	root = render(&r, &text);
	CHECK(is_num(root, "exit_code", 127) && is_str(root, "status", "RE"));
	CHECK(is_str(root, "error", "execve ./a.out: No such file or directory"));
	cJSON_Delete(root);
	free(text);
	wb_result_free(&r);
}

/* What stdout becomes: 1 a string equal to the bytes, 2 a base64 object. */
static int stdout_form(const char *bytes, size_t len)
{
	struct wb_result r = { .exit_code = 0 };
	unsigned char *dec = NULL;
	size_t declen = 0;
	const cJSON *v;
	cJSON *root;
	char *text;
	int form = 0;

	wb_buf_append(&r.out, bytes, len);
	root = render(&r, &text);
	v = cJSON_GetObjectItem(root, "stdout");
	if (cJSON_IsString(v) && strlen(v->valuestring) == len &&
	    memcmp(v->valuestring, bytes, len) == 0)
		form = 1;
	else if (cJSON_IsObject(v) && cJSON_GetArraySize(v) == 1 &&
		 cJSON_IsString(cJSON_GetObjectItem(v, "base64")) &&
		 wb_base64_decode(cJSON_GetObjectItem(v, "base64")->valuestring, &dec, &declen) == 0 &&
		 declen == len && memcmp(dec, bytes, len) == 0)
		form = 2;
	free(dec);
	cJSON_Delete(root);
	free(text);
	wb_result_free(&r);
	return form;
}

static void test_utf8(void)
{
	static const struct { const char *s; size_t len; int form; } cases[] = {
		{ "plain", 5, 1 },
		{ "\xc2\xa9", 2, 1 },                 /* U+00A9 */
		{ "\xe2\x82\xac", 3, 1 },             /* U+20AC */
		{ "\xef\xbf\xbf", 3, 1 },             /* U+FFFF */
		{ "\xed\x9f\xbf", 3, 1 },             /* U+D7FF, last before surrogates */
		{ "\xf0\x9f\x98\x80", 4, 1 },         /* U+1F600 */
		{ "\xf4\x8f\xbf\xbf", 4, 1 },         /* U+10FFFF */
		{ "\x7f", 1, 1 },
		{ "\xff", 1, 2 },
		{ "\x80", 1, 2 },                     /* lone continuation */
		{ "\xc0\x80", 2, 2 },                 /* overlong NUL */
		{ "\xc1\xbf", 2, 2 },                 /* overlong */
		{ "\xe0\x80\xaf", 3, 2 },             /* overlong '/' */
		{ "\xf0\x8f\xbf\xbf", 4, 2 },         /* overlong U+FFFF */
		{ "\xed\xa0\x80", 3, 2 },             /* surrogate U+D800 */
		{ "\xed\xbf\xbf", 3, 2 },             /* surrogate U+DFFF */
		{ "\xf4\x90\x80\x80", 4, 2 },         /* U+110000 */
		{ "\xf5\x80\x80\x80", 4, 2 },
		{ "abc\xe2\x82", 5, 2 },              /* cut short at the end */
		{ "\xe2\x28\xa1", 3, 2 },
		{ "ok\xc3", 3, 2 },
	};
	size_t i;

	for (i = 0; i < sizeof cases / sizeof cases[0]; i++)
		CHECKF(stdout_form(cases[i].s, cases[i].len) == cases[i].form, "case %zu", i);
}

/* NUL bytes are valid UTF-8 and stay text, written as \u0000 (cJSON stops
 * at the NUL when reading it back, so the text itself is checked). */
static void test_nul_output(void)
{
	struct wb_result r = { .exit_code = 0 };
	char *text;
	cJSON *root;

	wb_buf_append(&r.out, "a\0b\x1f", 4);
	root = render(&r, &text);
	CHECKF(strstr(text, "\"stdout\":\"a\\u0000b\\u001f\"") != NULL, "%s", text);
	cJSON_Delete(root);
	free(text);
	wb_result_free(&r);
}

/* Output whose JSON escaping would more than double it (plus 64 bytes)
 * goes as base64: 64 KiB of NULs, once 384 KiB of \u0000, is 87 KiB; a
 * newline-only output of the same size (2x) stays text. */
static void test_escape_heavy_output(void)
{
	struct wb_result r = { .exit_code = 0 };
	static unsigned char zeros[65536], newlines[65536];
	char *text;
	cJSON *root, *out;

	memset(newlines, '\n', sizeof(newlines));
	wb_buf_append(&r.out, zeros, sizeof(zeros));
	wb_buf_append(&r.err, newlines, sizeof(newlines));
	root = render(&r, &text);
	out = cJSON_GetObjectItemCaseSensitive(root, "stdout");
	CHECKF(cJSON_IsObject(out) && cJSON_IsString(cJSON_GetObjectItemCaseSensitive(out, "base64")),
	       "NUL-heavy stdout as base64");
	CHECK(strlen(text) < 87384 + 2 * 65536 + 1024); /* base64 + escaped newlines + the rest */
	CHECK(cJSON_IsString(cJSON_GetObjectItemCaseSensitive(root, "stderr")));
	cJSON_Delete(root);
	free(text);
	wb_result_free(&r);
}

/* Strings the sandbox writes (paths, errors) may hold raw bytes; the line
 * must still be valid UTF-8, so they come out with U+FFFD. */
static void test_metadata_bytes(void)
{
	struct wb_result r = { .id = "caf\xc3\xa9", .exit_code = 0 };
	char *text;
	cJSON *root;

	r.error = strdup("open x\xff" "y: No such file");
	root = render(&r, &text);
	CHECK(is_str(root, "id", "caf\xc3\xa9"));
	CHECK(is_str(root, "error", "open x\xef\xbf\xbdy: No such file"));
	cJSON_Delete(root);
	free(text);
	wb_result_free(&r);
}

/* The line rendered in parts of any size is the line rendered whole, and
 * no part does much more than its allowance of work: the daemon relies on
 * both to write a large output a piece at a time. Outputs mix multi-byte
 * UTF-8 (so parts cut inside sequences), NULs, invalid bytes and files. */
static void test_parts(void)
{
	static const size_t maxes[] = {1, 2, 3, 5, 7, 64, 1000, 65536};
	struct wb_result r = { .id = "parts", .exit_code = 0, .accounting = "rlimit" };
	struct wb_outfile files[3] = {
		{.path = "a", .data = (unsigned char *)"xyz", .len = 3},
		{.path = "b", .error = "too big"},
		{.path = "c", .data = (unsigned char *)"", .len = 0},
	};
	unsigned char text[3000], heavy[3000];
	char *whole;

	for (size_t i = 0; i < sizeof(text); i += 3)
		memcpy(text + i, i % 2 ? "\xe2\x82\xac" : "ab\n", 3); /* euro sign */
	for (size_t i = 0; i < sizeof(heavy); i++)
		heavy[i] = i % 7 == 0 ? 0xff : (unsigned char)(i % 5);
	wb_buf_append(&r.out, text, sizeof(text));
	wb_buf_append(&r.err, heavy, sizeof(heavy));
	r.files = files;
	r.nfiles = 3;
	whole = wb_render_line(&r);
	CHECK(whole != NULL);
	for (size_t m = 0; whole && m < sizeof(maxes) / sizeof(maxes[0]); m++) {
		struct wb_buf b = { 0 };
		struct wb_render st;
		size_t parts = 0, biggest = 0, before;
		int rc;

		wb_render_init(&st, &r);
		do {
			before = b.len;
			rc = wb_render_next(&st, &b, maxes[m]);
			parts++;
			if (b.len - before > biggest)
				biggest = b.len - before;
		} while (rc > 0 && parts < 100000);
		CHECKF(rc == 0 && b.len == strlen(whole) && memcmp(b.data, whole, b.len) == 0,
		       "max %zu: %zu parts differ from the whole line", maxes[m], parts);
		/* Work is bytes read or written; an escape is at most 6 bytes
		 * for 1 read, a part also carries the small fields (<400). */
		CHECKF(biggest <= 6 * maxes[m] + 400, "max %zu: a part of %zu bytes", maxes[m], biggest);
		wb_buf_free(&b);
	}
	free(whole);
	r.files = NULL;
	r.nfiles = 0;
	wb_result_free(&r);
}

/* An interactive job's result: the program's, its stdout empty, with the
 * interactor's whole result object as the last key. */
static void test_interactor(void)
{
	struct wb_result r = { .id = "ia", .status = WB_STATUS_OK, .exit_code = 0, .accounting = "rlimit" };
	struct wb_result *in = calloc(1, sizeof(*in));
	const cJSON *io, *last = NULL, *it;
	cJSON *root;
	char *text;

	CHECK(in != NULL);
	if (!in)
		return;
	*in = (struct wb_result){ .status = WB_STATUS_RE, .exit_code = 1, .wall_ms = 7, .accounting = "rlimit" };
	wb_buf_append(&in->err, "wrong answer\n\0", 14);
	r.interactor = in;
	text = wb_render_line(&r);
	root = text ? cJSON_Parse(text) : NULL;
	CHECKF(cJSON_IsObject(root), "not JSON: %s", text ? text : "(null)");
	cJSON_ArrayForEach(it, root)
		last = it;
	CHECK(last && strcmp(last->string, "interactor") == 0);
	CHECK(is_str(root, "id", "ia") && is_str(root, "status", "OK") && is_str(root, "stdout", ""));
	io = cJSON_GetObjectItemCaseSensitive(root, "interactor");
	CHECK(cJSON_IsObject(io) && is_str(io, "status", "RE") && is_num(io, "exit_code", 1) &&
	      is_num(io, "wall_ms", 7) && is_null(io, "id") && is_str(io, "stderr", "wrong answer\n"));
	cJSON_Delete(root);
	free(text);
	/* Freeing the program's result frees the interactor's. */
	wb_result_free(&r);
	CHECK(r.interactor == NULL);
}

static void test_buf(void)
{
	struct wb_buf b = { 0 };
	size_t i, grows = 0, cap = 0;
	bool ok = true;

	for (i = 0; i < 100000; i++) {
		unsigned char c = (unsigned char)i;

		ok &= wb_buf_append(&b, &c, 1) == 0;
		if (b.cap != cap) {
			grows++;
			cap = b.cap;
		}
	}
	CHECK(ok && b.len == 100000 && b.cap >= b.len);
	CHECKF(grows < 20, "%zu reallocations for 100000 appends", grows);
	for (i = 0; i < b.len && b.data[i] == (unsigned char)i; i++)
		;
	CHECK(i == b.len);
	CHECK(wb_buf_append(&b, NULL, 0) == 0 && b.len == 100000);
	wb_buf_free(&b);
	CHECK(b.data == NULL && b.len == 0 && b.cap == 0);
	wb_buf_free(&b);
	wb_buf_free(NULL);
}

int main(void)
{
	test_verdict();
	test_names();
	test_full();
	test_nulls();
	test_utf8();
	test_nul_output();
	test_escape_heavy_output();
	test_metadata_bytes();
	test_parts();
	test_interactor();
	test_buf();
	return check_report("test_result");
}
