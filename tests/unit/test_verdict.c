/* test_verdict.c: every row of SPEC's verdict table and its precedence, as
 * manager/verdict.c maps them, from job-init reports shaped as a job init
 * sends them (cgroup and rlimit accounting both). One expected status per
 * case, and the fields that status promises. */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>

#include "check.h"
#include "manager/verdict.h"

static char *argv0[] = {"/box/a.out", NULL};

static struct wb_job job_with_limits(void)
{
	struct wb_job job = {0};

	job.argv = argv0;
	job.argc = 1;
	job.cwd = "/box";
	job.limits.cpu_ms = 1000;
	job.limits.wall_ms = 3000;
	job.limits.memory_kb = 65536;
	return job;
}

/* A program that exited 0 after 12 ms of CPU with 1480 KiB at its peak. */
static struct wb_msg_result exited(int code)
{
	struct wb_msg_result m = {0};

	m.type = WB_MSG_RESULT;
	m.flags = WB_RES_EXITED;
	m.stage = WB_STAGE_NONE;
	m.exit_code = code;
	m.syscall_nr = -1;
	m.cpu_ns = 12000000;
	m.wall_ns = 15000000;
	m.maxrss_kb = 1480;
	return m;
}

static struct wb_msg_result signalled(int sig)
{
	struct wb_msg_result m = exited(0);

	m.flags = 0;
	m.exit_code = 0;
	m.signal = sig;
	return m;
}

/* Applies end to a fresh result (exit_code -1 as the slot starts it). */
static struct wb_result apply(const struct wb_job *job, const struct wb_job_end *end, bool out_trunc,
			      bool *program)
{
	struct wb_result res = {0};

	res.exit_code = -1;
	res.out_truncated = out_trunc;
	*program = wb_verdict_apply(job, end, &res);
	return res;
}

#define EXPECT(res, want) CHECKF((res).status == (want), "got %s, want %s", \
				 wb_status_name((res).status), wb_status_name(want))

static void test_rows(void)
{
	struct wb_job job = job_with_limits();
	struct wb_msg_result m;
	struct wb_job_end end = {0};
	struct wb_result res;
	bool program;

	/* OK: exit 0 within every limit, the report's own figures (rlimit). */
	m = exited(0);
	end = (struct wb_job_end){.report = &m};
	res = apply(&job, &end, false, &program);
	EXPECT(res, WB_STATUS_OK);
	CHECK(program && res.exit_code == 0 && res.signal == 0 && !res.error && !res.syscall);
	CHECK(res.cpu_ms == 12 && res.wall_ms == 15 && res.memory_kb == 1480);
	wb_result_free(&res);

	/* RE: a non-zero exit code, kept. */
	m = exited(3);
	res = apply(&job, &end, false, &program);
	EXPECT(res, WB_STATUS_RE);
	CHECK(res.exit_code == 3 && res.signal == 0);
	wb_result_free(&res);

	/* SG: a signal no limit caused; no exit code. */
	m = signalled(SIGSEGV);
	res = apply(&job, &end, false, &program);
	EXPECT(res, WB_STATUS_SG);
	CHECK(res.signal == SIGSEGV && res.exit_code == -1);
	wb_result_free(&res);

	/* TL: the job init's CPU or wall flag, SIGXCPU, or CPU past the limit
	 * by the cgroup's count though the job init saw none. */
	m = signalled(SIGKILL);
	m.flags = WB_RES_TL_CPU;
	res = apply(&job, &end, false, &program);
	EXPECT(res, WB_STATUS_TL);
	wb_result_free(&res);
	m.flags = WB_RES_TL_WALL;
	res = apply(&job, &end, false, &program);
	EXPECT(res, WB_STATUS_TL);
	wb_result_free(&res);
	m = signalled(SIGXCPU);
	res = apply(&job, &end, false, &program);
	EXPECT(res, WB_STATUS_TL);
	wb_result_free(&res);
	{
		struct wb_cgroup_usage use = {.cpu_ns = 1001000000ull, .peak_kb = 900, .peak_valid = true};

		m = exited(0);
		end = (struct wb_job_end){.report = &m, .cgroup = &use};
		res = apply(&job, &end, false, &program);
		EXPECT(res, WB_STATUS_TL);
		CHECK(res.cpu_ms == 1001 && res.memory_kb == 900);
		wb_result_free(&res);
	}

	/* ML: the cgroup's OOM kill, or a peak above memory_kb (the cgroup's,
	 * or the largest process's under rlimit accounting). */
	{
		struct wb_cgroup_usage use = {.cpu_ns = 5000000, .peak_kb = 65536, .peak_valid = true,
					      .oom_killed = true};

		m = signalled(SIGKILL);
		end = (struct wb_job_end){.report = &m, .cgroup = &use};
		res = apply(&job, &end, false, &program);
		EXPECT(res, WB_STATUS_ML);
		CHECK(res.memory_kb == 65536 && res.signal == SIGKILL);
		wb_result_free(&res);
	}
	m = exited(0);
	m.maxrss_kb = 65537;
	end = (struct wb_job_end){.report = &m};
	res = apply(&job, &end, false, &program);
	EXPECT(res, WB_STATUS_ML);
	CHECK(res.memory_kb == 65537);
	wb_result_free(&res);
	{
		/* No memory.peak (v2 before 5.19): the report's figure stands. */
		struct wb_cgroup_usage use = {.cpu_ns = 5000000, .peak_valid = false};

		m = exited(0);
		end = (struct wb_job_end){.report = &m, .cgroup = &use};
		res = apply(&job, &end, false, &program);
		EXPECT(res, WB_STATUS_OK);
		CHECK(res.memory_kb == 1480 && res.cpu_ms == 5);
		wb_result_free(&res);
	}

	/* OL: output past output_kb, or SIGXFSZ from file_size_kb. */
	m = exited(0);
	end = (struct wb_job_end){.report = &m};
	res = apply(&job, &end, true, &program);
	EXPECT(res, WB_STATUS_OL);
	wb_result_free(&res);
	m = signalled(SIGXFSZ);
	res = apply(&job, &end, false, &program);
	EXPECT(res, WB_STATUS_OL);
	wb_result_free(&res);

	/* SV: the refused syscall named; SIGSYS alone; a foreign arch. */
	m = signalled(SIGSYS);
	m.flags = WB_RES_SECCOMP;
	m.syscall_nr = SYS_socket;
	res = apply(&job, &end, false, &program);
	EXPECT(res, WB_STATUS_SV);
	CHECKF(res.syscall && strcmp(res.syscall, "socket") == 0, "syscall %s", res.syscall);
	wb_result_free(&res);
	m = signalled(SIGSYS);
	res = apply(&job, &end, false, &program);
	EXPECT(res, WB_STATUS_SV);
	CHECKF(res.syscall && strcmp(res.syscall, "unknown") == 0, "syscall %s", res.syscall);
	wb_result_free(&res);
	m = signalled(SIGSYS);
	m.flags = WB_RES_SECCOMP;
	m.syscall_nr = WB_SYSCALL_FOREIGN_ARCH;
	res = apply(&job, &end, false, &program);
	EXPECT(res, WB_STATUS_SV);
	CHECKF(res.syscall && strcmp(res.syscall, "foreign architecture") == 0, "syscall %s", res.syscall);
	wb_result_free(&res);
}

/* A program that could not start, set-up that did not fit, and the
 * sandbox's own failures: none of them is the program's verdict. */
static void test_not_the_program(void)
{
	struct wb_job job = job_with_limits();
	struct wb_msg_result m;
	struct wb_job_end end;
	struct wb_result res;
	bool program;

	m = exited(0);
	m.flags = WB_RES_EXEC_FAILED;
	m.stage = WB_STAGE_EXECVE;
	m.err = ENOENT;
	end = (struct wb_job_end){.report = &m};
	res = apply(&job, &end, false, &program);
	EXPECT(res, WB_STATUS_RE);
	CHECK(!program && res.exit_code == 127);
	CHECKF(res.error && strcmp(res.error, "execve /box/a.out: No such file or directory") == 0, "%s", res.error);
	wb_result_free(&res);
	m.stage = WB_STAGE_CHDIR;
	res = apply(&job, &end, false, &program);
	EXPECT(res, WB_STATUS_RE);
	CHECKF(res.error && strcmp(res.error, "chdir /box: No such file or directory") == 0, "%s", res.error);
	wb_result_free(&res);

	/* /box full (rlimit accounting sizes it to memory_kb). */
	m = exited(0);
	m.stage = WB_STAGE_FILES;
	m.err = ENOSPC;
	res = apply(&job, &end, false, &program);
	EXPECT(res, WB_STATUS_ML);
	CHECK(!program && res.error && strstr(res.error, "did not fit in memory_kb"));
	wb_result_free(&res);
	/* The job init OOM-killed by the job's cgroup before it reported. */
	{
		struct wb_cgroup_usage use = {.peak_kb = 70000, .peak_valid = true, .oom_killed = true};

		end = (struct wb_job_end){.cgroup = &use};
		res = apply(&job, &end, false, &program);
		EXPECT(res, WB_STATUS_ML);
		CHECK(!program && res.memory_kb == 70000 && res.error && strstr(res.error, "did not fit"));
		wb_result_free(&res);
		/* And its zygote with it, which shares its memory. */
		end.lost = "sandbox: the zygote died";
		end.zygote_gone = true;
		res = apply(&job, &end, false, &program);
		EXPECT(res, WB_STATUS_ML);
		CHECK(!program && res.memory_kb == 70000 && res.error && strstr(res.error, "did not fit"));
		wb_result_free(&res);
		/* The manager's own loss wins over what the cgroup saw. */
		end.zygote_gone = false;
		end.lost = "manager: out of memory for output";
		res = apply(&job, &end, false, &program);
		EXPECT(res, WB_STATUS_XX);
		CHECK(res.error && strcmp(res.error, "manager: out of memory for output") == 0);
		wb_result_free(&res);
	}

	/* XX: no report, a stage that failed, a cgroup that cannot be read. */
	end = (struct wb_job_end){0};
	res = apply(&job, &end, false, &program);
	EXPECT(res, WB_STATUS_XX);
	CHECK(res.error && strcmp(res.error, "the job init ended without a report") == 0);
	wb_result_free(&res);
	m = exited(0);
	m.stage = WB_STAGE_FORK;
	m.err = EAGAIN;
	end = (struct wb_job_end){.report = &m};
	res = apply(&job, &end, false, &program);
	EXPECT(res, WB_STATUS_XX);
	CHECKF(res.error && strncmp(res.error, "sandbox: ", 9) == 0 && strstr(res.error, strerror(EAGAIN)),
	       "%s", res.error);
	wb_result_free(&res);
	{
		struct wb_cgroup_usage use = {0};

		m = exited(0);
		end = (struct wb_job_end){.report = &m, .cgroup = &use, .cgroup_err = -EIO};
		res = apply(&job, &end, false, &program);
		EXPECT(res, WB_STATUS_XX);
		CHECK(!program && res.error && strstr(res.error, "cgroup"));
		wb_result_free(&res);
	}
}

/* SV > ML > TL > OL > SG > RE > OK, each against everything below it. */
static void test_precedence(void)
{
	struct wb_job job = job_with_limits();
	struct wb_cgroup_usage oom = {.cpu_ns = 2000000000ull, .peak_kb = 65536, .peak_valid = true,
				      .oom_killed = true};
	struct wb_msg_result m;
	struct wb_job_end end;
	struct wb_result res;
	bool program;

	m = signalled(SIGSYS);
	m.flags = WB_RES_SECCOMP | WB_RES_TL_CPU;
	m.syscall_nr = SYS_ptrace;
	end = (struct wb_job_end){.report = &m, .cgroup = &oom};
	res = apply(&job, &end, true, &program);
	EXPECT(res, WB_STATUS_SV);
	CHECK(res.syscall && strcmp(res.syscall, "ptrace") == 0);
	wb_result_free(&res);

	m = signalled(SIGKILL);
	m.flags = WB_RES_TL_WALL;
	res = apply(&job, &end, true, &program);
	EXPECT(res, WB_STATUS_ML);
	CHECK(!res.syscall);
	wb_result_free(&res);

	m = signalled(SIGSEGV);
	m.flags = WB_RES_TL_CPU;
	end = (struct wb_job_end){.report = &m};
	res = apply(&job, &end, true, &program);
	EXPECT(res, WB_STATUS_TL);
	wb_result_free(&res);

	m = signalled(SIGSEGV);
	res = apply(&job, &end, true, &program);
	EXPECT(res, WB_STATUS_OL);
	CHECK(res.signal == SIGSEGV);
	wb_result_free(&res);

	m = exited(1);
	res = apply(&job, &end, true, &program);
	EXPECT(res, WB_STATUS_OL);
	CHECK(res.exit_code == 1);
	wb_result_free(&res);
}

static void test_trace(void)
{
	struct wb_msg_result m = exited(0);
	struct wb_result res = {0};

	wb_verdict_trace(&m, 1000, &res);
	CHECK(!res.has_trace);
	for (int i = 0; i < WB_TRACE_POINTS; i++)
		m.trace[i] = 2000000 + 1000000ull * (uint64_t)i;
	wb_verdict_trace(&m, 1000000, &res);
	CHECK(res.has_trace);
	CHECK(res.trace_send_to_exec_us == (m.trace[WB_TRACE_EXEC] - 1000000) / 1000);
	CHECK(res.trace_recv_to_exec_us == (m.trace[WB_TRACE_EXEC] - m.trace[WB_TRACE_RECV]) / 1000);
	CHECK(res.trace_send_to_report_us == (m.trace[WB_TRACE_REPORT] - 1000000) / 1000);
	for (int i = 0; i < WB_RESULT_TRACE_STAGES; i++)
		CHECKF(res.trace_stage_us[i] == 1000, "stage %d: %llu", i, (unsigned long long)res.trace_stage_us[i]);
}

int main(void)
{
	test_rows();
	test_not_the_program();
	test_precedence();
	test_trace();
	return check_report("test_verdict");
}
