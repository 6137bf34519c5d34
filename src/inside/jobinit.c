/* jobinit.c: the job init's recipe. Spare stage: mount /box, /tmp, /proc and
 * wait. Job stage: files, fork the program, watch its limits, reap every
 * process, copy files out from inside the job's own mounts, report. */
#include "inside/jobinit.h"
#include "core/clock.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/audit.h>
#include <linux/seccomp.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "manager/cgroup.h"
#include "proto/fdpass.h"
#include "inside/jobfiles.h"
#include "policy/learn.h"
#include "inside/procscan.h"
#include "inside/program.h"
#include "manager/userns.h"
#include "proto/wire.h"

#define DEFAULT_PATH "/usr/local/bin:/usr/bin:/bin"
#if defined(__x86_64__)
#define NATIVE_AUDIT_ARCH AUDIT_ARCH_X86_64
#define X32_SYSCALL_BIT 0x40000000u
#elif defined(__aarch64__)
#define NATIVE_AUDIT_ARCH AUDIT_ARCH_AARCH64
#define X32_SYSCALL_BIT 0u
#else
#error "warmbox knows the syscall ABI of x86_64 and aarch64 only"
#endif
/* How often resident memory is sampled without a cgroup. */
#define RSS_SAMPLE_NS 5000000ull

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
	int took;                /* pipe to the zygote, -1 once written */
};

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

static unsigned parallelism(uint64_t procs)
{
	cpu_set_t set;
	unsigned n = 1;

	if (sched_getaffinity(0, sizeof(set), &set) == 0)
		n = (unsigned)CPU_COUNT(&set);
	return procs < n ? (unsigned)procs : (n ? n : 1);
}

/* CPU time of the whole job so far: the cgroup's counter when there is one;
 * otherwise the program's own clock, the other live processes' and what
 * reaped processes used. Without a cgroup the same scan of the job's /proc
 * samples its resident memory, which memory_kb bounds (RLIMIT_AS would
 * bound address space, which the JVM, Go and V8 reserve by gigabytes). */
static uint64_t cpu_used(struct job *j)
{
	struct wb_procscan scan;
	uint64_t ns = 0;
	struct rusage ru;

	if (j->cpu_fd >= 0) {
		if (wb_cgroup_read_cpu((enum wb_accounting)j->msg.accounting, j->cpu_fd, &ns) < 0)
			return 0;
		return ns > j->msg.cpu_base_ns ? ns - j->msg.cpu_base_ns : 0;
	}
	if (!j->done) {
		clockid_t clk;
		struct timespec ts;

		if (clock_getcpuclockid(j->pid, &clk) == 0 && clock_gettime(clk, &ts) == 0)
			ns = (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
	}
	if (j->msg.accounting == WB_ACCT_RLIMIT && wb_procscan_read(j->pid, &scan) == 0) {
		if (j->msg.limits.procs > 1)
			ns += scan.cpu_ns;
		if (scan.rss_kb > j->rss_peak_kb)
			j->rss_peak_kb = scan.rss_kb;
	}
	if (getrusage(RUSAGE_CHILDREN, &ru) == 0)
		ns += (uint64_t)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000000000ull +
		      (uint64_t)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) * 1000ull;
	return ns;
}

static void note_status(struct job *j, int status)
{
	j->done = true;
	j->res.wall_ns = wb_clock_now_ns() - j->start_ns;
	if (WIFEXITED(status)) {
		j->res.flags |= WB_RES_EXITED;
		j->res.exit_code = WEXITSTATUS(status);
	} else if (WIFSIGNALED(status)) {
		j->res.signal = WTERMSIG(status);
	}
}

static void reap(struct job *j, int flags)
{
	int status;
	pid_t pid;

	while ((pid = waitpid(-1, &status, flags)) > 0 || (pid < 0 && errno == EINTR))
		if (pid == j->pid && !j->done)
			note_status(j, status);
}

static void on_handoff(struct job *j)
{
	struct wb_handoff h;
	ssize_t n = wb_fdpass_recv(j->handoff, &h, sizeof(h), NULL, NULL);

	if (n == (ssize_t)sizeof(h) && h.kind == WB_HANDOFF_FAILED) {
		j->res.flags |= WB_RES_EXEC_FAILED;
		j->res.stage = h.stage;
		j->res.err = h.err;
	}
	if (n <= 0 || n == (ssize_t)sizeof(h)) {
		close(j->handoff);
		j->handoff = -1;
	}
}

/* Returns true when the job must end now. */
static bool on_notification(struct job *j)
{
	struct seccomp_notif req;

	memset(&req, 0, sizeof(req));
	if (ioctl(j->listener, SECCOMP_IOCTL_NOTIF_RECV, &req) < 0)
		return false; /* the caller died meanwhile */
	/* Never answered, not even while learning: no rule covers it. */
	if (req.data.arch != NATIVE_AUDIT_ARCH || (req.data.nr & X32_SYSCALL_BIT)) {
		if (j->res.syscall_nr == -1)
			j->res.syscall_nr = WB_SYSCALL_FOREIGN_ARCH;
		j->res.flags |= WB_RES_SECCOMP;
		return true;
	}
	if (j->learn) {
		wb_learn_answer(j->listener, &req, j->learn);
		return false;
	}
	if (j->res.syscall_nr == -1)
		j->res.syscall_nr = req.data.nr;
	j->res.flags |= WB_RES_SECCOMP;
	return true;
}

static bool on_manager(struct job *j)
{
	uint32_t type = 0;
	ssize_t n = wb_fdpass_recv(j->sock, &type, sizeof(type), NULL, NULL);

	if (n == 0 || (n < 0 && n != -EAGAIN && n != -EINTR)) {
		j->manager_gone = true;
		return true;
	}
	return n == (ssize_t)sizeof(type) && type == WB_MSG_KILL;
}

/* Waits for the program, enforcing the CPU and wall limits. CPU time grows
 * at most `parallelism` times faster than the wall clock, so sleeping for
 * what is left divided by that can never overshoot by more than a tick. */
static void watch(struct job *j)
{
	const uint64_t cpu_limit = j->msg.limits.cpu_ms * 1000000ull;
	const uint64_t wall_limit = j->msg.limits.wall_ms * 1000000ull;
	const unsigned par = parallelism(j->msg.limits.procs);

	while (!j->done) {
		struct pollfd pfd[4];
		nfds_t n = 0;
		uint64_t elapsed = wb_clock_now_ns() - j->start_ns, used = cpu_used(j), wait;
		struct timespec ts;

		if (elapsed >= wall_limit) {
			j->res.flags |= WB_RES_TL_WALL;
			return;
		}
		if (used >= cpu_limit) {
			j->res.flags |= WB_RES_TL_CPU;
			return;
		}
		if (j->rss_peak_kb > j->msg.limits.memory_kb)
			return; /* ML: the report's peak says so */
		wait = (cpu_limit - used) / par;
		if (wait > wall_limit - elapsed)
			wait = wall_limit - elapsed;
		/* Faulting pages in runs at a few GiB/s: sampling every few
		 * milliseconds keeps the overshoot to tens of MiB. */
		if (j->msg.accounting == WB_ACCT_RLIMIT && wait > RSS_SAMPLE_NS)
			wait = RSS_SAMPLE_NS;
		if (wait < 1000000)
			wait = 1000000;
		ts.tv_sec = (time_t)(wait / 1000000000ull);
		ts.tv_nsec = (long)(wait % 1000000000ull);
		pfd[n++] = (struct pollfd){.fd = j->sigfd, .events = POLLIN};
		pfd[n++] = (struct pollfd){.fd = j->sock, .events = POLLIN};
		if (j->listener >= 0)
			pfd[n++] = (struct pollfd){.fd = j->listener, .events = POLLIN};
		if (j->handoff >= 0)
			pfd[n++] = (struct pollfd){.fd = j->handoff, .events = POLLIN};
		if (ppoll(pfd, n, &ts, NULL) < 0 && errno != EINTR)
			return;
		for (nfds_t i = 0; i < n; i++) {
			if (!pfd[i].revents)
				continue;
			if (pfd[i].fd == j->sigfd) {
				struct signalfd_siginfo si;

				while (read(j->sigfd, &si, sizeof(si)) == (ssize_t)sizeof(si))
					;
				reap(j, WNOHANG);
			} else if (pfd[i].fd == j->sock) {
				if (on_manager(j))
					return;
			} else if (pfd[i].fd == j->listener) {
				/* Without POLLIN this is the filter's last user
				 * gone: the listener stays "ready" from now on,
				 * and polling it again would spin. */
				if (!(pfd[i].revents & POLLIN)) {
					close(j->listener);
					j->listener = -1;
				} else if (on_notification(j)) {
					return;
				}
			} else if (pfd[i].fd == j->handoff) {
				on_handoff(j);
			}
		}
	}
}

#define PROGRAM_STACK (256 * 1024)
static char program_stack[PROGRAM_STACK] __attribute__((aligned(16)));

static int program_main(void *arg)
{
	wb_program_exec(arg);
}

/* Tells the zygote to clone the next spare. Not before the program has
 * exec'd: cloning it and joining its cgroup take the kernel's mount and
 * cgroup locks, and would stall this job's own setup and fork. */
static void release_zygote(struct job *j)
{
	if (j->took < 0)
		return;
	if (write(j->took, "j", 1) != 1)
		_exit(1);
	close(j->took);
	j->took = -1;
}

static void sandbox_failed(struct job *j, int stage, int err)
{
	j->res.stage = stage;
	j->res.err = err;
}

static int start_program(struct job *j)
{
	char pathbuf[4096];
	const char *path;
	int sp[2];
	struct wb_exec x;

	if (j->msg.flags & WB_JOB_CPU_FD && j->nfds > WB_JOBFD_FIXED)
		j->cpu_fd = j->fds[WB_JOBFD_FIXED];
	path = resolve(&j->spec, pathbuf, sizeof(pathbuf));
	if (!path) {
		j->res.flags |= WB_RES_EXEC_FAILED;
		sandbox_failed(j, WB_STAGE_EXECVE, ENOENT);
		return -ENOENT;
	}
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sp) < 0)
		return -errno;
	x = (struct wb_exec){
		.path = path, .argv = j->spec.argv, .envp = j->spec.env, .cwd = j->spec.cwd,
		.stdio = {j->fds[WB_JOBFD_STDIN], j->fds[WB_JOBFD_STDOUT], j->fds[WB_JOBFD_STDERR]},
		.handoff = sp[1], .limits = &j->msg.limits,
		.nproc_extra = j->msg.nproc_extra,
		.bpf = j->spec.bpf, .bpf_len = j->spec.bpf_len, .trace = j->res.trace,
	};
	j->start_ns = wb_clock_now_ns();
	/* Sharing our memory until execve spares copying the page tables
	 * (~100 us); we are suspended meanwhile, so nothing races on it. */
	j->pid = clone(program_main, program_stack + PROGRAM_STACK, CLONE_VM | CLONE_VFORK | SIGCHLD, &x);
	if (j->pid < 0) {
		close(sp[0]);
		close(sp[1]);
		return -errno;
	}
	close(sp[1]);
	j->handoff = sp[0];
	return 0;
}

/* Takes the listener the program hands over right after installing its
 * filter; until then nothing the program does can need it. */
static void take_listener(struct job *j)
{
	struct wb_handoff h;
	size_t nfd = 1;
	ssize_t n = wb_fdpass_recv(j->handoff, &h, sizeof(h), &j->listener, &nfd);

	if (n != (ssize_t)sizeof(h) || h.kind != WB_HANDOFF_LISTENER || nfd != 1) {
		if (nfd == 1)
			close(j->listener);
		j->listener = -1;
		if (n == (ssize_t)sizeof(h) && h.kind == WB_HANDOFF_FAILED) {
			j->res.flags |= WB_RES_EXEC_FAILED;
			j->res.stage = h.stage;
			j->res.err = h.err;
		}
		close(j->handoff);
		j->handoff = -1;
	}
}

static void finish(struct job *j)
{
	struct rusage ru;

	/* pid 1's kill(-1) reaches every other process of the job's pid
	 * namespace, whatever it did to hide (setsid, double fork). */
	kill(-1, SIGKILL);
	reap(j, 0);
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

static int run(struct job *j)
{
	sigset_t chld;
	int rc;

	if (j->nfds < WB_JOBFD_FIXED || j->msg.type != WB_MSG_JOB) {
		sandbox_failed(j, WB_STAGE_JOB_DECODE, EBADMSG);
		return -EBADMSG;
	}
	j->sock = j->fds[WB_JOBFD_SOCK];
	rc = wb_wire_decode(j->fds[WB_JOBFD_SPEC], j->msg.spec_len, &j->spec);
	if (rc < 0) {
		sandbox_failed(j, WB_STAGE_JOB_DECODE, -rc);
		return rc;
	}
	if (j->msg.accounting == WB_ACCT_RLIMIT && j->msg.limits.memory_kb != WB_DEFAULT_MEMORY_KB &&
	    (rc = resize_job_fs(j->msg.limits.memory_kb)) < 0) {
		sandbox_failed(j, WB_STAGE_JOB_MOUNTS, -rc);
		return rc;
	}
	if (j->msg.flags & WB_JOB_LEARN && !(j->learn = calloc(1, sizeof(*j->learn)))) {
		sandbox_failed(j, WB_STAGE_JOB_DECODE, ENOMEM);
		return -ENOMEM;
	}
	j->res.trace[WB_TRACE_DECODED] = wb_clock_now_ns();
	j->boxfd = open("/box", O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (j->boxfd < 0) {
		sandbox_failed(j, WB_STAGE_FILES, errno);
		return -errno;
	}
	for (size_t i = 0; i < j->spec.nfiles; i++) {
		if ((rc = wb_jobfiles_write(j->boxfd, &j->spec.files[i])) < 0) {
			sandbox_failed(j, WB_STAGE_FILES, -rc);
			return rc;
		}
	}
	j->res.trace[WB_TRACE_FILES] = wb_clock_now_ns();
	sigemptyset(&chld);
	sigaddset(&chld, SIGCHLD);
	sigprocmask(SIG_BLOCK, &chld, NULL);
	j->sigfd = signalfd(-1, &chld, SFD_NONBLOCK | SFD_CLOEXEC);
	if (j->sigfd < 0) {
		sandbox_failed(j, WB_STAGE_FORK, errno);
		return -errno;
	}
	if ((rc = start_program(j)) < 0) {
		if (!(j->res.flags & WB_RES_EXEC_FAILED))
			sandbox_failed(j, WB_STAGE_FORK, -rc);
		return rc;
	}
	/* The program's copies are all it needs; ours would keep its pipes
	 * open after it is gone. */
	for (size_t i = WB_JOBFD_STDIN; i < j->nfds; i++)
		if (j->fds[i] != j->cpu_fd)
			close(j->fds[i]);
	take_listener(j);
	release_zygote(j);
	watch(j);
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
			sandbox_failed(j, WB_STAGE_COPY_OUT, -out);
	} else if (j->pid > 0 && !(j->res.flags & WB_RES_EXEC_FAILED)) {
		out = wb_jobfiles_copy_out(j->boxfd, j->spec.copy_out, j->spec.ncopy_out,
					   j->msg.limits.file_size_kb * 1024);
		if (out < -1)
			sandbox_failed(j, WB_STAGE_COPY_OUT, -out);
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
static int join_cgroup(const int *fds, size_t n)
{
	int rc = 0;

	for (size_t i = 0; i < n; i++)
		if (write(fds[i], "0", 1) != 1 && rc == 0)
			rc = -errno;
	for (size_t i = 0; i < n; i++)
		close(fds[i]);
	if (rc == 0 && unshare(CLONE_NEWCGROUP) < 0)
		rc = -errno;
	return rc;
}

_Noreturn void wb_jobinit_main(int ctl, int took, const int *join_fds, size_t njoin, bool in_cgroup)
{
	struct wb_msg_fail ready = {.type = WB_MSG_SPARE_READY};
	struct job j;
	ssize_t n;
	int rc;

	memset(&j, 0, sizeof(j));
	j.boxfd = j.sigfd = j.handoff = j.listener = j.sock = j.cpu_fd = j.took = -1;
	j.res.syscall_nr = -1;
	/* Not dumpable: a rootless job shares our uid, and must not reach
	 * /proc/1 of its own namespace through it. */
	prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
	umask(0);
	if ((rc = join_cgroup(join_fds, njoin)) < 0 || (rc = mount_job_fs(in_cgroup)) < 0) {
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
	j.took = took;
	close(ctl);
	if (n != (ssize_t)sizeof(j.msg)) {
		j.msg.type = 0;
	}
	if (run(&j) < 0 && j.pid > 0)
		finish(&j);
	release_zygote(&j);
	if (j.sock < 0 && j.nfds > WB_JOBFD_SOCK)
		j.sock = j.fds[WB_JOBFD_SOCK];
	if (j.sock >= 0)
		report(&j);
	_exit(0);
}
