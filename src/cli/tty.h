/* tty.h: warmbox run --tty's side of the job's terminal: the operator's
 * terminal (raw while the job runs, restored on every way out), the channel
 * the job init answers with the pty's master, and the relay between the
 * two on warmbox run's libuv loop. */
#ifndef WB_TTY_H
#define WB_TTY_H

#include <uv.h>

struct wb_tty;

/* Takes the terminal on standard input, its settings saved, nothing
 * changed yet. 0; -ENOTTY when standard input is not a terminal; or
 * another -errno. */
int wb_tty_open(struct wb_tty **out);

/* The job's end of a new tty channel (wire.h WB_JOB_TTY), the window size
 * already queued on it; the caller closes it once the job is sent. A
 * descriptor or -errno. */
int wb_tty_channel(struct wb_tty *t);

/* The operator's side went away (end of input: the terminal hung up), or
 * the relay could not start; why says which. The caller ends the job.
 * Called at most once, as the last act of a callback of the relay's. */
typedef void (*wb_tty_gone_cb)(const char *why, void *data);

/* Waits on loop for the master from the channel, then puts the terminal
 * in raw mode and relays until the job ends. 0 or -errno. */
int wb_tty_start(struct wb_tty *t, uv_loop_t *loop, wb_tty_gone_cb gone, void *data);

/* warmbox enter: the pty's master is ours already (no channel): puts the
 * terminal in raw mode and relays until the command ends. The master is
 * the tty's from now on, to close. 0 or -errno. */
int wb_tty_start_master(struct wb_tty *t, uv_loop_t *loop, int master, wb_tty_gone_cb gone, void *data);

/* The job has ended: what the pty still holds is written out, the
 * terminal's settings are restored and the handles closed (the loop must
 * run on until they are). Again or never started: a no-op. */
void wb_tty_finish(struct wb_tty *t);

/* After the loop has ended: the terminal's settings restored, if they
 * were not yet, and everything freed. NULL is a no-op. */
void wb_tty_free(struct wb_tty *t);

#endif
