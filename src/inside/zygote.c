/* zygote.c: the zygote. It never runs job code itself: it builds the root
 * once, then clones spare job inits, one ahead, each taking the next job
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
#include <unistd.h>

#include "proto/clone3.h"
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
	bool into;
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
	cg->into = m.into && cg->nfds > 0;
	return 0;
}

/* Clones the next spare: fresh pid, mount and IPC namespaces per job. On
 * cgroup v2 it is born in its job's cgroup (CLONE_INTO_CGROUP takes only
 * the read side of the kernel's cgroup lock; a write to cgroup.procs takes
 * the write side). Where the kernel refuses that, the spare joins by
 * writing cgroup.procs itself, and so do all later ones. */
static pid_t clone_spare(const struct wb_zygote_cfg *cfg, const struct spare_cgroup *cg, int *took_r)
{
	static bool into_refused;
	struct wb_clone_args args = {.flags = CLONE_NEWPID | CLONE_NEWNS | CLONE_NEWIPC, .exit_signal = SIGCHLD};
	const int *join = cg->fds;
	size_t njoin = cg->nfds;
	int took[2];
	pid_t pid = -1;

	if (pipe2(took, O_CLOEXEC) < 0)
		return -errno;
	if (cg->into) {
		join++;
		njoin--;
		if (!into_refused) {
			args.flags |= CLONE_INTO_CGROUP;
			args.cgroup = (uint64_t)cg->fds[0];
			pid = wb_clone3(&args);
			if (pid < 0 && errno != ENOMEM && errno != EAGAIN)
				into_refused = true;
			if (pid >= 0)
				njoin = 0;
		}
	}
	if (pid < 0) {
		args.flags &= ~(uint64_t)CLONE_INTO_CGROUP;
		args.cgroup = 0;
		pid = wb_clone3(&args);
	}
	if (pid < 0) {
		int err = errno;

		close(took[0]);
		close(took[1]);
		return -err;
	}
	if (pid == 0) {
		close(took[0]);
		wb_jobinit_main(cfg->ctl, took[1], join, njoin, cg->nfds > 0);
	}
	close(took[1]);
	*took_r = took[0];
	return pid;
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
	pid_t inits[2] = {0, 0};
	char byte;
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
	/* Our only children are job inits, reaped by pid. Spare n+2 comes
	 * only once job init n has exited, so at most two live at once: rootless,
	 * RLIMIT_NPROC counts them with the job (slot.c, ROOTLESS_HELPERS). Init
	 * n has reported by then; the wait is for its exit only. */
	for (unsigned long nth = 0;; nth++) {
		struct spare_cgroup cg;
		int took = -1;
		pid_t spare;
		ssize_t n;

		if (inits[nth % 2] > 0)
			while (waitpid(inits[nth % 2], NULL, 0) < 0 && errno == EINTR)
				;
		/* The manager sends it with the job before; none comes only
		 * when it closed this zygote. */
		if (recv_cgroup(cfg->zsock, &cg) < 0)
			_exit(0);
		spare = clone_spare(cfg, &cg, &took);
		for (size_t i = 0; i < cg.nfds; i++)
			close(cg.fds[i]);
		if (spare < 0)
			fail(cfg->ctl, WB_STAGE_SPARE, (int)-spare);
		inits[nth % 2] = spare;
		do
			n = read(took, &byte, 1);
		while (n < 0 && errno == EINTR);
		close(took);
		/* The spare exits without taking a job only when the manager
		 * closed the control socket or its mounts failed (it said so
		 * itself): either way this zygote is done. */
		if (n != 1)
			_exit(0);
	}
}
