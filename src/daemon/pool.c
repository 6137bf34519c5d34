/* pool.c: the manager side of many zygotes. A slot is started at start-up
 * and again whenever its zygote dies or is recycled, off any job's path;
 * jobs wait in a bounded queue, one FIFO per client served in turn
 * (fairq.h), until a slot is idle. */
#include "daemon/pool.h"
#include "core/clock.h"

#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "manager/idlock.h"
#include "manager/interact.h"
#include "daemon/log.h"
#include "manager/slot.h"

/* How soon the cgroups of finished jobs are tried again while their last
 * processes exit, so that an idle daemon holds none. */
#define REAP_MS 100
/* Daemon slots take host uids above the ones `warmbox run` usually gets. */
#define FIRST_DAEMON_SLOT 1024
#define RESTART_MAX_MS 10000

enum pstate { PS_STARTING, PS_IDLE, PS_BUSY, PS_DOWN };

struct pslot {
	struct wb_pool *pool;
	unsigned n;
	unsigned idx;            /* host slot number: uid and cgroup */
	int lock;
	struct wb_slot *slot;
	enum pstate state;
	unsigned jobs;           /* jobs run by the current zygote */
	unsigned failures;       /* starts in a row that never got warm */
	struct wb_pool_job *running;
	int side;                /* of running: WB_SIDE_PROGRAM or WB_SIDE_INTERACTOR */
	uv_timer_t restart;
};

struct wb_pool {
	uv_loop_t *loop;
	struct wb_pool_cfg cfg;
	struct pslot *slots;
	struct wb_fairq queue;
	unsigned running;
	unsigned timers;         /* restart and reaper timers not yet closed */
	uv_timer_t reaper;
	struct removal *removing; /* job cgroups being removed on a thread */
	bool closing;
	void (*closed)(void *data);
	void *closed_data;
	struct wb_stats stats;
};

/* Finished jobs' cgroups, removed on libuv's thread pool: an rmdir of a v1
 * memory cgroup waits ~10 ms for an RCU grace period, which on the loop
 * delayed the next job by as much (cgroup.h). */
struct removal {
	uv_work_t w;
	struct wb_pool *pool;
	char **dirs;
	size_t n;
	int errs[];
};

static void dispatch(struct wb_pool *pool);
static void slot_start(struct pslot *ps);
static void remove_start(struct wb_pool *pool);

static void on_restart(uv_timer_t *t)
{
	slot_start(t->data);
}

/* The result of a job, or of one side, that never ran; NULL on ENOMEM. */
static struct wb_result *xx_result(struct wb_pool *pool, const char *id, const char *why)
{
	struct wb_result *res = calloc(1, sizeof(*res));

	if (res) {
		res->id = id;
		res->status = WB_STATUS_XX;
		res->exit_code = -1;
		res->error = strdup(why);
		res->accounting = wb_accounting_name(wb_cgroup_mode(pool->cfg.cg));
	}
	return res;
}

/* Answers a job that never ran. */
static void answer_xx(struct wb_pool *pool, struct wb_pool_job *pj, const char *why)
{
	if (pj->cancelled)
		pool->stats.cancelled++;
	else
		pool->stats.by_status[WB_STATUS_XX]++;
	pj->done(pj, xx_result(pool, pj->job.id, why));
}

static void maybe_closed(struct wb_pool *pool)
{
	if (!pool->closing || pool->running || pool->timers || pool->removing || !pool->closed)
		return;
	for (unsigned i = 0; i < pool->cfg.zygotes; i++)
		if (pool->slots[i].slot)
			return;
	pool->closed(pool->closed_data);
	pool->closed = NULL;
}

/* Takes the zygote down; a new one is started unless the pool is closing.
 * A job in flight is answered (XX) by wb_slot_close through on_done. */
static void slot_down(struct pslot *ps, bool replace)
{
	struct wb_pool *pool = ps->pool;
	struct wb_slot *slot = ps->slot;
	unsigned delay = 0;

	if (!slot)
		return;
	if (ps->state == PS_STARTING)
		ps->failures++;
	ps->state = PS_DOWN;
	ps->slot = NULL;
	wb_slot_close(slot);
	if (pool->closing) {
		maybe_closed(pool);
		return;
	}
	if (replace)
		pool->stats.zygotes_replaced++;
	/* A zygote that cannot even start must not make us spin. */
	if (ps->failures)
		delay = ps->failures * 1000 > RESTART_MAX_MS ? RESTART_MAX_MS : ps->failures * 1000;
	uv_timer_start(&ps->restart, on_restart, delay, 0);
}

static void on_state(struct wb_slot *slot, int err, const char *msg, void *data)
{
	struct pslot *ps = data;

	(void)slot;
	if (err == 0) {
		if (ps->state == PS_STARTING) {
			ps->state = PS_IDLE;
			ps->failures = 0;
		}
		dispatch(ps->pool);
		return;
	}
	wb_log(WB_LOG_WARN, "zygote %u (slot %u): %s; replacing it", ps->n, ps->idx, msg);
	slot_down(ps, true);
	dispatch(ps->pool);
}

static void on_reap(uv_timer_t *t)
{
	remove_start(t->data);
}

static void remove_work(uv_work_t *w)
{
	struct removal *r = w->data;

	wb_cgroup_remove(r->dirs, r->n, r->errs);
}

static void remove_done(uv_work_t *w, int status)
{
	struct removal *r = w->data;
	struct wb_pool *pool = r->pool;
	size_t busy = 0;

	for (size_t i = 0; i < r->n; i++) {
		if (status == 0 && r->errs[i] != EBUSY)
			free(r->dirs[i]);
		else
			r->dirs[busy++] = r->dirs[i];
	}
	wb_cgroup_graves_return(pool->cfg.cg, r->dirs, busy);
	free(r);
	pool->removing = NULL;
	if (pool->closing) {
		maybe_closed(pool);
		return;
	}
	/* Those whose last processes are still exiting, a little later;
	 * those of jobs that ended meanwhile, now. */
	if (busy)
		uv_timer_start(&pool->reaper, on_reap, REAP_MS, 0);
	else
		remove_start(pool);
}

static void remove_start(struct wb_pool *pool)
{
	struct removal *r;
	char **dirs;
	size_t n;

	if (pool->removing || pool->closing || uv_is_active((uv_handle_t *)&pool->reaper))
		return;
	n = wb_cgroup_graves_take(pool->cfg.cg, &dirs);
	if (!n)
		return;
	r = malloc(sizeof(*r) + n * sizeof(r->errs[0]));
	if (r) {
		r->pool = pool;
		r->dirs = dirs;
		r->n = n;
		r->w.data = r;
		if (uv_queue_work(pool->loop, &r->w, remove_work, remove_done) == 0) {
			pool->removing = r;
			return;
		}
		free(r);
	}
	wb_cgroup_graves_return(pool->cfg.cg, dirs, n);
	uv_timer_start(&pool->reaper, on_reap, REAP_MS, 0);
}

/* The whole job has ended: its answer and the figures. */
static void job_finished(struct wb_pool *pool, struct wb_pool_job *pj, struct wb_result *res)
{
	uint64_t lat, run;

	pool->running--;
	pool->stats.jobs_run++;
	if (pj->cancelled)
		pool->stats.cancelled++;
	else if (res) {
		pool->stats.by_status[res->status]++;
		lat = (wb_clock_now_ns() - pj->submitted_ns) / 1000;
		run = (wb_clock_now_ns() - pj->dispatched_ns) / 1000;
		wb_hist_add(&pool->stats.latency, lat);
		wb_hist_add(&pool->stats.overhead, run > res->wall_ms * 1000 ? run - res->wall_ms * 1000 : 0);
	}
	pj->done(pj, res);
}

/* One side's end; the job's once both sides of an interactive one ended. */
static void on_done(struct wb_slot *slot, struct wb_result *res, void *data)
{
	struct pslot *ps = data;
	struct wb_pool *pool = ps->pool;
	struct wb_pool_job *pj = ps->running;

	(void)slot;
	ps->running = NULL;
	ps->jobs++;
	pj->slots[ps->side] = NULL;
	pj->results[ps->side] = res;
	if (--pj->sides_left == 0)
		job_finished(pool, pj, pj->job.interactor ? wb_interact_merge(pj->results[WB_SIDE_PROGRAM],
									      pj->results[WB_SIDE_INTERACTOR])
							  : res);
	remove_start(pool);
	if (ps->state == PS_BUSY)
		ps->state = PS_IDLE;
	if (ps->state == PS_IDLE &&
	    (pool->closing || (pool->cfg.recycle_after && ps->jobs >= pool->cfg.recycle_after)))
		slot_down(ps, false);
	dispatch(pool);
	maybe_closed(pool);
}

/* An idle slot other than not, those with a spare ready first. */
static struct pslot *pick_slot(struct wb_pool *pool, const struct pslot *not)
{
	struct pslot *idle = NULL;

	for (unsigned i = 0; i < pool->cfg.zygotes; i++) {
		struct pslot *ps = &pool->slots[i];

		if (ps->state != PS_IDLE || ps == not)
			continue;
		if (wb_slot_spare_ready(ps->slot))
			return ps;
		if (!idle)
			idle = ps;
	}
	return idle;
}

static struct wb_pool_job *job_of(struct wb_fairq_item *it)
{
	return it ? (struct wb_pool_job *)((char *)it - offsetof(struct wb_pool_job, item)) : NULL;
}

static void side_started(struct wb_pool_job *pj, struct pslot *ps, int side)
{
	pj->slots[side] = ps;
	pj->sides_left++;
	ps->running = pj;
	ps->side = side;
	ps->state = PS_BUSY;
}

/* Both sides at once: the pipes between them exist only while both are
 * being sent. An interactor that could not be sent is answered XX; the
 * program, finding its pipes closed, ends in its own time. */
static int start_sides(struct wb_pool *pool, struct wb_pool_job *pj, struct pslot *ps[WB_SIDES])
{
	const struct wb_policy *policy[WB_SIDES] = {pj->policy, pj->ipolicy};
	const struct wb_job *job[WB_SIDES] = {&pj->job, pj->job.interactor};
	struct wb_slot_wiring w[WB_SIDES];
	char why[128];
	int rc;

	if ((rc = wb_interact_wire(w)) < 0)
		return rc;
	for (int i = 0; i < WB_SIDES; i++) {
		rc = wb_slot_submit(ps[i]->slot, job[i], policy[i], &w[i], pool->cfg.trace, on_done, ps[i]);
		if (rc == 0) {
			side_started(pj, ps[i], i);
		} else if (i == WB_SIDE_INTERACTOR) {
			snprintf(why, sizeof(why), "sandbox: cannot send the interactor: %s", strerror(-rc));
			pj->results[i] = xx_result(pool, NULL, why);
			rc = 0;
		} else {
			break;
		}
	}
	wb_interact_unwire(w);
	return rc;
}

static void dispatch(struct wb_pool *pool)
{
	while (pool->queue.queued && pool->running < pool->cfg.max_jobs) {
		struct wb_pool_job *pj = job_of(wb_fairq_peek(&pool->queue));
		struct pslot *ps[WB_SIDES] = {NULL, NULL};
		int rc;

		/* The next job keeps its turn until it has the slots it needs. */
		if (!pj || !(ps[0] = pick_slot(pool, NULL)) ||
		    (pj->job.interactor && !(ps[1] = pick_slot(pool, ps[0]))))
			return;
		wb_fairq_take(&pool->queue);
		pj->sides_left = 0;
		pj->results[0] = pj->results[1] = NULL;
		if (pj->job.interactor)
			rc = start_sides(pool, pj, ps);
		else if ((rc = wb_slot_submit(ps[0]->slot, &pj->job, pj->policy, NULL, pool->cfg.trace, on_done,
					      ps[0])) == 0)
			side_started(pj, ps[0], WB_SIDE_PROGRAM);
		if (rc < 0) {
			char why[128];

			snprintf(why, sizeof(why), "sandbox: cannot send the job: %s", strerror(-rc));
			answer_xx(pool, pj, why);
			continue;
		}
		pj->dispatched_ns = wb_clock_now_ns();
		pool->running++;
	}
}

static void slot_start(struct pslot *ps)
{
	struct wb_pool *pool = ps->pool;
	struct wb_slot_cfg cfg = {.idx = ps->idx, .binds = pool->cfg.binds, .nbinds = pool->cfg.nbinds,
				  .cg = pool->cfg.cg};
	char err[256];
	int rc;

	if (pool->closing)
		return;
	ps->jobs = 0;
	ps->state = PS_STARTING;
	rc = wb_slot_start(pool->loop, &cfg, on_state, ps, &ps->slot, err, sizeof(err));
	if (rc < 0) {
		wb_log(WB_LOG_ERROR, "zygote %u (slot %u): %s", ps->n, ps->idx, err);
		ps->failures++;
		ps->state = PS_DOWN;
		ps->slot = NULL;
		uv_timer_start(&ps->restart, on_restart,
			       ps->failures * 1000 > RESTART_MAX_MS ? RESTART_MAX_MS : ps->failures * 1000, 0);
	}
}

int wb_pool_start(uv_loop_t *loop, const struct wb_pool_cfg *cfg, struct wb_pool **out)
{
	struct wb_pool *pool = calloc(1, sizeof(*pool));
	int rc;

	*out = NULL;
	if (!pool)
		return -ENOMEM;
	pool->loop = loop;
	pool->cfg = *cfg;
	pool->stats.started_ns = wb_clock_now_ns();
	pool->slots = calloc(cfg->zygotes, sizeof(*pool->slots));
	if (!pool->slots) {
		free(pool);
		return -ENOMEM;
	}
	uv_timer_init(loop, &pool->reaper);
	pool->reaper.data = pool;
	pool->timers++;
	for (unsigned i = 0; i < cfg->zygotes; i++) {
		struct pslot *ps = &pool->slots[i];

		ps->pool = pool;
		ps->n = i;
		ps->lock = -1;
		ps->idx = FIRST_DAEMON_SLOT + i;
		ps->state = PS_DOWN;
		uv_timer_init(loop, &ps->restart);
		ps->restart.data = ps;
		pool->timers++;
		/* As root a slot is a host uid: claimed for our lifetime. */
		if (geteuid() == 0) {
			rc = wb_idlock_acquire(ps->idx, &ps->idx);
			if (rc < 0) {
				wb_log(WB_LOG_ERROR, "no free slot in " WB_IDLOCK_DIR ": %s", strerror(-rc));
				*out = pool;
				return rc;
			}
			ps->lock = rc;
		}
	}
	for (unsigned i = 0; i < cfg->zygotes; i++)
		slot_start(&pool->slots[i]);
	*out = pool;
	return 0;
}

/* Held jobs (their client reads no results) keep their place but take no
 * queue room, and a full queue still takes a job from a client under its
 * share: a client that floods the queue or stops reading must not shut
 * every other client out with "queue full". */
int wb_pool_submit(struct wb_pool *pool, struct wb_pool_job *pj)
{
	if (pool->closing)
		return -ESHUTDOWN;
	if (pj->job.interactor && pool->cfg.zygotes < WB_SIDES)
		return -EXDEV;
	/* A job that can start at once waits in no queue: --queue 0 means
	 * that none waits, not that none runs. */
	if (!(pool->running < pool->cfg.max_jobs && wb_fairq_unheld(&pool->queue) == 0) &&
	    wb_fairq_full(&pool->queue, pj->source, pool->cfg.queue_max))
		return -EAGAIN;
	pj->slots[0] = pj->slots[1] = NULL;
	pj->cancelled = false;
	pj->submitted_ns = wb_clock_now_ns();
	wb_fairq_push(&pool->queue, pj->source, &pj->item);
	dispatch(pool);
	return 0;
}

void wb_pool_kick(struct wb_pool *pool)
{
	dispatch(pool);
}

void wb_pool_cancel(struct wb_pool *pool, struct wb_pool_job *pj)
{
	pj->cancelled = true;
	if (pj->slots[0] || pj->slots[1]) {
		for (int i = 0; i < WB_SIDES; i++)
			if (pj->slots[i])
				wb_slot_kill_job(pj->slots[i]->slot);
	} else if (wb_fairq_remove(&pool->queue, &pj->item))
		answer_xx(pool, pj, "cancelled: the client went away");
}

void wb_pool_state(const struct wb_pool *pool, struct wb_pool_state *st)
{
	memset(st, 0, sizeof(*st));
	st->zygotes = pool->cfg.zygotes;
	st->queued = pool->queue.queued;
	st->accounting = wb_cgroup_mode(pool->cfg.cg);
	for (unsigned i = 0; i < pool->cfg.zygotes; i++) {
		const struct pslot *ps = &pool->slots[i];

		st->busy += ps->state == PS_BUSY;
		st->starting += ps->state == PS_STARTING || ps->state == PS_DOWN;
		st->warm += ps->state == PS_IDLE && wb_slot_spare_ready(ps->slot);
	}
}

void wb_pool_each_running(const struct wb_pool *pool,
			  void (*fn)(const struct wb_pool_side *side, void *data), void *data)
{
	for (unsigned i = 0; i < pool->cfg.zygotes; i++) {
		const struct pslot *ps = &pool->slots[i];
		struct wb_pool_side side;

		if (ps->state != PS_BUSY || !ps->running || !ps->slot)
			continue;
		side = (struct wb_pool_side){.pj = ps->running, .side = ps->side, .zygote = ps->n,
					     .pid = wb_slot_job_pid(ps->slot)};
		fn(&side, data);
	}
}

struct wb_stats *wb_pool_stats(struct wb_pool *pool)
{
	return &pool->stats;
}

static void timer_closed(uv_handle_t *h)
{
	struct pslot *ps = h->data;
	struct wb_pool *pool = ps->pool;

	pool->timers--;
	wb_idlock_release(ps->lock);
	ps->lock = -1;
	maybe_closed(pool);
}

static void reaper_closed(uv_handle_t *h)
{
	struct wb_pool *pool = h->data;

	pool->timers--;
	maybe_closed(pool);
}

void wb_pool_close(struct wb_pool *pool, void (*closed)(void *data), void *data)
{
	if (pool->closing)
		return;
	pool->closing = true;
	pool->closed = closed;
	pool->closed_data = data;
	/* Held jobs too: nothing queued outlives the pool. */
	while (pool->queue.turn) {
		struct wb_fairq_item *it = pool->queue.turn->head;

		wb_fairq_remove(&pool->queue, it);
		answer_xx(pool, job_of(it), "the daemon is shutting down");
	}
	/* What is left to remove goes with the manager's tree (cgroup.c). */
	uv_close((uv_handle_t *)&pool->reaper, reaper_closed);
	for (unsigned i = 0; i < pool->cfg.zygotes; i++) {
		struct pslot *ps = &pool->slots[i];

		uv_timer_stop(&ps->restart);
		uv_close((uv_handle_t *)&ps->restart, timer_closed);
		if (ps->state != PS_BUSY)
			slot_down(ps, false);
	}
	maybe_closed(pool);
}

void wb_pool_abort(struct wb_pool *pool)
{
	for (unsigned i = 0; i < pool->cfg.zygotes; i++)
		if (pool->slots[i].state == PS_BUSY)
			wb_slot_kill_job(pool->slots[i].slot);
}

void wb_pool_free(struct wb_pool *pool)
{
	if (!pool)
		return;
	free(pool->slots);
	free(pool);
}
