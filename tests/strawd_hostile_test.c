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
#include "strawd_util.h"

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
	pid_t pid = nobody_fork(fn, arg);

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

/* ---- watch_leak --------------------------------------------------------- */

/*
 * Root writes, re-permits and removes /secret/... (default permissions:
 * root only) while uid 65534 watches "/" and a path below /secret: no
 * event names anything under /secret, removals and transactions included;
 * changes of /public it may read do reach it.
 */
CASE(watch_leak)
{
	straw_reg *r;
	pid_t child;
	int ready[2];

	need_root();
	tu_setup();
	strawd = tu_start_strawd();
	CHECK(strawd > 0);
	CHECK_OK(straw_reg_connect(&r, NULL, 0));
	CHECK_OK(watch_leak_setup(r));
	CHECK_OK(pipe2(ready, O_CLOEXEC));
	child = spawn_nobody(watch_leak_child, &ready[1]);
	expect_word(ready[0], child, 'r', 20000);
	CHECK_OK(watch_leak_changes(r));
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
	fa.res = mmap(NULL, sizeof(*fa.res), PROT_READ | PROT_WRITE,
	              MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	CHECK(fa.res != MAP_FAILED);
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
	fprintf(stderr,
	        "  uid 65534: %d tubes made, %d requests refused "
	        "(STRAW_EQUOTA), %d other, %d forgeries sent, %d adopted\n",
	        fa.res->made, fa.res->quota, fa.res->other, fa.res->forged,
	        fa.res->adopted);
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
	munmap(fa.res, sizeof(*fa.res));
	CHECK_EQ(tu_stop_strawd(strawd), 0);
	tu_cleanup();
}

/* ---- connections_per_uid ------------------------------------------------ */

#define CONN_QUOTA 16

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
