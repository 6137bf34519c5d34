/* request.c: one line from a client, answered: a job checked against the
 * daemon's limits and memory budget and submitted to the pool, or an
 * {"op": ...} (ping, stats; jobs in jobsop.c, the store's in storeop.c). */
#include "daemon/server_impl.h"

#include <cJSON.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "core/job.h"
#include "core/result.h"
#include "core/stats.h"
#include "daemon/log.h"
#include "daemon/admit.h"
#include "daemon/store.h"
#include "manager/slot.h"

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
	/* Nobody will read what a cancelled job kept. */
	if (res && !pj->cancelled)
		wb_admit_keep(&c->srv->admit, &pj->job, res);
	c->srv->mem_used -= r->charge;
	if (!pj->cancelled && res && !c->leaving && !c->closed) {
		wb_outq_result(&c->out, res);
		res = NULL;
		conn_check_pause(c);
	} else if (!pj->cancelled && !res) {
		conn_send_error(c, pj->job.id, "manager: out of memory for the result");
	}
	wb_result_free(res);
	free(res);
	wb_admit_release(&c->srv->admit, &r->pins);
	wb_job_free(&pj->job);
	free(r);
	conn_maybe_close(c);
}

/* What a job may hold in the manager from submission to result: its
 * request (the parsed job and the spec memfd are about as large), both
 * output streams in full, and each copy_out file at its size limit. */
static uint64_t side_charge_kb(const struct wb_job *job)
{
	return 2 * job->limits.output_kb + (uint64_t)job->ncopy_out * job->limits.file_size_kb;
}

static size_t job_charge(const struct wb_job *job, size_t line_len)
{
	uint64_t kb = side_charge_kb(job) + (job->interactor ? side_charge_kb(job->interactor) : 0);

	return line_len + sizeof(struct req) + (size_t)(kb > (SIZE_MAX >> 11) ? SIZE_MAX >> 1 : kb << 10);
}

/* A job answered without running: the error, its pins and memory gone. */
static void refuse(struct conn *c, struct req *r, const char *error, enum wb_reject why)
{
	conn_reject(c, r->pj.job.id, error, why);
	wb_admit_release(&c->srv->admit, &r->pins);
	wb_job_free(&r->pj.job);
	free(r);
}

static void handle_job(struct conn *c, const char *line, size_t len)
{
	struct req *r = calloc(1, sizeof(*r));
	char err[WB_ERR_LEN], msg[WB_ERR_LEN + 32];
	int rc;

	if (!r) {
		conn_send_error(c, NULL, "manager: out of memory");
		return;
	}
	rc = wb_job_parse(line, len, &r->pj.job, err, sizeof(err));
	if (rc < 0) {
		char *id = wb_job_peek_id(line, len);

		snprintf(msg, sizeof(msg), "invalid job: %s", err);
		conn_reject(c, id, msg, WB_REJECT_INVALID);
		free(id);
		free(r);
		return;
	}
	if (wb_admit_job(&c->srv->admit, &r->pj, &r->pins, msg, sizeof(msg)) < 0) {
		refuse(c, r, msg, WB_REJECT_INVALID);
		return;
	}
	/* Its request, and room for all the output and files it may bring
	 * back: what is admitted always fits (see job_charge). */
	r->charge = job_charge(&r->pj.job, len);
	if (r->charge > c->srv->cfg.max_memory) {
		snprintf(msg, sizeof(msg), "invalid job: needs %zu MiB of the daemon's memory (the request, "
			 "output_kb twice, file_size_kb per copy_out) and --max-memory is %zu MiB",
			 r->charge >> 20, c->srv->cfg.max_memory >> 20);
		refuse(c, r, msg, WB_REJECT_INVALID);
		return;
	}
	if (c->srv->mem_used + r->charge > c->srv->cfg.max_memory) {
		server_log_refusal(c->srv, REFUSE_MEMORY, "a job was refused: " MEMORY_FULL);
		refuse(c, r, MEMORY_FULL, WB_REJECT_MEMORY);
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
		enum wb_reject why = wb_admit_refusal(&c->srv->admit, rc, msg, sizeof(msg));

		refuse(c, r, msg, why);
	}
}

static void add_hist(cJSON *o, const char *name, const struct wb_hist *h)
{
	cJSON *q = cJSON_AddObjectToObject(o, name);

	cJSON_AddNumberToObject(q, "p50", (double)wb_hist_quantile(h, 0.50));
	cJSON_AddNumberToObject(q, "p99", (double)wb_hist_quantile(h, 0.99));
	cJSON_AddNumberToObject(q, "count", (double)h->count);
}

static void add_store(cJSON *o, const struct wb_store *store)
{
	cJSON *q = cJSON_AddObjectToObject(o, "store");
	struct wb_store_stats st;

	wb_store_stats(store, &st);
	cJSON_AddNumberToObject(q, "entries", (double)st.entries);
	cJSON_AddNumberToObject(q, "bytes", (double)st.bytes);
	cJSON_AddNumberToObject(q, "max_bytes", (double)st.max_bytes);
	cJSON_AddNumberToObject(q, "hits", (double)st.hits);
	cJSON_AddNumberToObject(q, "misses", (double)st.misses);
	cJSON_AddNumberToObject(q, "evictions", (double)st.evictions);
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
	add_store(o, c->srv->store);
	cJSON_AddNumberToObject(o, "uptime_s",
				(double)((wb_clock_now_ns() - s->started_ns) / 1000000000ull));
	json = cJSON_PrintUnformatted(o);
	if (json)
		conn_send_line(c, json);
	free(json);
	cJSON_Delete(o);
}

void op_send_failed(struct conn *c, const char *op, const char *error)
{
	cJSON *o = cJSON_CreateObject();
	char *json;

	cJSON_AddStringToObject(o, "op", op);
	cJSON_AddFalseToObject(o, "ok");
	cJSON_AddStringToObject(o, "error", error);
	json = cJSON_PrintUnformatted(o);
	conn_send_line(c, json ? json : "{\"ok\":false,\"error\":\"manager: out of memory\"}");
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

	/* A job may be megabytes of base64: parsed once, by the job parser,
	 * unless it has "op" unescaped (as a key, or a string "op"). */
	if (!memmem(line, len, "\"op\"", 4))
		return false;
	root = cJSON_ParseWithLength(line, len);
	op = cJSON_GetObjectItemCaseSensitive(root, "op");
	if (!cJSON_IsString(op))
		handled = false;
	else if (strcmp(op->valuestring, "ping") == 0)
		conn_send_line(c, "{\"op\":\"ping\",\"ok\":true}");
	else if (strcmp(op->valuestring, "stats") == 0)
		send_stats(c);
	else if (strcmp(op->valuestring, "jobs") == 0)
		jobsop_send(c);
	else if (!storeop_handle(c, op->valuestring, root, line, len))
		conn_send_error(c, NULL, "unknown op (known: ping, stats, jobs, put, get, drop)");
	cJSON_Delete(root);
	return handled;
}

void request_handle_line(struct conn *c, const char *line, size_t len)
{
	if (!handle_op(c, line, len))
		handle_job(c, line, len);
}
