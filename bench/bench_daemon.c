/*
 * bench_daemon: what a job costs through a running warmbox daemon (`warmbox
 * serve`, warm zygotes), against a bare fork+execve+waitpid of the same
 * program and against bubblewrap, in one interleaved run on one machine.
 *
 *   bench_daemon [-n N] [-W WARMUP] [-o FILE] [-w WARMBOX] [-H HELLO]
 *
 * Three programs: /bin/true; a static C hello (bench/hello.c) that the
 * daemon gets as a base64 file with mode 493 (0755), as a judge would send a
 * compiled submission, and bwrap through `--file`; and the same hello put
 * once into the daemon's file store and named by ref in every job, as a
 * judge runs one compiled submission on many tests (SPEC "File store").
 *
 * Latency: N rounds; each round runs every variant (bare, daemon with 1
 * client, daemon with 2 concurrent clients, bwrap; for each program) once,
 * the starting variant rotating, so drift and noise hit all alike. A daemon
 * client sends one job on its connection, waits for the result line, and
 * sends the next; the latency is from the send to the result line received.
 *
 * Throughput: jobs per second with 2 and 4 clients, each keeping 2 jobs in
 * flight (pipelined), against 2 parallel bare fork+execve+waitpid loops, in
 * rounds with the variant order rotating.
 *
 * Memory: private RSS (Private_Clean + Private_Dirty of smaps_rollup) of the
 * manager, of each warm zygote and of its spare job init, with the pool idle
 * after the warm-up and again at the end.
 *
 * The benchmark starts `warmbox serve --socket TMP --zygotes 2` itself and
 * stops it with SIGTERM. The report goes to stdout and to FILE (default
 * bench/results/daemon-YYYYmmdd-HHMMSS.txt in the source tree).
 */
#include "core/base64.h"
#include "benchlib.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define ZYGOTES 2
#define MAXCLIENTS 4
#define DEPTH 2            /* jobs in flight per client when pipelined */
#define TPUT_ROUNDS 5      /* throughput rounds per variant */
#define NPROGS 3           /* /bin/true, hello as base64, hello by ref */

extern char **environ;

const char bench_name[] = "bench_daemon";

static pid_t daemon_pid = -1;
static char tmpdir[64];

/* ---- clean-up ---------------------------------------------------------- */

/* A benchmark that dies must not leave its daemon behind (the zygotes die
 * with the manager: PR_SET_DEATHSIG). */
static void cleanup(void)
{
	char path[128];

	if (daemon_pid > 0) {
		kill(daemon_pid, SIGKILL);
		waitpid(daemon_pid, NULL, 0);
		daemon_pid = -1;
	}
	if (tmpdir[0]) {
		snprintf(path, sizeof(path), "%s/serve.log", tmpdir);
		unlink(path);
		snprintf(path, sizeof(path), "%s/warmbox.sock", tmpdir);
		unlink(path);
		rmdir(tmpdir);
		tmpdir[0] = '\0';
	}
}

static void sleep_ms(long ms)
{
	struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L};

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

/* ---- the programs ------------------------------------------------------ */

struct prog {
	const char *name;
	char *bare[2];
	char **bwrap;
	const char *file;        /* host file bwrap copies in, or NULL */
	char *job;               /* the job after its id: "\"argv\":...}\n" */
	size_t job_len;
	size_t b64_len;          /* of the file in the job, 0 for none */
	const char *expect;      /* the program's stdout */
};

static char *read_file(const char *path, size_t *len)
{
	struct bench_buf b = {0};
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		bench_die_errno(path);
	for (;;) {
		ssize_t r;

		bench_buf_reserve(&b, 65536);
		r = read(fd, b.p + b.len, b.cap - b.len);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			bench_die_errno(path);
		if (r == 0)
			break;
		b.len += (size_t)r;
	}
	close(fd);
	*len = b.len;
	return b.p;
}

static void make_progs(struct prog p[NPROGS], const char *hello)
{
	size_t len;
	char *bin = read_file(hello, &len), *b64 = wb_base64_encode((unsigned char *)bin, len);
	const char *true_job = "\"argv\":[\"/bin/true\"]}\n";
	const char *fmt = "\"argv\":[\"./hello\"],\"files\":[{\"path\":\"hello\",\"base64\":\"%s\",\"mode\":493}]}\n";

	if (!b64)
		bench_die("out of memory");
	free(bin);
	p[0] = (struct prog){.name = "true", .bare = {"/bin/true", NULL},
			     .bwrap = bench_bwrap_argv("/bin/true", false), .expect = ""};
	p[0].job = strdup(true_job);
	p[0].job_len = strlen(true_job);
	p[1] = (struct prog){.name = "hello", .bare = {(char *)hello, NULL},
			     .bwrap = bench_bwrap_argv("/box/hello", true), .file = hello,
			     .expect = "hello\n"};
	if (!p[0].job || asprintf(&p[1].job, fmt, b64) < 0)
		bench_die("out of memory");
	p[1].job_len = strlen(p[1].job);
	p[1].b64_len = strlen(b64);
	free(b64);
	/* Its job names the daemon's ref, known once the daemon has it (put_hello). */
	p[2] = p[1];
	p[2].name = "ref";
	p[2].job = NULL;
	p[2].job_len = p[2].b64_len = 0;
}

/* ---- daemon clients ---------------------------------------------------- */

struct client {
	int fd;
	int id;
	struct bench_buf in;
	unsigned long seq;
	int quota, sent, done, inflight;
	uint64_t sent_ns;        /* of the job in flight (depth 1) */
};

static char accounting[24];

static void send_all(int fd, struct iovec *iov, int n)
{
	while (n > 0) {
		ssize_t w = writev(fd, iov, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			bench_die_errno("send to the daemon");
		while (n > 0 && (size_t)w >= iov->iov_len) {
			w -= (ssize_t)iov->iov_len;
			iov++;
			n--;
		}
		if (n > 0) {
			iov->iov_base = (char *)iov->iov_base + w;
			iov->iov_len -= (size_t)w;
		}
	}
}

static void send_job(struct client *c, const struct prog *p)
{
	char head[64];
	struct iovec iov[2];
	int hl = snprintf(head, sizeof(head), "{\"id\":\"c%d-%lu\",", c->id, c->seq++);

	iov[0] = (struct iovec){head, (size_t)hl};
	iov[1] = (struct iovec){p->job, p->job_len};
	c->sent_ns = bench_now_ns();
	send_all(c->fd, iov, 2);
	c->sent++;
	c->inflight++;
}

static void check_result(const char *line, const struct prog *p)
{
	cJSON *o = cJSON_Parse(line);
	const char *st = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o, "status"));
	const char *out = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o, "stdout"));
	const char *acc = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o, "accounting"));

	if (!st || strcmp(st, "OK") != 0 || !out || strcmp(out, p->expect) != 0)
		bench_die("%s through the daemon: unexpected result: %s", p->name, line);
	if (acc)
		bench_note_accounting(accounting, sizeof(accounting), acc);
	cJSON_Delete(o);
}

/* Reads what is there; calls line() for each complete line. Returns the
 * number of lines. */
static int read_lines(struct client *c, void (*line)(struct client *, const char *, void *), void *arg)
{
	ssize_t r;
	char *nl;
	int lines = 0;

	bench_buf_reserve(&c->in, 65536);
	r = recv(c->fd, c->in.p + c->in.len, c->in.cap - c->in.len - 1, 0);
	if (r < 0 && errno == EINTR)
		return 0;
	if (r < 0)
		bench_die_errno("recv from the daemon");
	if (r == 0)
		bench_die("the daemon closed a connection");
	c->in.len += (size_t)r;
	while ((nl = memchr(c->in.p, '\n', c->in.len))) {
		size_t used = (size_t)(nl + 1 - c->in.p);

		*nl = '\0';
		line(c, c->in.p, arg);
		lines++;
		memmove(c->in.p, nl + 1, c->in.len - used);
		c->in.len -= used;
	}
	return lines;
}

struct drive {
	const struct prog *p;
	int depth;
	double *lat;             /* depth 1: one latency per job, microseconds */
	int nlat;
	uint64_t t;              /* when the last recv returned */
};

static void on_result(struct client *c, const char *line, void *arg)
{
	struct drive *d = arg;

	check_result(line, d->p);
	c->done++;
	c->inflight--;
	if (d->lat)
		d->lat[d->nlat++] = (double)(d->t - c->sent_ns) / 1000.0;
	if (c->sent < c->quota)
		send_job(c, d->p);
}

/* nc clients, each with per_client jobs, depth in flight at a time; with
 * lat (depth 1 only), each job's send-to-result time is stored there.
 * Returns the elapsed time of the whole batch in nanoseconds. */
static uint64_t drive(struct client *cl, int nc, const struct prog *p, int depth, int per_client,
		      double *lat, int *nlat)
{
	struct drive d = {.p = p, .depth = depth, .lat = lat};
	struct pollfd pf[MAXCLIENTS];
	uint64_t t0 = bench_now_ns();
	int left = nc * per_client;

	for (int i = 0; i < nc; i++) {
		cl[i].quota = per_client;
		cl[i].sent = cl[i].done = cl[i].inflight = 0;
		while (cl[i].inflight < depth && cl[i].sent < cl[i].quota)
			send_job(&cl[i], p);
	}
	while (left > 0) {
		for (int i = 0; i < nc; i++)
			pf[i] = (struct pollfd){.fd = cl[i].done < cl[i].quota ? cl[i].fd : -1,
						.events = POLLIN};
		int rc = poll(pf, (nfds_t)nc, 60000);

		if (rc < 0 && errno == EINTR)
			continue;
		if (rc < 0)
			bench_die_errno("poll");
		if (rc == 0)
			bench_die("no answer from the daemon for 60 s");
		for (int i = 0; i < nc; i++) {
			if (!(pf[i].revents & (POLLIN | POLLHUP | POLLERR)))
				continue;
			d.t = bench_now_ns();
			left -= read_lines(&cl[i], on_result, &d);
		}
	}
	if (nlat)
		*nlat = d.nlat;
	return bench_now_ns() - t0;
}

static void on_stats(struct client *c, const char *line, void *arg)
{
	(void)c;
	*(char **)arg = strdup(line);
}

/* The daemon's {"op":"stats"} answer (caller frees). */
static char *stats(struct client *c)
{
	struct iovec iov = {"{\"op\":\"stats\"}\n", 15};
	char *line = NULL;

	send_all(c->fd, &iov, 1);
	while (!line)
		read_lines(c, on_stats, &line);
	return line;
}

/* Puts hello into the daemon's store once; the third program's job runs
 * it by ref, as a judge runs a compiled submission on every test. */
static void put_hello(struct client *c, struct prog *p, const char *hello)
{
	size_t len;
	char *bin = read_file(hello, &len), *b64 = wb_base64_encode((unsigned char *)bin, len), *line, *answer = NULL;
	const char *fmt = "\"argv\":[\"./hello\"],\"files\":[{\"path\":\"hello\",\"ref\":\"%s\",\"mode\":493}]}\n";
	struct iovec iov;
	cJSON *o;
	const cJSON *ref;

	if (!b64 || asprintf(&line, "{\"op\":\"put\",\"base64\":\"%s\"}\n", b64) < 0)
		bench_die("out of memory");
	free(bin);
	free(b64);
	iov = (struct iovec){line, strlen(line)};
	send_all(c->fd, &iov, 1);
	while (!answer)
		read_lines(c, on_stats, &answer);
	o = cJSON_Parse(answer);
	ref = cJSON_GetObjectItemCaseSensitive(o, "ref");
	if (!cJSON_IsString(ref) || asprintf(&p->job, fmt, ref->valuestring) < 0)
		bench_die("put of %s: %s", hello, answer);
	p->job_len = strlen(p->job);
	cJSON_Delete(o);
	free(answer);
	free(line);
}

static double stats_num(const char *json, const char *name)
{
	cJSON *o = cJSON_Parse(json);
	const cJSON *f = cJSON_GetObjectItemCaseSensitive(o, name);
	double v = cJSON_IsNumber(f) ? f->valuedouble : -1;

	cJSON_Delete(o);
	return v;
}

/* Until every zygote is warm (idle, its spare job init waiting). */
static void wait_warm(struct client *c)
{
	uint64_t until = bench_now_ns() + 20000000000ull;

	for (;;) {
		char *s = stats(c);
		bool warm = stats_num(s, "warm") == ZYGOTES && stats_num(s, "busy") == 0;

		free(s);
		if (warm)
			return;
		if (bench_now_ns() > until)
			bench_die("the pool did not get warm within 20 s");
		sleep_ms(10);
	}
}

/* ---- the daemon -------------------------------------------------------- */

static char *serve_argv[16];

static void start_daemon(const char *warmbox, const char *sock, const char *log)
{
	int n = 0;

	serve_argv[n++] = (char *)warmbox;
	serve_argv[n++] = "serve";
	serve_argv[n++] = "--socket";
	serve_argv[n++] = (char *)sock;
	serve_argv[n++] = "--zygotes";
	serve_argv[n++] = "2";
	serve_argv[n++] = "--policies";
	serve_argv[n++] = BENCH_POLICIES;
	serve_argv[n] = NULL;
	daemon_pid = fork();
	if (daemon_pid < 0)
		bench_die_errno("fork");
	if (daemon_pid == 0) {
		int in = open("/dev/null", O_RDONLY), out = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0600);

		if (in < 0 || out < 0 || dup2(in, 0) < 0 || dup2(out, 1) < 0 || dup2(out, 2) < 0)
			_exit(126);
		execve(warmbox, serve_argv, environ);
		_exit(127);
	}
}

static int connect_daemon(const char *sock)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	uint64_t until = bench_now_ns() + 20000000000ull;

	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", sock);
	for (;;) {
		int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0), ws;

		if (fd < 0)
			bench_die_errno("socket");
		if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0)
			return fd;
		close(fd);
		if (waitpid(daemon_pid, &ws, WNOHANG) == daemon_pid) {
			daemon_pid = -1;
			bench_die("warmbox serve exited (wait status %#x) before listening; see its log", ws);
		}
		if (bench_now_ns() > until)
			bench_die("warmbox serve did not listen on %s within 20 s", sock);
		sleep_ms(10);
	}
}

/* SIGTERM, then the time until the manager has exited. */
static void stop_daemon(FILE *o)
{
	uint64_t t0 = bench_now_ns();
	int ws;

	if (kill(daemon_pid, SIGTERM) < 0)
		bench_die_errno("kill");
	for (;;) {
		pid_t r = waitpid(daemon_pid, &ws, WNOHANG);

		if (r == daemon_pid)
			break;
		if (r < 0 && errno != EINTR)
			bench_die_errno("waitpid");
		if (bench_now_ns() - t0 > 30000000000ull)
			bench_die("warmbox serve still running 30 s after SIGTERM");
		sleep_ms(1);
	}
	daemon_pid = -1;
	if (WIFEXITED(ws))
		fprintf(o, "daemon stop: SIGTERM -> exited with status %d after %.1f ms\n",
			WEXITSTATUS(ws), (double)(bench_now_ns() - t0) / 1e6);
	else
		fprintf(o, "daemon stop: SIGTERM -> wait status %#x after %.1f ms\n", ws,
			(double)(bench_now_ns() - t0) / 1e6);
}

/* Warnings and errors the daemon logged (its info lines are routine). */
static void report_log(FILE *o, const char *log)
{
	FILE *f = fopen(log, "r");
	char line[1024];
	int lines = 0, bad = 0;

	if (!f)
		bench_die_errno(log);
	while (fgets(line, sizeof(line), f)) {
		lines++;
		if (!strstr(line, "[info]") && !strstr(line, "[debug]")) {
			if (bad++ < 10)
				fprintf(o, "  log: %s", line);
		}
	}
	fclose(f);
	fprintf(o, "daemon log: %d lines, %d warnings or errors%s\n", lines, bad,
		bad > 10 ? " (first 10 above)" : bad ? " (above)" : "");
}

/* ---- memory ------------------------------------------------------------ */

struct mem {
	long priv, pss, rss;     /* KiB */
};

static bool smaps(pid_t pid, struct mem *m)
{
	char path[64], line[256];
	FILE *f;
	long v;

	snprintf(path, sizeof(path), "/proc/%d/smaps_rollup", (int)pid);
	if (!(f = fopen(path, "r")))
		return false;
	*m = (struct mem){0};
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "Private_Clean: %ld", &v) == 1 || sscanf(line, "Private_Dirty: %ld", &v) == 1)
			m->priv += v;
		else if (sscanf(line, "Pss: %ld", &v) == 1)
			m->pss = v;
		else if (sscanf(line, "Rss: %ld", &v) == 1)
			m->rss = v;
	}
	fclose(f);
	return true;
}

static int children(pid_t pid, pid_t *out, int max)
{
	char path[64];
	FILE *f;
	int n = 0, c;

	snprintf(path, sizeof(path), "/proc/%d/task/%d/children", (int)pid, (int)pid);
	if (!(f = fopen(path, "r")))
		return 0;
	while (n < max && fscanf(f, "%d", &c) == 1)
		out[n++] = c;
	fclose(f);
	return n;
}

static char proc_state(pid_t pid)
{
	char path[64], buf[512], *p;
	FILE *f;
	size_t n;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	if (!(f = fopen(path, "r")))
		return '?';
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	p = strrchr(buf, ')');
	return p && p[1] == ' ' ? p[2] : '?';
}

static void mem_row(FILE *o, const char *label, pid_t pid, const struct mem *m)
{
	char l[64];

	snprintf(l, sizeof(l), "%s (pid %d)", label, (int)pid);
	fprintf(o, "  %-32s %9ld %9ld %9ld\n", l, m->priv, m->pss, m->rss);
}

/* Returns the largest private RSS of a warm zygote, KiB (-1: none found). */
static long report_memory(FILE *o, const char *when)
{
	pid_t zyg[16], kids[16];
	int nz = children(daemon_pid, zyg, 16);
	struct mem m;
	long worst = -1;

	fprintf(o, "\nprivate memory, KiB (%s; private = Private_Clean + Private_Dirty of\n"
		   "/proc/PID/smaps_rollup, pss and rss from the same file)\n", when);
	fprintf(o, "  %-32s %9s %9s %9s\n", "process", "private", "pss", "rss");
	if (!smaps(daemon_pid, &m))
		bench_die("cannot read the manager's smaps_rollup");
	mem_row(o, "manager", daemon_pid, &m);
	for (int z = 0; z < nz; z++) {
		int nk = children(zyg[z], kids, 16), zombies = 0;
		char label[48];

		if (!smaps(zyg[z], &m))
			continue;
		snprintf(label, sizeof(label), "zygote %d", z + 1);
		mem_row(o, label, zyg[z], &m);
		if (m.priv > worst)
			worst = m.priv;
		for (int k = 0; k < nk; k++) {
			struct mem s;

			if (proc_state(kids[k]) == 'Z') {
				zombies++;
				continue;
			}
			if (!smaps(kids[k], &s))
				continue;
			snprintf(label, sizeof(label), "  its spare job init");
			mem_row(o, label, kids[k], &s);
		}
		if (zombies)
			fprintf(o, "  %-32s %d (a finished job init, reaped when the next spare but one is cloned)\n",
				"  zombies", zombies);
	}
	return worst;
}

/* ---- machine facts ----------------------------------------------------- */

static void print_facts(FILE *o, const char *warmbox, int argc, char **argv)
{
	fprintf(o, "warmbox bench_daemon\n");
	bench_facts_head(o, argc, argv);
	fprintf(o, "user:       uid %d\n", (int)geteuid());
	bench_facts_tail(o, warmbox);
}

/* ---- latency ----------------------------------------------------------- */

enum { V_BARE, V_D1, V_D2, V_BWRAP, NV };
static const char *const vname[NV] = {"bare", "daemon, 1 client", "daemon, 2 clients", "bwrap"};

struct series {
	double *v;
	int n;
};

static void run_variant(int v, const struct prog *p, struct client *cl, struct series *s,
			struct bench_buf *out, bool record)
{
	int ws, got = 0;
	double us;

	switch (v) {
	case V_BARE:
	case V_BWRAP:
		us = bench_run_cmd(v == V_BARE ? p->bare : p->bwrap, v == V_BWRAP ? p->file : NULL, out, &ws);
		if (!bench_exited_zero(ws) || strcmp(out->p, p->expect) != 0)
			bench_die("%s %s: wait status %#x, stdout \"%s\"", p->name, vname[v], ws, out->p);
		if (record)
			s->v[s->n++] = us;
		break;
	case V_D1:
	case V_D2:
		drive(cl, v == V_D1 ? 1 : 2, p, 1, 1, record ? s->v + s->n : NULL, &got);
		s->n += got;
		break;
	}
}

/* Returns the /bin/true summaries, for the targets. */
static void latency(FILE *o, const struct prog *progs, struct client *cl, int n, int warmup,
		    struct bench_summary out[NPROGS][NV])
{
	struct series s[NPROGS][NV];
	struct bench_buf buf = {0};

	for (int p = 0; p < NPROGS; p++)
		for (int v = 0; v < NV; v++)
			s[p][v] = (struct series){.v = bench_xmalloc(sizeof(double) * (size_t)n * 2)};
	for (int r = 0; r < warmup + n; r++) {
		for (int k = 0; k < NPROGS * NV; k++) {
			int x = (r + k) % (NPROGS * NV), p = x / NV, v = x % NV;

			run_variant(v, &progs[p], cl, &s[p][v], &buf, r >= warmup);
		}
	}
	fprintf(o, "\nlatency per job, microseconds (nearest-rank percentiles). bare and bwrap:\n"
		   "fork -> waitpid, stdout read to EOF; daemon: job sent -> result line received\n");
	fprintf(o, "  %-24s %5s %7s %7s %7s %7s %7s %7s  %8s %8s\n", "variant", "runs", "min", "p50",
		"p90", "p99", "mean", "max", "p50/bare", "p99/bare");
	for (int p = 0; p < NPROGS; p++) {
		for (int v = 0; v < NV; v++) {
			char label[48];
			struct bench_summary m = bench_summarize(s[p][v].v, s[p][v].n);

			out[p][v] = m;
			snprintf(label, sizeof(label), "%-5s %s", progs[p].name, vname[v]);
			fprintf(o, "  %-24s %5d %7.0f %7.0f %7.0f %7.0f %7.0f %7.0f  %8.2f %8.2f\n", label,
				s[p][v].n, m.min, m.p50, m.p90, m.p99, m.mean, m.max, m.p50 / out[p][V_BARE].p50,
				m.p99 / out[p][V_BARE].p99);
			free(s[p][v].v);
		}
	}
	free(buf.p);
}

/* ---- throughput -------------------------------------------------------- */

enum { T_BARE, T_D2, T_D4, NT };
static const char *const tname[NT] = {"bare, 2 loops", "daemon, 2 clients x 2", "daemon, 4 clients x 2"};

/* Two processes, each a fork+execve+waitpid loop of per_loop runs. */
static uint64_t bare_loops(const struct prog *p, int per_loop)
{
	uint64_t t0 = bench_now_ns();
	pid_t w[2];

	for (int i = 0; i < 2; i++) {
		w[i] = fork();
		if (w[i] < 0)
			bench_die_errno("fork");
		if (w[i] == 0) {
			struct bench_buf out = {0};
			int ws;

			for (int k = 0; k < per_loop; k++) {
				bench_run_cmd(p->bare, NULL, &out, &ws);
				if (!bench_exited_zero(ws) || strcmp(out.p, p->expect) != 0)
					_exit(1);
			}
			_exit(0);
		}
	}
	for (int i = 0; i < 2; i++) {
		int ws;

		while (waitpid(w[i], &ws, 0) < 0)
			if (errno != EINTR)
				bench_die_errno("waitpid");
		if (!bench_exited_zero(ws))
			bench_die("%s: a bare loop failed", p->name);
	}
	return bench_now_ns() - t0;
}

static void throughput(FILE *o, const struct prog *progs, struct client *cl, int n, double ratio[NPROGS][NT])
{
	/* Jobs per round, a multiple of 4 so that every variant runs as many. */
	int per_round = ((n + TPUT_ROUNDS - 1) / TPUT_ROUNDS + 3) / 4 * 4;
	uint64_t ns[NPROGS][NT] = {{0}};

	for (int r = 0; r < TPUT_ROUNDS; r++) {
		for (int k = 0; k < NPROGS * NT; k++) {
			int x = (r + k) % (NPROGS * NT), p = x / NT, v = x % NT;

			if (v == T_BARE)
				ns[p][v] += bare_loops(&progs[p], per_round / 2);
			else
				ns[p][v] += drive(cl, v == T_D2 ? 2 : 4, &progs[p], DEPTH,
						  per_round / (v == T_D2 ? 2 : 4), NULL, NULL);
		}
	}
	fprintf(o, "\nthroughput: %d rounds of %d jobs per variant, variant order rotating;\n"
		   "daemon clients each keep %d jobs in flight (pipelined)\n", TPUT_ROUNDS, per_round, DEPTH);
	fprintf(o, "  %-30s %7s %9s %9s %8s\n", "variant", "jobs", "seconds", "jobs/s", "/bare");
	for (int p = 0; p < NPROGS; p++) {
		double bare = TPUT_ROUNDS * per_round / ((double)ns[p][T_BARE] / 1e9);

		for (int v = 0; v < NT; v++) {
			char label[48];
			double secs = (double)ns[p][v] / 1e9, rate = TPUT_ROUNDS * per_round / secs;

			ratio[p][v] = rate / bare;
			snprintf(label, sizeof(label), "%-5s %s", progs[p].name, tname[v]);
			fprintf(o, "  %-30s %7d %9.2f %9.0f %8.2f\n", label, TPUT_ROUNDS * per_round, secs,
				rate, rate / bare);
		}
	}
}

/* ---- main -------------------------------------------------------------- */

static const char *verdict(bool pass)
{
	return pass ? "PASS" : "MISS";
}

static void usage(FILE *f)
{
	fprintf(f, "usage: bench_daemon [-n N] [-W WARMUP] [-o FILE] [-w WARMBOX] [-H HELLO]\n"
		   "  -n N      latency rounds and throughput jobs per variant (default 1000)\n"
		   "  -W N      warm-up rounds, not counted (default 10)\n"
		   "  -o FILE   report file (default %s/results/daemon-DATE-TIME.txt)\n"
		   "  -w PATH   warmbox binary (default %s)\n"
		   "  -H PATH   static hello binary (default %s)\n",
		BENCH_DIR, BENCH_WARMBOX, BENCH_HELLO);
}

int main(int argc, char **argv)
{
	const char *outpath = NULL, *warmbox = BENCH_WARMBOX, *hello = BENCH_HELLO;
	int n = 1000, warmup = 10, c;
	char defpath[PATH_MAX], sock[96], logpath[96], *report = NULL, *st;
	size_t report_len = 0;
	struct prog progs[NPROGS];
	struct client cl[MAXCLIENTS];
	struct bench_summary lat[NPROGS][NV];
	double ratio[NPROGS][NT];
	long zyg_start, zyg_end;
	FILE *o;

	while ((c = getopt(argc, argv, "n:W:o:w:H:h")) != -1) {
		switch (c) {
		case 'n': n = bench_number(optarg); break;
		case 'W': warmup = bench_number(optarg); break;
		case 'o': outpath = optarg; break;
		case 'w': warmbox = optarg; break;
		case 'H': hello = optarg; break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind != argc) {
		usage(stderr);
		return 2;
	}
	if (n < 1)
		bench_die("-n must be at least 1");
	if (access(warmbox, X_OK) < 0)
		bench_die_errno(warmbox);
	if (access(hello, X_OK) < 0)
		bench_die_errno(hello);
	if (!outpath) {
		bench_report_path(defpath, sizeof(defpath), "daemon", "");
		outpath = defpath;
	}
	signal(SIGPIPE, SIG_IGN);
	make_progs(progs, hello);

	snprintf(tmpdir, sizeof(tmpdir), "/tmp/wbbench.XXXXXX");
	if (!mkdtemp(tmpdir))
		bench_die_errno("mkdtemp");
	atexit(cleanup);
	snprintf(sock, sizeof(sock), "%s/warmbox.sock", tmpdir);
	snprintf(logpath, sizeof(logpath), "%s/serve.log", tmpdir);
	start_daemon(warmbox, sock, logpath);
	for (int i = 0; i < MAXCLIENTS; i++)
		cl[i] = (struct client){.fd = connect_daemon(sock), .id = i};
	wait_warm(&cl[0]);
	put_hello(&cl[0], &progs[2], hello);

	o = open_memstream(&report, &report_len);
	if (!o)
		bench_die_errno("open_memstream");
	print_facts(o, warmbox, argc, argv);
	fprintf(o, "commands:\n");
	bench_print_argv(o, 14, "daemon", serve_argv);
	bench_print_argv(o, 14, "true bare", progs[0].bare);
	bench_print_argv(o, 14, "true bwrap", progs[0].bwrap);
	bench_print_argv(o, 14, "hello bare", progs[1].bare);
	bench_print_argv(o, 14, "hello bwrap", progs[1].bwrap);
	fprintf(o, "  %-14s {\"id\":\"cK-SEQ\",%.*s\n", "true job", (int)progs[0].job_len - 1, progs[0].job);
	fprintf(o, "  %-14s {\"id\":\"cK-SEQ\",\"argv\":[\"./hello\"],\"files\":[{\"path\":\"hello\","
		   "\"base64\":\"(%zu characters)\",\"mode\":493}]}  (about %zu bytes a line)\n", "hello job",
		progs[1].b64_len, progs[1].job_len + 20);
	fprintf(o, "  %-14s {\"id\":\"cK-SEQ\",%.*s\n", "ref job", (int)progs[2].job_len - 1, progs[2].job);
	fprintf(o, "  %-14s the same hello, put once into the daemon's store ({\"op\":\"put\"}); its bare and\n"
		   "  %-14s bwrap variants are hello's again, measured in the same rounds\n", "", "");
	fprintf(o, "rounds:     %d (+%d warm-up, not counted); each round runs every variant of both\n"
		   "            programs once, starting variant rotating. The 2-client variant runs\n"
		   "            one job on each of 2 connections at once: 2 latencies a round.\n", n, warmup);

	zyg_start = report_memory(o, "pool idle after start-up, before any job");
	latency(o, progs, cl, n, warmup, lat);
	throughput(o, progs, cl, n, ratio);
	fprintf(o, "\naccounting: %s (from the results)\n", accounting);
	wait_warm(&cl[0]);
	zyg_end = report_memory(o, "pool idle at the end, after every job");
	st = stats(&cl[0]);
	fprintf(o, "\ndaemon stats at the end:\n  %s\n", st);
	free(st);
	for (int i = 0; i < MAXCLIENTS; i++)
		close(cl[i].fd);
	/* Connection buffers grow to the largest request seen and go with the
	 * connection: what stays after is the manager's own. */
	sleep_ms(200);
	{
		struct mem m;

		if (smaps(daemon_pid, &m))
			fprintf(o, "\nmanager after its %d clients disconnected: private %ld KiB, pss %ld, rss %ld\n",
				MAXCLIENTS, m.priv, m.pss, m.rss);
	}
	stop_daemon(o);
	report_log(o, logpath);

	{
		const struct bench_summary *t = lat[0];
		double p50 = t[V_D1].p50 / t[V_BARE].p50, p50b = t[V_D2].p50 / t[V_BARE].p50;
		double p99 = t[V_D1].p99 / t[V_BARE].p99, p99b = t[V_D2].p99 / t[V_BARE].p99;
		long zyg = zyg_end > zyg_start ? zyg_end : zyg_start;

		fprintf(o, "\ntargets (from the issue; informational, not asserted), /bin/true:\n");
		fprintf(o, "  %-46s %6.2fx  <= 1.5x (goal 1.3x)  %s%s\n", "p50 daemon 1 client / p50 bare", p50,
			verdict(p50 <= 1.5), p50 <= 1.3 ? ", goal met" : "");
		fprintf(o, "  %-46s %6.2fx  <= 1.5x (goal 1.3x)  %s%s\n", "p50 daemon 2 clients / p50 bare", p50b,
			verdict(p50b <= 1.5), p50b <= 1.3 ? ", goal met" : "");
		fprintf(o, "  %-46s %6.2fx  <= 2.5x              %s\n", "p99 daemon 1 client / p99 bare", p99,
			verdict(p99 <= 2.5));
		fprintf(o, "  %-46s %6.2fx  <= 2.5x              %s\n", "p99 daemon 2 clients / p99 bare", p99b,
			verdict(p99b <= 2.5));
		fprintf(o, "  %-46s %6.2fx  >= 0.7x              %s\n", "jobs/s daemon 2 clients / bare 2 loops",
			ratio[0][T_D2], verdict(ratio[0][T_D2] >= 0.7));
		fprintf(o, "  %-46s %6.2fx  >= 0.7x              %s\n", "jobs/s daemon 4 clients / bare 2 loops",
			ratio[0][T_D4], verdict(ratio[0][T_D4] >= 0.7));
		fprintf(o, "  %-46s %5ld KiB < 1024 KiB            %s\n", "warm zygote private RSS (largest seen)",
			zyg, verdict(zyg >= 0 && zyg < 1024));
		t = lat[2];
		fprintf(o, "\ntargets of the file store issue, hello by ref (informational):\n");
		fprintf(o, "  %-46s %6.2fx  <= 1.5x              %s\n", "p50 daemon 1 client / p50 bare",
			t[V_D1].p50 / t[V_BARE].p50, verdict(t[V_D1].p50 / t[V_BARE].p50 <= 1.5));
		fprintf(o, "  %-46s %6.2fx  >= 0.35x             %s\n", "jobs/s daemon 2 clients / bare 2 loops",
			ratio[2][T_D2], verdict(ratio[2][T_D2] >= 0.35));
	}
	bench_report_finish(o, &report, &report_len, outpath);
	return 0;
}
