/* cli_run.c: `warmbox run`: one job, no daemon, on the same zygote path the
 * daemon uses (one slot, one job), the result JSON on stdout. */
#include "cli/cli.h"

#include <cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <libgen.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/job.h"
#include "proto/learn.h"
#include "policy/policy.h"
#include "core/render.h"
#include "core/result.h"
#include "cli/tty.h"

#define MAX_INPUT_BYTES (256u << 20)
/* --tty's CPU and wall limits when none is given (SPEC: no default). The
 * job format has no "unlimited": its ceiling, a day, stands for none, and
 * still ends a shell forgotten in some terminal. */
#define TTY_TIME_MS WB_MAX_TIME_MS

void wb_cli_run_usage(FILE *f)
{
	fputs("usage: warmbox run [OPTIONS] -- PROGRAM [ARGS...]\n"
	      "       warmbox run [--policies DIR] [--trace] [-t] --job FILE   (FILE - reads stdin)\n"
	      "options:\n"
	      "  -t, --tty           the program's stdin, stdout and stderr are a terminal of its\n"
	      "                      own inside the sandbox, relayed to ours (stdin must be one);\n"
	      "                      no default --cpu and --wall (24 h, the most a job may have);\n"
	      "                      the result goes to stderr. A shell in a job's sandbox:\n"
	      "                        warmbox run -t --procs 64 -- /bin/sh\n"
	      "  --cpu MS            CPU time limit, all processes (default 1000)\n"
	      "  --wall MS           wall time limit (default 3000, or 2*cpu+1000 when --cpu is given)\n"
	      "  --memory SIZE       peak memory of the whole job (default 256M)\n"
	      "  --procs N           processes and threads (default 1)\n"
	      "  --output SIZE       stdout and stderr kept, each (default 64K)\n"
	      "  --file-size SIZE    largest file the job may write (default 1M)\n"
	      "  --stack SIZE        stack size (default 64M)\n"
	      "  --policy NAME       seccomp policy (default \"default\")\n"
	      "  --policies DIR      where policies are found\n"
	      "  --stdin FILE        the program's standard input\n"
	      "  --copy-in HOST[:BOX]  put a host file into /box (keeps its permission bits)\n"
	      "  --copy-out BOX      return a file of /box in the result (repeatable)\n"
	      "  --env NAME=VALUE    set the environment (repeatable; replaces the defaults)\n"
	      "  --network           a network of the job's own through pasta (package passt);\n"
	      "                      the policy must allow sockets (e.g. --policy net)\n"
	      "  --trace             add sandbox timings to the result\n"
	      "SIZE is KiB, or a number with a K, M or G suffix.\n",
	      f);
}

void wb_cli_learn_usage(FILE *f)
{
	fputs("usage: warmbox learn [OPTIONS] -- PROGRAM [ARGS...]\n"
	      "Runs PROGRAM once in the sandbox with every syscall let through and\n"
	      "counted (the dangerous set is still refused), then prints a policy\n"
	      "allowing what it used on stdout, and the counts on stderr.\n"
	      "OPTIONS are those of warmbox run, but --copy-out; --policy NAME only\n"
	      "brings that policy's binds (e.g. --policy java for /etc/java-17-openjdk).\n"
	      "Give limits as large as the program needs: a syscall the run never\n"
	      "reached is not learned.\n",
	      f);
}

__attribute__((format(printf, 1, 2)))
static int usage_error(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fprintf(stderr, "warmbox run: ");
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	return WB_EXIT_USAGE;
}

static int add_copy_in(struct wb_job *job, const char *arg)
{
	char host[4096], *colon;
	const char *box;
	struct stat st;
	struct wb_file *nf, *f;
	int rc;

	if (snprintf(host, sizeof(host), "%s", arg) >= (int)sizeof(host))
		return usage_error("--copy-in: path too long: %s", arg);
	colon = strchr(host, ':');
	if (colon)
		*colon = '\0';
	box = colon ? colon + 1 : basename(host);
	if (!wb_job_path_ok(box))
		return usage_error("--copy-in: bad path inside /box: %s", box);
	if (stat(host, &st) < 0 || !S_ISREG(st.st_mode))
		return usage_error("--copy-in: not a readable regular file: %s", host);
	nf = realloc(job->files, (job->nfiles + 1) * sizeof(*nf));
	if (!nf)
		return usage_error("%s", strerror(ENOMEM));
	job->files = nf;
	f = &job->files[job->nfiles];
	memset(f, 0, sizeof(*f));
	rc = wb_cli_read_file(host, MAX_INPUT_BYTES, &f->data, &f->len);
	if (rc < 0)
		return usage_error("--copy-in: cannot read %s", host);
	f->path = strdup(box);
	f->mode = st.st_mode & 0777;
	job->nfiles++;
	return f->path ? 0 : usage_error("%s", strerror(ENOMEM));
}

/* The first --env replaces the defaults; a name given twice keeps the last. */
static int add_env(struct wb_job *job, const char *arg, bool *first)
{
	const char *eq = strchr(arg, '=');

	if (!eq || eq == arg)
		return usage_error("--env: expected NAME=VALUE, got \"%s\"", arg);
	if (*first) {
		for (size_t i = 0; i < job->envc; i++)
			free(job->env[i]);
		job->envc = 0;
		job->env[0] = NULL;
		*first = false;
	}
	for (size_t i = 0; i < job->envc; i++) {
		if (strncmp(job->env[i], arg, (size_t)(eq - arg) + 1) == 0) {
			char *dup = strdup(arg);

			if (!dup)
				return usage_error("%s", strerror(ENOMEM));
			free(job->env[i]);
			job->env[i] = dup;
			return 0;
		}
	}
	return wb_strv_push(&job->env, &job->envc, arg) < 0 ? usage_error("%s", strerror(ENOMEM)) : 0;
}

enum {
	OPT_CPU = 256, OPT_WALL, OPT_MEMORY, OPT_PROCS, OPT_OUTPUT, OPT_FSIZE, OPT_STACK, OPT_POLICY,
	OPT_POLICIES, OPT_STDIN, OPT_COPY_IN, OPT_COPY_OUT, OPT_ENV, OPT_NETWORK, OPT_JOB, OPT_TRACE,
};

static const struct option options[] = {
	{"cpu", required_argument, NULL, OPT_CPU},
	{"wall", required_argument, NULL, OPT_WALL},
	{"memory", required_argument, NULL, OPT_MEMORY},
	{"procs", required_argument, NULL, OPT_PROCS},
	{"output", required_argument, NULL, OPT_OUTPUT},
	{"file-size", required_argument, NULL, OPT_FSIZE},
	{"stack", required_argument, NULL, OPT_STACK},
	{"policy", required_argument, NULL, OPT_POLICY},
	{"policies", required_argument, NULL, OPT_POLICIES},
	{"stdin", required_argument, NULL, OPT_STDIN},
	{"copy-in", required_argument, NULL, OPT_COPY_IN},
	{"copy-out", required_argument, NULL, OPT_COPY_OUT},
	{"env", required_argument, NULL, OPT_ENV},
	{"network", no_argument, NULL, OPT_NETWORK},
	{"job", required_argument, NULL, OPT_JOB},
	{"trace", no_argument, NULL, OPT_TRACE},
	{"help", no_argument, NULL, 'h'},
	{"tty", no_argument, NULL, 't'},
	{NULL, 0, NULL, 0},
};

struct cli {
	const char *job_file;
	const char *policies;
	bool trace;
	bool tty;            /* --tty: the job on a terminal (tty.h) */
	bool job_fields;     /* an option that only makes sense without --job */
	bool cpu_given, wall_given, stdin_given;
	bool help;           /* --help: print the usage, run nothing */
};

static int parse_options(int argc, char **argv, struct wb_job *job, struct cli *c)
{
	bool first_env = true;
	int opt, rc;
	uint64_t v;

	optind = 1;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, "+ht", options, NULL)) != -1) {
		rc = 0;
		if (opt != OPT_POLICIES && opt != OPT_JOB && opt != OPT_TRACE && opt != 'h' && opt != 't')
			c->job_fields = true;
		switch (opt) {
		case OPT_CPU:
			if (wb_cli_parse_u64(optarg, &job->limits.cpu_ms) < 0)
				return usage_error("--cpu: expected milliseconds, got \"%s\"", optarg);
			c->cpu_given = true;
			break;
		case OPT_WALL:
			if (wb_cli_parse_u64(optarg, &job->limits.wall_ms) < 0)
				return usage_error("--wall: expected milliseconds, got \"%s\"", optarg);
			c->wall_given = true;
			break;
		case OPT_PROCS:
			if (wb_cli_parse_u64(optarg, &job->limits.procs) < 0)
				return usage_error("--procs: expected a number, got \"%s\"", optarg);
			break;
		case OPT_MEMORY:
		case OPT_OUTPUT:
		case OPT_FSIZE:
		case OPT_STACK:
			if (wb_cli_parse_size_kb(optarg, &v) < 0) {
				/* options[] lists the long options in enum order. */
				fprintf(stderr, "warmbox run: --%s: bad SIZE \"%s\" (KiB, or a K/M/G suffix)\n",
					options[opt - OPT_CPU].name, optarg);
				return WB_EXIT_USAGE;
			}
			*(opt == OPT_MEMORY ? &job->limits.memory_kb : opt == OPT_OUTPUT ? &job->limits.output_kb
				: opt == OPT_FSIZE ? &job->limits.file_size_kb : &job->limits.stack_kb) = v;
			break;
		case OPT_POLICY:
			free(job->policy);
			job->policy = strdup(optarg);
			break;
		case OPT_POLICIES:
			c->policies = optarg;
			break;
		case OPT_STDIN:
			c->stdin_given = true;
			free(job->stdin_data);
			job->stdin_data = NULL;
			if (wb_cli_read_file(optarg, MAX_INPUT_BYTES, &job->stdin_data, &job->stdin_len) < 0)
				return usage_error("--stdin: cannot read %s", optarg);
			break;
		case OPT_COPY_IN:
			rc = add_copy_in(job, optarg);
			break;
		case OPT_COPY_OUT:
			if (wb_strv_push(&job->copy_out, &job->ncopy_out, optarg) < 0)
				rc = usage_error("%s", strerror(ENOMEM));
			break;
		case OPT_ENV:
			rc = add_env(job, optarg, &first_env);
			break;
		case OPT_NETWORK:
			job->network = true;
			break;
		case OPT_JOB:
			c->job_file = optarg;
			break;
		case OPT_TRACE:
			c->trace = true;
			break;
		case 't':
			c->tty = true;
			break;
		case 'h':
			c->help = true;
			return 0;
		default:
			/* getopt's own message would be followed by the whole usage;
			 * SPEC asks for one line. */
			return usage_error("unknown or incomplete option \"%s\" (see: warmbox help run)",
					   argv[optind - 1]);
		}
		if (rc)
			return rc;
	}
	return 0;
}

/* Refs and keep are the daemon's: a job naming them is refused whole. */
static int no_store(const struct wb_job *job, const char *side)
{
	for (size_t i = 0; i < job->nfiles; i++)
		if (job->files[i].ref)
			return usage_error("invalid job: %sfiles[%zu].ref: warmbox run has no file store "
					    "(refs are the daemon's: warmbox serve)", side, i);
	for (size_t i = 0; job->copy_keep && i < job->ncopy_out; i++)
		if (job->copy_keep[i])
			return usage_error("invalid job: %scopy_out[%zu].keep: warmbox run has no file store "
					    "(keep is the daemon's: warmbox serve)", side, i);
	return 0;
}

/* Whether the job's JSON text gives limits.NAME itself. */
static bool gives_limit(const unsigned char *text, size_t len, const char *name)
{
	cJSON *root = cJSON_ParseWithLength((const char *)text, len);
	bool given = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(root, "limits"), name);

	cJSON_Delete(root);
	return given;
}

static int job_from_file(int argc, struct wb_job *job, const struct cli *c)
{
	char err[WB_ERR_LEN];
	unsigned char *text;
	size_t len;
	int rc;

	if (c->job_fields || optind < argc)
		return usage_error("%s", "--job takes the whole job from the file: no other job options or PROGRAM");
	wb_job_free(job);
	rc = wb_cli_read_file(c->job_file, MAX_INPUT_BYTES, &text, &len);
	if (rc < 0) {
		fprintf(stderr, "warmbox run: --job %s: %s\n", c->job_file, strerror(-rc));
		return WB_EXIT_USAGE;
	}
	rc = wb_job_parse((const char *)text, len, job, err, sizeof(err));
	/* The file's own limits apply; the ones it leaves to defaults have
	 * none on a terminal. */
	if (rc == 0 && c->tty && !gives_limit(text, len, "cpu_ms"))
		job->limits.cpu_ms = TTY_TIME_MS;
	if (rc == 0 && c->tty && !gives_limit(text, len, "wall_ms"))
		job->limits.wall_ms = TTY_TIME_MS;
	free(text);
	if (rc < 0)
		return usage_error("invalid job: %s", err);
	if ((rc = no_store(job, "")) != 0 ||
	    (job->interactor && (rc = no_store(job->interactor, "interactor: ")) != 0))
		return rc;
	return 0;
}

/* --tty's rules: the terminal is the program's stdin, so warmbox's must be
 * one, and nothing else may claim it. */
static int tty_usage(const struct cli *c)
{
	if (!c->tty)
		return 0;
	if (!isatty(0))
		return usage_error("--tty: standard input is not a terminal (run it from one, or without -t)");
	if (c->stdin_given)
		return usage_error("%s", "--tty: the program's stdin is the terminal: no --stdin");
	if (c->job_file && strcmp(c->job_file, "-") == 0)
		return usage_error("%s", "--tty: the program's stdin is the terminal: no --job - (a file instead)");
	return 0;
}

static int build_job(int argc, char **argv, struct wb_job *job, struct cli *c)
{
	char err[WB_ERR_LEN];
	int rc;

	if ((rc = wb_job_init(job)) < 0)
		return usage_error("%s", strerror(-rc));
	if ((rc = parse_options(argc, argv, job, c)) != 0 || c->help || (rc = tty_usage(c)) != 0)
		return rc;
	if (c->job_file) {
		if ((rc = job_from_file(argc, job, c)) != 0)
			return rc;
		if (c->tty && (job->stdin_len || job->interactor))
			return usage_error("--tty: the job gives %s; on a terminal the program's stdin is the terminal",
					   job->interactor ? "an interactor" : "stdin");
		return 0;
	}
	if (optind >= argc)
		return usage_error("%s", "no PROGRAM given (warmbox run [OPTIONS] -- PROGRAM [ARGS...])");
	for (int i = optind; i < argc; i++)
		if (wb_strv_push(&job->argv, &job->argc, argv[i]) < 0)
			return usage_error("%s", strerror(ENOMEM));
	if (c->tty) {
		if (!c->cpu_given)
			job->limits.cpu_ms = TTY_TIME_MS;
		if (!c->wall_given)
			job->limits.wall_ms = TTY_TIME_MS;
	} else if (!c->wall_given && job->limits.cpu_ms != WB_DEFAULT_CPU_MS) {
		uint64_t wall = 2 * job->limits.cpu_ms + 1000;

		job->limits.wall_ms = wall > WB_DEFAULT_WALL_MS ? wall : WB_DEFAULT_WALL_MS;
		if (job->limits.wall_ms > WB_MAX_TIME_MS)
			job->limits.wall_ms = WB_MAX_TIME_MS;
	}
	if (wb_job_validate(job, err, sizeof(err)) < 0)
		return usage_error("invalid job: %s", err);
	return 0;
}

/* ---- running it ---- */

/* On stdout; with --tty on stderr, as SPEC says: stdout was the job's. */
static int print_result(struct wb_result *res, FILE *f)
{
	char *json = wb_render_line(res);

	if (!json) {
		fprintf(stderr, "warmbox run: out of memory rendering the result\n");
		return WB_EXIT_SANDBOX;
	}
	fprintf(f, "%s\n", json);
	free(json);
	fflush(f);
	return res->status == WB_STATUS_XX ? WB_EXIT_SANDBOX : WB_EXIT_OK;
}

/* warmbox learn's output: the policy on stdout, the counts and how the run
 * went on stderr. */
static int print_learned(const struct wb_job *job, struct wb_result *res)
{
	char desc[1024];
	size_t off;

	fprintf(stderr, "warmbox learn: the program ended %s", wb_status_name(res->status));
	if (res->exit_code >= 0)
		fprintf(stderr, " (exit code %d)", res->exit_code);
	if (res->signal)
		fprintf(stderr, " (signal %d)", res->signal);
	fprintf(stderr, "%s%s\n", res->error ? ": " : "", res->error ? res->error : "");
	if (!res->learned)
		return WB_EXIT_SANDBOX;
	off = (size_t)snprintf(desc, sizeof(desc), "Learned by warmbox learn from one run of:");
	for (size_t i = 0; i < job->argc && off < sizeof(desc); i++)
		off += (size_t)snprintf(desc + off, sizeof(desc) - off, " %s", job->argv[i]);
	if (off < sizeof(desc))
		snprintf(desc + off, sizeof(desc) - off, " (status %s). Review before use: it allows every syscall that run made.",
			 wb_status_name(res->status));
	return wb_cli_print_learned(res->learned, desc, stdout, stderr) < 0 ? WB_EXIT_SANDBOX : WB_EXIT_OK;
}

/* The terminal comes back as it was before the result is printed (tty.c
 * restores it when the job ends, whichever way). */
static int execute(const struct wb_job *job, const struct wb_policy *policy,
		   const struct wb_policy *ipolicy, struct wb_tty *tty, bool trace, bool learn)
{
	struct wb_result *res, xx = {.id = job->id, .status = WB_STATUS_XX, .exit_code = -1};
	FILE *out = tty ? stderr : stdout;
	char why[256];
	int status;

	res = wb_cli_execute(job, policy, ipolicy, tty, trace, why, sizeof(why), &xx.accounting);
	wb_tty_free(tty);
	if (!res) {
		xx.error = why;
		print_result(&xx, out);
		return WB_EXIT_SANDBOX;
	}
	status = learn ? print_learned(job, res) : print_result(res, out);
	wb_result_free(res);
	free(res);
	return status;
}

static int run_or_learn(int argc, char **argv, bool learn)
{
	struct wb_job job;
	struct wb_policy policy, ipolicy;
	struct wb_tty *tty = NULL;
	struct cli c = {0};
	char err[1024];
	int rc;

	memset(&job, 0, sizeof(job));
	memset(&ipolicy, 0, sizeof(ipolicy));
	rc = build_job(argc, argv, &job, &c);
	if (rc == 0 && c.help) {
		wb_cli_run_usage(stdout);
		wb_job_free(&job);
		return WB_EXIT_OK;
	}
	if (rc != 0) {
		wb_job_free(&job);
		return rc;
	}
	if (learn && (job.ncopy_out || job.interactor || c.tty)) {
		fprintf(stderr, "warmbox learn: %s is not available while learning\n",
			job.interactor ? "an interactor" : c.tty ? "--tty" : "--copy-out");
		wb_job_free(&job);
		return WB_EXIT_USAGE;
	}
	rc = wb_policy_load(wb_policy_dir(c.policies), job.policy, &policy, err, sizeof(err));
	if (rc == 0 && learn)
		rc = wb_policy_learn(&policy, err, sizeof(err));
	if (rc < 0) {
		fprintf(stderr, "warmbox %s: %s\n", learn ? "learn" : "run", err);
		wb_job_free(&job);
		return WB_EXIT_USAGE;
	}
	if (job.interactor && (rc = wb_policy_load(wb_policy_dir(c.policies), job.interactor->policy,
						   &ipolicy, err, sizeof(err))) < 0) {
		fprintf(stderr, "warmbox run: interactor: %s\n", err);
		wb_policy_free(&policy);
		wb_job_free(&job);
		return WB_EXIT_USAGE;
	}
	if (c.tty && (rc = wb_tty_open(&tty)) < 0) {
		fprintf(stderr, "warmbox run: --tty: cannot read the terminal's settings: %s\n", strerror(-rc));
		wb_policy_free(&policy);
		wb_policy_free(&ipolicy);
		wb_job_free(&job);
		return WB_EXIT_USAGE;
	}
	rc = execute(&job, &policy, &ipolicy, tty, c.trace, learn);
	wb_policy_free(&policy);
	wb_policy_free(&ipolicy);
	wb_job_free(&job);
	return rc;
}

int wb_cli_run(int argc, char **argv)
{
	return run_or_learn(argc, argv, false);
}

/* The same job options as run; --policy only picks the binds (a JVM needs
 * its /etc directory to start at all), the filter is learn's own. */
int wb_cli_learn(int argc, char **argv)
{
	return run_or_learn(argc, argv, true);
}
