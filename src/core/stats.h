/* stats.h: the daemon's counters and latency percentiles for {"op":"stats"}.
 * Fixed memory: latencies go into log-scaled buckets, not a list. */
#ifndef WB_STATS_H
#define WB_STATS_H

#include <stdint.h>

#include "core/result.h"

#define WB_HIST_BUCKETS 256 /* up to 2^33 us */

struct wb_hist {
	uint64_t count;
	uint64_t buckets[WB_HIST_BUCKETS];
};

void wb_hist_add(struct wb_hist *h, uint64_t us);
/* The q-quantile (0..1) in microseconds, the upper edge of its bucket
 * (within ~9%); 0 when empty. */
uint64_t wb_hist_quantile(const struct wb_hist *h, double q);

struct wb_stats {
	uint64_t started_ns;
	uint64_t jobs_run;
	uint64_t by_status[WB_STATUS_XX + 1];
	uint64_t rejected;       /* invalid, malformed, queue full */
	uint64_t cancelled;      /* the client left before the result */
	uint64_t zygotes_replaced;
	struct wb_hist latency;  /* request parsed → result ready, queueing included */
	struct wb_hist overhead; /* dispatch → result, minus the program's wall time */
};

#endif
