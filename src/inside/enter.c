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

enum step { STEP_SETNS = 1, STEP_FORK, STEP_TTY, STEP_CREDS, STEP_NO_NEW_PRIVS, STEP_SECCOMP, STEP_EXEC };

static const char *const step_names[] = {
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
	if ((rc = wb_program_drop_privileges()) < 0)
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

/* The joiner: in every namespace of the job but its PID namespace, which
 * only its children enter; it waits for the command and passes on how it
 * ended. */
static _Noreturn void joiner(const struct wb_enter *e, int rep)
{
	pid_t pid;
	int st;

	if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) < 0)
		fail(rep, STEP_SETNS, errno);
	if (setns(e->pidfd, JOB_NS_FLAGS) < 0)
		fail(rep, STEP_SETNS, errno);
	pid = fork();
	if (pid < 0)
		fail(rep, STEP_FORK, errno);
	if (pid == 0)
		command(e, rep);
	close(rep);
	if (e->tty >= 0)
		close(e->tty);
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			_exit(126);
	_exit(status_of(st));
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
