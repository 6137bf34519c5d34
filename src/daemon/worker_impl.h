/* worker_impl.h: what worker.c (reading, running, writing), redislink.c
 * (the links), claim.c (entries left pending, the heartbeat) and
 * redisfiles.c (refs through Redis) share; worker.h is public. */
#ifndef WB_WORKER_IMPL_H
#define WB_WORKER_IMPL_H

#include <hiredis/async.h>
#include <hiredis/hiredis.h>
#include <stdbool.h>

#include "daemon/admit.h"
#include "daemon/worker.h"

enum { LINK_READ, LINK_WRITE, LINKS };

struct link {
	struct wb_worker *w;
	redisAsyncContext *ac;           /* NULL while down */
	bool up;
	unsigned backoff_ms;
	uv_timer_t retry;                /* the next connect, or the one in progress's timeout */
};

/* One stream entry held: from its read to its acknowledgement. */
struct entry {
	struct wb_pool_job pj;           /* first: the pool's done callback gets it */
	struct wb_worker *w;
	struct wb_pins pins;
	char *id;                        /* the stream entry's id */
	char *result;                    /* the result line, once answered */
	unsigned deliveries;             /* this one included */
	unsigned fetching;               /* refs being fetched from Redis */
	bool fetch_lost;                 /* the link went while fetching */
	char fetch_error[160];           /* the first ref that could not be had */
	char (*publish)[WB_REF_LEN + 1]; /* refs kept, to set in Redis before the result */
	size_t npublish;
	bool published;
	bool sent;                       /* XADD or XACK on the wire */
	bool added;                      /* XADD done: XACK next */
	struct entry *next;              /* in the queue of answered entries */
	struct entry *hprev, *hnext;     /* in the list of entries held */
};

struct wb_worker {
	uv_loop_t *loop;
	struct wb_pool *pool;
	struct wb_worker_cfg cfg;
	struct wb_store *store;
	struct wb_admit admit;
	struct wb_fairq_src source;
	struct link link[LINKS];
	unsigned held;                   /* entries read and not yet acknowledged */
	struct entry *held_list;         /* those entries, for the heartbeat (claim.c) */
	bool reading, group_checked, draining, closing, aborting;
	bool claiming;                   /* XPENDING/XCLAIM on the wire */
	uv_timer_t claim;
	struct wb_metrics *metrics;      /* NULL without --metrics */
	struct entry *answered, **answered_tail;
	int handles;                     /* the retry and claim timers, the metrics listener */
	void (*drained)(void *data);
	void *drained_data;
};

/* An entry's "job" field (NULL: none), run as the socket server runs a
 * line, or answered at once when invalid; deliveries counts this one. */
void worker_take_entry(struct wb_worker *w, const char *id, const char *text, size_t len, unsigned deliveries);

/* An entry answered XX with error without running, then acknowledged;
 * text is its job, whose id the answer names (NULL: none). */
void worker_give_up(struct wb_worker *w, const char *id, const char *text, size_t len, const char *error);

/* The claim timer's tick (claim.c): results not yet written and reads
 * that failed are tried again, the entries held are marked alive, the
 * entries others left are claimed. */
void worker_tick(struct wb_worker *w);
/* Resets the idle time of every entry held here (XCLAIM JUSTID), so that
 * no worker claims a job that is still running or waiting to be written. */
void worker_heartbeat(struct wb_worker *w);
/* Whether this worker holds the entry. */
bool worker_holds(const struct wb_worker *w, const char *id);
/* The drain's check, after any reply that may have been the last awaited. */
void worker_maybe_drained(struct wb_worker *w);

/* redislink.c: connects l (again, with backoff, whenever it is lost). */
void worker_link_connect(struct link *l);
/* worker.c: l is connected: reading starts, or writing resumes. */
void worker_link_up(struct wb_worker *w, struct link *l);

/* A parsed entry admitted and handed to the pool, or answered. */
void worker_run_entry(struct wb_worker *w, struct entry *e);
/* An entry answered XX without running, the refusal counted for why. */
void worker_answer_error(struct entry *e, const char *id, const char *error, enum wb_reject why);
/* An entry let go unanswered: pending in Redis, claimed again later. */
void worker_let_go(struct entry *e);

/* Refs shared through Redis (redisfiles.c). The refs of e not in this
 * host's store, asked of Redis: the count of requests sent (0: none
 * needed); when they are back, worker_run_entry or an answer follows. */
unsigned worker_fetch_refs(struct wb_worker *w, struct entry *e);
/* Notes the refs the result kept (both sides). */
void worker_note_kept(struct entry *e, const struct wb_result *res);
/* Sets each noted ref's bytes in Redis (once per try). */
void worker_publish(struct wb_worker *w, struct entry *e);

/* A field's value in an entry's [field, value, ...] reply; NULL if absent. */
const char *worker_field(const redisReply *fields, const char *name, size_t *len);

/* Starts claiming what other consumers left pending too long (claim.c). */
void worker_claim_start(struct wb_worker *w);
/* On the claim timer's tick, and when places free up. */
void worker_claim_more(struct wb_worker *w);

#endif
