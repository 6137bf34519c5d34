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

/* wb_metrics_start on "HOST:PORT" or "PORT"; err names --metrics. */
int wb_metrics_listen(uv_loop_t *loop, const char *spec, wb_metrics_render_cb render, void *data,
		      struct wb_metrics **out, char *err, size_t errlen);

/* HOST:PORT (IPv4, [IPv6]) or PORT alone (127.0.0.1), as --listen and
 * --metrics take it. 0 or -EINVAL. */
int wb_hostport_parse(const char *spec, struct sockaddr_storage *sa);

/* The exposition of a pool, its store and its clients (core/prom.h). */
struct wb_pool;
struct wb_store;
int wb_metrics_render_pool(struct wb_pool *pool, struct wb_store *store, unsigned connections, struct wb_buf *out);

/* Stops listening, drops open scrapes; closed(data) once its handles are
 * closed and it is freed. NULL is a no-op (closed is not called). */
void wb_metrics_close(struct wb_metrics *m, void (*closed)(void *data), void *data);

#endif
