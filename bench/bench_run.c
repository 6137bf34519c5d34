/*
 * bench_run: what one warmbox job costs, measured against a bare
 * fork+execve+waitpid of the same program and against bubblewrap, in one
 * interleaved run on one machine (DESIGN.md, "Where time goes").
 *
 *   bench_run [-n N] [-W WARMUP] [-o FILE] [-w WARMBOX] [-b BUSY]
 *   bench_run -m cpu [-n N] ...
 *
 * Mode "latency" (default): N rounds; each round runs bare, warmbox and bwrap
 * once, the starting variant rotating, so drift and noise hit all three alike.
 * Mode "cpu": N runs of a busy loop under `warmbox run --cpu 500`; how far
 * past the limit cpu_ms and wall_ms land.
 *
 * The report goes to stdout and to FILE (default
 * bench/results/run-YYYYmmdd-HHMMSS[-cpu].txt in the source tree).
 */
#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define CPU_LIMIT_MS 500

extern char **environ;

/* ---- errors ------------------------------------------------------------ */

static void die(const char *fmt, ...)
{
	va_list ap;

	fputs("bench_run: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}

static void die_errno(const char *what)
{
	die("%s: %s", what, strerror(errno));
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	if (clock_gettime(CLOCK_MONOTONIC, &ts) < 0)
		die_errno("clock_gettime");
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* ---- running a command ------------------------------------------------- */

struct buf {
	char *p;
	size_t len, cap;
};

/* fork + execve(argv) + waitpid; returns the wall time in microseconds.
 * With out, the child's stdout is read through a pipe into out (NUL-ended). */
static double run(char *const argv[], struct buf *out, int *wstatus)
{
	int pfd[2];
	uint64_t t0, t1;
	pid_t pid;

	if (out && pipe2(pfd, O_CLOEXEC) < 0)
		die_errno("pipe2");
	t0 = now_ns();
	pid = fork();
	if (pid < 0)
		die_errno("fork");
	if (pid == 0) {
		if (out && dup2(pfd[1], STDOUT_FILENO) < 0)
			_exit(126);
		execve(argv[0], argv, environ);
		_exit(127);
	}
	if (out) {
		if (close(pfd[1]) < 0)
			die_errno("close");
		out->len = 0;
		for (;;) {
			ssize_t r;

			if (out->cap - out->len < 4096) {
				out->cap = out->cap ? out->cap * 2 : 65536;
				out->p = realloc(out->p, out->cap);
				if (!out->p)
					die("out of memory");
			}
			r = read(pfd[0], out->p + out->len, out->cap - out->len - 1);
			if (r < 0 && errno == EINTR)
				continue;
			if (r < 0)
				die_errno("read");
			if (r == 0)
				break;
			out->len += (size_t)r;
		}
		out->p[out->len] = '\0';
		if (close(pfd[0]) < 0)
			die_errno("close");
	}
	while (waitpid(pid, wstatus, 0) < 0)
		if (errno != EINTR)
			die_errno("waitpid");
	t1 = now_ns();
	return (double)(t1 - t0) / 1000.0;
}

static bool exited_zero(int wstatus)
{
	return WIFEXITED(wstatus) && WEXITSTATUS(wstatus) == 0;
}

/* ---- the warmbox result line ------------------------------------------- */

struct wres {
	char status[8];
	char accounting[24];
	double cpu_ms, wall_ms;
	double send_us, recv_us; /* trace; -1 when absent */
};

static double num_field(const cJSON *o, const char *name)
{
	const cJSON *f = cJSON_GetObjectItemCaseSensitive(o, name);

	return cJSON_IsNumber(f) ? f->valuedouble : -1;
}

static void str_field(const cJSON *o, const char *name, char *dst, size_t n)
{
	const char *s = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o, name));

	snprintf(dst, n, "%s", s ? s : "?");
}

static void parse_result(const char *line, struct wres *r)
{
	cJSON *o = cJSON_Parse(line);
	const cJSON *tr;

	if (!cJSON_IsObject(o))
		die("warmbox printed no result JSON: %s", line);
	str_field(o, "status", r->status, sizeof(r->status));
	str_field(o, "accounting", r->accounting, sizeof(r->accounting));
	r->cpu_ms = num_field(o, "cpu_ms");
	r->wall_ms = num_field(o, "wall_ms");
	tr = cJSON_GetObjectItemCaseSensitive(o, "trace");
	r->send_us = num_field(tr, "send_to_exec_us");
	r->recv_us = num_field(tr, "recv_to_exec_us");
	cJSON_Delete(o);
}

static void note_accounting(char *seen, size_t n, const char *acc)
{
	if (!seen[0])
		snprintf(seen, n, "%s", acc);
	else if (strcmp(seen, acc) != 0)
		snprintf(seen, n, "mixed");
}

/* ---- statistics -------------------------------------------------------- */

struct summary {
	double min, p50, p90, mean, max;
};

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* Nearest-rank percentiles over n >= 1 values (v is sorted in place). */
static struct summary summarize(double *v, int n)
{
	struct summary s = {0};
	double sum = 0;

	qsort(v, (size_t)n, sizeof(*v), cmp_double);
	for (int i = 0; i < n; i++)
		sum += v[i];
	s.min = v[0];
	s.max = v[n - 1];
	s.p50 = v[(50 * n + 99) / 100 - 1];
	s.p90 = v[(90 * n + 99) / 100 - 1];
	s.mean = sum / n;
	return s;
}

static double *alloc_series(int n)
{
	double *v = calloc((size_t)n, sizeof(double));

	if (!v)
		die("out of memory");
	return v;
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
		die_errno("pclose");
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
		die_errno("fclose /proc/cpuinfo");
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
		die_errno("fclose /proc/loadavg");
}

static void print_facts(FILE *o, const char *mode, const char *warmbox, int argc, char **argv)
{
	struct utsname u;
	char date[64], commit[64], dirty[8], model[256], load[64], cmd[PATH_MAX + 64];
	time_t t = time(NULL);
	struct tm tm;
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);

	if (uname(&u) < 0)
		die_errno("uname");
	if (t == (time_t)-1 || !localtime_r(&t, &tm))
		die_errno("time");
	strftime(date, sizeof(date), "%Y-%m-%d %H:%M:%S %z", &tm);
	snprintf(cmd, sizeof(cmd), "git -C '%s' rev-parse --short HEAD 2>/dev/null", BENCH_DIR);
	cmd_line(cmd, commit, sizeof(commit));
	snprintf(cmd, sizeof(cmd),
		 "git -C '%s' status --porcelain --untracked-files=no 2>/dev/null | head -1", BENCH_DIR);
	cmd_line(cmd, dirty, sizeof(dirty));
	cpu_model(model, sizeof(model));
	loadavg(load, sizeof(load));

	fprintf(o, "warmbox bench_run, mode %s\n", mode);
	fprintf(o, "command:    ");
	for (int i = 0; i < argc; i++)
		fprintf(o, "%s%s", i ? " " : "", argv[i]);
	fprintf(o, "\ndate:       %s\n", date);
	fprintf(o, "kernel:     %s %s (%s)\n", u.sysname, u.release, u.machine);
	fprintf(o, "cpus:       %ld online, %s\n", ncpu, model);
	fprintf(o, "load avg:   %s at start (1, 5, 15 min)\n", load);
	fprintf(o, "warmbox:    %s, commit %s%s\n", warmbox, commit[0] ? commit : "?",
		dirty[0] ? " + uncommitted changes" : "");
}

static void print_argv(FILE *o, const char *label, char *const argv[])
{
	fprintf(o, "  %-8s", label);
	for (int i = 0; argv[i]; i++)
		fprintf(o, " %s", argv[i]);
	fputc('\n', o);
}

/* ---- bubblewrap command ------------------------------------------------ */

/* The same binds and namespaces warmbox sets up: /usr read-only, the
 * top-level /bin /lib* /sbin as the host has them (symlink or directory),
 * warmbox's /etc files, fresh /proc /dev /tmp /box. */
static char **bwrap_argv(void)
{
	static char *v[96];
	static char links[8][PATH_MAX];
	static const char *const tops[] = {"/bin", "/lib", "/lib64", "/lib32", "/libx32", "/sbin"};
	static const char *const etc[] = {"/etc/ld.so.cache", "/etc/localtime",
					  "/etc/nsswitch.conf", "/etc/alternatives"};
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

		if (lstat(tops[i], &st) < 0) {
			if (errno == ENOENT)
				continue;
			die_errno(tops[i]);
		}
		if (S_ISLNK(st.st_mode)) {
			len = readlink(tops[i], links[i], sizeof(links[i]) - 1);
			if (len < 0)
				die_errno(tops[i]);
			links[i][len] = '\0';
			ADD("--symlink");
			ADD(links[i]);
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
	ADD("--chdir");
	ADD("/box");
	ADD("--");
	ADD("/bin/true");
	ADD(NULL);
#undef ADD
	return v;
}

/* ---- the two modes ----------------------------------------------------- */

enum { V_BARE, V_WARMBOX, V_BWRAP, NVAR };
static const char *const var_name[NVAR] = {"bare", "warmbox", "bwrap"};

static void print_row(FILE *o, const char *name, struct summary s)
{
	fprintf(o, "  %-15s %9.0f %9.0f %9.0f %9.0f %9.0f\n", name, s.min, s.p50, s.p90, s.mean,
		s.max);
}

static void latency(FILE *o, int n, int warmup, const char *warmbox)
{
	char *bare[] = {"/bin/true", NULL};
	char *wb[] = {(char *)warmbox, "run", "--trace", "--", "/bin/true", NULL};
	char **bw = bwrap_argv();
	char *const *cmds[NVAR] = {bare, wb, bw};
	double *t[NVAR], *send = alloc_series(n), *recv = alloc_series(n);
	struct summary s[NVAR];
	char acc[24] = "";
	struct buf out = {0};

	for (int v = 0; v < NVAR; v++)
		t[v] = alloc_series(n);
	for (int r = 0; r < warmup + n; r++) {
		for (int k = 0; k < NVAR; k++) {
			int v = (r + k) % NVAR, ws;
			double us = run(cmds[v], v == V_WARMBOX ? &out : NULL, &ws);

			if (!exited_zero(ws))
				die("%s run failed (wait status %#x)", var_name[v], ws);
			if (v == V_WARMBOX) {
				struct wres res;

				parse_result(out.p, &res);
				if (strcmp(res.status, "OK") != 0)
					die("warmbox status %s: %s", res.status, out.p);
				if (res.send_us < 0 || res.recv_us < 0)
					die("warmbox result has no trace: %s", out.p);
				note_accounting(acc, sizeof(acc), res.accounting);
				if (r >= warmup) {
					send[r - warmup] = res.send_us;
					recv[r - warmup] = res.recv_us;
				}
			}
			if (r >= warmup)
				t[v][r - warmup] = us;
		}
	}

	fprintf(o, "accounting: %s\n", acc);
	fprintf(o, "rounds:     %d (+%d warm-up, not counted), one run of each variant per round,\n"
		   "            starting variant rotating\n", n, warmup);
	fprintf(o, "commands (each timed fork -> waitpid, CLOCK_MONOTONIC; warmbox's stdout read to EOF):\n");
	print_argv(o, "bare", bare);
	print_argv(o, "warmbox", wb);
	print_argv(o, "bwrap", bw);
	fprintf(o, "\nwall time per run, microseconds (nearest-rank percentiles)\n");
	fprintf(o, "  %-15s %9s %9s %9s %9s %9s\n", "variant", "min", "median", "p90", "mean", "max");
	for (int v = 0; v < NVAR; v++) {
		s[v] = summarize(t[v], n);
		print_row(o, var_name[v], s[v]);
	}
	fprintf(o, "\nmedian ratios: warmbox/bare %.1f, bwrap/bare %.1f (warmbox/bwrap %.2f)\n",
		s[V_WARMBOX].p50 / s[V_BARE].p50, s[V_BWRAP].p50 / s[V_BARE].p50,
		s[V_WARMBOX].p50 / s[V_BWRAP].p50);
	fprintf(o, "\nwarmbox --trace, microseconds\n");
	fprintf(o, "  %-15s %9s %9s %9s %9s %9s\n", "figure", "min", "median", "p90", "mean", "max");
	print_row(o, "send_to_exec", summarize(send, n));
	print_row(o, "recv_to_exec", summarize(recv, n));

	for (int v = 0; v < NVAR; v++)
		free(t[v]);
	free(send);
	free(recv);
	free(out.p);
}

/* Returns the number of runs whose status was not TL. */
static int cpu_overshoot(FILE *o, int n, const char *warmbox, const char *busy)
{
	char cpu[16], copy[PATH_MAX + 8];
	char *cmd[] = {(char *)warmbox, "run", "--cpu", cpu, "--copy-in", copy, "--", "./busy", NULL};
	double *dcpu = alloc_series(n), *dwall = alloc_series(n), *whole = alloc_series(n);
	char acc[24] = "";
	struct buf out = {0};
	int tl = 0, bad = 0;

	snprintf(cpu, sizeof(cpu), "%d", CPU_LIMIT_MS);
	if (snprintf(copy, sizeof(copy), "%s:busy", busy) >= (int)sizeof(copy))
		die("busy path too long");
	if (access(busy, X_OK) < 0)
		die_errno(busy);
	for (int i = 0; i < n; i++) {
		struct wres res;
		int ws;
		double us = run(cmd, &out, &ws);

		if (!exited_zero(ws))
			die("warmbox run failed (wait status %#x): %s", ws, out.p);
		parse_result(out.p, &res);
		note_accounting(acc, sizeof(acc), res.accounting);
		if (strcmp(res.status, "TL") != 0) {
			fprintf(stderr, "bench_run: run %d: status %s, not TL: %s", i, res.status, out.p);
			bad++;
			continue;
		}
		dcpu[tl] = res.cpu_ms - CPU_LIMIT_MS;
		dwall[tl] = res.wall_ms - CPU_LIMIT_MS;
		whole[tl] = us / 1000.0;
		tl++;
	}

	fprintf(o, "accounting: %s\n", acc);
	fprintf(o, "runs:       %d, each `--cpu %d` on a static busy loop; %d of %d were TL\n", n,
		CPU_LIMIT_MS, tl, n);
	fprintf(o, "commands:\n");
	print_argv(o, "warmbox", cmd);
	if (tl > 0) {
		fprintf(o, "\nmilliseconds past the %d ms limit, over the TL runs (negative = under)\n",
			CPU_LIMIT_MS);
		fprintf(o, "  %-15s %9s %9s %9s %9s %9s\n", "figure", "min", "median", "p90", "mean", "max");
		print_row(o, "cpu_ms - 500", summarize(dcpu, tl));
		print_row(o, "wall_ms - 500", summarize(dwall, tl));
		fprintf(o, "\nwhole `warmbox run` command, milliseconds\n");
		print_row(o, "command wall", summarize(whole, tl));
	}
	free(dcpu);
	free(dwall);
	free(whole);
	free(out.p);
	return bad;
}

/* ---- main -------------------------------------------------------------- */

static void usage(FILE *f)
{
	fprintf(f, "usage: bench_run [-m latency|cpu] [-n N] [-W WARMUP] [-o FILE]\n"
		   "                 [-w WARMBOX] [-b BUSY]\n"
		   "  -m MODE   latency (default): bare vs warmbox vs bwrap on /bin/true\n"
		   "            cpu: overshoot of `warmbox run --cpu %d` on a busy loop\n"
		   "  -n N      rounds (default 200 latency, 50 cpu)\n"
		   "  -W N      latency warm-up rounds, not counted (default 5)\n"
		   "  -o FILE   report file (default %s/results/run-DATE-TIME[-cpu].txt)\n"
		   "  -w PATH   warmbox binary (default %s)\n"
		   "  -b PATH   busy-loop binary for -m cpu (default %s)\n",
		CPU_LIMIT_MS, BENCH_DIR, BENCH_WARMBOX, BENCH_BUSY);
}

static int positive(const char *s)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || *end || v < 0 || v > 1000000)
		die("bad number: %s", s);
	return (int)v;
}

int main(int argc, char **argv)
{
	const char *mode = "latency", *outpath = NULL;
	const char *warmbox = BENCH_WARMBOX, *busy = BENCH_BUSY;
	int n = -1, warmup = 5, c, bad = 0;
	char defpath[PATH_MAX], load[64], *report = NULL;
	size_t report_len = 0;
	FILE *o, *f;

	while ((c = getopt(argc, argv, "m:n:W:o:w:b:h")) != -1) {
		switch (c) {
		case 'm': mode = optarg; break;
		case 'n': n = positive(optarg); break;
		case 'W': warmup = positive(optarg); break;
		case 'o': outpath = optarg; break;
		case 'w': warmbox = optarg; break;
		case 'b': busy = optarg; break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind != argc || (strcmp(mode, "latency") != 0 && strcmp(mode, "cpu") != 0)) {
		usage(stderr);
		return 2;
	}
	if (n < 0)
		n = strcmp(mode, "cpu") == 0 ? 50 : 200;
	if (n < 1)
		die("-n must be at least 1");
	if (access(warmbox, X_OK) < 0)
		die_errno(warmbox);

	if (!outpath) {
		char stamp[32];
		time_t t = time(NULL);
		struct tm tm;
		char *dir = realpath(BENCH_DIR, NULL);

		if (!dir)
			die_errno(BENCH_DIR);
		if (t == (time_t)-1 || !localtime_r(&t, &tm))
			die_errno("time");
		strftime(stamp, sizeof(stamp), "%Y%m%d-%H%M%S", &tm);
		snprintf(defpath, sizeof(defpath), "%s/results", dir);
		if (mkdir(defpath, 0755) < 0 && errno != EEXIST)
			die_errno(defpath);
		snprintf(defpath, sizeof(defpath), "%s/results/run-%s%s.txt", dir, stamp,
			 strcmp(mode, "cpu") == 0 ? "-cpu" : "");
		free(dir);
		outpath = defpath;
	}

	o = open_memstream(&report, &report_len);
	if (!o)
		die_errno("open_memstream");
	print_facts(o, mode, warmbox, argc, argv);
	if (strcmp(mode, "cpu") == 0)
		bad = cpu_overshoot(o, n, warmbox, busy);
	else
		latency(o, n, warmup, warmbox);
	loadavg(load, sizeof(load));
	fprintf(o, "\nload avg:   %s at end\n", load);
	if (fclose(o) != 0)
		die_errno("open_memstream");

	if (fwrite(report, 1, report_len, stdout) != report_len || fflush(stdout) != 0)
		die_errno("stdout");
	f = fopen(outpath, "w");
	if (!f)
		die_errno(outpath);
	if (fwrite(report, 1, report_len, f) != report_len || fclose(f) != 0)
		die_errno(outpath);
	fprintf(stderr, "bench_run: report written to %s\n", outpath);
	free(report);
	return bad ? 1 : 0;
}
