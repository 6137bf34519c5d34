/* render.h: a result's JSON line (SPEC.md "Result"), whole or in parts: the
 * daemon writes a large output in pieces as the client reads, so that it
 * is neither held twice nor encoded in one go on the loop. No I/O. */
#ifndef WB_RENDER_H
#define WB_RENDER_H

#include <stddef.h>

#include "core/result.h"

struct wb_render {
	const struct wb_result *r;   /* borrowed until the last part */
	unsigned step;
	size_t file;                 /* files[] entry of the files steps */
	size_t off;                  /* bytes of the current payload done */
	size_t escaped;              /* its JSON string size, while deciding */
	int form;                    /* its form: undecided, text, base64 */
};

void wb_render_init(struct wb_render *st, const struct wb_result *r);

/* Appends the next part of the line to b: every small field at once, then
 * the outputs and files about max bytes of work (read or written) at a
 * time. 1: more to come; 0: the line is complete (no newline); -ENOMEM. */
int wb_render_next(struct wb_render *st, struct wb_buf *b, size_t max);

/* The whole line, NUL-terminated and malloc'd; NULL on ENOMEM. */
char *wb_render_line(const struct wb_result *r);

#endif
