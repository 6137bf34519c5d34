/* jobinit_impl.h: what the job init's recipe (jobinit.c) and its watch
 * over the running program (watch.c) share; not public, jobinit.h is. */
#ifndef WB_JOBINIT_IMPL_H
#define WB_JOBINIT_IMPL_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "inside/jobinit.h"
#include "proto/fdpass.h"
#include "proto/wire.h"

struct wb_learn;

struct job {
	struct wb_msg_job msg;
	int fds[WB_FDPASS_MAX];
	size_t nfds;
	struct wb_spec spec;
	struct wb_msg_result res;
	int boxfd;
	pid_t pid;               /* the program */
	int sigfd;
	int handoff;             /* -1 once the program has exec'd or failed */
	int listener;
	int sock;                /* the job socket to the manager */
	int cpu_fd;              /* cgroup CPU usage, -1 for rlimit accounting */
	uint64_t rss_peak_kb;    /* sampled, rlimit accounting only */
	struct wb_learn *learn;  /* warmbox learn's counts, else NULL */
	uint64_t start_ns;
	bool done;               /* the program was reaped */
	bool manager_gone;
	int tty;                 /* WB_JOB_TTY: the program's pty (jobtty.h), else -1 */
};

/* Takes the listener the program hands over right after installing its
 * filter; until then nothing the program does can need it. Without one
 * (the program failed before exec) the failure is in the report. */
void jobinit_take_listener(struct job *j);
/* Until the program is reaped or a limit, an SV or the manager ends the
 * job; the report's flags say which. */
void jobinit_watch(struct job *j);
/* Reaps what has exited (flags: waitpid's), noting the program's status. */
void jobinit_reap(struct job *j, int flags);

#endif
