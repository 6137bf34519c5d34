/* jobinit.h: pid 1 of a job. Cloned by the zygote as a spare with fresh
 * pid, mount and IPC namespaces; runs one job, reports, exits. */
#ifndef WB_JOBINIT_H
#define WB_JOBINIT_H

#include <stdbool.h>
#include <stddef.h>

/* ctl: the zygote's control socket, on which the spare waits for its job.
 * in_cgroup: the job has a cgroup, which the spare is born in. Runs in the
 * zygote's memory, the zygote suspended (zygote.c): frees what it
 * allocates before it exits 0. Never returns. */
_Noreturn void wb_jobinit_main(int ctl, bool in_cgroup);

#endif
