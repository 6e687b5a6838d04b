/*
 * The registry with real processes: strawd started from the build tree in a
 * private runtime directory, containers as helper processes (this binary
 * run again with REGTEST_ROLE set), kill -9 of containers and of strawd,
 * another uid, concurrent writers, quotas, the lock, socket activation.
 */
#include "registry_util.h"

#include <pthread.h>
#include <stdint.h>
#include <sys/eventfd.h>
#include <sys/prctl.h>

#include <straw/alloc.h>
#include <straw/term.h>

#include "registry/client.h"
#include "registry/msg.h"
#include "strawd/server.h"

/* ---- helper processes --------------------------------------------------- */

/* A container: joins as $REGTEST_NAME, registers "srv" = $REGTEST_PROC,
 * watches /ping/NAME and answers each ping by writing /pong/NAME; prints
 * its id on stdout; exits when stdin closes. */
static int
role_container(void)
{
	const char *name = getenv("REGTEST_NAME");
	uint32_t proc = (uint32_t)atoi(getenv("REGTEST_PROC"));
	char ping[300], pong[300];
	straw_reg *r;
	uint32_t id, w;

	snprintf(ping, sizeof(ping), "/ping/%s", name);
	snprintf(pong, sizeof(pong), "/pong/%s", name);
	if (straw_reg_connect(&r, NULL, 0) < 0 ||
	    straw_reg_join(r, name, &id) < 0 ||
	    straw_reg_register(r, "srv", proc) < 0 ||
	    straw_reg_watch(r, ping, &w) < 0)
		return 2;
	printf("%u\n", id);
	fflush(stdout);
	for (;;) {
		struct pollfd p[2] = {{straw_reg_watch_fd(r), POLLIN, 0},
		                      {0, POLLIN, 0}};
		straw_reg_event ev;
		char *v;
		size_t vl;

		poll(p, 2, 1000);
		if (p[1].revents & (POLLIN | POLLHUP))
			break;
		while (straw_reg_next_event(r, &ev, 0) == 0) {
			/* A resync (strawd came back) means: re-read. */
			if (!(ev.flags & STRAW_REG_EVENT_RESYNC) &&
			    strcmp(ev.path, ping) != 0)
				continue;
			if (straw_reg_read(r, ping, &v, &vl) == 0) {
				straw_reg_write(r, pong, v, vl);
				straw_free(v);
			}
		}
	}
	straw_reg_close(r);
	return 0;
}

/* A writer: after a line on stdin, writes /w/K/0 .. /w/K/N-1 (mixing
 * pipelined and plain writes), then exits. */
static int
role_writer(void)
{
	const char *k = getenv("REGTEST_NAME");
	int n = atoi(getenv("REGTEST_PROC")), i, rc = 0;
	char path[64], val[16], line[16];
	straw_reg *r;

	if (straw_reg_connect(&r, NULL, 0) < 0)
		return 2;
	if (tu_read_line(0, line, sizeof(line), 20000) < 0)
		return 3;
	for (i = 0; i < n && rc == 0; i++) {
		snprintf(path, sizeof(path), "/w/%s/%d", k, i);
		snprintf(val, sizeof(val), "%d", i);
		rc = i % 3 ? straw_reg_write_async(r, path, val, strlen(val))
		           : straw_reg_write(r, path, val, strlen(val));
	}
	if (rc == 0)
		rc = straw_reg_sync(r);
	straw_reg_close(r);
	return rc == 0 ? 0 : 4;
}

/* Last words: joins as NAME, prints its id, and after a line on stdin
 * pipelines LW_WRITES writes of 32 KiB (one packet each) to /lw/<i> and
 * exits at once, without waiting for their acknowledgements. */
#define LW_WRITES 10
static int
role_lastwords(void)
{
	static char val[32768];
	char path[32], line[16];
	straw_reg *r;
	uint32_t id;
	int i;

	if (straw_reg_connect(&r, NULL, 0) < 0 ||
	    straw_reg_join(r, getenv("REGTEST_NAME"), &id) < 0)
		return 2;
	printf("%u\n", id);
	fflush(stdout);
	if (tu_read_line(0, line, sizeof(line), 20000) < 0)
		return 3;
	memset(val, 'x', sizeof(val));
	for (i = 0; i < LW_WRITES; i++) {
		snprintf(path, sizeof(path), "/lw/%d", i);
		if (straw_reg_write_async(r, path, val, sizeof(val)) < 0)
			_exit(4);
	}
	_exit(0);
}

__attribute__((constructor)) static void
run_role(void)
{
	const char *role = getenv("REGTEST_ROLE");

	if (role == NULL)
		return;
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (strcmp(role, "container") == 0)
		exit(role_container());
	if (strcmp(role, "writer") == 0)
		exit(role_writer());
	if (strcmp(role, "lastwords") == 0)
		exit(role_lastwords());
	exit(99);
}

struct helper {
	pid_t pid; /* the process */
	int in;    /* its stdin (write end) */
	int out;   /* its stdout (read end) */
};

static struct helper
spawn(const char *role, const char *name, int proc)
{
	struct helper h = {-1, -1, -1};
	int pin[2], pout[2];
	char num[16];

	snprintf(num, sizeof(num), "%d", proc);
	if (pipe2(pin, O_CLOEXEC) < 0 || pipe2(pout, O_CLOEXEC) < 0)
		return h;
	h.pid = fork();
	if (h.pid == 0) {
		dup2(pin[0], 0);
		dup2(pout[1], 1);
		setenv("REGTEST_ROLE", role, 1);
		setenv("REGTEST_NAME", name, 1);
		setenv("REGTEST_PROC", num, 1);
		execl(check_self_path(), check_self_path(), (char *)NULL);
		_exit(127);
	}
	close(pin[0]);
	close(pout[1]);
	h.in = pin[1];
	h.out = pout[0];
	tu_track_helper(h.pid);
	return h;
}

/* Closes the helper's stdin and waits for its exit status. */
static int
finish(struct helper *h)
{
	int st, i;

	close(h->in);
	close(h->out);
	st = check_wait_child(h->pid, 10000);
	for (i = 0; i < tu_nhelpers; i++)
		if (tu_helpers[i] == h->pid)
			tu_helpers[i] = tu_helpers[--tu_nhelpers];
	return st >= 0 && WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* Waits for an event on path (or below) within timeout_ms. */
static int
wait_event(straw_reg *r, const char *path, int timeout_ms)
{
	int64_t deadline = strawi_deadline_ms(timeout_ms);
	straw_reg_event ev;

	for (;;) {
		int64_t left = (deadline - strawi_now_ns()) / 1000000;
		int rc;
		if (left <= 0)
			return -ETIMEDOUT;
		rc = straw_reg_next_event(r, &ev, (int)left);
		if (rc < 0)
			return rc;
		if (strcmp(ev.path, path) == 0)
			return 0;
	}
}

static int
read_str(straw_reg *r, const char *path, char *out, size_t cap)
{
	char *v;
	size_t n;
	int rc = straw_reg_read(r, path, &v, &n);

	if (rc < 0)
		return rc;
	snprintf(out, cap, "%.*s", (int)n, v);
	straw_free(v);
	return 0;
}

/* ---- cases -------------------------------------------------------------- */

CASE(lock_and_lifecycle)
{
	char sock[400], msg[256] = "";
	pid_t pid, second;
	int errp[2], st;
	ssize_t n;

	tu_setup();
	pid = tu_start_strawd();
	CHECK(pid > 0);
	/* A second strawd for the same directory says who serves, exits 1. */
	CHECK_OK(pipe(errp));
	second = fork();
	if (second == 0) {
		dup2(errp[1], 2);
		execl(tu_strawd, tu_strawd, (char *)NULL);
		_exit(127);
	}
	close(errp[1]);
	st = check_wait_child(second, 10000);
	CHECK(st >= 0 && WIFEXITED(st));
	CHECK_EQ(WEXITSTATUS(st), 1);
	n = read(errp[0], msg, sizeof(msg) - 1);
	close(errp[0]);
	CHECK(n > 0);
	msg[n] = '\0';
	{
		char want[128];
		snprintf(want, sizeof(want), "already running as pid %d",
		         (int)pid);
		CHECK(strstr(msg, want) != NULL);
	}
	/* SIGINT (as SIGTERM): a clean exit that removes the socket. */
	kill(pid, SIGINT);
	st = check_wait_child(pid, 10000);
	CHECK(st >= 0 && WIFEXITED(st));
	CHECK_EQ(WEXITSTATUS(st), 0);
	snprintf(sock, sizeof(sock), "%s/strawd.sock", tu_dir);
	CHECK(access(sock, F_OK) < 0);
	/* No strawd and no autostart: STRAW_ENODAEMON at once. */
	{
		straw_reg *r;
		CHECK_RC(straw_reg_connect(&r, NULL, 0), STRAW_ENODAEMON);
	}
	tu_cleanup();
}

CASE(tree_operations)
{
	straw_reg *r;
	straw_reg_txn *t;
	straw_reg_perms p;
	char **names, v[64], big[1100];
	size_t n, nch;
	pid_t pid;

	tu_setup();
	pid = tu_start_strawd();
	CHECK_OK(straw_reg_connect(&r, NULL, 0));
	CHECK_OK(straw_reg_write(r, "/app/cfg/a", "1", 1));
	CHECK_OK(straw_reg_write(r, "/app/cfg/b", "2", 1));
	CHECK_OK(straw_reg_mkdir(r, "/app/empty"));
	CHECK_OK(read_str(r, "/app/cfg/b", v, sizeof(v)));
	CHECK_STR(v, "2");
	CHECK_OK(straw_reg_ls(r, "/app", &names, &n));
	CHECK_EQ(n, 2);
	CHECK_STR(names[0], "cfg");
	CHECK_STR(names[1], "empty");
	straw_reg_free_names(names, n);
	CHECK_OK(straw_reg_get_perms(r, "/app/cfg", &p, &nch));
	CHECK_EQ(p.owner, 0);
	CHECK_EQ(p.nread, 0);
	CHECK_EQ(nch, 2);
	CHECK_RC(read_str(r, "/app/none", v, sizeof(v)), -ENOENT);
	CHECK_RC(straw_reg_write(r, "/app/../etc", "x", 1), STRAW_EBADPATH);
	CHECK_RC(straw_reg_write(r, "app", "x", 1), STRAW_EBADPATH);
	memset(big, 'a', sizeof(big));
	big[0] = '/';
	big[1025] = '\0';
	CHECK_RC(straw_reg_write(r, big, "x", 1), STRAW_EBADPATH);
	big[1024] = '\0';
	CHECK_OK(straw_reg_write(r, big, "x", 1));
	CHECK_RC(straw_reg_rm(r, "/"), -EINVAL);

	/* A transaction applies all or nothing. */
	CHECK_OK(straw_reg_txn_begin(r, &t));
	CHECK_OK(straw_reg_txn_write(t, "/app/cfg/a", "10", 2));
	CHECK_OK(straw_reg_txn_rm(t, "/app/empty"));
	CHECK_OK(straw_reg_txn_check(t, "/app/cfg/b", "2", 1));
	CHECK_OK(straw_reg_txn_commit(t));
	CHECK_OK(read_str(r, "/app/cfg/a", v, sizeof(v)));
	CHECK_STR(v, "10");
	CHECK_RC(straw_reg_rm(r, "/app/empty"), -ENOENT);
	CHECK_OK(straw_reg_txn_begin(r, &t));
	CHECK_OK(straw_reg_txn_write(t, "/app/cfg/a", "20", 2));
	CHECK_OK(straw_reg_txn_write(t, "/app/new", "n", 1));
	CHECK_OK(straw_reg_txn_check(t, "/app/cfg/b", "3", 1));
	CHECK_RC(straw_reg_txn_commit(t), STRAW_ETXNCONFLICT);
	CHECK_OK(read_str(r, "/app/cfg/a", v, sizeof(v)));
	CHECK_STR(v, "10");
	CHECK_RC(read_str(r, "/app/new", v, sizeof(v)), -ENOENT);
	CHECK_OK(straw_reg_txn_begin(r, &t));
	CHECK_OK(straw_reg_txn_check(t, "/app/new", NULL, 0));
	CHECK_OK(straw_reg_txn_write(t, "/app/new", "n", 1));
	CHECK_OK(straw_reg_txn_commit(t));
	CHECK_OK(read_str(r, "/app/new", v, sizeof(v)));
	CHECK_STR(v, "n");

	/* A listing too big for one packet is refused, nothing else. */
	{
		char name[300];
		int i;
		memset(name, 'n', sizeof(name));
		memcpy(name, "/app/big/", 9);
		for (i = 0; i < 900; i++) {
			snprintf(name + 250, 20, "%d", i);
			CHECK_OK(straw_reg_write_async(r, name, "", 0));
		}
		CHECK_OK(straw_reg_sync(r));
		CHECK_RC(straw_reg_ls(r, "/app/big", &names, &n), -E2BIG);
		CHECK_OK(straw_reg_ls(r, "/app", &names, &n));
		straw_reg_free_names(names, n);
	}

	/* Recursive rm. */
	CHECK_OK(straw_reg_rm(r, "/app"));
	CHECK_RC(straw_reg_ls(r, "/app", &names, &n), -ENOENT);
	{
		uint64_t mid;
		straw_reg_status st;
		setenv("STRAW_MACHINE_ID", "0123456789abcdef", 1);
		CHECK_OK(straw_machine_id(&mid));
		CHECK_EQ_U(mid, 0x0123456789abcdefULL);
		setenv("STRAW_MACHINE_ID", "xyz", 1);
		CHECK_RC(straw_machine_id(&mid), -EINVAL);
		unsetenv("STRAW_MACHINE_ID");
		CHECK_OK(straw_reg_status_get(r, &st));
		CHECK_EQ(st.pid, pid);
		CHECK_OK(straw_machine_id(&mid));
		CHECK_EQ_U(st.machine, mid);
	}
	straw_reg_close(r);
	CHECK_EQ(tu_stop_strawd(pid), 0);
	tu_cleanup();
}

CASE(registration_and_conflicts)
{
	straw_reg *a, *b, *c;
	uint32_t ida, idb, proc, id;
	char v[64];
	pid_t pid;

	tu_setup();
	pid = tu_start_strawd();
	CHECK_OK(straw_reg_connect(&a, NULL, 0));
	CHECK_OK(straw_reg_connect(&b, NULL, 0));
	CHECK_OK(straw_reg_connect(&c, NULL, 0));
	CHECK_RC(straw_reg_register(a, "x", 1), STRAW_ENOTJOINED);
	CHECK_OK(straw_reg_join(a, "alpha", &ida));
	CHECK_EQ(ida, 1);
	CHECK_EQ(straw_reg_container_id(a), 1);
	CHECK_RC(straw_reg_join(a, "again", &id), -EALREADY);
	CHECK_RC(straw_reg_join(b, "alpha", &idb), STRAW_ENAMETAKEN);
	CHECK_RC(straw_reg_join(b, "strawd", &idb), STRAW_ENAMETAKEN);
	CHECK_RC(straw_reg_join(b, "123", &idb), -EINVAL);
	CHECK_RC(straw_reg_join(b, "a/b", &idb), -EINVAL);
	CHECK_OK(straw_reg_join(b, "beta", &idb));
	CHECK_EQ(idb, 2);
	CHECK_OK(straw_reg_register(a, "server", 7));
	CHECK_OK(straw_reg_register(a, "logger", 8));
	CHECK_RC(straw_reg_register(a, "server", 9), STRAW_ENAMETAKEN);
	CHECK_OK(straw_reg_register(b, "server", 70)); /* per container */
	CHECK_OK(straw_reg_lookup(c, "alpha", "server", &proc));
	CHECK_EQ(proc, 7);
	CHECK_OK(straw_reg_lookup(c, "1", "logger", &proc));
	CHECK_EQ(proc, 8);
	CHECK_OK(straw_reg_lookup(c, "beta", "server", &proc));
	CHECK_EQ(proc, 70);
	CHECK_RC(straw_reg_lookup(c, "alpha", "nobody", &proc), STRAW_ENONAME);
	CHECK_RC(straw_reg_lookup(c, "gamma", "server", &proc),
	         STRAW_ENOCONTAINER);
	CHECK_RC(straw_reg_lookup(c, "99", "server", &proc),
	         STRAW_ENOCONTAINER);
	CHECK_OK(straw_reg_unregister(a, "server"));
	CHECK_RC(straw_reg_lookup(c, "alpha", "server", &proc), STRAW_ENONAME);
	CHECK_RC(straw_reg_unregister(a, "server"), STRAW_ENONAME);
	/* The registry shows it as DESIGN.md lays it out; strawd is
	 * container 0. */
	CHECK_OK(read_str(c, "/names/strawd", v, sizeof(v)));
	CHECK_STR(v, "0");
	{
		char pidv[32], want[32];
		CHECK_OK(read_str(c, "/containers/0/pid", pidv, sizeof(pidv)));
		snprintf(want, sizeof(want), "%d", (int)pid);
		CHECK_STR(pidv, want);
	}
	CHECK_OK(read_str(c, "/names/alpha", v, sizeof(v)));
	CHECK_STR(v, "1");
	CHECK_OK(read_str(c, "/containers/2/name", v, sizeof(v)));
	CHECK_STR(v, "beta");
	CHECK_OK(read_str(c, "/containers/1/names/logger", v, sizeof(v)));
	CHECK_STR(v, "8");
	snprintf(v, sizeof(v), "%d", (int)getpid());
	{
		char pidv[64];
		CHECK_OK(read_str(c, "/containers/1/pid", pidv, sizeof(pidv)));
		CHECK_STR(pidv, v);
	}
	/* A container that closes leaves; its name is free again, and its
	 * id is not given out again. */
	{
		uint32_t w;
		CHECK_OK(straw_reg_watch(c, "/names/alpha", &w));
		straw_reg_close(a);
		CHECK_OK(wait_event(c, "/names/alpha", 5000));
	}
	CHECK_RC(read_str(c, "/names/alpha", v, sizeof(v)), -ENOENT);
	CHECK_OK(straw_reg_join(c, "alpha", &id));
	CHECK_EQ(id, 3);
	straw_reg_close(b);
	straw_reg_close(c);
	/* Ids survive a restart of strawd within the boot. */
	CHECK_EQ(tu_stop_strawd(pid), 0);
	pid = tu_start_strawd();
	CHECK_OK(straw_reg_connect(&a, NULL, 0));
	CHECK_OK(straw_reg_join(a, "delta", &id));
	CHECK_EQ(id, 4);
	straw_reg_close(a);
	CHECK_EQ(tu_stop_strawd(pid), 0);
	tu_cleanup();
}

/* Joins over a raw connection asking for a given id; returns the reply's
 * code. */
static int
raw_join(const char *name, uint32_t want)
{
	straw_buf pkt = STRAW_BUF_INIT;
	straw_builder b;
	uint8_t buf[4096];
	const uint8_t *frame;
	struct reg_in in;
	size_t off = 0, flen;
	ssize_t n;
	int fd = tu_raw_connect(), rc = -EIO;

	straw_builder_init(&b);
	if (fd >= 0 && reg_enc_hello(&pkt, &b, 1) == 0 &&
	    send(fd, pkt.data, pkt.len, 0) == (ssize_t)pkt.len &&
	    tu_raw_recv(fd, buf, sizeof(buf), 5000) > 0) {
		pkt.len = 0;
		if (reg_enc_join(&pkt, &b, 2, name, want) == 0 &&
		    send(fd, pkt.data, pkt.len, 0) == (ssize_t)pkt.len &&
		    (n = tu_raw_recv(fd, buf, sizeof(buf), 5000)) > 0 &&
		    reg_frame_next(buf, (size_t)n, &off, &frame, &flen) == 1 &&
		    reg_msg_decode_in(frame, flen, &in) == 0 && in.id == 2)
			rc = in.rc;
	}
	if (fd >= 0)
		close(fd);
	straw_builder_fini(&b);
	straw_buf_fini(&pkt);
	return rc;
}

CASE(container_kill9)
{
	straw_reg *r;
	struct helper h;
	char line[32], path[64], v[16];
	uint32_t w, id;
	int64_t t0, dt, t_exit = 0, t_event = 0;
	pid_t pid;
	int pfd;

	tu_setup();
	pid = tu_start_strawd();
	h = spawn("container", "victim", 5);
	CHECK(tu_read_line(h.out, line, sizeof(line), 10000) > 0);
	id = (uint32_t)atoi(line);
	CHECK_OK(straw_reg_connect(&r, NULL, 0));
	CHECK_OK(read_str(r, "/names/victim", v, sizeof(v)));
	CHECK_EQ(atoi(v), id);
	CHECK_OK(straw_reg_watch(r, "/containers", &w));
	snprintf(path, sizeof(path), "/containers/%u", id);
	/* Measured from the moment the kernel reports the process gone (its
	 * pidfd).  The time from kill() also includes the kernel tearing the
	 * process's memory down before it closes its files, which for a
	 * sanitizer build on a loaded machine can take hundreds of ms. */
	pfd = (int)syscall(SYS_pidfd_open, h.pid, 0);
	CHECK(pfd >= 0);
	t0 = strawi_now_ns();
	kill(h.pid, SIGKILL);
	while (t_exit == 0 || t_event == 0) {
		struct pollfd p[2] = {{pfd, POLLIN, 0},
		                      {straw_reg_watch_fd(r), POLLIN, 0}};
		straw_reg_event ev;
		CHECK(strawi_now_ns() - t0 < 10000 * 1000000LL);
		poll(p, 2, 1000);
		if (t_exit == 0 && (p[0].revents & POLLIN))
			t_exit = strawi_now_ns();
		while (t_event == 0 && straw_reg_next_event(r, &ev, 0) == 0)
			if (strcmp(ev.path, path) == 0)
				t_event = strawi_now_ns();
	}
	close(pfd);
	dt = t_event - t_exit;
	fprintf(stderr,
	        "container gone: watcher told %.2f ms after its exit "
	        "(%.2f ms after kill)\n",
	        (double)dt / 1e6, (double)(t_event - t0) / 1e6);
	CHECK(dt < 50 * 1000000LL);
	CHECK_RC(read_str(r, "/names/victim", v, sizeof(v)), -ENOENT);
	CHECK_RC(read_str(r, path, v, sizeof(v)), -ENOENT);
	/* Its id is not given to anyone else: not by a claim, ... */
	CHECK_RC(raw_join("impostor", id), -EPERM);
	CHECK_RC(raw_join("impostor", id + 1000), -EINVAL);
	/* ... nor as a new id. */
	{
		uint32_t nid;
		straw_reg *c;
		CHECK_OK(straw_reg_connect(&c, NULL, 0));
		CHECK_OK(straw_reg_join(c, "next", &nid));
		CHECK_EQ(nid, id + 1);
		/* A live container's id cannot be claimed either. */
		CHECK_RC(raw_join("impostor", nid), -EEXIST);
		straw_reg_close(c);
	}
	finish(&h);
	straw_reg_close(r);
	CHECK_EQ(tu_stop_strawd(pid), 0);
	tu_cleanup();
}

/*
 * A container's last requests are served before strawd reports it gone:
 * strawd is stopped (SIGSTOP) while the container sends more packets than
 * strawd reads in one turn and exits, then continued; a watcher must see
 * every write before /containers/<id> goes.
 */
CASE(container_exit_last_words_first)
{
	straw_reg *r;
	struct helper h;
	straw_reg_event ev;
	char line[32], path[64];
	uint32_t w1, w2, id;
	int seen = 0, gone = 0, rc, code;
	pid_t pid;

	tu_setup();
	pid = tu_start_strawd();
	CHECK(pid > 0);
	h = spawn("lastwords", "lw", 0);
	CHECK(tu_read_line(h.out, line, sizeof(line), 10000) > 0);
	id = (uint32_t)atoi(line);
	CHECK_OK(straw_reg_connect(&r, NULL, 0));
	CHECK_OK(straw_reg_watch(r, "/lw", &w1));
	snprintf(path, sizeof(path), "/containers/%u", id);
	CHECK_OK(straw_reg_watch(r, path, &w2));
	CHECK_OK(kill(pid, SIGSTOP));
	rc = write(h.in, "go\n", 3) == 3 ? 0 : -1;
	code = finish(&h); /* it exited with its packets in strawd's queue */
	CHECK_OK(kill(pid, SIGCONT));
	CHECK_OK(rc);
	CHECK_EQ(code, 0);
	while (!gone && straw_reg_next_event(r, &ev, 10000) == 0) {
		int i;
		if (strcmp(ev.path, path) == 0)
			gone = 1;
		else if (sscanf(ev.path, "/lw/%d", &i) == 1)
			seen++;
	}
	CHECK(gone);
	CHECK_EQ(seen, LW_WRITES);
	straw_reg_close(r);
	CHECK_EQ(tu_stop_strawd(pid), 0);
	tu_cleanup();
}

/* Starts n containers c0..c(n-1) and returns their ids. */
static void
start_containers(struct helper *h, uint32_t *ids, int n)
{
	char name[16], line[32];
	int i;

	for (i = 0; i < n; i++) {
		snprintf(name, sizeof(name), "c%d", i);
		h[i] = spawn("container", name, 100 + i);
	}
	for (i = 0; i < n; i++) {
		CHECK(tu_read_line(h[i].out, line, sizeof(line), 10000) > 0);
		ids[i] = (uint32_t)atoi(line);
	}
}

/* Whether every container is back: same id, same name, same registered
 * name. */
static int
all_back(straw_reg *r, const uint32_t *ids, int n)
{
	char path[64], v[64], want[16];
	uint32_t proc;
	int i;

	for (i = 0; i < n; i++) {
		snprintf(path, sizeof(path), "/names/c%d", i);
		if (read_str(r, path, v, sizeof(v)) < 0 ||
		    (uint32_t)atoi(v) != ids[i])
			return 0;
		snprintf(path, sizeof(path), "/containers/%u/name", ids[i]);
		snprintf(want, sizeof(want), "c%d", i);
		if (read_str(r, path, v, sizeof(v)) < 0 || strcmp(v, want) != 0)
			return 0;
		if (straw_reg_lookup(r, want, "srv", &proc) < 0 ||
		    proc != (uint32_t)(100 + i))
			return 0;
	}
	return 1;
}

/* After a strawd restart: every container is back with the same id and
 * names within 1 s (checked again at each change of /containers or
 * /names), and its watch answers pings. */
static void
check_recovered(const uint32_t *ids, int n, int64_t t0)
{
	straw_reg *r;
	char path[64], v[64];
	uint32_t w;
	int i;
	int64_t dt;

	/* (The containers start strawd if need be; this test client never
	 * does.) */
	CHECK_OK(tu_connect_wait(&r, 1000));
	CHECK_OK(straw_reg_watch(r, "/names", &w));
	CHECK_OK(straw_reg_watch(r, "/containers", &w));
	while (!all_back(r, ids, n)) {
		straw_reg_event ev;
		int64_t left = 1000 - (strawi_now_ns() - t0) / 1000000;
		CHECK(left > 0);
		straw_reg_next_event(r, &ev, (int)left);
	}
	dt = strawi_now_ns() - t0;
	fprintf(stderr, "%d containers back after %.1f ms\n", n,
	        (double)dt / 1e6);
	CHECK(dt < 1000 * 1000000LL);
	/* Watches are back: each container answers a ping. */
	CHECK_OK(straw_reg_watch(r, "/pong", &w));
	for (i = 0; i < n; i++) {
		char want[32];
		snprintf(path, sizeof(path), "/ping/c%d", i);
		snprintf(want, sizeof(want), "p%d", i);
		CHECK_OK(straw_reg_write(r, path, want, strlen(want)));
		snprintf(path, sizeof(path), "/pong/c%d", i);
		CHECK_OK(wait_event(r, path, 1000));
		CHECK_OK(read_str(r, path, v, sizeof(v)));
		CHECK_STR(v, want);
	}
	straw_reg_close(r);
}

CASE(strawd_kill9_recovery)
{
	struct helper h[3];
	uint32_t ids[3];
	int64_t t0;
	pid_t pid;
	int i;

	tu_setup();
	pid = tu_start_strawd();
	start_containers(h, ids, 3);
	tu_kill9(pid);
	pid = tu_start_strawd();
	CHECK(pid > 0);
	t0 = strawi_now_ns();
	check_recovered(ids, 3, t0);
	for (i = 0; i < 3; i++)
		CHECK_EQ(finish(&h[i]), 0);
	CHECK_EQ(tu_stop_strawd(pid), 0);
	tu_cleanup();
}

CASE(strawd_kill9_autostart)
{
	struct helper h[3];
	uint32_t ids[3];
	straw_reg_status st;
	straw_reg *r;
	int64_t t0;
	pid_t pid;
	int i;

	tu_setup();
	pid = tu_start_strawd();
	setenv("STRAW_AUTOSTART", "1", 1); /* the containers restart it */
	start_containers(h, ids, 3);
	/* From strawd's end (it is reaped): its teardown is the kernel's. */
	tu_kill9(pid);
	t0 = strawi_now_ns();
	check_recovered(ids, 3, t0);
	CHECK_OK(straw_reg_connect(&r, NULL, STRAW_REG_NO_AUTOSTART));
	CHECK_OK(straw_reg_status_get(r, &st));
	straw_reg_close(r);
	CHECK(st.pid != (uint32_t)pid);
	for (i = 0; i < 3; i++)
		CHECK_EQ(finish(&h[i]), 0);
	/* The autostarted strawd is not our child: stop it by its pid. */
	kill((pid_t)st.pid, SIGTERM);
	CHECK_OK(tu_wait_gone((pid_t)st.pid, 10000));
	setenv("STRAW_AUTOSTART", "0", 1);
	tu_cleanup();
}

CASE(autostart_connect)
{
	straw_reg_status st;
	straw_reg *r;

	tu_setup();
	setenv("STRAW_AUTOSTART", "1", 1);
	CHECK_OK(straw_reg_connect(&r, NULL, 0));
	CHECK_OK(straw_reg_status_get(r, &st));
	CHECK(st.pid > 0);
	straw_reg_close(r);
	kill((pid_t)st.pid, SIGTERM);
	CHECK_OK(tu_wait_gone((pid_t)st.pid, 10000));
	/* Told not to: no strawd appears. */
	CHECK_RC(straw_reg_connect(&r, NULL, STRAW_REG_NO_AUTOSTART),
	         STRAW_ENODAEMON);
	setenv("STRAW_AUTOSTART", "0", 1);
	CHECK_RC(straw_reg_connect(&r, NULL, 0), STRAW_ENODAEMON);
	tu_cleanup();
}

CASE(permission_nobody)
{
	straw_reg *r;
	pid_t pid, child;
	int st;

	tu_setup();
	pid = tu_start_strawd();
	CHECK_OK(straw_reg_connect(&r, NULL, 0));
	CHECK_OK(straw_reg_write(r, "/secret/key", "s3cr3t", 6));
	CHECK_OK(straw_reg_write(r, "/public", "hello", 5));
	{
		straw_reg_perms p = {0};
		p.nread = 1;
		p.read[0] = STRAW_REG_ANYONE;
		CHECK_OK(straw_reg_set_perms(r, "/public", &p));
	}
	straw_reg_close(r); /* no thread of ours lives across the fork */
	child = fork();
	if (child == 0) {
		char *v;
		size_t n;
		uint32_t id, w;
		char path[128];
		int code = 0;
		if (setgid(65534) < 0 || setuid(65534) < 0)
			_exit(90);
		if (straw_reg_connect(&r, NULL, 0) < 0)
			_exit(91);
		if (straw_reg_read(r, "/secret/key", &v, &n) != -EACCES)
			code = 1;
		else if (straw_reg_write(r, "/secret/key", "x", 1) != -EACCES)
			code = 2;
		else if (straw_reg_write(r, "/mine", "x", 1) != -EACCES)
			code = 3;
		else if (straw_reg_rm(r, "/secret") != -EACCES)
			code = 4;
		else if (straw_reg_watch(r, "/secret/key", &w) != -EACCES)
			code = 5;
		else if (straw_reg_read(r, "/public", &v, &n) != 0 || n != 5 ||
		         memcmp(v, "hello", 5) != 0)
			code = 6;
		else if (straw_reg_write(r, "/public", "x", 1) != -EACCES)
			code = 7;
		else if (straw_reg_join(r, "nobodys", &id) != 0)
			code = 8;
		else if (snprintf(path, sizeof(path), "/containers/%u/data/x",
		                  id) < 0 ||
		         straw_reg_write(r, path, "ok", 2) != 0)
			code = 9;
		else if (snprintf(path, sizeof(path), "/containers/%u/name",
		                  id) < 0 ||
		         straw_reg_write(r, path, "evil", 4) != -EACCES)
			code = 10;
		straw_reg_close(r);
		_exit(code);
	}
	st = check_wait_child(child, 20000);
	CHECK(st >= 0 && WIFEXITED(st));
	CHECK_EQ(WEXITSTATUS(st), 0);
	/* Nothing of what nobody tried changed anything. */
	CHECK_OK(straw_reg_connect(&r, NULL, 0));
	{
		char v[32];
		CHECK_OK(read_str(r, "/secret/key", v, sizeof(v)));
		CHECK_STR(v, "s3cr3t");
		CHECK_OK(read_str(r, "/public", v, sizeof(v)));
		CHECK_STR(v, "hello");
		CHECK_RC(read_str(r, "/mine", v, sizeof(v)), -ENOENT);
	}
	straw_reg_close(r);
	CHECK_EQ(tu_stop_strawd(pid), 0);
	tu_cleanup();
}

#define WRITERS 4

CASE(watch_order_concurrent)
{
	const int per = getenv("REGTEST_SCALE") ? 20000 : 2000;
	struct helper h[WRITERS];
	straw_reg *a, *b;
	int *next, i, k, total = 0;
	uint32_t wa, wb;
	char(*seq)[24];
	pid_t pid;

	tu_setup();
	pid = tu_start_strawd();
	for (k = 0; k < WRITERS; k++) {
		char name[8];
		snprintf(name, sizeof(name), "%d", k);
		h[k] = spawn("writer", name, per);
	}
	CHECK_OK(straw_reg_connect(&a, NULL, 0));
	CHECK_OK(straw_reg_connect(&b, NULL, 0));
	CHECK_OK(straw_reg_mkdir(a, "/w"));
	CHECK_OK(straw_reg_watch(a, "/w", &wa));
	CHECK_OK(straw_reg_watch(b, "/w", &wb));
	for (k = 0; k < WRITERS; k++)
		CHECK(write(h[k].in, "go\n", 3) == 3);
	/* Watcher a: every path of each writer, in the writer's order. */
	next = calloc(WRITERS, sizeof(int));
	seq = calloc((size_t)(WRITERS * (per + 1)), sizeof(*seq));
	while (total < WRITERS * (per + 1)) {
		straw_reg_event ev;
		int kk, ii, nn = 0;
		CHECK_OK(straw_reg_next_event(a, &ev, 10000));
		CHECK_EQ(ev.watch, wa);
		snprintf(seq[total++], sizeof(seq[0]), "%.20s", ev.path);
		if (sscanf(ev.path, "/w/%d/%d%n", &kk, &ii, &nn) == 2 &&
		    ev.path[nn] == '\0') {
			CHECK(kk >= 0 && kk < WRITERS);
			CHECK_EQ(ii, next[kk]);
			next[kk]++;
		} else {
			CHECK(sscanf(ev.path, "/w/%d%n", &kk, &nn) == 1 &&
			      ev.path[nn] == '\0');
			CHECK_EQ(next[kk], 0); /* the parent comes first */
		}
	}
	for (k = 0; k < WRITERS; k++)
		CHECK_EQ(next[k], per);
	/* Watcher b saw the very same interleaving. */
	for (i = 0; i < total; i++) {
		straw_reg_event ev;
		CHECK_OK(straw_reg_next_event(b, &ev, 10000));
		CHECK_STR(ev.path, seq[i]);
	}
	{
		straw_reg_event ev;
		CHECK_RC(straw_reg_next_event(a, &ev, 0), -ETIMEDOUT);
	}
	free(next);
	free(seq);
	for (k = 0; k < WRITERS; k++)
		CHECK_EQ(finish(&h[k]), 0);
	straw_reg_close(a);
	straw_reg_close(b);
	CHECK_EQ(tu_stop_strawd(pid), 0);
	tu_cleanup();
}

/* nobody's half of `quotas`: two connections of one uid share its
 * quotas of nodes and watches.  Exits 0 when every check holds. */
static int
quotas_as_nobody(void)
{
	straw_reg *r1, *r2;
	char path[64];
	uint32_t w[4];
	int i;

	if (setgid(65534) < 0 || setuid(65534) < 0)
		return 90;
	if (straw_reg_connect(&r1, NULL, 0) < 0 ||
	    straw_reg_connect(&r2, NULL, 0) < 0)
		return 91;
	/* /q/0../q/9: ten nodes, whichever connection makes them. */
	for (i = 0; i < 10; i++) {
		snprintf(path, sizeof(path), "/q/%d", i);
		if (straw_reg_write(i % 2 ? r2 : r1, path, "v", 1) != 0)
			return 1;
	}
	if (straw_reg_write(r1, "/q/10", "v", 1) != STRAW_EQUOTA ||
	    straw_reg_write(r2, "/q/10", "v", 1) != STRAW_EQUOTA ||
	    straw_reg_mkdir(r2, "/q/x/y") != STRAW_EQUOTA)
		return 2;
	/* Rewriting costs no node; removing one gives it back. */
	if (straw_reg_write(r2, "/q/0", "rewrite is free", 15) != 0 ||
	    straw_reg_rm(r1, "/q/9") != 0 ||
	    straw_reg_write(r2, "/q/10", "v", 1) != 0)
		return 3;
	/* Watches: three for the uid. */
	if (straw_reg_watch(r1, "/q", &w[0]) != 0 ||
	    straw_reg_watch(r2, "/q", &w[1]) != 0 ||
	    straw_reg_watch(r1, "/q", &w[2]) != 0 ||
	    straw_reg_watch(r2, "/q", &w[3]) != STRAW_EQUOTA ||
	    straw_reg_unwatch(r1, w[0]) != 0 ||
	    straw_reg_watch(r2, "/q", &w[3]) != 0)
		return 4;
	straw_reg_close(r2);
	/* What the closed connection made still counts. */
	if (straw_reg_write(r1, "/q/11", "v", 1) != STRAW_EQUOTA)
		return 5;
	straw_reg_close(r1);
	return 0;
}

CASE(quotas)
{
	static const char *const args[] = {"--quota-nodes",
	                                   "10",
	                                   "--quota-value",
	                                   "100",
	                                   "--quota-watches",
	                                   "3",
	                                   "--quota-queue",
	                                   "65536",
	                                   NULL};
	char path[256], val[200];
	straw_reg *r, *other;
	straw_reg_perms perms = {0};
	straw_reg_status st;
	pid_t pid, child;
	int i, code;

	if (geteuid() != 0) {
		fprintf(stderr,
		        "quotas: must run as root (checks uid 65534)\n");
		CHECK(geteuid() == 0);
	}
	tu_setup();
	pid = tu_start_strawd_args(args);
	CHECK_OK(straw_reg_connect(&r, NULL, 0));
	CHECK_OK(straw_reg_connect(&other, NULL, 0));
	/* Quotas are per uid, and root has none. */
	for (i = 0; i < 12; i++) {
		snprintf(path, sizeof(path), "/root/%d", i);
		CHECK_OK(straw_reg_write(r, path, "v", 1));
	}
	CHECK_OK(straw_reg_mkdir(r, "/q"));
	perms.owner = 65534;
	CHECK_OK(straw_reg_set_perms(r, "/q", &perms));
	straw_reg_close(r); /* no thread of ours lives across the fork */
	straw_reg_close(other);
	child = fork();
	if (child == 0)
		_exit(quotas_as_nobody());
	code = check_wait_child(child, 20000);
	CHECK(code >= 0 && WIFEXITED(code));
	CHECK_EQ(WEXITSTATUS(code), 0);
	CHECK_OK(straw_reg_connect(&r, NULL, 0));
	CHECK_OK(straw_reg_connect(&other, NULL, 0));
	CHECK_RC(read_str(r, "/q/9", val, sizeof(val)), -ENOENT);
	/* Values: one size for everyone. */
	memset(val, 'v', sizeof(val));
	CHECK_OK(straw_reg_write(r, "/root/0", val, 100));
	CHECK_RC(straw_reg_write(r, "/root/0", val, 101), STRAW_EVALUESIZE);
	straw_reg_close(r);

	/* A client that never reads its events is cut off; others are
	 * served meanwhile and after. */
	{
		static const uint8_t hello[] = {0,   0,   0,  14,  131, 104,
		                                3,   119, 5,  'h', 'e', 'l',
		                                'l', 'o', 97, 1,   97,  1};
		static const uint8_t watch[] = {
		        0,   0,   0,   21,  131, 104, 4, 119, 5,
		        'w', 'a', 't', 'c', 'h', 97,  2, 109, 0,
		        0,   0,   2,   '/', 'o', 97,  7};
		uint8_t buf[65536];
		ssize_t n;
		int fd = tu_raw_connect(), saw_eof = 0;
		CHECK(fd >= 0);
		CHECK(send(fd, hello, sizeof(hello), 0) ==
		      (ssize_t)sizeof(hello));
		CHECK(send(fd, watch, sizeof(watch), 0) ==
		      (ssize_t)sizeof(watch));
		CHECK(tu_raw_recv(fd, buf, sizeof(buf), 5000) > 0);
		for (i = 0; i < 30000; i++) {
			/* Long paths: events outgrow every buffer fast. */
			snprintf(path, sizeof(path), "/o/%0200d", i % 5);
			CHECK_OK(straw_reg_write_async(other, path, "x", 1));
		}
		CHECK_OK(straw_reg_sync(other));
		CHECK_OK(straw_reg_status_get(other, &st));
		while ((n = tu_raw_recv(fd, buf, sizeof(buf), 5000)) > 0)
			;
		saw_eof = n == 0;
		CHECK(saw_eof);
		close(fd);
	}
	CHECK_OK(straw_reg_status_get(other, &st));
	CHECK_EQ(st.connections, 1);

	/* The same through the library: the connection is cut, comes back
	 * by itself, and the application learns that it missed events. */
	{
		straw_reg *lazy;
		straw_reg_event ev;
		uint32_t lw;
		int resync = 0, got = 0;
		CHECK_OK(straw_reg_connect(&lazy, NULL, 0));
		CHECK_OK(straw_reg_watch(lazy, "/o", &lw));
		for (i = 0; i < 30000; i++) {
			snprintf(path, sizeof(path), "/o/%0200d", i % 5);
			CHECK_OK(straw_reg_write_async(other, path, "y", 1));
		}
		CHECK_OK(straw_reg_sync(other));
		while (!resync && straw_reg_next_event(lazy, &ev, 5000) == 0) {
			got++;
			resync = (ev.flags & STRAW_REG_EVENT_RESYNC) != 0;
		}
		CHECK(resync);
		CHECK(got < 30000); /* not everything came through */
		/* Watching again: a new change is reported.  (A resync here
		 * means the connection was cut once more while catching up,
		 * and the change may be among what was missed: change it
		 * again.) */
		for (i = 0, got = 0; i < 20 && !got; i++) {
			char mark[16];
			snprintf(mark, sizeof(mark), "%d", i);
			CHECK_OK(straw_reg_write(other, "/o/after", mark,
			                         strlen(mark)));
			while (!got &&
			       straw_reg_next_event(lazy, &ev, 5000) == 0) {
				if (ev.flags & STRAW_REG_EVENT_RESYNC)
					break;
				got = strcmp(ev.path, "/o/after") == 0;
			}
		}
		CHECK(got);
		straw_reg_close(lazy);
	}
	straw_reg_close(other);
	CHECK_EQ(tu_stop_strawd(pid), 0);
	tu_cleanup();
}

/* Sends a packet and returns what comes back: > 0 a reply, 0 closed. */
static ssize_t
raw_exchange(int fd, const void *pkt, size_t len, uint8_t *buf, size_t cap)
{
	if (send(fd, pkt, len, MSG_NOSIGNAL) != (ssize_t)len)
		return 0;
	return tu_raw_recv(fd, buf, cap, 5000);
}

/* An error reply {reply, Id, {error, Code, Name}} for Id < 256. */
static int
is_error_reply(const uint8_t *b, ssize_t n, int id, int code)
{
	/* 4 len, 131, 104 3, 119 5 "reply", 97 id, 104 3, 119 5 "error",
	 * 98 int32, then the name */
	int32_t c;

	if (n < 30 || b[4] != 131 || b[5] != 104 || b[9] != 'r' ||
	    b[14] != 97 || b[15] != id || b[16] != 104 || b[20] != 'e' ||
	    b[25] != 98)
		return 0;
	c = (int32_t)((uint32_t)b[26] << 24 | (uint32_t)b[27] << 16 |
	              (uint32_t)b[28] << 8 | b[29]);
	return c == code;
}

CASE(hostile_frames)
{
	static const uint8_t hello[] = {0,   0,   0,  14,  131, 104,
	                                3,   119, 5,  'h', 'e', 'l',
	                                'l', 'o', 97, 1,   97,  1};
	/* {read, 9, <<"/a/../b">>} */
	static const uint8_t dotdot[] = {
	        0, 0,   0, 23, 131, 104, 3,   119, 4,   'r', 'e', 'a', 'd', 97,
	        9, 109, 0, 0,  0,   7,   '/', 'a', '/', '.', '.', '/', 'b'};
	/* {read, 9, <<"/a", 0, "b">>} */
	static const uint8_t nul[] = {0, 0,   0,   20,  131, 104, 3, 119,
	                              4, 'r', 'e', 'a', 'd', 97,  9, 109,
	                              0, 0,   0,   4,   '/', 'a', 0, 'b'};
	/* {read, 9, 42}: the wrong type */
	static const uint8_t wrongtype[] = {0,   0,   0, 13,  131, 104,
	                                    3,   119, 4, 'r', 'e', 'a',
	                                    'd', 97,  9, 97,  42};
	/* a frame whose length runs past the packet */
	static const uint8_t overrun[] = {0, 0, 1, 0, 131, 106};
	/* a truncated term */
	static const uint8_t trunc[] = {0, 0, 0, 5, 131, 104, 3, 119, 4};
	uint8_t buf[4096], *huge;
	char longpath[1200];
	straw_reg *r;
	ssize_t n;
	pid_t pid;
	int fd;

	tu_setup();
	pid = tu_start_strawd();
	CHECK_OK(straw_reg_connect(&r, NULL, 0));
	CHECK_OK(straw_reg_write(r, "/b", "keep", 4));

	/* A request before the handshake: an error, then hang-up. */
	fd = tu_raw_connect();
	n = raw_exchange(fd, dotdot, sizeof(dotdot), buf, sizeof(buf));
	CHECK(is_error_reply(buf, n, 9, STRAW_EPROTOCOL));
	CHECK_EQ(tu_raw_recv(fd, buf, sizeof(buf), 5000), 0);
	close(fd);

	fd = tu_raw_connect();
	CHECK(raw_exchange(fd, hello, sizeof(hello), buf, sizeof(buf)) > 0);
	n = raw_exchange(fd, dotdot, sizeof(dotdot), buf, sizeof(buf));
	CHECK(is_error_reply(buf, n, 9, STRAW_EBADPATH));
	n = raw_exchange(fd, nul, sizeof(nul), buf, sizeof(buf));
	CHECK(is_error_reply(buf, n, 9, STRAW_EBADPATH));
	n = raw_exchange(fd, wrongtype, sizeof(wrongtype), buf, sizeof(buf));
	CHECK(is_error_reply(buf, n, 9, STRAW_EPROTOCOL));
	{
		/* {read, 9, <<"/", 1100 x "a">>} */
		uint8_t pkt[1300];
		size_t plen = 1101, len = 16 + plen;
		memcpy(pkt, dotdot, 20);
		pkt[3] = (uint8_t)len;
		pkt[2] = (uint8_t)(len >> 8);
		pkt[18] = (uint8_t)(plen >> 8);
		pkt[19] = (uint8_t)plen;
		pkt[20] = '/';
		memset(pkt + 21, 'a', plen - 1);
		n = raw_exchange(fd, pkt, 20 + plen, buf, sizeof(buf));
		CHECK(is_error_reply(buf, n, 9, STRAW_EBADPATH));
	}
	/* Broken framing: the connection is dropped. */
	CHECK_EQ(raw_exchange(fd, overrun, sizeof(overrun), buf, sizeof(buf)),
	         0);
	close(fd);
	fd = tu_raw_connect();
	CHECK(raw_exchange(fd, hello, sizeof(hello), buf, sizeof(buf)) > 0);
	CHECK_EQ(raw_exchange(fd, trunc, sizeof(trunc), buf, sizeof(buf)), 0);
	close(fd);
	fd = tu_raw_connect();
	CHECK_EQ(raw_exchange(fd, "garbage", 7, buf, sizeof(buf)), 0);
	close(fd);
	/* A packet larger than any request may be. */
	huge = calloc(1, 300000);
	fd = tu_raw_connect();
	CHECK(raw_exchange(fd, hello, sizeof(hello), buf, sizeof(buf)) > 0);
	CHECK_EQ(raw_exchange(fd, huge, 300000, buf, sizeof(buf)), 0);
	close(fd);
	free(huge);
	/* Through it all, strawd served everyone else and nothing changed. */
	{
		char v[16];
		straw_reg_status st;
		CHECK_OK(read_str(r, "/b", v, sizeof(v)));
		CHECK_STR(v, "keep");
		CHECK_OK(straw_reg_status_get(r, &st));
		CHECK_EQ(st.pid, pid);
		memset(longpath, 'a', sizeof(longpath));
		longpath[0] = '/';
		longpath[1100] = '\0';
		CHECK_RC(straw_reg_write(r, longpath, "x", 1), STRAW_EBADPATH);
	}
	straw_reg_close(r);
	CHECK_EQ(tu_stop_strawd(pid), 0);
	tu_cleanup();
}

/* A client whose events back up (it never reads them) and that then hangs
 * up is cleaned up at once: it had joined, so its container goes away and
 * a watcher hears of it. */
CASE(stalled_client_hangs_up)
{
	straw_buf pkt = STRAW_BUF_INIT;
	straw_builder b;
	uint8_t buf[4096];
	char path[300], want[64];
	straw_reg *r, *w;
	uint32_t wid, cid = 0;
	pid_t pid;
	int fd, i;

	tu_setup();
	pid = tu_start_strawd();
	CHECK_OK(straw_reg_connect(&r, NULL, 0));
	CHECK_OK(straw_reg_connect(&w, NULL, 0));
	CHECK_OK(straw_reg_watch(w, "/containers", &wid));
	straw_builder_init(&b);
	fd = tu_raw_connect();
	CHECK(fd >= 0);
	CHECK_OK(reg_enc_hello(&pkt, &b, 1));
	CHECK_OK(reg_enc_join(&pkt, &b, 2, "stalled", 0));
	CHECK_OK(reg_enc_watch(&pkt, &b, 3, "/s", 2, 9));
	CHECK(send(fd, pkt.data, pkt.len, 0) == (ssize_t)pkt.len);
	CHECK(tu_raw_recv(fd, buf, sizeof(buf), 5000) > 0);
	/* Its id, from /names (the replies stay unread). */
	{
		char *v;
		size_t n;
		straw_reg_event ev;
		while (straw_reg_read(r, "/names/stalled", &v, &n) == -ENOENT)
			CHECK_OK(straw_reg_next_event(w, &ev, 5000));
		cid = (uint32_t)atoi(v);
		straw_free(v);
	}
	/* About 900 KB of events it never reads: more than the socket
	 * holds, less than its queue quota. */
	for (i = 0; i < 4000; i++) {
		snprintf(path, sizeof(path), "/s/%0200d", i % 7);
		CHECK_OK(straw_reg_write_async(r, path, "x", 1));
	}
	CHECK_OK(straw_reg_sync(r));
	close(fd);
	snprintf(want, sizeof(want), "/containers/%u", cid);
	CHECK_OK(wait_event(w, want, 5000));
	{
		straw_reg_status st;
		CHECK_OK(straw_reg_status_get(r, &st));
		CHECK_EQ(st.containers, 0);
	}
	straw_builder_fini(&b);
	straw_buf_fini(&pkt);
	straw_reg_close(r);
	straw_reg_close(w);
	CHECK_EQ(tu_stop_strawd(pid), 0);
	tu_cleanup();
}

CASE(socket_activation)
{
	struct sockaddr_un sa = {0};
	straw_reg_status st;
	straw_reg *r;
	pid_t child;
	int fd, st2;

	tu_setup();
	fd = socket(AF_UNIX, SOCK_SEQPACKET, 0);
	sa.sun_family = AF_UNIX;
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/strawd.sock", tu_dir);
	CHECK_OK(bind(fd, (struct sockaddr *)&sa, sizeof(sa)));
	CHECK_OK(listen(fd, 16));
	child = fork();
	if (child == 0) {
		char pidv[16];
		dup2(fd, 3);
		snprintf(pidv, sizeof(pidv), "%d", (int)getpid());
		setenv("LISTEN_PID", pidv, 1);
		setenv("LISTEN_FDS", "1", 1);
		execl(tu_strawd, tu_strawd, (char *)NULL);
		_exit(127);
	}
	close(fd);
	/* The socket accepts before strawd even runs: connecting waits in
	 * the backlog until strawd answers. */
	CHECK_OK(straw_reg_connect(&r, NULL, 0));
	CHECK_OK(straw_reg_status_get(r, &st));
	CHECK_EQ(st.pid, child);
	CHECK_OK(straw_reg_write(r, "/activated", "yes", 3));
	straw_reg_close(r);
	kill(child, SIGTERM);
	st2 = check_wait_child(child, 10000);
	CHECK(st2 >= 0 && WIFEXITED(st2));
	CHECK_EQ(WEXITSTATUS(st2), 0);
	/* The socket file belongs to whoever made it: still there. */
	CHECK_OK(access(sa.sun_path, F_OK));
	tu_cleanup();
}

/* ---- straw ps output ------------------------------------------------------ */

CASE(cli_ps)
{
	char cmd[600], line[512], name[64], age[16], names[128];
	unsigned id, cpid, uid;
	straw_reg *r;
	uint32_t cid;
	FILE *f;
	pid_t pid;

	tu_setup();
	pid = tu_start_strawd();
	CHECK_OK(straw_reg_connect(&r, NULL, 0));
	CHECK_OK(straw_reg_join(r, "pscont", &cid));
	CHECK_OK(straw_reg_register(r, "alpha", 3));
	CHECK_OK(straw_reg_register(r, "beta", 4));
	snprintf(cmd, sizeof(cmd), "%s/cli/straw ps",
	         getenv("STRAW_TEST_BUILD"));
	f = popen(cmd, "r");
	CHECK(f != NULL);
	CHECK(fgets(line, sizeof(line), f) != NULL);
	CHECK_STR(line, "ID     NAME                 PID      UID    AGE    "
	                "NAMES\n");
	/* strawd itself, container 0, then ours. */
	CHECK(fgets(line, sizeof(line), f) != NULL);
	CHECK_EQ(sscanf(line, "%u %63s %u %u %15s %127s", &id, name, &cpid,
	                &uid, age, names),
	         6);
	CHECK_EQ(id, 0);
	CHECK_STR(name, "strawd");
	CHECK_EQ(cpid, pid);
	CHECK_STR(names, "-");
	CHECK(fgets(line, sizeof(line), f) != NULL);
	CHECK_EQ(sscanf(line, "%u %63s %u %u %15s %127s", &id, name, &cpid,
	                &uid, age, names),
	         6);
	CHECK_EQ(id, cid);
	CHECK_STR(name, "pscont");
	CHECK_EQ(cpid, getpid());
	CHECK_EQ(uid, getuid());
	CHECK(strcmp(age, "0s") == 0 || strcmp(age, "1s") == 0);
	CHECK_STR(names, "alpha=3,beta=4");
	CHECK(fgets(line, sizeof(line), f) == NULL);
	CHECK_EQ(pclose(f), 0);
	snprintf(cmd, sizeof(cmd), "%s/cli/straw ps --json",
	         getenv("STRAW_TEST_BUILD"));
	f = popen(cmd, "r");
	CHECK(fgets(line, sizeof(line), f) != NULL);
	CHECK_EQ(pclose(f), 0);
	{
		char want[256];
		snprintf(want, sizeof(want),
		         "[{\"id\":0,\"name\":\"strawd\",\"pid\":%d,",
		         (int)pid);
		CHECK(strncmp(line, want, strlen(want)) == 0);
		snprintf(want, sizeof(want),
		         "{\"id\":%u,\"name\":\"pscont\",\"pid\":%d,\"uid\":%u,"
		         "\"started\":",
		         cid, (int)getpid(), (unsigned)getuid());
		CHECK(strstr(line, want) != NULL);
		CHECK(strstr(line, "\"names\":{\"alpha\":3,\"beta\":4}}]") !=
		      NULL);
	}
	straw_reg_close(r);
	CHECK_EQ(tu_stop_strawd(pid), 0);
	tu_cleanup();
}

/* ---- the extension API, with the server in this process ------------------ */

static int gone_pipe[2];
static int later_pipe[2];
static uint64_t later_conn, later_id;

static int
module_ping(struct reg_server *s, void *arg, const struct reg_request *req,
            struct reg_reply *reply)
{
	static const uint8_t pong[] = {131, 119, 4, 'p', 'o', 'n', 'g'};

	(void)s;
	(void)arg;
	(void)req;
	return reg_reply_term(reply, pong, sizeof(pong));
}

static int
regtest_module_init(struct reg_server *s)
{
	return reg_server_handle(s, "module_ping", module_ping, NULL);
}

static const struct reg_server_module regtest_module = {"regtest",
                                                        regtest_module_init};
static const struct reg_server_module *const regtest_modules[] = {
        &regtest_module, NULL};

/* echo_fd: writes "hi" into the fd it got, answers {echoed, Body} with a
 * new eventfd. */
static int
echo_fd(struct reg_server *s, void *arg, const struct reg_request *req,
        struct reg_reply *reply)
{
	straw_builder b;
	uint8_t *t;
	size_t tl;
	int efd, rc;

	(void)s;
	(void)arg;
	if (req->nfds != 1)
		return -EINVAL;
	if (write(req->fds[0], "hi", 2) != 2)
		return -EIO;
	straw_builder_init(&b);
	straw_build_tuple(&b, 2);
	straw_build_atomz(&b, "echoed");
	straw_build_raw(&b, req->body, req->body_len);
	rc = straw_builder_finish(&b, &t, &tl);
	straw_builder_fini(&b);
	if (rc < 0)
		return rc;
	rc = reg_reply_term(reply, t, tl);
	straw_free(t);
	efd = eventfd(0, EFD_CLOEXEC);
	if (rc == 0)
		rc = reg_reply_fds(reply, &efd, 1);
	close(efd);
	return rc;
}

static int
refuse(struct reg_server *s, void *arg, const struct reg_request *req,
       struct reg_reply *reply)
{
	(void)s, (void)arg, (void)req, (void)reply;
	return -EPERM;
}

static int
later(struct reg_server *s, void *arg, const struct reg_request *req,
      struct reg_reply *reply)
{
	(void)s, (void)arg, (void)reply;
	later_conn = req->conn;
	later_id = req->id;
	/* (Runs on the server thread: no CHECK here.) */
	(void)!write(later_pipe[1], "L", 1);
	return REG_REPLY_LATER;
}

static int
release(struct reg_server *s, void *arg, const struct reg_request *req,
        struct reg_reply *reply)
{
	static const uint8_t done[] = {131, 119, 4, 'd', 'o', 'n', 'e'};

	(void)arg, (void)req, (void)reply;
	return reg_server_reply(s, later_conn, later_id, 0, done, sizeof(done),
	                        NULL, 0);
}

static void
on_gone(struct reg_server *s, void *arg, uint32_t id, const char *name)
{
	char line[300];
	int n = snprintf(line, sizeof(line), "%u %s\n", id, name);

	(void)s, (void)arg;
	(void)!write(gone_pipe[1], line, (size_t)n);
}

static void *
serve(void *arg)
{
	reg_server_run(arg);
	return NULL;
}

static void *
call_later(void *arg)
{
	uint8_t *rep = NULL;
	size_t rl = 0;
	static const uint8_t body[] = {131, 106};
	int rc = reg_client_call(arg, "later", body, sizeof(body), NULL, 0,
	                         &rep, &rl, NULL, NULL, 5000);
	static const uint8_t done[] = {131, 119, 4, 'd', 'o', 'n', 'e'};

	if (rc == 0 && rl == sizeof(done) && memcmp(rep, done, rl) == 0)
		rc = 1;
	straw_free(rep);
	return (void *)(intptr_t)rc;
}

CASE(extension_api)
{
	struct reg_server_opts opts;
	struct reg_server *s;
	straw_reg *r, *r2;
	pthread_t th, tl;
	int holder, p[2], fds_out[REG_MAX_FDS];
	uint8_t *rep;
	size_t rl, nfds;
	void *res;
	char line[300];

	tu_setup();
	memset(&opts, 0, sizeof(opts));
	opts.listen_fd = -1;
	opts.modules = regtest_modules;
	CHECK_OK(reg_server_create(&opts, &s, &holder));
	CHECK_RC(reg_server_handle(s, "read", echo_fd, NULL), -EINVAL);
	CHECK_OK(reg_server_handle(s, "echo_fd", echo_fd, NULL));
	CHECK_RC(reg_server_handle(s, "echo_fd", echo_fd, NULL), -EEXIST);
	CHECK_OK(reg_server_handle(s, "refuse", refuse, NULL));
	CHECK_OK(reg_server_handle(s, "later", later, NULL));
	CHECK_OK(reg_server_handle(s, "release", release, NULL));
	CHECK_OK(pipe(gone_pipe));
	CHECK_OK(pipe(later_pipe));
	CHECK_OK(reg_server_on_gone(s, on_gone, NULL));
	CHECK_OK(pthread_create(&th, NULL, serve, s));

	CHECK_OK(straw_reg_connect(&r, NULL, 0));
	/* A module linked into the server answers. */
	{
		static const uint8_t nil[] = {131, 106};
		static const uint8_t pong[] = {131, 119, 4, 'p', 'o', 'n', 'g'};
		CHECK_OK(reg_client_call(r, "module_ping", nil, sizeof(nil),
		                         NULL, 0, &rep, &rl, NULL, NULL, 5000));
		CHECK_MEM(rep, rl, pong, sizeof(pong));
		straw_free(rep);
		CHECK_RC(reg_client_call(r, "no_such_op", nil, sizeof(nil),
		                         NULL, 0, &rep, &rl, NULL, NULL, 5000),
		         -EOPNOTSUPP);
		CHECK_RC(reg_client_call(r, "refuse", nil, sizeof(nil), NULL, 0,
		                         &rep, &rl, NULL, NULL, 5000),
		         -EPERM);
	}
	/* Fds both ways. */
	{
		static const uint8_t body[] = {131, 104, 2,  119,
		                               1,   'x', 97, 1}; /* {x,1} */
		static const uint8_t want[] = {131, 104, 2,   119, 6,   'e',
		                               'c', 'h', 'o', 'e', 'd', 104,
		                               2,   119, 1,   'x', 97,  1};
		uint64_t one = 1, got = 0;
		char hi[3] = "";
		CHECK_OK(pipe(p));
		nfds = REG_MAX_FDS;
		CHECK_OK(reg_client_call(r, "echo_fd", body, sizeof(body),
		                         &p[1], 1, &rep, &rl, fds_out, &nfds,
		                         5000));
		CHECK_MEM(rep, rl, want, sizeof(want));
		straw_free(rep);
		CHECK_EQ(nfds, 1);
		CHECK_EQ(write(fds_out[0], &one, 8), 8);
		CHECK_EQ(read(fds_out[0], &got, 8), 8);
		CHECK_EQ(got, 1);
		close(fds_out[0]);
		close(p[1]);
		CHECK_EQ(read(p[0], hi, 2), 2);
		CHECK_STR(hi, "hi");
		close(p[0]);
	}
	/* A deferred answer, released by another connection's request. */
	CHECK_OK(straw_reg_connect(&r2, NULL, 0));
	CHECK_OK(pthread_create(&tl, NULL, call_later, r2));
	{
		static const uint8_t nil[] = {131, 106};
		struct pollfd pf = {later_pipe[0], POLLIN, 0};
		char c = 0;
		/* The deferred request has reached its handler. */
		CHECK_EQ(poll(&pf, 1, 5000), 1);
		CHECK_EQ(read(later_pipe[0], &c, 1), 1);
		CHECK_EQ(c, 'L');
		CHECK_OK(reg_client_call(r, "release", nil, sizeof(nil), NULL,
		                         0, NULL, NULL, NULL, NULL, 5000));
	}
	CHECK_OK(pthread_join(tl, &res));
	CHECK_EQ((intptr_t)res, 1);
	straw_reg_close(r2);
	/* The gone hook. */
	{
		straw_reg *c;
		uint32_t id;
		char want[64];
		CHECK_OK(straw_reg_connect(&c, NULL, 0));
		CHECK_OK(straw_reg_join(c, "extc", &id));
		straw_reg_close(c);
		CHECK(tu_read_line(gone_pipe[0], line, sizeof(line), 5000) > 0);
		snprintf(want, sizeof(want), "%u extc", id);
		CHECK_STR(line, want);
	}
	straw_reg_close(r);
	reg_server_stop(s);
	CHECK_OK(pthread_join(th, NULL));
	reg_server_destroy(s);
	close(gone_pipe[0]);
	close(gone_pipe[1]);
	close(later_pipe[0]);
	close(later_pipe[1]);
	tu_cleanup();
}

CHECK_MAIN(lock_and_lifecycle, tree_operations, registration_and_conflicts,
           container_kill9, container_exit_last_words_first,
           strawd_kill9_recovery, strawd_kill9_autostart, autostart_connect,
           permission_nobody, watch_order_concurrent, quotas, hostile_frames,
           stalled_client_hangs_up, socket_activation, cli_ps, extension_api)
