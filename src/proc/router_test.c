/*
 * The router's seam (src/proc/router.h) with a fake router: sends, links,
 * monitors and exit signals to pids of other containers reach its ops;
 * what the router hands back through the entries reaches local processes
 * with Erlang's rules; a container that is gone fires every link and
 * monitor to it with noconnection, exactly once; the reserved EXIT and
 * DOWN arrive when memory has run out.
 */
#include <string.h>

#include <straw/straw.h>

#include "proc/etf_proc.h"
#include "proc/proc.h"
#include "proc/proc_test_util.h"
#include "proc/router.h"
#include "testing/check.h"

/* What the fake router saw. */
struct fake {
	int sends, send_names, whereis, links, unlinks, mons, demons, exits,
	        downs;
	straw_pid from, to; /* of the last send, link, exit, monitor */
	straw_ref ref;      /* of the last monitor, demonitor or down */
	int kind;           /* of the last exit */
	char reason[64];    /* atom of the last exit or down reason */
	uint8_t bytes[64];  /* the last message sent */
	size_t len;         /* its length */
	int send_rc;        /* what send returns */
};

static struct fake fk;

static void
note_reason(const straw_msg *r)
{
	size_t n = r->len > 3 ? r->data[2] : 0;

	fk.reason[0] = '\0';
	if (r->len >= 3 && r->data[1] == ETF_SMALL_ATOM_UTF8 &&
	    n < sizeof(fk.reason)) {
		memcpy(fk.reason, r->data + 3, n);
		fk.reason[n] = '\0';
	}
}

static int
f_send(void *rt, straw_pid from, straw_pid to, straw_msg *m, int64_t dl)
{
	(void)rt;
	(void)dl;
	fk.sends++;
	fk.from = from;
	fk.to = to;
	fk.len = m->len < sizeof(fk.bytes) ? m->len : sizeof(fk.bytes);
	memcpy(fk.bytes, m->data, fk.len);
	straw_msg_unref(m);
	return fk.send_rc;
}

static int
f_send_name(void *rt, straw_pid from, const char *container, const char *name,
            straw_msg *m, int64_t dl)
{
	(void)rt;
	(void)dl;
	(void)from;
	fk.send_names++;
	straw_msg_unref(m);
	return strcmp(container, "nosuch") == 0 ? STRAW_ENOCONTAINER : 0;
}

static int
f_whereis(void *rt, const char *container, const char *name, straw_pid *out,
          int64_t dl)
{
	(void)rt;
	(void)dl;
	fk.whereis++;
	if (strcmp(name, "svc") != 0)
		return STRAW_ENONAME;
	out->machine = 0x77;
	out->container = 5;
	out->process = 9;
	(void)container;
	return 0;
}

static int
f_link(void *rt, straw_pid local, straw_pid remote)
{
	(void)rt;
	fk.links++;
	fk.from = local;
	fk.to = remote;
	return 0;
}

static int
f_unlink(void *rt, straw_pid local, straw_pid remote)
{
	(void)rt;
	(void)local;
	(void)remote;
	fk.unlinks++;
	return 0;
}

static int
f_monitor(void *rt, straw_pid watcher, straw_pid target, straw_ref ref)
{
	(void)rt;
	fk.mons++;
	fk.from = watcher;
	fk.to = target;
	fk.ref = ref;
	return 0;
}

static int
f_demonitor(void *rt, straw_pid watcher, straw_pid target, straw_ref ref)
{
	(void)rt;
	(void)watcher;
	(void)target;
	fk.demons++;
	fk.ref = ref;
	return 0;
}

static int
f_exit(void *rt, straw_pid from, straw_pid to, const straw_msg *reason,
       int kind)
{
	(void)rt;
	fk.exits++;
	fk.from = from;
	fk.to = to;
	fk.kind = kind;
	note_reason(reason);
	return 0;
}

static int
f_down(void *rt, straw_pid target, straw_pid watcher, straw_ref ref,
       const straw_msg *reason)
{
	(void)rt;
	fk.downs++;
	fk.from = target;
	fk.to = watcher;
	fk.ref = ref;
	note_reason(reason);
	return 0;
}

static const struct strawi_router_ops fake_ops = {
        .version = STRAWI_ROUTER_OPS_VERSION,
        .send = f_send,
        .send_name = f_send_name,
        .whereis = f_whereis,
        .link = f_link,
        .unlink = f_unlink,
        .monitor = f_monitor,
        .demonitor = f_demonitor,
        .exit = f_exit,
        .down = f_down,
};

/* Runs fn(arg) in the scheduler context (where the router calls the
 * entries) and waits for it. */
struct in_sched {
	struct strawi_task task; /* first */
	void (*fn)(void *arg);
	void *arg;
	uint32_t waiter; /* who gets 'ran' */
};

static void
in_sched_run(struct strawi_task *t)
{
	struct in_sched *s = (struct in_sched *)t;
	straw_container *c = strawi_proc_container_here();

	s->fn(s->arg);
	strawi_proc_remote_deliver(c, s->waiter, proc_msg_atom("ran"));
}

static void
run_in_sched(void (*fn)(void *arg), void *arg)
{
	struct in_sched s;
	straw_msg *m;

	memset(&s, 0, sizeof(s));
	s.task.fn = in_sched_run;
	s.fn = fn;
	s.arg = arg;
	s.waiter = straw_self().process;
	strawi_sched_post(straw_container_self()->sched, &s.task);
	CHECK_EQ(straw_receive_match(&m, 5000, "ran"), 0);
	straw_msg_unref(m);
}

static const straw_pid remote = {0x77, 5, 9};
static const straw_pid remote2 = {0x77, 5, 10};
static const straw_pid other = {0x77, 6, 1};

static void
setup(void)
{
	memset(&fk, 0, sizeof(fk));
	CHECK_OK(
	        strawi_proc_router_set(straw_container_self(), &fake_ops, &fk));
}

/* ---- sends --------------------------------------------------------------- */

static void
send_main(void *arg)
{
	straw_container *c = straw_container_self();
	straw_msg *m;
	straw_pid got, me = straw_self_long();

	(void)arg;
	CHECK_EQ(straw_send(remote, NULL), -EINVAL);
	CHECK_OK(straw_msgf(&m, "{hi, 1}"));
	CHECK_EQ(straw_send(remote, m), -EHOSTUNREACH); /* no router */
	CHECK_RC(strawi_proc_router_set(c, &fake_ops, NULL), 0);
	CHECK_RC(strawi_proc_router_set(c, &fake_ops, NULL), -EBUSY);
	CHECK_OK(strawi_proc_router_set(c, NULL, NULL));
	{
		struct strawi_router_ops bad = fake_ops;
		bad.version = 99;
		CHECK_RC(strawi_proc_router_set(c, &bad, NULL), -EINVAL);
	}
	setup();
	CHECK_OK(straw_send(remote, m));
	CHECK_EQ(fk.sends, 1);
	CHECK(straw_pid_equal(fk.to, remote));
	CHECK(straw_pid_equal(fk.from, me));
	CHECK_EQ(fk.from.container, c->id); /* long forms */
	CHECK_MEM(fk.bytes, fk.len, m->data, m->len);
	/* a short pid of our own container never reaches the router */
	CHECK_OK(straw_send(straw_self(), m));
	CHECK_EQ(fk.sends, 1);
	straw_msg_unref(m);
	CHECK_OK(straw_receive(&m, 0));
	straw_msg_unref(m);
	/* the router's error reaches the sender; send_take consumes */
	fk.send_rc = -EMSGSIZE;
	CHECK_OK(straw_msgf(&m, "big"));
	CHECK_RC(straw_send_take(remote, m), -EMSGSIZE);
	fk.send_rc = 0;
	CHECK_OK(straw_sendf(remote, "{x, ~i}", (int64_t)7));
	CHECK_EQ(fk.sends, 3);
	/* {Container, Name}: ours is local, others go to the router */
	CHECK_OK(straw_register("me", straw_self()));
	CHECK_OK(straw_sendf_to(c->name, "me", "local"));
	CHECK_OK(straw_receive_match(&m, 0, "local"));
	straw_msg_unref(m);
	CHECK_RC(straw_sendf_to(c->name, "nobody", "x"), STRAW_ENONAME);
	CHECK_OK(straw_sendf_to("elsewhere", "svc", "x"));
	CHECK_EQ(fk.send_names, 1);
	CHECK_RC(straw_sendf_to("nosuch", "svc", "x"), STRAW_ENOCONTAINER);
	CHECK_OK(straw_whereis_in("elsewhere", "svc", &got));
	CHECK(straw_pid_equal(got, remote));
	CHECK_RC(straw_whereis_in("elsewhere", "nobody", &got), STRAW_ENONAME);
	CHECK_OK(straw_whereis_in(c->name, "me", &got));
	CHECK(straw_pid_equal(got, straw_self()));
	/* a timer to a remote pid sends through the router when it fires */
	CHECK_OK(straw_msgf(&m, "late"));
	CHECK_OK(straw_send_after(remote, m, 1, NULL));
	straw_msg_unref(m);
	CHECK_OK(straw_sleep(20));
	CHECK_EQ(fk.sends, 4);
	CHECK_OK(strawi_proc_router_set(c, NULL, NULL));
	CHECK_RC(straw_send_after(remote, m, 1, NULL), -EHOSTUNREACH);
}

CASE(remote_sends_go_to_the_router)
{
	CHECK_EQ(pt_run(send_main, NULL), 0);
}

/* ---- links and exit signals --------------------------------------------- */

static void
linker_child(void *arg)
{
	straw_msg *m;

	(void)arg;
	CHECK_OK(straw_link(remote));
	PRECV(m, STRAW_INFINITY); /* go */
	straw_msg_unref(m);
	straw_exit_self_atom("boom");
}

static void
wait_forever(void *arg)
{
	straw_msg *m;

	(void)arg;
	for (;;) {
		PRECV(m, STRAW_INFINITY);
		straw_msg_unref(m);
	}
}

/* The entries, each run in the scheduler context by run_in_sched. */
struct entry {
	straw_pid pid;      /* the remote end */
	uint32_t local;     /* the local process */
	straw_ref ref;      /* a monitor's */
	const char *reason; /* an atom */
	int kind;           /* an exit signal's */
	int rc;             /* what the entry returned */
};

static void
do_remote_exit(void *arg)
{
	struct entry *e = arg;
	straw_msg *r = proc_msg_atom(e->reason);

	strawi_proc_remote_exit(strawi_proc_container_here(), e->pid, e->local,
	                        r, e->kind);
	straw_msg_unref(r);
}

static void
do_remote_link(void *arg)
{
	struct entry *e = arg;

	e->rc = strawi_proc_remote_link(strawi_proc_container_here(), e->pid,
	                                e->local);
}

static void
do_remote_unlink(void *arg)
{
	struct entry *e = arg;

	strawi_proc_remote_unlink(strawi_proc_container_here(), e->pid,
	                          e->local);
}

static void
do_remote_monitor(void *arg)
{
	struct entry *e = arg;

	e->rc = strawi_proc_remote_monitor(strawi_proc_container_here(), e->pid,
	                                   e->local, e->ref);
}

static void
do_remote_demonitor(void *arg)
{
	struct entry *e = arg;

	strawi_proc_remote_demonitor(strawi_proc_container_here(), e->pid,
	                             e->local, e->ref);
}

static void
do_remote_down(void *arg)
{
	struct entry *e = arg;
	straw_msg *r = proc_msg_atom(e->reason);

	strawi_proc_remote_down(strawi_proc_container_here(), e->ref, e->pid,
	                        r);
	straw_msg_unref(r);
}

static void
do_peer_gone(void *arg)
{
	struct entry *e = arg;

	strawi_proc_peer_gone(strawi_proc_container_here(), e->pid.machine,
	                      e->pid.container);
}

/* The next message is {'EXIT', From, Atom}. */
static void
exit_is(straw_pid from, const char *atom)
{
	straw_msg *m;
	straw_pid got;

	PRECV(m, 5000);
	CHECK(pt_is_exit(m, &got, atom));
	CHECK(straw_pid_equal(got, from));
	straw_msg_unref(m);
}

static void
links_main(void *arg)
{
	straw_pid child, me = straw_self();
	straw_ref ref;
	straw_msg *m;
	struct entry e;
	straw_spawn_opts mon = {STRAW_SPAWN_MONITOR, 0, &ref};

	(void)arg;
	setup();
	/* a child linked to a remote pid ends: the router carries it */
	CHECK_OK(straw_spawn(linker_child, NULL, &mon, &child));
	CHECK_OK(straw_sendf(child, "go"));
	pt_down_reason_is("boom");
	CHECK_EQ(fk.links, 1);
	CHECK_EQ(fk.exits, 1);
	CHECK_EQ(fk.kind, STRAWI_SIG_LINK);
	CHECK_STR(fk.reason, "boom");
	CHECK(straw_pid_equal(fk.to, remote));
	CHECK_EQ(fk.from.process, child.process);

	/* trapping: a remote link's exit signal is a message, once */
	CHECK_EQ(straw_trap_exit(1), 0);
	CHECK_OK(straw_link(remote));
	CHECK_OK(straw_link(remote)); /* already linked: nothing more */
	CHECK_EQ(fk.links, 2);
	memset(&e, 0, sizeof(e));
	e.pid = remote;
	e.local = me.process;
	e.reason = "bye";
	e.kind = STRAWI_SIG_LINK;
	run_in_sched(do_remote_exit, &e);
	exit_is(remote, "bye");
	run_in_sched(do_remote_exit, &e); /* the link is gone: dropped */
	CHECK_EQ(straw_receive(&m, 0), -ETIMEDOUT);
	/* exit/2 from a remote pid, no link needed: a message too */
	e.kind = STRAWI_SIG_EXIT;
	e.reason = "stop";
	run_in_sched(do_remote_exit, &e);
	exit_is(remote, "stop");
	/* unlink tells the router, and no signal comes after it */
	CHECK_OK(straw_link(remote2));
	CHECK_OK(straw_unlink(remote2));
	CHECK_EQ(fk.unlinks, 1);
	e.pid = remote2;
	e.kind = STRAWI_SIG_LINK;
	run_in_sched(do_remote_exit, &e);
	CHECK_EQ(straw_receive(&m, 0), -ETIMEDOUT);
	/* exit/2 to a remote pid */
	CHECK_OK(straw_exit_atom(remote, "shutdown"));
	CHECK_EQ(fk.exits, 2);
	CHECK_EQ(fk.kind, STRAWI_SIG_EXIT);
	CHECK_STR(fk.reason, "shutdown");
	CHECK_OK(straw_trap_exit(0));

	/* a non-trapping process that a remote pid linked to ends with the
	 * remote end's abnormal reason; its end reaches the remote end */
	CHECK_OK(straw_spawn(wait_forever, NULL, &mon, &child));
	e.pid = remote2;
	e.local = child.process;
	run_in_sched(do_remote_link, &e);
	CHECK_OK(e.rc);
	e.reason = "crash";
	e.kind = STRAWI_SIG_LINK;
	run_in_sched(do_remote_exit, &e);
	pt_down_reason_is("crash");
	CHECK_EQ(fk.exits, 2); /* the link went with the signal */
	/* normal from a link does nothing to a non-trapping process */
	CHECK_OK(straw_spawn(wait_forever, NULL, &mon, &child));
	e.local = child.process;
	run_in_sched(do_remote_link, &e);
	e.reason = "normal";
	run_in_sched(do_remote_exit, &e);
	CHECK_EQ(straw_receive(&m, 0), -ETIMEDOUT);
	/* (that signal said the remote end ended: the link went with it) */
	CHECK_OK(straw_exit_atom(child, "kill"));
	pt_down_reason_is("killed");
	CHECK_EQ(fk.exits, 2);
	/* linked again, it ends: the remote end hears its reason */
	CHECK_OK(straw_spawn(wait_forever, NULL, &mon, &child));
	e.local = child.process;
	run_in_sched(do_remote_link, &e);
	CHECK_OK(straw_exit_atom(child, "kill"));
	pt_down_reason_is("killed");
	CHECK_EQ(fk.exits, 3);
	CHECK_STR(fk.reason, "killed");
	CHECK(straw_pid_equal(fk.to, remote2));
	/* a remote link to a process that is not alive answers noproc */
	run_in_sched(do_remote_link, &e);
	CHECK_OK(e.rc);
	CHECK_EQ(fk.exits, 4);
	CHECK_STR(fk.reason, "noproc");
	CHECK_EQ(fk.kind, STRAWI_SIG_LINK);
	/* a remote unlink: nothing reaches the remote end afterwards */
	CHECK_OK(straw_spawn(wait_forever, NULL, &mon, &child));
	e.local = child.process;
	run_in_sched(do_remote_link, &e);
	run_in_sched(do_remote_unlink, &e);
	CHECK_OK(straw_exit_atom(child, "kill"));
	pt_down_reason_is("killed");
	CHECK_EQ(fk.exits, 4);
	CHECK_OK(strawi_proc_router_set(straw_container_self(), NULL, NULL));
}

CASE(remote_links_and_exit_signals)
{
	CHECK_EQ(pt_run(links_main, NULL), 0);
}

/* ---- monitors -------------------------------------------------------- */

static void
monitors_main(void *arg)
{
	straw_pid child, who, me = straw_self();
	straw_ref r1, r2, got, cref;
	straw_msg *m;
	const uint8_t *rs;
	size_t rl;
	struct entry e;
	straw_spawn_opts mon = {STRAW_SPAWN_MONITOR, 0, &cref};

	(void)arg;
	setup();
	CHECK_OK(straw_monitor(remote, &r1));
	CHECK_EQ(fk.mons, 1);
	CHECK(straw_ref_equal(fk.ref, r1));
	CHECK(straw_pid_equal(fk.to, remote));
	CHECK(straw_pid_equal(fk.from, straw_self_long()));
	memset(&e, 0, sizeof(e));
	e.pid = remote;
	e.ref = r1;
	e.reason = "gone";
	run_in_sched(do_remote_down, &e);
	PRECV(m, 0);
	CHECK(pt_is_down(m, &got, &who, &rs, &rl));
	CHECK(straw_ref_equal(got, r1));
	CHECK(straw_pid_equal(who, remote));
	CHECK(etfp_is_atom(rs, rl, "gone"));
	straw_msg_unref(m);
	run_in_sched(do_remote_down, &e); /* exactly once */
	CHECK_EQ(straw_receive(&m, 0), -ETIMEDOUT);
	CHECK_EQ(straw_demonitor(r1, 0), 0); /* fired: not active */
	/* demonitor tells the router, and a late DOWN is dropped */
	CHECK_OK(straw_monitor(remote, &r2));
	CHECK_EQ(straw_demonitor(r2, 0), 1);
	CHECK_EQ(fk.demons, 1);
	CHECK(straw_ref_equal(fk.ref, r2));
	e.ref = r2;
	run_in_sched(do_remote_down, &e);
	CHECK_EQ(straw_receive(&m, 0), -ETIMEDOUT);
	/* a DOWN naming another target than the monitor's is not it */
	CHECK_OK(straw_monitor(remote, &r2));
	e.ref = r2;
	e.pid = remote2;
	run_in_sched(do_remote_down, &e);
	CHECK_EQ(straw_receive(&m, 0), -ETIMEDOUT);
	CHECK_EQ(straw_demonitor(r2, 0), 1);

	/* a remote watcher of a local process hears of its end */
	CHECK_OK(straw_spawn(wait_forever, NULL, &mon, &child));
	e.pid = other;
	e.local = child.process;
	e.ref.machine = other.machine;
	e.ref.container = other.container;
	e.ref.id = 4242;
	run_in_sched(do_remote_monitor, &e);
	CHECK_OK(e.rc);
	CHECK_OK(straw_exit_atom(child, "bye"));
	pt_down_reason_is("bye");
	CHECK_EQ(fk.downs, 1);
	CHECK_EQ(fk.ref.id, 4242);
	CHECK(straw_pid_equal(fk.to, other));
	CHECK_EQ(fk.from.process, child.process);
	CHECK_STR(fk.reason, "bye");
	/* ... and of a process that is not alive, with noproc at once */
	run_in_sched(do_remote_monitor, &e);
	CHECK_EQ(fk.downs, 2);
	CHECK_STR(fk.reason, "noproc");
	/* a remote demonitor: nothing when it ends */
	CHECK_OK(straw_spawn(wait_forever, NULL, &mon, &child));
	e.local = child.process;
	run_in_sched(do_remote_monitor, &e);
	run_in_sched(do_remote_demonitor, &e);
	CHECK_OK(straw_exit_atom(child, "bye"));
	pt_down_reason_is("bye");
	CHECK_EQ(fk.downs, 2);
	(void)me;
	CHECK_OK(strawi_proc_router_set(straw_container_self(), NULL, NULL));
}

CASE(remote_monitors)
{
	CHECK_EQ(pt_run(monitors_main, NULL), 0);
}

/* ---- a container that is gone ----------------------------------------- */

static void
peer_gone_main(void *arg)
{
	straw_pid child;
	straw_ref r1, r2, r3, got, cref;
	straw_msg *m;
	const uint8_t *rs;
	size_t rl;
	struct entry e;
	int i, exits = 0, downs = 0;
	straw_spawn_opts mon = {STRAW_SPAWN_MONITOR, 0, &cref};

	(void)arg;
	setup();
	CHECK_EQ(straw_trap_exit(1), 0);
	/* two processes of container 5, one of container 6 */
	CHECK_OK(straw_link(remote));
	CHECK_OK(straw_monitor(remote, &r1));
	CHECK_OK(straw_monitor(remote2, &r2));
	CHECK_OK(straw_link(other));
	CHECK_OK(straw_monitor(other, &r3));
	/* a local process that container 5 monitors and links to */
	CHECK_OK(straw_spawn(wait_forever, NULL, &mon, &child));
	memset(&e, 0, sizeof(e));
	e.pid = remote;
	e.local = child.process;
	e.ref.machine = remote.machine;
	e.ref.container = remote.container;
	e.ref.id = 7;
	run_in_sched(do_remote_monitor, &e);
	run_in_sched(do_remote_link, &e);
	/* container 5 goes: one EXIT and two DOWNs, all noconnection */
	run_in_sched(do_peer_gone, &e);
	for (i = 0; i < 3; i++) {
		straw_pid who;
		PRECV(m, 0);
		if (pt_is_exit(m, &who, "noconnection")) {
			CHECK(straw_pid_equal(who, remote));
			exits++;
		} else {
			CHECK(pt_is_down(m, &got, &who, &rs, &rl));
			CHECK(etfp_is_atom(rs, rl, "noconnection"));
			CHECK(straw_ref_equal(got, r1) ||
			      straw_ref_equal(got, r2));
			downs++;
		}
		straw_msg_unref(m);
	}
	CHECK_EQ(exits, 1);
	CHECK_EQ(downs, 2);
	/* the local child, linked to container 5 and not trapping, ended
	 * with noconnection; what container 5 held on it is not reported to
	 * the router (that container is gone) */
	pt_down_reason_is("noconnection");
	CHECK_EQ(fk.downs, 0);
	CHECK_EQ(fk.exits, 0);
	CHECK_EQ(straw_receive(&m, 0), -ETIMEDOUT);
	run_in_sched(do_peer_gone, &e); /* exactly once */
	CHECK_EQ(straw_receive(&m, 0), -ETIMEDOUT);
	CHECK_EQ(straw_demonitor(r1, 0), 0);
	/* the router goes: container 6's link and monitor fire too */
	CHECK_OK(strawi_proc_router_set(straw_container_self(), NULL, NULL));
	exits = downs = 0;
	for (i = 0; i < 2; i++) {
		straw_pid who;
		PRECV(m, 0);
		exits += pt_is_exit(m, &who, "noconnection");
		downs += pt_is_down(m, &got, &who, &rs, &rl) &&
		         straw_ref_equal(got, r3) &&
		         etfp_is_atom(rs, rl, "noconnection");
		straw_msg_unref(m);
	}
	CHECK_EQ(exits, 1);
	CHECK_EQ(downs, 1);
	CHECK_EQ(straw_receive(&m, 0), -ETIMEDOUT);
	/* without a router, remote pids are unreachable again */
	CHECK_RC(straw_link(remote), -EHOSTUNREACH);
	CHECK_RC(straw_monitor(remote, &r1), -EHOSTUNREACH);
	CHECK_RC(straw_exit_atom(remote, "x"), -EHOSTUNREACH);
}

CASE(peer_gone_fires_noconnection_once)
{
	CHECK_EQ(pt_run(peer_gone_main, NULL), 0);
}

/* ---- exactly once when memory has run out ----------------------------- */

static straw_allocator failing = {check_failing_realloc, NULL};

static void
exit_with_reason(void *arg)
{
	straw_msg *m, *reason = arg;

	PRECV(m, STRAW_INFINITY); /* go */
	straw_msg_unref(m);
	check_allocs_left = 0; /* from here on nothing can be allocated */
	straw_exit_self(reason);
}

/* A reason of n bytes of binary. */
static straw_msg *
binary_reason(size_t n)
{
	static uint8_t zeros[512];
	straw_msg *m;

	CHECK_OK(straw_msgf(&m, "{why, ~b}", zeros, n));
	straw_msg_disown(m); /* it goes to the child, which ends with it */
	return m;
}

static void
oom_main(void *arg)
{
	straw_pid a, b;
	straw_ref ra, rb;
	straw_msg *m, *small = binary_reason(8), *big = binary_reason(300);
	straw_pid who;
	straw_ref got;
	const uint8_t *rs;
	size_t rl;
	int i;

	(void)arg;
	CHECK_EQ(straw_trap_exit(1), 0);
	CHECK_OK(straw_spawn(
	        exit_with_reason, small,
	        &(straw_spawn_opts){STRAW_SPAWN_LINK | STRAW_SPAWN_MONITOR, 0,
	                            &ra},
	        &a));
	CHECK_OK(straw_spawn(
	        exit_with_reason, big,
	        &(straw_spawn_opts){STRAW_SPAWN_LINK | STRAW_SPAWN_MONITOR, 0,
	                            &rb},
	        &b));
	straw_set_allocator(&failing);
	CHECK_OK(straw_sendf(a, "go"));
	CHECK_OK(straw_sendf(b, "go"));
	/* both ends: EXIT and DOWN each arrive, the small reason exact and
	 * the big one replaced */
	for (i = 0; i < 4; i++) {
		CHECK_EQ(straw_receive(&m, 5000), 0);
		if (pt_is_down(m, &got, &who, &rs, &rl)) {
			if (straw_ref_equal(got, ra)) {
				CHECK_MEM(rs, rl, small->data + 1,
				          small->len - 1);
			} else {
				CHECK(straw_ref_equal(got, rb));
				CHECK(etfp_is_atom(rs, rl, "out_of_memory"));
			}
		} else if (pt_is_exit(m, &who, NULL)) {
			CHECK(straw_pid_equal(who, a) ||
			      straw_pid_equal(who, b));
			if (straw_pid_equal(who, b))
				CHECK(pt_is_exit(m, &who, "out_of_memory"));
		} else {
			CHECK(!"neither an EXIT nor a DOWN");
		}
		straw_msg_unref(m);
	}
	check_allocs_left = -1;
	straw_set_allocator(NULL);
	CHECK_EQ(straw_receive(&m, 0), -ETIMEDOUT);
}

CASE(exit_and_down_arrive_when_memory_ran_out)
{
	CHECK_EQ(pt_run(oom_main, NULL), 0);
}

CHECK_MAIN(remote_sends_go_to_the_router, remote_links_and_exit_signals,
           remote_monitors, peer_gone_fires_noconnection_once,
           exit_and_down_arrive_when_memory_ran_out)
