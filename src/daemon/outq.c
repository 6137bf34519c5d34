/* outq.c: a connection's outgoing lines. The next part is rendered only
 * when the last one is flushed: a client reading slowly holds one part of
 * encoded text, not its whole result, and a 64 MiB result costs the loop
 * one part per turn instead of one long stall. */
#include "daemon/outq.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core/render.h"

/* Work per part: small enough for the loop to stay responsive (about
 * 0.3 ms of base64), large enough that syscalls do not dominate. */
#define PART_BYTES (256u << 10)

struct wb_outq_item {
	struct wb_outq_item *next;
	struct wb_result *res;       /* NULL: a ready line */
	struct wb_render render;
	size_t charge;               /* bytes counted in held */
	size_t len;
	char line[];
};

struct part {
	uv_write_t w;
	struct wb_outq *q;
	struct wb_buf buf;
};

static void charge(struct wb_outq *q, size_t n)
{
	q->held += n;
	if (q->total)
		*q->total += n;
}

static void release(struct wb_outq *q, size_t n)
{
	q->held -= n;
	if (q->total)
		*q->total -= n;
}

size_t wb_outq_result_bytes(const struct wb_result *res)
{
	size_t n = sizeof(*res) + res->out.len + res->err.len;

	for (size_t i = 0; i < res->nfiles; i++)
		n += res->files[i].len;
	return n;
}

void wb_outq_init(struct wb_outq *q, uv_stream_t *stream, size_t *total,
		  void (*flushed)(struct wb_outq *q, int status), void *data)
{
	memset(q, 0, sizeof(*q));
	q->stream = stream;
	q->total = total;
	q->flushed = flushed;
	q->data = data;
}

static void pump(struct wb_outq *q);

static void on_written(uv_write_t *w, int status)
{
	struct part *p = (struct part *)w;
	struct wb_outq *q = p->q;

	q->writing -= p->buf.len;
	release(q, p->buf.cap);
	wb_buf_free(&p->buf);
	free(p);
	/* The stream failed: what is queued can never be written. */
	if (status < 0)
		wb_outq_discard(q);
	q->flushed(q, status);
	if (status == 0 && !uv_is_closing((uv_handle_t *)q->stream))
		pump(q);
}

static void item_free(struct wb_outq *q, struct wb_outq_item *it)
{
	release(q, it->charge);
	if (it->res) {
		wb_result_free(it->res);
		free(it->res);
	}
	free(it);
}

/* Renders the next part of the head item: 1 when a part is ready in b, 0
 * when nothing is queued, -ENOMEM. */
static int next_part(struct wb_outq *q, struct wb_buf *b)
{
	struct wb_outq_item *it = q->head;
	int rc = 0;

	if (!it)
		return 0;
	if (it->res)
		rc = wb_render_next(&it->render, b, PART_BYTES);
	else
		rc = wb_buf_append(b, it->line, it->len);
	if (rc < 0)
		return rc;
	if (rc == 0) {
		if (wb_buf_append(b, "\n", 1) < 0)
			return -ENOMEM;
		q->head = it->next;
		if (!q->head)
			q->tail = NULL;
		item_free(q, it);
	}
	return 1;
}

static void pump(struct wb_outq *q)
{
	while (q->writing < PART_BYTES && q->head) {
		struct part *p = calloc(1, sizeof(*p));
		uv_buf_t buf;
		int rc;

		if (!p || (rc = next_part(q, &p->buf)) < 0) {
			if (p)
				wb_buf_free(&p->buf);
			free(p);
			wb_outq_discard(q);
			q->flushed(q, UV_ENOMEM);
			return;
		}
		if (rc == 0) {
			free(p);
			return;
		}
		p->q = q;
		charge(q, p->buf.cap);
		q->writing += p->buf.len;
		buf = uv_buf_init((char *)p->buf.data, (unsigned)p->buf.len);
		if ((rc = uv_write(&p->w, q->stream, &buf, 1, on_written)) < 0) {
			q->writing -= p->buf.len;
			release(q, p->buf.cap);
			wb_buf_free(&p->buf);
			free(p);
			wb_outq_discard(q);
			q->flushed(q, rc);
			return;
		}
	}
}

static void push(struct wb_outq *q, struct wb_outq_item *it)
{
	it->next = NULL;
	if (q->tail)
		q->tail->next = it;
	else
		q->head = it;
	q->tail = it;
	charge(q, it->charge);
	pump(q);
}

int wb_outq_line(struct wb_outq *q, const char *text)
{
	size_t len = strlen(text);
	struct wb_outq_item *it = malloc(sizeof(*it) + len);

	if (!it)
		return -ENOMEM;
	memset(it, 0, sizeof(*it));
	memcpy(it->line, text, len);
	it->len = len;
	it->charge = sizeof(*it) + len;
	push(q, it);
	return 0;
}

void wb_outq_result(struct wb_outq *q, struct wb_result *res)
{
	struct wb_outq_item *it = calloc(1, sizeof(*it));

	if (!it) {
		wb_result_free(res);
		free(res);
		wb_outq_discard(q);
		q->flushed(q, UV_ENOMEM);
		return;
	}
	it->res = res;
	wb_render_init(&it->render, res);
	it->charge = sizeof(*it) + wb_outq_result_bytes(res);
	push(q, it);
}

bool wb_outq_pending(const struct wb_outq *q)
{
	return q->head || q->writing;
}

void wb_outq_discard(struct wb_outq *q)
{
	while (q->head) {
		struct wb_outq_item *it = q->head;

		q->head = it->next;
		item_free(q, it);
	}
	q->tail = NULL;
}
