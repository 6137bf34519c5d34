/* jobinit.h: pid 1 of a job. Cloned ahead of time by the zygote as a spare
 * with fresh pid, mount and IPC namespaces; runs one job, reports, exits. */
#ifndef WB_JOBINIT_H
#define WB_JOBINIT_H

#include <stddef.h>

/* ctl: the zygote's control socket, on which the spare waits for its job.
 * took: a pipe to the zygote, written once a job is taken so the zygote
 * clones the next spare. Never returns. */
/* cg_fds: cgroup.procs fds of the zygote's two cgroups (ncg_each each);
 * the spare joins cgroup `parity`, the one the manager gives its job. */
_Noreturn void wb_jobinit_main(int ctl, int took, const int *cg_fds, size_t ncg_each, unsigned parity);

#endif
