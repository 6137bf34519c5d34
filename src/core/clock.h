/* clock.h: the one monotonic clock every timing in warmbox reads (job wall
 * time, trace points, daemon latencies). Async-signal-safe, no allocation. */
#ifndef WB_CLOCK_H
#define WB_CLOCK_H

#include <stdint.h>
#include <time.h>

/* CLOCK_MONOTONIC in nanoseconds. The vDSO answers it without a syscall
 * where the clocksource allows; under emulation it may be a real one. */
static inline uint64_t wb_clock_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

#endif
