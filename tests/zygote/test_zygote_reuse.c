/* test_zygote_reuse.c: one zygote serves many jobs in turn (DESIGN.md
 * "Processes"), each in fresh namespaces: what a job leaves in /box, /tmp,
 * SysV IPC or as a process is gone for the next. Also prints the warm
 * path's trace (manager send → execve), the figure the daemon lives on. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <uv.h>

#include "manager/cgroup.h"
#include "core/job.h"
#include "policy/policy.h"
#include "manager/slot.h"
#include "../unit/check.h"

#ifndef WB_TEST_POLICIES
#error "WB_TEST_POLICIES must name the source tree's policies/"
#endif

#define WARM_RUNS 40

struct ctx {
	uv_loop_t loop;
	struct wb_slot *slot;
	struct wb_policy policy;
	struct wb_job job;
	struct wb_result *res;
	int state;       /* 1 ready, -1 failed */
};


static void on_state(struct wb_slot *slot, int err, const char *msg, void *data)
{
	struct ctx *c = data;

	(void)slot;
	if (err == 0 && c->state == 1)
		return; /* a new spare after a job: nothing to do */
	c->state = err == 0 ? 1 : -1;
	if (err)
		fprintf(stderr, "zygote failed: %s\n", msg);
	uv_stop(&c->loop);
}

static void on_done(struct wb_slot *slot, struct wb_result *res, void *data)
{
	struct ctx *c = data;

	(void)slot;
	c->res = res;
	uv_stop(&c->loop);
}

/* Runs `sh -c SCRIPT` on the warm zygote; the result is c->res. */
static int run_sh(struct ctx *c, const char *script, uint64_t procs, bool trace)
{
	int rc;

	wb_job_free(&c->job);
	wb_job_init(&c->job);
	c->job.limits.procs = procs;
	if (wb_strv_push(&c->job.argv, &c->job.argc, "/bin/sh") < 0 ||
	    wb_strv_push(&c->job.argv, &c->job.argc, "-c") < 0 ||
	    wb_strv_push(&c->job.argv, &c->job.argc, script) < 0)
		return -1;
	c->res = NULL;
	rc = wb_slot_submit(c->slot, &c->job, &c->policy, NULL, trace, on_done, c);
	if (rc < 0)
		return rc;
	uv_run(&c->loop, UV_RUN_DEFAULT);
	return c->res ? 0 : -1;
}

static void drop_result(struct ctx *c)
{
	wb_result_free(c->res);
	free(c->res);
	c->res = NULL;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

int main(void)
{
	static struct ctx c;
	struct wb_cgroup *cg = NULL;
	struct wb_slot_cfg cfg = {.idx = 0};
	char err[512];
	uint64_t send[WARM_RUNS], recv[WARM_RUNS];

	if (wb_policy_load(WB_TEST_POLICIES, "default", &c.policy, err, sizeof(err)) < 0) {
		fprintf(stderr, "%s\n", err);
		return 1;
	}
	wb_cgroup_open(&cg, err, sizeof(err));
	cfg.cg = cg;
	uv_loop_init(&c.loop);
	if (wb_slot_start(&c.loop, &cfg, on_state, &c, &c.slot, err, sizeof(err)) < 0) {
		fprintf(stderr, "%s\n", err);
		return 1;
	}
	uv_run(&c.loop, UV_RUN_DEFAULT);
	CHECKF(c.state == 1, "zygote did not become ready");
	if (c.state != 1)
		goto out;

	/* Job 1 leaves files, a SysV-free marker in /tmp, and a background
	 * process that would outlive it if the job's pid namespace did not. */
	CHECKF(run_sh(&c, "echo a > /box/left; echo b > /tmp/left; (sleep 30 &) ; echo done", 4, false) == 0,
	      "job 1 not run");
	if (c.res) {
		CHECKF(c.res->status == WB_STATUS_OK, "job 1 status %s (%s)", wb_status_name(c.res->status),
		      c.res->error ? c.res->error : "");
		drop_result(&c);
	}
	/* Job 2, same zygote: sees nothing of job 1. */
	CHECKF(run_sh(&c, "test ! -e /box/left && test ! -e /tmp/left && ! grep -qx sleep /proc/[0-9]*/comm"
		     " && echo clean", 4, false) == 0, "job 2 not run");
	if (c.res) {
		CHECKF(c.res->status == WB_STATUS_OK, "job 2 status %s", wb_status_name(c.res->status));
		CHECKF(c.res->out.len == 6 && memcmp(c.res->out.data, "clean\n", 6) == 0,
		      "job 2 saw job 1's traces: '%.*s'", (int)c.res->out.len, (const char *)c.res->out.data);
		drop_result(&c);
	}
	/* A job that fails must not spoil the next. */
	CHECKF(run_sh(&c, "exit 7", 1, false) == 0, "job 3 not run");
	if (c.res) {
		CHECKF(c.res->status == WB_STATUS_RE && c.res->exit_code == 7, "job 3 status %s",
		      wb_status_name(c.res->status));
		drop_result(&c);
	}
	/* Warm path: many short jobs in a row, each with its trace. */
	for (int i = 0; i < WARM_RUNS; i++) {
		send[i] = recv[i] = 0;
		if (run_sh(&c, ":", 1, true) != 0) {
			CHECKF(0, "warm job %d not run", i);
			break;
		}
		CHECKF(c.res->status == WB_STATUS_OK && c.res->has_trace, "warm job %d: %s %s", i,
		      wb_status_name(c.res->status), c.res->error ? c.res->error : "");
		send[i] = c.res->trace_send_to_exec_us;
		recv[i] = c.res->trace_recv_to_exec_us;
		drop_result(&c);
	}
	qsort(send, WARM_RUNS, sizeof(send[0]), cmp_u64);
	qsort(recv, WARM_RUNS, sizeof(recv[0]), cmp_u64);
	printf("# warm zygote, %d jobs of sh -c ':' (%s): send->execve median %llu us (p90 %llu), "
	       "job-init receive->execve median %llu us\n", WARM_RUNS,
	       wb_accounting_name(wb_cgroup_mode(cg)), (unsigned long long)send[WARM_RUNS / 2],
	       (unsigned long long)send[WARM_RUNS * 9 / 10], (unsigned long long)recv[WARM_RUNS / 2]);
out:
	wb_slot_close(c.slot);
	uv_run(&c.loop, UV_RUN_DEFAULT);
	uv_loop_close(&c.loop);
	wb_cgroup_close(cg);
	wb_job_free(&c.job);
	wb_policy_free(&c.policy);
	return check_report("zygote_reuse");
}
