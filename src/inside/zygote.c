/* zygote.c: the zygote. It never runs job code itself: it builds the root
 * once, then runs spare job inits one at a time, each taking the next job
 * straight from the control socket. */
#include "inside/zygote.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <stdbool.h>
#include <sanitizer/asan_interface.h>
#include <unistd.h>

#include "proto/fdpass.h"
#include "inside/jobinit.h"
#include "inside/program.h"
#include "inside/rootfs.h"
#include "proto/wire.h"

static _Noreturn void fail(int ctl, int stage, int err)
{
	struct wb_msg_fail f = {.type = WB_MSG_ZYGOTE_FAILED, .stage = stage, .err = err};

	wb_fdpass_send(ctl, &f, sizeof(f), NULL, 0);
	_exit(1);
}

/* Our stdio is the manager's: a job must never inherit its terminal, and
 * fds received later must not land on 0..2. */
static int detach_stdio(void)
{
	int fd = open("/dev/null", O_RDWR | O_CLOEXEC);

	if (fd < 0)
		return -errno;
	for (int i = 0; i < 3; i++)
		if (dup2(fd, i) < 0)
			return -errno;
	if (fd > 2)
		close(fd);
	return 0;
}

/* The cgroup the next spare starts in, as the manager sent it. */
struct spare_cgroup {
	int fds[WB_SPARE_CGROUP_MAX_FDS];
	size_t nfds;
};

static int recv_cgroup(int zsock, struct spare_cgroup *cg)
{
	struct wb_msg_cgroup m;
	ssize_t n;

	cg->nfds = WB_SPARE_CGROUP_MAX_FDS;
	do
		n = wb_fdpass_recv(zsock, &m, sizeof(m), cg->fds, &cg->nfds);
	while (n == -EINTR);
	if (n != (ssize_t)sizeof(m) || m.type != WB_MSG_SPARE_CGROUP) {
		for (size_t i = 0; n > 0 && i < cg->nfds; i++)
			close(cg->fds[i]);
		return n < 0 ? (int)n : -EPIPE;
	}
	return 0;
}

/* What the spare is started with. */
struct spare {
	int ctl;
	bool in_cgroup;
};

static int spare_main(void *arg)
{
	const struct spare *sp = arg;

	wb_jobinit_main(sp->ctl, sp->in_cgroup);
}

/* The job init's stack: one runs at a time, on it. */
#define SPARE_STACK (256 * 1024)
static char spare_stack[SPARE_STACK] __attribute__((aligned(16)));

/* We join the next job's cgroup ourselves, and the spare is born in it.
 * The kernel charges memory to the cgroup of the memory's owner, and the
 * spare's memory is ours: the files its job init writes into /box must
 * count against the job's limit, not ours. We sleep through the job, so
 * no CPU of ours is the job's; the job's pids limit counts us (cgroup.c).
 * The descriptors are closed here, in any case: the spare never holds
 * them. */
static int join_cgroup(const struct spare_cgroup *cg)
{
	int rc = 0;

	for (size_t i = 0; i < cg->nfds; i++)
		if (write(cg->fds[i], "0", 1) != 1 && rc == 0)
			rc = -errno;
	for (size_t i = 0; i < cg->nfds; i++)
		close(cg->fds[i]);
	return rc;
}

/* Runs the next spare, through its job to its exit: fresh pid, mount and
 * IPC namespaces per job. It shares our memory, as a vfork child does, and
 * we are suspended until it exits: no copy of our page tables to make and
 * free per job, no copy-on-write faults, and never two users of the
 * memory's per-thread state (errno, malloc's) at once. Returns its exit
 * status or -errno. */
static int run_spare(const struct wb_zygote_cfg *cfg, bool in_cgroup)
{
	struct spare sp = {.ctl = cfg->ctl, .in_cgroup = in_cgroup};
	int status;
	pid_t pid;

	/* The last job init's frames left their marks on the stack's shadow
	 * under AddressSanitizer; a no-op otherwise. */
	ASAN_UNPOISON_MEMORY_REGION(spare_stack, SPARE_STACK);
	pid = clone(spare_main, spare_stack + SPARE_STACK,
		    CLONE_VM | CLONE_VFORK | CLONE_NEWPID | CLONE_NEWNS | CLONE_NEWIPC | SIGCHLD, &sp);
	if (pid < 0)
		return -errno;
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return -errno;
	return status;
}

/* Of the dispositions, execve keeps only "ignored": what the operator's
 * shell or the manager ignored would reach every job. They go back to the
 * default here, once, and not in each program. SIGPIPE alone is ignored,
 * for us and the job inits: a write to a peer that has gone is an error to
 * report, not a death; the program sets its own (program.c). */
static int reset_signals(void)
{
	struct sigaction dfl = {.sa_handler = SIG_DFL}, ign = {.sa_handler = SIG_IGN};

	for (int sig = 1; sig < NSIG; sig++)
		if (sig != SIGKILL && sig != SIGSTOP && sigaction(sig, &dfl, NULL) < 0 && errno != EINVAL)
			return -errno;
	if (sigaction(SIGPIPE, &ign, NULL) < 0)
		return -errno;
	return 0;
}

static int clear_inheritable(void)
{
	struct __user_cap_header_struct hdr = {.version = _LINUX_CAPABILITY_VERSION_3, .pid = 0};
	struct __user_cap_data_struct data[2];

	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0)
		return -errno;
	if (syscall(SYS_capget, &hdr, data) < 0)
		return -errno;
	data[0].inheritable = data[1].inheritable = 0;
	if (syscall(SYS_capset, &hdr, data) < 0)
		return -errno;
	return 0;
}

_Noreturn void wb_zygote_main(const struct wb_zygote_cfg *cfg)
{
	int rc;

	/* Not dumpable: the exec made us so again. The window before this
	 * line has no other process in our namespaces to use it. */
	prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
	/* The manager's death must take us and every job with us. Armed before
	 * the exec as well; had it died in between, the sockets' end below
	 * ends us. */
	prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
	/* An exec through a descriptor names us after its number. */
	prctl(PR_SET_NAME, "wb-zygote", 0, 0, 0);
	/* What carried our capabilities across the exec (slot.c) goes, and
	 * what any later execve could grant: no job init execs, and each
	 * program inherits the bounding set empty (program.c). */
	if ((rc = clear_inheritable()) < 0 || (rc = wb_program_drop_bounding()) < 0)
		fail(cfg->ctl, WB_STAGE_ZYGOTE_EXEC, -rc);
	if ((rc = reset_signals()) < 0)
		fail(cfg->ctl, WB_STAGE_ZYGOTE_SYNC, -rc);
	if ((rc = detach_stdio()) < 0)
		fail(cfg->ctl, WB_STAGE_ZYGOTE_SYNC, -rc);
	/* No controlling terminal for us or any job after us (bubblewrap's
	 * CVE-2017-5226: TIOCSTI into the operator's terminal). */
	if (setsid() < 0)
		fail(cfg->ctl, WB_STAGE_ZYGOTE_SYNC, errno);
	if ((rc = wb_rootfs_build(cfg->binds, cfg->nbinds)) < 0)
		fail(cfg->ctl, WB_STAGE_ROOTFS, -rc);
	if (sethostname("warmbox", 7) < 0 || setdomainname("warmbox", 7) < 0)
		fail(cfg->ctl, WB_STAGE_HOSTNAME, errno);
	/* Our only children are job inits, one at a time. A job init that
	 * did not exit on its own, 0, may have left our memory, which it
	 * shares, half-changed (a kill inside malloc): this zygote ends and
	 * the manager starts another. So it does when the manager closed
	 * the control socket or the spare's mounts failed (it said so). */
	for (;;) {
		struct spare_cgroup cg;

		/* The manager sends it with the job before; none comes only
		 * when it closed this zygote. */
		if (recv_cgroup(cfg->zsock, &cg) < 0)
			_exit(0);
		if ((rc = join_cgroup(&cg)) < 0 || (rc = run_spare(cfg, cg.nfds > 0)) < 0)
			fail(cfg->ctl, WB_STAGE_SPARE, -rc);
		if (!WIFEXITED(rc) || WEXITSTATUS(rc) != 0)
			_exit(0);
	}
}
