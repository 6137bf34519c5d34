/* server.c: connections. A connection owns its read buffer, its jobs in
 * flight and what it has still to read (outq.h); results are written as
 * they come, and a client that does not read them stops being read
 * (bounded memory). request.c answers each line, listen.c accepts. */
#include "daemon/server_impl.h"
#include "daemon/store.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/ndjson.h"
#include "core/render.h"
#include "daemon/log.h"
#include "manager/slot.h"

#define READ_CHUNK 65536
/* How often idle, stalled and draining connections are looked at. */
#define SWEEP_MS 500
/* A refusal of the same kind is logged at most this often. */
#define REFUSAL_LOG_MS 10000

static void on_alloc(uv_handle_t *h, size_t hint, uv_buf_t *buf);
static void on_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf);

/* A refusal of one kind is logged once, then at most every 10 s with how
 * many went unlogged meanwhile: a flood must not flood the log too. */
void server_log_refusal(struct wb_server *srv, int kind, const char *what)
{
	uint64_t now = uv_now(srv->loop);

	if (srv->refusal_logged_ms[kind] && now - srv->refusal_logged_ms[kind] < REFUSAL_LOG_MS) {
		srv->refusals_unlogged[kind]++;
		return;
	}
	if (srv->refusals_unlogged[kind])
		wb_log(WB_LOG_WARN, "%s (and %lu more like it in the last %llu s)", what,
		       srv->refusals_unlogged[kind], (unsigned long long)(now - srv->refusal_logged_ms[kind]) / 1000);
	else
		wb_log(WB_LOG_WARN, "%s", what);
	srv->refusal_logged_ms[kind] = now;
	srv->refusals_unlogged[kind] = 0;
}

/* ---- writing ---- */

/* A client that sends but does not read costs us memory: we stop reading
 * it, and its queued jobs wait (held) until it reads. */
void conn_check_pause(struct conn *c)
{
	if (!c->paused && c->out.held > c->srv->cfg.max_unsent) {
		c->paused = true;
		uv_read_stop(&c->h.stream);
	}
}

static void on_flushed(struct wb_outq *q, int status)
{
	struct conn *c = q->data;

	if (status == 0)
		c->active_ms = uv_now(c->srv->loop);
	/* A paused client is not read, so its going away shows up here: as
	 * a failed write. Its jobs are cancelled like on EOF. */
	if (status < 0 && !c->leaving) {
		wb_log(WB_LOG_INFO, "client write failed: %s", uv_strerror(status));
		conn_leave(c);
	}
	if (c->paused && !c->leaving && !c->no_input && c->out.held < c->srv->cfg.max_unsent / 2) {
		c->paused = false;
		uv_read_start(&c->h.stream, on_alloc, on_read);
		wb_pool_kick(c->srv->pool);
	}
	conn_maybe_close(c);
}

void conn_send_line(struct conn *c, const char *text)
{
	if (c->leaving || c->closed)
		return;
	if (wb_outq_line(&c->out, text) < 0) {
		conn_leave(c);
		return;
	}
	conn_check_pause(c);
}

/* A request we answer without running it. */
void conn_reject(struct conn *c, const char *id, const char *error, enum wb_reject why)
{
	wb_log(WB_LOG_DEBUG, "client request refused: %s", error);
	wb_stats_reject(wb_pool_stats(c->srv->pool), why);
	conn_send_error(c, id, error);
}

void conn_send_error(struct conn *c, const char *id, const char *error)
{
	struct wb_result r = {.id = id, .status = WB_STATUS_XX, .exit_code = -1, .error = (char *)error};
	struct wb_pool_state st;
	char *json;

	/* Nothing ran, but a result says how this daemon accounts (SPEC). */
	wb_pool_state(c->srv->pool, &st);
	r.accounting = wb_accounting_name(st.accounting);
	json = wb_render_line(&r);
	if (json)
		conn_send_line(c, json);
	free(json);
}

/* ---- reading ---- */

static void on_alloc(uv_handle_t *h, size_t hint, uv_buf_t *buf)
{
	struct conn *c = h->data;
	size_t limit = c->srv->cfg.max_request + READ_CHUNK;

	(void)hint;
	if (c->cap - c->len < READ_CHUNK && c->cap < limit) {
		size_t cap = c->cap ? c->cap * 2 : 2 * READ_CHUNK;
		char *nb;

		if (cap > limit)
			cap = limit;
		/* Past the budget the buffer stays as it is; once it is full,
		 * on_read gets UV_ENOBUFS and refuses the line. */
		if (c->srv->mem_used + (cap - c->cap) <= c->srv->cfg.max_memory &&
		    (nb = realloc(c->buf, cap))) {
			c->srv->mem_used += cap - c->cap;
			c->buf = nb;
			c->cap = cap;
		}
	}
	*buf = uv_buf_init(c->buf + c->len, (unsigned)(c->cap - c->len));
}

/* After a large line the buffer goes back to its usual size: a client
 * that once sent 60 MB must not keep 60 MB of the budget. */
static void shrink_buffer(struct conn *c)
{
	size_t cap = 2 * READ_CHUNK;
	char *nb;

	if (c->cap <= 4 * READ_CHUNK || c->len > cap / 2)
		return;
	nb = realloc(c->buf, cap);
	if (!nb)
		return;
	c->srv->mem_used -= c->cap - cap;
	c->buf = nb;
	c->cap = cap;
}

/* No more requests from this client (a line it cannot send whole): its
 * jobs in flight are still answered, then the connection closes. */
static void conn_stop_input(struct conn *c)
{
	c->no_input = true;
	uv_read_stop(&c->h.stream);
	conn_maybe_close(c);
}

void conn_leave(struct conn *c)
{
	if (c->leaving)
		return;
	c->leaving = true;
	uv_read_stop(&c->h.stream);
	/* Its jobs are killed (or dropped from the queue); each still calls
	 * on_job_done, which frees it. */
	for (struct req *r = c->reqs, *next; r; r = next) {
		next = r->next;
		wb_pool_cancel(c->srv->pool, &r->pj);
	}
	conn_maybe_close(c);
}

static void on_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf)
{
	struct conn *c = s->data;
	size_t off = 0;

	(void)buf;
	if (nread == UV_ENOBUFS) {
		server_log_refusal(c->srv, REFUSE_MEMORY, "a request was refused: " MEMORY_FULL);
		conn_reject(c, NULL, "request refused: " MEMORY_FULL "; closing", WB_REJECT_MEMORY);
		conn_stop_input(c);
		return;
	}
	if (nread < 0) {
		/* EOF or error: the client is gone, half a line included. */
		conn_leave(c);
		return;
	}
	c->len += (size_t)nread;
	c->active_ms = uv_now(c->srv->loop);
	while (!c->leaving && off < c->len) {
		size_t line_len = 0;
		ssize_t n = wb_ndjson_next(c->buf + off, c->len - off, off ? 0 : c->scanned,
					   c->srv->cfg.max_request, &line_len);

		if (n == WB_NDJSON_NEED_MORE) {
			c->scanned = c->len - off;
			break;
		}
		if (n == WB_NDJSON_TOO_LONG) {
			char msg[96];

			snprintf(msg, sizeof(msg), "request over the size limit of %zu bytes; closing",
				 c->srv->cfg.max_request);
			wb_log(WB_LOG_INFO, "client sent a line over %zu bytes; closing it", c->srv->cfg.max_request);
			conn_reject(c, NULL, msg, WB_REJECT_TOO_LONG);
			conn_stop_input(c);
			return;
		}
		if (line_len > 0)
			request_handle_line(c, c->buf + off, line_len);
		off += (size_t)n;
		c->scanned = 0;
	}
	if (off) {
		memmove(c->buf, c->buf + off, c->len - off);
		c->len -= off;
	}
	shrink_buffer(c);
}

/* ---- connection life ---- */

/* The server goes once its listeners and connections have all closed. */
void server_maybe_free(struct wb_server *srv)
{
	void (*closed)(void *data) = srv->closed;
	void *data = srv->closed_data;

	if (!srv->closing || srv->handles || srv->conns)
		return;
	free(srv->socket_path);
	wb_store_free(srv->store);
	free(srv);
	if (closed)
		closed(data);
}

static void stop_sweep_if_done(struct wb_server *srv);

static void on_conn_closed(uv_handle_t *h)
{
	struct conn *c = h->data;
	struct wb_server *srv = c->srv;

	if (c->prev)
		c->prev->next = c->next;
	else
		srv->conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	srv->nconns--;
	wb_outq_discard(&c->out);
	srv->mem_used -= c->cap;
	free(c->buf);
	free(c);
	stop_sweep_if_done(srv);
	server_maybe_free(srv);
}

static void on_shutdown(uv_shutdown_t *sr, int status)
{
	struct conn *c = sr->data;

	(void)status;
	free(sr);
	uv_close((uv_handle_t *)&c->h.stream, on_conn_closed);
}

/* A leaving connection closes once its jobs are answered and its results
 * flushed (an abandoned one without the flushing); on server close, all
 * do. Pending writes of a closed stream are cancelled by libuv. */
void conn_maybe_close(struct conn *c)
{
	uv_shutdown_t *sr;

	if (c->closed || c->inflight || (wb_outq_pending(&c->out) && !c->abandon) ||
	    !(c->leaving || c->no_input || c->srv->closing))
		return;
	c->closed = true;
	uv_read_stop(&c->h.stream);
	if (c->abandon) {
		uv_close((uv_handle_t *)&c->h.stream, on_conn_closed);
		return;
	}
	sr = malloc(sizeof(*sr));
	if (sr) {
		sr->data = c;
		if (uv_shutdown(sr, &c->h.stream, on_shutdown) == 0)
			return;
		free(sr);
	}
	uv_close((uv_handle_t *)&c->h.stream, on_conn_closed);
}

void server_on_connection(uv_stream_t *listener, int status)
{
	struct wb_server *srv = listener->data;
	struct conn *c;
	int rc;

	if (status < 0 || srv->closing)
		return;
	c = calloc(1, sizeof(*c));
	if (!c)
		return;
	c->srv = srv;
	c->source.held = &c->paused;
	if (listener == (uv_stream_t *)&srv->unix_h)
		rc = uv_pipe_init(srv->loop, &c->h.pipe, 0);
	else
		rc = uv_tcp_init(srv->loop, &c->h.tcp);
	if (rc < 0) {
		free(c);
		return;
	}
	c->h.stream.data = c;
	wb_outq_init(&c->out, &c->h.stream, &srv->mem_used, on_flushed, c);
	c->active_ms = uv_now(srv->loop);
	c->next = srv->conns;
	if (srv->conns)
		srv->conns->prev = c;
	srv->conns = c;
	srv->nconns++;
	if (uv_accept(listener, &c->h.stream) < 0) {
		wb_log(WB_LOG_WARN, "cannot accept a client");
		c->closed = true;
		uv_close((uv_handle_t *)&c->h.stream, on_conn_closed);
		return;
	}
	/* Over the limit: one line saying why, then closed, before it can
	 * take the descriptors the running jobs need. */
	if (srv->nconns > srv->cfg.max_connections) {
		char msg[128];

		snprintf(msg, sizeof(msg), "too many connections: at most %u (warmbox serve --max-connections)",
			 srv->cfg.max_connections);
		server_log_refusal(srv, REFUSE_CONNECTIONS, msg);
		wb_stats_reject(wb_pool_stats(srv->pool), WB_REJECT_CONNECTIONS);
		conn_send_error(c, NULL, msg);
		conn_leave(c);
		return;
	}
	if (uv_read_start(&c->h.stream, on_alloc, on_read) < 0) {
		wb_log(WB_LOG_WARN, "cannot read from a client");
		conn_leave(c);
	}
}

/* Drops a client: its jobs are cancelled, what it has not read is lost. */
static void conn_abandon(struct conn *c)
{
	c->abandon = true;
	conn_leave(c);
	conn_maybe_close(c);
}

/* Every SWEEP_MS: connections idle past idle_ms are closed, clients that
 * read nothing for write_ms are dropped, and once the server is closing,
 * clients still not done after drain_ms are dropped. */
static void on_sweep(uv_timer_t *t)
{
	struct wb_server *srv = t->data;
	uint64_t now = uv_now(srv->loop);

	for (struct conn *c = srv->conns, *next; c; c = next) {
		uint64_t quiet_ms = now - c->active_ms;

		next = c->next;
		if (c->closed)
			continue;
		if (srv->closing && now - srv->closing_ms >= srv->cfg.drain_ms) {
			conn_abandon(c);
		} else if (wb_outq_pending(&c->out) && quiet_ms >= srv->cfg.write_ms) {
			server_log_refusal(srv, REFUSE_STALLED, "a client read none of its results for the write "
				    "timeout (warmbox serve --write-timeout): dropped");
			conn_abandon(c);
		} else if (!c->inflight && !wb_outq_pending(&c->out) && !c->leaving && quiet_ms >= srv->cfg.idle_ms) {
			wb_log(WB_LOG_DEBUG, "client idle for %llu ms: closed", (unsigned long long)quiet_ms);
			conn_leave(c);
		}
	}
}

static void on_sweep_closed(uv_handle_t *h)
{
	struct wb_server *srv = h->data;

	srv->handles--;
	server_maybe_free(srv);
}

/* The sweep goes once the last connection has: it is what ends a drain. */
static void stop_sweep_if_done(struct wb_server *srv)
{
	if (srv->closing && !srv->conns && !uv_is_closing((uv_handle_t *)&srv->sweep))
		uv_close((uv_handle_t *)&srv->sweep, on_sweep_closed);
}

void wb_server_close(struct wb_server *srv, void (*closed)(void *data), void *data)
{
	srv->closing = true;
	srv->closing_ms = uv_now(srv->loop);
	srv->closed = closed;
	srv->closed_data = data;
	wb_server_stop_accepting(srv);
	for (struct conn *c = srv->conns, *next; c; c = next) {
		next = c->next;
		conn_maybe_close(c);
	}
	stop_sweep_if_done(srv);
	server_maybe_free(srv);
}

void wb_server_abort(struct wb_server *srv)
{
	for (struct conn *c = srv->conns, *next; c; c = next) {
		next = c->next;
		if (!c->closed)
			conn_abandon(c);
	}
}

int wb_server_start(uv_loop_t *loop, struct wb_pool *pool, const struct wb_server_cfg *cfg,
		    struct wb_server **out, char *err, size_t errlen)
{
	struct wb_server *srv = calloc(1, sizeof(*srv));
	int rc = 0;

	*out = NULL;
	err[0] = '\0';
	if (!srv)
		return -ENOMEM;
	srv->loop = loop;
	srv->pool = pool;
	srv->cfg = *cfg;
	if ((rc = wb_store_new(cfg->store_max, &srv->store)) < 0) {
		free(srv);
		return rc;
	}
	srv->admit = (struct wb_admit){.policies = cfg->policies, .npolicies = cfg->npolicies,
				       .max_output_kb = cfg->max_output_kb, .store = srv->store,
				       .allow_network = cfg->allow_network,
				       .command = "warmbox serve"};
	*out = srv;
	uv_timer_init(loop, &srv->sweep);
	srv->sweep.data = srv;
	srv->handles++;
	uv_timer_start(&srv->sweep, on_sweep, SWEEP_MS, SWEEP_MS);
	if (cfg->socket_path && (rc = server_listen_unix(srv, cfg->socket_path, err, errlen)) < 0)
		return rc;
	if (cfg->listen && (rc = server_listen_tcp(srv, cfg->listen, err, errlen)) < 0)
		return rc;
	if (cfg->metrics && (rc = server_listen_metrics(srv, cfg->metrics, err, errlen)) < 0)
		return rc;
	return 0;
}
