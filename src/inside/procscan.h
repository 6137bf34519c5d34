/* procscan.h: what the job's own /proc says about its live processes, for
 * rlimit accounting: their CPU time and their resident memory. */
#ifndef WB_PROCSCAN_H
#define WB_PROCSCAN_H

#include <stdint.h>
#include <sys/types.h>

struct wb_procscan {
	uint64_t cpu_ns;     /* utime + stime of every process but `skip` */
	uint64_t rss_kb;     /* resident memory of every process, `skip` too */
};

/* Scans /proc (the job init's: its pid namespace holds only the job) and
 * sums over the processes other than pid 1. CPU comes in clock ticks,
 * so in 10 ms steps. 0 or -errno. */
int wb_procscan_read(pid_t skip, struct wb_procscan *out);

#endif
