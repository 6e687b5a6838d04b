/*
 * The registry subcommands: straw ls, read, write, rm, watch, ps, status
 * (with each uid's use against its quotas, src/cmd/usage.c).
 * Each connects to strawd (starting it unless STRAW_AUTOSTART=0; status
 * never starts it), does one thing and prints it, as text or with --json.
 * Exit status: 0 success, 1 failure (the message says why), 2 usage error.
 */
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <straw/alloc.h>
#include <straw/registry.h>

#include "cli.h"
#include "cmd/ps.h"
#include "cmd/usage.h"
#include "registry/client.h"

/* Options shared by the subcommands. */
struct opts {
	int recursive; /* -r */
	int json;      /* --json */
	long count;    /* watch -n: stop after this many events, 0 never */
	const char *args[2]; /* positional arguments */
	int nargs;           /* how many */
};

static int
parse(const char *cmd, int argc, char **argv, int maxargs, struct opts *o,
      const char *usage)
{
	int i;

	memset(o, 0, sizeof(*o));
	for (i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
			printf("usage: straw %s %s\n", cmd, usage);
			exit(CLI_EXIT_OK);
		} else if (strcmp(a, "-r") == 0 && strstr(usage, "[-r]")) {
			o->recursive = 1;
		} else if (strcmp(a, "--json") == 0 &&
		           strstr(usage, "[--json]")) {
			o->json = 1;
		} else if (strcmp(a, "-n") == 0 && strstr(usage, "[-n") &&
		           i + 1 < argc) {
			o->count = strtol(argv[++i], NULL, 10);
			if (o->count <= 0)
				goto bad;
		} else if (a[0] == '-' && a[1] != '\0' && a[1] != '/') {
			goto bad;
		} else if (o->nargs < maxargs) {
			o->args[o->nargs++] = a;
		} else {
			goto bad;
		}
	}
	return 0;
bad:
	fprintf(stderr, "usage: straw %s %s\n", cmd, usage);
	return -1;
}

static int
fail(const char *cmd, const char *what, int rc)
{
	if (rc == STRAW_ENODAEMON)
		fprintf(stderr, "straw %s: %s\n", cmd, straw_reg_start_hint());
	else if (what != NULL)
		fprintf(stderr, "straw %s: %s: %s\n", cmd, what,
		        straw_strerror(rc));
	else
		fprintf(stderr, "straw %s: %s\n", cmd, straw_strerror(rc));
	return CLI_EXIT_FAIL;
}

static int
connect_reg(const char *cmd, straw_reg **r, unsigned flags)
{
	int rc = straw_reg_connect(r, NULL, flags);

	if (rc < 0) {
		fail(cmd, NULL, rc);
		return -1;
	}
	return 0;
}

/* Text: printable ASCII as is, the rest as \xNN (as xenstore-ls does). */
static void
put_text(FILE *f, const char *v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)v[i];
		if (c >= 0x20 && c < 0x7f && c != '\\' && c != '"')
			fputc(c, f);
		else if (c == '\\' || c == '"')
			fprintf(f, "\\%c", c);
		else
			fprintf(f, "\\x%02x", c);
	}
}

static void
put_json_str(FILE *f, const char *v, size_t n)
{
	size_t i;

	fputc('"', f);
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)v[i];
		if (c == '"' || c == '\\')
			fprintf(f, "\\%c", c);
		else if (c < 0x20 || c >= 0x7f)
			fprintf(f, "\\u%04x", c);
		else
			fputc(c, f);
	}
	fputc('"', f);
}

static void
put_uids(FILE *f, const uint32_t *u, uint32_t n, int json)
{
	uint32_t i;

	if (json)
		fputc('[', f);
	else if (n == 0)
		fputc('-', f);
	for (i = 0; i < n; i++) {
		if (i > 0)
			fputc(',', f);
		if (u[i] == STRAW_REG_ANYONE)
			fputs(json ? "\"*\"" : "*", f);
		else
			fprintf(f, "%u", u[i]);
	}
	if (json)
		fputc(']', f);
}

static int
join_path(char *out, size_t cap, const char *dir, const char *name)
{
	int n = strcmp(dir, "/") == 0 ? snprintf(out, cap, "/%s", name)
	                              : snprintf(out, cap, "%s/%s", dir, name);

	return n < 0 || (size_t)n >= cap ? -ENAMETOOLONG : 0;
}

/* Prints the node at path (named name) and, if recursive, what is below. */
static int
ls_node(straw_reg *r, const char *path, const char *name, int depth,
        const struct opts *o, int first)
{
	straw_reg_perms p;
	char **kids = NULL, *val = NULL, child[1100];
	size_t nkids = 0, vlen = 0, i;
	int rc;

	rc = straw_reg_get_perms(r, path, &p, NULL);
	if (rc == 0)
		rc = straw_reg_read(r, path, &val, &vlen);
	if (rc == 0 && (o->recursive || depth == 0))
		rc = straw_reg_ls(r, path, &kids, &nkids);
	if (rc < 0) {
		if (depth > 0 && (rc == -ENOENT || rc == -EACCES))
			return 0; /* gone meanwhile, or not ours to see */
		return rc;
	}
	if (depth > 0) {
		if (o->json) {
			printf("%s{\"name\":", first ? "" : ",");
			put_json_str(stdout, name, strlen(name));
			printf(",\"path\":");
			put_json_str(stdout, path, strlen(path));
			printf(",\"value\":");
			put_json_str(stdout, val, vlen);
			printf(",\"owner\":%u,\"read\":", p.owner);
			put_uids(stdout, p.read, p.nread, 1);
			printf(",\"write\":");
			put_uids(stdout, p.write, p.nwrite, 1);
		} else {
			printf("%*s%s = \"", (depth - 1) * 2, "", name);
			put_text(stdout, val, vlen);
			printf("\"  (owner %u, read ", p.owner);
			put_uids(stdout, p.read, p.nread, 0);
			printf(", write ");
			put_uids(stdout, p.write, p.nwrite, 0);
			printf(")\n");
		}
	}
	straw_free(val);
	if (o->json && depth > 0 && o->recursive)
		printf(",\"children\":[");
	if (depth == 0 || o->recursive) {
		for (i = 0; i < nkids && rc == 0; i++) {
			rc = join_path(child, sizeof(child), path, kids[i]);
			if (rc == 0)
				rc = ls_node(r, child, kids[i], depth + 1, o,
				             i == 0);
		}
	}
	if (o->json && depth > 0)
		printf("%s}", o->recursive ? "]" : "");
	straw_reg_free_names(kids, nkids);
	return rc;
}

int
ls_main(int argc, char **argv)
{
	struct opts o;
	straw_reg *r;
	const char *path;
	int rc;

	if (parse("ls", argc, argv, 1, &o, "[-r] [--json] [PATH]") < 0)
		return CLI_EXIT_USAGE;
	path = o.nargs ? o.args[0] : "/";
	if (connect_reg("ls", &r, 0) < 0)
		return CLI_EXIT_FAIL;
	if (o.json)
		printf("[");
	rc = ls_node(r, path, path, 0, &o, 1);
	if (o.json)
		printf("]\n");
	straw_reg_close(r);
	return rc < 0 ? fail("ls", path, rc) : CLI_EXIT_OK;
}

int
read_main(int argc, char **argv)
{
	struct opts o;
	straw_reg *r;
	char *val;
	size_t len;
	int rc;

	if (parse("read", argc, argv, 1, &o, "PATH") < 0 || o.nargs != 1) {
		fprintf(stderr, "usage: straw read PATH\n");
		return CLI_EXIT_USAGE;
	}
	if (connect_reg("read", &r, 0) < 0)
		return CLI_EXIT_FAIL;
	rc = straw_reg_read(r, o.args[0], &val, &len);
	straw_reg_close(r);
	if (rc < 0)
		return fail("read", o.args[0], rc);
	fwrite(val, 1, len, stdout);
	fputc('\n', stdout);
	straw_free(val);
	return CLI_EXIT_OK;
}

int
write_main(int argc, char **argv)
{
	struct opts o;
	straw_reg *r;
	int rc;

	if (parse("write", argc, argv, 2, &o, "PATH VALUE") < 0 ||
	    o.nargs != 2) {
		fprintf(stderr, "usage: straw write PATH VALUE\n");
		return CLI_EXIT_USAGE;
	}
	if (connect_reg("write", &r, 0) < 0)
		return CLI_EXIT_FAIL;
	rc = straw_reg_write(r, o.args[0], o.args[1], strlen(o.args[1]));
	straw_reg_close(r);
	return rc < 0 ? fail("write", o.args[0], rc) : CLI_EXIT_OK;
}

int
rm_main(int argc, char **argv)
{
	struct opts o;
	straw_reg *r;
	int rc;

	if (parse("rm", argc, argv, 1, &o, "PATH") < 0 || o.nargs != 1) {
		fprintf(stderr, "usage: straw rm PATH\n");
		return CLI_EXIT_USAGE;
	}
	if (connect_reg("rm", &r, 0) < 0)
		return CLI_EXIT_FAIL;
	rc = straw_reg_rm(r, o.args[0]);
	straw_reg_close(r);
	return rc < 0 ? fail("rm", o.args[0], rc) : CLI_EXIT_OK;
}

static volatile sig_atomic_t interrupted;

static void
on_int(int sig)
{
	(void)sig;
	interrupted = 1;
}

int
watch_main(int argc, char **argv)
{
	struct sigaction sa;
	struct opts o;
	straw_reg_event ev;
	straw_reg *r;
	uint32_t id;
	long seen = 0;
	int rc;

	if (parse("watch", argc, argv, 1, &o, "[-n COUNT] [--json] PATH") < 0 ||
	    o.nargs != 1) {
		fprintf(stderr,
		        "usage: straw watch [-n COUNT] [--json] PATH\n");
		return CLI_EXIT_USAGE;
	}
	if (connect_reg("watch", &r, 0) < 0)
		return CLI_EXIT_FAIL;
	rc = straw_reg_watch(r, o.args[0], &id);
	if (rc < 0) {
		straw_reg_close(r);
		return fail("watch", o.args[0], rc);
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_int;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	/* A line on stderr once the watch is set, for scripts to wait on. */
	fprintf(stderr, "watching %s\n", o.args[0]);
	setvbuf(stdout, NULL, _IOLBF, 0);
	while (!interrupted && (o.count == 0 || seen < o.count)) {
		rc = straw_reg_next_event(r, &ev, 200);
		if (rc == -ETIMEDOUT)
			continue;
		if (rc < 0)
			break;
		seen++;
		if (o.json) {
			printf("{\"path\":");
			put_json_str(stdout, ev.path, strlen(ev.path));
			printf(",\"resync\":%s}\n",
			       ev.flags & STRAW_REG_EVENT_RESYNC ? "true"
			                                         : "false");
		} else {
			printf("%s%s\n", ev.path,
			       ev.flags & STRAW_REG_EVENT_RESYNC ? " (resync)"
			                                         : "");
		}
	}
	straw_reg_close(r);
	return rc < 0 && rc != -ETIMEDOUT ? fail("watch", o.args[0], rc)
	                                  : CLI_EXIT_OK;
}

/* Reads /containers/<id>/<leaf> into buf (empty when missing). */
static void
read_leaf(straw_reg *r, const char *id, const char *leaf, char *buf, size_t cap)
{
	char path[600], *v;
	size_t len;

	buf[0] = '\0';
	snprintf(path, sizeof(path), "/containers/%s/%s", id, leaf);
	if (straw_reg_read(r, path, &v, &len) == 0) {
		snprintf(buf, cap, "%.*s", (int)len, v);
		straw_free(v);
	}
}

static void
format_age(long secs, char *buf, size_t cap)
{
	if (secs < 0)
		secs = 0;
	if (secs < 120)
		snprintf(buf, cap, "%lds", secs);
	else if (secs < 7200)
		snprintf(buf, cap, "%ldm", secs / 60);
	else
		snprintf(buf, cap, "%ldh", secs / 3600);
}

int
ps_main(int argc, char **argv)
{
	char **ids = NULL, **names;
	size_t nids = 0, nnames, i, j;
	char name[300], pid[32], uid[32], started[32], age[32], path[600];
	struct opts o;
	straw_reg *r;
	int rc;

	if (parse("ps", argc, argv, 1, &o, "[--json] [CONTAINER]") < 0)
		return CLI_EXIT_USAGE;
	if (o.nargs == 1 && o.json) {
		fprintf(stderr, "straw ps: --json lists containers; "
		                "it does not take a CONTAINER\n");
		return CLI_EXIT_USAGE;
	}
	if (connect_reg("ps", &r, 0) < 0)
		return CLI_EXIT_FAIL;
	if (o.nargs == 1) {
		/* The processes of one container, which publishes them on
		 * request (src/proc/ps.h). */
		rc = strawi_ps_container(r, o.args[0], stdout, 2000);
		straw_reg_close(r);
		if (rc == -ENOENT) {
			fprintf(stderr, "straw ps: no container '%s'\n",
			        o.args[0]);
			return CLI_EXIT_FAIL;
		}
		if (rc == -ETIMEDOUT) {
			fprintf(stderr,
			        "straw ps: container '%s' did not answer "
			        "within 2 s\n",
			        o.args[0]);
			return CLI_EXIT_FAIL;
		}
		return rc < 0 ? fail("ps", o.args[0], rc) : CLI_EXIT_OK;
	}
	rc = straw_reg_ls(r, "/containers", &ids, &nids);
	if (rc < 0) {
		straw_reg_close(r);
		return fail("ps", "/containers", rc);
	}
	if (o.json)
		printf("[");
	else
		printf("%-6s %-20s %-8s %-6s %-6s %s\n", "ID", "NAME", "PID",
		       "UID", "AGE", "NAMES");
	for (i = 0; i < nids; i++) {
		read_leaf(r, ids[i], "name", name, sizeof(name));
		read_leaf(r, ids[i], "pid", pid, sizeof(pid));
		read_leaf(r, ids[i], "uid", uid, sizeof(uid));
		read_leaf(r, ids[i], "started", started, sizeof(started));
		format_age((long)(time(NULL) - atol(started)), age,
		           sizeof(age));
		snprintf(path, sizeof(path), "/containers/%s/names", ids[i]);
		if (straw_reg_ls(r, path, &names, &nnames) < 0) {
			names = NULL;
			nnames = 0;
		}
		if (o.json) {
			printf("%s{\"id\":%s,\"name\":", i ? "," : "", ids[i]);
			put_json_str(stdout, name, strlen(name));
			printf(",\"pid\":%s,\"uid\":%s,\"started\":%s,"
			       "\"names\":{",
			       pid[0] ? pid : "0", uid[0] ? uid : "0",
			       started[0] ? started : "0");
		} else {
			printf("%-6s %-20s %-8s %-6s %-6s ", ids[i], name, pid,
			       uid, age);
		}
		for (j = 0; j < nnames; j++) {
			char *v = NULL;
			size_t vl = 0;
			snprintf(path, sizeof(path), "/containers/%s/names/%s",
			         ids[i], names[j]);
			if (straw_reg_read(r, path, &v, &vl) < 0)
				continue;
			if (o.json) {
				printf("%s", j ? "," : "");
				put_json_str(stdout, names[j],
				             strlen(names[j]));
				printf(":%.*s", (int)vl, v);
			} else {
				printf("%s%s=%.*s", j ? "," : "", names[j],
				       (int)vl, v);
			}
			straw_free(v);
		}
		printf(o.json ? "}}" : (nnames ? "\n" : "-\n"));
		straw_reg_free_names(names, nnames);
	}
	if (o.json)
		printf("]\n");
	straw_reg_free_names(ids, nids);
	straw_reg_close(r);
	return CLI_EXIT_OK;
}

int
status_main(int argc, char **argv)
{
	straw_reg_status st;
	struct opts o;
	straw_reg *r;
	int rc;

	if (parse("status", argc, argv, 0, &o, "[--json]") < 0)
		return CLI_EXIT_USAGE;
	/* Asking whether strawd runs never starts it. */
	rc = straw_reg_connect(&r, NULL, STRAW_REG_NO_AUTOSTART);
	if (rc == STRAW_ENODAEMON) {
		if (o.json)
			printf("{\"running\":false}\n");
		fprintf(stderr, "straw status: %s\n", straw_reg_start_hint());
		return CLI_EXIT_FAIL;
	}
	if (rc < 0)
		return fail("status", NULL, rc);
	rc = straw_reg_status_get(r, &st);
	if (rc < 0) {
		straw_reg_close(r);
		return fail("status", NULL, rc);
	}
	if (o.json) {
		printf("{\"running\":true,\"pid\":%u,\"machine\":\"%016llx\","
		       "\"dir\":",
		       st.pid, (unsigned long long)st.machine);
		put_json_str(stdout, reg_client_dir(r),
		             strlen(reg_client_dir(r)));
		printf(",\"containers\":%u,\"nodes\":%u,\"connections\":%u,"
		       "\"watches\":%u,\"uptime_ms\":%llu,\"next_id\":%u",
		       st.containers, st.nodes, st.connections, st.watches,
		       (unsigned long long)st.uptime_ms, st.next_id);
		/* Each uid's use (only its own for a uid other than root). */
		printf(",");
		if (strawi_usage_print(r, 1, stdout) < 0)
			printf("\"usage\":null");
		printf("}\n");
	} else {
		printf("strawd is running\n"
		       "  pid          %u\n"
		       "  directory    %s\n"
		       "  machine id   %016llx\n"
		       "  containers   %u\n"
		       "  nodes        %u\n"
		       "  connections  %u\n"
		       "  watches      %u\n"
		       "  uptime       %llu ms\n",
		       st.pid, reg_client_dir(r),
		       (unsigned long long)st.machine, st.containers, st.nodes,
		       st.connections, st.watches,
		       (unsigned long long)st.uptime_ms);
		printf("  use of each uid against its quota (root has "
		       "none):\n");
		rc = strawi_usage_print(r, 0, stdout);
		if (rc < 0)
			printf("  (not available: %s)\n", straw_strerror(rc));
	}
	straw_reg_close(r);
	return CLI_EXIT_OK;
}
