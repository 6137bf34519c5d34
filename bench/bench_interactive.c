/*
 * bench_interactive: what the CPUs the two sides of an interactive job land
 * on cost a chatty exchange (SPEC "Interactive jobs"; bench/README.md,
 * "Interactive").
 *
 *   bench_interactive [-r R] [-k K] [-o FILE] [-w WARMBOX] [-p INTERACT]
 *
 * R round trips of a 4-byte message over two crossed pipes: a client writes
 * i and reads back i+1, a server reads a value and answers value+1. Modes:
 *
 *   1. bare, unpinned: two forked children run the ping-pong code below;
 *   2. bare, both children pinned to one CPU (sched_setaffinity);
 *   3. bare, the children pinned to two different CPUs;
 *   4. warmbox: `warmbox run --job -` with the job's program `interact client
 *      R` and its interactor `interact server R` (tests/progs/interact.c,
 *      copied in as a base64 file). Skipped, with the reason, when warmbox
 *      does not know "interactor" yet or the program is missing.
 *
 * A bare run is timed from just before the first fork to both children
 * reaped; a warmbox run from fork to waitpid of the whole command, and the
 * result's wall_ms of each side is kept too. K rounds each run every mode
 * once, the starting mode rotating, so drift and noise hit all alike. The
 * report (medians, and ratios to mode 1; no assertions) goes to stdout and
 * to FILE (default bench/results/interactive-YYYYmmdd-HHMMSS.txt).
 */
#include "benchlib.h"
#include "core/base64.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

const char bench_name[] = "bench_interactive";

enum { M_UNPINNED, M_SAME, M_SPLIT, M_WARMBOX, NMODE };

/* A bare child's exit codes: which step failed. */
enum { CHILD_OK, CHILD_PIN, CHILD_IO, CHILD_WRONG };

/* What each bare child leaves behind for the parent, in shared memory: the
 * scheduler's view of where it ran. */
struct side_info {
	int last_cpu;
	long migrations; /* se.nr_migrations of /proc/self/sched; -1 if unreadable */
};

/* ---- the ping-pong ----------------------------------------------------- */

static int full_io(int fd, void *buf, size_t n, bool wr)
{
	char *p = buf;

	while (n > 0) {
		ssize_t r = wr ? write(fd, p, n) : read(fd, p, n);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return -1;
		p += r;
		n -= (size_t)r;
	}
	return 0;
}

static int client(int rfd, int wfd, int rounds)
{
	for (uint32_t i = 0; i < (uint32_t)rounds; i++) {
		uint32_t v;

		if (full_io(wfd, &i, sizeof(i), true) < 0 || full_io(rfd, &v, sizeof(v), false) < 0)
			return CHILD_IO;
		if (v != i + 1)
			return CHILD_WRONG;
	}
	return CHILD_OK;
}

static int server(int rfd, int wfd, int rounds)
{
	for (int i = 0; i < rounds; i++) {
		uint32_t v;

		if (full_io(rfd, &v, sizeof(v), false) < 0)
			return CHILD_IO;
		v++;
		if (full_io(wfd, &v, sizeof(v), true) < 0)
			return CHILD_IO;
	}
	return CHILD_OK;
}

static long own_migrations(void)
{
	char buf[4096], *p;
	ssize_t n;
	int fd = open("/proc/self/sched", O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return -1;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	p = strstr(buf, "se.nr_migrations");
	if (!p || !(p = strchr(p, ':')))
		return -1;
	return strtol(p + 1, NULL, 10);
}

/* Forks one side: it keeps rfd and wfd, closes the other two pipe ends,
 * pins itself to cpu (unless -1), plays its part and _exits. */
static pid_t spawn_side(bool is_client, const int fds[4], int cpu, int rounds, struct side_info *info)
{
	int rfd = is_client ? fds[2] : fds[0], wfd = is_client ? fds[1] : fds[3];
	pid_t pid = fork();

	if (pid < 0)
		bench_die_errno("fork");
	if (pid > 0)
		return pid;
	for (int i = 0; i < 4; i++)
		if (fds[i] != rfd && fds[i] != wfd)
			close(fds[i]);
	if (cpu >= 0) {
		cpu_set_t set;

		CPU_ZERO(&set);
		CPU_SET(cpu, &set);
		if (sched_setaffinity(0, sizeof(set), &set) < 0)
			_exit(CHILD_PIN);
	}
	int rc = is_client ? client(rfd, wfd, rounds) : server(rfd, wfd, rounds);

	info->last_cpu = sched_getcpu();
	info->migrations = own_migrations();
	_exit(rc);
}

static void reap(pid_t pid, const char *side)
{
	static const char *const why[] = {"ok", "sched_setaffinity failed", "read or write failed",
					  "wrong answer"};
	int ws;

	while (waitpid(pid, &ws, 0) < 0)
		if (errno != EINTR)
			bench_die_errno("waitpid");
	if (WIFEXITED(ws) && WEXITSTATUS(ws) == CHILD_OK)
		return;
	if (WIFEXITED(ws) && WEXITSTATUS(ws) <= CHILD_WRONG)
		bench_die("bare %s: %s", side, why[WEXITSTATUS(ws)]);
	bench_die("bare %s ended with wait status %#x", side, ws);
}

/* One bare run; returns its wall time in microseconds. info[0] is the
 * client's, info[1] the server's. */
static double run_bare(int rounds, int cpu_client, int cpu_server, struct side_info info[2])
{
	int fds[4]; /* client -> server: [0] read, [1] write; server -> client: [2], [3] */
	pid_t c, s;
	uint64_t t0;

	if (pipe2(fds, O_CLOEXEC) < 0 || pipe2(fds + 2, O_CLOEXEC) < 0)
		bench_die_errno("pipe2");
	info[0] = info[1] = (struct side_info){-1, -1};
	t0 = bench_now_ns();
	c = spawn_side(true, fds, cpu_client, rounds, &info[0]);
	s = spawn_side(false, fds, cpu_server, rounds, &info[1]);
	for (int i = 0; i < 4; i++)
		if (close(fds[i]) < 0)
			bench_die_errno("close");
	reap(c, "client");
	reap(s, "server");
	return (double)(bench_now_ns() - t0) / 1000.0;
}

/* ---- the warmbox job --------------------------------------------------- */

static char *read_whole(int fd, size_t *len)
{
	struct stat st;
	char *p;

	if (fstat(fd, &st) < 0)
		bench_die_errno("fstat");
	p = bench_xmalloc((size_t)st.st_size + 1);
	if (st.st_size > 0 && pread(fd, p, (size_t)st.st_size, 0) != st.st_size)
		bench_die_errno("pread");
	p[st.st_size] = '\0';
	*len = (size_t)st.st_size;
	return p;
}

/* The job, in a memfd to be the command's stdin: both sides run the same
 * binary, copied into their own /box as a judge sends a compiled program. */
static int make_job(const char *interact, int rounds)
{
	static const char side[] =
		"\"argv\":[\"./interact\",\"%s\",\"%d\"],"
		"\"files\":[{\"path\":\"interact\",\"base64\":\"%s\",\"mode\":493}],"
		"\"limits\":{\"cpu_ms\":60000,\"wall_ms\":120000}";
	char fmt[sizeof(side) * 2 + 32], *text, *bin, *b64;
	int fd = open(interact, O_RDONLY | O_CLOEXEC), len;
	size_t n;

	if (fd < 0)
		bench_die_errno(interact);
	bin = read_whole(fd, &n);
	close(fd);
	b64 = wb_base64_encode((const unsigned char *)bin, n);
	if (!b64)
		bench_die("out of memory");
	snprintf(fmt, sizeof(fmt), "{%s,\"interactor\":{%s}}\n", side, side);
	len = asprintf(&text, fmt, "client", rounds, b64, "server", rounds, b64);
	if (len < 0)
		bench_die("out of memory");
	fd = memfd_create("job", MFD_CLOEXEC);
	if (fd < 0)
		bench_die_errno("memfd_create");
	if (write(fd, text, (size_t)len) != len)
		bench_die_errno("write job");
	free(text);
	free(b64);
	free(bin);
	return fd;
}

struct wb_side {
	double wall_ms;
	char status[8];
	int exit_code;
};

static bool parse_side(const cJSON *o, struct wb_side *s)
{
	const cJSON *st = cJSON_GetObjectItemCaseSensitive(o, "status");
	const cJSON *ec = cJSON_GetObjectItemCaseSensitive(o, "exit_code");
	const cJSON *wall = cJSON_GetObjectItemCaseSensitive(o, "wall_ms");

	if (!cJSON_IsString(st) || !cJSON_IsNumber(wall))
		return false;
	snprintf(s->status, sizeof(s->status), "%s", st->valuestring);
	s->exit_code = cJSON_IsNumber(ec) ? ec->valueint : -1;
	s->wall_ms = wall->valuedouble;
	return strcmp(s->status, "OK") == 0 && s->exit_code == 0;
}

enum { WB_OK, WB_UNKNOWN, WB_FAILED };

/* One `warmbox run --job -` on the job in jobfd, its stdout and stderr into
 * memfds (a result line is small; the job's bytes stay out of the timing).
 * Returns WB_UNKNOWN when warmbox refused the "interactor" field, WB_FAILED
 * with *why (malloc'd) on any other failure. */
static int run_warmbox(const char *warmbox, int jobfd, double *us, struct wb_side side[2], char **why)
{
	char *argv[] = {(char *)warmbox, "run", "--job", "-", NULL};
	int out = memfd_create("stdout", MFD_CLOEXEC), err = memfd_create("stderr", MFD_CLOEXEC);
	int ws, rc = WB_FAILED;
	char *o, *e;
	size_t olen, elen;
	cJSON *res = NULL;
	uint64_t t0;
	pid_t pid;

	if (out < 0 || err < 0)
		bench_die_errno("memfd_create");
	if (lseek(jobfd, 0, SEEK_SET) < 0)
		bench_die_errno("lseek");
	t0 = bench_now_ns();
	pid = fork();
	if (pid < 0)
		bench_die_errno("fork");
	if (pid == 0) {
		if (dup2(jobfd, 0) < 0 || dup2(out, 1) < 0 || dup2(err, 2) < 0)
			_exit(126);
		execv(warmbox, argv);
		_exit(127);
	}
	while (waitpid(pid, &ws, 0) < 0)
		if (errno != EINTR)
			bench_die_errno("waitpid");
	*us = (double)(bench_now_ns() - t0) / 1000.0;

	o = read_whole(out, &olen);
	e = read_whole(err, &elen);
	close(out);
	close(err);
	if (!bench_exited_zero(ws) && strstr(e, "unknown field \"interactor\"")) {
		rc = WB_UNKNOWN;
	} else if (!bench_exited_zero(ws)) {
		if (asprintf(why, "wait status %#x; stderr: %s; stdout: %s", ws, e, o) < 0)
			*why = NULL;
	} else if (!(res = cJSON_Parse(o)) ||
		   !parse_side(res, &side[0]) ||
		   !parse_side(cJSON_GetObjectItemCaseSensitive(res, "interactor"), &side[1])) {
		if (asprintf(why, "result not OK for both sides: %s", o) < 0)
			*why = NULL;
	} else {
		rc = WB_OK;
	}
	if (rc == WB_UNKNOWN && asprintf(why, "%s", e) < 0)
		*why = NULL;
	for (size_t n = *why ? strlen(*why) : 0; n > 0 && (*why)[n - 1] == '\n'; n--)
		(*why)[n - 1] = '\0';
	cJSON_Delete(res);
	free(o);
	free(e);
	return rc;
}

/* ---- the report -------------------------------------------------------- */

struct series {
	double *v;
	int n;
};

static void push(struct series *s, int cap, double x)
{
	if (!s->v)
		s->v = bench_xmalloc((size_t)cap * sizeof(double));
	s->v[s->n++] = x;
}

static double median(const struct series *s)
{
	double *tmp = bench_xmalloc((size_t)s->n * sizeof(double)), m;

	memcpy(tmp, s->v, (size_t)s->n * sizeof(double));
	m = bench_summarize(tmp, s->n).p50;
	free(tmp);
	return m;
}

/* One line: runs, median total ms, median us per round trip, the ratio of
 * medians to mode 1, and every run in the order they ran. */
static void print_row(FILE *o, const char *label, const struct series *us, int rounds, double base)
{
	double m = median(us);

	fprintf(o, "  %-34s %4d %10.1f %9.2f %7.2f   ", label, us->n, m / 1000.0, m / rounds,
		base > 0 ? m / base : 0);
	for (int i = 0; i < us->n; i++)
		fprintf(o, " %.0f", us->v[i] / 1000.0);
	fputc('\n', o);
}

/* The first two CPUs this process may run on: where modes 2 and 3 pin. */
static int pick_cpus(int cpu[2])
{
	cpu_set_t set;
	int n = 0;

	if (sched_getaffinity(0, sizeof(set), &set) < 0)
		bench_die_errno("sched_getaffinity");
	for (int i = 0; i < CPU_SETSIZE && n < 2; i++)
		if (CPU_ISSET(i, &set))
			cpu[n++] = i;
	return n;
}

static void usage(FILE *f)
{
	fprintf(f, "usage: bench_interactive [-r R] [-k K] [-o FILE] [-w WARMBOX] [-p INTERACT]\n"
		   "  -r R      round trips of 4 bytes per run (default 100000)\n"
		   "  -k K      runs of each mode, interleaved (default 5)\n"
		   "  -o FILE   report file (default %s/results/interactive-DATE-TIME.txt)\n"
		   "  -w PATH   warmbox binary (default %s)\n"
		   "  -p PATH   the interact test program (default %s)\n",
		BENCH_DIR, BENCH_WARMBOX, BENCH_INTERACT);
}

int main(int argc, char **argv)
{
	static const char *const label[NMODE] = {"1 bare, unpinned", "2 bare, same CPU",
						 "3 bare, two CPUs", "4 warmbox run, whole command"};
	const char *outpath = NULL, *warmbox = BENCH_WARMBOX, *interact = BENCH_INTERACT;
	int rounds = 100000, k = 5, c, cpu[2], ncpu, jobfd = -1;
	struct series t[NMODE] = {{0}}, wall[2] = {{0}};
	bool on[NMODE] = {true, true, true, true};
	char *skip[NMODE] = {0}, defpath[PATH_MAX], *report = NULL, lbl[64];
	int same_end = 0;
	bool unknown = false; /* warmbox refused "interactor" */
	long migr[2] = {0, 0}, migr_max = 0;
	struct side_info *info;
	size_t report_len = 0;
	FILE *o;

	while ((c = getopt(argc, argv, "r:k:o:w:p:h")) != -1) {
		switch (c) {
		case 'r': rounds = bench_number(optarg); break;
		case 'k': k = bench_number(optarg); break;
		case 'o': outpath = optarg; break;
		case 'w': warmbox = optarg; break;
		case 'p': interact = optarg; break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind != argc) {
		usage(stderr);
		return 2;
	}
	if (rounds < 1 || k < 1)
		bench_die("-r and -k must be at least 1");

	ncpu = pick_cpus(cpu);
	if (ncpu < 2) {
		on[M_SPLIT] = false;
		if (asprintf(&skip[M_SPLIT], "this process may run on one CPU only") < 0)
			bench_die("out of memory");
	}
	if (access(warmbox, X_OK) < 0 || access(interact, R_OK) < 0) {
		on[M_WARMBOX] = false;
		if (asprintf(&skip[M_WARMBOX], "%s: %s", access(warmbox, X_OK) < 0 ? warmbox : interact,
			     strerror(errno)) < 0)
			bench_die("out of memory");
	} else {
		jobfd = make_job(interact, rounds);
	}
	for (int m = 0; m < NMODE; m++)
		if (!on[m])
			fprintf(stderr, "bench_interactive: mode %s skipped: %s\n", label[m], skip[m]);

	/* Shared with the bare children, which write their side_info here. */
	info = mmap(NULL, 2 * sizeof(*info), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (info == MAP_FAILED)
		bench_die_errno("mmap");

	if (!outpath) {
		bench_report_path(defpath, sizeof(defpath), "interactive", "");
		outpath = defpath;
	}
	o = open_memstream(&report, &report_len);
	if (!o)
		bench_die_errno("open_memstream");
	fprintf(o, "warmbox bench_interactive\n");
	bench_facts_head(o, argc, argv);
	bench_facts_tail(o, warmbox);

	for (int r = 0; r < k; r++) {
		for (int j = 0; j < NMODE; j++) {
			int m = (r + j) % NMODE;
			struct wb_side side[2];
			double us;
			int rc;

			if (!on[m])
				continue;
			if (m != M_WARMBOX) {
				us = run_bare(rounds, m == M_UNPINNED ? -1 : cpu[0],
					      m == M_UNPINNED ? -1 : m == M_SAME ? cpu[0] : cpu[1], info);
				push(&t[m], k, us);
				if (m == M_UNPINNED) {
					same_end += info[0].last_cpu == info[1].last_cpu;
					for (int i = 0; i < 2; i++) {
						migr[i] += info[i].migrations;
						if (info[i].migrations > migr_max)
							migr_max = info[i].migrations;
					}
				}
				continue;
			}
			rc = run_warmbox(warmbox, jobfd, &us, side, &skip[m]);
			unknown = rc == WB_UNKNOWN;
			if (rc != WB_OK) {
				/* One refusal or failure says all there is to know: stop
				 * trying, keep the bare modes going. */
				on[m] = false;
				fprintf(stderr, "bench_interactive: mode 4 (warmbox) %s: %s\n",
					rc == WB_UNKNOWN ? "is not available yet" : "failed, skipped from now on",
					skip[m] ? skip[m] : "?");
				continue;
			}
			push(&t[m], k, us);
			push(&wall[0], k, side[0].wall_ms * 1000.0);
			push(&wall[1], k, side[1].wall_ms * 1000.0);
		}
	}

	fprintf(o, "exchange:   %d round trips of a 4-byte message over two crossed pipes per run;\n"
		   "            %d runs of each mode, interleaved, the starting mode rotating\n",
		rounds, k);
	fprintf(o, "pinning:    mode 2 both sides on CPU %d; mode 3 client on CPU %d, server on CPU %d\n",
		cpu[0], cpu[0], ncpu > 1 ? cpu[1] : -1);
	fprintf(o, "interact:   %s\n", interact);
	fprintf(o, "\nmedians; bare runs timed from the first fork to both children reaped,\n"
		   "warmbox from fork to waitpid of `warmbox run --job -`\n");
	fprintf(o, "  %-34s %4s %10s %9s %7s    %s\n", "mode", "runs", "total ms", "us/trip", "/mode 1",
		"each run, ms");
	for (int m = 0; m < NMODE; m++) {
		snprintf(lbl, sizeof(lbl), "%s", label[m]);
		if (m == M_SAME)
			snprintf(lbl, sizeof(lbl), "%s (%d)", label[m], cpu[0]);
		else if (m == M_SPLIT && ncpu > 1)
			snprintf(lbl, sizeof(lbl), "%s (%d, %d)", label[m], cpu[0], cpu[1]);
		if (t[m].n == 0) {
			fprintf(o, "  %-34s %s: %s\n", lbl,
				m == M_WARMBOX && unknown ? "not available yet" : "not run",
				skip[m] ? skip[m] : "?");
			continue;
		}
		print_row(o, lbl, &t[m], rounds, t[M_UNPINNED].n ? median(&t[M_UNPINNED]) : 0);
	}
	if (wall[0].n) {
		print_row(o, "4 warmbox, program's wall_ms", &wall[0], rounds, median(&t[M_UNPINNED]));
		print_row(o, "4 warmbox, interactor's wall_ms", &wall[1], rounds, median(&t[M_UNPINNED]));
	}
	if (t[M_UNPINNED].n)
		fprintf(o, "\nmode 1, where the scheduler put the sides: both ended on the same CPU in\n"
			   "%d of %d runs; migrations per run (se.nr_migrations) mean client %.0f,\n"
			   "server %.0f, most %ld\n",
			same_end, t[M_UNPINNED].n, (double)migr[0] / t[M_UNPINNED].n,
			(double)migr[1] / t[M_UNPINNED].n, migr_max);

	bench_report_finish(o, &report, &report_len, outpath);
	for (int m = 0; m < NMODE; m++) {
		free(t[m].v);
		free(skip[m]);
	}
	free(wall[0].v);
	free(wall[1].v);
	if (jobfd >= 0)
		close(jobfd);
	munmap(info, 2 * sizeof(*info));
	return 0;
}
