/*
 * strawd: the per-machine registry daemon (main and arguments only; the
 * server lives in src/strawd).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "strawd/strawd_run.h"

static void
usage(FILE *f)
{
	fprintf(f,
	        "usage: strawd [--daemon] [--dir DIR] [OPTION N]...\n\n"
	        "Serves the straw registry of this machine on "
	        "DIR/strawd.sock.\n"
	        "DIR: --dir, else $STRAW_DIR, else /run/straw (root), else\n"
	        "$XDG_RUNTIME_DIR/straw, else /tmp/straw-$UID.  Runs in the\n"
	        "foreground logging to stderr; --daemon detaches once it\n"
	        "serves.  Accepts a listening socket from systemd.  SIGTERM "
	        "or\n"
	        "SIGINT stop it.  Exit status: 0 stopped cleanly, 1 another\n"
	        "strawd serves DIR or an error, 2 usage error.\n\n"
	        "Quotas of each uid but root (0: the default):\n"
	        "  --quota-connections N   connections [1024]\n"
	        "  --quota-containers N    joined containers [512]\n"
	        "  --quota-tubes N         tube ends [8192]\n"
	        "  --quota-watches N       watches [4096]\n"
	        "  --quota-nodes N         registry nodes [65536]\n"
	        "  --quota-bytes BYTES     bytes of their paths and values "
	        "[64 MiB]\n"
	        "  --quota-queue-uid BYTES output queued to its connections "
	        "[16 MiB]\n"
	        "Limits for everyone:\n"
	        "  --quota-value BYTES     one value [65536, at most 131072]\n"
	        "  --quota-queue BYTES     output queued to one connection "
	        "[4 MiB]\n"
	        "  --max-queue BYTES       output queued to all connections "
	        "[64 MiB]\n"
	        "  --max-connections N     connections in all "
	        "[(descriptor limit - 1024) / 2]\n"
	        "See docs/registry-protocol.md for what each one bounds.\n");
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
		if (strcmp(a, "--dir") == 0) {
			opts.dir = argv[++i];
			continue;
		}
		if (num_arg(argv[i + 1], &v) < 0)
			goto bad;
		i++;
		if (strcmp(a, "--quota-connections") == 0 && v <= UINT32_MAX)
			opts.quota_conns = (uint32_t)v;
		else if (strcmp(a, "--quota-containers") == 0 &&
		         v <= UINT32_MAX)
			opts.quota_containers = (uint32_t)v;
		else if (strcmp(a, "--quota-tubes") == 0 && v <= UINT32_MAX)
			opts.quota_tubes = (uint32_t)v;
		else if (strcmp(a, "--quota-watches") == 0 && v <= UINT32_MAX)
			opts.quota_watches = (uint32_t)v;
		else if (strcmp(a, "--quota-nodes") == 0 && v <= UINT32_MAX)
			opts.quota_nodes = (uint32_t)v;
		else if (strcmp(a, "--quota-bytes") == 0)
			opts.quota_bytes = v;
		else if (strcmp(a, "--quota-queue-uid") == 0)
			opts.quota_outq_uid = v;
		else if (strcmp(a, "--quota-value") == 0 && v <= UINT32_MAX)
			opts.quota_value = (uint32_t)v;
		else if (strcmp(a, "--quota-queue") == 0)
			opts.quota_outq = v;
		else if (strcmp(a, "--max-queue") == 0)
			opts.max_outq = v;
		else if (strcmp(a, "--max-connections") == 0 && v <= UINT32_MAX)
			opts.max_conns = (uint32_t)v;
		else {
			i--; /* the option is what is wrong */
			goto bad;
		}
	}
	return reg_strawd_run(&opts, daemonize);
bad:
	fprintf(stderr, "strawd: bad argument '%s'\n", argv[i]);
	usage(stderr);
	return 2;
}
