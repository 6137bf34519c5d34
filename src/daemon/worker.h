/* worker.h: the pool's Redis Streams front end (SPEC "Worker"): jobs read
 * from a stream through a consumer group, each result written to a results
 * stream before its entry is acknowledged. hiredis speaks the protocol. */
#ifndef WB_WORKER_H
#define WB_WORKER_H

#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "daemon/pool.h"
#include "policy/policy.h"

struct wb_worker;

struct wb_worker_cfg {
	const char *host;                /* Redis */
	int port;
	const char *stream, *group, *consumer, *results;
	unsigned places;                 /* entries held at once: read no more */
	unsigned claim_idle_ms;          /* pending this long on any consumer: claimed */
	unsigned max_deliveries;         /* delivered this often: given up */
	const struct wb_policy *policies;
	size_t npolicies;
	uint64_t max_output_kb;
	bool allow_network;              /* network jobs run, each with a pasta of its own */
	uint64_t store_max;
	const char *metrics;             /* HOST:PORT of GET /metrics, or NULL */
};

/* Connects (and keeps reconnecting, with backoff, while Redis is away) and
 * starts reading. -errno with the reason in err. */
int wb_worker_start(uv_loop_t *loop, struct wb_pool *pool, const struct wb_worker_cfg *cfg,
		    struct wb_worker **out, char *err, size_t errlen);

/* No new reads; once every entry held is answered and acknowledged (or
 * the Redis links are gone for good), the links close and drained(data)
 * is called. */
void wb_worker_drain(struct wb_worker *w, void (*drained)(void *data), void *data);

/* A second SIGTERM: the jobs running are ended, nothing more is written;
 * every entry held stays pending in Redis for another worker to claim.
 * drained follows as for wb_worker_drain (which must come first). */
void wb_worker_abort(struct wb_worker *w);

/* After drained was called and the loop has run dry. NULL is a no-op. */
void wb_worker_free(struct wb_worker *w);

#endif
