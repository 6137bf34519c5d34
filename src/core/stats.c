/* stats.c: log-scaled latency histograms: 8 buckets per power of two from
 * 1 us, so a quantile is exact to within one bucket (~9%). */
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

void wb_hist_add(struct wb_hist *h, uint64_t us)
{
	unsigned b = bucket_of(us);

	if (b >= WB_HIST_BUCKETS)
		b = WB_HIST_BUCKETS - 1;
	h->buckets[b]++;
	h->count++;
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
