/* render.c: the result JSON of SPEC.md "Result", written by hand rather than
 * through cJSON because cJSON strings end at the first NUL, and a program's
 * output may hold NUL bytes that are still valid UTF-8: a few are written as
 * \u0000 in a JSON string; output whose escaping would more than double it
 * goes as base64. Every step is resumable, so the daemon can render a
 * 64 MiB output a piece at a time between other clients' work. */
#include "core/render.h"

#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/base64.h"
#include "core/utf8.h"

enum step { S_HEAD, S_STDOUT, S_MID, S_STDERR, S_FLAGS, S_FILE, S_FILE_DATA, S_TAIL, S_DONE };
enum form { FORM_UNDECIDED, FORM_TEXT, FORM_BASE64 };

/* The line being built; after a failed append everything else is a no-op
 * and the caller checks failed once at the end. */
struct out {
	struct wb_buf *b;
	bool failed;
};

static void put(struct out *o, const void *s, size_t n)
{
	if (!o->failed && wb_buf_append(o->b, s, n) < 0)
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

static void put_int_or_null(struct out *o, int v, int none)
{
	char tmp[16];

	if (v == none)
		puts_raw(o, "null");
	else
		put(o, tmp, (size_t)snprintf(tmp, sizeof tmp, "%d", v));
}

/* Escapes s[from..] into a JSON string's inside, whole UTF-8 sequences at
 * a time, stopping at the first sequence that starts at or past until.
 * Invalid UTF-8 becomes U+FFFD, so the line stays valid for every consumer
 * even when an error message carries a raw file name. Returns where it
 * stopped. */
static size_t put_escaped(struct out *o, const unsigned char *s, size_t n, size_t from, size_t until)
{
	static const char hex[] = "0123456789abcdef";
	size_t i = from, run, k = 0;
	char esc[7];

	while (i < n && i < until) {
		for (run = 0; i + run < n && i + run < until; run += k) {
			unsigned char c = s[i + run];

			if (c < 0x20 || c == '"' || c == '\\')
				break;
			k = wb_utf8_seq(s + i + run, n - i - run);
			if (!k)
				break;
		}
		put(o, s + i, run);
		i += run;
		if (i == n || i >= until)
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
	return i;
}

static void put_cstr(struct out *o, const char *s)
{
	size_t n;

	if (!s) {
		puts_raw(o, "null");
		return;
	}
	n = strlen(s);
	put(o, "\"", 1);
	put_escaped(o, (const unsigned char *)s, n, 0, n);
	put(o, "\"", 1);
}

/* Adds the JSON string size of s[from..until) (whole sequences) to
 * *escaped; returns where it stopped, or SIZE_MAX at invalid UTF-8. */
static size_t measure(const unsigned char *s, size_t n, size_t from, size_t until, size_t *escaped)
{
	size_t i = from;

	while (i < n && i < until) {
		unsigned char c = s[i];
		size_t k = 1;

		if (c >= 0x80 && !(k = wb_utf8_seq(s + i, n - i)))
			return SIZE_MAX;
		if (c == '"' || c == '\\' || c == '\n' || c == '\r' || c == '\t' || c == '\b' || c == '\f')
			*escaped += 2;
		else if (c < 0x20)
			*escaped += 6;
		else
			*escaped += k;
		i += k;
	}
	return i;
}

/* One step of an output (text allowed) or a file (base64 only), using up
 * about *work bytes of the part's allowance; true once it is complete.
 * Output is text when it is UTF-8 whose JSON string is at most twice its
 * length plus 64 bytes (a short output with a few control characters stays
 * readable), base64 otherwise (4/3): a NUL is 6 bytes as \u0000, and
 * 64 MiB of them made a 400 MB result line. Newlines only (2x) stay text. */
static bool put_payload(struct wb_render *st, struct out *o, const unsigned char *s, size_t n,
			bool text_ok, size_t *work)
{
	size_t until, done;

	if (st->form == FORM_UNDECIDED) {
		if (!text_ok) {
			st->form = FORM_BASE64;
		} else {
			until = *work > n - st->off ? n : st->off + *work;
			done = measure(s, n, st->off, until, &st->escaped);
			if (done == SIZE_MAX) {
				st->form = FORM_BASE64;
			} else {
				*work -= done - st->off < *work ? done - st->off : *work;
				st->off = done;
				if (done < n)
					return false;
				st->form = st->escaped <= 2 * n + 64 ? FORM_TEXT : FORM_BASE64;
			}
		}
		st->off = 0;
		if (st->form == FORM_TEXT)
			put(o, "\"", 1);
		else
			puts_raw(o, text_ok ? "{\"base64\":\"" : "\"");
	}
	if (st->form == FORM_TEXT) {
		until = *work > n - st->off ? n : st->off + *work;
		done = put_escaped(o, s, n, st->off, until);
	} else {
		size_t take = n - st->off, room = *work / 4 * 3;
		char *dst;

		if (take > room)
			take = room > 3 ? room : 3;
		if (take > n - st->off)
			take = n - st->off;
		if (!o->failed && wb_buf_reserve(o->b, (take + 2) / 3 * 4) == 0) {
			dst = (char *)o->b->data + o->b->len;
			o->b->len += wb_base64_encode_into(dst, s + st->off, take);
		} else {
			o->failed = true;
		}
		done = st->off + take;
	}
	*work -= done - st->off < *work ? done - st->off : *work;
	st->off = done;
	if (done < n)
		return false;
	if (st->form == FORM_TEXT)
		put(o, "\"", 1);
	else
		puts_raw(o, text_ok ? "\"}" : "\"");
	st->form = FORM_UNDECIDED;
	st->off = 0;
	st->escaped = 0;
	return true;
}

static const char *const trace_stage_names[WB_RESULT_TRACE_STAGES] = {
	"decode", "files", "clone", "fds", "creds", "seccomp", "run", "report",
};

static void put_head(struct out *o, const struct wb_result *r)
{
	puts_raw(o, "{\"id\":");
	put_cstr(o, r->id);
	puts_raw(o, ",\"status\":\"");
	puts_raw(o, wb_status_name(r->status));
	puts_raw(o, "\",\"exit_code\":");
	put_int_or_null(o, r->exit_code, -1);
	puts_raw(o, ",\"signal\":");
	put_int_or_null(o, r->signal, 0);
	puts_raw(o, ",\"cpu_ms\":");
	put_u64(o, r->cpu_ms);
	puts_raw(o, ",\"wall_ms\":");
	put_u64(o, r->wall_ms);
	puts_raw(o, ",\"memory_kb\":");
	put_u64(o, r->memory_kb);
	puts_raw(o, ",\"stdout\":");
}

/* In one step, not in parts: its stdout went to the program, so what it
 * brings is its stderr and copy_out, which the daemon caps. */
static void put_interactor(struct out *o, const struct wb_result *in)
{
	struct wb_render st;
	int rc;

	puts_raw(o, ",\"interactor\":");
	wb_render_init(&st, in);
	while (!o->failed && (rc = wb_render_next(&st, o->b, SIZE_MAX)) != 0)
		if (rc < 0)
			o->failed = true;
}

static void put_tail(struct out *o, const struct wb_result *r)
{
	puts_raw(o, "],\"syscall\":");
	put_cstr(o, r->syscall);
	puts_raw(o, ",\"error\":");
	put_cstr(o, r->error);
	puts_raw(o, ",\"accounting\":");
	put_cstr(o, r->accounting);
	if (r->has_trace) {
		puts_raw(o, ",\"trace\":{\"send_to_exec_us\":");
		put_u64(o, r->trace_send_to_exec_us);
		puts_raw(o, ",\"recv_to_exec_us\":");
		put_u64(o, r->trace_recv_to_exec_us);
		puts_raw(o, ",\"send_to_report_us\":");
		put_u64(o, r->trace_send_to_report_us);
		puts_raw(o, ",\"stages_us\":{");
		for (int i = 0; i < WB_RESULT_TRACE_STAGES; i++) {
			puts_raw(o, i ? ",\"" : "\"");
			puts_raw(o, trace_stage_names[i]);
			puts_raw(o, "\":");
			put_u64(o, r->trace_stage_us[i]);
		}
		puts_raw(o, "}}");
	}
	if (r->interactor)
		put_interactor(o, r->interactor);
	puts_raw(o, "}");
}

void wb_render_init(struct wb_render *st, const struct wb_result *r)
{
	memset(st, 0, sizeof(*st));
	st->r = r;
}

int wb_render_next(struct wb_render *st, struct wb_buf *b, size_t max)
{
	const struct wb_result *r = st->r;
	struct out o = {.b = b};
	size_t work = max ? max : 1;

	while (st->step != S_DONE && work && !o.failed) {
		const struct wb_outfile *f = st->file < r->nfiles ? &r->files[st->file] : NULL;

		switch (st->step) {
		case S_HEAD:
			put_head(&o, r);
			st->step = S_STDOUT;
			break;
		case S_STDOUT:
			if (put_payload(st, &o, r->out.data, r->out.len, true, &work))
				st->step = S_MID;
			break;
		case S_MID:
			puts_raw(&o, ",\"stderr\":");
			st->step = S_STDERR;
			break;
		case S_STDERR:
			if (put_payload(st, &o, r->err.data, r->err.len, true, &work))
				st->step = S_FLAGS;
			break;
		case S_FLAGS:
			puts_raw(&o, r->out_truncated ? ",\"stdout_truncated\":true" : ",\"stdout_truncated\":false");
			puts_raw(&o, r->err_truncated ? ",\"stderr_truncated\":true" : ",\"stderr_truncated\":false");
			puts_raw(&o, ",\"files\":[");
			st->step = S_FILE;
			break;
		case S_FILE:
			if (!f) {
				st->step = S_TAIL;
				break;
			}
			puts_raw(&o, st->file ? ",{\"path\":" : "{\"path\":");
			put_cstr(&o, f->path);
			if (f->error) {
				puts_raw(&o, ",\"error\":");
				put_cstr(&o, f->error);
				puts_raw(&o, "}");
				st->file++;
			} else if (f->ref[0]) {
				char size[40];

				snprintf(size, sizeof(size), ",\"size\":%zu}", f->len);
				puts_raw(&o, ",\"ref\":");
				put_cstr(&o, f->ref);
				puts_raw(&o, size);
				st->file++;
			} else {
				puts_raw(&o, ",\"base64\":");
				st->step = S_FILE_DATA;
			}
			break;
		case S_FILE_DATA:
			if (put_payload(st, &o, f->data, f->len, false, &work)) {
				puts_raw(&o, "}");
				st->file++;
				st->step = S_FILE;
			}
			break;
		case S_TAIL:
			put_tail(&o, r);
			st->step = S_DONE;
			break;
		}
	}
	if (o.failed)
		return -ENOMEM;
	return st->step != S_DONE;
}

char *wb_render_line(const struct wb_result *r)
{
	struct wb_buf b = { 0 };
	struct wb_render st;
	int rc;

	wb_render_init(&st, r);
	while ((rc = wb_render_next(&st, &b, SIZE_MAX)) > 0)
		;
	if (rc < 0 || wb_buf_append(&b, "", 1) < 0) {
		wb_buf_free(&b);
		return NULL;
	}
	return (char *)b.data;
}
