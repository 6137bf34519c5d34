/* result.c: verdict precedence and the result JSON of SPEC.md "Result".
 *
 * The JSON is written by hand rather than through cJSON because cJSON strings
 * end at the first NUL, and a program's output may hold NUL bytes that are
 * still valid UTF-8: a few are written as \u0000 in a JSON string; output
 * whose escaping would more than double it goes as base64. */
#include "result.h"
#include "base64.h"
#include "utf8.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum wb_status wb_result_verdict(const struct wb_verdict_in *in)
{
	if (in->seccomp)
		return WB_STATUS_SV;
	if (in->memory)
		return WB_STATUS_ML;
	if (in->time)
		return WB_STATUS_TL;
	if (in->output)
		return WB_STATUS_OL;
	if (in->signal != 0)
		return WB_STATUS_SG;
	if (in->exit_code != 0)
		return WB_STATUS_RE;
	return WB_STATUS_OK;
}

const char *wb_status_name(enum wb_status s)
{
	static const char *const names[] = {
		[WB_STATUS_OK] = "OK", [WB_STATUS_RE] = "RE", [WB_STATUS_SG] = "SG",
		[WB_STATUS_TL] = "TL", [WB_STATUS_ML] = "ML", [WB_STATUS_OL] = "OL",
		[WB_STATUS_SV] = "SV", [WB_STATUS_XX] = "XX",
	};

	if ((unsigned)s >= sizeof names / sizeof names[0])
		return "XX";
	return names[s];
}

int wb_buf_append(struct wb_buf *b, const void *data, size_t len)
{
	size_t need, cap;
	unsigned char *p;

	if (len == 0)
		return 0;
	if (len > SIZE_MAX - b->len)
		return -ENOMEM;
	need = b->len + len;
	if (need > b->cap) {
		/* Doubling keeps appends of a program's output amortised O(1). */
		cap = b->cap ? b->cap : 256;
		while (cap < need)
			cap = cap > SIZE_MAX / 2 ? need : cap * 2;
		p = realloc(b->data, cap);
		if (!p)
			return -ENOMEM;
		b->data = p;
		b->cap = cap;
	}
	memcpy(b->data + b->len, data, len);
	b->len += len;
	return 0;
}

void wb_buf_free(struct wb_buf *b)
{
	if (!b)
		return;
	free(b->data);
	memset(b, 0, sizeof *b);
}

void wb_result_free(struct wb_result *r)
{
	size_t i;

	if (!r)
		return;
	wb_buf_free(&r->out);
	wb_buf_free(&r->err);
	for (i = 0; i < r->nfiles; i++) {
		free(r->files[i].path);
		free(r->files[i].data);
		free(r->files[i].error);
	}
	free(r->files);
	free(r->syscall);
	free(r->error);
	free(r->learned);
	r->learned = NULL;
	r->files = NULL;
	r->nfiles = 0;
	r->syscall = NULL;
	r->error = NULL;
}

/* The JSON being built; after a failed append everything else is a no-op
 * and the caller checks failed once at the end. */
struct out {
	struct wb_buf b;
	bool failed;
};

static void put(struct out *o, const void *s, size_t n)
{
	if (!o->failed && wb_buf_append(&o->b, s, n) < 0)
		o->failed = true;
}

static void puts_raw(struct out *o, const char *s)
{
	put(o, s, strlen(s));
}

static void put_u64(struct out *o, uint64_t v)
{
	char tmp[24];

	put(o, tmp, (size_t)snprintf(tmp, sizeof tmp, "%" PRIu64, v));
}

static void put_int(struct out *o, int v)
{
	char tmp[16];

	put(o, tmp, (size_t)snprintf(tmp, sizeof tmp, "%d", v));
}

/* A JSON string. Invalid UTF-8 becomes U+FFFD, so the line stays valid for
 * every consumer even when an error message carries a raw file name. */
static void put_string(struct out *o, const unsigned char *s, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	size_t i = 0, run, k = 0;
	char esc[7];

	put(o, "\"", 1);
	while (i < n) {
		for (run = 0; i + run < n; run += k) {
			unsigned char c = s[i + run];

			if (c < 0x20 || c == '"' || c == '\\')
				break;
			k = wb_utf8_seq(s + i + run, n - i - run);
			if (!k)
				break;
		}
		put(o, s + i, run);
		i += run;
		if (i == n)
			break;
		switch (s[i]) {
		case '"': puts_raw(o, "\\\""); break;
		case '\\': puts_raw(o, "\\\\"); break;
		case '\n': puts_raw(o, "\\n"); break;
		case '\r': puts_raw(o, "\\r"); break;
		case '\t': puts_raw(o, "\\t"); break;
		case '\b': puts_raw(o, "\\b"); break;
		case '\f': puts_raw(o, "\\f"); break;
		default:
			if (s[i] < 0x20) {
				memcpy(esc, "\\u00", 4);
				esc[4] = hex[s[i] >> 4];
				esc[5] = hex[s[i] & 15];
				put(o, esc, 6);
			} else {
				puts_raw(o, "\\ufffd");
			}
		}
		i++;
	}
	put(o, "\"", 1);
}

static void put_cstr(struct out *o, const char *s)
{
	if (s)
		put_string(o, (const unsigned char *)s, strlen(s));
	else
		puts_raw(o, "null");
}

static void put_base64(struct out *o, const unsigned char *data, size_t len)
{
	char *b64 = wb_base64_encode(data, len);

	if (!b64) {
		o->failed = true;
		return;
	}
	put(o, "\"", 1);
	puts_raw(o, b64);
	put(o, "\"", 1);
	free(b64);
}

/* True when bytes are UTF-8 whose JSON string is at most twice their length
 * plus 64 bytes (a short output with a few control characters stays
 * readable). Past that they go as base64 (4/3): a NUL is 6 bytes as \u0000,
 * and 64 MiB of them made a 400 MB result line. Output of newlines only
 * (2x) stays text. */
static bool text_is_cheap(const unsigned char *s, size_t n)
{
	size_t i = 0, escaped = 0;

	while (i < n) {
		unsigned char c = s[i];
		size_t k = 1;

		if (c >= 0x80 && !(k = wb_utf8_seq(s + i, n - i)))
			return false;
		if (c == '"' || c == '\\' || c == '\n' || c == '\r' || c == '\t' || c == '\b' || c == '\f')
			escaped += 2;
		else if (c < 0x20)
			escaped += 6;
		else
			escaped += k;
		i += k;
	}
	return escaped <= 2 * n + 64;
}

/* Output as text when it is UTF-8 and cheap to escape (SPEC), as
 * {"base64": ...} otherwise. */
static void put_output(struct out *o, const struct wb_buf *b)
{
	if (text_is_cheap(b->data, b->len)) {
		put_string(o, b->data, b->len);
		return;
	}
	puts_raw(o, "{\"base64\":");
	put_base64(o, b->data, b->len);
	puts_raw(o, "}");
}

static void put_files(struct out *o, const struct wb_result *r)
{
	size_t i;

	puts_raw(o, "[");
	for (i = 0; i < r->nfiles; i++) {
		const struct wb_outfile *f = &r->files[i];

		puts_raw(o, i ? ",{\"path\":" : "{\"path\":");
		put_cstr(o, f->path);
		if (f->error) {
			puts_raw(o, ",\"error\":");
			put_cstr(o, f->error);
		} else {
			puts_raw(o, ",\"base64\":");
			put_base64(o, f->data, f->len);
		}
		puts_raw(o, "}");
	}
	puts_raw(o, "]");
}

static const char *const trace_stage_names[WB_RESULT_TRACE_STAGES] = {
	"decode", "files", "clone", "fds", "creds", "seccomp", "run", "report",
};

char *wb_result_to_json(const struct wb_result *r)
{
	struct out o = { 0 };

	puts_raw(&o, "{\"id\":");
	put_cstr(&o, r->id);
	puts_raw(&o, ",\"status\":\"");
	puts_raw(&o, wb_status_name(r->status));
	puts_raw(&o, "\",\"exit_code\":");
	if (r->exit_code == -1)
		puts_raw(&o, "null");
	else
		put_int(&o, r->exit_code);
	puts_raw(&o, ",\"signal\":");
	if (r->signal == 0)
		puts_raw(&o, "null");
	else
		put_int(&o, r->signal);
	puts_raw(&o, ",\"cpu_ms\":");
	put_u64(&o, r->cpu_ms);
	puts_raw(&o, ",\"wall_ms\":");
	put_u64(&o, r->wall_ms);
	puts_raw(&o, ",\"memory_kb\":");
	put_u64(&o, r->memory_kb);
	puts_raw(&o, ",\"stdout\":");
	put_output(&o, &r->out);
	puts_raw(&o, ",\"stderr\":");
	put_output(&o, &r->err);
	puts_raw(&o, r->out_truncated ? ",\"stdout_truncated\":true" : ",\"stdout_truncated\":false");
	puts_raw(&o, r->err_truncated ? ",\"stderr_truncated\":true" : ",\"stderr_truncated\":false");
	puts_raw(&o, ",\"files\":");
	put_files(&o, r);
	puts_raw(&o, ",\"syscall\":");
	put_cstr(&o, r->syscall);
	puts_raw(&o, ",\"error\":");
	put_cstr(&o, r->error);
	puts_raw(&o, ",\"accounting\":");
	put_cstr(&o, r->accounting);
	if (r->has_trace) {
		puts_raw(&o, ",\"trace\":{\"send_to_exec_us\":");
		put_u64(&o, r->trace_send_to_exec_us);
		puts_raw(&o, ",\"recv_to_exec_us\":");
		put_u64(&o, r->trace_recv_to_exec_us);
		puts_raw(&o, ",\"send_to_report_us\":");
		put_u64(&o, r->trace_send_to_report_us);
		puts_raw(&o, ",\"stages_us\":{");
		for (int i = 0; i < WB_RESULT_TRACE_STAGES; i++) {
			puts_raw(&o, i ? ",\"" : "\"");
			puts_raw(&o, trace_stage_names[i]);
			puts_raw(&o, "\":");
			put_u64(&o, r->trace_stage_us[i]);
		}
		puts_raw(&o, "}}");
	}
	put(&o, "}", 2);   /* with the terminating NUL */
	if (o.failed) {
		wb_buf_free(&o.b);
		return NULL;
	}
	return (char *)o.b.data;
}
