/*
 * strawd among hostile users (docs/registry-protocol.md "Quotas and
 * limits", docs/tubes.md "When strawd restarts").
 *
 * Each case runs its attacker as a real second uid, 65534, in a child that
 * drops root (setgroups, setgid, setuid); the test must run as root, and
 * fails (it does not skip) otherwise.  Against root's strawd, started by
 * the case (the one built beside the test, or $STRAW_TEST_STRAWD to try
 * another build), the cases check:
 *
 *   watch_leak               a watch on "/" learns nothing of /secret
 *   forged_adopt             tube_adopt of memory strawd never brokered,
 *                            or of a copied header, is refused
 *   adopt_needs_both_ends    after a restart a side shows only once it
 *                            announced the tube itself
 *   flood_root_keeps_working 16 containers x 4096 tube requests and 16 x
 *                            4096 forged adoptions: the uid stops at its
 *                            quota, root is served, strawd's RSS and map
 *                            count stay bounded
 *   connections_per_uid      a uid's connections past its quota are
 *                            refused with STRAW_ECONNQUOTA, root connects
 *   fd_limit_refuses_idle    at strawd's descriptor limit new clients get
 *                            STRAW_ESERVERFULL and strawd stays idle
 *   slow_watchers_bounded    100 watchers that never read while 300000
 *                            writes happen: strawd's peak RSS is bounded
 *   usage_per_uid            `straw status` shows each uid its own use
 *
 * Figures are printed.  Every wait is on an event (a pipe, a watch, a
 * child's exit) with a deadline; the only timed interval is the one over
 * which strawd's CPU time is measured.
 */
#define _GNU_SOURCE
#include <grp.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <sys/mman.h>
#include <sys/random.h>

#include <straw/alloc.h>
#include <straw/term.h>
#include <straw/tube.h>

#include "registry/client.h"
#include "registry/msg.h"
#include "registry_util.h"
#include "strawd/server.h"
#include "tube_util.h"

#define NOBODY 65534

static pid_t strawd;

/* Fails the case unless the test runs as root (it needs a second uid). */
static void
need_root(void)
{
	if (geteuid() != 0)
		fprintf(stderr, "strawd_hostile_test must run as root: each "
		                "case runs its attacker as uid 65534\n");
	CHECK(geteuid() == 0);
}

/* Runs fn(arg) as uid 65534 in a child and returns its pid; the child's
 * exit status is fn's result (90: it could not become 65534). */
static pid_t
spawn_nobody(int (*fn)(void *), void *arg)
{
	pid_t pid = fork();

	if (pid == 0) {
		if (setgroups(0, NULL) < 0 || setgid(NOBODY) < 0 ||
		    setuid(NOBODY) < 0 || getuid() != NOBODY)
			_exit(90);
		_exit(fn(arg));
	}
	CHECK(pid > 0);
	tu_track_helper(pid);
	return pid;
}

/* Waits for a child fn and checks that it exited 0. */
static void
child_ok(pid_t pid, int timeout_ms)
{
	int st = check_wait_child(pid, timeout_ms);

	CHECK(st >= 0);
	if (WIFEXITED(st) && WEXITSTATUS(st) != 0)
		fprintf(stderr, "  child exited %d\n", WEXITSTATUS(st));
	CHECK(WIFEXITED(st));
	CHECK_EQ(WEXITSTATUS(st), 0);
}

static void
say(int fd, char c)
{
	if (write(fd, &c, 1) != 1)
		_exit(95);
}

static int
hear(int fd, int timeout_ms)
{
	struct pollfd p = {fd, POLLIN, 0};
	char c;

	if (poll(&p, 1, timeout_ms) != 1 || read(fd, &c, 1) != 1)
		return -1;
	return c;
}

/* Waits for child's word c; if it does not come, the child's exit status
 * says why (the case fails either way). */
static void
expect_word(int fd, pid_t child, char c, int timeout_ms)
{
	int got = hear(fd, timeout_ms);

	if (got != c)
		child_ok(child, 10000);
	CHECK_EQ(got, c);
}

/* ---- strawd's footprint ------------------------------------------------ */

/* A "Vm..." field of /proc/<pid>/status, in KiB, or -1. */
static long
proc_kb(pid_t pid, const char *field)
{
	char path[64], line[256];
	size_t n = strlen(field);
	long v = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	f = fopen(path, "r");
	if (f == NULL)
		return -1;
	while (fgets(line, sizeof(line), f) != NULL)
		if (strncmp(line, field, n) == 0 && line[n] == ':')
			v = strtol(line + n + 1, NULL, 10);
	fclose(f);
	return v;
}

/* Lines of /proc/<pid>/maps: the process's memory mappings. */
static int
proc_maps(pid_t pid)
{
	char path[64];
	int n = 0, c;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/maps", (int)pid);
	f = fopen(path, "r");
	if (f == NULL)
		return -1;
	while ((c = getc(f)) != EOF)
		n += c == '\n';
	fclose(f);
	return n;
}

/* utime + stime of pid, in clock ticks (/proc/<pid>/stat). */
static long
proc_cpu_ticks(pid_t pid)
{
	char path[64], buf[1024], *p;
	unsigned long ut = 0, st = 0;
	ssize_t n;
	int fd, i;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	/* Fields after the command name, which ends with the last ')'. */
	p = strrchr(buf, ')');
	if (p == NULL)
		return -1;
	for (i = 0; i < 11 && p != NULL; i++)
		p = strchr(p + 1, ' ');
	if (p == NULL || sscanf(p, " %lu %lu", &ut, &st) != 2)
		return -1;
	return (long)(ut + st);
}

/* What uid holds according to strawd's usage request: 0 with use[], or
 * -ENOENT when it holds nothing. */
static int
usage_of(straw_reg *r, uint32_t uid, uint64_t use[REG_USAGE_NRES],
         struct reg_usage_info *info)
{
	static const uint8_t nil[] = {131, 106};
	struct reg_usage_entry e[64];
	uint8_t *reply = NULL;
	size_t rlen = 0, n = 0, i;
	int rc;

	rc = reg_client_call(r, "usage", nil, sizeof(nil), NULL, 0, &reply,
	                     &rlen, NULL, NULL, 5000);
	if (rc < 0)
		return rc;
	rc = reg_read_usage(reply + 1, rlen - 1, info, e, 64, &n);
	straw_free(reply);
	if (rc < 0)
		return rc;
	for (i = 0; i < n; i++)
		if (e[i].uid == uid) {
			memcpy(use, e[i].use, sizeof(e[i].use));
			return 0;
		}
	return -ENOENT;
}

/* ---- a raw protocol client, as an attacker speaks it -------------------- */

struct raw {
	int fd;           /* the connection */
	uint64_t next_id; /* last request id used */
	straw_builder b;  /* scratch */
	straw_buf pkt;    /* frames not sent yet */
	uint8_t *rbuf;    /* one packet received */
};

/* What a received frame said. */
struct raw_in {
	int is_event;   /* an event */
	uint64_t id;    /* reply: request id */
	int rc;         /* reply: 0 or the code */
	uint64_t value; /* reply: its value if an integer, else 0 */
	size_t nfds;    /* descriptors with its packet (closed already) */
};

static void
raw_fini(struct raw *x)
{
	if (x->fd >= 0)
		close(x->fd);
	x->fd = -1;
	straw_builder_fini(&x->b);
	straw_buf_fini(&x->pkt);
	straw_free(x->rbuf);
	x->rbuf = NULL;
}

/* Sends the frames in x->pkt as one packet, with nfds descriptors. */
static int
raw_flush(struct raw *x, const int *fds, size_t nfds)
{
	union {
		struct cmsghdr h;
		char buf[CMSG_SPACE(sizeof(int) * REG_MAX_FDS)];
	} cm;
	struct iovec iov = {x->pkt.data, x->pkt.len};
	struct msghdr mh = {0};
	ssize_t n;

	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	if (nfds > 0) {
		memset(&cm, 0, sizeof(cm));
		mh.msg_control = cm.buf;
		mh.msg_controllen = CMSG_SPACE(sizeof(int) * nfds);
		cm.h.cmsg_level = SOL_SOCKET;
		cm.h.cmsg_type = SCM_RIGHTS;
		cm.h.cmsg_len = CMSG_LEN(sizeof(int) * nfds);
		memcpy(CMSG_DATA(&cm.h), fds, sizeof(int) * nfds);
	}
	n = sendmsg(x->fd, &mh, MSG_NOSIGNAL);
	x->pkt.len = 0;
	return n < 0 ? -errno : 0;
}

/*
 * Receives one packet within timeout_ms and decodes up to cap frames into
 * in[], closing the descriptors it brought.  Returns the number of frames,
 * 0 at end of file, -ETIMEDOUT, or another error.
 */
static int
raw_recv(struct raw *x, struct raw_in *in, size_t cap, int timeout_ms)
{
	union {
		struct cmsghdr h;
		char buf[CMSG_SPACE(sizeof(int) * REG_MAX_FDS)];
	} cm;
	struct iovec iov = {x->rbuf, REG_MAX_PACKET};
	struct pollfd p = {x->fd, POLLIN, 0};
	struct msghdr mh = {0};
	int fds[REG_MAX_FDS];
	size_t nfds, off = 0, flen, k = 0;
	const uint8_t *frame;
	struct reg_in ri;
	ssize_t n;

	if (poll(&p, 1, timeout_ms) != 1)
		return -ETIMEDOUT;
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	mh.msg_control = cm.buf;
	mh.msg_controllen = sizeof(cm.buf);
	n = recvmsg(x->fd, &mh, MSG_CMSG_CLOEXEC);
	if (n < 0)
		return errno == ECONNRESET ? 0 : -errno;
	nfds = reg_take_fds(&mh, fds, 0);
	for (size_t i = 0; i < nfds; i++)
		close(fds[i]);
	while (k < cap &&
	       reg_frame_next(x->rbuf, (size_t)n, &off, &frame, &flen) == 1) {
		if (reg_msg_decode_in(frame, flen, &ri) < 0)
			return STRAW_EPROTOCOL;
		in[k].is_event = ri.is_event;
		in[k].id = ri.id;
		in[k].rc = ri.rc;
		in[k].value = 0;
		if (!ri.is_event && ri.value != NULL)
			(void)reg_read_uint(ri.value, ri.value_len,
			                    &in[k].value);
		in[k].nfds = k == 0 ? nfds : 0;
		k++;
	}
	return n == 0 ? 0 : (int)k;
}

/* Waits for the reply to id (events and other replies are skipped).
 * Returns its code, or -ETIMEDOUT / -ECONNRESET. */
static int
raw_wait(struct raw *x, uint64_t id, int timeout_ms)
{
	int64_t end = strawi_deadline_ms(timeout_ms);
	struct raw_in in[64];

	for (;;) {
		int left = (int)((end - strawi_now_ns()) / 1000000), n, i;
		if (left <= 0)
			return -ETIMEDOUT;
		n = raw_recv(x, in, 64, left);
		if (n == 0)
			return -ECONNRESET;
		if (n < 0)
			return n;
		for (i = 0; i < n; i++)
			/* Id 0: strawd refused the connection. */
			if (!in[i].is_event &&
			    (in[i].id == id || (in[i].id == 0 && in[i].rc < 0)))
				return in[i].rc;
	}
}

/* Connects and says hello: 0, or the code strawd refused it with. */
static int
raw_open(struct raw *x)
{
	uint64_t id;
	int rc;

	memset(x, 0, sizeof(*x));
	straw_builder_init(&x->b);
	x->rbuf = straw_malloc(REG_MAX_PACKET);
	x->fd = tu_raw_connect();
	if (x->fd < 0 || x->rbuf == NULL)
		return x->fd < 0 ? -ECONNREFUSED : -ENOMEM;
	id = ++x->next_id;
	rc = reg_enc_hello(&x->pkt, &x->b, id);
	if (rc == 0)
		rc = raw_flush(x, NULL, 0);
	/* A refused connection may be closed before the hello goes: what
	 * strawd said is still there to read. */
	return rc < 0 && rc != -EPIPE ? rc : raw_wait(x, id, 10000);
}

/* Queues an extension request {op, Id, Body} with a body built by the
 * caller in b (finished here).  Returns its id, or 0 on failure. */
static uint64_t
raw_ext(struct raw *x, const char *op, straw_builder *body)
{
	uint8_t *bytes = NULL;
	size_t len;
	uint64_t id = ++x->next_id;
	int rc = straw_builder_finish(body, &bytes, &len);

	if (rc == 0)
		rc = reg_enc_ext(&x->pkt, &x->b, op, id, bytes, len);
	straw_free(bytes);
	return rc == 0 ? id : 0;
}

static int
raw_join(struct raw *x, const char *name, uint32_t *cid)
{
	int64_t end = strawi_deadline_ms(10000);
	uint64_t id = ++x->next_id;
	struct raw_in in[4];

	if (reg_enc_join(&x->pkt, &x->b, id, name, 0) < 0 ||
	    raw_flush(x, NULL, 0) < 0)
		return -EIO;
	for (;;) {
		int left = (int)((end - strawi_now_ns()) / 1000000), n, i;
		if (left <= 0)
			return -ETIMEDOUT;
		n = raw_recv(x, in, 4, left);
		if (n <= 0)
			return n == 0 ? -ECONNRESET : n;
		for (i = 0; i < n; i++)
			if (!in[i].is_event && in[i].id == id) {
				*cid = (uint32_t)in[i].value;
				return in[i].rc;
			}
	}
}

/* tube_adopt {a, b, tid, side, 0} with memfd on x; returns strawd's code. */
static int
raw_adopt(struct raw *x, uint32_t a, uint32_t b, uint32_t tid, int side,
          int memfd)
{
	straw_builder body;
	uint64_t id;

	straw_builder_init(&body);
	straw_build_tuple(&body, 5);
	straw_build_uint(&body, a);
	straw_build_uint(&body, b);
	straw_build_uint(&body, tid);
	straw_build_int(&body, side);
	straw_build_int(&body, 0);
	id = raw_ext(x, "tube_adopt", &body);
	if (id == 0 || raw_flush(x, &memfd, 1) < 0)
		return -EIO;
	return raw_wait(x, id, 10000);
}

/* A forged tube's memory naming (c0, c1, tid). */
static int
forged_memfd(uint32_t c0, uint32_t c1, uint32_t tid)
{
	struct tube_shm h;

	tu_forged_header(&h, c0, c1, tid);
	return tu_memfd_with(&h, sizeof(h));
}

/* ---- watch_leak --------------------------------------------------------- */

static int
watch_leak_child(void *arg)
{
	int *ready = arg, leaks = 0, pub = 0, done = 0;
	int64_t end = strawi_deadline_ms(20000);
	straw_reg_event ev;
	straw_reg *r;
	uint32_t w;

	if (straw_reg_connect(&r, NULL, 0) < 0)
		return 1;
	if (straw_reg_watch(r, "/", &w) < 0 ||
	    straw_reg_watch(r, "/secret/later", &w) < 0 ||
	    straw_reg_watch(r, "/public", &w) < 0)
		return 2;
	/* Watching an existing node it may not read is refused. */
	if (straw_reg_watch(r, "/secret", &w) != -EACCES)
		return 3;
	say(*ready, 'r');
	while (!done) {
		int left = (int)((end - strawi_now_ns()) / 1000000);
		if (left <= 0 || straw_reg_next_event(r, &ev, left) < 0)
			return 4;
		if (strstr(ev.path, "secret") != NULL) {
			fprintf(stderr, "  uid 65534 heard of %s\n", ev.path);
			leaks++;
		}
		pub += strcmp(ev.path, "/public/x") == 0;
		done = strcmp(ev.path, "/public/done") == 0;
	}
	straw_reg_close(r);
	/* Heard of what it may read (both watches of /public/x: its
	 * permissions and its removal, twice each), nothing else. */
	return leaks ? 5 : pub != 4 ? 6 : 0;
}

/*
 * Root writes, re-permits and removes /secret/... (default permissions:
 * root only) while uid 65534 watches "/" and a path below /secret: no
 * event names anything under /secret, removals and transactions included;
 * changes of /public it may read do reach it.
 */
CASE(watch_leak)
{
	straw_reg_perms all = {0};
	straw_reg_txn *t;
	straw_reg *r;
	pid_t child;
	int ready[2];

	need_root();
	tu_setup();
	strawd = tu_start_strawd();
	CHECK(strawd > 0);
	CHECK_OK(straw_reg_connect(&r, NULL, 0));
	CHECK_OK(straw_reg_write(r, "/secret/early", "x", 1));
	CHECK_OK(straw_reg_mkdir(r, "/public"));
	all.nread = 1;
	all.read[0] = STRAW_REG_ANYONE;
	CHECK_OK(straw_reg_set_perms(r, "/public", &all));
	CHECK_OK(pipe2(ready, O_CLOEXEC));
	child = spawn_nobody(watch_leak_child, &ready[1]);
	expect_word(ready[0], child, 'r', 20000);
	CHECK_OK(straw_reg_write(r, "/secret/hidden-name", "v", 1));
	CHECK_OK(straw_reg_write(r, "/secret/a/b/c", "v", 1));
	/* Readable itself, but below nodes 65534 may not list. */
	CHECK_OK(straw_reg_set_perms(r, "/secret/a/b/c", &all));
	CHECK_OK(straw_reg_write(r, "/secret/later", "v", 1));
	CHECK_OK(straw_reg_txn_begin(r, &t));
	CHECK_OK(straw_reg_txn_write(t, "/secret/in-txn", "v", 1));
	CHECK_OK(straw_reg_txn_rm(t, "/secret/a"));
	CHECK_OK(straw_reg_txn_commit(t));
	CHECK_OK(straw_reg_rm(r, "/secret"));
	/* What it may read. */
	CHECK_OK(straw_reg_write(r, "/public/x", "v", 1));
	CHECK_OK(straw_reg_set_perms(r, "/public/x", &all));
	CHECK_OK(straw_reg_rm(r, "/public/x"));
	CHECK_OK(straw_reg_write(r, "/public/done", "v", 1));
	CHECK_OK(straw_reg_set_perms(r, "/public/done", &all));
	child_ok(child, 30000);
	straw_reg_close(r);
	close(ready[0]);
	close(ready[1]);
	CHECK_EQ(tu_stop_strawd(strawd), 0);
	tu_cleanup();
}

/* ---- forged_adopt ------------------------------------------------------- */

struct forge_arg {
	uint32_t root_id; /* root's container */
	int done;         /* write end: the child's report */
};

static int
forged_adopt_child(void *arg)
{
	struct forge_arg *fa = arg;
	straw_tube *t = NULL, *t2 = NULL;
	straw_reg *r1, *r2;
	struct tube_shm h;
	uint32_t n1, n2, i;
	int fd, rc, bad = 0;

	if (straw_reg_connect(&r1, NULL, 0) < 0 ||
	    straw_reg_join(r1, "evil", &n1) < 0 ||
	    straw_reg_connect(&r2, NULL, 0) < 0 ||
	    straw_reg_join(r2, "evil2", &n2) < 0)
		return 1;
	/* A hand-made tube naming root's container, as either side. */
	fd = forged_memfd(n1, fa->root_id, 77);
	rc = strawi_tube_adopt_send(r1, n1, fa->root_id, 77, 0, 0, &fd, 1);
	close(fd);
	if (rc != -EACCES)
		return 2;
	fd = forged_memfd(fa->root_id, n1, 78);
	rc = strawi_tube_adopt_send(r1, fa->root_id, n1, 78, 1, 0, &fd, 1);
	close(fd);
	if (rc != -EACCES)
		return 3;
	/* Root's side of it. */
	fd = forged_memfd(n1, fa->root_id, 79);
	rc = strawi_tube_adopt_send(r1, n1, fa->root_id, 79, 1, 0, &fd, 1);
	close(fd);
	if (rc != -EACCES)
		return 4;
	/* A real tube's header, MAC and all, in other memory; and the same
	 * with root's container put in. */
	if (tu_open_pair(r1, r2, "evil2", 5, &t, &t2) < 0)
		return 5;
	memcpy(&h, t->shm, sizeof(h));
	fd = tu_memfd_with(&h, sizeof(h));
	rc = strawi_tube_adopt_send(r1, n1, n2, 5, 0, 0, &fd, 1);
	close(fd);
	if (rc != -EACCES)
		return 6;
	h.container[1] = fa->root_id;
	fd = tu_memfd_with(&h, sizeof(h));
	rc = strawi_tube_adopt_send(r1, n1, fa->root_id, 5, 0, 0, &fd, 1);
	close(fd);
	if (rc != -EACCES)
		return 7;
	/* As in the report: thousands of them. */
	for (i = 0; i < 3 * 4096; i++) {
		fd = forged_memfd(n1, fa->root_id, 1000 + i);
		rc = strawi_tube_adopt_send(r1, n1, fa->root_id, 1000 + i, 0, 0,
		                            &fd, 1);
		close(fd);
		bad += rc != -EACCES;
	}
	straw_tube_close(t);
	straw_tube_close(t2);
	straw_reg_close(r2);
	straw_reg_close(r1);
	return bad ? 8 : 0;
}

/*
 * Uid 65534 presents tube memory of its own making naming root's
 * container (as opener, as acceptor, claiming root's side), a copy of the
 * header of a real tube of its own, and 12288 more forgeries: all are
 * refused with -EACCES, and /tubes never shows root's container.
 */
CASE(forged_adopt)
{
	struct forge_arg fa;
	straw_reg_event ev;
	straw_reg *r;
	uint32_t w;
	char **names;
	size_t n;
	pid_t child;
	int seen = 0;

	need_root();
	tu_setup();
	strawd = tu_start_strawd();
	CHECK(strawd > 0);
	CHECK_OK(straw_reg_connect(&r, NULL, 0));
	CHECK_OK(straw_reg_join(r, "root-c", &fa.root_id));
	CHECK_OK(straw_reg_watch(r, "/tubes", &w));
	child = spawn_nobody(forged_adopt_child, &fa);
	child_ok(child, 120000);
	/* Every /tubes change so far: none names root's container. */
	while (straw_reg_next_event(r, &ev, 0) == 0) {
		unsigned a = 0, b = 0;
		if (sscanf(ev.path, "/tubes/%u-%u-", &a, &b) == 2) {
			seen++;
			CHECK(a != fa.root_id && b != fa.root_id);
		}
	}
	CHECK(seen > 0); /* its own real tube did show */
	CHECK_OK(straw_reg_ls(r, "/tubes", &names, &n));
	straw_reg_free_names(names, n);
	CHECK_EQ(n, 0);
	straw_reg_close(r);
	CHECK_EQ(tu_stop_strawd(strawd), 0);
	tu_cleanup();
}

/* ---- adopt_needs_both_ends ---------------------------------------------- */

struct ends_arg {
	int to_parent;   /* write end */
	int from_parent; /* read end */
};

/* Root's container R: lets 65534 in, accepts one tube and then hides it
 * from its library, so that it never announces it again. */
static void
ends_root_child(struct ends_arg *ea)
{
	straw_tube *t = NULL;
	straw_reg *r;
	char path[96];
	uint32_t id;

	if (straw_reg_connect(&r, NULL, 0) < 0 ||
	    straw_reg_join(r, "R", &id) < 0)
		_exit(1);
	snprintf(path, sizeof(path), "/containers/%u/data/tubes-from", id);
	if (straw_reg_write(r, path, "65534", 5) < 0)
		_exit(2);
	say(ea->to_parent, 'j');
	if (straw_tube_accept(r, 20000, &t) < 0)
		_exit(3);
	strawi_tube_broker_forget(t);
	say(ea->to_parent, 'a');
	hear(ea->from_parent, 120000); /* killed before */
	_exit(0);
}

static int
ends_nobody_child(void *arg)
{
	struct ends_arg *ea = arg;
	straw_tube *t = NULL;
	straw_reg *r;
	uint32_t id;

	if (straw_reg_connect(&r, NULL, 0) < 0 ||
	    straw_reg_join(r, "N", &id) < 0)
		return 1;
	if (straw_tube_open(r, "R", 5, STRAW_TUBE_RELIABLE, 20000, &t) < 0)
		return 2;
	say(ea->to_parent, 'o');
	if (hear(ea->from_parent, 60000) != 'c')
		return 3;
	straw_tube_close(t);
	say(ea->to_parent, 'd');
	hear(ea->from_parent, 60000);
	straw_reg_close(r);
	return 0;
}

/* Waits up to 10 s until path exists (want 1) or not (want 0), woken by a
 * watch on `watch`.  1 once it does. */
static int
wait_path(straw_reg *r, const char *watch, const char *path, int want)
{
	int64_t end = strawi_deadline_ms(10000);
	straw_reg_event ev;
	uint32_t w;
	int ok = 0;

	if (straw_reg_watch(r, watch, &w) < 0)
		return 0;
	for (;;) {
		char *v;
		size_t len;
		int rc = straw_reg_read(r, path, &v, &len);
		if (rc == 0)
			straw_free(v);
		if ((rc == 0) == want) {
			ok = 1;
			break;
		}
		if (straw_reg_next_event(
		            r, &ev, (int)((end - strawi_now_ns()) / 1000000)) <
		    0)
			break;
	}
	straw_reg_unwatch(r, w);
	return ok;
}

static void
check_read(straw_reg *r, const char *path, const char *want)
{
	char *v = NULL;
	size_t len;

	CHECK_OK(straw_reg_read(r, path, &v, &len));
	CHECK_STR(v, want);
	straw_free(v);
}

/*
 * A tube between 65534's container N and root's R; strawd is killed and
 * started again; N announces its side, R (alive, rejoined) does not.  The
 * new strawd shows only N's side (the tube "announced"), never R's, and
 * when N closes the entry goes: R appears in no tube it did not announce.
 */
CASE(adopt_needs_both_ends)
{
	struct ends_arg rootside, nobodyside;
	int p1[2], p2[2], p3[2], p4[2];
	char base[96], path[160], *v;
	uint32_t n_id, r_id;
	straw_reg *r;
	pid_t rchild, nchild;
	size_t len;

	need_root();
	tu_setup();
	strawd = tu_start_strawd();
	CHECK(strawd > 0);
	CHECK_OK(pipe2(p1, O_CLOEXEC));
	CHECK_OK(pipe2(p2, O_CLOEXEC));
	CHECK_OK(pipe2(p3, O_CLOEXEC));
	CHECK_OK(pipe2(p4, O_CLOEXEC));
	rootside = (struct ends_arg){p1[1], p2[0]};
	nobodyside = (struct ends_arg){p3[1], p4[0]};
	rchild = fork();
	if (rchild == 0)
		ends_root_child(&rootside);
	tu_track_helper(rchild);
	CHECK_EQ(hear(p1[0], 20000), 'j');
	nchild = spawn_nobody(ends_nobody_child, &nobodyside);
	expect_word(p3[0], nchild, 'o', 20000);
	CHECK_EQ(hear(p1[0], 20000), 'a');
	CHECK_OK(straw_reg_connect(&r, NULL, 0));
	CHECK_OK(straw_reg_read(r, "/names/N", &v, &len));
	n_id = (uint32_t)atoi(v);
	straw_free(v);
	CHECK_OK(straw_reg_read(r, "/names/R", &v, &len));
	r_id = (uint32_t)atoi(v);
	straw_free(v);
	snprintf(base, sizeof(base), "/tubes/%u-%u-5", n_id, r_id);
	snprintf(path, sizeof(path), "%s/%u/state", base, r_id);
	check_read(r, path, "open");
	straw_reg_close(r);

	tu_kill9(strawd);
	strawd = tu_start_strawd();
	CHECK(strawd > 0);
	CHECK_OK(tu_connect_wait(&r, 10000));
	snprintf(path, sizeof(path), "/containers/%u/name", r_id);
	CHECK(wait_path(r, "/containers", path, 1)); /* R is back */
	snprintf(path, sizeof(path), "%s/%u/state", base, n_id);
	CHECK(wait_path(r, "/tubes", path, 1)); /* N announced */
	check_read(r, path, "open");
	snprintf(path, sizeof(path), "%s/state", base);
	check_read(r, path, "announced");
	snprintf(path, sizeof(path), "%s/%u/state", base, r_id);
	CHECK_RC(straw_reg_read(r, path, &v, &len), -ENOENT);
	/* N closes: R never held it as far as strawd knows: gone. */
	say(p4[1], 'c');
	expect_word(p3[0], nchild, 'd', 20000);
	CHECK(wait_path(r, "/tubes", base, 0));
	say(p4[1], 'q');
	child_ok(nchild, 20000);
	kill(rchild, SIGKILL);
	check_wait_child(rchild, 10000);
	straw_reg_close(r);
	for (int i = 0; i < 2; i++) {
		close(p1[i]);
		close(p2[i]);
		close(p3[i]);
		close(p4[i]);
	}
	CHECK_EQ(tu_stop_strawd(strawd), 0);
	tu_cleanup();
}

/* ---- flood_root_keeps_working ------------------------------------------- */

#define FLOOD_CONTAINERS 16
#define FLOOD_PER        4096 /* tube requests and forgeries of each */
#define FLOOD_BATCH      256

struct flood_arg {
	uint32_t root_id; /* root's container, named by the forgeries */
	int to_parent;    /* write end: 'q' once at the quota */
	int from_parent;  /* read end: 'x' to leave */
};

/* Counts what one batch's replies say on x: ok (with a tube's
 * descriptors), STRAW_EQUOTA, other errors; until `want` replies to
 * tube requests came, or the status reply `until` (if not 0). */
static int
flood_replies(struct raw *x, int want, uint64_t until, int *ok, int *quota,
              int *other)
{
	int64_t end = strawi_deadline_ms(60000);
	struct raw_in in[FLOOD_BATCH + 8];
	int got = 0, seen_until = until == 0;

	while (got < want || !seen_until) {
		int left = (int)((end - strawi_now_ns()) / 1000000), n, i;
		if (left <= 0)
			return -ETIMEDOUT;
		n = raw_recv(x, in, FLOOD_BATCH + 8, left);
		if (n <= 0)
			return n == 0 ? -ECONNRESET : n;
		for (i = 0; i < n; i++) {
			if (in[i].is_event)
				continue;
			if (until != 0 && in[i].id == until) {
				seen_until = 1;
				continue;
			}
			got++;
			if (in[i].rc == 0)
				(*ok)++;
			else if (in[i].rc == STRAW_EQUOTA)
				(*quota)++;
			else
				(*other)++;
		}
	}
	return 0;
}

static int
flood_child(void *arg)
{
	struct flood_arg *fa = arg;
	struct raw c[FLOOD_CONTAINERS];
	uint32_t id[FLOOD_CONTAINERS];
	int made = 0, quota = 0, other = 0, forged_ok = 0, k, j, i;
	char name[32];

	for (k = 0; k < FLOOD_CONTAINERS; k++) {
		snprintf(name, sizeof(name), "flood-%d", k);
		if (raw_open(&c[k]) < 0 || raw_join(&c[k], name, &id[k]) < 0)
			return 1;
	}
	/* Forgeries naming root's container: 16 x 4096. */
	for (k = 0; k < FLOOD_CONTAINERS; k++) {
		struct tube_shm h;
		int fd;
		tu_forged_header(&h, id[k], fa->root_id, 0);
		fd = tu_memfd_with(&h, sizeof(h));
		if (fd < 0)
			return 2;
		for (j = 0; j < FLOOD_PER; j++) {
			uint32_t tid = (uint32_t)j;
			if (pwrite(fd, &tid, sizeof(tid),
			           offsetof(struct tube_shm, tid)) != 4)
				return 3;
			forged_ok += raw_adopt(&c[k], id[k], fa->root_id, tid,
			                       0, fd) != -EACCES;
		}
		close(fd);
	}
	if (forged_ok)
		return 4;
	/* Tubes between its own containers, pairs (2k, 2k+1): accepts
	 * first (a status request after them says they are in), then opens
	 * that find them (timeout 0). */
	for (k = 0; k < FLOOD_CONTAINERS; k += 2) {
		for (j = 0; j < FLOOD_PER; j += FLOOD_BATCH) {
			int ok_a = 0, ok_o = 0, q = 0, o = 0;
			uint64_t st;
			for (i = 0; i < FLOOD_BATCH; i++) {
				straw_builder b;
				straw_builder_init(&b);
				straw_build_tuple(&b, 1);
				straw_build_int(&b, 60000);
				if (raw_ext(&c[k + 1], "tube_accept", &b) == 0)
					return 5;
			}
			st = ++c[k + 1].next_id;
			if (reg_enc_status(&c[k + 1].pkt, &c[k + 1].b, st) <
			            0 ||
			    raw_flush(&c[k + 1], NULL, 0) < 0)
				return 6;
			/* The refused accepts answer before the status. */
			if (flood_replies(&c[k + 1], 0, st, &ok_a, &q, &o) < 0)
				return 7;
			snprintf(name, sizeof(name), "%u", id[k + 1]);
			for (i = 0; i < FLOOD_BATCH; i++) {
				straw_builder b;
				straw_builder_init(&b);
				straw_build_tuple(&b, 4);
				straw_build_binary(&b, name, strlen(name));
				straw_build_uint(&b, (uint32_t)(j + i));
				straw_build_int(&b, STRAW_TUBE_RELIABLE);
				straw_build_int(&b, 0);
				if (raw_ext(&c[k], "tube_open", &b) == 0)
					return 8;
			}
			if (raw_flush(&c[k], NULL, 0) < 0 ||
			    flood_replies(&c[k], FLOOD_BATCH, 0, &ok_o, &q,
			                  &o) < 0)
				return 9;
			/* The accepts that found their open answer now. */
			if (ok_o > 0 && flood_replies(&c[k + 1], ok_o, 0, &ok_a,
			                              &q, &o) < 0)
				return 10;
			made += ok_o;
			quota += q;
			other += o;
		}
	}
	fprintf(stderr,
	        "  uid 65534: %d tubes made, %d requests refused "
	        "(STRAW_EQUOTA), %d other, %d forgeries refused\n",
	        made, quota, other, FLOOD_CONTAINERS * FLOOD_PER);
	/* 8192 tube ends: 4096 tubes between its own containers at most. */
	if (made == 0 || made > 4096 || quota == 0)
		return 11;
	say(fa->to_parent, 'q');
	hear(fa->from_parent, 120000);
	for (k = 0; k < FLOOD_CONTAINERS; k++)
		raw_fini(&c[k]);
	return 0;
}

struct root_probe {
	atomic_int stop;  /* set to end the loop */
	int failures;     /* operations that failed */
	int rounds;       /* rounds done */
	int64_t worst_ns; /* slowest round */
};

/* Root's work during the flood: status, write, read, join. */
static void *
root_probe_main(void *arg)
{
	struct root_probe *p = arg;
	straw_reg_status st;
	straw_reg *r, *c;
	char path[64], *v;
	size_t len;
	uint32_t id;

	if (straw_reg_connect(&r, NULL, 0) < 0) {
		p->failures++;
		return NULL;
	}
	while (!atomic_load(&p->stop)) {
		int64_t t0 = strawi_now_ns();
		snprintf(path, sizeof(path), "/probe/%d", p->rounds % 64);
		p->failures += straw_reg_status_get(r, &st) < 0;
		p->failures += straw_reg_write(r, path, "v", 1) < 0;
		if (straw_reg_read(r, path, &v, &len) < 0)
			p->failures++;
		else
			straw_free(v);
		if (straw_reg_connect(&c, NULL, 0) < 0) {
			p->failures++;
		} else {
			p->failures += straw_reg_join(c, "probe", &id) < 0;
			straw_reg_close(c);
		}
		t0 = strawi_now_ns() - t0;
		if (t0 > p->worst_ns)
			p->worst_ns = t0;
		p->rounds++;
	}
	straw_reg_close(r);
	return NULL;
}

/*
 * Uid 65534 joins 16 containers, sends 16 x 4096 forged tube_adopts naming
 * root's container and asks for 16 x 4096 tube ends between its own
 * containers: every forgery is refused, its tubes stop at its quota (8192
 * ends: 4096 tubes), and meanwhile and at the quota root's status, read,
 * write and join succeed and root still gets a tube.  strawd's map count
 * does not grow with the tubes (it keeps no mapping of them: at most 128
 * more maps for 4096 tubes) and its RSS grows by less than 96 MiB
 * (sanitizer build); everything goes when the attacker does.
 */
CASE(flood_root_keeps_working)
{
	struct root_probe probe = {0};
	struct flood_arg fa;
	uint64_t use[REG_USAGE_NRES];
	struct reg_usage_info info;
	straw_tube *ta = NULL, *tb = NULL;
	straw_reg *r, *ra, *rb;
	long rss0, rss1, hwm;
	int maps0, maps1, p1[2], p2[2];
	uint32_t ida, idb;
	pthread_t th;
	pid_t child;
	char **names;
	size_t n;

	need_root();
	tu_setup();
	tu_strawd_asan = "quarantine_size_mb=4:detect_leaks=1";
	strawd = tu_start_strawd();
	tu_strawd_asan = NULL;
	CHECK(strawd > 0);
	CHECK_OK(straw_reg_connect(&r, NULL, 0));
	CHECK_OK(straw_reg_join(r, "root-c", &fa.root_id));
	CHECK_OK(straw_reg_connect(&ra, NULL, 0));
	CHECK_OK(straw_reg_join(ra, "root-a", &ida));
	CHECK_OK(straw_reg_connect(&rb, NULL, 0));
	CHECK_OK(straw_reg_join(rb, "root-b", &idb));
	rss0 = proc_kb(strawd, "VmRSS");
	maps0 = proc_maps(strawd);
	CHECK_OK(pipe2(p1, O_CLOEXEC));
	CHECK_OK(pipe2(p2, O_CLOEXEC));
	fa.to_parent = p1[1];
	fa.from_parent = p2[0];
	child = spawn_nobody(flood_child, &fa);
	CHECK_OK(pthread_create(&th, NULL, root_probe_main, &probe));
	expect_word(p1[0], child, 'q', 240000);
	atomic_store(&probe.stop, 1);
	CHECK_OK(pthread_join(th, NULL));
	rss1 = proc_kb(strawd, "VmRSS");
	hwm = proc_kb(strawd, "VmHWM");
	maps1 = proc_maps(strawd);
	fprintf(stderr,
	        "  strawd: RSS %ld -> %ld KiB (peak %ld), maps %d -> %d; root "
	        "did %d rounds of status, write, read, join during the "
	        "flood, %d failed, slowest %.1f ms\n",
	        rss0, rss1, hwm, maps0, maps1, probe.rounds, probe.failures,
	        (double)probe.worst_ns / 1e6);
	CHECK_EQ(probe.failures, 0);
	CHECK(probe.rounds > 0);
	/* At its quota, the attacker holds exactly it; root goes on. */
	CHECK_OK(usage_of(r, NOBODY, use, &info));
	CHECK_EQ_U(use[REG_RES_TUBES], info.limit[REG_RES_TUBES]);
	CHECK_EQ_U(use[REG_RES_CONTAINERS], FLOOD_CONTAINERS);
	CHECK_OK(tu_open_pair(ra, rb, "root-b", 1, &ta, &tb));
	straw_tube_close(ta);
	straw_tube_close(tb);
	/* Not one per tube (4096 here): what the allocator adds for the
	 * sizes it now serves (ASan: two per size class), a constant. */
	CHECK(maps1 - maps0 <= 128);
	CHECK(hwm - rss0 <= 96 * 1024);
	say(p2[1], 'x');
	child_ok(child, 60000);
	/* Its containers went, and with them every tube. */
	CHECK(wait_path(r, "/names", "/names/flood-15", 0));
	CHECK_OK(straw_reg_ls(r, "/tubes", &names, &n));
	straw_reg_free_names(names, n);
	CHECK_EQ(n, 0);
	CHECK_RC(usage_of(r, NOBODY, use, &info), -ENOENT);
	fprintf(stderr, "  after it left: RSS %ld KiB, maps %d\n",
	        proc_kb(strawd, "VmRSS"), proc_maps(strawd));
	straw_reg_close(rb);
	straw_reg_close(ra);
	straw_reg_close(r);
	close(p1[0]);
	close(p1[1]);
	close(p2[0]);
	close(p2[1]);
	CHECK_EQ(tu_stop_strawd(strawd), 0);
	tu_cleanup();
}

/* ---- connections_per_uid ------------------------------------------------ */

#define CONN_QUOTA 16

struct conns_arg {
	int to_parent;   /* 'f' once at its quota */
	int from_parent; /* 'x' to leave */
};

static int
conns_child(void *arg)
{
	struct conns_arg *ca = arg;
	straw_reg *r[CONN_QUOTA], *extra;
	struct raw x;
	int i, rc;

	for (i = 0; i < CONN_QUOTA; i++)
		if (straw_reg_connect(&r[i], NULL, 0) < 0)
			return 1;
	/* One more: refused at once, with the reason. */
	rc = straw_reg_connect(&extra, NULL, 0);
	if (rc != STRAW_ECONNQUOTA) {
		fprintf(stderr, "  connection past the quota: %s\n",
		        straw_errname(rc));
		return 2;
	}
	if (strcmp(straw_strerror(rc), "strawd refused the connection: too "
	                               "many connections for this uid") != 0)
		return 3;
	/* On the wire: the hello is answered with the code, then EOF. */
	rc = raw_open(&x);
	if (rc != STRAW_ECONNQUOTA) {
		fprintf(stderr, "  raw connection past the quota: %s\n",
		        straw_errname(rc));
		return 4;
	}
	{
		struct raw_in in[4];
		if (raw_recv(&x, in, 4, 10000) != 0)
			return 5;
	}
	raw_fini(&x);
	say(ca->to_parent, 'f');
	if (hear(ca->from_parent, 60000) != 'x')
		return 6;
	straw_reg_close(r[0]);
	/* One freed: one admitted again. */
	if (straw_reg_connect(&extra, NULL, 0) < 0)
		return 7;
	straw_reg_close(extra);
	for (i = 1; i < CONN_QUOTA; i++)
		straw_reg_close(r[i]);
	return 0;
}

/*
 * strawd --quota-connections 16: uid 65534's 17th connection is refused
 * with STRAW_ECONNQUOTA (the hello answered, then the connection closed),
 * while root connects and is served; one closed, one admitted.
 */
CASE(connections_per_uid)
{
	static const char *const args[] = {"--quota-connections", "16", NULL};
	uint64_t use[REG_USAGE_NRES];
	struct reg_usage_info info;
	struct conns_arg ca;
	straw_reg_status st;
	straw_reg *r, *r2;
	int p1[2], p2[2];
	pid_t child;

	need_root();
	tu_setup();
	strawd = tu_start_strawd_args(args);
	CHECK(strawd > 0);
	CHECK_OK(pipe2(p1, O_CLOEXEC));
	CHECK_OK(pipe2(p2, O_CLOEXEC));
	ca.to_parent = p1[1];
	ca.from_parent = p2[0];
	child = spawn_nobody(conns_child, &ca);
	expect_word(p1[0], child, 'f', 30000);
	CHECK_OK(straw_reg_connect(&r, NULL, 0));
	CHECK_OK(straw_reg_connect(&r2, NULL, 0));
	CHECK_OK(straw_reg_status_get(r2, &st));
	CHECK_OK(straw_reg_write(r2, "/root-works", "yes", 3));
	CHECK_OK(usage_of(r, NOBODY, use, &info));
	CHECK_EQ_U(use[REG_RES_CONNS], CONN_QUOTA);
	CHECK_EQ_U(info.limit[REG_RES_CONNS], CONN_QUOTA);
	CHECK(info.refused >= 2);
	say(p2[1], 'x');
	child_ok(child, 30000);
	straw_reg_close(r2);
	straw_reg_close(r);
	close(p1[0]);
	close(p1[1]);
	close(p2[0]);
	close(p2[1]);
	CHECK_EQ(tu_stop_strawd(strawd), 0);
	tu_cleanup();
}

/* ---- fd_limit_refuses_idle ---------------------------------------------- */

#define FD_LIMIT  256
#define FD_EXTRAS 32

static int
fdlimit_child(void *arg)
{
	struct conns_arg *ca = arg;
	struct raw *c = straw_calloc(FD_LIMIT, sizeof(*c));
	int extra[FD_EXTRAS];
	int n = 0, i, rc = 0;
	straw_reg *r;

	if (c == NULL)
		return 1;
	/* Connections until strawd runs out of descriptors. */
	while (n < FD_LIMIT && (rc = raw_open(&c[n])) == 0)
		n++;
	raw_fini(&c[n < FD_LIMIT ? n : FD_LIMIT - 1]);
	if (rc != STRAW_ESERVERFULL || n < FD_LIMIT / 2) {
		fprintf(stderr, "  %d connections, then %s\n", n,
		        straw_errname(rc));
		return 2;
	}
	rc = straw_reg_connect(&r, NULL, 0);
	if (rc != STRAW_ESERVERFULL) {
		fprintf(stderr, "  at the limit, straw_reg_connect: %s\n",
		        straw_errname(rc));
		return 3;
	}
	/* Clients that connect and say nothing: strawd must not leave them
	 * in its backlog (where it would spin on them). */
	for (i = 0; i < FD_EXTRAS; i++)
		if ((extra[i] = tu_raw_connect()) < 0)
			return 4;
	fprintf(stderr,
	        "  uid 65534: %d connections admitted, then refused "
	        "(%s)\n",
	        n, straw_strerror(STRAW_ESERVERFULL));
	say(ca->to_parent, 'f');
	if (hear(ca->from_parent, 60000) != 'x')
		return 5;
	/* Each was answered {reply, 0, {error, ...}} and closed. */
	for (i = 0; i < FD_EXTRAS; i++) {
		struct raw x = {0};
		struct raw_in in[4];
		straw_builder_init(&x.b);
		x.fd = extra[i];
		x.rbuf = straw_malloc(REG_MAX_PACKET);
		if (raw_recv(&x, in, 4, 10000) != 1 || in[0].is_event ||
		    in[0].id != 0 || in[0].rc != STRAW_ESERVERFULL)
			return 6;
		if (raw_recv(&x, in, 4, 10000) != 0)
			return 7;
		raw_fini(&x);
	}
	/* Room again: admitted again. */
	for (i = 0; i < 8; i++)
		raw_fini(&c[i]);
	rc = straw_reg_connect(&r, NULL, 0);
	if (rc < 0) {
		fprintf(stderr, "  after closing some: %s\n",
		        straw_errname(rc));
		return 8;
	}
	straw_reg_close(r);
	for (i = 8; i < n; i++)
		raw_fini(&c[i]);
	straw_free(c);
	return 0;
}

/*
 * strawd started with a limit of 256 descriptors and no lower connection
 * cap: uid 65534 connects until strawd is out of descriptors; the next
 * clients get STRAW_ESERVERFULL at once (straw_reg_connect returns it;
 * silent ones get {reply, 0, {error, ...}}), and strawd's CPU time over 2
 * s at the limit stays under 5% (it drains its backlog instead of
 * spinning); once connections close, new ones are admitted.
 */
CASE(fd_limit_refuses_idle)
{
	static const char *const args[] = {"--max-connections", "100000",
	                                   "--quota-connections", "99999",
	                                   NULL};
	struct conns_arg ca;
	long t0, t1, hz = sysconf(_SC_CLK_TCK);
	int p1[2], p2[2];
	pid_t child;

	need_root();
	tu_setup();
	tu_strawd_nofile = FD_LIMIT;
	strawd = tu_start_strawd_args(args);
	tu_strawd_nofile = 0;
	CHECK(strawd > 0);
	CHECK_OK(pipe2(p1, O_CLOEXEC));
	CHECK_OK(pipe2(p2, O_CLOEXEC));
	ca.to_parent = p1[1];
	ca.from_parent = p2[0];
	child = spawn_nobody(fdlimit_child, &ca);
	expect_word(p1[0], child, 'f', 60000);
	t0 = proc_cpu_ticks(strawd);
	poll(NULL, 0, 2000); /* the interval measured, not a wait */
	t1 = proc_cpu_ticks(strawd);
	fprintf(stderr,
	        "  strawd at its descriptor limit: %ld ms of CPU in 2000 ms\n",
	        (t1 - t0) * 1000 / hz);
	CHECK(t0 >= 0 && t1 >= 0);
	CHECK((t1 - t0) * 1000 / hz <= 100);
	say(p2[1], 'x');
	child_ok(child, 60000);
	close(p1[0]);
	close(p1[1]);
	close(p2[0]);
	close(p2[1]);
	CHECK_EQ(tu_stop_strawd(strawd), 0);
	tu_cleanup();
}

/* ---- slow_watchers_bounded ---------------------------------------------- */

#define WATCHERS 50 /* of each uid */
#define WRITES   300000

/* Opens n raw connections watching /flood that never read. */
static int
lazy_watchers(struct raw *w, int n)
{
	int i;

	for (i = 0; i < n; i++) {
		uint64_t id;
		if (raw_open(&w[i]) < 0)
			return -1;
		id = ++w[i].next_id;
		if (reg_enc_watch(&w[i].pkt, &w[i].b, id, "/flood", 6, 1) < 0 ||
		    raw_flush(&w[i], NULL, 0) < 0 ||
		    raw_wait(&w[i], id, 10000) < 0)
			return -1;
	}
	return 0;
}

/* 1 if strawd closed every one of them (what they got, then EOF). */
static int
all_cut_off(struct raw *w, int n)
{
	struct raw_in in[4096];
	int i, k;

	for (i = 0; i < n; i++) {
		for (k = 0; k < 100000; k++) {
			int got = raw_recv(&w[i], in, 4096, 20000);
			if (got == 0)
				break;
			if (got < 0)
				return 0;
		}
		raw_fini(&w[i]);
	}
	return 1;
}

static int
slow_child(void *arg)
{
	struct conns_arg *ca = arg;
	struct raw w[WATCHERS];
	char path[300];
	straw_reg *r;
	int i;

	if (lazy_watchers(w, WATCHERS) < 0)
		return 1;
	if (straw_reg_connect(&r, NULL, 0) < 0)
		return 2;
	for (i = 0; i < WRITES; i++) {
		/* Long paths: events outgrow every buffer fast. */
		snprintf(path, sizeof(path), "/flood/%0200d", i % 1000);
		if (straw_reg_write_async(r, path, "x", 1) < 0)
			return 3;
	}
	if (straw_reg_sync(r) < 0)
		return 4;
	straw_reg_close(r);
	say(ca->to_parent, 'w');
	if (hear(ca->from_parent, 60000) != 'x')
		return 5;
	return all_cut_off(w, WATCHERS) ? 0 : 6;
}

/*
 * 50 watchers of root and 50 of uid 65534 watch /flood and never read,
 * while 65534 makes 300000 writes there: each is cut off (EOF), strawd's
 * peak RSS grows by at most its total output limit (64 MiB) and 48 MiB
 * for the rest (sanitizer build), and root is served afterwards.
 */
CASE(slow_watchers_bounded)
{
	static struct raw w[WATCHERS];
	straw_reg_perms mine = {0};
	struct conns_arg ca;
	straw_reg_status st;
	long rss0, hwm;
	int p1[2], p2[2];
	straw_reg *r;
	pid_t child;

	need_root();
	tu_setup();
	tu_strawd_asan = "quarantine_size_mb=4:detect_leaks=1";
	strawd = tu_start_strawd();
	tu_strawd_asan = NULL;
	CHECK(strawd > 0);
	CHECK_OK(straw_reg_connect(&r, NULL, 0));
	CHECK_OK(straw_reg_mkdir(r, "/flood"));
	mine.owner = NOBODY;
	CHECK_OK(straw_reg_set_perms(r, "/flood", &mine));
	CHECK_OK(lazy_watchers(w, WATCHERS));
	rss0 = proc_kb(strawd, "VmRSS");
	CHECK_OK(pipe2(p1, O_CLOEXEC));
	CHECK_OK(pipe2(p2, O_CLOEXEC));
	ca.to_parent = p1[1];
	ca.from_parent = p2[0];
	child = spawn_nobody(slow_child, &ca);
	expect_word(p1[0], child, 'w', 240000);
	hwm = proc_kb(strawd, "VmHWM");
	fprintf(stderr,
	        "  strawd: RSS %ld KiB before, peak %ld KiB with %d watchers "
	        "not reading through %d writes\n",
	        rss0, hwm, 2 * WATCHERS, WRITES);
	CHECK(all_cut_off(w, WATCHERS));
	CHECK_OK(straw_reg_status_get(r, &st));
	CHECK_EQ(st.connections, 1); /* r: the writer has left */
	say(p2[1], 'x');
	child_ok(child, 120000);
	CHECK(hwm - rss0 <= (64 + 48) * 1024);
	straw_reg_close(r);
	close(p1[0]);
	close(p1[1]);
	close(p2[0]);
	close(p2[1]);
	CHECK_EQ(tu_stop_strawd(strawd), 0);
	tu_cleanup();
}

/* ---- usage_per_uid ------------------------------------------------------ */

/* Runs `straw status` (as the calling uid) into out. */
static int
run_status(char *out, size_t cap)
{
	char cmd[700];
	size_t got;
	FILE *f;

	snprintf(cmd, sizeof(cmd), "%s/cli/straw status",
	         getenv("STRAW_TEST_BUILD"));
	f = popen(cmd, "r");
	if (f == NULL)
		return -1;
	got = fread(out, 1, cap - 1, f);
	out[got] = '\0';
	return pclose(f);
}

static int
usage_child(void *arg)
{
	struct conns_arg *ca = arg;
	straw_reg *r[3];
	char out[8192];
	uint32_t id;
	int i, rc;

	for (i = 0; i < 3; i++)
		if (straw_reg_connect(&r[i], NULL, 0) < 0)
			return 1;
	if (straw_reg_join(r[0], "u1", &id) < 0 ||
	    straw_reg_join(r[1], "u2", &id) < 0)
		return 2;
	rc = straw_reg_join(r[2], "u3", &id);
	if (rc != STRAW_EQUOTA)
		return 3;
	/* Its own line only. */
	if (run_status(out, sizeof(out)) != 0)
		return 4;
	fprintf(stderr, "%s", out);
	if (strstr(out, "\n  65534      4/1024") == NULL ||
	    strstr(out, " 2/2 ") == NULL || strstr(out, "\n  0    ") != NULL)
		return 5;
	say(ca->to_parent, 's');
	if (hear(ca->from_parent, 60000) != 'x')
		return 6;
	for (i = 0; i < 3; i++)
		straw_reg_close(r[i]);
	return 0;
}

/*
 * strawd --quota-containers 2: uid 65534's third container is refused
 * with STRAW_EQUOTA whichever connection asks; `straw status` shows 65534
 * its own line (connections 4/1024, containers 2/2) and no other, and
 * shows root every uid.
 */
CASE(usage_per_uid)
{
	static const char *const args[] = {"--quota-containers", "2", NULL};
	struct conns_arg ca;
	char out[8192];
	int p1[2], p2[2];
	pid_t child;

	need_root();
	tu_setup();
	strawd = tu_start_strawd_args(args);
	CHECK(strawd > 0);
	CHECK_OK(pipe2(p1, O_CLOEXEC));
	CHECK_OK(pipe2(p2, O_CLOEXEC));
	ca.to_parent = p1[1];
	ca.from_parent = p2[0];
	child = spawn_nobody(usage_child, &ca);
	expect_word(p1[0], child, 's', 30000);
	CHECK_EQ(run_status(out, sizeof(out)), 0);
	fprintf(stderr, "%s", out);
	CHECK(strstr(out, "\n  65534      3/1024") != NULL);
	CHECK(strstr(out, "\n  0          1/-") != NULL);
	say(p2[1], 'x');
	child_ok(child, 30000);
	close(p1[0]);
	close(p1[1]);
	close(p2[0]);
	close(p2[1]);
	CHECK_EQ(tu_stop_strawd(strawd), 0);
	tu_cleanup();
}

CHECK_MAIN(watch_leak, forged_adopt, adopt_needs_both_ends,
           flood_root_keeps_working, connections_per_uid, fd_limit_refuses_idle,
           slow_watchers_bounded, usage_per_uid)
