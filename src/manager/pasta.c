/* pasta.c: one pasta per network job, our child in the foreground. It
 * writes its pid to a FIFO once the namespace is configured: that is the
 * moment the job may start. Its log file says why when it fails. */
#include "manager/pasta.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

/* pasta reads the host's addresses and routes, and sets the namespace up,
 * in a few ms; seconds mean it is stuck. */
#define READY_TIMEOUT_MS 5000

struct wb_pasta {
	uv_loop_t *loop;
	pid_t pid;
	int pidfd;
	uv_poll_t exit_poll;     /* the pidfd: pasta ended */
	uv_poll_t ready_poll;
	uv_timer_t timer;
	int ready_fd;
	char dir[64];
	wb_pasta_cb cb;
	void *data;
	unsigned handles;
	bool exited, stopped, reported;
};

static int find_pasta(char *path, size_t len)
{
	const char *env = getenv("PATH");
	char dirs[4096];

	snprintf(dirs, sizeof(dirs), "%s", env ? env : "/usr/local/bin:/usr/bin:/bin");
	for (char *save = NULL, *d = strtok_r(dirs, ":", &save); d; d = strtok_r(NULL, ":", &save)) {
		if (*d != '/' || (size_t)snprintf(path, len, "%s/pasta", d) >= len)
			continue;
		if (access(path, X_OK) == 0)
			return 0;
	}
	return -ENOENT;
}

int wb_pasta_available(char *err, size_t errlen)
{
	char path[4200];

	if (find_pasta(path, sizeof(path)) < 0) {
		snprintf(err, errlen, "network: needs pasta, from Debian's passt package (apt-get install passt): "
				      "not found in PATH");
		return -ENOENT;
	}
	/* pasta opens it as us: Debian's udev makes it 0666, some hosts 0600. */
	if (access("/dev/net/tun", R_OK | W_OK) < 0) {
		int rc = -errno;

		snprintf(err, errlen, "network: pasta needs /dev/net/tun, which uid %u cannot open: %s",
			 (unsigned)geteuid(), strerror(-rc));
		return rc;
	}
	return 0;
}

static void remove_dir(struct wb_pasta *p)
{
	char path[96];

	if (!p->dir[0])
		return;
	snprintf(path, sizeof(path), "%s/ready", p->dir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/log", p->dir);
	unlink(path);
	rmdir(p->dir);
	p->dir[0] = '\0';
}

static void on_closed(uv_handle_t *h)
{
	struct wb_pasta *p = h->data;

	/* Open until its poll is closed: the pid stays pasta's until then. */
	if (h == (uv_handle_t *)&p->exit_poll)
		close(p->pidfd);
	if (--p->handles == 0)
		free(p);
}

/* Once stopped and reaped: the exit poll goes last, so the child is never
 * left unwaited. */
static void maybe_free(struct wb_pasta *p)
{
	if (!p->stopped || !p->exited)
		return;
	uv_close((uv_handle_t *)&p->exit_poll, on_closed);
}

static void report(struct wb_pasta *p, int err, const char *msg)
{
	if (p->reported)
		return;
	p->reported = true;
	uv_timer_stop(&p->timer);
	uv_poll_stop(&p->ready_poll);
	if (p->cb)
		p->cb(p, err, msg, p->data);
}

/* The last line pasta logged: its reason for giving up. */
static void failed(struct wb_pasta *p, const char *what)
{
	char path[96], log[4096] = "", msg[600];
	char *line, *end;
	ssize_t n = 0;
	int fd;

	snprintf(path, sizeof(path), "%s/log", p->dir);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		n = read(fd, log, sizeof(log) - 1);
		close(fd);
	}
	log[n > 0 ? n : 0] = '\0';
	while ((end = strrchr(log, '\n')) && end[1] == '\0')
		*end = '\0';
	line = strrchr(log, '\n');
	line = line ? line + 1 : log;
	snprintf(msg, sizeof(msg), "network: pasta %s%s%.400s", what, *line ? ": " : "", line);
	report(p, -ENETUNREACH, msg);
}

static void on_exit_poll(uv_poll_t *h, int status, int events)
{
	struct wb_pasta *p = h->data;
	siginfo_t info = {0};
	char what[64];

	(void)status;
	(void)events;
	if (waitid(P_PIDFD, (id_t)p->pidfd, &info, WEXITED | WNOHANG) < 0 || info.si_pid == 0)
		return;
	uv_poll_stop(h);
	p->exited = true;
	if (!p->reported) {
		snprintf(what, sizeof(what), info.si_code == CLD_EXITED ? "exited %d" : "killed by signal %d",
			 info.si_status);
		failed(p, what);
	}
	maybe_free(p);
}

static void on_ready(uv_poll_t *h, int status, int events)
{
	struct wb_pasta *p = h->data;
	char buf[32];
	ssize_t n = read(p->ready_fd, buf, sizeof(buf));

	(void)status;
	(void)events;
	/* pasta holds both files open now: nothing is left behind even if
	 * the manager is killed later. */
	if (n > 0) {
		remove_dir(p);
		report(p, 0, NULL);
	}
	else if (n == 0 || errno != EAGAIN)
		uv_poll_stop(h);     /* no writer yet, or it died: the exit says */
}

static void on_timeout(uv_timer_t *t)
{
	failed(t->data, "not ready within 5 s");
}

/* In the child: dies with the manager (pasta, as this Debian has it,
 * outlives the namespace it serves), keeps out of the manager's process
 * group (a ^C to a foreground daemon is not pasta's), holds nothing of the
 * manager's but /dev/null as stdio. Async-signal-safe calls only. */
static _Noreturn void exec_pasta(const char *exe, char *const args[], pid_t manager)
{
	int null = open("/dev/null", O_RDWR | O_CLOEXEC);
	struct sigaction dfl = {.sa_handler = SIG_DFL};
	sigset_t none;

	if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) < 0 || getppid() != manager)
		_exit(127);
	/* An ignored SIGCHLD survives execve, and pasta waits for children
	 * of its own: every disposition and the mask go back to defaults. */
	for (int sig = 1; sig < NSIG; sig++)
		if (sig != SIGKILL && sig != SIGSTOP)
			sigaction(sig, &dfl, NULL);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	setpgid(0, 0);
	if (null < 0 || dup2(null, 0) < 0 || dup2(null, 1) < 0 || dup2(null, 2) < 0)
		_exit(127);
	syscall(SYS_close_range, 3, ~0U, 0);
	execv(exe, args);
	_exit(127);
}

static int spawn(struct wb_pasta *p, pid_t target, char *err, size_t errlen)
{
	char exe[4200], ready[96], log[96], userns[64], netns[64];
	char *args[32];
	unsigned n = 0;
	pid_t manager = getpid();
	int rc;

	if (find_pasta(exe, sizeof(exe)) < 0)
		return wb_pasta_available(err, errlen);
	snprintf(ready, sizeof(ready), "%s/ready", p->dir);
	snprintf(log, sizeof(log), "%s/log", p->dir);
	snprintf(userns, sizeof(userns), "/proc/%d/ns/user", (int)target);
	snprintf(netns, sizeof(netns), "/proc/%d/ns/net", (int)target);
	args[n++] = "pasta";
	args[n++] = "--foreground";
	args[n++] = "--quiet";
	args[n++] = "--log-file";
	args[n++] = log;
	args[n++] = "--pid";
	args[n++] = ready;
	/* As root it would become nobody, who may not enter a user namespace
	 * root owns; it sandboxes itself either way. */
	if (geteuid() == 0) {
		args[n++] = "--runas";
		args[n++] = "0";
	}
	args[n++] = "--config-net";
	/* No port of the job's is offered to the host, none of the host's
	 * loopback ports appears in the job, and the gateway address is the
	 * gateway, not the host: the host's loopback stays out of reach. */
	args[n++] = "--tcp-ports";
	args[n++] = "none";
	args[n++] = "--udp-ports";
	args[n++] = "none";
	args[n++] = "--tcp-ns";
	args[n++] = "none";
	args[n++] = "--udp-ns";
	args[n++] = "none";
	args[n++] = "--no-map-gw";
	args[n++] = "--userns";
	args[n++] = userns;
	args[n++] = "--netns";
	args[n++] = netns;
	args[n] = NULL;
	p->pid = fork();
	if (p->pid < 0) {
		rc = -errno;
		snprintf(err, errlen, "network: cannot start %s: %s", exe, strerror(-rc));
		return rc;
	}
	if (p->pid == 0)
		exec_pasta(exe, args, manager);
	p->pidfd = (int)syscall(SYS_pidfd_open, p->pid, 0);
	if (p->pidfd < 0) {
		rc = -errno;
		kill(p->pid, SIGKILL);
		waitpid(p->pid, NULL, 0);
		snprintf(err, errlen, "network: cannot watch pasta: %s", strerror(-rc));
		return rc;
	}
	return 0;
}

/* The FIFO's reader is open before pasta opens it to write: that open
 * does not block, and pasta's pid arrives through it once it is ready. */
static int make_fifo(struct wb_pasta *p, char *err, size_t errlen)
{
	char ready[96];
	int rc;

	snprintf(p->dir, sizeof(p->dir), "/tmp/warmbox-pasta.XXXXXX");
	if (!mkdtemp(p->dir)) {
		rc = -errno;
		p->dir[0] = '\0';
		goto fail;
	}
	snprintf(ready, sizeof(ready), "%s/ready", p->dir);
	if (mkfifo(ready, 0600) < 0 || (p->ready_fd = open(ready, O_RDONLY | O_NONBLOCK | O_CLOEXEC)) < 0) {
		rc = -errno;
		goto fail;
	}
	return 0;
fail:
	snprintf(err, errlen, "network: cannot make pasta's ready FIFO under /tmp: %s", strerror(-rc));
	return rc;
}

int wb_pasta_start(uv_loop_t *loop, pid_t target, wb_pasta_cb cb, void *data, struct wb_pasta **out,
		   char *err, size_t errlen)
{
	struct wb_pasta *p = calloc(1, sizeof(*p));
	int rc;

	*out = NULL;
	if (!p)
		return -ENOMEM;
	*p = (struct wb_pasta){.loop = loop, .cb = cb, .data = data, .ready_fd = -1, .pidfd = -1};
	if ((rc = make_fifo(p, err, errlen)) < 0 || (rc = spawn(p, target, err, errlen)) < 0) {
		if (p->ready_fd >= 0)
			close(p->ready_fd);
		remove_dir(p);
		free(p);
		return rc;
	}
	uv_poll_init(loop, &p->ready_poll, p->ready_fd);
	uv_poll_init(loop, &p->exit_poll, p->pidfd);
	uv_timer_init(loop, &p->timer);
	p->ready_poll.data = p->exit_poll.data = p->timer.data = p;
	p->handles = 3;
	uv_poll_start(&p->ready_poll, UV_READABLE, on_ready);
	uv_poll_start(&p->exit_poll, UV_READABLE, on_exit_poll);
	uv_timer_start(&p->timer, on_timeout, READY_TIMEOUT_MS, 0);
	*out = p;
	return 0;
}

void wb_pasta_stop(struct wb_pasta *p)
{
	if (!p || p->stopped)
		return;
	p->stopped = true;
	p->cb = NULL;
	p->reported = true;
	if (!p->exited)
		syscall(SYS_pidfd_send_signal, p->pidfd, SIGKILL, NULL, 0);
	uv_close((uv_handle_t *)&p->ready_poll, on_closed);
	uv_close((uv_handle_t *)&p->timer, on_closed);
	close(p->ready_fd);
	p->ready_fd = -1;
	remove_dir(p);
	maybe_free(p);
}
