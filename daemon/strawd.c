/*
 * strawd: the per-machine registry daemon (main and arguments only; the
 * server lives in src/registry).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "strawd/strawd_run.h"

static void
usage(FILE *f)
{
	fprintf(f,
	        "usage: strawd [--daemon] [--dir DIR] [--quota-nodes N]\n"
	        "              [--quota-value BYTES] [--quota-watches N]\n"
	        "              [--quota-queue BYTES]\n\n"
	        "Serves the straw registry of this machine on "
	        "DIR/strawd.sock.\n"
	        "DIR: --dir, else $STRAW_DIR, else /run/straw (root), else\n"
	        "$XDG_RUNTIME_DIR/straw, else /tmp/straw-$UID.  Runs in the\n"
	        "foreground logging to stderr; --daemon detaches once it\n"
	        "serves.  Accepts a listening socket from systemd.  SIGTERM "
	        "or\n"
	        "SIGINT stop it.  Exit status: 0 stopped cleanly, 1 another\n"
	        "strawd serves DIR or an error, 2 usage error.\n");
}

static int
num_arg(const char *s, unsigned long *out)
{
	char *end;

	*out = strtoul(s, &end, 10);
	return *s != '\0' && *end == '\0' ? 0 : -1;
}

int
main(int argc, char **argv)
{
	struct reg_server_opts opts;
	int i, daemonize = 0;

	memset(&opts, 0, sizeof(opts));
	opts.listen_fd = -1;
	for (i = 1; i < argc; i++) {
		const char *a = argv[i];
		unsigned long v = 0;
		if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
			usage(stdout);
			return 0;
		}
		if (strcmp(a, "--daemon") == 0 || strcmp(a, "-d") == 0) {
			daemonize = 1;
			continue;
		}
		if (i + 1 >= argc)
			goto bad;
		if (strcmp(a, "--dir") == 0)
			opts.dir = argv[++i];
		else if (strcmp(a, "--quota-nodes") == 0 &&
		         num_arg(argv[++i], &v) == 0)
			opts.quota_nodes = (uint32_t)v;
		else if (strcmp(a, "--quota-value") == 0 &&
		         num_arg(argv[++i], &v) == 0)
			opts.quota_value = (uint32_t)v;
		else if (strcmp(a, "--quota-watches") == 0 &&
		         num_arg(argv[++i], &v) == 0)
			opts.quota_watches = (uint32_t)v;
		else if (strcmp(a, "--quota-queue") == 0 &&
		         num_arg(argv[++i], &v) == 0)
			opts.quota_outq = v;
		else
			goto bad;
	}
	return reg_strawd_run(&opts, daemonize);
bad:
	fprintf(stderr, "strawd: bad argument '%s'\n", argv[i]);
	usage(stderr);
	return 2;
}
