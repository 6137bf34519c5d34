/* daemonlib.c: the warmbox daemons bench_daemon runs, its clients of them, the jobs it
 * drives through them and checks, and what it reads of them afterwards: log and memory. */
#include "daemonlib.h"

#include "core/base64.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define STR_(x) #x
#define STR(x) STR_(x)

extern char **environ;

/* ---- clean-up ---------------------------------------------------------- */

/* The daemons still to remove when this process exits, and the process that
 * started them: a forked bare loop that dies must not take them along. */
static struct bd_daemon *live[BD_MAXDAEMONS];
static pid_t owner;

static void remove_files(struct bd_daemon *d)
{
	if (!d->tmpdir[0])
		return;
	if (unlink(d->log) < 0 && errno != ENOENT)
		fprintf(stderr, "%s: %s: %s\n", bench_name, d->log, strerror(errno));
	if (unlink(d->sock) < 0 && errno != ENOENT)
		fprintf(stderr, "%s: %s: %s\n", bench_name, d->sock, strerror(errno));
	if (rmdir(d->tmpdir) < 0)
		fprintf(stderr, "%s: %s: %s\n", bench_name, d->tmpdir, strerror(errno));
	d->tmpdir[0] = '\0';
}

/* No bench_die here: it runs from exit(), where dying again would not help. */
static void kill_daemon(struct bd_daemon *d)
{
	if (d->pid <= 0)
		return;
	if (kill(d->pid, SIGKILL) < 0 && errno != ESRCH)
		fprintf(stderr, "%s: kill %d: %s\n", bench_name, (int)d->pid, strerror(errno));
	while (waitpid(d->pid, NULL, 0) < 0 && errno == EINTR)
		;
	d->pid = -1;
}

/* A benchmark that dies must not leave its daemons behind (the zygotes die
 * with their manager: PR_SET_DEATHSIG). */
static void cleanup(void)
{
	if (getpid() != owner)
		return;
	for (int i = 0; i < BD_MAXDAEMONS; i++) {
		if (!live[i])
			continue;
		kill_daemon(live[i]);
		remove_files(live[i]);
		live[i] = NULL;
	}
}

void bd_daemon_remove(struct bd_daemon *d)
{
	if (!d)
		return;
	kill_daemon(d);
	remove_files(d);
	for (int i = 0; i < BD_MAXDAEMONS; i++)
		if (live[i] == d)
			live[i] = NULL;
}

void bd_sleep_ms(long ms)
{
	struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L};

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

char *bd_read_file(const char *path, size_t *len)
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
	if (close(fd) < 0)
		bench_die_errno(path);
	*len = b.len;
	return b.p;
}

/* ---- the daemon -------------------------------------------------------- */

void bd_daemon_start(struct bd_daemon *d, const char *warmbox)
{
	int n = 0, slot = -1;

	for (int i = 0; i < BD_MAXDAEMONS && slot < 0; i++)
		if (!live[i])
			slot = i;
	if (slot < 0)
		bench_die("more than %d daemons at once", BD_MAXDAEMONS);
	if (!owner) {
		owner = getpid();
		if (atexit(cleanup) != 0)
			bench_die("atexit failed");
	}
	*d = (struct bd_daemon){.pid = -1};
	snprintf(d->tmpdir, sizeof(d->tmpdir), "/tmp/wbbench.XXXXXX");
	if (!mkdtemp(d->tmpdir))
		bench_die_errno("mkdtemp");
	live[slot] = d;
	snprintf(d->sock, sizeof(d->sock), "%s/warmbox.sock", d->tmpdir);
	snprintf(d->log, sizeof(d->log), "%s/serve.log", d->tmpdir);

	d->argv[n++] = (char *)warmbox;
	d->argv[n++] = "serve";
	d->argv[n++] = "--socket";
	d->argv[n++] = d->sock;
	d->argv[n++] = "--zygotes";
	d->argv[n++] = STR(BD_ZYGOTES);
	d->argv[n++] = "--policies";
	d->argv[n++] = BENCH_POLICIES;
	d->argv[n] = NULL;
	d->pid = fork();
	if (d->pid < 0)
		bench_die_errno("fork");
	if (d->pid == 0) {
		int in = open("/dev/null", O_RDONLY), out = open(d->log, O_WRONLY | O_CREAT | O_TRUNC, 0600);

		if (in < 0 || out < 0 || dup2(in, 0) < 0 || dup2(out, 1) < 0 || dup2(out, 2) < 0)
			_exit(126);
		execve(warmbox, d->argv, environ);
		_exit(127);
	}
}

void bd_daemon_stop(struct bd_daemon *d, FILE *o)
{
	uint64_t t0 = bench_now_ns();
	int ws;

	if (kill(d->pid, SIGTERM) < 0)
		bench_die_errno("kill");
	for (;;) {
		pid_t r = waitpid(d->pid, &ws, WNOHANG);

		if (r == d->pid)
			break;
		if (r < 0 && errno != EINTR)
			bench_die_errno("waitpid");
		if (bench_now_ns() - t0 > 30000000000ull)
			bench_die("warmbox serve still running 30 s after SIGTERM");
		bd_sleep_ms(1);
	}
	d->pid = -1;
	if (!o)
		return;
	if (WIFEXITED(ws))
		fprintf(o, "daemon stop: SIGTERM -> exited with status %d after %.1f ms\n",
			WEXITSTATUS(ws), (double)(bench_now_ns() - t0) / 1e6);
	else
		fprintf(o, "daemon stop: SIGTERM -> wait status %#x after %.1f ms\n", ws,
			(double)(bench_now_ns() - t0) / 1e6);
}

void bd_report_log(FILE *o, const struct bd_daemon *d)
{
	FILE *f = fopen(d->log, "r");
	char line[1024];
	int lines = 0, bad = 0;

	if (!f)
		bench_die_errno(d->log);
	while (fgets(line, sizeof(line), f)) {
		lines++;
		if (!strstr(line, "[info]") && !strstr(line, "[debug]")) {
			if (bad++ < 10)
				fprintf(o, "  log: %s", line);
		}
	}
	if (ferror(f) || fclose(f) != 0)
		bench_die_errno(d->log);
	fprintf(o, "daemon log: %d lines, %d warnings or errors%s\n", lines, bad,
		bad > 10 ? " (first 10 above)" : bad ? " (above)" : "");
}

/* ---- clients ----------------------------------------------------------- */

void bd_client_open(struct bd_client *c, struct bd_daemon *d, int id)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	uint64_t until = bench_now_ns() + 20000000000ull;

	*c = (struct bd_client){.fd = -1, .id = id, .d = d};
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", d->sock);
	for (;;) {
		int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0), ws;

		if (fd < 0)
			bench_die_errno("socket");
		if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0) {
			c->fd = fd;
			return;
		}
		close(fd);
		if (waitpid(d->pid, &ws, WNOHANG) == d->pid) {
			d->pid = -1;
			bench_die("%s serve exited (wait status %#x) before listening; see its log",
				  d->argv[0], ws);
		}
		if (bench_now_ns() > until)
			bench_die("warmbox serve did not listen on %s within 20 s", d->sock);
		bd_sleep_ms(10);
	}
}

void bd_client_close(struct bd_client *c)
{
	if (c->fd >= 0 && close(c->fd) < 0)
		bench_die_errno("close");
	c->fd = -1;
	free(c->in.p);
	c->in = (struct bench_buf){0};
}

/* A connection the daemon has closed is readable (EOF) with no job in
 * flight; anything else there would be a line no job asked for. */
static void revive(struct bd_client *c)
{
	struct pollfd pf = {.fd = c->fd, .events = POLLIN};
	int rc = poll(&pf, 1, 0), id = c->id;
	char b;

	if (rc < 0 && errno != EINTR)
		bench_die_errno("poll");
	if (rc <= 0)
		return;
	if (recv(c->fd, &b, 1, MSG_PEEK | MSG_DONTWAIT) > 0)
		bench_die("the daemon sent something no request asked for");
	bd_client_close(c);
	bd_client_open(c, c->d, id);
}

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

static void send_job(struct bd_client *c, const struct bd_job *j)
{
	char head[64];
	struct iovec iov[2];
	int hl = snprintf(head, sizeof(head), "{\"id\":\"c%d-%lu\",", c->id, c->seq);

	iov[0] = (struct iovec){head, (size_t)hl};
	iov[1] = (struct iovec){j->text, j->len};
	c->flight[c->inflight].seq = c->seq++;
	c->flight[c->inflight].sent_ns = bench_now_ns();
	send_all(c->fd, iov, 2);
	c->sent++;
	c->inflight++;
}

/* Reads what is there; calls line() for each complete line. Returns the
 * number of lines. */
static int read_lines(struct bd_client *c, void (*line)(struct bd_client *, const char *, void *), void *arg)
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

/* The results' accounting field, one per process: what every report says. */
static char accounting[24];

const char *bd_accounting(void)
{
	return accounting[0] ? accounting : "?";
}

/* Checks the result and returns the sequence number its id carries. */
static unsigned long check_result(const struct bd_client *c, const char *line, const struct bd_job *j)
{
	cJSON *o = cJSON_Parse(line);
	const char *st = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o, "status"));
	const char *out = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o, "stdout"));
	const char *acc = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o, "accounting"));
	const char *id = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o, "id"));
	unsigned long seq;
	int cid;

	if (!st || strcmp(st, "OK") != 0 || !out || strcmp(out, j->expect) != 0)
		bench_die("%s through the daemon: unexpected result: %s", j->name, line);
	if (!id || sscanf(id, "c%d-%lu", &cid, &seq) != 2 || cid != c->id)
		bench_die("%s through the daemon: a result for another job: %s", j->name, line);
	if (acc)
		bench_note_accounting(accounting, sizeof(accounting), acc);
	cJSON_Delete(o);
	return seq;
}

struct drive {
	const struct bd_job *j;
	double *lat;             /* one latency per job, microseconds */
	int nlat;
	uint64_t t;              /* when the last recv returned */
};

static void on_result(struct bd_client *c, const char *line, void *arg)
{
	struct drive *d = arg;
	unsigned long seq = check_result(c, line, d->j);
	int k = 0;

	while (k < c->inflight && c->flight[k].seq != seq)
		k++;
	if (k == c->inflight)
		bench_die("%s through the daemon: a result for no job in flight: %s", d->j->name, line);
	if (d->lat)
		d->lat[d->nlat++] = (double)(d->t - c->flight[k].sent_ns) / 1000.0;
	c->flight[k] = c->flight[--c->inflight];
	c->done++;
	if (c->sent < c->quota)
		send_job(c, d->j);
}

uint64_t bd_drive(struct bd_client *cl, int nc, const struct bd_job *j, int depth, int jobs,
		  double *lat, int *nlat)
{
	struct drive d = {.j = j, .lat = lat};
	struct pollfd pf[BD_MAXCLIENTS];
	uint64_t t0;
	int left = jobs;

	if (nc < 1 || nc > BD_MAXCLIENTS || depth < 1 || depth > BD_MAXDEPTH)
		bench_die("bd_drive: %d clients, depth %d", nc, depth);
	for (int i = 0; i < nc; i++)
		revive(&cl[i]);
	t0 = bench_now_ns();
	for (int i = 0; i < nc; i++) {
		cl[i].quota = jobs / nc + (i < jobs % nc);
		cl[i].sent = cl[i].done = cl[i].inflight = 0;
		while (cl[i].inflight < depth && cl[i].sent < cl[i].quota)
			send_job(&cl[i], j);
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

/* ---- requests other than jobs ------------------------------------------ */

static void on_answer(struct bd_client *c, const char *line, void *arg)
{
	(void)c;
	*(char **)arg = strdup(line);
	if (!*(char **)arg)
		bench_die("out of memory");
}

char *bd_stats(struct bd_client *c)
{
	struct iovec iov = {"{\"op\":\"stats\"}\n", 15};
	char *line = NULL;

	send_all(c->fd, &iov, 1);
	while (!line)
		read_lines(c, on_answer, &line);
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

void bd_wait_warm(struct bd_client *c)
{
	uint64_t until = bench_now_ns() + 20000000000ull;

	for (;;) {
		char *s = bd_stats(c);
		bool warm = stats_num(s, "warm") == BD_ZYGOTES && stats_num(s, "busy") == 0;

		free(s);
		if (warm)
			return;
		if (bench_now_ns() > until)
			bench_die("the pool did not get warm within 20 s");
		bd_sleep_ms(10);
	}
}

void bd_put_hello(struct bd_client *c, const char *hello, struct bd_job *j)
{
	size_t len;
	char *bin = bd_read_file(hello, &len), *b64 = wb_base64_encode((unsigned char *)bin, len), *line, *answer = NULL;
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
		read_lines(c, on_answer, &answer);
	o = cJSON_Parse(answer);
	ref = cJSON_GetObjectItemCaseSensitive(o, "ref");
	if (!cJSON_IsString(ref) || asprintf(&j->text, fmt, ref->valuestring) < 0)
		bench_die("put of %s: %s", hello, answer);
	j->len = strlen(j->text);
	cJSON_Delete(o);
	free(answer);
	free(line);
}

/* ---- memory ------------------------------------------------------------ */

bool bd_smaps(pid_t pid, struct bd_mem *m)
{
	char path[64], line[256];
	FILE *f;
	long v;

	snprintf(path, sizeof(path), "/proc/%d/smaps_rollup", (int)pid);
	if (!(f = fopen(path, "r")))
		return false;
	*m = (struct bd_mem){0};
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

static void mem_row(FILE *o, const char *label, pid_t pid, const struct bd_mem *m)
{
	char l[64];

	snprintf(l, sizeof(l), "%s (pid %d)", label, (int)pid);
	fprintf(o, "  %-32s %9ld %9ld %9ld\n", l, m->priv, m->pss, m->rss);
}

long bd_report_memory(FILE *o, const struct bd_daemon *d, const char *when)
{
	pid_t zyg[16], kids[16];
	int nz = children(d->pid, zyg, 16);
	struct bd_mem m;
	long worst = -1;

	fprintf(o, "\nprivate memory, KiB (%s; private = Private_Clean + Private_Dirty of\n"
		   "/proc/PID/smaps_rollup, pss and rss from the same file)\n", when);
	fprintf(o, "  %-32s %9s %9s %9s\n", "process", "private", "pss", "rss");
	if (!bd_smaps(d->pid, &m))
		bench_die("cannot read the manager's smaps_rollup");
	mem_row(o, "manager", d->pid, &m);
	for (int z = 0; z < nz; z++) {
		int nk = children(zyg[z], kids, 16), zombies = 0;
		char label[48];

		if (!bd_smaps(zyg[z], &m))
			continue;
		snprintf(label, sizeof(label), "zygote %d", z + 1);
		mem_row(o, label, zyg[z], &m);
		if (m.priv > worst)
			worst = m.priv;
		for (int k = 0; k < nk; k++) {
			struct bd_mem s;

			if (proc_state(kids[k]) == 'Z') {
				zombies++;
				continue;
			}
			if (!bd_smaps(kids[k], &s))
				continue;
			mem_row(o, "  its spare job init", kids[k], &s);
		}
		if (zombies)
			fprintf(o, "  %-32s %d (a finished job init, reaped when the next spare but one is cloned)\n",
				"  zombies", zombies);
	}
	return worst;
}
