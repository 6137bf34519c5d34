/* cli_enter.c: `warmbox enter ID [-- CMD...]`: finds the job through the
 * daemon's {"op":"jobs"}, holds its job init by pidfd, and runs CMD inside
 * it (inside/enter.c), on a pty of its own when ours is a terminal. */
#include "cli/cli.h"

#include <cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <uv.h>

#include "cli/tty.h"
#include "inside/enter.h"
#include "policy/policy.h"

void wb_cli_enter_usage(FILE *f)
{
	fputs("usage: warmbox enter [--socket PATH] [--policies DIR] ID [-- CMD [ARGS...]]\n"
	      "Runs CMD (default /bin/sh) inside the running job ID of the daemon at PATH:\n"
	      "in its namespaces, as its uid, with no capabilities and the default policy,\n"
	      "on a terminal of its own when stdin is one. It ends when the job ends.\n"
	      "Only the daemon's owner may. Exit status: CMD's, or 1 when it cannot start.\n",
	      f);
}

struct enter_opts {
	const char *socket;
	const char *policies;
	const char *id;
	char **argv;
};

static int parse(int argc, char **argv, struct enter_opts *o)
{
	int i;

	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--") == 0) {
			i++;
			break;
		}
		if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0)
			return 1;
		if (strcmp(argv[i], "--socket") == 0 && i + 1 < argc)
			o->socket = argv[++i];
		else if (strcmp(argv[i], "--policies") == 0 && i + 1 < argc)
			o->policies = argv[++i];
		else if (argv[i][0] != '-' && !o->id)
			o->id = argv[i];
		else {
			fprintf(stderr, "warmbox enter: unexpected argument \"%s\" (see: warmbox help enter)\n",
				argv[i]);
			return -EINVAL;
		}
	}
	if (!o->id) {
		fputs("warmbox enter: which job? (the id of a running job: see {\"op\":\"jobs\"})\n", stderr);
		return -EINVAL;
	}
	o->argv = i < argc ? argv + i : NULL;
	return 0;
}

/* The pid of job id's job init from one {"op":"jobs"} answer: > 0, or
 * -ESRCH (not running), -ENOENT (its program side has ended), -EPERM (the
 * daemon refused: said on stderr), -EPROTO. */
static pid_t find_job(int fd, const char *id)
{
	const cJSON *ok, *jobs, *j;
	cJSON *root;
	char *answer;
	pid_t pid = -ESRCH;
	int rc = wb_cli_ask(fd, "{\"op\":\"jobs\"}\n", &answer);

	if (rc < 0) {
		fprintf(stderr, "warmbox enter: no answer from the daemon: %s\n", strerror(-rc));
		return rc;
	}
	root = cJSON_Parse(answer);
	free(answer);
	ok = cJSON_GetObjectItemCaseSensitive(root, "ok");
	jobs = cJSON_GetObjectItemCaseSensitive(root, "jobs");
	if (!cJSON_IsTrue(ok)) {
		const cJSON *e = cJSON_GetObjectItemCaseSensitive(root, "error");

		fprintf(stderr, "warmbox enter: the daemon refused: %s\n",
			cJSON_IsString(e) ? e->valuestring : "no reason given");
		cJSON_Delete(root);
		return -EPERM;
	}
	if (!cJSON_IsArray(jobs)) {
		cJSON_Delete(root);
		return -EPROTO;
	}
	cJSON_ArrayForEach(j, jobs) {
		const cJSON *jid = cJSON_GetObjectItemCaseSensitive(j, "id");
		const cJSON *jpid = cJSON_GetObjectItemCaseSensitive(j, "pid");

		if (!cJSON_IsString(jid) || strcmp(jid->valuestring, id) != 0)
			continue;
		pid = cJSON_IsNumber(jpid) && jpid->valuedouble >= 1 ? (pid_t)jpid->valuedouble : -ENOENT;
		break;
	}
	cJSON_Delete(root);
	return pid;
}

/* The job init held by a pidfd that cannot be another process: the pid is
 * looked up again after the pidfd is open, and must still be the job's. */
static int open_job(int fd, const char *id, pid_t *pid_out)
{
	pid_t pid = find_job(fd, id), again;
	int pidfd;

	if (pid == -ESRCH)
		fprintf(stderr, "warmbox enter: no job \"%s\" is running\n", id);
	if (pid == -ENOENT)
		fprintf(stderr, "warmbox enter: job \"%s\" has no program running (its pid is unknown)\n", id);
	if (pid == -EPROTO)
		fputs("warmbox enter: the daemon's answer has no job list\n", stderr);
	if (pid < 0)
		return pid;
	pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
	if (pidfd < 0 && errno != ESRCH) {
		fprintf(stderr, "warmbox enter: cannot hold job \"%s\"'s process %d: %s\n", id, (int)pid,
			strerror(errno));
		return -errno;
	}
	if (pidfd < 0 || (again = find_job(fd, id)) != pid) {
		if (pidfd < 0 || again == -ESRCH || again > 0)
			fprintf(stderr, "warmbox enter: job \"%s\" ended\n", id);
		if (pidfd >= 0)
			close(pidfd);
		return -ESRCH;
	}
	*pid_out = pid;
	return pidfd;
}

static void close_all(const int *fds, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (fds[i] >= 0)
			close(fds[i]);
}

/* A new pty of the host's: the command's terminal is never the operator's
 * own, which a job process could otherwise reopen through /proc and
 * write into (TIOCSTI). 0 with both ends, or -errno. */
static int open_pty(int *master, int *slave)
{
	const char *name;

	*slave = -1;
	*master = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (*master < 0)
		return -errno;
	if (grantpt(*master) < 0 || unlockpt(*master) < 0 || !(name = ptsname(*master)) ||
	    (*slave = open(name, O_RDWR | O_NOCTTY | O_CLOEXEC)) < 0) {
		int err = errno;

		close(*master);
		return -err;
	}
	return 0;
}

struct relay {
	struct wb_tty *tty;
	pid_t joiner;
	uv_poll_t exit_poll;
	uv_signal_t sig[3];
};

static void end_relay(struct relay *r)
{
	wb_tty_finish(r->tty);
	if (!uv_is_closing((uv_handle_t *)&r->exit_poll))
		uv_close((uv_handle_t *)&r->exit_poll, NULL);
	for (int i = 0; i < 3; i++)
		if (!uv_is_closing((uv_handle_t *)&r->sig[i]))
			uv_close((uv_handle_t *)&r->sig[i], NULL);
}

static void on_exit_poll(uv_poll_t *h, int status, int events)
{
	(void)status;
	(void)events;
	end_relay(h->data);
}

/* The operator's terminal is gone, or warmbox enter was told to stop: the
 * joiner dies, and the command with it (its parent-death signal). */
static void stop_command(struct relay *r)
{
	kill(r->joiner, SIGKILL);
}

static void on_gone(const char *why, void *data)
{
	(void)why;
	stop_command(data);
}

static void on_signal(uv_signal_t *h, int signum)
{
	(void)signum;
	stop_command(h->data);
}

/* Relays the operator's terminal and the command's pty until the command
 * ends (its joiner's pidfd), then restores the terminal. */
static int relay(struct wb_tty *tty, int master, pid_t joiner)
{
	static const int sigs[3] = {SIGINT, SIGTERM, SIGHUP};
	struct relay r = {.tty = tty, .joiner = joiner};
	uv_loop_t loop;
	int pidfd = (int)syscall(SYS_pidfd_open, joiner, 0), rc;

	if (pidfd < 0) {
		close(master);
		return -errno;
	}
	uv_loop_init(&loop);
	uv_poll_init(&loop, &r.exit_poll, pidfd);
	r.exit_poll.data = &r;
	uv_poll_start(&r.exit_poll, UV_READABLE, on_exit_poll);
	for (int i = 0; i < 3; i++) {
		uv_signal_init(&loop, &r.sig[i]);
		r.sig[i].data = &r;
		uv_signal_start(&r.sig[i], on_signal, sigs[i]);
	}
	rc = wb_tty_start_master(tty, &loop, master, on_gone, &r);
	if (rc < 0) {
		fprintf(stderr, "warmbox enter: cannot relay the terminal: %s\n", strerror(-rc));
		stop_command(&r);
	}
	uv_run(&loop, UV_RUN_DEFAULT);
	uv_loop_close(&loop);
	close(pidfd);
	return rc;
}

/* Copies the command's output pipes to ours until both end, or until its
 * joiner has ended and they are drained: a job process may hold a pipe's
 * other end, reopened through /proc, as long as it likes. */
static void copy_output(const int from[2], pid_t joiner)
{
	int pidfd = (int)syscall(SYS_pidfd_open, joiner, 0);
	bool open_[2] = {true, true}, ended = false, any;
	char buf[16384];

	while (open_[0] || open_[1]) {
		struct pollfd p[3] = {{.fd = open_[0] ? from[0] : -1, .events = POLLIN},
				      {.fd = open_[1] ? from[1] : -1, .events = POLLIN},
				      {.fd = ended ? -1 : pidfd, .events = POLLIN}};

		if (poll(p, 3, ended ? 0 : -1) < 0 && errno != EINTR)
			break;
		if (p[2].revents)
			ended = true;
		any = false;
		for (int i = 0; i < 2; i++) {
			ssize_t n;

			if (!open_[i] || !(p[i].revents & (POLLIN | POLLHUP | POLLERR)))
				continue;
			n = read(from[i], buf, sizeof(buf));
			if (n <= 0) {
				open_[i] = false;
				continue;
			}
			any = true;
			for (ssize_t off = 0, w; off < n; off += w)
				if ((w = write(1 + i, buf + off, (size_t)(n - off))) <= 0)
					break;
		}
		if (ended && !any)
			break;
	}
	if (pidfd >= 0)
		close(pidfd);
}

/* The command on a pty of its own when stdin is a terminal; else /dev/null
 * and pipes we copy out. Never our own descriptors: a job process could
 * reopen them through the command's /proc/PID/fd. Its exit status, or
 * -errno. */
static int run_command(struct wb_enter *e)
{
	struct wb_tty *tty = NULL;
	int master = -1, slave = -1, out[2] = {-1, -1}, err[2] = {-1, -1}, rc;
	pid_t joiner;

	if (!isatty(0)) {
		e->stdio[0] = open("/dev/null", O_RDONLY | O_CLOEXEC);
		if (e->stdio[0] < 0 || pipe2(out, O_CLOEXEC) < 0 || pipe2(err, O_CLOEXEC) < 0) {
			rc = -errno;
			fprintf(stderr, "warmbox enter: cannot make the command's pipes: %s\n", strerror(-rc));
			close_all((int[]){e->stdio[0], out[0], out[1], err[0], err[1]}, 5);
			return rc;
		}
		e->stdio[1] = out[1];
		e->stdio[2] = err[1];
		rc = wb_enter_start(e, &joiner);
		close_all((int[]){e->stdio[0], out[1], err[1]}, 3);
		if (rc == 0)
			copy_output((int[]){out[0], err[0]}, joiner);
		close_all((int[]){out[0], err[0]}, 2);
		return rc < 0 ? rc : wb_enter_wait(joiner);
	}
	if ((rc = wb_tty_open(&tty)) < 0 || (rc = open_pty(&master, &slave)) < 0) {
		fprintf(stderr, "warmbox enter: cannot make a terminal: %s\n", strerror(-rc));
		wb_tty_free(tty);
		return rc;
	}
	e->tty = slave;
	rc = wb_enter_start(e, &joiner);
	if (slave >= 0)
		close(slave);
	/* The relay takes the master, whichever way it ends. */
	if (rc == 0)
		relay(tty, master, joiner);
	else
		close(master);
	wb_tty_free(tty);
	return rc < 0 ? rc : wb_enter_wait(joiner);
}

int wb_cli_enter(int argc, char **argv)
{
	static char *const default_argv[] = {"/bin/sh", NULL};
	struct enter_opts o = {0};
	struct wb_client_opts conn = {0};
	struct wb_policy policy;
	char err[512], term[128];
	char *envp[] = {"PATH=/usr/local/bin:/usr/bin:/bin", "HOME=/box", term, NULL};
	const char *t = getenv("TERM");
	int rc = parse(argc, argv, &o), fd, pidfd;
	pid_t pid = 0;

	if (rc)
		return rc > 0 ? (wb_cli_enter_usage(stdout), WB_EXIT_OK) : WB_EXIT_USAGE;
	rc = wb_policy_load(wb_policy_dir(o.policies), "default", &policy, err, sizeof(err));
	if (rc < 0) {
		fprintf(stderr, "warmbox enter: %s\n", err);
		return WB_EXIT_SANDBOX;
	}
	conn.socket = o.socket;
	if ((fd = wb_cli_client_connect(&conn)) < 0) {
		wb_policy_free(&policy);
		return WB_EXIT_SANDBOX;
	}
	pidfd = open_job(fd, o.id, &pid);
	close(fd);
	if (pidfd < 0) {
		wb_policy_free(&policy);
		return WB_EXIT_SANDBOX;
	}
	snprintf(term, sizeof(term), "TERM=%s", t && *t && strlen(t) < 100 ? t : "dumb");
	rc = run_command(&(struct wb_enter){.pidfd = pidfd, .pid = pid, .policy = &policy,
					    .argv = o.argv ? o.argv : default_argv, .envp = envp, .tty = -1,
					    .stdio = {-1, -1, -1}});
	close(pidfd);
	wb_policy_free(&policy);
	return rc < 0 ? WB_EXIT_SANDBOX : rc;
}
