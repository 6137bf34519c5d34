/* test_prom.c: the Prometheus exposition of SPEC.md "Metrics": every
 * required metric, histogram buckets cumulative in seconds with sum and
 * count, the reasons of refusals, the store's gauge only with a store. */
#include "core/prom.h"
#include "check.h"

#include <stdlib.h>
#include <string.h>

static char *render(const struct wb_prom_in *in)
{
	struct wb_buf b = {0};

	CHECK(wb_prom_render(in, &b) == 0);
	CHECK(wb_buf_append(&b, "", 1) == 0);
	return (char *)b.data;
}

/* The text has this line, whole. */
static void has_line(int line, const char *text, const char *want)
{
	size_t n = strlen(want);
	const char *p = text;

	while ((p = strstr(p, want)) && !((p == text || p[-1] == '\n') && (p[n] == '\n')))
		p++;
	CHECKF(p != NULL, "line %d: no line \"%s\"", line, want);
}
#define HAS(text, want) has_line(__LINE__, (text), (want))

static void test_figures(void)
{
	struct wb_stats s = {0};
	struct wb_prom_in in = {.stats = &s, .warm = 3, .busy = 1, .starting = 0, .queued = 7, .connections = 2,
				.has_store = true, .store_bytes = 12345};
	char *t;

	s.by_status[WB_STATUS_OK] = 40;
	s.by_status[WB_STATUS_TL] = 2;
	wb_stats_reject(&s, WB_REJECT_INVALID);
	wb_stats_reject(&s, WB_REJECT_QUEUE_FULL);
	wb_stats_reject(&s, WB_REJECT_QUEUE_FULL);
	s.zygotes_replaced = 5;
	wb_hist_add(&s.overhead, 20);       /* in le=25 us */
	wb_hist_add(&s.overhead, 25);       /* on the bound: le=25 us */
	wb_hist_add(&s.overhead, 600);      /* le=750 us */
	wb_hist_add(&s.overhead, 90000000); /* past the last bound: +Inf only */
	t = render(&in);
	HAS(t, "# TYPE warmbox_jobs_total counter");
	HAS(t, "warmbox_jobs_total{status=\"OK\"} 40");
	HAS(t, "warmbox_jobs_total{status=\"TL\"} 2");
	HAS(t, "warmbox_jobs_total{status=\"XX\"} 0");
	HAS(t, "# TYPE warmbox_job_overhead_seconds histogram");
	HAS(t, "warmbox_job_overhead_seconds_bucket{le=\"0.000025\"} 2");
	HAS(t, "warmbox_job_overhead_seconds_bucket{le=\"0.000500\"} 2");
	HAS(t, "warmbox_job_overhead_seconds_bucket{le=\"0.000750\"} 3");
	HAS(t, "warmbox_job_overhead_seconds_bucket{le=\"60.000000\"} 3");
	HAS(t, "warmbox_job_overhead_seconds_bucket{le=\"+Inf\"} 4");
	HAS(t, "warmbox_job_overhead_seconds_sum 90.000645");
	HAS(t, "warmbox_job_overhead_seconds_count 4");
	HAS(t, "warmbox_job_duration_seconds_count 0");
	HAS(t, "warmbox_zygotes{state=\"warm\"} 3");
	HAS(t, "warmbox_zygotes{state=\"busy\"} 1");
	HAS(t, "warmbox_zygotes{state=\"starting\"} 0");
	HAS(t, "warmbox_queue_depth 7");
	HAS(t, "warmbox_rejected_total{reason=\"invalid\"} 1");
	HAS(t, "warmbox_rejected_total{reason=\"queue_full\"} 2");
	HAS(t, "warmbox_rejected_total{reason=\"memory\"} 0");
	HAS(t, "warmbox_zygotes_replaced_total 5");
	HAS(t, "warmbox_connections 2");
	HAS(t, "warmbox_store_bytes 12345");
	CHECK(s.rejected == 3);
	CHECK(t[strlen(t) - 1] == '\n');
	free(t);

	in.has_store = false;
	t = render(&in);
	CHECK(strstr(t, "warmbox_store_bytes") == NULL);
	free(t);
}

/* Every sample line belongs to a metric with HELP and TYPE before it. */
static void test_shape(void)
{
	struct wb_stats s = {0};
	struct wb_prom_in in = {.stats = &s, .has_store = true};
	char *t = render(&in), *line, *save = NULL, typed[128] = "";
	int samples = 0, bad = 0;

	for (line = strtok_r(t, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		if (strncmp(line, "# TYPE ", 7) == 0) {
			snprintf(typed, sizeof(typed), "%.*s", (int)strcspn(line + 7, " "), line + 7);
			continue;
		}
		if (line[0] == '#')
			continue;
		samples++;
		if (!typed[0] || strncmp(line, typed, strlen(typed)) != 0)
			bad++;
	}
	CHECKF(samples > 60 && bad == 0, "%d samples, %d outside their TYPE", samples, bad);
	free(t);
}

int main(void)
{
	test_figures();
	test_shape();
	return check_report("test_prom");
}
