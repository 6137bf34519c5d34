/*
 * bench_timeit: the wall time of one fork + execve + waitpid of a command,
 * for bench_lang.sh (bench/README.md, "Languages").
 *
 *   bench_timeit [-o FILE] [--] PROGRAM [ARGS...]
 *
 * PROGRAM is execve'd as given (no PATH search: give a path, e.g. ./hello or
 * /usr/bin/python3), with this process's environment and working directory.
 * Its stdout is read to EOF through a pipe, as bench_run and bench_daemon do
 * (benchlib's bench_run_cmd), and written to FILE afterwards (dropped without
 * -o); its stderr is ours. The clock runs from just before fork to just after
 * waitpid. Prints one line, "MICROSECONDS STATUS": STATUS is the exit code,
 * or 128 + the signal that ended it. Exits 0 when the command exited 0, else 1.
 */
#include "benchlib.h"

#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

const char bench_name[] = "bench_timeit";

int main(int argc, char **argv)
{
	struct bench_buf out = {0};
	const char *outpath = NULL;
	int opt, wstatus, status;
	double us;

	while ((opt = getopt(argc, argv, "+o:")) != -1) {
		if (opt == 'o')
			outpath = optarg;
		else
			bench_die("usage: bench_timeit [-o FILE] [--] PROGRAM [ARGS...]");
	}
	if (optind >= argc)
		bench_die("usage: bench_timeit [-o FILE] [--] PROGRAM [ARGS...]");

	us = bench_run_cmd(argv + optind, NULL, &out, &wstatus);
	status = WIFEXITED(wstatus) ? WEXITSTATUS(wstatus) : 128 + WTERMSIG(wstatus);

	if (outpath) {
		FILE *f = fopen(outpath, "w");

		if (!f || fwrite(out.p, 1, out.len, f) != out.len || fclose(f) != 0)
			bench_die_errno(outpath);
	}
	printf("%.0f %d\n", us, status);
	return bench_exited_zero(wstatus) ? 0 : 1;
}
