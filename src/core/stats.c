/* stats.c: log-scaled latency histograms: 8 buckets per power of two from
 * 1 us, so a quantile is exact to within one bucket (~9%); beside them the
 * exact counts per Prometheus bound. The reasons for a refusal. */
#include "core/stats.h"

static unsigned bucket_of(uint64_t us)
{
	unsigned b = 0;

	if (us < 8)
		return (unsigned)us;
	/* 8 sub-buckets per octave above 8 us. */
	b = 63 - (unsigned)__builtin_clzll(us); /* floor(log2) >= 3 */
	return 8 * (b - 2) + (unsigned)((us >> (b - 3)) & 7);
}

static uint64_t upper_of(unsigned bucket)
{
	unsigned b, sub;

	if (bucket < 8)
		return bucket;
	b = bucket / 8 + 2;
	sub = bucket % 8;
	return ((uint64_t)(8 + sub + 1) << (b - 3)) - 1;
}

const uint64_t wb_hist_le_us[WB_HIST_LE] = {
	25, 50, 100, 200, 300, 500, 750, 1000, 1500, 2000, 3000, 5000, 7500,
	10000, 25000, 50000, 100000, 250000, 500000, 1000000, 2500000, 5000000,
	10000000, 30000000, 60000000,
};

void wb_hist_add(struct wb_hist *h, uint64_t us)
{
	unsigned b = bucket_of(us), le = 0;

	if (b >= WB_HIST_BUCKETS)
		b = WB_HIST_BUCKETS - 1;
	h->buckets[b]++;
	h->count++;
	h->sum_us += us;
	while (le < WB_HIST_LE && us > wb_hist_le_us[le])
		le++;
	h->le[le]++;
}

const char *wb_reject_name(enum wb_reject why)
{
	static const char *const names[WB_REJECT_COUNT] = {
		"invalid", "too_long", "queue_full", "memory", "connections", "shutting_down",
	};

	return (unsigned)why < WB_REJECT_COUNT ? names[why] : "unknown";
}

void wb_stats_reject(struct wb_stats *s, enum wb_reject why)
{
	s->rejected++;
	if ((unsigned)why < WB_REJECT_COUNT)
		s->rejected_by[why]++;
}

uint64_t wb_hist_quantile(const struct wb_hist *h, double q)
{
	uint64_t rank, seen = 0;

	if (!h->count)
		return 0;
	rank = (uint64_t)(q * (double)(h->count - 1)) + 1;
	for (unsigned b = 0; b < WB_HIST_BUCKETS; b++) {
		seen += h->buckets[b];
		if (seen >= rank)
			return upper_of(b);
	}
	return upper_of(WB_HIST_BUCKETS - 1);
}
