/* watch.c: the job init while its program runs: the CPU and wall limits
 * (and, without a cgroup, resident memory), the seccomp listener (SV, or
 * warmbox learn's answers), the manager's kill, the handoff, reaping. */
#include "inside/jobinit_impl.h"

#include <errno.h>
#include <linux/audit.h>
#include <linux/seccomp.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "core/clock.h"
#include "inside/procscan.h"
#include "inside/program.h"
#include "inside/learn.h"
#include "proto/cgread.h"
#include "proto/fdpass.h"

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
 * also raises j->rss_peak_kb, the resident memory memory_kb bounds
 * (RLIMIT_AS would bound address space, which the JVM, Go and V8 reserve
 * by gigabytes): hence the name. */
static uint64_t cpu_and_rss(struct job *j)
{
	struct wb_procscan scan;
	uint64_t ns = 0;
	struct rusage ru;

	if (j->cpu_fd >= 0) {
		if (wb_cgread_cpu((enum wb_accounting)j->msg.accounting, j->cpu_fd, &ns) < 0)
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

void jobinit_reap(struct job *j, int flags)
{
	int status;
	pid_t pid;

	while ((pid = waitpid(-1, &status, flags)) > 0 || (pid < 0 && errno == EINTR))
		if (pid == j->pid && !j->done)
			note_status(j, status);
}

/* The program's exec failed after the listener was handed over (or
 * instead of it): the submission's fault, reported as such. */
static void note_handoff(struct job *j, ssize_t n, const struct wb_handoff *h)
{
	if (n == (ssize_t)sizeof(*h) && h->kind == WB_HANDOFF_FAILED) {
		j->res.flags |= WB_RES_EXEC_FAILED;
		j->res.stage = h->stage;
		j->res.err = h->err;
	}
}

static void close_handoff(struct job *j)
{
	close(j->handoff);
	j->handoff = -1;
}

static void on_handoff(struct job *j)
{
	struct wb_handoff h;
	ssize_t n = wb_fdpass_recv(j->handoff, &h, sizeof(h), NULL, NULL);

	note_handoff(j, n, &h);
	if (n <= 0 || n == (ssize_t)sizeof(h))
		close_handoff(j);
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
void jobinit_watch(struct job *j)
{
	const uint64_t cpu_limit = j->msg.limits.cpu_ms * 1000000ull;
	const uint64_t wall_limit = j->msg.limits.wall_ms * 1000000ull;
	const unsigned par = parallelism(j->msg.limits.procs);

	while (!j->done) {
		struct pollfd pfd[4];
		nfds_t n = 0;
		uint64_t elapsed = wb_clock_now_ns() - j->start_ns, used = cpu_and_rss(j), wait;
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
				jobinit_reap(j, WNOHANG);
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

void jobinit_take_listener(struct job *j)
{
	struct wb_handoff h;
	size_t nfd = 1;
	ssize_t n = wb_fdpass_recv(j->handoff, &h, sizeof(h), &j->listener, &nfd);

	if (n == (ssize_t)sizeof(h) && h.kind == WB_HANDOFF_LISTENER && nfd == 1)
		return;
	if (nfd == 1)
		close(j->listener);
	j->listener = -1;
	note_handoff(j, n, &h);
	close_handoff(j);
}
