/* stats.h: the daemon's counters and latency percentiles for {"op":"stats"}.
 * Fixed memory: latencies go into log-scaled buckets, not a list. */
#ifndef WB_STATS_H
#define WB_STATS_H

#include <stdint.h>

#include "core/result.h"

#define WB_HIST_BUCKETS 256 /* up to 2^33 us */
/* The fixed bounds Prometheus gets (prom.h), from 25 us: fine enough to
 * show a sub-millisecond overhead, and up to a minute. */
#define WB_HIST_LE 25
extern const uint64_t wb_hist_le_us[WB_HIST_LE];

struct wb_hist {
	uint64_t count;
	uint64_t sum_us;
	uint64_t buckets[WB_HIST_BUCKETS];
	uint64_t le[WB_HIST_LE + 1];  /* per bound, not cumulative; the last: above all */
};

void wb_hist_add(struct wb_hist *h, uint64_t us);
/* The q-quantile (0..1) in microseconds, the upper edge of its bucket
 * (within ~9%); 0 when empty. */
uint64_t wb_hist_quantile(const struct wb_hist *h, double q);

/* Why a request was answered without running (warmbox_rejected_total). */
enum wb_reject {
	WB_REJECT_INVALID,       /* an invalid job or request */
	WB_REJECT_TOO_LONG,      /* a line over --max-request */
	WB_REJECT_QUEUE_FULL,
	WB_REJECT_MEMORY,        /* over --max-memory */
	WB_REJECT_CONNECTIONS,   /* over --max-connections */
	WB_REJECT_SHUTDOWN,      /* the daemon is stopping */
	WB_REJECT_COUNT,
};
const char *wb_reject_name(enum wb_reject why);

struct wb_stats {
	uint64_t started_ns;
	uint64_t jobs_run;
	uint64_t by_status[WB_STATUS_XX + 1];
	uint64_t rejected;       /* all of rejected_by */
	uint64_t rejected_by[WB_REJECT_COUNT];
	uint64_t cancelled;      /* the client left before the result */
	uint64_t zygotes_replaced;
	struct wb_hist latency;  /* request parsed → result ready, queueing included */
	struct wb_hist overhead; /* dispatch → result, minus the program's wall time */
};

void wb_stats_reject(struct wb_stats *s, enum wb_reject why);

#endif
