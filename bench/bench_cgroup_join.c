/* bench_cgroup_join: what putting a new process into a cgroup costs, the
 * way a zygote puts each spare job init into its job's cgroup:
 *   fork     plain fork, the child exits at once (the baseline)
 *   write    fork, the child writes "0" to the cgroup's cgroup.procs, exits
 *   into     clone3 with CLONE_INTO_CGROUP into the cgroup (v2 only), exits
 * Each round runs every method once, interleaved, and the parent waits for
 * the child's exit: the figure is the wall time from the clone to the reap.
 *
 * usage: bench_cgroup_join [-n ROUNDS] [-o FILE] CGROUP_DIR
 * CGROUP_DIR: an empty cgroup the caller made (v2: any, even with no
 * controllers; v1: a memory cgroup, where "into" is left out). */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include <linux/magic.h>

#include "benchlib.h"
#include "proto/clone3.h"

const char bench_name[] = "bench_cgroup_join";

enum { M_FORK, M_WRITE, M_INTO, M_COUNT };
static const char *const names[M_COUNT] = {"fork", "write", "into"};

static double spawn(int method, int procs_fd, int dir_fd)
{
	struct wb_clone_args args = {.exit_signal = SIGCHLD};
	uint64_t t0 = bench_now_ns();
	pid_t pid;
	int st;

	if (method == M_INTO) {
		args.flags = CLONE_INTO_CGROUP;
		args.cgroup = (uint64_t)dir_fd;
	}
	pid = wb_clone3(&args);
	if (pid < 0)
		bench_die_errno(names[method]);
	if (pid == 0) {
		if (method == M_WRITE && write(procs_fd, "0", 1) != 1)
			_exit(1);
		_exit(0);
	}
	if (waitpid(pid, &st, 0) != pid || !bench_exited_zero(st))
		bench_die("%s: the child failed", names[method]);
	return (double)(bench_now_ns() - t0) / 1000.0;
}

int main(int argc, char **argv)
{
	int rounds = 2000, opt, procs_fd, dir_fd, methods;
	const char *outpath = NULL;
	char path[4096], outbuf[4096];
	double *t[M_COUNT];
	struct statfs fs;
	char *report = NULL;
	size_t len = 0;
	FILE *o;

	while ((opt = getopt(argc, argv, "n:o:")) != -1) {
		if (opt == 'n')
			rounds = bench_number(optarg);
		else if (opt == 'o')
			outpath = optarg;
		else
			bench_die("usage: bench_cgroup_join [-n ROUNDS] [-o FILE] CGROUP_DIR");
	}
	if (optind != argc - 1 || rounds < 1)
		bench_die("usage: bench_cgroup_join [-n ROUNDS] [-o FILE] CGROUP_DIR");
	if (statfs(argv[optind], &fs) < 0)
		bench_die_errno(argv[optind]);
	methods = fs.f_type == CGROUP2_SUPER_MAGIC ? M_COUNT : M_INTO;
	snprintf(path, sizeof(path), "%s/cgroup.procs", argv[optind]);
	if ((procs_fd = open(path, O_WRONLY | O_CLOEXEC)) < 0)
		bench_die_errno(path);
	if ((dir_fd = open(argv[optind], O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
		bench_die_errno(argv[optind]);
	for (int m = 0; m < M_COUNT; m++)
		t[m] = bench_xmalloc(sizeof(double) * (size_t)rounds);
	for (int i = 0; i < rounds; i++)
		for (int m = 0; m < methods; m++)
			t[m][i] = spawn(m, procs_fd, dir_fd);

	o = open_memstream(&report, &len);
	if (!o)
		bench_die_errno("open_memstream");
	fprintf(o, "bench_cgroup_join: a new process into a cgroup, %d interleaved rounds\n", rounds);
	bench_facts_head(o, argc, argv);
	fprintf(o, "cgroup:   %s (%s)\n\n", argv[optind], methods == M_COUNT ? "v2" : "v1");
	fprintf(o, "%-8s %10s %10s %10s %10s   (microseconds, clone to reap)\n", "method", "p50", "p90", "p99",
		"mean");
	for (int m = 0; m < methods; m++) {
		struct bench_summary s = bench_summarize(t[m], rounds);

		fprintf(o, "%-8s %10.1f %10.1f %10.1f %10.1f\n", names[m], s.p50, s.p90, s.p99, s.mean);
	}
	if (!outpath) {
		bench_report_path(outbuf, sizeof(outbuf), "cgroup-join", "");
		outpath = outbuf;
	}
	bench_report_finish(o, &report, &len, outpath);
	return 0;
}
