/* cgroup.h: the manager's cgroup subtree (memory, pids, CPU accounting) and
 * the cgroups jobs run in, behind one ops table chosen once at start-up. */
#ifndef WB_CGROUP_H
#define WB_CGROUP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/job.h"
#include "proto/wire.h"

#define WB_CGROUP_MAX_PROCS_FDS 3

struct wb_cgroup;
struct wb_cgroup_slot;

struct wb_cgroup_usage {
	uint64_t cpu_ns;
	uint64_t peak_kb;
	bool peak_valid;     /* false: no peak file (v2 before kernel 5.19) */
	bool oom_killed;
};

/* Detects a usable hierarchy (v2, then v1) and creates the manager's subtree
 * under the cgroup the manager runs in. -ENOTSUP (with the reason in why)
 * when none can be used: the caller falls back to rlimit accounting. */
int wb_cgroup_open(struct wb_cgroup **cg, char *why, size_t whylen);
enum wb_accounting wb_cgroup_mode(const struct wb_cgroup *cg);
/* Removes the subtree; NULL is a no-op. */
void wb_cgroup_close(struct wb_cgroup *cg);

/* The cgroup the next job of zygote slot idx runs in, made new for it
 * (slotIDX.N, N counting every job cgroup of this manager, so that a
 * replaced zygote's never meets its predecessor's, still being removed; on
 * v1 one in each hierarchy): its zygote joins it, and starts the spare
 * job init in it, ahead of the job.
 * Being new, its peak is the job's own on every kernel (v2's memory.peak
 * cannot be reset before 6.12) and no page cache an earlier job read is
 * charged to it (which a reset would not undo). */
int wb_cgroup_slot_open(struct wb_cgroup *cg, unsigned idx, struct wb_cgroup_slot **slot);
/* Closes it and puts its directories on the graves list (below), to be
 * removed off the caller's loop. NULL is a no-op. */
void wb_cgroup_slot_close(struct wb_cgroup_slot *slot);

/* Before a job: applies its limits and takes the CPU baseline. */
int wb_cgroup_slot_prepare(struct wb_cgroup_slot *slot, const struct wb_limits *lim,
			   uint64_t *cpu_base_ns);
/* The descriptors the program writes "0" into to join the slot, and the one
 * the job init polls for CPU usage. Owned by the slot. */
size_t wb_cgroup_slot_procs_fds(const struct wb_cgroup_slot *slot, int *fds);
int wb_cgroup_slot_cpu_fd(const struct wb_cgroup_slot *slot);
/* After a job: CPU used since the baseline, peak memory, OOM kill seen. */
int wb_cgroup_slot_collect(struct wb_cgroup_slot *slot, uint64_t cpu_base_ns,
			   struct wb_cgroup_usage *u);

/* Job cgroups are not removed when their job ends: on v1 an rmdir of a
 * memory cgroup waits about 10 ms for an RCU grace period, which must not
 * hold up the next job. The pool takes the list of those to remove (the
 * caller owns it then), removes them off its loop (wb_cgroup_remove is
 * thread-safe), and gives back the ones whose last processes are still
 * exiting (EBUSY), to be retried. NULL cg: nothing to take. */
size_t wb_cgroup_graves_take(struct wb_cgroup *cg, char ***dirs);
void wb_cgroup_graves_return(struct wb_cgroup *cg, char **dirs, size_t n);
/* rmdir of each directory, its errno (0: removed) in errs[i]. Only
 * syscalls: safe on a thread while the loop clones zygotes. */
void wb_cgroup_remove(char *const *dirs, size_t n, int *errs);

#endif
