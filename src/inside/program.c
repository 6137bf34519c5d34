/* program.c: the program's pre-exec recipe, in order, as DESIGN.md lists it.
 * Runs in a child of the job init; async-signal-safe only, no allocation. */
#include "inside/program.h"
#include "core/clock.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/capability.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <signal.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "proto/fdpass.h"
#include "policy/policy.h"
#include "manager/userns.h"
#include "proto/wire.h"

/* The handoff socket: x->handoff until setup_fds moves it to fd 3. This
 * process is a fork of the single-threaded job init: the static is ours. */
static int report_fd = -1;

static _Noreturn void fail(int stage, int err)
{
	struct wb_handoff h = {.kind = WB_HANDOFF_FAILED, .stage = stage, .err = err};

	wb_fdpass_send(report_fd, &h, sizeof(h), NULL, 0);
	_exit(127);
}

/* Every other disposition is the default already (the zygote reset them,
 * zygote.c); SIGPIPE is the one it ignores. Ignored, it is kept across
 * execve: a side of an interactive job whose peer has ended sees EPIPE. */
static void reset_signals(bool ignore_sigpipe)
{
	struct sigaction sa = {.sa_handler = ignore_sigpipe ? SIG_IGN : SIG_DFL};
	sigset_t none;

	sigaction(SIGPIPE, &sa, NULL);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
}

/* Both sides of an interactive job on one CPU: a ping-pong across two
 * CPUs pays a cross-CPU wakeup per message (bench/README.md,
 * "Interactive"). A hint only: a CPU we may not use changes nothing. */
static void pin_cpu(int cpu)
{
	cpu_set_t set;

	if (cpu < 0 || cpu >= CPU_SETSIZE)
		return;
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	sched_setaffinity(0, sizeof(set), &set);
}

/* Moves stdin/stdout/stderr/handoff to 0/1/2/3 and closes everything else. */
static int setup_fds(const struct wb_exec *x)
{
	int src[4] = {x->stdio[0], x->stdio[1], x->stdio[2], x->handoff};
	int rc = wb_fdpass_place(src, 4, 0);

	if (rc < 0)
		return rc;
	/* The handoff must vanish at execve: the program never sees it. */
	if (fcntl(WB_POLICY_HANDOFF_FD, F_SETFD, FD_CLOEXEC) < 0)
		return -errno;
	return 0;
}

/* Until execve we share the job init's memory, and dumpable is the
 * memory's: while it is dumpable, /proc/1 is open to a rootless job of the
 * same uid. It is, for the write only: the uid change left /proc/self
 * owned by root. No job process exists yet to use the moment, and the
 * execve makes the program's own new memory dumpable. */
static int raise_oom_score(void)
{
	int fd, rc = 0;

	if (prctl(PR_SET_DUMPABLE, 1, 0, 0, 0) < 0)
		return -errno;
	fd = open("/proc/self/oom_score_adj", O_WRONLY | O_CLOEXEC);
	if (fd < 0 || write(fd, "1000", 4) != 4)
		rc = -errno;
	if (fd >= 0)
		close(fd);
	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0 && rc == 0)
		rc = -errno;
	return rc;
}

static int set_limit(int res, uint64_t soft, uint64_t hard)
{
	struct rlimit rl = {.rlim_cur = soft, .rlim_max = hard};

	return setrlimit(res, &rl) < 0 ? -errno : 0;
}

/* 1024 descriptors, or as many as the hard limit warmbox was started with
 * when that is lower: no one in the job may raise it past that. */
static int set_nofile(void)
{
	struct rlimit rl;
	rlim_t n;

	if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
		return -errno;
	n = rl.rlim_max < 1024 ? rl.rlim_max : 1024;
	return set_limit(RLIMIT_NOFILE, n, n);
}

static int set_rlimits(const struct wb_exec *x)
{
	const struct wb_limits *l = x->limits;
	/* RLIMIT_CPU counts whole seconds: only a backstop behind the job
	 * init's millisecond watch (SIGXCPU first, SIGKILL a second later). */
	uint64_t cpu_s = (l->cpu_ms + 999) / 1000 + 1;
	int rc = 0;

	rc = rc ? rc : set_limit(RLIMIT_CORE, 0, 0);
	rc = rc ? rc : set_limit(RLIMIT_CPU, cpu_s, cpu_s + 1);
	rc = rc ? rc : set_limit(RLIMIT_FSIZE, l->file_size_kb * 1024, l->file_size_kb * 1024);
	rc = rc ? rc : set_limit(RLIMIT_STACK, l->stack_kb * 1024, l->stack_kb * 1024);
	rc = rc ? rc : set_nofile();
	rc = rc ? rc : set_limit(RLIMIT_MEMLOCK, 0, 0);
	rc = rc ? rc : set_limit(RLIMIT_MSGQUEUE, 0, 0);
	rc = rc ? rc : set_limit(RLIMIT_NPROC, l->procs + x->nproc_extra, l->procs + x->nproc_extra);
	return rc;
}

int wb_program_drop_bounding(void)
{
	for (int cap = 0; cap <= CAP_LAST_CAP; cap++)
		if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) < 0 && errno != EINVAL)
			return -errno;
	return 0;
}

/* capset empties what a rootless zygote (uid unchanged) still holds once
 * the uid change has cleared the rest. */
int wb_program_drop_privileges(void)
{
	struct __user_cap_header_struct hdr = {.version = _LINUX_CAPABILITY_VERSION_3, .pid = 0};
	struct __user_cap_data_struct data[2];

	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0)
		return -errno;
	/* Rootless zygotes run with setgroups denied: nothing to drop then. */
	if (setgroups(0, NULL) < 0 && errno != EPERM)
		return -errno;
	if (setresgid(WB_JOB_GID, WB_JOB_GID, WB_JOB_GID) < 0)
		return -errno;
	if (setresuid(WB_JOB_UID, WB_JOB_UID, WB_JOB_UID) < 0)
		return -errno;
	memset(data, 0, sizeof(data));
	if (syscall(SYS_capset, &hdr, data) < 0)
		return -errno;
	return 0;
}

_Noreturn void wb_program_exec(const struct wb_exec *x)
{
	struct sock_fprog prog = {.len = (unsigned short)x->bpf_len, .filter = (struct sock_filter *)x->bpf};
	struct wb_handoff h = {.kind = WB_HANDOFF_LISTENER};
	int rc, listener;

	x->trace[WB_TRACE_CLONED] = wb_clock_now_ns();
	/* Until execve names it after the program: the set-up apart from the
	 * job init's own work in perf's per-process breakdown. */
	prctl(PR_SET_NAME, "wb-program", 0, 0, 0);
	report_fd = x->handoff;
	/* A session of its own, without a controlling terminal: TIOCSTI
	 * reaches nobody's terminal, and kill(0) stays inside the job. */
	if (setsid() < 0)
		fail(WB_STAGE_FDS, errno);
	reset_signals(x->ignore_sigpipe);
	pin_cpu(x->cpu);
	if ((rc = setup_fds(x)) < 0)
		fail(WB_STAGE_FDS, -rc);
	/* --tty: the session's terminal is the job's own pty, from the job's
	 * own devpts (jobtty.c), never one of the host's: a shell gets job
	 * control, and TIOCSTI still reaches nothing outside the job. */
	if (x->ctty && ioctl(0, TIOCSCTTY, 0) < 0)
		fail(WB_STAGE_FDS, errno);
	report_fd = WB_POLICY_HANDOFF_FD;
	x->trace[WB_TRACE_FDS] = wb_clock_now_ns();
	if (chdir(x->cwd) < 0)
		fail(WB_STAGE_CHDIR, errno);
	umask(022);
	if ((rc = set_rlimits(x)) < 0)
		fail(WB_STAGE_RLIMIT, -rc);
	if ((rc = wb_program_drop_privileges()) < 0)
		fail(WB_STAGE_CREDS, -rc);
	/* The job init shares the job's cgroup: if the memory limit calls the
	 * OOM killer, it must pick the program, never the one who reports. */
	if ((rc = raise_oom_score()) < 0)
		fail(WB_STAGE_OOM_SCORE, -rc);
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		fail(WB_STAGE_CAPS, errno);
	x->trace[WB_TRACE_CREDS] = wb_clock_now_ns();
	/* Stamped before the filter, not after: where the vDSO cannot read the
	 * clock (a VM whose clocksource it does not support), clock_gettime is
	 * a real syscall, and after the filter it would wait on the job init,
	 * which waits for our execve (a deadlock under warmbox learn). */
	x->trace[WB_TRACE_EXEC] = wb_clock_now_ns();
	listener = (int)syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_NEW_LISTENER, &prog);
	if (listener < 0)
		fail(WB_STAGE_SECCOMP, errno);
	/* From here on only what every compiled policy lets through (policy.c
	 * add_handoff_rules): sendmsg and write on the handoff fd, execve
	 * as the policy says, and exit. */
	if (wb_fdpass_send(WB_POLICY_HANDOFF_FD, &h, sizeof(h), &listener, 1) < 0)
		_exit(127);
	/* The listener is close-on-exec: the program never holds it. */
	execve(x->path, x->argv, x->envp);
	fail(WB_STAGE_EXECVE, errno);
}
