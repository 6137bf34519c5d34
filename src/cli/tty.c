/* tty.c: warmbox run --tty's side of the job's terminal.
 *
 * A module of the CLI, not of the slot's run (manager/run.c): the operator's
 * terminal is warmbox run's alone (the daemon has none), and keeping it
 * here leaves the slot's protocol as it was but for one flag. The relay
 * runs on warmbox run's own loop and never blocks it on the terminal: it
 * reads and writes descriptors of its own, opened anew on the terminal
 * and non-blocking (as libuv's uv_tty_init does, so that the shell which
 * shares ours does not find its descriptors changed), and holds at most
 * one buffer per direction: while one is full its source is not read. */
#include "cli/tty.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <termios.h>
#include <unistd.h>

#include "proto/fdpass.h"
#include "proto/wire.h"

#define RELAY_BUF 16384
/* At the end, how long a terminal that takes no output may hold up the
 * result, per write; and how much of what the pty holds is passed on. */
#define DRAIN_WAIT_MS 2000
#define DRAIN_MAX_READS 256

enum { H_CHAN = 1, H_IN = 2, H_OUT = 4, H_MASTER = 8, H_WINCH = 16 };

struct relay_buf {
	char data[RELAY_BUF];
	size_t off, len;
};

struct wb_tty {
	struct termios saved;
	int chan;                 /* our end of the tty channel */
	int master;               /* the job's pty, from the job init */
	int in_fd, out_fd;        /* the operator's terminal, read; the job's output, written */
	bool out_polled;          /* out_fd is a terminal: polled; else written in full */
	bool own_in, own_out;     /* in_fd, out_fd are ours to close */
	uv_poll_t chan_poll, in_poll, out_poll, master_poll;
	uv_signal_t winch;
	unsigned opened;          /* H_* initialised, not yet closed */
	bool relaying, finished, in_eof, master_eof;
	bool out_gone;            /* output is dropped: nobody takes it */
	struct relay_buf to_job, to_term;
	wb_tty_gone_cb gone;
	void *data;
};

/* What the fatal-signal handler puts back: one terminal per process. */
static const int fatal_signals[] = {
	SIGQUIT, SIGILL, SIGTRAP, SIGABRT, SIGBUS, SIGFPE, SIGSEGV, SIGUSR1, SIGUSR2, SIGALRM,
	SIGSTKFLT, SIGXCPU, SIGXFSZ, SIGVTALRM, SIGPROF, SIGIO, SIGPWR, SIGSYS,
};
#define NFATAL (sizeof(fatal_signals) / sizeof(fatal_signals[0]))
static struct {
	struct termios saved;
	int nb_fd[2], nb_flags[2]; /* shared descriptors we made non-blocking */
	struct sigaction old[NFATAL], old_pipe;
} term = {.nb_fd = {-1, -1}};
/* Set before the first change to the terminal, cleared by the restore. */
static volatile sig_atomic_t term_changed;

/* Async-signal-safe: tcsetattr and fcntl only. Through fd 0: settings
 * are the terminal's, whichever descriptor names it. */
static void restore_terminal(void)
{
	if (!term_changed)
		return;
	term_changed = 0;
	tcsetattr(0, TCSANOW, &term.saved);
	/* Last changed first: stdin and stdout may share one description,
	 * and stdout's saved flags then hold stdin's change. */
	for (int i = 1; i >= 0; i--)
		if (term.nb_fd[i] >= 0)
			fcntl(term.nb_fd[i], F_SETFL, term.nb_flags[i]);
}

/* A signal that ends warmbox without passing through its loop (SIGINT,
 * SIGTERM and SIGHUP do: execute.c) still leaves the terminal as it was;
 * the handler is reset first, so the signal then does what it would. */
static void on_fatal(int sig)
{
	restore_terminal();
	raise(sig);
}

static void catch_fatal(void)
{
	struct sigaction sa, ign;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_fatal;
	sa.sa_flags = SA_RESETHAND | SA_NODEFER;
	sigemptyset(&sa.sa_mask);
	for (size_t i = 0; i < NFATAL; i++)
		sigaction(fatal_signals[i], &sa, &term.old[i]);
	/* Output to a pipe whose reader left is dropped (EPIPE), not fatal. */
	memset(&ign, 0, sizeof(ign));
	ign.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &ign, &term.old_pipe);
}

static void release_fatal(void)
{
	for (size_t i = 0; i < NFATAL; i++)
		sigaction(fatal_signals[i], &term.old[i], NULL);
	sigaction(SIGPIPE, &term.old_pipe, NULL);
}

int wb_tty_open(struct wb_tty **out)
{
	struct wb_tty *t;
	struct termios tio;

	if (!isatty(0))
		return -ENOTTY;
	if (tcgetattr(0, &tio) < 0)
		return -errno;
	t = calloc(1, sizeof(*t));
	if (!t)
		return -ENOMEM;
	t->saved = tio;
	t->chan = t->master = t->in_fd = t->out_fd = -1;
	*out = t;
	return 0;
}

static void window_size(int fd, struct wb_msg_tty *m)
{
	struct winsize ws;

	if (ioctl(fd, TIOCGWINSZ, &ws) == 0) {
		m->rows = ws.ws_row;
		m->cols = ws.ws_col;
	}
}

int wb_tty_channel(struct wb_tty *t)
{
	struct wb_msg_tty m = {.type = WB_MSG_TTY_SIZE};
	int sp[2], rc;

	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sp) < 0)
		return -errno;
	window_size(0, &m);
	if ((rc = wb_fdpass_send(sp[0], &m, sizeof(m), NULL, 0)) < 0 ||
	    fcntl(sp[0], F_SETFL, O_NONBLOCK) < 0) {
		rc = rc < 0 ? rc : -errno;
		close(sp[0]);
		close(sp[1]);
		return rc;
	}
	t->chan = sp[0];
	return sp[1];
}

/* fd anew, non-blocking, or fd itself made non-blocking when it cannot be
 * reopened (a terminal another uid owns: after su, or setpriv in the
 * tests); its flags then go back with the terminal's settings. */
static int reopen(int fd, int mode, int slot, bool *own)
{
	char path[32];
	int nfd, flags;

	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	nfd = open(path, mode | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
	if (nfd >= 0) {
		*own = true;
		return nfd;
	}
	*own = false;
	flags = fcntl(fd, F_GETFL);
	if (flags < 0)
		return -errno;
	term.nb_fd[slot] = fd;
	term.nb_flags[slot] = flags;
	if (fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0)
		return -errno;
	return fd;
}

/* As ssh's client does: bytes through unchanged both ways (^C, ^Z and ^\
 * go to the job's terminal, which makes them signals there), no echo: the
 * job's terminal echoes. The character size and parity stay. */
static int enter_raw(struct wb_tty *t)
{
	struct termios raw = t->saved;

	raw.c_iflag &= ~(tcflag_t)(IGNBRK | BRKINT | PARMRK | ISTRIP | INLCR | IGNCR | ICRNL | IXON | IXANY | IXOFF);
	raw.c_oflag &= ~(tcflag_t)OPOST;
	raw.c_lflag &= ~(tcflag_t)(ECHO | ECHOE | ECHOK | ECHONL | ICANON | ISIG | IEXTEN);
	raw.c_cc[VMIN] = 1;
	raw.c_cc[VTIME] = 0;
	if (tcsetattr(t->in_fd, TCSANOW, &raw) < 0)
		return -errno;
	return 0;
}

static void sync_size(struct wb_tty *t)
{
	struct wb_msg_tty m = {0};
	struct winsize ws;

	window_size(t->in_fd, &m);
	if (m.rows || m.cols) {
		memset(&ws, 0, sizeof(ws));
		ws.ws_row = m.rows;
		ws.ws_col = m.cols;
		/* The kernel sends SIGWINCH to the job's foreground, as on any
		 * terminal that changes size. */
		ioctl(t->master, TIOCSWINSZ, &ws);
	}
}

/* Writes what waits for the terminal. wait_ms: how long to wait for a
 * terminal that takes nothing now (0: return and let the loop wait). A
 * descriptor written in full blocks instead. Output nobody can take (the
 * reader of a pipe left, the terminal hung up) is dropped. */
static void flush_to_term(struct wb_tty *t, int wait_ms)
{
	struct relay_buf *b = &t->to_term;
	struct pollfd p = {.fd = t->out_fd, .events = POLLOUT};

	while (b->len && !t->out_gone) {
		ssize_t n = write(t->out_fd, b->data + b->off, b->len);

		if (n > 0) {
			b->off += (size_t)n;
			b->len -= (size_t)n;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN && !t->out_polled && poll(&p, 1, -1) >= 0)
			continue;
		if (n < 0 && errno == EAGAIN && wait_ms == 0)
			return;
		if (n < 0 && errno == EAGAIN && poll(&p, 1, wait_ms) > 0)
			continue;
		t->out_gone = true;
	}
	b->len = b->off = 0;
}

static void flush_to_job(struct wb_tty *t)
{
	struct relay_buf *b = &t->to_job;

	while (b->len) {
		ssize_t n = write(t->master, b->data + b->off, b->len);

		if (n > 0) {
			b->off += (size_t)n;
			b->len -= (size_t)n;
		} else if (n < 0 && errno == EAGAIN) {
			return;
		} else if (!(n < 0 && errno == EINTR)) {
			/* The job's side of the pty is closed: nobody reads. */
			b->len = 0;
		}
	}
	b->off = 0;
}

/* Into an empty to_term. EIO (or 0): every holder of the pty's other side
 * has closed it, which for the job's own terminal means it has ended. */
static void read_master(struct wb_tty *t)
{
	ssize_t n = read(t->master, t->to_term.data, sizeof(t->to_term.data));

	if (n > 0) {
		t->to_term.off = 0;
		t->to_term.len = (size_t)n;
	} else if (n == 0 || (errno != EAGAIN && errno != EINTR)) {
		t->master_eof = true;
	}
}

static void on_master(uv_poll_t *h, int status, int events);
static void on_in(uv_poll_t *h, int status, int events);
static void on_out(uv_poll_t *h, int status, int events);

static void want(struct wb_tty *t, uv_poll_t *p, unsigned bit, int events, uv_poll_cb cb)
{
	if (!(t->opened & bit))
		return;
	if (events)
		uv_poll_start(p, events, cb);
	else
		uv_poll_stop(p);
}

/* Each source is read only while its buffer is empty, each sink polled
 * only while something waits for it. */
static void update(struct wb_tty *t)
{
	int m = 0;

	if (!t->master_eof && !t->to_term.len)
		m |= UV_READABLE;
	if (!t->master_eof && t->to_job.len)
		m |= UV_WRITABLE;
	want(t, &t->master_poll, H_MASTER, m, on_master);
	want(t, &t->in_poll, H_IN, !t->in_eof && !t->to_job.len ? UV_READABLE : 0, on_in);
	want(t, &t->out_poll, H_OUT, t->to_term.len ? UV_WRITABLE : 0, on_out);
}

static void on_master(uv_poll_t *h, int status, int events)
{
	struct wb_tty *t = h->data;

	if (status < 0)
		t->master_eof = true;
	if (events & UV_WRITABLE)
		flush_to_job(t);
	if ((events & UV_READABLE) && !t->master_eof && !t->to_term.len) {
		read_master(t);
		flush_to_term(t, 0);
	}
	if (t->master_eof)
		t->to_job.len = 0;
	update(t);
}

static void on_out(uv_poll_t *h, int status, int events)
{
	struct wb_tty *t = h->data;

	(void)events;
	if (status < 0)
		t->to_term.len = 0;
	flush_to_term(t, 0);
	update(t);
}

static void on_in(uv_poll_t *h, int status, int events)
{
	struct wb_tty *t = h->data;
	ssize_t n;

	(void)status;
	(void)events;
	if (t->to_job.len) {
		update(t);
		return;
	}
	n = read(t->in_fd, t->to_job.data, sizeof(t->to_job.data));
	if (n > 0) {
		t->to_job.off = 0;
		t->to_job.len = (size_t)n;
		if (!t->master_eof)
			flush_to_job(t);
		else
			t->to_job.len = 0;
	} else if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
		/* Nothing after all: wait again. */
	} else {
		/* In raw mode ^D is a byte like any other: an end of input is
		 * the terminal itself going away. */
		t->in_eof = true;
		update(t);
		t->gone("interrupted: the terminal hung up", t->data);
		return;
	}
	update(t);
}

static void on_winch(uv_signal_t *h, int signum)
{
	(void)signum;
	sync_size(h->data);
}

static int init_poll(struct wb_tty *t, uv_loop_t *loop, uv_poll_t *p, int fd, unsigned bit)
{
	int rc = uv_poll_init(loop, p, fd);

	if (rc < 0)
		return rc;
	p->data = t;
	t->opened |= bit;
	return 0;
}

static int begin_relay(struct wb_tty *t, uv_loop_t *loop)
{
	int rc;

	if (fcntl(t->master, F_SETFL, O_NONBLOCK) < 0)
		return -errno;
	/* From here on every way out restores: the flags of shared
	 * descriptors, the settings, the signals' dispositions. */
	term.saved = t->saved;
	catch_fatal();
	term_changed = 1;
	t->relaying = true;
	if ((rc = t->in_fd = reopen(0, O_RDONLY, 0, &t->own_in)) < 0)
		return rc;
	if (isatty(1)) {
		if ((rc = t->out_fd = reopen(1, O_WRONLY, 1, &t->own_out)) < 0)
			return rc;
		t->out_polled = true;
	} else {
		t->out_fd = 1;
	}
	/* It may have changed since the job was sent. */
	sync_size(t);
	if ((rc = enter_raw(t)) < 0)
		return rc;
	if ((rc = init_poll(t, loop, &t->master_poll, t->master, H_MASTER)) < 0 ||
	    (rc = init_poll(t, loop, &t->in_poll, t->in_fd, H_IN)) < 0 ||
	    (t->out_polled && (rc = init_poll(t, loop, &t->out_poll, t->out_fd, H_OUT)) < 0))
		return rc;
	uv_signal_init(loop, &t->winch);
	t->winch.data = t;
	t->opened |= H_WINCH;
	if ((rc = uv_signal_start(&t->winch, on_winch, SIGWINCH)) < 0)
		return rc;
	update(t);
	return 0;
}

static void on_chan(uv_poll_t *h, int status, int events)
{
	struct wb_tty *t = h->data;
	struct wb_msg_tty m;
	size_t nfd = 1;
	ssize_t n;
	int rc;

	(void)status;
	(void)events;
	n = wb_fdpass_recv(t->chan, &m, sizeof(m), &t->master, &nfd);
	if (n == -EAGAIN || n == -EINTR)
		return;
	/* Once: the master, or the job init gave up before it (its report
	 * says why). */
	uv_close((uv_handle_t *)h, NULL);
	t->opened &= ~(unsigned)H_CHAN;
	if (nfd != 1) {
		t->master = -1;
		return;
	}
	if (n != (ssize_t)sizeof(m) || m.type != WB_MSG_TTY_MASTER) {
		close(t->master);
		t->master = -1;
		return;
	}
	if ((rc = begin_relay(t, h->loop)) < 0) {
		static char why[96];

		snprintf(why, sizeof(why), "sandbox: cannot relay the terminal: %s", strerror(-rc));
		t->gone(why, t->data);
	}
}

int wb_tty_start(struct wb_tty *t, uv_loop_t *loop, wb_tty_gone_cb gone, void *data)
{
	int rc;

	t->gone = gone;
	t->data = data;
	if ((rc = init_poll(t, loop, &t->chan_poll, t->chan, H_CHAN)) < 0)
		return rc;
	return uv_poll_start(&t->chan_poll, UV_READABLE, on_chan);
}

int wb_tty_start_master(struct wb_tty *t, uv_loop_t *loop, int master, wb_tty_gone_cb gone, void *data)
{
	t->gone = gone;
	t->data = data;
	t->master = master;
	return begin_relay(t, loop);
}

/* The job init reports only once every process of the job is reaped, so
 * by now the pty's other side is closed: reading gives what it still
 * holds, then EIO. Interrupted, the job may still run: EAGAIN ends it. */
static void drain(struct wb_tty *t)
{
	flush_to_term(t, DRAIN_WAIT_MS);
	for (int i = 0; i < DRAIN_MAX_READS && !t->master_eof; i++) {
		read_master(t);
		if (!t->to_term.len)
			break;
		flush_to_term(t, DRAIN_WAIT_MS);
	}
}

void wb_tty_finish(struct wb_tty *t)
{
	uv_handle_t *handles[5];

	if (!t || t->finished)
		return;
	/* In the order of the H_* bits. */
	handles[0] = (uv_handle_t *)&t->chan_poll;
	handles[1] = (uv_handle_t *)&t->in_poll;
	handles[2] = (uv_handle_t *)&t->out_poll;
	handles[3] = (uv_handle_t *)&t->master_poll;
	handles[4] = (uv_handle_t *)&t->winch;
	t->finished = true;
	if (t->relaying)
		drain(t);
	restore_terminal();
	if (t->relaying)
		release_fatal();
	for (unsigned i = 0; i < sizeof(handles) / sizeof(handles[0]); i++)
		if (t->opened & (1u << i))
			uv_close(handles[i], NULL);
	t->opened = 0;
}

void wb_tty_free(struct wb_tty *t)
{
	if (!t)
		return;
	restore_terminal();
	if (t->chan >= 0)
		close(t->chan);
	if (t->master >= 0)
		close(t->master);
	if (t->own_in)
		close(t->in_fd);
	if (t->own_out)
		close(t->out_fd);
	free(t);
}
