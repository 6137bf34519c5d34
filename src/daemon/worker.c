/* worker.c: two Redis links (redislink.c): one blocks in XREADGROUP for
 * as many entries as there are free places, the other writes each result
 * (XADD) and only then acknowledges its entry (XACK), so a worker that
 * dies in between causes a rerun, never a lost job. Results wait in a
 * queue while Redis is away. */
#include "daemon/worker_impl.h"

#include <errno.h>
#include <hiredis/async.h>
#include <hiredis/hiredis.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/job.h"
#include "core/render.h"
#include "daemon/admit.h"
#include "daemon/log.h"
#include "daemon/metrics.h"
#include "daemon/store.h"

/* How long one XREADGROUP waits for entries: also how long a drain may
 * wait for the read in flight. */
#define READ_BLOCK_MS 1000

static void read_more(struct wb_worker *w);
static void flush(struct wb_worker *w);
static void maybe_drained(struct wb_worker *w);

/* ---- answering ---- */

static void answer(struct entry *e, char *line)
{
	struct wb_worker *w = e->w;

	if (w->aborting) {
		free(line);
		worker_let_go(e);
		return;
	}
	e->result = line;
	e->next = NULL;
	*w->answered_tail = e;
	w->answered_tail = &e->next;
	flush(w);
}

/* An entry answered without running: an XX result naming the job. */
void worker_answer_error(struct entry *e, const char *id, const char *error, enum wb_reject why)
{
	struct wb_result r = {.id = id, .status = WB_STATUS_XX, .exit_code = -1, .error = (char *)error};

	wb_stats_reject(wb_pool_stats(e->w->pool), why);
	answer(e, wb_render_line(&r));
}

static void hold(struct wb_worker *w, struct entry *e)
{
	e->hnext = w->held_list;
	if (w->held_list)
		w->held_list->hprev = e;
	w->held_list = e;
	w->held++;
}

static void entry_free(struct entry *e)
{
	struct wb_worker *w = e->w;

	if (e->hprev)
		e->hprev->hnext = e->hnext;
	else if (w && w->held_list == e)
		w->held_list = e->hnext;
	if (e->hnext)
		e->hnext->hprev = e->hprev;
	wb_job_free(&e->pj.job);
	free(e->publish);
	free(e->id);
	free(e->result);
	free(e);
}

void worker_let_go(struct entry *e)
{
	struct wb_worker *w = e->w;

	w->held--;
	entry_free(e);
	read_more(w);
	worker_claim_more(w);
	maybe_drained(w);
}

/* The last delivery's sandbox failure is the answer, saying so. */
static void give_up_on(struct wb_result *res, unsigned deliveries)
{
	char *error;

	if (asprintf(&error, "given up after %u deliveries: %s", deliveries, res->error ? res->error : "XX") < 0)
		return;
	free(res->error);
	res->error = error;
}

void worker_give_up(struct wb_worker *w, const char *id, const char *text, size_t len, const char *error)
{
	struct entry *e = calloc(1, sizeof(*e));
	struct wb_result r = {.status = WB_STATUS_XX, .exit_code = -1, .error = (char *)error};
	char *jid = text ? wb_job_peek_id(text, len) : NULL;

	if (!e || !(e->id = strdup(id))) {
		free(e);
		free(jid);
		return;
	}
	e->w = w;
	hold(w, e);
	r.id = jid;
	answer(e, wb_render_line(&r));
	free(jid);
}

bool worker_holds(const struct wb_worker *w, const char *id)
{
	for (const struct entry *e = w->held_list; e; e = e->hnext)
		if (strcmp(e->id, id) == 0)
			return true;
	return false;
}

static void on_job_done(struct wb_pool_job *pj, struct wb_result *res)
{
	struct entry *e = (struct entry *)pj;
	struct wb_worker *w = e->w;
	char *line;

	if (res) {
		wb_admit_keep(&w->admit, &pj->job, res);
		worker_note_kept(e, res);
	}
	wb_admit_release(&w->admit, &e->pins);
	/* A sandbox failure may be this host's alone (a zygote killed from
	 * outside, no cgroup to be had): the entry stays pending for another
	 * delivery, here or on another worker, until the last one. */
	if (w->aborting || (res && res->status == WB_STATUS_XX && e->deliveries < w->cfg.max_deliveries)) {
		if (!w->aborting)
			wb_log(WB_LOG_WARN, "entry %s: %s (delivery %u of %u); left pending for another", e->id,
			       res && res->error ? res->error : "XX", e->deliveries, w->cfg.max_deliveries);
		wb_result_free(res);
		free(res);
		worker_let_go(e);
		return;
	}
	if (res && res->status == WB_STATUS_XX)
		give_up_on(res, e->deliveries);
	if (res) {
		line = wb_render_line(res);
	} else {
		struct wb_result xx = {.id = pj->job.id, .status = WB_STATUS_XX, .exit_code = -1,
				       .error = "manager: out of memory for the result"};

		line = wb_render_line(&xx);
	}
	wb_result_free(res);
	free(res);
	answer(e, line);
}

void worker_take_entry(struct wb_worker *w, const char *id, const char *text, size_t len, unsigned deliveries)
{
	struct entry *e = calloc(1, sizeof(*e));
	char err[WB_ERR_LEN], msg[WB_ERR_LEN + 32];

	if (!e || !(e->id = strdup(id))) {
		/* Left pending: a claim runs it later. */
		wb_log(WB_LOG_ERROR, "out of memory for entry %s", id);
		free(e);
		return;
	}
	e->w = w;
	e->deliveries = deliveries;
	hold(w, e);
	if (!text) {
		worker_answer_error(e, NULL, "invalid job: the entry has no field \"job\"", WB_REJECT_INVALID);
		return;
	}
	if (wb_job_parse(text, len, &e->pj.job, err, sizeof(err)) < 0) {
		char *jid = wb_job_peek_id(text, len);

		snprintf(msg, sizeof(msg), "invalid job: %s", err);
		worker_answer_error(e, jid, msg, WB_REJECT_INVALID);
		free(jid);
		return;
	}
	/* Refs this host lacks come from Redis first (redisfiles.c). */
	if (worker_fetch_refs(w, e) == 0)
		worker_run_entry(w, e);
}

void worker_run_entry(struct wb_worker *w, struct entry *e)
{
	char msg[WB_ERR_LEN + 32];
	int rc;

	if (wb_admit_job(&w->admit, &e->pj, &e->pins, msg, sizeof(msg)) < 0) {
		worker_answer_error(e, e->pj.job.id, msg, WB_REJECT_INVALID);
		return;
	}
	e->pj.done = on_job_done;
	e->pj.source = &w->source;
	if ((rc = wb_pool_submit(w->pool, &e->pj)) < 0) {
		enum wb_reject why = wb_admit_refusal(&w->admit, rc, msg, sizeof(msg));

		wb_admit_release(&w->admit, &e->pins);
		/* No room now, or stopping: not the job's fault, and never an
		 * answer that loses it. It stays pending for another delivery. */
		if (rc == -EAGAIN || rc == -ESHUTDOWN)
			worker_let_go(e);
		else
			worker_answer_error(e, e->pj.job.id, msg, why);
	}
}

/* ---- writing results ---- */

static void on_xack(redisAsyncContext *ac, void *reply, void *data)
{
	struct entry *e = data;
	struct wb_worker *w = e->w;
	redisReply *r = reply;

	(void)ac;
	e->sent = false;
	if (!r || r->type == REDIS_REPLY_ERROR) {
		if (r)
			wb_log(WB_LOG_WARN, "XACK %s: %s", e->id, r->str);
		return; /* retried when the link is back */
	}
	/* Answered and acknowledged: the entry is done with. */
	w->answered = e->next;
	if (!w->answered)
		w->answered_tail = &w->answered;
	w->held--;
	entry_free(e);
	flush(w);
	read_more(w);
	worker_claim_more(w);
	maybe_drained(w);
}

static void on_xadd(redisAsyncContext *ac, void *reply, void *data)
{
	struct entry *e = data;
	redisReply *r = reply;

	e->sent = false;
	if (!r || r->type == REDIS_REPLY_ERROR) {
		if (r)
			wb_log(WB_LOG_WARN, "XADD %s: %s", e->w->cfg.results, r->str);
		/* The files go again with the next try. */
		e->published = false;
		return;
	}
	e->added = true;
	flush(e->w);
	(void)ac;
}

/* The oldest answered entry goes next: its result, then its XACK; one at
 * a time keeps them in order, and nothing is acknowledged unwritten. */
static void flush(struct wb_worker *w)
{
	struct link *l = &w->link[LINK_WRITE];
	struct entry *e = w->answered;
	int rc;

	if (!e || e->sent || !l->up)
		return;
	if (!e->added) {
		const char *argv[] = {"XADD", w->cfg.results, "*", "result", e->result, "entry", e->id};

		/* Its kept files first: whoever reads the result finds them. */
		worker_publish(w, e);
		size_t lens[] = {4, strlen(w->cfg.results), 1, 6, strlen(e->result), 5, strlen(e->id)};

		rc = redisAsyncCommandArgv(l->ac, on_xadd, e, 7, argv, lens);
	} else {
		rc = redisAsyncCommand(l->ac, on_xack, e, "XACK %s %s %s", w->cfg.stream, w->cfg.group, e->id);
	}
	if (rc == REDIS_OK)
		e->sent = true;
}

/* ---- reading entries ---- */

const char *worker_field(const redisReply *fields, const char *name, size_t *len)
{
	for (size_t i = 0; fields && fields->type == REDIS_REPLY_ARRAY && i + 1 < fields->elements; i += 2) {
		const redisReply *k = fields->element[i], *v = fields->element[i + 1];

		if (k->type == REDIS_REPLY_STRING && strcmp(k->str, name) == 0 && v->type == REDIS_REPLY_STRING) {
			*len = v->len;
			return v->str;
		}
	}
	return NULL;
}

static void on_group(redisAsyncContext *ac, void *reply, void *data)
{
	struct wb_worker *w = data;
	redisReply *r = reply;

	(void)ac;
	w->reading = false;
	if (r && r->type == REDIS_REPLY_ERROR && strncmp(r->str, "BUSYGROUP", 9) != 0) {
		/* Tried again at the next tick, not in a loop. */
		wb_log(WB_LOG_ERROR, "XGROUP CREATE %s %s: %s", w->cfg.stream, w->cfg.group, r->str);
		maybe_drained(w);
		return;
	}
	if (r)
		w->group_checked = true;
	read_more(w);
	maybe_drained(w);
}

static void on_read(redisAsyncContext *ac, void *reply, void *data)
{
	struct wb_worker *w = data;
	redisReply *r = reply;

	(void)ac;
	w->reading = false;
	if (r && r->type == REDIS_REPLY_ERROR) {
		/* Tried again at the next tick, not in a loop (-LOADING,
		 * -READONLY after a failover...). */
		wb_log(WB_LOG_WARN, "XREADGROUP: %s", r->str);
		w->group_checked = strncmp(r->str, "NOGROUP", 7) != 0;
		maybe_drained(w);
		return;
	}
	if (r && r->type == REDIS_REPLY_ARRAY) {
		/* [[stream, [[id, [field, value, ...]], ...]]] */
		for (size_t s = 0; s < r->elements; s++) {
			const redisReply *st = r->element[s], *entries;

			if (st->type != REDIS_REPLY_ARRAY || st->elements != 2)
				continue;
			entries = st->element[1];
			for (size_t i = 0; entries->type == REDIS_REPLY_ARRAY && i < entries->elements; i++) {
				const redisReply *en = entries->element[i];
				const char *text;
				size_t len = 0;

				if (en->type != REDIS_REPLY_ARRAY || en->elements != 2 ||
				    en->element[0]->type != REDIS_REPLY_STRING)
					continue;
				text = worker_field(en->element[1], "job", &len);
				worker_take_entry(w, en->element[0]->str, text, len, 1);
			}
		}
	}
	read_more(w);
	maybe_drained(w);
}

/* As many entries as there are free places; the group made first (from
 * the stream's start, so entries added before any worker ran are read). */
static void read_more(struct wb_worker *w)
{
	struct link *l = &w->link[LINK_READ];
	unsigned free_places = w->held < w->cfg.places ? w->cfg.places - w->held : 0;
	int rc;

	if (w->reading || w->draining || !l->up || !free_places)
		return;
	if (!w->group_checked)
		rc = redisAsyncCommand(l->ac, on_group, w, "XGROUP CREATE %s %s 0 MKSTREAM", w->cfg.stream,
				       w->cfg.group);
	else
		rc = redisAsyncCommand(l->ac, on_read, w, "XREADGROUP GROUP %s %s COUNT %u BLOCK %u STREAMS %s >",
				       w->cfg.group, w->cfg.consumer, free_places, (unsigned)READ_BLOCK_MS,
				       w->cfg.stream);
	if (rc == REDIS_OK)
		w->reading = true;
}

/* ---- life ---- */

static void on_timer_closed(uv_handle_t *h)
{
	struct link *l = h->data;

	l->w->handles--;
	maybe_drained(l->w);
}

static void on_claim_closed(uv_handle_t *h)
{
	struct wb_worker *w = h->data;

	w->handles--;
	maybe_drained(w);
}

static void on_metrics_closed(void *data)
{
	struct wb_worker *w = data;

	w->handles--;
	maybe_drained(w);
}

/* The worker has no clients of its own: connections is 0. */
static int render_metrics(void *data, struct wb_buf *out)
{
	struct wb_worker *w = data;

	return wb_metrics_render_pool(w->pool, w->store, 0, out);
}

static void maybe_drained(struct wb_worker *w)
{
	if (!w->draining || w->reading || w->claiming || w->held)
		return;
	if (!w->closing) {
		w->closing = true;
		uv_timer_stop(&w->claim);
		uv_close((uv_handle_t *)&w->claim, on_claim_closed);
		if (w->metrics) {
			wb_metrics_close(w->metrics, on_metrics_closed, w);
			w->metrics = NULL;
		}
		for (int i = 0; i < LINKS; i++) {
			struct link *l = &w->link[i];

			uv_timer_stop(&l->retry);
			uv_close((uv_handle_t *)&l->retry, on_timer_closed);
			/* A link that is up says goodbye (its disconnect callback
			 * follows); one still connecting has nobody to tell. */
			if (l->up) {
				redisAsyncDisconnect(l->ac);
			} else if (l->ac) {
				redisAsyncFree(l->ac);
				l->ac = NULL;
			}
		}
	}
	for (int i = 0; i < LINKS; i++)
		if (w->link[i].ac)
			return;
	if (w->handles || !w->drained)
		return;
	w->drained(w->drained_data);
	w->drained = NULL;
}

void worker_maybe_drained(struct wb_worker *w)
{
	maybe_drained(w);
}

void worker_link_up(struct wb_worker *w, struct link *l)
{
	if (l == &w->link[LINK_READ])
		read_more(w);
	else
		flush(w);
}

void worker_tick(struct wb_worker *w)
{
	flush(w);
	read_more(w);
	worker_heartbeat(w);
	worker_claim_more(w);
}

void wb_worker_abort(struct wb_worker *w)
{
	struct link *l = &w->link[LINK_WRITE];

	w->aborting = true;
	/* Freed now, the link calls back whatever it had on the wire with no
	 * reply: those entries are then not in flight, and go with the rest. */
	if (l->ac) {
		redisAsyncContext *ac = l->ac;

		l->ac = NULL;
		l->up = false;
		redisAsyncFree(ac);
	}
	while (w->answered) {
		struct entry *e = w->answered;

		w->answered = e->next;
		w->held--;
		entry_free(e);
	}
	w->answered_tail = &w->answered;
	maybe_drained(w);
}

void wb_worker_drain(struct wb_worker *w, void (*drained)(void *data), void *data)
{
	w->draining = true;
	w->drained = drained;
	w->drained_data = data;
	maybe_drained(w);
}

int wb_worker_start(uv_loop_t *loop, struct wb_pool *pool, const struct wb_worker_cfg *cfg,
		    struct wb_worker **out, char *err, size_t errlen)
{
	struct wb_worker *w = calloc(1, sizeof(*w));
	int rc;

	*out = NULL;
	if (!w)
		return -ENOMEM;
	w->loop = loop;
	w->pool = pool;
	w->cfg = *cfg;
	w->answered_tail = &w->answered;
	if ((rc = wb_store_new(cfg->store_max, &w->store)) < 0) {
		snprintf(err, errlen, "cannot make the file store: %s", strerror(-rc));
		free(w);
		return rc;
	}
	w->admit = (struct wb_admit){.policies = cfg->policies, .npolicies = cfg->npolicies,
				     .max_output_kb = cfg->max_output_kb, .store = w->store,
				     .allow_network = cfg->allow_network,
				     .command = "warmbox worker"};
	if (cfg->metrics && (rc = wb_metrics_listen(loop, cfg->metrics, render_metrics, w, &w->metrics, err,
						    errlen)) < 0) {
		wb_store_free(w->store);
		free(w);
		return rc;
	}
	if (w->metrics)
		w->handles++;
	uv_timer_init(loop, &w->claim);
	w->claim.data = w;
	w->handles++;
	worker_claim_start(w);
	for (int i = 0; i < LINKS; i++) {
		w->link[i].w = w;
		uv_timer_init(loop, &w->link[i].retry);
		w->link[i].retry.data = &w->link[i];
		w->handles++;
		worker_link_connect(&w->link[i]);
	}
	*out = w;
	return 0;
}

void wb_worker_free(struct wb_worker *w)
{
	if (!w)
		return;
	wb_store_free(w->store);
	free(w);
}
