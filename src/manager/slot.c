/* slot.c: one zygote seen from the manager. Starting it (clone3 into fresh
 * namespaces, uid maps from outside), feeding it jobs with their fds, and
 * collecting output, the job init's report and the cgroup's figures. */
#include "manager/slot.h"
#include "core/clock.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "proto/clone3.h"
#include "proto/fdpass.h"
#include "policy/learn.h"
#include "manager/userns.h"
#include "proto/wire.h"
#include "inside/zygote.h"

/* How long past its wall limit a job may stay silent before the manager
 * gives up on the zygote and kills it. */
#define GUARD_MS 5000
#define READ_CHUNK 65536
/* Our own processes that share the job's uid when rootless (zygote, this
 * job's init, the next spare): RLIMIT_NPROC counts them too. */
#define ROOTLESS_HELPERS 3

struct run {
	struct wb_slot *slot;
	const struct wb_job *job;
	const struct wb_policy *policy;
	wb_slot_done_cb done;
	void *data;
	bool trace;
	uint64_t sent_ns;
	uint64_t cpu_base;
	struct wb_cgroup_slot *cgs;  /* this job's cgroup (the run's to close), NULL for rlimit */
	int sock, out_fd, err_fd;
	uv_poll_t sock_poll, out_poll, err_poll;
	uv_timer_t guard;
	int handles;
	bool sock_eof, out_eof, err_eof, kill_sent, finished;
	bool got_result;
	struct wb_msg_result res;
	int copy_fd;
	const char *fail;
	struct wb_result r;
};

struct wb_slot {
	uv_loop_t *loop;
	struct wb_slot_cfg cfg;
	/* The cgroup the waiting spare sits in, which the next job gets: the
	 * spare joins it ahead of time (joining can cost a whole RCU grace
	 * period) while the current job still runs in its own. */
	struct wb_cgroup_slot *spare_cg;
	uint64_t spares;         /* spares the zygote was told to make */
	int spare_err;           /* the next spare's cgroup could not be made */
	pid_t pid;
	int pidfd;
	int ctl;
	int zsock;               /* to the zygote alone (zygote.h) */
	uv_poll_t ctl_poll, pid_poll;
	int handles;
	bool ready, dead, closing, reaped;
	bool spare_ready;        /* a spare job init waits: a job starts at once */
	wb_slot_state_cb cb;
	void *data;
	struct run *run;
	char why[256];           /* why the zygote is gone */
};

const char *wb_accounting_name(enum wb_accounting mode)
{
	switch (mode) {
	case WB_ACCT_CGROUP_V2:
		return "cgroup-v2";
	case WB_ACCT_CGROUP_V1:
		return "cgroup-v1";
	default:
		return "rlimit";
	}
}

static enum wb_accounting slot_accounting(const struct wb_slot *s)
{
	return wb_cgroup_mode(s->cfg.cg);
}

static void close_fds(const int *fds, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (fds[i] >= 0)
			close(fds[i]);
}

/* ---- the result ---- */

static char *fmt(const char *format, const char *a, const char *b)
{
	size_t len = strlen(format) + strlen(a) + strlen(b) + 1;
	char *s = malloc(len);

	if (s)
		snprintf(s, len, format, a, b);
	return s;
}

static const char *copyout_reason(int err)
{
	switch (err) {
	case ELOOP:
		return "is or passes through a symlink (not followed)";
	case EXDEV:
		return "escapes /box";
	case EISDIR:
		return "is a directory, not a regular file";
	case EINVAL:
		return "not a regular file";
	case EFBIG:
		return "larger than the copy_out limit";
	default:
		return strerror(err);
	}
}

static int read_learned(struct run *r)
{
	r->r.learned = malloc(sizeof(*r->r.learned));
	if (!r->r.learned)
		return -ENOMEM;
	if (pread(r->copy_fd, r->r.learned, sizeof(*r->r.learned), 0) != (ssize_t)sizeof(*r->r.learned)) {
		free(r->r.learned);
		r->r.learned = NULL;
		return -EBADMSG;
	}
	return 0;
}

static int read_copy_out(struct run *r)
{
	struct stat st;
	void *map;
	size_t off = 0, n = 0;
	struct wb_copyout_rec rec;
	int rc = 0;

	if (fstat(r->copy_fd, &st) < 0)
		return -errno;
	if (st.st_size == 0)
		return 0;
	map = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, r->copy_fd, 0);
	if (map == MAP_FAILED)
		return -errno;
	r->r.files = calloc(r->job->ncopy_out ? r->job->ncopy_out : 1, sizeof(*r->r.files));
	if (!r->r.files) {
		rc = -ENOMEM;
		goto out;
	}
	while (n < r->job->ncopy_out && (rc = wb_wire_copyout_next(map, (size_t)st.st_size, &off, &rec)) > 0) {
		struct wb_outfile *f = &r->r.files[n++];

		f->path = strdup(rec.path);
		if (rec.err)
			f->error = strdup(copyout_reason(rec.err));
		else if (rec.len && (f->data = malloc(rec.len)))
			memcpy(f->data, rec.data, rec.len);
		f->len = rec.err ? 0 : rec.len;
		if (!f->path || (rec.err && !f->error) || (!rec.err && rec.len && !f->data))
			rc = -ENOMEM;
		r->r.nfiles = n;
		if (rc < 0)
			break;
	}
out:
	munmap(map, (size_t)st.st_size);
	return rc < 0 ? rc : 0;
}

static void sandbox_error(struct run *r, const char *what)
{
	r->r.status = WB_STATUS_XX;
	free(r->r.error);
	r->r.error = strdup(what);
}

static void build_result(struct run *r)
{
	struct wb_msg_result *m = &r->res;
	struct wb_result *res = &r->r;
	struct wb_cgroup_usage use = {0};
	struct wb_verdict_in v = {0};
	uint64_t cpu_ns, mem_kb;
	char buf[512];

	res->id = r->job->id;
	res->accounting = wb_accounting_name(slot_accounting(r->slot));
	/* The job init shares the job's cgroup: files bigger than memory_kb
	 * get it OOM-killed before it can report. That is the job's ML. */
	if (!r->fail && !r->got_result && r->cgs &&
	    wb_cgroup_slot_collect(r->cgs, r->cpu_base, &use) == 0 && use.oom_killed) {
		res->status = WB_STATUS_ML;
		res->memory_kb = use.peak_valid ? use.peak_kb : 0;
		res->error = strdup("the job's files and set-up did not fit in memory_kb");
		return;
	}
	if (r->fail || !r->got_result) {
		sandbox_error(r, r->fail ? r->fail : "the job init ended without a report");
		return;
	}
	res->wall_ms = m->wall_ns / 1000000;
	if (m->flags & WB_RES_EXEC_FAILED && (m->stage == WB_STAGE_EXECVE || m->stage == WB_STAGE_CHDIR)) {
		/* The submission's fault, not the sandbox's (SPEC "Result"). */
		res->status = WB_STATUS_RE;
		res->exit_code = 127;
		res->error = m->stage == WB_STAGE_EXECVE ? fmt("execve %s: %s", r->job->argv[0], strerror(m->err))
							 : fmt("chdir %s: %s", r->job->cwd, strerror(m->err));
		return;
	}
	/* /box is sized to memory_kb: files that do not fit are the job's ML,
	 * as in cgroup mode where they get the job init OOM-killed. */
	if (m->stage == WB_STAGE_FILES && m->err == ENOSPC) {
		res->status = WB_STATUS_ML;
		res->error = strdup("the job's files and set-up did not fit in memory_kb");
		return;
	}
	if (m->stage != WB_STAGE_NONE) {
		snprintf(buf, sizeof(buf), "sandbox: %s: %s", wb_stage_name((enum wb_stage)m->stage), strerror(m->err));
		sandbox_error(r, buf);
		return;
	}
	cpu_ns = m->cpu_ns;
	mem_kb = m->maxrss_kb;
	if (r->cgs) {
		if (wb_cgroup_slot_collect(r->cgs, r->cpu_base, &use) < 0) {
			sandbox_error(r, "sandbox: cannot read the job's cgroup");
			return;
		}
		cpu_ns = use.cpu_ns;
		if (use.peak_valid)
			mem_kb = use.peak_kb;
	}
	res->cpu_ms = cpu_ns / 1000000;
	res->memory_kb = mem_kb;
	if (m->flags & WB_RES_EXITED)
		res->exit_code = m->exit_code;
	res->signal = m->signal;
	v.exit_code = res->exit_code < 0 ? 0 : res->exit_code;
	v.signal = m->signal;
	v.seccomp = (m->flags & WB_RES_SECCOMP) || m->signal == SIGSYS;
	v.memory = use.oom_killed || mem_kb > r->job->limits.memory_kb;
	v.time = (m->flags & (WB_RES_TL_CPU | WB_RES_TL_WALL)) || m->signal == SIGXCPU ||
		 res->cpu_ms > r->job->limits.cpu_ms;
	v.output = res->out_truncated || res->err_truncated || m->signal == SIGXFSZ;
	res->status = wb_result_verdict(&v);
	if (res->status == WB_STATUS_SV) {
		if (m->syscall_nr == WB_SYSCALL_FOREIGN_ARCH)
			res->syscall = strdup("foreign architecture");
		else if (m->syscall_nr >= 0)
			res->syscall = wb_policy_syscall_name(m->syscall_nr);
		if (!res->syscall)
			res->syscall = strdup("unknown");
	}
	if (r->copy_fd >= 0 && (m->flags & WB_RES_LEARNED) && read_learned(r) < 0)
		sandbox_error(r, "sandbox: cannot read what warmbox learn counted");
	else if (r->copy_fd >= 0 && !(m->flags & WB_RES_LEARNED) && read_copy_out(r) < 0)
		sandbox_error(r, "sandbox: cannot read copy_out");
	if (r->trace && m->trace[WB_TRACE_EXEC]) {
		res->has_trace = true;
		res->trace_send_to_exec_us = (m->trace[WB_TRACE_EXEC] - r->sent_ns) / 1000;
		res->trace_recv_to_exec_us = (m->trace[WB_TRACE_EXEC] - m->trace[WB_TRACE_RECV]) / 1000;
		res->trace_send_to_report_us = m->trace[WB_TRACE_REPORT] > r->sent_ns ?
			(m->trace[WB_TRACE_REPORT] - r->sent_ns) / 1000 : 0;
		for (int i = 1; i < WB_TRACE_POINTS; i++)
			res->trace_stage_us[i - 1] = m->trace[i] > m->trace[i - 1] ?
				(m->trace[i] - m->trace[i - 1]) / 1000 : 0;
	}
}

/* ---- a job in flight ---- */

static void slot_died(struct wb_slot *s, int err);

static void run_handle_closed(uv_handle_t *h)
{
	struct run *r = h->data;

	if (--r->handles == 0)
		free(r);
}

/* Closes the handles init_run_handles got to, in its order; the run is
 * freed with the last one (run_handle_closed). */
static void close_run_handles(struct run *r)
{
	uv_handle_t *hs[] = {(uv_handle_t *)&r->guard, (uv_handle_t *)&r->sock_poll,
			     (uv_handle_t *)&r->out_poll, (uv_handle_t *)&r->err_poll};
	int n = r->handles;

	for (int i = 0; i < n; i++)
		uv_close(hs[i], run_handle_closed);
}

static void run_finish(struct run *r)
{
	struct wb_slot *s = r->slot;
	struct wb_result *res;

	if (r->finished)
		return;
	r->finished = true;
	build_result(r);
	close_run_handles(r);
	close(r->sock);
	close(r->out_fd);
	close(r->err_fd);
	if (r->copy_fd >= 0)
		close(r->copy_fd);
	wb_cgroup_slot_close(r->cgs);
	r->cgs = NULL;
	s->run = NULL;
	res = malloc(sizeof(*res));
	if (res) {
		*res = r->r;
	} else {
		wb_result_free(&r->r);
	}
	memset(&r->r, 0, sizeof(r->r));
	r->done(s, res, r->data);
	/* No next spare can come: the zygote is done for. */
	if (s->spare_err && !s->dead) {
		snprintf(s->why, sizeof(s->why), "sandbox: cannot make the next job's cgroup: %s",
			 strerror(-s->spare_err));
		slot_died(s, s->spare_err);
	}
}

static void maybe_finish(struct run *r)
{
	if (r->sock_eof && r->out_eof && r->err_eof)
		run_finish(r);
}

static void send_kill(struct run *r)
{
	uint32_t type = WB_MSG_KILL;

	if (r->kill_sent || r->sock_eof)
		return;
	r->kill_sent = true;
	wb_fdpass_send(r->sock, &type, sizeof(type), NULL, 0);
}

static void on_output(uv_poll_t *h, int status, int events)
{
	struct run *r = h->data;
	bool is_err = h == &r->err_poll;
	int fd = is_err ? r->err_fd : r->out_fd;
	struct wb_buf *b = is_err ? &r->r.err : &r->r.out;
	bool *trunc = is_err ? &r->r.err_truncated : &r->r.out_truncated;
	size_t cap = r->job->limits.output_kb * 1024;
	unsigned char buf[READ_CHUNK];
	ssize_t n;

	(void)status;
	(void)events;
	n = read(fd, buf, sizeof(buf));
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n > 0) {
		size_t keep = b->len < cap ? cap - b->len : 0;

		if ((size_t)n > keep) {
			/* Past output_kb: keep the head, end the job (OL). */
			*trunc = true;
			send_kill(r);
		}
		if (keep && wb_buf_append(b, buf, (size_t)n < keep ? (size_t)n : keep) < 0) {
			r->fail = "manager: out of memory for output";
			send_kill(r);
		}
		return;
	}
	uv_poll_stop(h);
	if (is_err)
		r->err_eof = true;
	else
		r->out_eof = true;
	maybe_finish(r);
}

static void on_report(uv_poll_t *h, int status, int events)
{
	struct run *r = h->data;
	size_t nfd = 1;
	ssize_t n;

	(void)status;
	(void)events;
	n = wb_fdpass_recv(r->sock, &r->res, sizeof(r->res), &r->copy_fd, &nfd);
	if (n < 0 && (n == -EAGAIN || n == -EINTR))
		return;
	if (nfd != 1)
		r->copy_fd = -1;
	if (n == (ssize_t)sizeof(r->res) && r->res.type == WB_MSG_RESULT && !r->got_result)
		r->got_result = true;
	else if (nfd == 1) {
		close(r->copy_fd);
		r->copy_fd = -1;
	}
	if (n > 0 && !r->got_result)
		return;
	uv_poll_stop(h);
	r->sock_eof = true;
	maybe_finish(r);
}

static void on_guard(uv_timer_t *t)
{
	struct run *r = t->data;

	r->fail = "sandbox: the job did not end within its wall limit; its zygote was killed";
	if (r->slot->pidfd >= 0)
		syscall(SYS_pidfd_send_signal, r->slot->pidfd, SIGKILL, NULL, 0);
}

static int open_stdin(const struct wb_job *job)
{
	char path[64];
	int fd, ro;
	size_t off = 0;

	if (job->stdin_len == 0) {
		fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
		return fd < 0 ? -errno : fd;
	}
	fd = memfd_create("wb-stdin", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (fd < 0)
		return -errno;
	while (off < job->stdin_len) {
		ssize_t n = write(fd, job->stdin_data + off, job->stdin_len - off);

		if (n < 0) {
			int err = errno;

			close(fd);
			return -err;
		}
		off += (size_t)n;
	}
	/* Sealed: a reopen of /proc/self/fd/0 for writing must not let the
	 * program rewrite its input either. Then a read-only reopen, so that
	 * fd 0 itself is not writable. */
	if (fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_SEAL) < 0) {
		int err = errno;

		close(fd);
		return -err;
	}
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	ro = open(path, O_RDONLY | O_CLOEXEC);
	if (ro < 0)
		ro = -errno;
	close(fd);
	return ro;
}

/* Tells the zygote which cgroup its next spare starts in, the one the next
 * job will run in, with the descriptors it needs to put the spare there. */
static int send_spare_cgroup(struct wb_slot *s)
{
	struct wb_msg_cgroup m = {.type = WB_MSG_SPARE_CGROUP};
	int fds[WB_SPARE_CGROUP_MAX_FDS];
	size_t n = 0;
	int rc;

	if (s->cfg.cg) {
		rc = wb_cgroup_slot_open(s->cfg.cg, s->cfg.idx, s->spares, &s->spare_cg);
		if (rc < 0)
			return rc;
		if ((fds[0] = wb_cgroup_slot_dir_fd(s->spare_cg)) >= 0) {
			m.into = 1;
			n = 1;
		}
		n += wb_cgroup_slot_procs_fds(s->spare_cg, fds + n);
	}
	rc = wb_fdpass_send(s->zsock, &m, sizeof(m), fds, n);
	if (rc < 0) {
		wb_cgroup_slot_close(s->spare_cg);
		s->spare_cg = NULL;
		return rc;
	}
	s->spares++;
	return 0;
}

/* Before the job is sent: a job nobody can watch must not start. */
static int init_run_handles(struct run *r, uv_loop_t *loop)
{
	int rc;

	r->sock_poll.data = r->out_poll.data = r->err_poll.data = r->guard.data = r;
	uv_timer_init(loop, &r->guard);
	r->handles++;
	if ((rc = uv_poll_init(loop, &r->sock_poll, r->sock)) < 0)
		return rc;
	r->handles++;
	if ((rc = uv_poll_init(loop, &r->out_poll, r->out_fd)) < 0)
		return rc;
	r->handles++;
	if ((rc = uv_poll_init(loop, &r->err_poll, r->err_fd)) < 0)
		return rc;
	r->handles++;
	return 0;
}

static void start_watching(struct run *r)
{
	uv_poll_start(&r->sock_poll, UV_READABLE | UV_DISCONNECT, on_report);
	uv_poll_start(&r->out_poll, UV_READABLE | UV_DISCONNECT, on_output);
	uv_poll_start(&r->err_poll, UV_READABLE | UV_DISCONNECT, on_output);
	uv_timer_start(&r->guard, on_guard, r->job->limits.wall_ms + GUARD_MS, 0);
}

int wb_slot_submit(struct wb_slot *s, const struct wb_job *job, const struct wb_policy *policy,
		   bool trace, wb_slot_done_cb done, void *data)
{
	struct wb_msg_job msg = {.type = WB_MSG_JOB};
	int fds[WB_FDPASS_MAX], sp[2] = {-1, -1}, out[2] = {-1, -1}, err[2] = {-1, -1};
	int spec = -1, in = -1, rc;
	size_t nfds = 0, spec_len = 0;
	struct run *r;

	if (!s->ready || s->dead || s->closing || s->run)
		return -EBUSY;
	r = calloc(1, sizeof(*r));
	if (!r)
		return -ENOMEM;
	*r = (struct run){.slot = s, .job = job, .policy = policy, .done = done, .data = data,
			  .trace = trace, .sock = -1, .out_fd = -1, .err_fd = -1, .copy_fd = -1};
	r->r.exit_code = -1;
	r->cgs = s->spare_cg;
	if (r->cgs && (rc = wb_cgroup_slot_prepare(r->cgs, &job->limits, &r->cpu_base)) < 0)
		goto fail;
	if ((rc = spec = wb_wire_encode(job, policy, &spec_len)) < 0)
		goto fail;
	if ((rc = in = open_stdin(job)) < 0)
		goto fail;
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0, sp) < 0 ||
	    pipe2(out, O_CLOEXEC) < 0 || pipe2(err, O_CLOEXEC) < 0) {
		rc = -errno;
		goto fail;
	}
	fcntl(out[0], F_SETFL, O_NONBLOCK);
	fcntl(err[0], F_SETFL, O_NONBLOCK);
	/* The job init's end blocks; ours is polled. */
	fcntl(sp[1], F_SETFL, 0);
	msg.limits = job->limits;
	msg.accounting = slot_accounting(s);
	msg.nproc_extra = geteuid() == 0 ? 0 : ROOTLESS_HELPERS;
	msg.cpu_base_ns = r->cpu_base;
	msg.spec_len = spec_len;
	msg.flags = policy->learn ? WB_JOB_LEARN : 0;
	fds[nfds++] = spec;
	fds[nfds++] = sp[1];
	fds[nfds++] = in;
	fds[nfds++] = out[1];
	fds[nfds++] = err[1];
	if (r->cgs) {
		msg.flags |= WB_JOB_CPU_FD;
		fds[nfds++] = wb_cgroup_slot_cpu_fd(r->cgs);
	}
	r->sock = sp[0];
	r->out_fd = out[0];
	r->err_fd = err[0];
	if ((rc = init_run_handles(r, s->loop)) == 0) {
		r->sent_ns = msg.sent_ns = wb_clock_now_ns();
		rc = wb_fdpass_send(s->ctl, &msg, sizeof(msg), fds, nfds);
	}
	close_fds((int[]){spec, in, sp[1], out[1], err[1]}, 5);
	if (rc < 0) {
		/* Nothing was sent: the run goes with its handles. */
		close_fds((int[]){sp[0], out[0], err[0]}, 3);
		if (r->handles)
			close_run_handles(r);
		else
			free(r);
		return rc;
	}
	s->spare_ready = false;
	s->spare_cg = NULL;
	start_watching(r);
	s->run = r;
	/* The job is on its way: now the cgroup of the spare after it. */
	if ((rc = send_spare_cgroup(s)) < 0)
		s->spare_err = rc;
	return 0;
fail:
	close_fds((int[]){spec, in, sp[0], sp[1], out[0], out[1], err[0], err[1]}, 8);
	free(r);
	return rc;
}

/* ---- the zygote ---- */

static void slot_handle_closed(uv_handle_t *h)
{
	struct wb_slot *s = h->data;
	siginfo_t info;

	if (--s->handles > 0)
		return;
	/* SIGKILLed: the wait is short, and when it returns every process of
	 * every job of this zygote is gone, so the cgroup can be removed. */
	if (!s->reaped && s->pidfd >= 0) {
		/* uv_poll made the pidfd non-blocking; this wait must block. */
		fcntl(s->pidfd, F_SETFL, 0);
		while (waitid(P_PIDFD, (id_t)s->pidfd, &info, WEXITED) < 0 && errno == EINTR)
			;
	}
	if (s->pidfd >= 0)
		close(s->pidfd);
	if (s->ctl >= 0)
		close(s->ctl);
	if (s->zsock >= 0)
		close(s->zsock);
	wb_cgroup_slot_close(s->spare_cg);
	free(s);
}

static void slot_died(struct wb_slot *s, int err)
{
	if (s->dead)
		return;
	s->dead = true;
	if (s->pidfd >= 0 && !s->reaped)
		syscall(SYS_pidfd_send_signal, s->pidfd, SIGKILL, NULL, 0);
	if (s->run)
		s->run->fail = s->why;
	if (!s->closing && s->cb)
		s->cb(s, err, s->why, s->data);
}

static void on_ctl(uv_poll_t *h, int status, int events)
{
	struct wb_slot *s = h->data;
	struct wb_msg_fail m = {0};
	ssize_t n;

	(void)status;
	(void)events;
	n = wb_fdpass_recv(s->ctl, &m, sizeof(m), NULL, NULL);
	if (n == -EAGAIN || n == -EINTR)
		return;
	if (n == (ssize_t)sizeof(m) && m.type == WB_MSG_SPARE_READY) {
		s->ready = true;
		s->spare_ready = true;
		if (s->cb)
			s->cb(s, 0, NULL, s->data);
		return;
	}
	uv_poll_stop(h);
	if (n == (ssize_t)sizeof(m) && m.type == WB_MSG_ZYGOTE_FAILED) {
		snprintf(s->why, sizeof(s->why), "sandbox: zygote: %s: %s",
			 wb_stage_name((enum wb_stage)m.stage), strerror(m.err));
		slot_died(s, m.err > 0 ? -m.err : -EIO);
		return;
	}
	slot_died(s, -EPIPE);
}

static void on_exit_poll(uv_poll_t *h, int status, int events)
{
	struct wb_slot *s = h->data;
	siginfo_t info;

	(void)status;
	(void)events;
	memset(&info, 0, sizeof(info));
	if (waitid(P_PIDFD, (id_t)s->pidfd, &info, WEXITED | WNOHANG) == 0 && info.si_pid != 0)
		s->reaped = true;
	uv_poll_stop(h);
	slot_died(s, -EPIPE);
}

/* In the cloned child: only ctl and zsock stay open, as fds 3 and 4. */
static _Noreturn void zygote_child(int ctl, int zsock, const struct wb_slot *s)
{
	struct wb_zygote_cfg z = {.ctl = 3, .zsock = 4, .binds = s->cfg.binds, .nbinds = s->cfg.nbinds};
	int parked[2];

	/* Parked above both targets first, so neither dup2 overwrites the other. */
	if ((parked[0] = fcntl(ctl, F_DUPFD_CLOEXEC, 5)) < 0 || (parked[1] = fcntl(zsock, F_DUPFD_CLOEXEC, 5)) < 0 ||
	    dup2(parked[0], 3) < 0 || dup2(parked[1], 4) < 0)
		_exit(1);
	if (syscall(SYS_close_range, 5, ~0U, 0) < 0)
		_exit(1);
	wb_zygote_main(&z);
}

int wb_slot_start(uv_loop_t *loop, const struct wb_slot_cfg *cfg, wb_slot_state_cb cb, void *data,
		  struct wb_slot **out, char *err, size_t errlen)
{
	struct wb_slot *s = calloc(1, sizeof(*s));
	uint32_t maps = WB_MSG_MAPS_WRITTEN;
	int ctl[2] = {-1, -1}, zsock[2] = {-1, -1}, pidfd = -1, rc;
	struct wb_clone_args args = {0};
	const char *step = "socketpair";
	pid_t pid;

	*out = NULL;
	if (!s)
		return -ENOMEM;
	s->loop = loop;
	s->cfg = *cfg;
	s->cb = cb;
	s->data = data;
	s->pidfd = s->ctl = s->zsock = -1;
	snprintf(s->why, sizeof(s->why), "sandbox: the zygote died");
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, ctl) < 0 ||
	    socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, zsock) < 0) {
		rc = -errno;
		goto fail;
	}
	/* No cgroup namespace here: each job init makes its own, rooted at
	 * its job's cgroup, and the zygote must see the job cgroups to clone
	 * spares into them (nsdelegate). */
	args.flags = CLONE_NEWUSER | CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWIPC | CLONE_NEWUTS |
		     CLONE_PIDFD | (cfg->network ? 0 : CLONE_NEWNET);
	args.pidfd = (uint64_t)(uintptr_t)&pidfd;
	args.exit_signal = SIGCHLD;
	pid = wb_clone3(&args);
	if (pid < 0) {
		rc = -errno;
		step = "clone zygote";
		goto fail;
	}
	if (pid == 0)
		zygote_child(ctl[1], zsock[1], s);
	s->pid = pid;
	s->pidfd = pidfd;
	close(ctl[1]);
	close(zsock[1]);
	ctl[1] = zsock[1] = -1;
	s->ctl = ctl[0];
	s->zsock = zsock[0];
	rc = wb_userns_write_maps(pid, geteuid() != 0, cfg->idx);
	if (rc < 0) {
		step = "uid/gid map";
		goto kill;
	}
	if ((rc = wb_fdpass_send(s->zsock, &maps, sizeof(maps), NULL, 0)) < 0) {
		step = "zygote sync";
		goto kill;
	}
	if ((rc = send_spare_cgroup(s)) < 0) {
		step = "cgroup";
		goto kill;
	}
	fcntl(s->ctl, F_SETFL, O_NONBLOCK);
	uv_poll_init(loop, &s->ctl_poll, s->ctl);
	uv_poll_init(loop, &s->pid_poll, s->pidfd);
	s->ctl_poll.data = s->pid_poll.data = s;
	s->handles = 2;
	uv_poll_start(&s->ctl_poll, UV_READABLE | UV_DISCONNECT, on_ctl);
	uv_poll_start(&s->pid_poll, UV_READABLE, on_exit_poll);
	*out = s;
	return 0;
kill:
	syscall(SYS_pidfd_send_signal, pidfd, SIGKILL, NULL, 0);
	waitid(P_PIDFD, (id_t)pidfd, &(siginfo_t){0}, WEXITED);
	close(pidfd);
	s->pidfd = -1;
fail:
	snprintf(err, errlen, "sandbox: %s: %s", step, strerror(-rc));
	close_fds((int[]){ctl[0], ctl[1], zsock[0], zsock[1]}, 4);
	wb_cgroup_slot_close(s->spare_cg);
	free(s);
	return rc;
}

void wb_slot_kill_job(struct wb_slot *s)
{
	if (s && s->run)
		send_kill(s->run);
}

bool wb_slot_spare_ready(const struct wb_slot *s)
{
	return s->spare_ready && !s->run && !s->dead;
}

void wb_slot_close(struct wb_slot *s)
{
	if (!s || s->closing)
		return;
	s->closing = true;
	if (s->pidfd >= 0 && !s->reaped)
		syscall(SYS_pidfd_send_signal, s->pidfd, SIGKILL, NULL, 0);
	if (s->run) {
		if (!s->run->fail)
			s->run->fail = "sandbox: the manager closed the zygote";
		run_finish(s->run);
	}
	uv_close((uv_handle_t *)&s->ctl_poll, slot_handle_closed);
	uv_close((uv_handle_t *)&s->pid_poll, slot_handle_closed);
}
