/* prom.h: the daemon's figures in the Prometheus text exposition format,
 * version 0.0.4 (SPEC "Metrics"); rendering only, no I/O. */
#ifndef WB_PROM_H
#define WB_PROM_H

#include <stdbool.h>
#include <stdint.h>

#include "core/result.h"
#include "core/stats.h"

/* One scrape's worth: the counters and what the pool and server see now. */
struct wb_prom_in {
	const struct wb_stats *stats;
	unsigned warm, busy, starting;   /* zygotes by state */
	unsigned queued;
	unsigned connections;
	bool has_store;
	uint64_t store_bytes;
};

/* Appends the exposition to out. 0 or -ENOMEM. */
int wb_prom_render(const struct wb_prom_in *in, struct wb_buf *out);

#endif
