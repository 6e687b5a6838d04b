/*
 * The straw command: looks the subcommand up in a {name, fn, help} table and
 * runs it.  Every subcommand is declared in cli.h and listed here.
 */
#include <stdio.h>
#include <string.h>

#include "cli.h"

static const struct cli_command commands[] = {
        {"term", term_main, "encode, decode and check Erlang terms (ETF)"},
        {"ls", ls_main, "list the registry tree with values and permissions"},
        {"read", read_main, "print the value of a registry key"},
        {"write", write_main, "set the value of a registry key"},
        {"rm", rm_main, "remove a registry key and everything below it"},
        {"watch", watch_main, "print changes below a registry path"},
        {"ps", ps_main, "list containers, or the processes of one"},
        {"status", status_main, "tell whether strawd runs, and what it holds"},
        {"tubes", tubes_main, "list tubes with their state and counters"},
};

static void
usage(FILE *f)
{
	size_t i;

	fprintf(f,
	        "usage: straw COMMAND [ARGS...]\n"
	        "       straw COMMAND --help\n\n"
	        "Erlang-style message passing for C: the command-line tool.\n\n"
	        "Commands:\n");
	for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(f, "  %-8s %s\n", commands[i].name, commands[i].help);
	fprintf(f, "\nExit status: 0 success, 1 failure or invalid input, "
	           "2 usage error.\n");
}

int
main(int argc, char **argv)
{
	size_t i;

	if (argc < 2) {
		usage(stderr);
		return CLI_EXIT_USAGE;
	}
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
	    strcmp(argv[1], "help") == 0) {
		usage(stdout);
		return CLI_EXIT_OK;
	}
	for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (strcmp(argv[1], commands[i].name) == 0)
			return commands[i].main(argc - 1, argv + 1);
	fprintf(stderr, "straw: unknown command '%s' (see 'straw --help')\n",
	        argv[1]);
	return CLI_EXIT_USAGE;
}
