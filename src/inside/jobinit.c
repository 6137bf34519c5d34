/* jobinit.c: the job init's recipe. Spare stage: mount /box, /tmp, /proc and
 * wait. Job stage: files, fork the program, watch its limits, reap every
 * process, copy files out from inside the job's own mounts, report. */
#include "inside/jobinit_impl.h"
#include "core/clock.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sanitizer/asan_interface.h>
#include <unistd.h>

#include "inside/jobfiles.h"
#include "inside/jobtty.h"
#include "inside/learn.h"
#include "proto/fdpass.h"
#include "inside/program.h"
#include "manager/userns.h"
#include "proto/wire.h"

#define DEFAULT_PATH "/usr/local/bin:/usr/bin:/bin"

static int mount_tmpfs(const char *dir, const char *opts, unsigned long remount)
{
	if (mount("tmpfs", dir, "tmpfs", MS_NOSUID | MS_NODEV | remount, opts) < 0)
		return -errno;
	return 0;
}

/* The spare's part, done before any job is known. In a cgroup the job's
 * tmpfs pages are charged to it and memory_kb bounds them: the tmpfs keeps
 * the kernel's default size and needs no resizing per job. Without one,
 * the size is the bound (resize_job_fs). */
static int mount_job_fs(bool cgroup)
{
	char box[96], tmp[64];
	int rc;

	snprintf(box, sizeof(box), "mode=0755,uid=%d,gid=%d%s", WB_JOB_UID, WB_JOB_GID,
		 cgroup ? "" : ",size=" WB_STR(WB_DEFAULT_MEMORY_KB) "k");
	snprintf(tmp, sizeof(tmp), "mode=1777%s", cgroup ? "" : ",size=" WB_STR(WB_DEFAULT_MEMORY_KB) "k");
	if ((rc = mount_tmpfs("/box", box, 0)) < 0)
		return rc;
	if ((rc = mount_tmpfs("/tmp", tmp, 0)) < 0)
		return rc;
	/* A proc of the job's own pid namespace: it shows the job and nothing
	 * else, and hides the zygote's proc underneath. */
	if (mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) < 0)
		return -errno;
	return 0;
}

/* tmpfs is not bounded by RLIMIT_AS: without a cgroup, its size is the only
 * cap on what a job can park in /box and /tmp. */
static int resize_job_fs(uint64_t kb)
{
	char opts[64];
	int rc;

	snprintf(opts, sizeof(opts), "size=%lluk", (unsigned long long)kb);
	if ((rc = mount_tmpfs("/box", opts, MS_REMOUNT)) < 0)
		return rc;
	return mount_tmpfs("/tmp", opts, MS_REMOUNT);
}

static const char *env_get(char *const *env, const char *name)
{
	size_t len = strlen(name);

	for (; *env; env++)
		if (strncmp(*env, name, len) == 0 && (*env)[len] == '=')
			return *env + len + 1;
	return NULL;
}

/* PATH lookup happens here, inside the job's mounts, so programs written to
 * /box by the job are found too. Returns NULL when nothing matches. */
static const char *resolve(const struct wb_spec *s, char *buf, size_t len)
{
	const char *name = s->argv[0], *path = env_get(s->env, "PATH");

	if (strchr(name, '/'))
		return name;
	if (!path)
		path = DEFAULT_PATH;
	while (*path) {
		size_t dlen = strcspn(path, ":");
		struct stat st;
		int n;

		if (dlen == 0 || path[0] != '/')
			n = snprintf(buf, len, "%s/%.*s/%s", s->cwd, (int)dlen, path, name);
		else
			n = snprintf(buf, len, "%.*s/%s", (int)dlen, path, name);
		if (n > 0 && (size_t)n < len && stat(buf, &st) == 0 && S_ISREG(st.st_mode) &&
		    access(buf, X_OK) == 0)
			return buf;
		path += dlen;
		if (*path == ':')
			path++;
	}
	return NULL;
}

#define PROGRAM_STACK (256 * 1024)
static char program_stack[PROGRAM_STACK] __attribute__((aligned(16)));

static int program_main(void *arg)
{
	wb_program_exec(arg);
}

/* Notes the stage that failed for the report; returns rc (-errno). */
static int failed_at(struct job *j, int stage, int rc)
{
	j->res.stage = stage;
	j->res.err = -rc;
	return rc;
}

static int start_program(struct job *j)
{
	char pathbuf[4096];
	const char *path;
	int sp[2];
	struct wb_exec x;

	path = resolve(&j->spec, pathbuf, sizeof(pathbuf));
	if (!path) {
		j->res.flags |= WB_RES_EXEC_FAILED;
		return failed_at(j, WB_STAGE_EXECVE, -ENOENT);
	}
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sp) < 0)
		return failed_at(j, WB_STAGE_FORK, -errno);
	x = (struct wb_exec){
		.path = path, .argv = j->spec.argv, .envp = j->spec.env, .cwd = j->spec.cwd,
		.stdio = {j->fds[WB_JOBFD_STDIN], j->fds[WB_JOBFD_STDOUT], j->fds[WB_JOBFD_STDERR]},
		.ctty = j->tty >= 0,
		.handoff = sp[1], .limits = &j->msg.limits,
		.nproc_extra = j->msg.nproc_extra,
		.bpf = j->spec.bpf, .bpf_len = j->spec.bpf_len, .trace = j->res.trace,
		.ignore_sigpipe = j->msg.flags & WB_JOB_INTERACTIVE, .cpu = j->msg.cpu,
	};
	if (j->tty >= 0)
		x.stdio[0] = x.stdio[1] = x.stdio[2] = j->tty;
	j->start_ns = wb_clock_now_ns();
	/* Sharing our memory until execve spares copying the page tables
	 * (~100 us); we are suspended meanwhile, so nothing races on it. The
	 * stack outlives us in the zygote's memory: under AddressSanitizer
	 * the last program's frames left their marks on its shadow. */
	ASAN_UNPOISON_MEMORY_REGION(program_stack, PROGRAM_STACK);
	j->pid = clone(program_main, program_stack + PROGRAM_STACK, CLONE_VM | CLONE_VFORK | SIGCHLD, &x);
	if (j->pid < 0) {
		int rc = -errno;

		close(sp[0]);
		close(sp[1]);
		return failed_at(j, WB_STAGE_FORK, rc);
	}
	close(sp[1]);
	j->handoff = sp[0];
	return 0;
}

static void finish(struct job *j)
{
	struct rusage ru;

	/* pid 1's kill(-1) reaches every other process of the job's pid
	 * namespace, whatever it did to hide (setsid, double fork). */
	kill(-1, SIGKILL);
	jobinit_reap(j, 0);
	j->res.trace[WB_TRACE_REAPED] = wb_clock_now_ns();
	if (!j->res.wall_ns)
		j->res.wall_ns = wb_clock_now_ns() - j->start_ns;
	if (getrusage(RUSAGE_CHILDREN, &ru) == 0) {
		j->res.cpu_ns = (uint64_t)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000000000ull +
				(uint64_t)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) * 1000ull;
		j->res.maxrss_kb = (uint64_t)ru.ru_maxrss;
	}
	if (j->rss_peak_kb > j->res.maxrss_kb)
		j->res.maxrss_kb = j->rss_peak_kb;
}

/* The job as the manager sent it: its spec, a /box of its memory limit
 * (rlimit accounting), learn's counters. */
static int decode(struct job *j)
{
	int rc;

	if (j->nfds < WB_JOBFD_FIXED || j->msg.type != WB_MSG_JOB)
		return failed_at(j, WB_STAGE_JOB_DECODE, -EBADMSG);
	j->sock = j->fds[WB_JOBFD_SOCK];
	if (j->msg.flags & WB_JOB_CPU_FD && j->nfds > WB_JOBFD_FIXED)
		j->cpu_fd = j->fds[WB_JOBFD_FIXED];
	if ((rc = wb_wire_decode(j->fds[WB_JOBFD_SPEC], j->msg.spec_len, &j->spec)) < 0)
		return failed_at(j, WB_STAGE_JOB_DECODE, rc);
	if (j->msg.accounting == WB_ACCT_RLIMIT && j->msg.limits.memory_kb != WB_DEFAULT_MEMORY_KB &&
	    (rc = resize_job_fs(j->msg.limits.memory_kb)) < 0)
		return failed_at(j, WB_STAGE_JOB_MOUNTS, rc);
	if (j->msg.flags & WB_JOB_LEARN && !(j->learn = calloc(1, sizeof(*j->learn))))
		return failed_at(j, WB_STAGE_JOB_DECODE, -ENOMEM);
	j->res.trace[WB_TRACE_DECODED] = wb_clock_now_ns();
	return 0;
}

/* network: true: a network namespace of the job's own, made before any
 * of the job's processes exists, and configured by the manager's pasta
 * from outside while we wait. Dumpable meanwhile, so that a rootless
 * manager may open our /proc/PID/ns files; no job process is there yet
 * to take advantage of it. */
static int join_network(struct job *j)
{
	uint32_t msg = WB_MSG_NET_READY;
	ssize_t n;

	if (!(j->msg.flags & WB_JOB_NETWORK))
		return 0;
	if (unshare(CLONE_NEWNET) < 0)
		return failed_at(j, WB_STAGE_NETWORK, -errno);
	if (prctl(PR_SET_DUMPABLE, 1, 0, 0, 0) < 0)
		return failed_at(j, WB_STAGE_NETWORK, -errno);
	if (wb_fdpass_send(j->sock, &msg, sizeof(msg), NULL, 0) < 0)
		return failed_at(j, WB_STAGE_NETWORK, -EPIPE);
	do
		n = recv(j->sock, &msg, sizeof(msg), 0);
	while (n < 0 && errno == EINTR);
	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0)
		return failed_at(j, WB_STAGE_NETWORK, -errno);
	/* Anything else is the manager giving up (pasta failed: it says why). */
	if (n != (ssize_t)sizeof(msg) || msg != WB_MSG_NET_UP)
		return failed_at(j, WB_STAGE_NETWORK, -ENETUNREACH);
	return 0;
}

/* warmbox run --tty: the channel and the stderr pipe give way to the pty,
 * which is the program's stdin, stdout, stderr and controlling terminal.
 * The stderr pipe's end closes here, so the manager sees it end at once. */
static int make_tty(struct job *j)
{
	int stage, rc;

	if (!(j->msg.flags & WB_JOB_TTY))
		return 0;
	if ((rc = wb_jobtty_make(j->fds[WB_JOBFD_STDIN], &j->tty, &stage)) < 0)
		return failed_at(j, stage, rc);
	for (int i = WB_JOBFD_STDIN; i <= WB_JOBFD_STDERR; i++) {
		close(j->fds[i]);
		j->fds[i] = -1;
	}
	return 0;
}

/* Files by ref come as descriptors after the fixed ones and the CPU file. */
static int write_files(struct job *j)
{
	size_t refs = WB_JOBFD_FIXED + (j->cpu_fd >= 0 ? 1 : 0);
	int rc, src;

	j->boxfd = open("/box", O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (j->boxfd < 0)
		return failed_at(j, WB_STAGE_FILES, -errno);
	for (size_t i = 0; i < j->spec.nfiles; i++) {
		const struct wb_spec_file *f = &j->spec.files[i];

		src = -1;
		if (f->ref >= 0) {
			if (refs + (size_t)f->ref >= j->nfds)
				return failed_at(j, WB_STAGE_FILES, -EBADMSG);
			src = j->fds[refs + (size_t)f->ref];
		}
		if ((rc = wb_jobfiles_write(j->boxfd, f, src)) < 0)
			return failed_at(j, WB_STAGE_FILES, rc);
	}
	j->res.trace[WB_TRACE_FILES] = wb_clock_now_ns();
	return 0;
}

/* SIGCHLD as a descriptor, so that the watch waits on one poll. */
static int watch_children(struct job *j)
{
	sigset_t chld;

	sigemptyset(&chld);
	sigaddset(&chld, SIGCHLD);
	sigprocmask(SIG_BLOCK, &chld, NULL);
	j->sigfd = signalfd(-1, &chld, SFD_NONBLOCK | SFD_CLOEXEC);
	return j->sigfd < 0 ? failed_at(j, WB_STAGE_FORK, -errno) : 0;
}

/* The program's copies of stdin, stdout and stderr are all it needs; ours
 * would keep its pipes open after it is gone. */
static void drop_program_fds(struct job *j)
{
	for (size_t i = WB_JOBFD_STDIN; i < j->nfds; i++)
		if (j->fds[i] != j->cpu_fd && j->fds[i] >= 0)
			close(j->fds[i]);
	if (j->tty >= 0)
		close(j->tty);
	j->tty = -1;
}

/* The job stage, in DESIGN.md's order: decode, (network) a network
 * namespace of its own with pasta attached, (--tty) make the job's
 * terminal, write the files, fork the program (which sets its limits and
 * filter and execs), watch the limits, reap everything. Each step that
 * fails notes its stage for the report; report() follows in any case. */
static int run(struct job *j)
{
	int rc;

	if ((rc = decode(j)) < 0 || (rc = join_network(j)) < 0 || (rc = make_tty(j)) < 0 || (rc = write_files(j)) < 0 ||
	    (rc = watch_children(j)) < 0 || (rc = start_program(j)) < 0)
		return rc;
	drop_program_fds(j);
	jobinit_take_listener(j);
	jobinit_watch(j);
	finish(j);
	return 0;
}

static void drop_if_used(const char *dir)
{
	struct statfs sf;

	if (statfs(dir, &sf) == 0 && sf.f_bfree == sf.f_blocks && sf.f_ffree + 1 >= sf.f_files)
		return;
	umount2(dir, MNT_DETACH);
}

static int learned(struct job *j)
{
	int fd = memfd_create("wb-learned", MFD_CLOEXEC), rc;

	if (fd < 0)
		return -errno;
	rc = wb_wire_write_all(fd, j->learn, sizeof(*j->learn));
	if (rc < 0) {
		close(fd);
		return rc;
	}
	return fd;
}

static void report(struct job *j)
{
	int out = -1;

	if (j->manager_gone)
		return;
	if (j->learn) {
		out = learned(j);
		if (out < 0)
			failed_at(j, WB_STAGE_COPY_OUT, out);
	} else if (j->pid > 0 && !(j->res.flags & WB_RES_EXEC_FAILED)) {
		out = wb_jobfiles_copy_out(j->boxfd, j->spec.copy_out, j->spec.ncopy_out,
					   j->msg.limits.file_size_kb * 1024);
		if (out < -1)
			failed_at(j, WB_STAGE_COPY_OUT, out);
	}
	j->res.type = WB_MSG_RESULT;
	if (out >= 0)
		j->res.flags |= j->learn ? WB_RES_LEARNED : WB_RES_COPY_OUT;
	/* Free the job's tmpfs pages now, not when the last reference goes,
	 * so they are not charged to the next job's peak. An empty tmpfs
	 * holds nothing to free: most judge programs write only stdout, and
	 * an unmount costs tens of microseconds. */
	drop_if_used("/box");
	drop_if_used("/tmp");
	j->res.trace[WB_TRACE_REPORT] = wb_clock_now_ns();
	wb_fdpass_send(j->sock, &j->res, sizeof(j->res), &out, out >= 0 ? 1 : 0);
}

/* Joining is slow by cgroup.procs (an RCU grace period), so the spare does
 * it before its job exists, unless it was born in its cgroup. The fds are
 * closed after: the program gets none. Then a cgroup namespace rooted at
 * the job's own cgroup: the job sees "/" there, not the host's tree. */
_Noreturn void wb_jobinit_main(int ctl, bool in_cgroup)
{
	struct wb_msg_fail ready = {.type = WB_MSG_SPARE_READY};
	struct job j;
	ssize_t n;
	int rc;

	memset(&j, 0, sizeof(j));
	j.boxfd = j.sigfd = j.handoff = j.listener = j.sock = j.cpu_fd = j.tty = -1;
	j.res.syscall_nr = -1;
	/* Not dumpable: a rootless job shares our uid, and must not reach
	 * /proc/1 of its own namespace through it. */
	prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
	prctl(PR_SET_NAME, "wb-jobinit", 0, 0, 0);
	umask(0);
	/* Born in the job's cgroup (zygote.c); inside, it is the root. */
	rc = unshare(CLONE_NEWCGROUP) < 0 ? -errno : 0;
	if (rc < 0 || (rc = mount_job_fs(in_cgroup)) < 0) {
		struct wb_msg_fail f = {.type = WB_MSG_ZYGOTE_FAILED, .stage = WB_STAGE_JOB_MOUNTS, .err = -rc};

		wb_fdpass_send(ctl, &f, sizeof(f), NULL, 0);
		_exit(1);
	}
	/* Say so: the manager prefers zygotes whose spare is ready. */
	if (wb_fdpass_send(ctl, &ready, sizeof(ready), NULL, 0) < 0)
		_exit(1);
	j.nfds = WB_FDPASS_MAX;
	n = wb_fdpass_recv(ctl, &j.msg, sizeof(j.msg), j.fds, &j.nfds);
	if (n <= 0)
		_exit(0); /* the manager closed the zygote */
	j.res.trace[WB_TRACE_RECV] = wb_clock_now_ns();
	close(ctl);
	if (n != (ssize_t)sizeof(j.msg)) {
		j.msg.type = 0;
	}
	if (run(&j) < 0 && j.pid > 0)
		finish(&j);
	if (j.sock < 0 && j.nfds > WB_JOBFD_SOCK)
		j.sock = j.fds[WB_JOBFD_SOCK];
	if (j.sock >= 0)
		report(&j);
	/* The zygote's memory, which the next job init reuses: what this job
	 * took, it gives back. Descriptors are ours alone and go with us. */
	free(j.learn);
	wb_wire_spec_free(&j.spec);
	_exit(0);
}
