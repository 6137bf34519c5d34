/* cli_enter.c: `warmbox enter ID [-- CMD...]`: finds the job through the
 * daemon's {"op":"jobs"}, holds its job init by pidfd, and runs CMD inside
 * it (inside/enter.c), on a pty of its own when ours is a terminal. */
#include "cli/cli.h"

#include <cJSON.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

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
static int open_job(int fd, const char *id)
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
	if (pidfd < 0 || (again = find_job(fd, id)) != pid) {
		fprintf(stderr, "warmbox enter: job \"%s\" ended\n", id);
		if (pidfd >= 0)
			close(pidfd);
		return -ESRCH;
	}
	return pidfd;
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
	pid_t joiner;

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
	pidfd = open_job(fd, o.id);
	close(fd);
	if (pidfd < 0) {
		wb_policy_free(&policy);
		return WB_EXIT_SANDBOX;
	}
	snprintf(term, sizeof(term), "TERM=%s", t && *t && strlen(t) < 100 ? t : "dumb");
	{
		struct wb_enter e = {.pidfd = pidfd, .policy = &policy, .argv = o.argv ? o.argv : default_argv,
				     .envp = envp, .tty = -1};

		rc = wb_enter_start(&e, &joiner);
		if (rc == 0)
			rc = wb_enter_wait(joiner);
	}
	close(pidfd);
	wb_policy_free(&policy);
	return rc < 0 ? WB_EXIT_SANDBOX : rc;
}
