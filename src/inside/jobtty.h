/* jobtty.h: the terminal of a warmbox run --tty job (wire.h WB_JOB_TTY),
 * made by its job init: a /dev of the job's own with a private devpts. */
#ifndef WB_JOBTTY_H
#define WB_JOBTTY_H

/* Reads the window size from chan, mounts the job's /dev (the usual nodes
 * plus pts/ and ptmx), opens a pty there, sends its master back on chan
 * and returns the other side, owned by the job's uid, in *slave. 0, or
 * -errno with *stage (wire.h enum wb_stage) saying which step failed.
 * Runs in the job init, in the job's mount namespace, before the fork. */
int wb_jobtty_make(int chan, int *slave, int *stage);

#endif
