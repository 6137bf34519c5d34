/* slot_impl.h: what slot.c (the zygote's life) and run.c (the job in
 * flight) share about one slot; not public, slot.h is. */
#ifndef WB_SLOT_IMPL_H
#define WB_SLOT_IMPL_H

#include <stdbool.h>
#include <stdint.h>
#include <unistd.h>

#include "core/result.h"
#include "manager/slot.h"
#include "proto/wire.h"

struct run {
	struct wb_slot *slot;
	const struct wb_job *job;
	const struct wb_policy *policy;
	wb_slot_done_cb done;
	void *data;
	bool trace;
	uint64_t sent_ns;
	uint64_t cpu_base;
	pid_t init_pid;          /* the job init, in the host's PID namespace; 0: not yet known */
	bool net_pending;        /* NET_READY came before init_pid */
	struct wb_cgroup_slot *cgs;  /* this job's cgroup (the run's to close), NULL for rlimit */
	int sock, out_fd, err_fd; /* out_fd -1: stdout wired to an interactive job's other side */
	uv_poll_t sock_poll, out_poll, err_poll;
	uv_timer_t guard;
	bool opened;             /* the guard timer is initialised */
	unsigned polls;          /* bit i: run_poll(i) initialised */
	int handles;             /* of those, not yet closed */
	bool sock_eof, out_eof, err_eof, kill_sent, finished;
	bool got_result;
	bool zygote_gone;        /* its zygote died or was killed meanwhile */
	struct wb_msg_result res;
	int copy_fd;
	const char *fail;
	struct wb_result r;
	struct wb_pasta *pasta;  /* network: true, from WB_MSG_NET_READY to the end */
	char why[320];           /* fail's text when it is made up here */
};

struct wb_slot {
	uv_loop_t *loop;
	struct wb_slot_cfg cfg;
	/* The cgroup the waiting spare sits in, which the next job gets: the
	 * zygote joins it, and the spare is born in it, ahead of time
	 * (joining can cost a whole RCU grace period). */
	struct wb_cgroup_slot *spare_cg;
	int spare_err;           /* the next spare's cgroup could not be made */
	pid_t pid;
	int pidfd;
	int ctl;
	int zsock;               /* to the zygote alone (zygote.h) */
	uv_poll_t ctl_poll, pid_poll;
	int handles;
	bool ready, dead, closing, reaped;
	bool spare_ready;        /* a spare job init waits: a job starts at once */
	pid_t spare_pid;         /* its pid on the host, from its credentials */
	bool pid_owed;           /* a run ended before its spare's SPARE_READY was read */
	wb_slot_state_cb cb;
	void *data;
	struct run *run;
	char why[256];           /* why the zygote is gone */
};

static inline enum wb_accounting slot_accounting(const struct wb_slot *s)
{
	return wb_cgroup_mode(s->cfg.cg);
}

static inline void slot_close_fds(const int *fds, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (fds[i] >= 0)
			close(fds[i]);
}

/* The zygote is gone (err, s->why says why): kill what is left of it, fail
 * the job in flight, tell the pool. Once. (slot.c) */
void slot_died(struct wb_slot *s, int err);
/* Makes the next spare's cgroup and tells the zygote. 0 or -errno. (slot.c) */
int slot_send_spare_cgroup(struct wb_slot *s);
/* The job init of the run in flight is pid (its SPARE_READY came after the
 * job was sent): noted, and a network waiting for it started. (run.c) */
void run_pid_known(struct run *r, pid_t pid);
/* Ends the job in flight: its result to the done callback, its handles
 * closed. Once. (run.c) */
void run_finish(struct run *r);

#endif
