/* run.c: the job in flight on one slot: sending it with its descriptors,
 * reading its output and the job init's report, the guard timer, and the
 * result (manager/verdict.c says which). */
#include "manager/slot_impl.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/syscall.h>

#include "core/clock.h"
#include "manager/copyout.h"
#include "manager/verdict.h"
#include "manager/pasta.h"
#include "proto/fdpass.h"

/* How long past its wall limit a job may stay silent before the manager
 * gives up on the zygote and kills it. */
#define GUARD_MS 5000
#define READ_CHUNK 65536
/* Our own processes that share the job's uid when rootless (the zygote,
 * suspended, and this job's init): RLIMIT_NPROC counts them too. */
#define ROOTLESS_HELPERS 2

static void sandbox_error(struct run *r, const char *what)
{
	r->r.status = WB_STATUS_XX;
	free(r->r.error);
	r->r.error = strdup(what);
}

static void build_result(struct run *r)
{
	struct wb_result *res = &r->r;
	struct wb_cgroup_usage use = {0};
	struct wb_job_end end = {.report = r->got_result ? &r->res : NULL, .lost = r->fail,
				 .zygote_gone = r->zygote_gone};

	res->id = r->job->id;
	res->accounting = wb_accounting_name(slot_accounting(r->slot));
	if (r->cgs) {
		end.cgroup = &use;
		end.cgroup_err = wb_cgroup_slot_collect(r->cgs, r->cpu_base, &use);
	}
	if (!wb_verdict_apply(r->job, &end, res))
		return;
	if (r->copy_fd >= 0 && (r->res.flags & WB_RES_LEARNED) && wb_copyout_read_learned(r->copy_fd, res) < 0)
		sandbox_error(r, "sandbox: cannot read what warmbox learn counted");
	else if (r->copy_fd >= 0 && !(r->res.flags & WB_RES_LEARNED) &&
		 wb_copyout_read(r->copy_fd, r->job->ncopy_out, res) < 0)
		sandbox_error(r, "sandbox: cannot read copy_out");
	if (r->trace)
		wb_verdict_trace(&r->res, r->sent_ns, res);
}

static void run_handle_closed(uv_handle_t *h)
{
	struct run *r = h->data;

	if (--r->handles == 0)
		free(r);
}

/* The polls on the report socket, stdout and stderr: opened by
 * init_run_handles, which marks each in r->polls (stdout's is not when it
 * is wired to the other side of an interactive job); the guard timer is
 * opened first and always. */
#define RUN_POLLS 3
static uv_poll_t *run_poll(struct run *r, int i)
{
	return i == 0 ? &r->sock_poll : i == 1 ? &r->out_poll : &r->err_poll;
}

/* Closes the guard and the polls init_run_handles opened; the run is freed
 * with the last one (run_handle_closed). */
static void close_run_handles(struct run *r)
{
	r->handles = 1;
	for (int i = 0; i < RUN_POLLS; i++)
		r->handles += (r->polls >> i) & 1;
	uv_close((uv_handle_t *)&r->guard, run_handle_closed);
	for (int i = 0; i < RUN_POLLS; i++)
		if (r->polls & (1u << i))
			uv_close((uv_handle_t *)run_poll(r, i), run_handle_closed);
}

void run_finish(struct run *r)
{
	struct wb_slot *s = r->slot;
	struct wb_result *res;

	if (r->finished)
		return;
	r->finished = true;
	build_result(r);
	close_run_handles(r);
	close(r->sock);
	if (r->out_fd >= 0)
		close(r->out_fd);
	close(r->err_fd);
	if (r->copy_fd >= 0)
		close(r->copy_fd);
	wb_cgroup_slot_close(r->cgs);
	r->cgs = NULL;
	wb_pasta_stop(r->pasta);
	r->pasta = NULL;
	s->pid_owed = !r->init_pid;
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

static void on_guard(uv_timer_t *t)
{
	struct run *r = t->data;

	r->fail = "sandbox: the job did not end within its wall limit; its zygote was killed";
	if (r->slot->pidfd >= 0)
		syscall(SYS_pidfd_send_signal, r->slot->pidfd, SIGKILL, NULL, 0);
}

static void on_network(struct wb_pasta *p, int err, const char *msg, void *data)
{
	struct run *r = data;
	uint32_t up = WB_MSG_NET_UP;

	(void)p;
	if (err == 0 && wb_fdpass_send(r->sock, &up, sizeof(up), NULL, 0) == 0) {
		/* The wall limit starts now for the job; so does its guard. */
		uv_timer_start(&r->guard, on_guard, r->job->limits.wall_ms + GUARD_MS, 0);
		return;
	}
	snprintf(r->why, sizeof(r->why), "%s", err ? msg : "network: the job init is gone");
	r->fail = r->why;
	send_kill(r);
}

/* The job init has made its network namespace: pasta goes into it. */
static void start_network(struct run *r)
{
	int rc = -ESRCH;

	if (r->pasta || !r->job->network) {
		snprintf(r->why, sizeof(r->why), "sandbox: the job init asked for a network it was not given");
	} else if (r->init_pid <= 0) {
		/* Its SPARE_READY, with the pid, is still on its way. */
		r->net_pending = true;
		return;
	} else
		rc = wb_pasta_start(r->slot->loop, r->init_pid, on_network, r, &r->pasta, r->why, sizeof(r->why));
	if (rc == 0)
		return;
	r->fail = r->why;
	send_kill(r);
}

void run_pid_known(struct run *r, pid_t pid)
{
	r->init_pid = pid;
	if (r->net_pending) {
		r->net_pending = false;
		start_network(r);
	}
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
	if (n == (ssize_t)sizeof(uint32_t) && r->res.type == WB_MSG_NET_READY && !r->got_result) {
		start_network(r);
		return;
	}
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
	if (fcntl(fd, F_ADD_SEALS, WB_WIRE_SEALS) < 0) {
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

/* Before the job is sent: a job nobody can watch must not start. */
static int init_run_handles(struct run *r, uv_loop_t *loop)
{
	const int fds[RUN_POLLS] = {r->sock, r->out_fd, r->err_fd};
	int rc;

	r->guard.data = r;
	uv_timer_init(loop, &r->guard);
	r->opened = true;
	for (int i = 0; i < RUN_POLLS; i++) {
		if (fds[i] < 0)
			continue;
		if ((rc = uv_poll_init(loop, run_poll(r, i), fds[i])) < 0)
			return rc;
		run_poll(r, i)->data = r;
		r->polls |= 1u << i;
	}
	return 0;
}

static void start_watching(struct run *r)
{
	uv_poll_start(&r->sock_poll, UV_READABLE | UV_DISCONNECT, on_report);
	if (r->out_fd >= 0)
		uv_poll_start(&r->out_poll, UV_READABLE | UV_DISCONNECT, on_output);
	uv_poll_start(&r->err_poll, UV_READABLE | UV_DISCONNECT, on_output);
	uv_timer_start(&r->guard, on_guard, r->job->limits.wall_ms + GUARD_MS, 0);
}

_Static_assert(WB_JOBFD_FIXED + 1 + WB_MAX_REFS <= WB_FDPASS_MAX, "a job's descriptors fit one message");

int wb_slot_submit(struct wb_slot *s, const struct wb_job *job, const struct wb_policy *policy,
		   const struct wb_slot_wiring *wiring, bool trace, wb_slot_done_cb done, void *data)
{
	struct wb_msg_job msg = {.type = WB_MSG_JOB, .cpu = wiring ? wiring->cpu : -1};
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
	/* Without a spare ready, the next one takes the job: its pid comes
	 * with its SPARE_READY (slot.c), never the last spare's. */
	r->init_pid = s->spare_ready ? s->spare_pid : 0;
	s->spare_pid = 0;
	if (r->cgs && (rc = wb_cgroup_slot_prepare(r->cgs, &job->limits, &r->cpu_base)) < 0)
		goto fail;
	if ((rc = spec = wb_wire_encode(job, policy, &spec_len)) < 0)
		goto fail;
	if (!wiring && (rc = in = open_stdin(job)) < 0)
		goto fail;
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0, sp) < 0 ||
	    (!wiring && pipe2(out, O_CLOEXEC) < 0) || pipe2(err, O_CLOEXEC) < 0) {
		rc = -errno;
		goto fail;
	}
	if (!wiring)
		fcntl(out[0], F_SETFL, O_NONBLOCK);
	fcntl(err[0], F_SETFL, O_NONBLOCK);
	/* The job init's end blocks; ours is polled. */
	fcntl(sp[1], F_SETFL, 0);
	msg.limits = job->limits;
	msg.accounting = slot_accounting(s);
	msg.nproc_extra = geteuid() == 0 ? 0 : ROOTLESS_HELPERS;
	msg.cpu_base_ns = r->cpu_base;
	msg.spec_len = spec_len;
	msg.flags = (policy->learn ? WB_JOB_LEARN : 0) |
		    (wiring ? (wiring->tty ? WB_JOB_TTY : WB_JOB_INTERACTIVE) : 0) |
		    (job->network ? WB_JOB_NETWORK : 0);
	fds[nfds++] = spec;
	fds[nfds++] = sp[1];
	fds[nfds++] = wiring ? wiring->in_fd : in;
	fds[nfds++] = wiring ? wiring->out_fd : out[1];
	fds[nfds++] = err[1];
	if (r->cgs) {
		msg.flags |= WB_JOB_CPU_FD;
		fds[nfds++] = wb_cgroup_slot_cpu_fd(r->cgs);
	}
	/* Files by ref: the store's sealed memfds, which the job init copies
	 * into /box (job.c bounds their number to what fits). */
	for (size_t i = 0; i < job->nfiles; i++)
		if (job->files[i].ref && nfds < WB_FDPASS_MAX)
			fds[nfds++] = job->files[i].ref_fd;
	r->sock = sp[0];
	r->out_fd = out[0];
	r->out_eof = r->out_fd < 0;
	r->err_fd = err[0];
	if ((rc = init_run_handles(r, s->loop)) == 0) {
		r->sent_ns = msg.sent_ns = wb_clock_now_ns();
		rc = wb_fdpass_send(s->ctl, &msg, sizeof(msg), fds, nfds);
	}
	slot_close_fds((int[]){spec, in, sp[1], out[1], err[1]}, 5);
	if (rc < 0) {
		/* Nothing was sent: the run goes with its handles. */
		slot_close_fds((int[]){sp[0], out[0], err[0]}, 3);
		if (r->opened)
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
	if ((rc = slot_send_spare_cgroup(s)) < 0)
		s->spare_err = rc;
	return 0;
fail:
	slot_close_fds((int[]){spec, in, sp[0], sp[1], out[0], out[1], err[0], err[1]}, 8);
	free(r);
	return rc;
}

void wb_slot_kill_job(struct wb_slot *s)
{
	if (s && s->run)
		send_kill(s->run);
}
