/* main.c: the warmbox command: dispatches to a subcommand. The only place
 * that exits with a status. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "policy/policy.h"

#ifndef WB_VERSION
#define WB_VERSION "0.0.0"
#endif

static void usage(FILE *f)
{
	fputs("usage: warmbox COMMAND [OPTIONS]\n"
	      "commands:\n"
	      "  run [OPTIONS] -- PROGRAM [ARGS...]   run one job now; result JSON on stdout\n"
	      "  run --job FILE                       the job from a JSON file (- = stdin)\n"
	      "  serve [OPTIONS]                      the daemon: warm pool + job server\n"
	      "  worker --redis HOST:PORT [OPTIONS]   the warm pool fed from a Redis Stream\n"
	      "  submit [--socket PATH|--connect HOST:PORT] [FILE]   send jobs to the daemon\n"
	      "  stats [--socket PATH|--connect HOST:PORT]           the daemon's counters\n"
	      "  put [--socket PATH|--connect HOST:PORT] [FILE]      store FILE in the daemon, print its ref\n"
	      "  get [--socket PATH|--connect HOST:PORT] REF         write a stored file to stdout\n"
	      "  enter [--socket PATH] ID [-- CMD...]  a shell (or CMD) inside a running job\n"
	      "  learn [OPTIONS] -- PROGRAM [ARGS...] run it with every syscall logged, print them as a policy\n"
	      "  policies [--policies DIR]            list the policies found\n"
	      "  help [COMMAND], --version\n",
	      f);
}

/* One line per policy: its name, the syscalls it allows and refuses with
 * an errno once its includes are merged, and what it includes; or why it
 * does not load here. 2 when one is broken (warmbox serve would not
 * start), not when one only lacks its runtime (serve leaves it out). */
static int list_policies(int argc, char **argv)
{
	const char *dir = NULL;
	char **names, err[1024];
	size_t n;
	int rc, width = 0, status = WB_EXIT_OK;

	if (argc == 3 && strcmp(argv[1], "--policies") == 0)
		dir = argv[2];
	else if (argc != 1) {
		fputs("usage: warmbox policies [--policies DIR]\n", stderr);
		return WB_EXIT_USAGE;
	}
	dir = wb_policy_dir(dir);
	rc = wb_policy_names(dir, &names, &n);
	if (rc < 0) {
		fprintf(stderr, "warmbox policies: %s: %s\n", dir, strerror(-rc));
		return WB_EXIT_USAGE;
	}
	for (size_t i = 0; i < n; i++)
		if ((int)strlen(names[i]) > width)
			width = (int)strlen(names[i]);
	for (size_t i = 0; i < n; i++) {
		struct wb_policy p;

		rc = wb_policy_load(dir, names[i], &p, err, sizeof(err));
		if (rc < 0) {
			printf("%-*s  %s: %s\n", width, names[i], rc == -ENOENT ? "left out here" : "broken", err);
			if (rc != -ENOENT)
				status = WB_EXIT_USAGE;
			continue;
		}
		printf("%-*s  %3zu allowed  %2zu errno", width, names[i], p.nallow, p.nrules - p.nallow);
		for (size_t k = 0; k < p.nincludes; k++)
			printf("%s%s", k ? ", " : "  include ", p.includes[k]);
		putchar('\n');
		wb_policy_free(&p);
	}
	wb_policy_names_free(names, n);
	return status;
}

int main(int argc, char **argv)
{
	const char *cmd = argc > 1 ? argv[1] : NULL;

	if (!cmd) {
		usage(stderr);
		return WB_EXIT_USAGE;
	}
	if (strcmp(cmd, "--version") == 0 || strcmp(cmd, "version") == 0) {
		printf("warmbox %s\n", WB_VERSION);
		return WB_EXIT_OK;
	}
	if (strcmp(cmd, "run") == 0)
		return wb_cli_run(argc - 1, argv + 1);
	if (strcmp(cmd, "learn") == 0)
		return wb_cli_learn(argc - 1, argv + 1);
	if (strcmp(cmd, "policies") == 0)
		return list_policies(argc - 1, argv + 1);
	if (strcmp(cmd, "help") == 0 || strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0) {
		if (argc > 2 && strcmp(argv[2], "run") == 0)
			wb_cli_run_usage(stdout);
		else if (argc > 2 && strcmp(argv[2], "learn") == 0)
			wb_cli_learn_usage(stdout);
		else if (argc > 2 && strcmp(argv[2], "serve") == 0)
			wb_cli_serve_usage(stdout);
		else if (argc > 2 && strcmp(argv[2], "worker") == 0)
			wb_cli_worker_usage(stdout);
		else if (argc > 2 && strcmp(argv[2], "enter") == 0)
			wb_cli_enter_usage(stdout);
		else if (argc > 2 && (strcmp(argv[2], "submit") == 0 || strcmp(argv[2], "stats") == 0 ||
				      strcmp(argv[2], "put") == 0 || strcmp(argv[2], "get") == 0))
			wb_cli_client_usage(stdout);
		else
			usage(stdout);
		return WB_EXIT_OK;
	}
	if (strcmp(cmd, "serve") == 0)
		return wb_cli_serve(argc - 1, argv + 1);
	if (strcmp(cmd, "worker") == 0)
		return wb_cli_worker(argc - 1, argv + 1);
	if (strcmp(cmd, "submit") == 0)
		return wb_cli_submit(argc - 1, argv + 1);
	if (strcmp(cmd, "stats") == 0)
		return wb_cli_stats(argc - 1, argv + 1);
	if (strcmp(cmd, "enter") == 0)
		return wb_cli_enter(argc - 1, argv + 1);
	if (strcmp(cmd, "put") == 0)
		return wb_cli_put(argc - 1, argv + 1);
	if (strcmp(cmd, "get") == 0)
		return wb_cli_get(argc - 1, argv + 1);
	fprintf(stderr, "warmbox: unknown command '%s'\n", cmd);
	usage(stderr);
	return WB_EXIT_USAGE;
}
