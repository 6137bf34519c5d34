/* program.h: the last stage, in the forked program process: fds, rlimits, uid/gid, capabilities, no_new_privs, seccomp, execve. */
#ifndef WB_PROGRAM_H
#define WB_PROGRAM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <linux/filter.h>

#include "core/job.h"

/* Records the program sends the job init over the handoff socket. */
enum wb_handoff_kind {
	WB_HANDOFF_LISTENER = 1, /* carries the seccomp listener fd */
	WB_HANDOFF_FAILED,       /* a step failed: stage and errno */
};

struct wb_handoff {
	uint32_t kind;
	int32_t stage;
	int32_t err;
};

struct wb_exec {
	const char *path;        /* resolved program path */
	char *const *argv;
	char *const *envp;
	const char *cwd;
	int stdio[3];
	bool ctty;               /* stdin is the job's pty (WB_JOB_TTY): make it the controlling terminal */
	int handoff;             /* SOCK_SEQPACKET to the job init */
	const struct wb_limits *limits;
	unsigned nproc_extra;    /* helpers sharing the job's uid (rootless) */
	const struct sock_filter *bpf;
	size_t bpf_len;
	uint64_t *trace;         /* WB_TRACE_POINTS stamps, in the job init's memory */
	bool ignore_sigpipe;     /* an interactive job's side (wire.h WB_JOB_INTERACTIVE) */
	int cpu;                 /* pinned there, -1: anywhere */
};

/* Empties the bounding set, which limits only what an execve can grant:
 * the zygote once for every job init and program after it, warmbox enter
 * for its shell. Needs CAP_SETPCAP. 0 or -errno; async-signal-safe. */
int wb_program_drop_bounding(void);

/* In the job's user namespace, with every capability there and the
 * bounding set already empty: becomes WB_JOB_UID/GID with no capability
 * left (warmbox enter's shell too). 0 or -errno; async-signal-safe. */
int wb_program_drop_privileges(void);

/* Never returns: execs the program or reports a wb_handoff and _exits 127.
 * Only async-signal-safe calls. */
_Noreturn void wb_program_exec(const struct wb_exec *x);

#endif
