/* slot.c: one zygote seen from the manager: starting it (clone3 into
 * fresh namespaces, uid maps from outside), its spares' cgroups, noticing
 * its death, closing it. The job it runs is run.c's. */
#include "manager/slot_impl.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "manager/image.h"
#include "manager/userns.h"
#include "proto/clone3.h"
#include "proto/fdpass.h"

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

/* Tells the zygote which cgroup its next spare starts in, the one the next
 * job will run in, with the descriptors it needs to put the spare there. */
int slot_send_spare_cgroup(struct wb_slot *s)
{
	struct wb_msg_cgroup m = {.type = WB_MSG_SPARE_CGROUP};
	int fds[WB_SPARE_CGROUP_MAX_FDS];
	size_t n = 0;
	int rc;

	if (s->cfg.cg) {
		rc = wb_cgroup_slot_open(s->cfg.cg, s->cfg.idx, &s->spare_cg);
		if (rc < 0)
			return rc;
		n = wb_cgroup_slot_procs_fds(s->spare_cg, fds);
	}
	rc = wb_fdpass_send(s->zsock, &m, sizeof(m), fds, n);
	if (rc < 0) {
		wb_cgroup_slot_close(s->spare_cg);
		s->spare_cg = NULL;
		return rc;
	}
	return 0;
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

void slot_died(struct wb_slot *s, int err)
{
	if (s->dead)
		return;
	s->dead = true;
	if (s->pidfd >= 0 && !s->reaped)
		syscall(SYS_pidfd_send_signal, s->pidfd, SIGKILL, NULL, 0);
	if (s->run) {
		s->run->fail = s->why;
		s->run->zygote_gone = true;
	}
	if (!s->closing && s->cb)
		s->cb(s, err, s->why, s->data);
}

/* One message from the zygote's side of ctl, with the sender's pid as the
 * kernel gives it in our PID namespace (SO_PASSCRED): a spare job init's
 * pid on the host, which nothing inside the sandbox could report. */
static ssize_t recv_ctl(int sock, struct wb_msg_fail *m, pid_t *pid)
{
	union {
		char buf[CMSG_SPACE(sizeof(struct ucred))];
		struct cmsghdr align;
	} ctrl;
	struct iovec iov = {.iov_base = m, .iov_len = sizeof(*m)};
	struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1,
			     .msg_control = ctrl.buf, .msg_controllen = sizeof(ctrl.buf)};
	struct cmsghdr *c;
	ssize_t n;

	*pid = 0;
	do
		n = recvmsg(sock, &msg, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	for (c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c))
		if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_CREDENTIALS) {
			struct ucred cred;

			memcpy(&cred, CMSG_DATA(c), sizeof(cred));
			*pid = cred.pid;
		}
	return n;
}

static void on_ctl(uv_poll_t *h, int status, int events)
{
	struct wb_slot *s = h->data;
	struct wb_msg_fail m = {0};
	pid_t pid;
	ssize_t n;

	(void)status;
	(void)events;
	n = recv_ctl(s->ctl, &m, &pid);
	if (n == -EAGAIN || n == -EINTR)
		return;
	if (n == (ssize_t)sizeof(m) && m.type == WB_MSG_SPARE_READY) {
		s->ready = true;
		s->spare_ready = true;
		/* A job sent before this spare was ready is this spare's. */
		if (s->run && !s->run->init_pid)
			run_pid_known(s->run, pid);
		else if (s->pid_owed)
			s->pid_owed = false;
		else
			s->spare_pid = pid;
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

/* Rootless, our uid in the namespace is the job's, not 0 (userns.c), and an
 * exec would drop the capabilities the clone gave us there: carried across
 * as ambient ones, which the zygote clears again first thing. */
static int keep_caps_across_exec(void)
{
	struct __user_cap_header_struct hdr = {.version = _LINUX_CAPABILITY_VERSION_3, .pid = 0};
	struct __user_cap_data_struct data[2];

	if (syscall(SYS_capget, &hdr, data) < 0)
		return -errno;
	data[0].inheritable = data[0].permitted;
	data[1].inheritable = data[1].permitted;
	if (syscall(SYS_capset, &hdr, data) < 0)
		return -errno;
	for (int cap = 0; cap <= CAP_LAST_CAP; cap++)
		if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, cap, 0, 0) < 0 && errno != EINVAL)
			return -errno;
	return 0;
}

/* In the cloned child: ctl and zsock as fds 3 and 4, the zygote's program
 * as 5 until its exec (inside/main.c). Not before the uid map is written:
 * an exec in a user namespace where we have no uid yet would drop every
 * capability. argv and envp were made before the clone: no malloc here. */
static _Noreturn void zygote_child(int ctl, int zsock, int image, char *const *argv, char *const *envp)
{
	struct wb_msg_fail f = {.type = WB_MSG_ZYGOTE_FAILED, .stage = WB_STAGE_ZYGOTE_EXEC};
	uint32_t maps = 0;

	/* The manager's death must take us and every job with us. */
	prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
	if (wb_fdpass_place((int[]){ctl, zsock, image}, 3, 3) < 0 || fcntl(5, F_SETFD, FD_CLOEXEC) < 0)
		_exit(1);
	if (wb_fdpass_recv(4, &maps, sizeof(maps), NULL, NULL) != (ssize_t)sizeof(maps) ||
	    maps != WB_MSG_MAPS_WRITTEN)
		_exit(1);
	if ((f.err = -keep_caps_across_exec()) == 0) {
		syscall(SYS_execveat, 5, "", argv, envp, AT_EMPTY_PATH);
		f.err = errno;
	}
	wb_fdpass_send(3, &f, sizeof(f), NULL, 0);
	_exit(1);
}

/* The WB_MSG_ZYGOTE_FAILED a dead zygote left on ctl, if any: "zygote:
 * STAGE" in buf, its errno in *rc. */
static bool zygote_said(int ctl, char *buf, size_t len, int *rc)
{
	struct wb_msg_fail m = {0};

	if (recv(ctl, &m, sizeof(m), MSG_DONTWAIT) != (ssize_t)sizeof(m) || m.type != WB_MSG_ZYGOTE_FAILED)
		return false;
	snprintf(buf, len, "zygote: %s", wb_stage_name((enum wb_stage)m.stage));
	*rc = m.err > 0 ? -m.err : -EIO;
	return true;
}

/* The sanitizers' settings of the manager's environment, and nothing else:
 * the zygote's program needs no other, and every job init would hold it. */
static char **zygote_envp(void)
{
	static const char *const keep[] = {"ASAN_OPTIONS=", "UBSAN_OPTIONS=", "LSAN_OPTIONS="};
	char **envp = calloc(sizeof(keep) / sizeof(keep[0]) + 1, sizeof(*envp));
	size_t n = 0;

	if (!envp)
		return NULL;
	for (char **e = environ; *e; e++)
		for (size_t i = 0; i < sizeof(keep) / sizeof(keep[0]); i++)
			if (strncmp(*e, keep[i], strlen(keep[i])) == 0)
				envp[n++] = *e;
	return envp;
}

/* "wb-zygote BIND...": the strings stay the caller's. */
static char **zygote_argv(const struct wb_slot_cfg *cfg)
{
	char **argv = calloc(cfg->nbinds + 2, sizeof(*argv));

	if (!argv)
		return NULL;
	argv[0] = "wb-zygote";
	for (size_t i = 0; i < cfg->nbinds; i++)
		argv[i + 1] = cfg->binds[i];
	return argv;
}

int wb_slot_start(uv_loop_t *loop, const struct wb_slot_cfg *cfg, wb_slot_state_cb cb, void *data,
		  struct wb_slot **out, char *err, size_t errlen)
{
	struct wb_slot *s = calloc(1, sizeof(*s));
	uint32_t maps = WB_MSG_MAPS_WRITTEN;
	int ctl[2] = {-1, -1}, zsock[2] = {-1, -1}, pidfd = -1, image, rc;
	struct wb_clone_args args = {0};
	const char *step = "socketpair";
	char **argv = NULL, **envp = NULL, said[64];
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
	    socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, zsock) < 0 ||
	    setsockopt(ctl[0], SOL_SOCKET, SO_PASSCRED, &(int){1}, sizeof(int)) < 0) {
		rc = -errno;
		goto fail;
	}
	/* No cgroup namespace here: each job init makes its own, rooted at
	 * its job's cgroup, and the zygote must see the job cgroups to clone
	 * spares into them (nsdelegate). */
	args.flags = CLONE_NEWUSER | CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWIPC | CLONE_NEWUTS |
		     CLONE_PIDFD | CLONE_NEWNET;
	args.pidfd = (uint64_t)(uintptr_t)&pidfd;
	args.exit_signal = SIGCHLD;
	if ((image = wb_image_fd()) < 0) {
		rc = image;
		step = rc == -EACCES ? "the zygote's program: the host refuses exec from a memfd (vm.memfd_noexec is 2)"
				     : "the zygote's program (memfd)";
		goto fail;
	}
	if (!(argv = zygote_argv(cfg)) || !(envp = zygote_envp())) {
		rc = -ENOMEM;
		step = "zygote argv";
		goto fail;
	}
	pid = wb_clone3(&args);
	if (pid < 0) {
		rc = -errno;
		step = "clone zygote";
		goto fail;
	}
	if (pid == 0)
		zygote_child(ctl[1], zsock[1], image, argv, envp);
	free(argv);
	free(envp);
	argv = envp = NULL;
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
	if ((rc = slot_send_spare_cgroup(s)) < 0) {
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
	/* A zygote that failed and exited first made our next send fail
	 * (EPIPE); what it said is the cause. */
	if (zygote_said(ctl[0], said, sizeof(said), &rc))
		step = said;
fail:
	snprintf(err, errlen, "sandbox: %s: %s", step, strerror(-rc));
	free(argv);
	free(envp);
	slot_close_fds((int[]){ctl[0], ctl[1], zsock[0], zsock[1]}, 4);
	wb_cgroup_slot_close(s->spare_cg);
	free(s);
	return rc;
}

pid_t wb_slot_job_pid(const struct wb_slot *s)
{
	return s->run ? s->run->init_pid : 0;
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
