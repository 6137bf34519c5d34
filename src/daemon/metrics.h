/* metrics.h: GET /metrics over HTTP on the daemon's own loop (SPEC
 * "Metrics"); libmicrohttpd parses HTTP, a callback renders the body. */
#ifndef WB_METRICS_H
#define WB_METRICS_H

#include <stddef.h>
#include <sys/socket.h>
#include <uv.h>

#include "core/result.h"

struct wb_metrics;

/* Appends the exposition to out: 0 or -ENOMEM. */
typedef int (*wb_metrics_render_cb)(void *data, struct wb_buf *out);

/* Listens on addr. -errno with the reason in err. */
int wb_metrics_start(uv_loop_t *loop, const struct sockaddr *addr, wb_metrics_render_cb render, void *data,
		     struct wb_metrics **out, char *err, size_t errlen);

/* Stops listening, drops open scrapes; closed(data) once its handles are
 * closed and it is freed. NULL is a no-op (closed is not called). */
void wb_metrics_close(struct wb_metrics *m, void (*closed)(void *data), void *data);

#endif
