/*
 * straw term encode|decode|check: argument handling and I/O only; the work
 * is strawi_term_tool (src/term/term_tool.c).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <straw/buf.h>
#include <straw/err.h>

#include "cli.h"
#include "cmd/term_tool.h"

static void
usage(FILE *f)
{
	fprintf(f,
	        "usage: straw term encode [--hex] [TEXT | -]\n"
	        "       straw term decode [--hex] [FILE | -]\n"
	        "       straw term check [--hex] [FILE | -]\n"
	        "\n"
	        "Converts Erlang terms between their text (Erlang syntax) and "
	        "the External\n"
	        "Term Format (ETF, as term_to_binary writes it).\n"
	        "\n"
	        "  encode  reads Erlang text, writes canonical ETF bytes "
	        "(version byte first)\n"
	        "  decode  reads ETF, writes the term as Erlang text and a "
	        "newline\n"
	        "  check   reads ETF and tells whether it is one valid term; "
	        "for a fault it\n"
	        "          prints its offset, message and code name\n"
	        "\n"
	        "Without TEXT or FILE, or with -, the input is standard "
	        "input.\n"
	        "  --hex   ETF is hex text (white space ignored) instead of "
	        "raw "
	        "bytes\n"
	        "\n"
	        "Exit status: 0 success, 1 invalid input (bad text, bad term, "
	        "bad hex,\n"
	        "unreadable file), 2 usage error.\n");
}

/* Reads all of f into b.  Returns 0 or a negative errno. */
static int
read_all(FILE *f, straw_buf *b)
{
	int rc;

	for (;;) {
		size_t n;
		if ((rc = straw_buf_reserve(b, 65536)) != 0)
			return rc;
		n = fread(b->data + b->len, 1, b->cap - b->len, f);
		b->len += n;
		if (n == 0)
			return ferror(f) ? -EIO : 0;
	}
}

int
term_main(int argc, char **argv)
{
	straw_buf in = STRAW_BUF_INIT, out = STRAW_BUF_INIT,
	          msg = STRAW_BUF_INIT;
	const char *name, *arg = NULL;
	int op, hex = 0, i, status, options = 1;

	if (argc < 2) {
		usage(stderr);
		return CLI_EXIT_USAGE;
	}
	name = argv[1];
	if (strcmp(name, "--help") == 0 || strcmp(name, "-h") == 0 ||
	    strcmp(name, "help") == 0) {
		usage(stdout);
		return CLI_EXIT_OK;
	}
	if (strcmp(name, "encode") == 0) {
		op = TERM_TOOL_ENCODE;
	} else if (strcmp(name, "decode") == 0) {
		op = TERM_TOOL_DECODE;
	} else if (strcmp(name, "check") == 0) {
		op = TERM_TOOL_CHECK;
	} else {
		fprintf(stderr,
		        "straw term: unknown subcommand '%s' (see 'straw term "
		        "--help')\n",
		        name);
		return CLI_EXIT_USAGE;
	}
	for (i = 2; i < argc; i++) {
		if (!options) {
			if (arg != NULL)
				goto too_many;
			arg = argv[i];
		} else if (strcmp(argv[i], "--") == 0) {
			options = 0;
		} else if (strcmp(argv[i], "--hex") == 0) {
			hex = 1;
		} else if (strcmp(argv[i], "--help") == 0 ||
		           strcmp(argv[i], "-h") == 0) {
			usage(stdout);
			return CLI_EXIT_OK;
		} else if (strncmp(argv[i], "--", 2) == 0 ||
		           (op != TERM_TOOL_ENCODE && argv[i][0] == '-' &&
		            argv[i][1] != '\0')) {
			fprintf(stderr,
			        "straw term %s: unknown option '%s' (see "
			        "'straw term --help')\n",
			        name, argv[i]);
			return CLI_EXIT_USAGE;
		} else if (arg != NULL) {
		too_many:
			fprintf(stderr,
			        "straw term %s: too many arguments (see "
			        "'straw term --help')\n",
			        name);
			return CLI_EXIT_USAGE;
		} else {
			arg = argv[i];
		}
	}
	if (op == TERM_TOOL_ENCODE && arg != NULL && strcmp(arg, "-") != 0) {
		if (straw_buf_append(&in, arg, strlen(arg)) != 0)
			goto nomem;
	} else if (arg == NULL || strcmp(arg, "-") == 0) {
		if (read_all(stdin, &in) != 0) {
			fprintf(stderr,
			        "straw term %s: cannot read standard "
			        "input\n",
			        name);
			status = CLI_EXIT_FAIL;
			goto out;
		}
	} else {
		FILE *f = fopen(arg, "rb");
		int rc;
		if (f == NULL) {
			fprintf(stderr, "straw term %s: cannot open %s: %s\n",
			        name, arg, strerror(errno));
			status = CLI_EXIT_FAIL;
			goto out;
		}
		rc = read_all(f, &in);
		fclose(f);
		if (rc != 0) {
			fprintf(stderr, "straw term %s: cannot read %s: %s\n",
			        name, arg, straw_strerror(rc));
			status = CLI_EXIT_FAIL;
			goto out;
		}
	}
	status = strawi_term_tool(op, hex, in.data ? in.data : (uint8_t *)"",
	                          in.len, &out, &msg);
	if (out.len > 0 && fwrite(out.data, 1, out.len, stdout) != out.len)
		status = CLI_EXIT_FAIL;
	if (fflush(stdout) != 0)
		status = CLI_EXIT_FAIL;
	if (msg.len > 0)
		fwrite(msg.data, 1, msg.len, stderr);
	goto out;
nomem:
	fprintf(stderr, "straw term %s: out of memory\n", name);
	status = CLI_EXIT_FAIL;
out:
	straw_buf_fini(&in);
	straw_buf_fini(&out);
	straw_buf_fini(&msg);
	return status;
}
