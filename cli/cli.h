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
	int (*main)(int argc, char **argv); /* NULL: not in this build */
	const char *help;                   /* one line for `straw --help` */
};

#define CLI_EXIT_OK    0
#define CLI_EXIT_FAIL  1
#define CLI_EXIT_USAGE 2

#endif /* STRAW_CLI_H */
