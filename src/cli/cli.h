/* cli.h: the subcommands behind main(). Each parses its own arguments and
 * returns the process exit status (SPEC "Exit status"). */
#ifndef WB_CLI_H
#define WB_CLI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* The process exit status (SPEC "Exit status"): every job carried out
 * whatever its verdict; the sandbox itself failed; bad usage or an invalid
 * job, with a one-line error and no partial result. */
enum wb_exit {
	WB_EXIT_OK = 0,
	WB_EXIT_SANDBOX = 1,
	WB_EXIT_USAGE = 2,
};

int wb_cli_run(int argc, char **argv);
int wb_cli_learn(int argc, char **argv);
int wb_cli_serve(int argc, char **argv);
void wb_cli_serve_usage(FILE *f);
int wb_cli_worker(int argc, char **argv);
void wb_cli_worker_usage(FILE *f);
int wb_cli_submit(int argc, char **argv);
int wb_cli_stats(int argc, char **argv);
int wb_cli_enter(int argc, char **argv);
void wb_cli_enter_usage(FILE *f);
int wb_cli_put(int argc, char **argv);
int wb_cli_get(int argc, char **argv);
void wb_cli_client_usage(FILE *f);

/* The daemon's clients' options (cli_client.c): --socket PATH or --connect
 * HOST:PORT, and one positional argument when file_allowed. 0, 1 for
 * --help, or -EINVAL (said on stderr). */
struct wb_client_opts {
	const char *socket;
	const char *connect;
	const char *file;
};
int wb_cli_client_parse(int argc, char **argv, struct wb_client_opts *o, bool file_allowed);
/* A connected socket, or -errno (said on stderr). */
int wb_cli_client_connect(const struct wb_client_opts *o);
/* Sends one request line and reads the one answer line: 0 and *answer
 * (malloc'd, without its newline), or -errno. */
int wb_cli_ask(int fd, const char *request, char **answer);

/* Option values (args.c). A plain decimal number, no sign: 0 or -EINVAL. */
int wb_cli_parse_u64(const char *s, uint64_t *v);
/* A size: a number with K, M or G (powers of 1024), or a plain number
 * counted in plain_unit bytes. In bytes; 0 or -EINVAL, also on overflow. */
int wb_cli_parse_size(const char *s, uint64_t plain_unit, uint64_t *bytes);
/* A size in KiB: "512" and "512K" are the same; "64M", "1G". */
int wb_cli_parse_size_kb(const char *s, uint64_t *kb);

/* Reads all of path ("-": standard input) into a malloc'd buffer with a
 * NUL after its len bytes. -EISDIR for a directory, -EFBIG past max bytes,
 * or another -errno. */
int wb_cli_read_file(const char *path, size_t max, unsigned char **data, size_t *len);

/* What warmbox learn counted (learned.c): the policy JSON on f, its
 * description naming what it was learned from, refusing what was refused
 * with the same errno (so the program runs again as it did); the counts,
 * busiest first, on counts_f. 0 or -errno. */
struct wb_learn;
int wb_cli_print_learned(const struct wb_learn *l, const char *description, FILE *f, FILE *counts_f);

/* warmbox run's job (execute.c) on zygotes started for it: one, or one per
 * side with an interactor (ipolicy is the interactor's). With tty (tty.h,
 * --tty; no interactor) the program's stdio is a pty relayed to it. The
 * result, or NULL with why saying what failed; accounting names the mode
 * either way. */
struct wb_job;
struct wb_policy;
struct wb_result;
struct wb_tty;
struct wb_result *wb_cli_execute(const struct wb_job *job, const struct wb_policy *policy,
				 const struct wb_policy *ipolicy, struct wb_tty *tty, bool trace, char *why,
				 size_t whylen, const char **accounting);

/* Every policy of dir, compiled (cli_serve.c), and the union of their
 * binds: the daemon's zygotes carry them all. A policy whose runtime is
 * missing here is left out, said on stderr as "warmbox CMD: ...". */
struct wb_policy;
int wb_cli_load_policies(const char *cmd, const char *dir, struct wb_policy **out, size_t *n, char ***binds,
			 size_t *nbinds);

/* The options serve and worker share (cli_serve.c), each said wrong on
 * stderr as "warmbox CMD: --OPT: ...". A count from min to 100000: 0 or
 * -EINVAL. The pool's options by getopt letter, 'F' --store, 'o'
 * --max-output, 'L' --log-level (set at once): 0, -EINVAL, or -ENOENT for
 * another letter. */
int wb_cli_count_option(const char *cmd, const char *opt, const char *s, unsigned min, unsigned *v);
int wb_cli_pool_option(const char *cmd, int opt, const char *arg, uint64_t *store, uint64_t *max_output_kb);

/* SPEC: $XDG_RUNTIME_DIR/warmbox.sock, or /run/warmbox.sock as root. */
const char *wb_cli_default_socket(char *buf, size_t len);
void wb_cli_run_usage(FILE *f);
void wb_cli_learn_usage(FILE *f);

#endif
