/* benchlib.c: the helpers bench_run and bench_daemon share, written once: errors, the
 * clock, timed fork+execve and loops of it, bwrap's command line, percentiles, machine facts, the report. */
#include "benchlib.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define STR_(x) #x
#define STR(x) STR_(x)

extern char **environ;

/* ---- errors, memory, the clock ----------------------------------------- */

void bench_die(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: ", bench_name);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}

void bench_die_errno(const char *what)
{
	bench_die("%s: %s", what, strerror(errno));
}

void *bench_xmalloc(size_t n)
{
	void *p = malloc(n);

	if (!p)
		bench_die("out of memory");
	return p;
}

uint64_t bench_now_ns(void)
{
	struct timespec ts;

	if (clock_gettime(CLOCK_MONOTONIC, &ts) < 0)
		bench_die_errno("clock_gettime");
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

int bench_number(const char *s)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || *end || v < 0 || v > 1000000)
		bench_die("bad number: %s", s);
	return (int)v;
}

/* ---- running a command ------------------------------------------------- */

void bench_buf_reserve(struct bench_buf *b, size_t more)
{
	if (b->cap - b->len >= more)
		return;
	while (b->cap - b->len < more)
		b->cap = b->cap ? b->cap * 2 : 65536;
	b->p = realloc(b->p, b->cap);
	if (!b->p)
		bench_die("out of memory");
}

double bench_run_cmd(char *const argv[], const char *file, struct bench_buf *out, int *wstatus)
{
	int pfd[2];
	uint64_t t0, t1;
	pid_t pid;

	if (out && pipe2(pfd, O_CLOEXEC) < 0)
		bench_die_errno("pipe2");
	t0 = bench_now_ns();
	pid = fork();
	if (pid < 0)
		bench_die_errno("fork");
	if (pid == 0) {
		if (out && dup2(pfd[1], STDOUT_FILENO) < 0)
			_exit(126);
		if (file) {
			int fd = open(file, O_RDONLY);

			if (fd < 0 || dup2(fd, BENCH_FILE_FD) < 0)
				_exit(126);
		}
		execve(argv[0], argv, environ);
		_exit(127);
	}
	if (out) {
		if (close(pfd[1]) < 0)
			bench_die_errno("close");
		out->len = 0;
		for (;;) {
			ssize_t r;

			bench_buf_reserve(out, 4096);
			r = read(pfd[0], out->p + out->len, out->cap - out->len - 1);
			if (r < 0 && errno == EINTR)
				continue;
			if (r < 0)
				bench_die_errno("read");
			if (r == 0)
				break;
			out->len += (size_t)r;
		}
		out->p[out->len] = '\0';
		if (close(pfd[0]) < 0)
			bench_die_errno("close");
	}
	while (waitpid(pid, wstatus, 0) < 0)
		if (errno != EINTR)
			bench_die_errno("waitpid");
	t1 = bench_now_ns();
	return (double)(t1 - t0) / 1000.0;
}

bool bench_exited_zero(int wstatus)
{
	return WIFEXITED(wstatus) && WEXITSTATUS(wstatus) == 0;
}

/* One loop's work, in a child: n runs one after the other, their latencies
 * written to fd at the end (after the loop, so the pipe costs the loop
 * nothing). A wrong result is said on stderr and ends the loop with 1. */
static void loop_child(const char *name, const char *expect, char *const argv[], const char *file, int n, int fd)
{
	double *lat = malloc(sizeof(double) * (size_t)(n ? n : 1));
	struct bench_buf out = {0};
	size_t left = sizeof(double) * (size_t)n;
	const char *b;
	int ws;

	if (!lat)
		_exit(2);
	for (int k = 0; k < n; k++) {
		lat[k] = bench_run_cmd(argv, file, &out, &ws);
		if (!bench_exited_zero(ws) || strcmp(out.p, expect) != 0) {
			fprintf(stderr, "%s: %s %s: wait status %#x, stdout \"%s\"\n", bench_name, name,
				argv[0], ws, out.p);
			_exit(1);
		}
	}
	for (b = (const char *)lat; left > 0;) {
		ssize_t w = write(fd, b, left);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			_exit(3);
		b += w;
		left -= (size_t)w;
	}
	_exit(0);
}

uint64_t bench_loops(const char *name, const char *expect, char *const argv[], const char *file, int nloops,
		     int jobs, double *lat)
{
	pid_t w[BENCH_MAXLOOPS];
	int fds[BENCH_MAXLOOPS], got = 0;
	double *dst = lat ? lat : bench_xmalloc(sizeof(double) * (size_t)jobs);
	uint64_t t0 = bench_now_ns(), t1;

	if (nloops < 1 || nloops > BENCH_MAXLOOPS)
		bench_die("%d loops", nloops);
	for (int i = 0; i < nloops; i++) {
		int pfd[2], n = jobs / nloops + (i < jobs % nloops);

		if (pipe2(pfd, O_CLOEXEC) < 0)
			bench_die_errno("pipe2");
		w[i] = fork();
		if (w[i] < 0)
			bench_die_errno("fork");
		if (w[i] == 0)
			loop_child(name, expect, argv, file, n, pfd[1]);
		if (close(pfd[1]) < 0)
			bench_die_errno("close");
		fds[i] = pfd[0];
	}
	for (int i = 0; i < nloops; i++) {
		int n = jobs / nloops + (i < jobs % nloops), ws;
		size_t have = 0, want = sizeof(double) * (size_t)n;

		/* To EOF: a loop that sent more than its share is caught below. */
		for (;;) {
			char extra, *at = have < want ? (char *)(dst + got) + have : &extra;
			ssize_t r = read(fds[i], at, have < want ? want - have : 1);

			if (r < 0 && errno == EINTR)
				continue;
			if (r < 0)
				bench_die_errno("read from a loop");
			if (r == 0)
				break;
			have += (size_t)r;
		}
		if (close(fds[i]) < 0)
			bench_die_errno("close");
		while (waitpid(w[i], &ws, 0) < 0)
			if (errno != EINTR)
				bench_die_errno("waitpid");
		if (!bench_exited_zero(ws))
			bench_die("%s %s: a loop failed (wait status %#x)", name, argv[0], ws);
		if (have != want)
			bench_die("%s %s: a loop sent %zu bytes of latencies, not %zu", name, argv[0], have, want);
		got += n;
	}
	t1 = bench_now_ns();
	if (dst != lat)
		free(dst);
	return t1 - t0;
}

/* The same binds and namespaces warmbox sets up: /usr read-only, the
 * top-level /bin /lib* /sbin as the host has them (symlink or directory),
 * warmbox's /etc files, fresh /proc /dev /tmp /box. With file, it is copied
 * to /box/hello, mode 0755, as the daemon writes a job's file. */
char **bench_bwrap_argv(const char *prog, bool file)
{
	static const char *const tops[] = {"/bin", "/lib", "/lib64", "/lib32", "/libx32", "/sbin"};
	static const char *const etc[] = {"/etc/ld.so.cache", "/etc/localtime",
					  "/etc/nsswitch.conf", "/etc/alternatives"};
	char **v = bench_xmalloc(96 * sizeof(*v));
	int n = 0;

#define ADD(s) (v[n++] = (char *)(s))
	ADD("/usr/bin/bwrap");
	ADD("--unshare-all");
	ADD("--die-with-parent");
	ADD("--new-session");
	ADD("--ro-bind");
	ADD("/usr");
	ADD("/usr");
	for (size_t i = 0; i < sizeof(tops) / sizeof(tops[0]); i++) {
		struct stat st;
		ssize_t len;
		char *link;

		if (lstat(tops[i], &st) < 0) {
			if (errno == ENOENT)
				continue;
			bench_die_errno(tops[i]);
		}
		if (S_ISLNK(st.st_mode)) {
			link = bench_xmalloc(PATH_MAX);
			len = readlink(tops[i], link, PATH_MAX - 1);
			if (len < 0)
				bench_die_errno(tops[i]);
			link[len] = '\0';
			ADD("--symlink");
			ADD(link);
			ADD(tops[i]);
		} else if (S_ISDIR(st.st_mode)) {
			ADD("--ro-bind");
			ADD(tops[i]);
			ADD(tops[i]);
		}
	}
	for (size_t i = 0; i < sizeof(etc) / sizeof(etc[0]); i++) {
		ADD("--ro-bind-try");
		ADD(etc[i]);
		ADD(etc[i]);
	}
	ADD("--proc");
	ADD("/proc");
	ADD("--dev");
	ADD("/dev");
	ADD("--tmpfs");
	ADD("/tmp");
	ADD("--tmpfs");
	ADD("/box");
	if (file) {
		ADD("--perms");
		ADD("0755");
		ADD("--file");
		ADD(STR(BENCH_FILE_FD));
		ADD("/box/hello");
	}
	ADD("--chdir");
	ADD("/box");
	ADD("--");
	ADD(prog);
	ADD(NULL);
#undef ADD
	return v;
}

void bench_note_accounting(char *seen, size_t n, const char *acc)
{
	if (!seen[0])
		snprintf(seen, n, "%s", acc);
	else if (strcmp(seen, acc) != 0)
		snprintf(seen, n, "mixed");
}

/* ---- statistics -------------------------------------------------------- */

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

struct bench_summary bench_summarize(double *v, int n)
{
	struct bench_summary s = {0};
	double sum = 0;

	qsort(v, (size_t)n, sizeof(*v), cmp_double);
	for (int i = 0; i < n; i++)
		sum += v[i];
	s.min = v[0];
	s.max = v[n - 1];
	s.p50 = v[(50 * n + 99) / 100 - 1];
	s.p90 = v[(90 * n + 99) / 100 - 1];
	s.p99 = v[(99 * n + 99) / 100 - 1];
	s.mean = sum / n;
	return s;
}

/* ---- machine facts ----------------------------------------------------- */

/* First line of a shell command's output, or "?" . */
static void cmd_line(const char *cmd, char *dst, size_t n)
{
	FILE *f = popen(cmd, "r");

	snprintf(dst, n, "?");
	if (!f)
		return;
	if (fgets(dst, (int)n, f))
		dst[strcspn(dst, "\n")] = '\0';
	else
		snprintf(dst, n, "%s", "");
	if (pclose(f) == -1)
		bench_die_errno("pclose");
}

static void cpu_model(char *dst, size_t n)
{
	FILE *f = fopen("/proc/cpuinfo", "r");
	char line[512];

	snprintf(dst, n, "?");
	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		char *colon = strchr(line, ':');

		if (strncmp(line, "model name", 10) == 0 && colon) {
			snprintf(dst, n, "%s", colon + 2);
			dst[strcspn(dst, "\n")] = '\0';
			break;
		}
	}
	if (fclose(f) != 0)
		bench_die_errno("fclose /proc/cpuinfo");
}

/* "1-min 5-min 15-min" from /proc/loadavg: other work on the machine. */
static void loadavg(char *dst, size_t n)
{
	FILE *f = fopen("/proc/loadavg", "r");
	double a, b, c;

	snprintf(dst, n, "?");
	if (!f)
		return;
	if (fscanf(f, "%lf %lf %lf", &a, &b, &c) == 3)
		snprintf(dst, n, "%.2f %.2f %.2f", a, b, c);
	if (fclose(f) != 0)
		bench_die_errno("fclose /proc/loadavg");
}

void bench_facts_head(FILE *o, int argc, char **argv)
{
	struct utsname u;
	char date[64], model[256];
	time_t t = time(NULL);
	struct tm tm;

	if (uname(&u) < 0)
		bench_die_errno("uname");
	if (t == (time_t)-1 || !localtime_r(&t, &tm))
		bench_die_errno("time");
	strftime(date, sizeof(date), "%Y-%m-%d %H:%M:%S %z", &tm);
	cpu_model(model, sizeof(model));

	fprintf(o, "command:    ");
	for (int i = 0; i < argc; i++)
		fprintf(o, "%s%s", i ? " " : "", argv[i]);
	fprintf(o, "\ndate:       %s\n", date);
	fprintf(o, "kernel:     %s %s (%s)\n", u.sysname, u.release, u.machine);
	fprintf(o, "cpus:       %ld online, %s\n", sysconf(_SC_NPROCESSORS_ONLN), model);
}

void bench_facts_tail(FILE *o, const char *warmbox)
{
	char commit[64], dirty[8], load[64], cmd[PATH_MAX + 64];

	snprintf(cmd, sizeof(cmd), "git -C '%s' rev-parse --short HEAD 2>/dev/null", BENCH_DIR);
	cmd_line(cmd, commit, sizeof(commit));
	snprintf(cmd, sizeof(cmd),
		 "git -C '%s' status --porcelain --untracked-files=no 2>/dev/null | head -1", BENCH_DIR);
	cmd_line(cmd, dirty, sizeof(dirty));
	loadavg(load, sizeof(load));

	fprintf(o, "load avg:   %s at start (1, 5, 15 min)\n", load);
	fprintf(o, "warmbox:    %s, commit %s%s\n", warmbox, commit[0] ? commit : "?",
		dirty[0] ? " + uncommitted changes" : "");
}

void bench_print_argv(FILE *o, int width, const char *label, char *const argv[])
{
	fprintf(o, "  %-*s", width, label);
	for (int i = 0; argv[i]; i++)
		fprintf(o, " %s", argv[i]);
	fputc('\n', o);
}

/* ---- the report -------------------------------------------------------- */

void bench_report_path(char *dst, size_t n, const char *prefix, const char *suffix)
{
	char stamp[32];
	time_t t = time(NULL);
	struct tm tm;
	char *dir = realpath(BENCH_DIR, NULL);

	if (!dir)
		bench_die_errno(BENCH_DIR);
	if (t == (time_t)-1 || !localtime_r(&t, &tm))
		bench_die_errno("time");
	strftime(stamp, sizeof(stamp), "%Y%m%d-%H%M%S", &tm);
	snprintf(dst, n, "%s/results", dir);
	if (mkdir(dst, 0755) < 0 && errno != EEXIST)
		bench_die_errno(dst);
	snprintf(dst, n, "%s/results/%s-%s%s.txt", dir, prefix, stamp, suffix);
	free(dir);
}

void bench_report_finish(FILE *o, char **report, size_t *len, const char *outpath)
{
	char load[64];
	FILE *f;

	loadavg(load, sizeof(load));
	fprintf(o, "\nload avg:   %s at end\n", load);
	if (fclose(o) != 0)
		bench_die_errno("open_memstream");

	if (fwrite(*report, 1, *len, stdout) != *len || fflush(stdout) != 0)
		bench_die_errno("stdout");
	f = fopen(outpath, "w");
	if (!f)
		bench_die_errno(outpath);
	if (fwrite(*report, 1, *len, f) != *len || fclose(f) != 0)
		bench_die_errno(outpath);
	fprintf(stderr, "%s: report written to %s\n", bench_name, outpath);
	free(*report);
	*report = NULL;
}
