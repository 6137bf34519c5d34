/* daemonlib.h: a `warmbox serve` that bench_daemon starts, talks to and stops: the daemon
 * process and its files, client connections, jobs driven and checked, the store, log, memory. */
#ifndef DAEMONLIB_H
#define DAEMONLIB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include "benchlib.h"

#define BD_ZYGOTES 2        /* the daemon's --zygotes */
#define BD_MAXCLIENTS 16    /* connections one bd_drive call polls */
#define BD_MAXDEPTH 4       /* jobs in flight per connection */
#define BD_MAXDAEMONS 4     /* daemons running at once */

/* ---- the daemon -------------------------------------------------------- */

struct bd_daemon {
	pid_t pid;               /* the manager; -1 once stopped */
	char tmpdir[64];         /* /tmp/wbbench.XXXXXX, holding the next two */
	char sock[96];
	char log[96];            /* its stdout and stderr */
	char *argv[16];          /* warmbox serve --socket ... */
};

/* Makes d's folder, starts `WARMBOX serve` on its socket (BD_ZYGOTES warm
 * zygotes, the source tree's policies) and returns without waiting: the
 * first bd_client_open does. Until bd_daemon_remove, an exit of this process
 * (bench_die included) kills the daemon and removes the folder. */
void bd_daemon_start(struct bd_daemon *d, const char *warmbox);

/* SIGTERM, then waits for the manager; with o, a line saying how it exited
 * and how long it took. Leaves the log for bd_report_log. */
void bd_daemon_stop(struct bd_daemon *d, FILE *o);

/* Kills the daemon if still running, removes its folder. NULL-safe. */
void bd_daemon_remove(struct bd_daemon *d);

/* The daemon's warnings and errors (its info lines are routine) and a count. */
void bd_report_log(FILE *o, const struct bd_daemon *d);

/* ---- clients and jobs -------------------------------------------------- */

/* A job as the daemon gets it, and what it must answer. */
struct bd_job {
	const char *name;        /* in error messages and reports */
	char *text;              /* the line after its id: "\"argv\":...}\n" */
	size_t len;
	const char *expect;      /* the program's stdout */
};

struct bd_client {
	int fd;
	int id;                  /* ids sent are "cID-SEQ" */
	struct bd_daemon *d;     /* to connect to again */
	struct bench_buf in;
	unsigned long seq;
	int quota, sent, done, inflight;
	struct {
		unsigned long seq;
		uint64_t sent_ns;
	} flight[BD_MAXDEPTH];   /* the jobs in flight, answered in any order */
};

/* Connects to d (waiting up to 20 s for it to listen, dying if it exits). */
void bd_client_open(struct bd_client *c, struct bd_daemon *d, int id);
void bd_client_close(struct bd_client *c);

/* Before the batch, a client the daemon closed while it had nothing in
 * flight (serve's --idle-timeout, 300 s) is connected again, untimed. Then
 * nc clients share `jobs` jobs (the first jobs % nc get one more), each
 * keeping up to depth in flight and sending the next as a result arrives.
 * Every result must be OK with j's stdout, or bench_die. With lat, each
 * job's time from its send to its result line read is stored there, in
 * microseconds, and *nlat set to the count. Returns the batch's elapsed
 * nanoseconds. */
uint64_t bd_drive(struct bd_client *cl, int nc, const struct bd_job *j, int depth, int jobs,
		  double *lat, int *nlat);

/* The accounting the results said ("cgroup", ...; "mixed" once two differ). */
const char *bd_accounting(void);

/* The daemon's {"op":"stats"} answer (caller frees). */
char *bd_stats(struct bd_client *c);

/* Until every zygote is warm (idle, its spare job init waiting), 20 s at most. */
void bd_wait_warm(struct bd_client *c);

/* Puts the hello binary into the daemon's store ({"op":"put"}) and fills j's
 * text with a job that runs it by ref as ./hello, mode 0755. */
void bd_put_hello(struct bd_client *c, const char *hello, struct bd_job *j);

/* ---- memory ------------------------------------------------------------ */

struct bd_mem {
	long priv, pss, rss;     /* KiB */
};

/* Private_Clean + Private_Dirty, Pss and Rss of /proc/PID/smaps_rollup. */
bool bd_smaps(pid_t pid, struct bd_mem *m);

/* A table of the manager's, each zygote's and each spare job init's memory;
 * returns the largest private RSS of a zygote, KiB (-1: none found). */
long bd_report_memory(FILE *o, const struct bd_daemon *d, const char *when);

/* ---- small helpers ----------------------------------------------------- */

/* The whole file (bench_die on error; caller frees). */
char *bd_read_file(const char *path, size_t *len);
void bd_sleep_ms(long ms);

/* ---- the modes --------------------------------------------------------- */

/* bench_daemon's options; -1 where not given, each mode has its defaults. */
struct bd_options {
	const char *out;         /* -o */
	const char *hello;       /* -H */
	const char *warmbox[2];  /* -w, up to twice (scale) */
	int nwarmbox;
	int n, warmup, rounds;   /* -n, -W, -R */
	int nclients[8];         /* -N 1,2,4,8 (scale) */
	int nshapes;             /* of nclients; 0 when not given */
};

/* The scale mode (scale.c): latency and jobs/s against the number of
 * clients, bare, warmbox and bwrap. Returns main's exit status. */
int bd_scale(const struct bd_options *opt, int argc, char **argv);

#endif
