/* verdict.h: how a finished job's report and cgroup figures become its
 * result (SPEC "Status (verdict)"). No I/O: every row is unit-tested. */
#ifndef WB_VERDICT_H
#define WB_VERDICT_H

#include <stdbool.h>
#include <stdint.h>

#include "core/job.h"
#include "core/result.h"
#include "manager/cgroup.h"
#include "proto/wire.h"

/* What the manager knows once a job is over. */
struct wb_job_end {
	/* The job init's report; NULL when none came. */
	const struct wb_msg_result *report;
	/* Why the manager lost the job (the zygote died, a descriptor
	 * failed), or NULL. */
	const char *lost;
	/* The job cgroup's figures; NULL under rlimit accounting. */
	const struct wb_cgroup_usage *cgroup;
	/* 0, or -errno when the cgroup's figures could not be read. */
	int cgroup_err;
	/* The job's zygote died or was killed while the job was in flight. */
	bool zygote_gone;
};

/* Sets res's status, exit code, signal, times, memory, syscall and error
 * from end, for job. res's output and its truncation flags are already
 * there (OL depends on them). An allocation that fails leaves an error or
 * syscall NULL, never the status wrong. True when the verdict is the
 * program's own (it ran): only then are its copy_out and trace read. */
bool wb_verdict_apply(const struct wb_job *job, const struct wb_job_end *end, struct wb_result *res);

/* --trace's figures in res, from the report's stamps and the manager's
 * send time sent_ns. Nothing when the program never reached its execve. */
void wb_verdict_trace(const struct wb_msg_result *report, uint64_t sent_ns, struct wb_result *res);

#endif
