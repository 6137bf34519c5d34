/* enter.c: `warmbox enter`, inside: a joiner process takes the job init's
 * namespaces, and its child, the only one in the job's PID namespace,
 * becomes the job's uid under a policy's filter and execs the command. */
#include "inside/enter.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "inside/program.h"

/* Every namespace a job init has; the user namespace first, which setns
 * with a pidfd does by itself. */
#define JOB_NS_FLAGS (CLONE_NEWUSER | CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWIPC | CLONE_NEWUTS | \
		      CLONE_NEWNET | CLONE_NEWCGROUP)

enum step { STEP_CGROUP = 1, STEP_SETNS, STEP_FORK, STEP_TTY, STEP_CREDS, STEP_NO_NEW_PRIVS, STEP_SECCOMP, STEP_EXEC };

static const char *const step_names[] = {
	[STEP_CGROUP] = "join the job's cgroups",
	[STEP_SETNS] = "join the job's namespaces",
	[STEP_FORK] = "fork inside the job's PID namespace",
	[STEP_TTY] = "make the terminal the controlling one",
	[STEP_CREDS] = "become the job's uid",
	[STEP_NO_NEW_PRIVS] = "set no_new_privs",
	[STEP_SECCOMP] = "install the policy's filter",
	[STEP_EXEC] = "run the command",
};

struct report {
	int step, err;
};

static _Noreturn void fail(int rep, int step, int err)
{
	struct report r = {.step = step, .err = err};

	if (write(rep, &r, sizeof(r)) < 0)
		_exit(126);
	_exit(126);
}

static int status_of(int st)
{
	if (WIFEXITED(st))
		return WEXITSTATUS(st);
	return 128 + (WIFSIGNALED(st) ? WTERMSIG(st) : 0);
}

/* The entered command, in the job's PID namespace: only async-signal-safe
 * calls, as in program.c, whose privilege drop it shares. */
static _Noreturn void command(const struct wb_enter *e, int rep)
{
	struct sock_fprog prog = {.len = (unsigned short)e->policy->bpf_len,
				  .filter = (struct sock_filter *)e->policy->bpf};
	extern char **environ;
	int rc;

	/* A session of its own: the operator's terminal, if it is still ours,
	 * is nobody's controlling terminal in here. */
	if (setsid() < 0)
		fail(rep, STEP_TTY, errno);
	if (e->tty >= 0) {
		if (ioctl(e->tty, TIOCSCTTY, 0) < 0)
			fail(rep, STEP_TTY, errno);
		if (dup2(e->tty, 0) < 0 || dup2(e->tty, 1) < 0 || dup2(e->tty, 2) < 0)
			fail(rep, STEP_TTY, errno);
		if (e->tty > 2)
			close(e->tty);
	} else if (dup2(e->stdio[0], 0) < 0 || dup2(e->stdio[1], 1) < 0 || dup2(e->stdio[2], 2) < 0) {
		fail(rep, STEP_TTY, errno);
	}
	if ((rc = wb_program_drop_bounding()) < 0 || (rc = wb_program_drop_privileges()) < 0)
		fail(rep, STEP_CREDS, -rc);
	/* Cleared by the uid change: set again, so a killed joiner takes the
	 * command with it. The job's end kills it anyway (its PID namespace). */
	if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) < 0)
		fail(rep, STEP_CREDS, errno);
	if (prctl(PR_SET_DUMPABLE, 1, 0, 0, 0) < 0 || prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		fail(rep, STEP_NO_NEW_PRIVS, errno);
	/* No listener: what the policy sends to the job init (its refusals)
	 * fails with ENOSYS here rather than ending the job. */
	if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog) < 0)
		fail(rep, STEP_SECCOMP, errno);
	if (chdir("/box") < 0 && chdir("/") < 0)
		fail(rep, STEP_EXEC, errno);
	environ = (char **)e->envp;
	execvp(e->argv[0], e->argv);
	fail(rep, STEP_EXEC, errno);
}

/* Where v1 hierarchy "controllers" (a /proc/PID/cgroup field) is mounted.
 * 0, or -ENOENT when it is not. */
static int hierarchy_dir(const char *controllers, char *dir, size_t len)
{
	char probe[320];

	snprintf(dir, len, "/sys/fs/cgroup/%s", strncmp(controllers, "name=", 5) == 0 ? controllers + 5 : controllers);
	snprintf(probe, sizeof(probe), "%s/cgroup.procs", dir);
	return access(probe, F_OK) == 0 ? 0 : -ENOENT;
}

/* The entered command's memory and CPU count against the job's limits, as
 * its own processes' do: we join the job init's cgroups (read from the
 * host's view, before setns), and the command inherits them. Not its pids
 * one: a job of procs 1 would leave the shell unable to fork. So on cgroup
 * v2, one hierarchy with pids in it, the command stays outside (README
 * "warmbox enter"). A job on rlimit accounting has none of its own. */
static int join_cgroups(pid_t pid)
{
	char path[64], line[1024], whole[1032], dir[256], procs[1400], ours[8192] = "\n";
	FILE *f = fopen("/proc/self/cgroup", "re");
	size_t n;
	int rc = 0;

	if (!f)
		return -errno;
	n = fread(ours + 1, 1, sizeof(ours) - 2, f);
	ours[n + 1] = '\0';
	fclose(f);
	snprintf(path, sizeof(path), "/proc/%d/cgroup", (int)pid);
	f = fopen(path, "re");
	if (!f)
		return -errno;
	while (rc == 0 && fgets(line, sizeof(line), f)) {
		/* Where we are already (rlimit accounting: the job has none of
		 * its own), there is nothing to join, nor any right to. */
		snprintf(whole, sizeof(whole), "\n%s", line);
		if (strstr(ours, whole))
			continue;
		char *ctrl = strchr(line, ':'), *cg = ctrl ? strchr(ctrl + 1, ':') : NULL;
		int fd;

		if (!cg)
			continue;
		*cg++ = '\0';
		cg[strcspn(cg, "\n")] = '\0';
		ctrl++;
		/* The host's own root: the job has no cgroup of this kind. */
		if (strcmp(cg, "/") == 0 || !*ctrl || strcmp(ctrl, "pids") == 0 ||
		    hierarchy_dir(ctrl, dir, sizeof(dir)) < 0)
			continue;
		snprintf(procs, sizeof(procs), "%s%s/cgroup.procs", dir, cg);
		fd = open(procs, O_WRONLY | O_CLOEXEC);
		if (fd < 0 || write(fd, "0", 1) != 1)
			rc = -errno;
		if (fd >= 0)
			close(fd);
	}
	fclose(f);
	return rc;
}

/* Forks fn's process and waits for it; exits as it ended. */
/* fn never returns: it execs or _exits. */
static _Noreturn void run_child(const struct wb_enter *e, int rep, void (*fn)(const struct wb_enter *, int))
{
	pid_t pid = fork();
	int st;

	if (pid < 0)
		fail(rep, STEP_FORK, errno);
	if (pid == 0) {
		fn(e, rep);
		_exit(126);
	}
	close(rep);
	if (e->tty >= 0)
		close(e->tty);
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			_exit(126);
	_exit(status_of(st));
}

/* In the job's PID namespace: a PID namespace of the command's own inside
 * it, so that whatever the command leaves in the background ends with it,
 * not with the job. (unshare takes it only from a process whose own PID
 * namespace is the one its children get: hence this middle process.) */
static _Noreturn void middle(const struct wb_enter *e, int rep)
{
	if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) < 0 || unshare(CLONE_NEWPID) < 0)
		fail(rep, STEP_FORK, errno);
	run_child(e, rep, command);
}

/* The joiner: in the job's cgroups and in every namespace of the job but
 * its PID namespace, which only its children enter; it waits for them and
 * passes on how the command ended. */
static _Noreturn void joiner(const struct wb_enter *e, int rep)
{
	int rc;

	if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) < 0)
		fail(rep, STEP_SETNS, errno);
	if ((rc = join_cgroups(e->pid)) < 0)
		fail(rep, STEP_CGROUP, -rc);
	if (setns(e->pidfd, JOB_NS_FLAGS) < 0)
		fail(rep, STEP_SETNS, errno);
	run_child(e, rep, middle);
}

int wb_enter_start(const struct wb_enter *e, pid_t *joiner_pid)
{
	struct report r = {0};
	int rep[2], st;
	ssize_t n;
	pid_t pid;

	if (pipe2(rep, O_CLOEXEC) < 0)
		return -errno;
	pid = fork();
	if (pid < 0) {
		int err = errno;

		close(rep[0]);
		close(rep[1]);
		return -err;
	}
	if (pid == 0) {
		close(rep[0]);
		joiner(e, rep[1]);
	}
	close(rep[1]);
	/* End of file: the command's execve closed the last copy. */
	do
		n = read(rep[0], &r, sizeof(r));
	while (n < 0 && errno == EINTR);
	close(rep[0]);
	if (n == (ssize_t)sizeof(r) && r.step > 0 && r.step <= STEP_EXEC) {
		while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
			;
		fprintf(stderr, "warmbox enter: cannot %s: %s\n", step_names[r.step], strerror(r.err));
		return r.err > 0 ? -r.err : -EIO;
	}
	*joiner_pid = pid;
	return 0;
}

int wb_enter_wait(pid_t joiner_pid)
{
	int st;

	while (waitpid(joiner_pid, &st, 0) < 0)
		if (errno != EINTR)
			return -errno;
	return status_of(st);
}
