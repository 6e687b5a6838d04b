/*
 * cli/cli.h - the straw command's subcommand table.  Each subcommand lives in
 * its own file as `int NAME_main(int argc, char **argv)`, where argv[0] is
 * the subcommand's name, and returns the process exit status:
 * 0 success, 1 failure or invalid input, 2 usage error.
 */
#ifndef STRAW_CLI_H
#define STRAW_CLI_H

#include <stdio.h>

struct cli_command {
	const char *name;                   /* as typed after `straw` */
	int (*main)(int argc, char **argv); /* runs it */
	const char *help;                   /* one line for `straw --help` */
};

/* The subcommands, listed in cli/straw.c's table.  Each is an ordinary
 * symbol, so one that is missing or misspelt fails the link. */
int term_main(int argc, char **argv);
int ls_main(int argc, char **argv);
int read_main(int argc, char **argv);
int write_main(int argc, char **argv);
int rm_main(int argc, char **argv);
int watch_main(int argc, char **argv);
int ps_main(int argc, char **argv);
int status_main(int argc, char **argv);
int tubes_main(int argc, char **argv);

#define CLI_EXIT_OK    0
#define CLI_EXIT_FAIL  1
#define CLI_EXIT_USAGE 2

#endif /* STRAW_CLI_H */
