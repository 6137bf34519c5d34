/* benchlib.h: what bench_run and bench_daemon share: errors, the clock, running and timing
 * a command, percentiles, the bwrap command line, the machine facts and the report's end. */
#ifndef BENCHLIB_H
#define BENCHLIB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* The program's name, first on its error messages: each program defines it. */
extern const char bench_name[];

/* The descriptor bench_run_cmd opens its file on in the child, and where
 * bench_bwrap_argv's --file reads it from. */
#define BENCH_FILE_FD 10

/* ---- errors, memory, the clock ----------------------------------------- */

/* "NAME: message" on stderr, then exit(1) (atexit handlers run). */
void bench_die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
void bench_die_errno(const char *what) __attribute__((noreturn));
void *bench_xmalloc(size_t n);
uint64_t bench_now_ns(void);    /* CLOCK_MONOTONIC */

/* A non-negative decimal option argument (at most 1000000), or bench_die. */
int bench_number(const char *s);

/* ---- running a command ------------------------------------------------- */

struct bench_buf {
	char *p;
	size_t len, cap;
};

/* Room for more bytes after len (grows by doubling, from 64 KiB). */
void bench_buf_reserve(struct bench_buf *b, size_t more);

/* fork + execve(argv) + waitpid; returns the wall time in microseconds.
 * With out, the child's stdout is read through a pipe into out (NUL-ended);
 * without, the child keeps ours. With file, that file is open on
 * BENCH_FILE_FD in the child. */
double bench_run_cmd(char *const argv[], const char *file, struct bench_buf *out, int *wstatus);
bool bench_exited_zero(int wstatus);

/* nloops (1..BENCH_MAXLOOPS) processes share `jobs` runs of argv, each loop
 * one run at a time, each run's stdout checked against expect (name says
 * whose). With lat, every run's latency (microseconds) is stored there.
 * Returns the elapsed ns. */
#define BENCH_MAXLOOPS 16
uint64_t bench_loops(const char *name, const char *expect, char *const argv[], const char *file, int nloops,
		     int jobs, double *lat);

/* The bwrap command line that runs prog with the binds and namespaces
 * warmbox sets up; with file, BENCH_FILE_FD is copied to /box/hello, mode
 * 0755. Allocated once a call and never freed. */
char **bench_bwrap_argv(const char *prog, bool file);

/* The accounting the results said, "mixed" once two differ. */
void bench_note_accounting(char *seen, size_t n, const char *acc);

/* ---- statistics -------------------------------------------------------- */

struct bench_summary {
	double min, p50, p90, p99, mean, max;
};

/* Nearest-rank percentiles over n >= 1 values (v is sorted in place). */
struct bench_summary bench_summarize(double *v, int n);

/* ---- the report -------------------------------------------------------- */

/* The default report file, BENCH_DIR/results/PREFIX-YYYYmmdd-HHMMSSSUFFIX.txt
 * (the results folder is made if missing). */
void bench_report_path(char *dst, size_t n, const char *prefix, const char *suffix);

/* The facts lines after the report's title: "command:", "date:", "kernel:",
 * "cpus:". */
void bench_facts_head(FILE *o, int argc, char **argv);

/* The facts lines that end them: "load avg:" at start and "warmbox:" (the
 * binary, and the commit of BENCH_DIR's checkout). */
void bench_facts_tail(FILE *o, const char *warmbox);

/* "  LABEL ARG ARG ...", the label padded to width. */
void bench_print_argv(FILE *o, int width, const char *label, char *const argv[]);

/* Ends the report o (an open_memstream on *report, *len) with the load
 * average, closes it, writes it to stdout and to outpath, and frees it. */
void bench_report_finish(FILE *o, char **report, size_t *len, const char *outpath);

#endif
