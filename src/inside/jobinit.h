/* jobinit.h: pid 1 of a job. Cloned ahead of time by the zygote as a spare
 * with fresh pid, mount and IPC namespaces; runs one job, reports, exits. */
#ifndef WB_JOBINIT_H
#define WB_JOBINIT_H

#include <stdbool.h>
#include <stddef.h>

/* ctl: the zygote's control socket, on which the spare waits for its job.
 * took: a pipe to the zygote, written once a job is taken so the zygote
 * clones the next spare. join_fds: cgroup.procs files of the job's cgroup
 * to join (none when the spare was born in it); in_cgroup: the job has a
 * cgroup at all. Never returns. */
_Noreturn void wb_jobinit_main(int ctl, int took, const int *join_fds, size_t njoin, bool in_cgroup);

#endif
