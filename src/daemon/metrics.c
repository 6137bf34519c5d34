/* metrics.c: libmicrohttpd without a thread of its own: its epoll
 * descriptor is polled by the loop, which runs MHD when it is readable and
 * when MHD's timeout is due, so the render callback sees the daemon's
 * state on the thread that owns it. Also the listen address syntax and a
 * pool's figures, which the socket server and the worker both serve. */
#include "daemon/metrics.h"

#include <errno.h>
#include <microhttpd.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/hostport.h"
#include "core/prom.h"
#include "daemon/log.h"
#include "daemon/pool.h"
#include "daemon/store.h"

/* A scrape that stalls is dropped after this long. */
#define SCRAPE_TIMEOUT_S 10
#define MAX_SCRAPERS 16

struct wb_metrics {
	struct MHD_Daemon *mhd;
	uv_poll_t poll;
	uv_timer_t timer;
	int handles;
	wb_metrics_render_cb render;
	void *data;
	void (*closed)(void *data);
	void *closed_data;
};

static enum MHD_Result answer(struct MHD_Connection *conn, unsigned status, const char *type, const void *body,
			      size_t len)
{
	struct MHD_Response *r = MHD_create_response_from_buffer(len, (void *)body, MHD_RESPMEM_MUST_COPY);
	enum MHD_Result ok;

	if (!r)
		return MHD_NO;
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type);
	if (status == MHD_HTTP_METHOD_NOT_ALLOWED)
		MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, "GET, HEAD");
	ok = MHD_queue_response(conn, status, r);
	MHD_destroy_response(r);
	return ok;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url, const char *method,
				  const char *version, const char *upload, size_t *upload_len, void **state)
{
	static int seen;
	struct wb_metrics *m = cls;
	struct wb_buf body = {0};
	enum MHD_Result ok;

	(void)version;
	(void)upload;
	/* The first call is for the headers; the answer goes with the second,
	 * once any request body has been read (and ignored). */
	if (*state != &seen) {
		*state = &seen;
		return MHD_YES;
	}
	if (*upload_len) {
		*upload_len = 0;
		return MHD_YES;
	}
	if (strcmp(url, "/metrics") != 0)
		return answer(conn, MHD_HTTP_NOT_FOUND, "text/plain; charset=utf-8", "not found\n", 10);
	if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0)
		return answer(conn, MHD_HTTP_METHOD_NOT_ALLOWED, "text/plain; charset=utf-8", "GET only\n", 9);
	if (m->render(m->data, &body) < 0) {
		wb_buf_free(&body);
		return answer(conn, MHD_HTTP_INTERNAL_SERVER_ERROR, "text/plain; charset=utf-8",
			      "out of memory\n", 14);
	}
	ok = answer(conn, MHD_HTTP_OK, "text/plain; version=0.0.4; charset=utf-8", body.data, body.len);
	wb_buf_free(&body);
	return ok;
}

static void on_timer(uv_timer_t *t);

/* MHD's work, then its next deadline on the timer. */
static void run_mhd(struct wb_metrics *m)
{
	MHD_UNSIGNED_LONG_LONG ms;

	MHD_run(m->mhd);
	if (MHD_get_timeout(m->mhd, &ms) == MHD_YES)
		uv_timer_start(&m->timer, on_timer, ms, 0);
	else
		uv_timer_stop(&m->timer);
}

static void on_timer(uv_timer_t *t)
{
	run_mhd(t->data);
}

static void on_poll(uv_poll_t *h, int status, int events)
{
	(void)status;
	(void)events;
	run_mhd(h->data);
}

static void log_mhd(void *cls, const char *fmt, va_list ap)
{
	char msg[256];

	(void)cls;
	vsnprintf(msg, sizeof(msg), fmt, ap);
	msg[strcspn(msg, "\n")] = '\0';
	wb_log(WB_LOG_DEBUG, "metrics: %s", msg);
}

int wb_metrics_start(uv_loop_t *loop, const struct sockaddr *addr, wb_metrics_render_cb render, void *data,
		     struct wb_metrics **out, char *err, size_t errlen)
{
	struct wb_metrics *m = calloc(1, sizeof(*m));
	const union MHD_DaemonInfo *info;
	unsigned flags = MHD_USE_EPOLL | MHD_USE_ERROR_LOG | (addr->sa_family == AF_INET6 ? MHD_USE_IPv6 : 0);
	int rc;

	*out = NULL;
	if (!m)
		return -ENOMEM;
	m->render = render;
	m->data = data;
	errno = 0;
	m->mhd = MHD_start_daemon(flags, 0, NULL, NULL, on_request, m, MHD_OPTION_SOCK_ADDR, addr,
				  MHD_OPTION_CONNECTION_LIMIT, (unsigned)MAX_SCRAPERS,
				  MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)SCRAPE_TIMEOUT_S,
				  MHD_OPTION_EXTERNAL_LOGGER, log_mhd, NULL, MHD_OPTION_END);
	if (!m->mhd) {
		rc = errno ? -errno : -EADDRNOTAVAIL;
		snprintf(err, errlen, "cannot listen: %s", strerror(-rc));
		free(m);
		return rc;
	}
	info = MHD_get_daemon_info(m->mhd, MHD_DAEMON_INFO_EPOLL_FD);
	if (!info || (rc = uv_poll_init(loop, &m->poll, info->epoll_fd)) < 0) {
		snprintf(err, errlen, "cannot poll libmicrohttpd's descriptor");
		MHD_stop_daemon(m->mhd);
		free(m);
		return -EIO;
	}
	uv_timer_init(loop, &m->timer);
	m->poll.data = m->timer.data = m;
	m->handles = 2;
	uv_poll_start(&m->poll, UV_READABLE, on_poll);
	*out = m;
	return 0;
}

static void on_closed(uv_handle_t *h)
{
	struct wb_metrics *m = h->data;

	if (--m->handles > 0)
		return;
	MHD_stop_daemon(m->mhd);
	if (m->closed)
		m->closed(m->closed_data);
	free(m);
}

void wb_metrics_close(struct wb_metrics *m, void (*closed)(void *data), void *data)
{
	if (!m || uv_is_closing((uv_handle_t *)&m->poll))
		return;
	m->closed = closed;
	m->closed_data = data;
	uv_close((uv_handle_t *)&m->poll, on_closed);
	uv_close((uv_handle_t *)&m->timer, on_closed);
}

/* HOST:PORT (IPv4, [IPv6]) or PORT alone (127.0.0.1). 0 or -EINVAL. */
int wb_hostport_parse(const char *spec, struct sockaddr_storage *sa)
{
	char host[128];
	const char *text;
	char *end;
	long port;

	if (wb_hostport_split(spec, host, sizeof(host), &text) < 0)
		return -EINVAL;
	port = strtol(text, &end, 10);
	if (*end || port <= 0 || port > 65535)
		return -EINVAL;
	memset(sa, 0, sizeof(*sa));
	if (uv_ip4_addr(host, (int)port, (struct sockaddr_in *)sa) != 0 &&
	    uv_ip6_addr(host, (int)port, (struct sockaddr_in6 *)sa) != 0)
		return -EINVAL;
	return 0;
}

int wb_metrics_listen(uv_loop_t *loop, const char *spec, wb_metrics_render_cb render, void *data,
		      struct wb_metrics **out, char *err, size_t errlen)
{
	struct sockaddr_storage sa;
	char why[128];
	int rc;

	if (wb_hostport_parse(spec, &sa) < 0) {
		snprintf(err, errlen, "--metrics %s: expected HOST:PORT (IPv4, [IPv6]) or PORT", spec);
		return -EINVAL;
	}
	if ((rc = wb_metrics_start(loop, (struct sockaddr *)&sa, render, data, out, why, sizeof(why))) < 0)
		snprintf(err, errlen, "--metrics %s: %s", spec, why);
	return rc;
}

int wb_metrics_render_pool(struct wb_pool *pool, struct wb_store *store, unsigned connections, struct wb_buf *out)
{
	struct wb_pool_state st;
	struct wb_store_stats sst;
	struct wb_prom_in in;

	wb_pool_state(pool, &st);
	wb_store_stats(store, &sst);
	/* The states partition the zygotes: one between jobs whose next spare
	 * is not ready yet is counted as starting, as it cannot start a job
	 * at once. */
	in = (struct wb_prom_in){.stats = wb_pool_stats(pool), .warm = st.warm, .busy = st.busy,
				 .starting = st.zygotes - st.warm - st.busy, .queued = st.queued,
				 .connections = connections, .has_store = true, .store_bytes = sst.bytes};
	return wb_prom_render(&in, out);
}
