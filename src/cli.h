/* cli.h: the subcommands behind main(). Each parses its own arguments and
 * returns the process exit status (SPEC "Exit status"). */
#ifndef WB_CLI_H
#define WB_CLI_H

#include <stdio.h>

int wb_cli_run(int argc, char **argv);
void wb_cli_run_usage(FILE *f);

#endif
