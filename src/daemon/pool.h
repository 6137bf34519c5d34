/* pool.h: the warm pool: N zygote slots, a bounded queue of jobs, dispatch
 * to idle slots (those with a spare ready first) taking clients in turn, replacement of dead
 * zygotes and recycling of old ones. One libuv loop, no threads. */
#ifndef WB_POOL_H
#define WB_POOL_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <uv.h>

#include "manager/cgroup.h"
#include "core/fairq.h"
#include "core/job.h"
#include "policy/policy.h"
#include "core/result.h"
#include "core/stats.h"

struct wb_pool;
struct wb_pool_job;

/* Called exactly once per submitted job, also when cancelled or when the
 * pool closes; the result is the callee's (wb_result_free + free). */
typedef void (*wb_pool_done_cb)(struct wb_pool_job *pj, struct wb_result *res);

struct wb_pool_job {
	struct wb_job job;               /* filled by the caller */
	const struct wb_policy *policy;
	const struct wb_policy *ipolicy; /* the interactor's, with job.interactor */
	wb_pool_done_cb done;
	void *data;
	struct wb_fairq_src *source;     /* the client: its jobs run in order, clients in turn */
	/* Pool's own. An interactive job runs on two slots, one per side
	 * (manager/interact.h), and is answered when both have ended. */
	struct wb_fairq_item item;
	struct pslot *slots[2];          /* per side, NULL once it ended */
	struct wb_result *results[2];
	unsigned sides_left;
	uint64_t submitted_ns;
	uint64_t dispatched_ns;
	bool cancelled;
};

struct wb_pool_cfg {
	unsigned zygotes;
	unsigned max_jobs;               /* at once; <= zygotes */
	unsigned queue_max;
	unsigned recycle_after;          /* jobs per zygote, 0 = never */
	char *const *binds;              /* union of the policies' binds */
	size_t nbinds;
	struct wb_cgroup *cg;            /* NULL: rlimit accounting */
	bool trace;                      /* add --trace timings to every result */
};

int wb_pool_start(uv_loop_t *loop, const struct wb_pool_cfg *cfg, struct wb_pool **out);

/* 0, -EAGAIN when the queue is full, -ESHUTDOWN when closing, -EXDEV for
 * an interactive job when the pool has one zygote (it needs two). */
int wb_pool_submit(struct wb_pool *pool, struct wb_pool_job *pj);

/* Dispatches again: a held job may go now. */
void wb_pool_kick(struct wb_pool *pool);

/* The client is gone: a queued job is answered at once, a running one is
 * killed; done is still called (with pj->cancelled set). */
void wb_pool_cancel(struct wb_pool *pool, struct wb_pool_job *pj);

struct wb_pool_state {
	unsigned zygotes, warm, busy, starting;
	unsigned queued;
	enum wb_accounting accounting;
};
void wb_pool_state(const struct wb_pool *pool, struct wb_pool_state *st);
struct wb_stats *wb_pool_stats(struct wb_pool *pool);

/* One side of a running job, for {"op":"jobs"}: its zygote and the host
 * pid of its job init (0 while unknown). */
struct wb_pool_side {
	const struct wb_pool_job *pj;
	int side;                        /* WB_SIDE_PROGRAM or WB_SIDE_INTERACTOR */
	unsigned zygote;
	pid_t pid;
};
/* Calls fn for each side of each running job, in slot order. */
void wb_pool_each_running(const struct wb_pool *pool,
			  void (*fn)(const struct wb_pool_side *side, void *data), void *data);

/* Answers queued jobs with XX, lets running ones finish, then kills the
 * zygotes; closed is called once everything is released. */
void wb_pool_close(struct wb_pool *pool, void (*closed)(void *data), void *data);
/* Ends every running job now (their results still come, as XX or killed):
 * a second SIGTERM. */
void wb_pool_abort(struct wb_pool *pool);
/* After closed was called and the loop has run dry. NULL is a no-op. */
void wb_pool_free(struct wb_pool *pool);

#endif
