/* outq.h: what a daemon connection has still to write: lines and results
 * in the order they were queued, a result rendered a part at a time as the
 * client reads, so a large one is never held twice nor encoded in one go. */
#ifndef WB_OUTQ_H
#define WB_OUTQ_H

#include <stddef.h>
#include <uv.h>

#include "core/result.h"

struct wb_outq_item;

struct wb_outq {
	uv_stream_t *stream;
	struct wb_outq_item *head, *tail;
	size_t held;                 /* bytes held for what is not flushed yet */
	size_t *total;               /* where held is also added up (may be NULL) */
	size_t writing;              /* bytes handed to the stream, not flushed */
	/* After every write completes (status < 0: the client is gone);
	 * may close the stream. */
	void (*flushed)(struct wb_outq *q, int status);
	void *data;
};

void wb_outq_init(struct wb_outq *q, uv_stream_t *stream, size_t *total,
		  void (*flushed)(struct wb_outq *q, int status), void *data);

/* Queues a line (copied; the newline is added). 0 or -ENOMEM. */
int wb_outq_line(struct wb_outq *q, const char *text);

/* Queues a result, which the queue now owns (wb_result_free + free). */
void wb_outq_result(struct wb_outq *q, struct wb_result *res);

/* True while anything is queued or being written. */
bool wb_outq_pending(const struct wb_outq *q);

/* Frees what is queued and not yet handed to the stream (the stream is
 * being closed: its writes in flight end with UV_ECANCELED). */
void wb_outq_discard(struct wb_outq *q);

/* What one result holds in memory until it is written. */
size_t wb_outq_result_bytes(const struct wb_result *res);

#endif
