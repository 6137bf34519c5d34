/* request.c: one line from a client, answered: a job checked against the
 * daemon's limits and memory budget and submitted to the pool, or an
 * {"op": ...} (ping, stats; the store's in storeop.c). */
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

static void unpin_refs(struct wb_server *srv, struct req *r)
{
	while (r->nrefs > 0)
		wb_store_unpin(srv->store, r->refs[--r->nrefs]);
}

/* copy_out entries with keep go into the store: the result names them by
 * ref and size, without the bytes (or says why they could not go). */
static void keep_files(struct wb_server *srv, const struct wb_job *job, struct wb_result *res)
{
	for (size_t i = 0; job->copy_keep && i < res->nfiles && i < job->ncopy_out; i++) {
		struct wb_outfile *f = &res->files[i];
		const char *why = NULL;
		int rc;

		if (!job->copy_keep[i] || f->error || strcmp(f->path, job->copy_out[i]) != 0)
			continue;
		rc = wb_store_put(srv->store, f->data, f->len, f->ref);
		if (rc == -EFBIG)
			why = "keep: larger than the whole store (warmbox serve --store)";
		else if (rc == -ENOSPC)
			why = "keep: the store is full of files that queued and running jobs need";
		else if (rc < 0)
			why = "keep: manager: cannot store the file";
		free(f->data);
		f->data = NULL;
		if (why) {
			f->ref[0] = '\0';
			f->len = 0;
			f->error = strdup(why);
		}
	}
}

static void on_job_done(struct wb_pool_job *pj, struct wb_result *res)
{
	struct req *r = (struct req *)pj;
	struct conn *c = r->conn;

	req_unlink(r);
	/* Nobody will read what a cancelled job kept. */
	if (res && !pj->cancelled) {
		keep_files(c->srv, &pj->job, res);
		if (pj->job.interactor && res->interactor)
			keep_files(c->srv, pj->job.interactor, res->interactor);
	}
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
	unpin_refs(c->srv, r);
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
static uint64_t side_charge_kb(const struct wb_job *job)
{
	return 2 * job->limits.output_kb + (uint64_t)job->ncopy_out * job->limits.file_size_kb;
}

static size_t job_charge(const struct wb_job *job, size_t line_len)
{
	uint64_t kb = side_charge_kb(job) + (job->interactor ? side_charge_kb(job->interactor) : 0);

	return line_len + sizeof(struct req) + (size_t)(kb > (SIZE_MAX >> 11) ? SIZE_MAX >> 1 : kb << 10);
}

/* Files by ref: found in the store and pinned until the job is answered,
 * so that no eviction takes them from a queued job. 0, or -ENOENT with
 * the first missing entry's index in *missing. */
static int pin_side(struct wb_server *srv, struct req *r, struct wb_job *job, size_t *missing)
{
	for (size_t i = 0; i < job->nfiles; i++) {
		struct wb_store_entry *e;

		if (!job->files[i].ref)
			continue;
		e = wb_store_find(srv->store, job->files[i].ref);
		if (!e || r->nrefs == sizeof(r->refs) / sizeof(r->refs[0])) {
			*missing = i;
			return -ENOENT;
		}
		wb_store_pin(e);
		r->refs[r->nrefs++] = e;
		job->files[i].ref_fd = wb_store_entry_fd(e);
	}
	return 0;
}

/* Both sides' refs; the error names the first one missing. 0 or -ENOENT
 * with nothing pinned. */
static int pin_refs(struct wb_server *srv, struct req *r, char *msg, size_t len)
{
	struct wb_job *job = &r->pj.job;
	size_t missing;

	if (pin_side(srv, r, job, &missing) < 0) {
		snprintf(msg, len, "invalid job: files[%zu].ref: not in the store", missing);
	} else if (job->interactor && pin_side(srv, r, job->interactor, &missing) < 0) {
		snprintf(msg, len, "invalid job: interactor: files[%zu].ref: not in the store", missing);
	} else {
		return 0;
	}
	unpin_refs(srv, r);
	return -ENOENT;
}

/* The policies of both sides, by name; NULL message when both are known
 * and the job may run here. */
static const char *check_sides(struct wb_server *srv, struct wb_pool_job *pj)
{
	if (!(pj->policy = find_policy(srv, pj->job.policy)))
		return "invalid job: policy: no such policy";
	if (pj->job.network)
		return "invalid job: network: this daemon runs jobs without network";
	if (!pj->job.interactor)
		return NULL;
	if (!(pj->ipolicy = find_policy(srv, pj->job.interactor->policy)))
		return "invalid job: interactor: policy: no such policy";
	return NULL;
}

/* A job answered without running: the error, its pins and memory gone. */
static void refuse(struct conn *c, struct req *r, const char *error, enum wb_reject why)
{
	conn_reject(c, r->pj.job.id, error, why);
	unpin_refs(c->srv, r);
	wb_job_free(&r->pj.job);
	free(r);
}

static void handle_job(struct conn *c, const char *line, size_t len)
{
	struct req *r = calloc(1, sizeof(*r));
	char err[WB_ERR_LEN], msg[WB_ERR_LEN + 32];
	const char *error;
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
	if ((error = check_sides(c->srv, &r->pj))) {
		refuse(c, r, error, WB_REJECT_INVALID);
		return;
	}
	/* Each stream's output is held whole until the result is written:
	 * the daemon's cap keeps one job from taking gigabytes. */
	if (r->pj.job.limits.output_kb > c->srv->cfg.max_output_kb ||
	    (r->pj.job.interactor && r->pj.job.interactor->limits.output_kb > c->srv->cfg.max_output_kb)) {
		snprintf(msg, sizeof(msg), "invalid job: %slimits.output_kb: at most %llu in this daemon "
			 "(warmbox serve --max-output)",
			 r->pj.job.limits.output_kb > c->srv->cfg.max_output_kb ? "" : "interactor: ",
			 (unsigned long long)c->srv->cfg.max_output_kb);
		refuse(c, r, msg, WB_REJECT_INVALID);
		return;
	}
	if (pin_refs(c->srv, r, msg, sizeof(msg)) < 0) {
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
		if (rc == -EAGAIN)
			refuse(c, r, "queue full: try again later", WB_REJECT_QUEUE_FULL);
		else if (rc == -EXDEV)
			refuse(c, r, "invalid job: interactor: needs two zygotes, one per side, and this daemon has one "
			       "(warmbox serve --zygotes)", WB_REJECT_INVALID);
		else
			refuse(c, r, "the daemon is shutting down", WB_REJECT_SHUTDOWN);
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
	else if (!storeop_handle(c, op->valuestring, root, line, len))
		conn_send_error(c, NULL, "unknown op (known: ping, stats, put, get, drop)");
	cJSON_Delete(root);
	return handled;
}

void request_handle_line(struct conn *c, const char *line, size_t len)
{
	if (!handle_op(c, line, len))
		handle_job(c, line, len);
}
