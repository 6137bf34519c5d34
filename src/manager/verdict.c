/* verdict.c: a finished job's result, in the order of SPEC's rules: a job
 * the manager lost, its set-up out of memory, a program that could not
 * start, a sandbox stage that failed, then the program's own verdict by
 * the precedence wb_result_verdict applies. */
#include "manager/verdict.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "policy/policy.h"

/* The job init shares the job's cgroup and sizes /box to memory_kb, so
 * files and set-up that do not fit are the job's ML, not the sandbox's. */
#define SETUP_ML "the job's files and set-up did not fit in memory_kb"

static void set_error(struct wb_result *res, enum wb_status status, const char *what)
{
	res->status = status;
	free(res->error);
	res->error = strdup(what);
}

static void exec_failed(const struct wb_job *job, const struct wb_msg_result *m, struct wb_result *res)
{
	const char *what = m->stage == WB_STAGE_EXECVE ? "execve" : "chdir";
	const char *path = m->stage == WB_STAGE_EXECVE ? job->argv[0] : job->cwd;
	const char *why = strerror(m->err);
	size_t len = strlen(what) + strlen(path) + strlen(why) + 4;

	res->status = WB_STATUS_RE;
	res->exit_code = 127;
	free(res->error);
	if ((res->error = malloc(len)))
		snprintf(res->error, len, "%s %s: %s", what, path, why);
}

static void name_syscall(const struct wb_msg_result *m, struct wb_result *res)
{
	if (m->syscall_nr == WB_SYSCALL_FOREIGN_ARCH)
		res->syscall = strdup("foreign architecture");
	else if (m->syscall_nr >= 0)
		res->syscall = wb_policy_syscall_name(m->syscall_nr);
	if (!res->syscall)
		res->syscall = strdup("unknown");
}

/* The program ran: its figures, then which limits it hit. */
static void program_verdict(const struct wb_job *job, const struct wb_job_end *end, struct wb_result *res)
{
	const struct wb_msg_result *m = end->report;
	const struct wb_cgroup_usage *use = end->cgroup;
	struct wb_verdict_in v = {0};
	uint64_t cpu_ns = m->cpu_ns, mem_kb = m->maxrss_kb;

	if (use) {
		cpu_ns = use->cpu_ns;
		if (use->peak_valid)
			mem_kb = use->peak_kb;
	}
	res->cpu_ms = cpu_ns / 1000000;
	res->memory_kb = mem_kb;
	res->exit_code = m->flags & WB_RES_EXITED ? m->exit_code : -1;
	res->signal = m->signal;
	v.exit_code = res->exit_code < 0 ? 0 : res->exit_code;
	v.signal = m->signal;
	v.seccomp = (m->flags & WB_RES_SECCOMP) || m->signal == SIGSYS;
	v.memory = (use && use->oom_killed) || mem_kb > job->limits.memory_kb;
	v.time = (m->flags & (WB_RES_TL_CPU | WB_RES_TL_WALL)) || m->signal == SIGXCPU ||
		 res->cpu_ms > job->limits.cpu_ms;
	v.output = res->out_truncated || res->err_truncated || m->signal == SIGXFSZ;
	res->status = wb_result_verdict(&v);
	if (res->status == WB_STATUS_SV)
		name_syscall(m, res);
}

bool wb_verdict_apply(const struct wb_job *job, const struct wb_job_end *end, struct wb_result *res)
{
	const struct wb_msg_result *m = end->report;
	char buf[512];

	/* Files bigger than memory_kb get the job init, in the job's cgroup,
	 * OOM-killed before it can report, and with it its zygote, whose
	 * memory it shares (the kernel kills every process of a memory). */
	if ((!end->lost || end->zygote_gone) && !m && end->cgroup && !end->cgroup_err && end->cgroup->oom_killed) {
		set_error(res, WB_STATUS_ML, SETUP_ML);
		res->memory_kb = end->cgroup->peak_valid ? end->cgroup->peak_kb : 0;
		return false;
	}
	if (end->lost || !m) {
		set_error(res, WB_STATUS_XX, end->lost ? end->lost : "the job init ended without a report");
		return false;
	}
	res->wall_ms = m->wall_ns / 1000000;
	/* A program that cannot start is the submission's fault (SPEC "Result"). */
	if (m->flags & WB_RES_EXEC_FAILED && (m->stage == WB_STAGE_EXECVE || m->stage == WB_STAGE_CHDIR)) {
		exec_failed(job, m, res);
		return false;
	}
	if (m->stage == WB_STAGE_FILES && m->err == ENOSPC) {
		set_error(res, WB_STATUS_ML, SETUP_ML);
		return false;
	}
	if (m->stage != WB_STAGE_NONE) {
		snprintf(buf, sizeof(buf), "sandbox: %s: %s", wb_stage_name((enum wb_stage)m->stage), strerror(m->err));
		set_error(res, WB_STATUS_XX, buf);
		return false;
	}
	if (end->cgroup_err) {
		set_error(res, WB_STATUS_XX, "sandbox: cannot read the job's cgroup");
		return false;
	}
	program_verdict(job, end, res);
	return true;
}

void wb_verdict_trace(const struct wb_msg_result *m, uint64_t sent_ns, struct wb_result *res)
{
	if (!m->trace[WB_TRACE_EXEC])
		return;
	res->has_trace = true;
	res->trace_send_to_exec_us = (m->trace[WB_TRACE_EXEC] - sent_ns) / 1000;
	res->trace_recv_to_exec_us = (m->trace[WB_TRACE_EXEC] - m->trace[WB_TRACE_RECV]) / 1000;
	res->trace_send_to_report_us = m->trace[WB_TRACE_REPORT] > sent_ns ?
		(m->trace[WB_TRACE_REPORT] - sent_ns) / 1000 : 0;
	for (int i = 1; i < WB_TRACE_POINTS; i++)
		res->trace_stage_us[i - 1] = m->trace[i] > m->trace[i - 1] ?
			(m->trace[i] - m->trace[i - 1]) / 1000 : 0;
}
