/* server.c: listeners and connections. A connection owns its read buffer,
 * its jobs in flight and what it has still to read (outq.h); results are
 * written as they come, and a client that does not read them stops being
 * read (bounded memory). */
#include "daemon/server.h"
#include "core/clock.h"

#include <cJSON.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "daemon/log.h"
#include "core/ndjson.h"
#include "daemon/outq.h"
#include "core/render.h"
#include "core/result.h"
#include "manager/slot.h"

#define READ_CHUNK 65536
/* Longer lines are jobs, never {"op": ...} requests. */
#define OP_MAX_BYTES 4096
/* How often idle, stalled and draining connections are looked at. */
#define SWEEP_MS 500
/* A refusal of the same kind is logged at most this often. */
#define REFUSAL_LOG_MS 10000

struct conn;

struct req {
	struct wb_pool_job pj;
	struct conn *conn;
	size_t charge;           /* its share of the memory budget until done */
	struct req *prev, *next;
};

struct conn {
	struct wb_server *srv;
	union {
		uv_stream_t stream;
		uv_pipe_t pipe;
		uv_tcp_t tcp;
	} h;
	char *buf;
	size_t len, cap;
	size_t scanned;          /* bytes of buf known to hold no '\n' */
	struct wb_outq out;      /* results and answers not yet flushed */
	struct req *reqs;        /* jobs in flight */
	struct wb_fairq_src source; /* its queued jobs; held while paused */
	unsigned inflight;
	bool paused;             /* reading stopped: too much unsent */
	bool no_input;           /* reading stopped for good: closes once answered */
	bool leaving;            /* the client went away or must go */
	bool abandon;            /* close without flushing what is unsent */
	bool closed;             /* uv_close called */
	uint64_t active_ms;      /* loop time of the last byte read or write flushed */
	struct conn *prev, *next;
};

struct wb_server {
	uv_loop_t *loop;
	struct wb_pool *pool;
	struct wb_server_cfg cfg;
	char *socket_path;
	uv_pipe_t unix_h;
	uv_tcp_t tcp_h;
	bool has_unix, has_tcp;
	bool closing;
	uint64_t closing_ms;
	struct conn *conns;
	unsigned nconns;
	unsigned handles;        /* listener and sweep handles not yet closed */
	uv_timer_t sweep;
	size_t mem_used;         /* counted against cfg.max_memory */
	uint64_t refusal_logged_ms[3];
	unsigned long refusals_unlogged[3];
	void (*closed)(void *data);
	void *closed_data;
};

enum { REFUSE_CONNECTIONS, REFUSE_STALLED, REFUSE_MEMORY };

#define MEMORY_FULL "memory budget full: try again later (warmbox serve --max-memory)"

static void conn_maybe_close(struct conn *c);
static void conn_leave(struct conn *c);
static void on_alloc(uv_handle_t *h, size_t hint, uv_buf_t *buf);
static void on_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf);

/* A refusal of one kind is logged once, then at most every 10 s with how
 * many went unlogged meanwhile: a flood must not flood the log too. */
static void log_refusal(struct wb_server *srv, int kind, const char *what)
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
static void check_pause(struct conn *c)
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

static void send_line(struct conn *c, const char *text)
{
	if (c->leaving || c->closed)
		return;
	if (wb_outq_line(&c->out, text) < 0) {
		conn_leave(c);
		return;
	}
	check_pause(c);
}

static void send_error(struct conn *c, const char *id, const char *error);

/* A request we answer without running it. */
static void reject(struct conn *c, const char *id, const char *error)
{
	wb_log(WB_LOG_DEBUG, "client request refused: %s", error);
	wb_pool_stats(c->srv->pool)->rejected++;
	send_error(c, id, error);
}

static void send_error(struct conn *c, const char *id, const char *error)
{
	struct wb_result r = {.id = id, .status = WB_STATUS_XX, .exit_code = -1, .error = (char *)error};
	struct wb_pool_state st;
	char *json;

	/* Nothing ran, but a result says how this daemon accounts (SPEC). */
	wb_pool_state(c->srv->pool, &st);
	r.accounting = wb_accounting_name(st.accounting);
	json = wb_render_line(&r);
	if (json)
		send_line(c, json);
	free(json);
}

/* ---- jobs ---- */

static void req_unlink(struct req *r)
{
	struct conn *c = r->conn;

	if (r->prev)
		r->prev->next = r->next;
	else
		c->reqs = r->next;
	if (r->next)
		r->next->prev = r->prev;
	c->inflight--;
}

static void on_job_done(struct wb_pool_job *pj, struct wb_result *res)
{
	struct req *r = (struct req *)pj;
	struct conn *c = r->conn;

	req_unlink(r);
	c->srv->mem_used -= r->charge;
	if (!pj->cancelled && res && !c->leaving && !c->closed) {
		wb_outq_result(&c->out, res);
		res = NULL;
		check_pause(c);
	} else if (!pj->cancelled && !res) {
		send_error(c, pj->job.id, "manager: out of memory for the result");
	}
	wb_result_free(res);
	free(res);
	wb_job_free(&pj->job);
	free(r);
	conn_maybe_close(c);
}

static const struct wb_policy *find_policy(const struct wb_server *srv, const char *name)
{
	for (size_t i = 0; i < srv->cfg.npolicies; i++)
		if (strcmp(srv->cfg.policies[i].name, name) == 0)
			return &srv->cfg.policies[i];
	return NULL;
}

/* What a job may hold in the manager from submission to result: its
 * request (the parsed job and the spec memfd are about as large), both
 * output streams in full, and each copy_out file at its size limit. */
static size_t job_charge(const struct wb_job *job, size_t line_len)
{
	uint64_t kb = 2 * job->limits.output_kb + (uint64_t)job->ncopy_out * job->limits.file_size_kb;

	return line_len + sizeof(struct req) + (size_t)(kb > (SIZE_MAX >> 11) ? SIZE_MAX >> 1 : kb << 10);
}

static void handle_job(struct conn *c, const char *line, size_t len)
{
	struct req *r = calloc(1, sizeof(*r));
	char err[WB_ERR_LEN], msg[WB_ERR_LEN + 32];
	int rc;

	if (!r) {
		send_error(c, NULL, "manager: out of memory");
		return;
	}
	rc = wb_job_parse(line, len, &r->pj.job, err, sizeof(err));
	if (rc < 0) {
		char *id = wb_job_peek_id(line, len);

		snprintf(msg, sizeof(msg), "invalid job: %s", err);
		reject(c, id, msg);
		free(id);
		free(r);
		return;
	}
	r->pj.policy = find_policy(c->srv, r->pj.job.policy);
	if (!r->pj.policy || r->pj.job.network) {
		snprintf(msg, sizeof(msg), "invalid job: %s", r->pj.policy
			 ? "network: this daemon runs jobs without network"
			 : "policy: no such policy");
		reject(c, r->pj.job.id, msg);
		wb_job_free(&r->pj.job);
		free(r);
		return;
	}
	/* Each stream's output is held whole until the result is written:
	 * the daemon's cap keeps one job from taking gigabytes. */
	if (r->pj.job.limits.output_kb > c->srv->cfg.max_output_kb) {
		snprintf(msg, sizeof(msg), "invalid job: limits.output_kb: at most %llu in this daemon "
			 "(warmbox serve --max-output)", (unsigned long long)c->srv->cfg.max_output_kb);
		reject(c, r->pj.job.id, msg);
		wb_job_free(&r->pj.job);
		free(r);
		return;
	}
	/* Its request, and room for all the output and files it may bring
	 * back: what is admitted always fits (see job_charge). */
	r->charge = job_charge(&r->pj.job, len);
	if (r->charge > c->srv->cfg.max_memory) {
		snprintf(msg, sizeof(msg), "invalid job: needs %zu MiB of the daemon's memory (the request, "
			 "output_kb twice, file_size_kb per copy_out) and --max-memory is %zu MiB",
			 r->charge >> 20, c->srv->cfg.max_memory >> 20);
		reject(c, r->pj.job.id, msg);
		wb_job_free(&r->pj.job);
		free(r);
		return;
	}
	if (c->srv->mem_used + r->charge > c->srv->cfg.max_memory) {
		log_refusal(c->srv, REFUSE_MEMORY, "a job was refused: " MEMORY_FULL);
		reject(c, r->pj.job.id, MEMORY_FULL);
		wb_job_free(&r->pj.job);
		free(r);
		return;
	}
	c->srv->mem_used += r->charge;
	r->pj.done = on_job_done;
	r->pj.source = &c->source;
	r->conn = c;
	r->next = c->reqs;
	if (c->reqs)
		c->reqs->prev = r;
	c->reqs = r;
	c->inflight++;
	rc = wb_pool_submit(c->srv->pool, &r->pj);
	if (rc < 0) {
		req_unlink(r);
		c->srv->mem_used -= r->charge;
		reject(c, r->pj.job.id, rc == -EAGAIN ? "queue full: try again later"
							 : "the daemon is shutting down");
		wb_job_free(&r->pj.job);
		free(r);
	}
}

/* ---- special requests ---- */

static void add_hist(cJSON *o, const char *name, const struct wb_hist *h)
{
	cJSON *q = cJSON_AddObjectToObject(o, name);

	cJSON_AddNumberToObject(q, "p50", (double)wb_hist_quantile(h, 0.50));
	cJSON_AddNumberToObject(q, "p99", (double)wb_hist_quantile(h, 0.99));
	cJSON_AddNumberToObject(q, "count", (double)h->count);
}

static void send_stats(struct conn *c)
{
	struct wb_pool_state st;
	struct wb_stats *s = wb_pool_stats(c->srv->pool);
	cJSON *o = cJSON_CreateObject(), *by;
	char *json;

	wb_pool_state(c->srv->pool, &st);
	cJSON_AddStringToObject(o, "op", "stats");
	cJSON_AddNumberToObject(o, "zygotes", st.zygotes);
	cJSON_AddNumberToObject(o, "warm", st.warm);
	cJSON_AddNumberToObject(o, "busy", st.busy);
	cJSON_AddNumberToObject(o, "starting", st.starting);
	cJSON_AddNumberToObject(o, "queue_depth", st.queued);
	cJSON_AddNumberToObject(o, "queue_max", c->srv->cfg.queue_max);
	cJSON_AddNumberToObject(o, "jobs_run", (double)s->jobs_run);
	by = cJSON_AddObjectToObject(o, "by_status");
	for (int i = 0; i <= WB_STATUS_XX; i++)
		cJSON_AddNumberToObject(by, wb_status_name((enum wb_status)i), (double)s->by_status[i]);
	cJSON_AddNumberToObject(o, "rejected", (double)s->rejected);
	cJSON_AddNumberToObject(o, "cancelled", (double)s->cancelled);
	cJSON_AddNumberToObject(o, "zygotes_replaced", (double)s->zygotes_replaced);
	add_hist(o, "latency_us", &s->latency);
	add_hist(o, "overhead_us", &s->overhead);
	cJSON_AddStringToObject(o, "accounting", wb_accounting_name(st.accounting));
	cJSON_AddNumberToObject(o, "connections", c->srv->nconns);
	cJSON_AddNumberToObject(o, "memory_used", (double)c->srv->mem_used);
	cJSON_AddNumberToObject(o, "memory_max", (double)c->srv->cfg.max_memory);
	cJSON_AddNumberToObject(o, "uptime_s",
				(double)((wb_clock_now_ns() - s->started_ns) / 1000000000ull));
	json = cJSON_PrintUnformatted(o);
	if (json)
		send_line(c, json);
	free(json);
	cJSON_Delete(o);
}

/* {"op": ...} requests; false when the line is not one (then it is a job,
 * and the job parser says what is wrong with it). */
static bool handle_op(struct conn *c, const char *line, size_t len)
{
	cJSON *root;
	const cJSON *op;
	bool handled = true;

	/* Ops are a few bytes; a job may be megabytes of base64. */
	if (len > OP_MAX_BYTES || !memmem(line, len, "\"op\"", 4))
		return false;
	root = cJSON_ParseWithLength(line, len);
	op = cJSON_GetObjectItemCaseSensitive(root, "op");
	if (!cJSON_IsString(op))
		handled = false;
	else if (strcmp(op->valuestring, "ping") == 0)
		send_line(c, "{\"op\":\"ping\",\"ok\":true}");
	else if (strcmp(op->valuestring, "stats") == 0)
		send_stats(c);
	else
		send_error(c, NULL, "unknown op (known: ping, stats)");
	cJSON_Delete(root);
	return handled;
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

static void conn_leave(struct conn *c)
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
		log_refusal(c->srv, REFUSE_MEMORY, "a request was refused: " MEMORY_FULL);
		reject(c, NULL, "request refused: " MEMORY_FULL "; closing");
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
			reject(c, NULL, msg);
			conn_stop_input(c);
			return;
		}
		if (line_len > 0 && !handle_op(c, c->buf + off, line_len))
			handle_job(c, c->buf + off, line_len);
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
static void server_maybe_free(struct wb_server *srv)
{
	void (*closed)(void *data) = srv->closed;
	void *data = srv->closed_data;

	if (!srv->closing || srv->handles || srv->conns)
		return;
	free(srv->socket_path);
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
static void conn_maybe_close(struct conn *c)
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

static void on_connection(uv_stream_t *listener, int status)
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
		log_refusal(srv, REFUSE_CONNECTIONS, msg);
		wb_pool_stats(srv->pool)->rejected++;
		send_error(c, NULL, msg);
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
			log_refusal(srv, REFUSE_STALLED, "a client read none of its results for the write "
				    "timeout (warmbox serve --write-timeout): dropped");
			conn_abandon(c);
		} else if (!c->inflight && !wb_outq_pending(&c->out) && !c->leaving && quiet_ms >= srv->cfg.idle_ms) {
			wb_log(WB_LOG_DEBUG, "client idle for %llu ms: closed", (unsigned long long)quiet_ms);
			conn_leave(c);
		}
	}
}

/* ---- listeners ---- */

/* A socket file left by a daemon that died is removed; one a live daemon
 * answers on is not ours to take. */
static int claim_socket_path(const char *path, char *err, size_t errlen)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	struct stat st;
	int fd, rc;

	if (strlen(path) >= sizeof(sa.sun_path)) {
		snprintf(err, errlen, "socket path too long: %s", path);
		return -ENAMETOOLONG;
	}
	if (lstat(path, &st) < 0)
		return errno == ENOENT ? 0 : -errno;
	if (!S_ISSOCK(st.st_mode)) {
		snprintf(err, errlen, "%s exists and is not a socket", path);
		return -EEXIST;
	}
	memcpy(sa.sun_path, path, strlen(path) + 1);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	rc = connect(fd, (struct sockaddr *)&sa, sizeof(sa));
	close(fd);
	if (rc == 0) {
		snprintf(err, errlen, "%s: another warmbox daemon is listening there", path);
		return -EADDRINUSE;
	}
	if (unlink(path) < 0 && errno != ENOENT)
		return -errno;
	wb_log(WB_LOG_INFO, "removed stale socket %s", path);
	return 0;
}

static int listen_unix(struct wb_server *srv, const char *path, char *err, size_t errlen)
{
	int rc = claim_socket_path(path, err, errlen);

	if (rc < 0) {
		if (!*err)
			snprintf(err, errlen, "%s: %s", path, strerror(-rc));
		return rc;
	}
	uv_pipe_init(srv->loop, &srv->unix_h, 0);
	srv->unix_h.data = srv;
	srv->has_unix = true;
	srv->handles++;
	if ((rc = uv_pipe_bind(&srv->unix_h, path)) < 0 || chmod(path, 0660) < 0 ||
	    (rc = uv_listen((uv_stream_t *)&srv->unix_h, 511, on_connection)) < 0) {
		snprintf(err, errlen, "%s: %s", path, rc < 0 ? uv_strerror(rc) : strerror(errno));
		return rc < 0 ? rc : -errno;
	}
	srv->socket_path = strdup(path);
	return srv->socket_path ? 0 : -ENOMEM;
}

/* HOST:PORT, [IPv6]:PORT, or PORT alone (loopback). */
static int listen_tcp(struct wb_server *srv, const char *spec, char *err, size_t errlen)
{
	char host[128] = "127.0.0.1";
	const char *colon = strrchr(spec, ':');
	struct sockaddr_storage sa;
	char *end;
	long port;
	int rc;

	if (colon) {
		size_t hlen = (size_t)(colon - spec);

		if (hlen >= sizeof(host))
			goto bad;
		memcpy(host, spec, hlen);
		host[hlen] = '\0';
		if (host[0] == '[' && hlen > 2 && host[hlen - 1] == ']') {
			memmove(host, host + 1, hlen - 2);
			host[hlen - 2] = '\0';
		}
	}
	port = strtol(colon ? colon + 1 : spec, &end, 10);
	if (*end || port <= 0 || port > 65535)
		goto bad;
	if (uv_ip4_addr(host, (int)port, (struct sockaddr_in *)&sa) != 0 &&
	    uv_ip6_addr(host, (int)port, (struct sockaddr_in6 *)&sa) != 0)
		goto bad;
	uv_tcp_init(srv->loop, &srv->tcp_h);
	srv->tcp_h.data = srv;
	srv->has_tcp = true;
	srv->handles++;
	if ((rc = uv_tcp_bind(&srv->tcp_h, (struct sockaddr *)&sa, 0)) < 0 ||
	    (rc = uv_listen((uv_stream_t *)&srv->tcp_h, 511, on_connection)) < 0) {
		snprintf(err, errlen, "--listen %s: %s", spec, uv_strerror(rc));
		return rc;
	}
	return 0;
bad:
	snprintf(err, errlen, "--listen %s: expected HOST:PORT (IPv4, [IPv6]) or PORT", spec);
	return -EINVAL;
}

static void on_listener_closed(uv_handle_t *h)
{
	struct wb_server *srv = h->data;

	srv->handles--;
	server_maybe_free(srv);
}

void wb_server_stop_accepting(struct wb_server *srv)
{
	if (srv->has_unix && !uv_is_closing((uv_handle_t *)&srv->unix_h)) {
		uv_close((uv_handle_t *)&srv->unix_h, on_listener_closed);
		if (srv->socket_path)
			unlink(srv->socket_path);
	}
	if (srv->has_tcp && !uv_is_closing((uv_handle_t *)&srv->tcp_h))
		uv_close((uv_handle_t *)&srv->tcp_h, on_listener_closed);
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
	*out = srv;
	uv_timer_init(loop, &srv->sweep);
	srv->sweep.data = srv;
	srv->handles++;
	uv_timer_start(&srv->sweep, on_sweep, SWEEP_MS, SWEEP_MS);
	if (cfg->socket_path && (rc = listen_unix(srv, cfg->socket_path, err, errlen)) < 0)
		return rc;
	if (cfg->listen && (rc = listen_tcp(srv, cfg->listen, err, errlen)) < 0)
		return rc;
	return 0;
}
