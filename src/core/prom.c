/* prom.c: every metric with its HELP and TYPE lines, histograms as
 * cumulative buckets in seconds with their sum and count. */
#include "core/prom.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>

/* The text being built; after a failed append the rest is a no-op. */
struct text {
	struct wb_buf *b;
	bool failed;
};

__attribute__((format(printf, 2, 3)))
static void put(struct text *t, const char *fmt, ...)
{
	char line[256];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (t->failed || n < 0 || (size_t)n >= sizeof(line) || wb_buf_append(t->b, line, (size_t)n) < 0)
		t->failed = true;
}

static void head(struct text *t, const char *name, const char *type, const char *help)
{
	put(t, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* Microseconds as seconds, exactly: no float rounding of the bounds. */
static void put_seconds(struct text *t, const char *prefix, uint64_t us, const char *suffix)
{
	put(t, "%s%" PRIu64 ".%06" PRIu64 "%s", prefix, us / 1000000, us % 1000000, suffix);
}

static void histogram(struct text *t, const char *name, const char *help, const struct wb_hist *h)
{
	uint64_t seen = 0;

	head(t, name, "histogram", help);
	for (int i = 0; i < WB_HIST_LE; i++) {
		seen += h->le[i];
		put(t, "%s_bucket{le=\"", name);
		put_seconds(t, "", wb_hist_le_us[i], "");
		put(t, "\"} %" PRIu64 "\n", seen);
	}
	put(t, "%s_bucket{le=\"+Inf\"} %" PRIu64 "\n", name, h->count);
	put(t, "%s_sum ", name);
	put_seconds(t, "", h->sum_us, "\n");
	put(t, "%s_count %" PRIu64 "\n", name, h->count);
}

int wb_prom_render(const struct wb_prom_in *in, struct wb_buf *out)
{
	const struct wb_stats *s = in->stats;
	struct text t = {.b = out};

	head(&t, "warmbox_jobs_total", "counter", "Jobs run, by verdict.");
	for (int i = 0; i <= WB_STATUS_XX; i++)
		put(&t, "warmbox_jobs_total{status=\"%s\"} %" PRIu64 "\n", wb_status_name((enum wb_status)i),
		    s->by_status[i]);
	histogram(&t, "warmbox_job_duration_seconds", "From the job's entry into the queue to its result.",
		  &s->latency);
	histogram(&t, "warmbox_job_overhead_seconds",
		  "From dispatch to result, minus the program's own wall time.", &s->overhead);
	head(&t, "warmbox_zygotes", "gauge", "Zygotes by state.");
	put(&t, "warmbox_zygotes{state=\"warm\"} %u\n", in->warm);
	put(&t, "warmbox_zygotes{state=\"busy\"} %u\n", in->busy);
	put(&t, "warmbox_zygotes{state=\"starting\"} %u\n", in->starting);
	head(&t, "warmbox_queue_depth", "gauge", "Jobs waiting for a zygote.");
	put(&t, "warmbox_queue_depth %u\n", in->queued);
	head(&t, "warmbox_rejected_total", "counter", "Requests answered without running, by reason.");
	for (int i = 0; i < WB_REJECT_COUNT; i++)
		put(&t, "warmbox_rejected_total{reason=\"%s\"} %" PRIu64 "\n", wb_reject_name((enum wb_reject)i),
		    s->rejected_by[i]);
	head(&t, "warmbox_cancelled_total", "counter", "Jobs whose client left before the result.");
	put(&t, "warmbox_cancelled_total %" PRIu64 "\n", s->cancelled);
	head(&t, "warmbox_zygotes_replaced_total", "counter", "Zygotes that died or failed and were replaced.");
	put(&t, "warmbox_zygotes_replaced_total %" PRIu64 "\n", s->zygotes_replaced);
	head(&t, "warmbox_connections", "gauge", "Client connections open.");
	put(&t, "warmbox_connections %u\n", in->connections);
	if (in->has_store) {
		head(&t, "warmbox_store_bytes", "gauge", "Bytes held in the file store.");
		put(&t, "warmbox_store_bytes %" PRIu64 "\n", in->store_bytes);
	}
	return t.failed ? -ENOMEM : 0;
}
