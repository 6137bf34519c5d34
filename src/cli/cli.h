/* cli.h: the subcommands behind main(). Each parses its own arguments and
 * returns the process exit status (SPEC "Exit status"). */
#ifndef WB_CLI_H
#define WB_CLI_H

#include <stdint.h>
#include <stdio.h>

int wb_cli_run(int argc, char **argv);
int wb_cli_learn(int argc, char **argv);
int wb_cli_serve(int argc, char **argv);
void wb_cli_serve_usage(FILE *f);
int wb_cli_submit(int argc, char **argv);
int wb_cli_stats(int argc, char **argv);
void wb_cli_client_usage(FILE *f);

/* A SIZE argument in KiB: "512", "512K"; "64M", "1G". 0 or -EINVAL. */
int wb_cli_parse_size_kb(const char *s, uint64_t *kb);

/* SPEC: $XDG_RUNTIME_DIR/warmbox.sock, or /run/warmbox.sock as root. */
const char *wb_cli_default_socket(char *buf, size_t len);
void wb_cli_run_usage(FILE *f);
void wb_cli_learn_usage(FILE *f);

#endif
