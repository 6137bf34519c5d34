/* result.c: verdict precedence, status names and the byte buffers a result
 * holds (render.c writes its JSON). */
#include "core/result.h"

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

int wb_buf_reserve(struct wb_buf *b, size_t more)
{
	size_t need, cap;
	unsigned char *p;

	if (more > SIZE_MAX - b->len)
		return -ENOMEM;
	need = b->len + more;
	if (need <= b->cap)
		return 0;
	/* Doubling keeps appends of a program's output amortised O(1). */
	cap = b->cap ? b->cap : 256;
	while (cap < need)
		cap = cap > SIZE_MAX / 2 ? need : cap * 2;
	p = realloc(b->data, cap);
	if (!p)
		return -ENOMEM;
	b->data = p;
	b->cap = cap;
	return 0;
}

int wb_buf_append(struct wb_buf *b, const void *data, size_t len)
{
	if (len == 0)
		return 0;
	if (wb_buf_reserve(b, len) < 0)
		return -ENOMEM;
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
	wb_result_free(r->interactor);
	free(r->interactor);
	r->interactor = NULL;
	r->learned = NULL;
	r->files = NULL;
	r->nfiles = 0;
	r->syscall = NULL;
	r->error = NULL;
}
