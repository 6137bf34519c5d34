/* slot.h: the manager's side of one zygote (a "slot"): starting it, sending
 * it jobs one at a time, and turning what comes back into a result. */
#ifndef WB_SLOT_H
#define WB_SLOT_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>
#include <uv.h>

#include "manager/cgroup.h"
#include "core/job.h"
#include "policy/policy.h"
#include "core/result.h"

struct wb_slot;

struct wb_slot_cfg {
	unsigned idx;            /* picks the slot's host uid and cgroup */
	char *const *binds;      /* extra read-only binds (policies) */
	size_t nbinds;
	struct wb_cgroup *cg;    /* NULL: rlimit accounting */
};

/* err 0: a spare job init is ready (the first call: the zygote is warm;
 * later ones: after each job's program has started). Otherwise the zygote
 * failed or died (msg says why); the slot must then be closed. */
typedef void (*wb_slot_state_cb)(struct wb_slot *slot, int err, const char *msg, void *data);
/* The result is the callee's to free with wb_result_free. */
typedef void (*wb_slot_done_cb)(struct wb_slot *slot, struct wb_result *res, void *data);

int wb_slot_start(uv_loop_t *loop, const struct wb_slot_cfg *cfg, wb_slot_state_cb cb, void *data,
		  struct wb_slot **out, char *err, size_t errlen);

/* One side of an interactive job (SPEC "Interactive jobs"): it reads in_fd
 * and writes out_fd, the other side's pipe ends, instead of the job's stdin
 * and the manager's stdout pipe; cpu is where it runs (-1: anywhere). The
 * caller keeps its descriptors and closes them once both sides are sent. */
struct wb_slot_wiring {
	int in_fd, out_fd;
	int cpu;
	/* warmbox run --tty instead: in_fd and out_fd are both the job's end
	 * of the tty channel (wire.h WB_JOB_TTY), cpu is -1. */
	bool tty;
};

/* Sends a job to a warm slot; done is called exactly once. The job and
 * policy must outlive the call to done. wiring is NULL for a plain job. */
int wb_slot_submit(struct wb_slot *slot, const struct wb_job *job, const struct wb_policy *policy,
		   const struct wb_slot_wiring *wiring, bool trace, wb_slot_done_cb done, void *data);

/* Ends the job in flight now (its result still comes, through done). */
void wb_slot_kill_job(struct wb_slot *slot);

/* True when a spare job init is waiting: a job sent now starts at once. */
bool wb_slot_spare_ready(const struct wb_slot *slot);

/* The host pid of the job init running the job in flight ({"op":"jobs"},
 * warmbox enter), 0 when there is none or it is unknown. */
pid_t wb_slot_job_pid(const struct wb_slot *slot);

/* Kills the zygote and frees the slot once libuv has let go of it. A job in
 * flight is answered with XX first. NULL is a no-op. */
void wb_slot_close(struct wb_slot *slot);

const char *wb_accounting_name(enum wb_accounting mode);

#endif
