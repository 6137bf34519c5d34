/*
 * bench_daemon: what a job costs through a running warmbox daemon (`warmbox
 * serve`, warm zygotes), against a bare fork+execve+waitpid of the same
 * program and against bubblewrap, in one interleaved run on one machine.
 *
 *   bench_daemon [-n N] [-W WARMUP] [-o FILE] [-w WARMBOX] [-H HELLO]
 *
 * Two programs: /bin/true, and a static C hello (bench/hello.c) that the
 * daemon gets as a base64 file with mode 493 (0755), as a judge would send a
 * compiled submission; bwrap gets the same bytes through `--file`.
 *
 * Latency: N rounds; each round runs every variant (bare, daemon with 1
 * client, daemon with 2 concurrent clients, bwrap; for both programs) once,
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
#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define ZYGOTES 2
#define MAXCLIENTS 4
#define DEPTH 2            /* jobs in flight per client when pipelined */
#define TPUT_ROUNDS 5      /* throughput rounds per variant */
#define FILE_FD 10         /* where bwrap's --file reads the hello binary */

extern char **environ;

static pid_t daemon_pid = -1;
static char tmpdir[64];

/* ---- errors ------------------------------------------------------------ */

static void die(const char *fmt, ...)
{
	va_list ap;

	fputs("bench_daemon: ", stderr);
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

static uint64_t now_ns(void)
{
	struct timespec ts;

	if (clock_gettime(CLOCK_MONOTONIC, &ts) < 0)
		die_errno("clock_gettime");
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void sleep_ms(long ms)
{
	struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L};

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

static void *xmalloc(size_t n)
{
	void *p = malloc(n);

	if (!p)
		die("out of memory");
	return p;
}

/* ---- running a command (bare and bwrap) -------------------------------- */

struct buf {
	char *p;
	size_t len, cap;
};

static void buf_reserve(struct buf *b, size_t more)
{
	if (b->cap - b->len >= more)
		return;
	while (b->cap - b->len < more)
		b->cap = b->cap ? b->cap * 2 : 65536;
	b->p = realloc(b->p, b->cap);
	if (!b->p)
		die("out of memory");
}

/* fork + execve(argv) + waitpid, the child's stdout read to EOF through a
 * pipe into out (NUL-ended); with file, that file is open on FILE_FD in the
 * child. Returns the wall time in microseconds. */
static double run(char *const argv[], const char *file, struct buf *out, int *wstatus)
{
	int pfd[2];
	uint64_t t0, t1;
	pid_t pid;

	if (pipe2(pfd, O_CLOEXEC) < 0)
		die_errno("pipe2");
	t0 = now_ns();
	pid = fork();
	if (pid < 0)
		die_errno("fork");
	if (pid == 0) {
		if (dup2(pfd[1], STDOUT_FILENO) < 0)
			_exit(126);
		if (file) {
			int fd = open(file, O_RDONLY);

			if (fd < 0 || dup2(fd, FILE_FD) < 0)
				_exit(126);
		}
		execve(argv[0], argv, environ);
		_exit(127);
	}
	if (close(pfd[1]) < 0)
		die_errno("close");
	out->len = 0;
	for (;;) {
		ssize_t r;

		buf_reserve(out, 4096);
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

static char *base64(const unsigned char *in, size_t n)
{
	static const char tab[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	char *out = xmalloc((n + 2) / 3 * 4 + 1), *o = out;
	size_t i;

	for (i = 0; i + 2 < n; i += 3) {
		uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 | in[i + 2];

		*o++ = tab[v >> 18 & 63];
		*o++ = tab[v >> 12 & 63];
		*o++ = tab[v >> 6 & 63];
		*o++ = tab[v & 63];
	}
	if (i < n) {
		uint32_t v = (uint32_t)in[i] << 16 | (i + 1 < n ? (uint32_t)in[i + 1] << 8 : 0);

		*o++ = tab[v >> 18 & 63];
		*o++ = tab[v >> 12 & 63];
		*o++ = i + 1 < n ? tab[v >> 6 & 63] : '=';
		*o++ = '=';
	}
	*o = '\0';
	return out;
}

static char *read_file(const char *path, size_t *len)
{
	struct buf b = {0};
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		die_errno(path);
	for (;;) {
		ssize_t r;

		buf_reserve(&b, 65536);
		r = read(fd, b.p + b.len, b.cap - b.len);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			die_errno(path);
		if (r == 0)
			break;
		b.len += (size_t)r;
	}
	close(fd);
	*len = b.len;
	return b.p;
}

/* The same binds and namespaces as bench_run's bwrap line (warmbox's own
 * set-up): /usr read-only, the top-level /bin /lib* /sbin as the host has
 * them, warmbox's /etc files, fresh /proc /dev /tmp /box. With file, it is
 * copied to /box/hello, mode 0755, as the daemon writes the job's file. */
static char **bwrap_argv(const char *prog, bool file)
{
	static const char *const tops[] = {"/bin", "/lib", "/lib64", "/lib32", "/libx32", "/sbin"};
	static const char *const etc[] = {"/etc/ld.so.cache", "/etc/localtime",
					  "/etc/nsswitch.conf", "/etc/alternatives"};
	char **v = xmalloc(96 * sizeof(*v));
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
			die_errno(tops[i]);
		}
		if (S_ISLNK(st.st_mode)) {
			link = xmalloc(PATH_MAX);
			len = readlink(tops[i], link, PATH_MAX - 1);
			if (len < 0)
				die_errno(tops[i]);
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
		ADD("10");
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

static void make_progs(struct prog p[2], const char *hello)
{
	size_t len;
	char *bin = read_file(hello, &len), *b64 = base64((unsigned char *)bin, len);
	const char *true_job = "\"argv\":[\"/bin/true\"]}\n";
	const char *fmt = "\"argv\":[\"./hello\"],\"files\":[{\"path\":\"hello\",\"base64\":\"%s\",\"mode\":493}]}\n";

	free(bin);
	p[0] = (struct prog){.name = "true", .bare = {"/bin/true", NULL},
			     .bwrap = bwrap_argv("/bin/true", false), .expect = ""};
	p[0].job = strdup(true_job);
	p[0].job_len = strlen(true_job);
	p[1] = (struct prog){.name = "hello", .bare = {(char *)hello, NULL},
			     .bwrap = bwrap_argv("/box/hello", true), .file = hello,
			     .expect = "hello\n"};
	if (!p[0].job || asprintf(&p[1].job, fmt, b64) < 0)
		die("out of memory");
	p[1].job_len = strlen(p[1].job);
	p[1].b64_len = strlen(b64);
	free(b64);
}

/* ---- daemon clients ---------------------------------------------------- */

struct client {
	int fd;
	int id;
	struct buf in;
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
			die_errno("send to the daemon");
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
	c->sent_ns = now_ns();
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
		die("%s through the daemon: unexpected result: %s", p->name, line);
	if (acc && !accounting[0])
		snprintf(accounting, sizeof(accounting), "%s", acc);
	else if (acc && strcmp(accounting, acc) != 0)
		snprintf(accounting, sizeof(accounting), "mixed");
	cJSON_Delete(o);
}

/* Reads what is there; calls line() for each complete line. Returns the
 * number of lines. */
static int read_lines(struct client *c, void (*line)(struct client *, const char *, void *), void *arg)
{
	ssize_t r;
	char *nl;
	int lines = 0;

	buf_reserve(&c->in, 65536);
	r = recv(c->fd, c->in.p + c->in.len, c->in.cap - c->in.len - 1, 0);
	if (r < 0 && errno == EINTR)
		return 0;
	if (r < 0)
		die_errno("recv from the daemon");
	if (r == 0)
		die("the daemon closed a connection");
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
	uint64_t t0 = now_ns();
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
			die_errno("poll");
		if (rc == 0)
			die("no answer from the daemon for 60 s");
		for (int i = 0; i < nc; i++) {
			if (!(pf[i].revents & (POLLIN | POLLHUP | POLLERR)))
				continue;
			d.t = now_ns();
			left -= read_lines(&cl[i], on_result, &d);
		}
	}
	if (nlat)
		*nlat = d.nlat;
	return now_ns() - t0;
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
	uint64_t until = now_ns() + 20000000000ull;

	for (;;) {
		char *s = stats(c);
		bool warm = stats_num(s, "warm") == ZYGOTES && stats_num(s, "busy") == 0;

		free(s);
		if (warm)
			return;
		if (now_ns() > until)
			die("the pool did not get warm within 20 s");
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
		die_errno("fork");
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
	uint64_t until = now_ns() + 20000000000ull;

	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", sock);
	for (;;) {
		int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0), ws;

		if (fd < 0)
			die_errno("socket");
		if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0)
			return fd;
		close(fd);
		if (waitpid(daemon_pid, &ws, WNOHANG) == daemon_pid) {
			daemon_pid = -1;
			die("warmbox serve exited (wait status %#x) before listening; see its log", ws);
		}
		if (now_ns() > until)
			die("warmbox serve did not listen on %s within 20 s", sock);
		sleep_ms(10);
	}
}

/* SIGTERM, then the time until the manager has exited. */
static void stop_daemon(FILE *o)
{
	uint64_t t0 = now_ns();
	int ws;

	if (kill(daemon_pid, SIGTERM) < 0)
		die_errno("kill");
	for (;;) {
		pid_t r = waitpid(daemon_pid, &ws, WNOHANG);

		if (r == daemon_pid)
			break;
		if (r < 0 && errno != EINTR)
			die_errno("waitpid");
		if (now_ns() - t0 > 30000000000ull)
			die("warmbox serve still running 30 s after SIGTERM");
		sleep_ms(1);
	}
	daemon_pid = -1;
	if (WIFEXITED(ws))
		fprintf(o, "daemon stop: SIGTERM -> exited with status %d after %.1f ms\n",
			WEXITSTATUS(ws), (double)(now_ns() - t0) / 1e6);
	else
		fprintf(o, "daemon stop: SIGTERM -> wait status %#x after %.1f ms\n", ws,
			(double)(now_ns() - t0) / 1e6);
}

/* Warnings and errors the daemon logged (its info lines are routine). */
static void report_log(FILE *o, const char *log)
{
	FILE *f = fopen(log, "r");
	char line[1024];
	int lines = 0, bad = 0;

	if (!f)
		die_errno(log);
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
		die("cannot read the manager's smaps_rollup");
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

/* ---- statistics -------------------------------------------------------- */

struct summary {
	double min, p50, p90, p99, mean, max;
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
	s.p99 = v[(99 * n + 99) / 100 - 1];
	s.mean = sum / n;
	return s;
}

/* ---- machine facts ----------------------------------------------------- */

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
	fclose(f);
}

static void loadavg(char *dst, size_t n)
{
	FILE *f = fopen("/proc/loadavg", "r");
	double a, b, c;

	snprintf(dst, n, "?");
	if (!f)
		return;
	if (fscanf(f, "%lf %lf %lf", &a, &b, &c) == 3)
		snprintf(dst, n, "%.2f %.2f %.2f", a, b, c);
	fclose(f);
}

static void print_facts(FILE *o, const char *warmbox, int argc, char **argv)
{
	struct utsname u;
	char date[64], commit[64], dirty[8], model[256], load[64], cmd[PATH_MAX + 64];
	time_t t = time(NULL);
	struct tm tm;

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

	fprintf(o, "warmbox bench_daemon\n");
	fprintf(o, "command:    ");
	for (int i = 0; i < argc; i++)
		fprintf(o, "%s%s", i ? " " : "", argv[i]);
	fprintf(o, "\ndate:       %s\n", date);
	fprintf(o, "kernel:     %s %s (%s)\n", u.sysname, u.release, u.machine);
	fprintf(o, "cpus:       %ld online, %s\n", sysconf(_SC_NPROCESSORS_ONLN), model);
	fprintf(o, "user:       uid %d\n", (int)geteuid());
	fprintf(o, "load avg:   %s at start (1, 5, 15 min)\n", load);
	fprintf(o, "warmbox:    %s, commit %s%s\n", warmbox, commit[0] ? commit : "?",
		dirty[0] ? " + uncommitted changes" : "");
}

static void print_argv(FILE *o, const char *label, char *const argv[])
{
	fprintf(o, "  %-14s", label);
	for (int i = 0; argv[i]; i++)
		fprintf(o, " %s", argv[i]);
	fputc('\n', o);
}

/* ---- latency ----------------------------------------------------------- */

enum { V_BARE, V_D1, V_D2, V_BWRAP, NV };
static const char *const vname[NV] = {"bare", "daemon, 1 client", "daemon, 2 clients", "bwrap"};

struct series {
	double *v;
	int n;
};

static void run_variant(int v, const struct prog *p, struct client *cl, struct series *s,
			struct buf *out, bool record)
{
	int ws, got = 0;
	double us;

	switch (v) {
	case V_BARE:
	case V_BWRAP:
		us = run(v == V_BARE ? p->bare : p->bwrap, v == V_BWRAP ? p->file : NULL, out, &ws);
		if (!exited_zero(ws) || strcmp(out->p, p->expect) != 0)
			die("%s %s: wait status %#x, stdout \"%s\"", p->name, vname[v], ws, out->p);
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
		    struct summary out[2][NV])
{
	struct series s[2][NV];
	struct buf buf = {0};

	for (int p = 0; p < 2; p++)
		for (int v = 0; v < NV; v++)
			s[p][v] = (struct series){.v = xmalloc(sizeof(double) * (size_t)n * 2)};
	for (int r = 0; r < warmup + n; r++) {
		for (int k = 0; k < 2 * NV; k++) {
			int x = (r + k) % (2 * NV), p = x / NV, v = x % NV;

			run_variant(v, &progs[p], cl, &s[p][v], &buf, r >= warmup);
		}
	}
	fprintf(o, "\nlatency per job, microseconds (nearest-rank percentiles). bare and bwrap:\n"
		   "fork -> waitpid, stdout read to EOF; daemon: job sent -> result line received\n");
	fprintf(o, "  %-24s %5s %7s %7s %7s %7s %7s %7s  %8s %8s\n", "variant", "runs", "min", "p50",
		"p90", "p99", "mean", "max", "p50/bare", "p99/bare");
	for (int p = 0; p < 2; p++) {
		for (int v = 0; v < NV; v++) {
			char label[48];
			struct summary m = summarize(s[p][v].v, s[p][v].n);

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
	uint64_t t0 = now_ns();
	pid_t w[2];

	for (int i = 0; i < 2; i++) {
		w[i] = fork();
		if (w[i] < 0)
			die_errno("fork");
		if (w[i] == 0) {
			struct buf out = {0};
			int ws;

			for (int k = 0; k < per_loop; k++) {
				run(p->bare, NULL, &out, &ws);
				if (!exited_zero(ws) || strcmp(out.p, p->expect) != 0)
					_exit(1);
			}
			_exit(0);
		}
	}
	for (int i = 0; i < 2; i++) {
		int ws;

		while (waitpid(w[i], &ws, 0) < 0)
			if (errno != EINTR)
				die_errno("waitpid");
		if (!exited_zero(ws))
			die("%s: a bare loop failed", p->name);
	}
	return now_ns() - t0;
}

static void throughput(FILE *o, const struct prog *progs, struct client *cl, int n, double ratio[2][NT])
{
	/* Jobs per round, a multiple of 4 so that every variant runs as many. */
	int per_round = ((n + TPUT_ROUNDS - 1) / TPUT_ROUNDS + 3) / 4 * 4;
	uint64_t ns[2][NT] = {{0}};

	for (int r = 0; r < TPUT_ROUNDS; r++) {
		for (int k = 0; k < 2 * NT; k++) {
			int x = (r + k) % (2 * NT), p = x / NT, v = x % NT;

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
	for (int p = 0; p < 2; p++) {
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

static int number(const char *s)
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
	const char *outpath = NULL, *warmbox = BENCH_WARMBOX, *hello = BENCH_HELLO;
	int n = 1000, warmup = 10, c;
	char defpath[PATH_MAX], load[64], sock[96], logpath[96], *report = NULL, *st;
	size_t report_len = 0;
	struct prog progs[2];
	struct client cl[MAXCLIENTS];
	struct summary lat[2][NV];
	double ratio[2][NT];
	long zyg_start, zyg_end;
	FILE *o, *f;

	while ((c = getopt(argc, argv, "n:W:o:w:H:h")) != -1) {
		switch (c) {
		case 'n': n = number(optarg); break;
		case 'W': warmup = number(optarg); break;
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
		die("-n must be at least 1");
	if (access(warmbox, X_OK) < 0)
		die_errno(warmbox);
	if (access(hello, X_OK) < 0)
		die_errno(hello);
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
		snprintf(defpath, sizeof(defpath), "%s/results/daemon-%s.txt", dir, stamp);
		free(dir);
		outpath = defpath;
	}
	signal(SIGPIPE, SIG_IGN);
	make_progs(progs, hello);

	snprintf(tmpdir, sizeof(tmpdir), "/tmp/wbbench.XXXXXX");
	if (!mkdtemp(tmpdir))
		die_errno("mkdtemp");
	atexit(cleanup);
	snprintf(sock, sizeof(sock), "%s/warmbox.sock", tmpdir);
	snprintf(logpath, sizeof(logpath), "%s/serve.log", tmpdir);
	start_daemon(warmbox, sock, logpath);
	for (int i = 0; i < MAXCLIENTS; i++)
		cl[i] = (struct client){.fd = connect_daemon(sock), .id = i};
	wait_warm(&cl[0]);

	o = open_memstream(&report, &report_len);
	if (!o)
		die_errno("open_memstream");
	print_facts(o, warmbox, argc, argv);
	fprintf(o, "commands:\n");
	print_argv(o, "daemon", serve_argv);
	print_argv(o, "true bare", progs[0].bare);
	print_argv(o, "true bwrap", progs[0].bwrap);
	print_argv(o, "hello bare", progs[1].bare);
	print_argv(o, "hello bwrap", progs[1].bwrap);
	fprintf(o, "  %-14s {\"id\":\"cK-SEQ\",%.*s\n", "true job", (int)progs[0].job_len - 1, progs[0].job);
	fprintf(o, "  %-14s {\"id\":\"cK-SEQ\",\"argv\":[\"./hello\"],\"files\":[{\"path\":\"hello\","
		   "\"base64\":\"(%zu characters)\",\"mode\":493}]}  (about %zu bytes a line)\n", "hello job",
		progs[1].b64_len, progs[1].job_len + 20);
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
		const struct summary *t = lat[0];
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
	}
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
	fprintf(stderr, "bench_daemon: report written to %s\n", outpath);
	free(report);
	return 0;
}
