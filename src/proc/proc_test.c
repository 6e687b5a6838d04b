#define _GNU_SOURCE /* memmem */
/*
 * The process layer against Erlang's rules, one case per rule: message
 * order between a pair, selective receive, timeouts, links (normal exits do
 * not propagate, abnormal ones do, through chains), trap_exit, kill,
 * monitors (DOWN exactly once, noproc, demonitor), names, crash isolation
 * (panic, assert, the guard page), timers, the container's exit status.
 */
#include <signal.h>
#include <stdlib.h>

#include <straw/straw.h>

#include "base/clock.h"
#include "proc/proc.h"
#include "proc/proc_test_util.h"
#include "testing/check.h"

/* ---- order and selective receive ------------------------------------ */

enum { ORDER_N = 2000 };

static void
order_receiver(void *arg)
{
	straw_pid parent = *(straw_pid *)arg;
	int64_t want_a = 0, want_b = 0, v = -1;
	straw_msg *m;
	int i;

	for (i = 0; i < 2 * ORDER_N; i++) {
		PRECV(m, 5000);
		if (pt_get_tag_int(m, "a", &v)) {
			CHECK_EQ(v, want_a);
			want_a++;
		} else {
			CHECK(pt_get_tag_int(m, "b", &v));
			CHECK_EQ(v, want_b);
			want_b++;
		}
		straw_msg_unref(m);
	}
	straw_send_take(parent, pt_int(want_a + want_b));
}

static void
order_sender(void *arg)
{
	const char *tag = arg;
	straw_pid to;
	straw_msg *m;
	int i;

	PRECV(m, 5000);
	CHECK(pt_get_tag_pid(m, "to", &to));
	straw_msg_unref(m);
	for (i = 0; i < ORDER_N; i++) {
		straw_send_take(to, pt_tag_int(tag, i));
		if (i % 97 == 0)
			straw_yield(); /* interleave the two senders */
	}
}

static void
order_main(void *arg)
{
	straw_pid self = straw_self(), r, a, b;
	straw_msg *m;
	int64_t v = -1;

	(void)arg;
	CHECK_EQ(straw_spawn(order_receiver, &self, NULL, &r), 0);
	CHECK_EQ(straw_spawn(order_sender, "a", NULL, &a), 0);
	CHECK_EQ(straw_spawn(order_sender, "b", NULL, &b), 0);
	straw_send_take(a, pt_tag_pid("to", r));
	straw_send_take(b, pt_tag_pid("to", r));
	PRECV(m, 10000);
	CHECK(pt_get_int(m, &v));
	CHECK_EQ(v, 2 * ORDER_N);
	straw_msg_unref(m);
}

/* Messages from one sender to one receiver arrive in the order sent, also
 * with another sender interleaved. */
CASE(order_between_pair)
{
	CHECK_EQ(pt_run(order_main, NULL), 0);
}

static int
want_tag(const straw_msg *m, void *arg)
{
	return pt_is_tagged(m, arg, NULL, NULL);
}

static void
late_sender(void *arg)
{
	straw_pid to = *(straw_pid *)arg;

	straw_yield();
	straw_send_take(to, pt_tag_int("x", 1));
	straw_send_take(to, pt_tag_int("c", 3));
}

static void
selective_main(void *arg)
{
	straw_pid self = straw_self();
	straw_msg *m;
	int64_t v = -1;

	(void)arg;
	straw_send_take(self, pt_tag_int("a", 1));
	straw_send_take(self, pt_tag_int("b", 2));
	straw_send_take(self, pt_tag_int("a", 3));
	CHECK_EQ(straw_mailbox_len(), 3);
	/* take b first: the a's stay, in order */
	CHECK_EQ(straw_receive_if(&m, 0, want_tag, "b"), 0);
	CHECK(pt_get_tag_int(m, "b", &v) && v == 2);
	straw_msg_unref(m);
	CHECK_EQ(straw_mailbox_len(), 2);
	/* no c yet: polling times out, nothing is lost */
	CHECK_EQ(straw_receive_if(&m, 0, want_tag, "c"), -ETIMEDOUT);
	CHECK_EQ(straw_mailbox_len(), 2);
	/* a c that arrives while waiting, behind a non-matching x */
	CHECK_EQ(straw_spawn(late_sender, &self, NULL, NULL), 0);
	CHECK_EQ(straw_receive_if(&m, 5000, want_tag, "c"), 0);
	CHECK(pt_get_tag_int(m, "c", &v) && v == 3);
	straw_msg_unref(m);
	PRECV(m, 0);
	CHECK(pt_get_tag_int(m, "a", &v) && v == 1);
	straw_msg_unref(m);
	PRECV(m, 0);
	CHECK(pt_get_tag_int(m, "a", &v) && v == 3);
	straw_msg_unref(m);
	PRECV(m, 0);
	CHECK(pt_get_tag_int(m, "x", &v) && v == 1);
	straw_msg_unref(m);
	CHECK_EQ(straw_mailbox_len(), 0);
	CHECK_EQ(straw_receive_if(&m, 0, NULL, NULL), -EINVAL);
}

static straw_msg *
fmt_msg(const char *fmt, int64_t v)
{
	straw_builder b;
	uint8_t *out;
	size_t len;
	straw_msg *m;

	straw_builder_init(&b);
	straw_build_fmt(&b, fmt, v);
	if (straw_builder_finish(&b, &out, &len) < 0)
		return NULL;
	if (straw_msg_take(&m, out, len) < 0)
		m = NULL;
	straw_builder_fini(&b);
	return m;
}

static void
match_main(void *arg)
{
	straw_pid self = straw_self(), got_pid;
	straw_erl_pid ep;
	straw_msg *m;
	int64_t v = -1;

	(void)arg;
	straw_send_take(self, fmt_msg("{reply, ~i, ok}", 1));
	straw_send_take(self, fmt_msg("{reply, ~i, error}", 2));
	straw_send_take(self, fmt_msg("{other, ~i}", 3));
	CHECK_EQ(straw_receive_match(&m, 0, "{reply, _, error}"), 0);
	CHECK_EQ(straw_term_match(straw_msg_data(m), straw_msg_len(m),
	                          "{reply, ~i, error}", &v),
	         1);
	CHECK_EQ(v, 2);
	straw_msg_unref(m);
	CHECK_EQ(straw_receive_match(&m, 0, "{nothing}"), -ETIMEDOUT);
	CHECK(straw_receive_match(&m, 0, "{reply, ") < 0); /* bad pattern */
	CHECK_EQ(straw_mailbox_len(), 2);
	CHECK_EQ(straw_receive_match(&m, 0, "{other, _}"), 0);
	straw_msg_unref(m);
	PRECV(m, 0);
	CHECK(pt_get_tag_int(m, "reply", &v) == 0); /* {reply, 1, ok} */
	straw_msg_unref(m);
	/* straw_sendf / straw_receivef: build, select and capture */
	CHECK_EQ(straw_sendf(self, "{job, ~i, ~a}", (int64_t)7, "low"), 0);
	CHECK_EQ(straw_sendf(self, "{job, ~i, ~a}", (int64_t)8, "high"), 0);
	CHECK_EQ(straw_sendf(self, "{job, ~i, ~a", (int64_t)9, "x"),
	         STRAW_EFORMAT);
	{
		int64_t id = -1;
		CHECK_EQ(straw_receivef(&m, 0, "{job, ~i, high}", &id), 0);
		CHECK_EQ(id, 8);
		straw_msg_unref(m);
		id = -1;
		CHECK_EQ(straw_receivef(&m, 0, "{job, ~i, high}", &id),
		         -ETIMEDOUT);
		CHECK_EQ(id, -1); /* untouched */
		CHECK(straw_receivef(&m, 0, "{job, ") < 0);
		CHECK_EQ(straw_receive_match(&m, 0, "{job, ~i, _}"), -EINVAL);
		CHECK_EQ(straw_receivef(&m, 0, "{job, ~i, _}", &id), 0);
		CHECK_EQ(id, 7);
		straw_msg_unref(m);
	}
	/* pids through format strings: ~p with straw_erl_pid */
	CHECK_EQ(straw_pid_to_erl(self, &ep), 0);
	{
		straw_builder b;
		uint8_t *out;
		size_t len;
		straw_builder_init(&b);
		straw_build_fmt(&b, "{hello, ~p}", &ep);
		CHECK_EQ(straw_builder_finish(&b, &out, &len), 0);
		CHECK_EQ(straw_msg_take(&m, out, len), 0);
		straw_builder_fini(&b);
	}
	CHECK(m != NULL);
	CHECK(pt_get_tag_pid(m, "hello", &got_pid));
	CHECK(straw_pid_equal(got_pid, self));
	memset(&ep, 0, sizeof(ep));
	CHECK_EQ(straw_term_match(straw_msg_data(m), straw_msg_len(m),
	                          "{hello, ~p}", &ep),
	         1);
	CHECK_EQ(straw_pid_from_erl(&ep, &got_pid), 0);
	CHECK_EQ(got_pid.process, self.process);
	CHECK_EQ(got_pid.container, 0);
	straw_msg_unref(m);
}

/* Selective receive by an Erlang-syntax pattern. */
CASE(receive_by_pattern)
{
	CHECK_EQ(pt_run(match_main, NULL), 0);
}

/* Selective receive takes the first match; the others keep their order. */
CASE(selective_receive)
{
	CHECK_EQ(pt_run(selective_main, NULL), 0);
}

static void
timeout_main(void *arg)
{
	straw_msg *m = NULL;
	int64_t t0, dt;

	(void)arg;
	CHECK_EQ(straw_receive(&m, 0), -ETIMEDOUT);
	CHECK(m == NULL);
	t0 = strawi_now_ns();
	CHECK_EQ(straw_receive(&m, 30), -ETIMEDOUT);
	dt = strawi_now_ns() - t0;
	CHECK(dt >= 30 * 1000000LL);
	CHECK(dt < 2000 * 1000000LL);
	t0 = strawi_now_ns();
	CHECK_EQ(straw_sleep(20), 0);
	CHECK(strawi_now_ns() - t0 >= 20 * 1000000LL);
}

static void
self_exit_child(void *arg)
{
	const char *reason = arg;

	straw_exit_atom(straw_self(), reason); /* does not return */
	straw_exit_self_atom("returned");
}

static void
self_exit_main(void *arg)
{
	straw_pid c;
	straw_ref ref;

	(void)arg;
	/* exit(self(), normal) ends the caller with normal (Erlang's rule for
	 * a signal to oneself) */
	CHECK_EQ(straw_spawn(self_exit_child, "normal",
	                     &(straw_spawn_opts){STRAW_SPAWN_MONITOR, 0, &ref},
	                     &c),
	         0);
	pt_down_reason_is("normal");
	CHECK_EQ(straw_spawn(self_exit_child, "boom",
	                     &(straw_spawn_opts){STRAW_SPAWN_MONITOR, 0, &ref},
	                     &c),
	         0);
	pt_down_reason_is("boom");
}

/* 0 polls; a timeout waits at least that long; sleep sleeps. */
CASE(receive_timeouts)
{
	CHECK_EQ(pt_run(timeout_main, NULL), 0);
}

/* An exit signal to oneself takes effect in the call. */
CASE(exit_signal_to_self)
{
	CHECK_EQ(pt_run(self_exit_main, NULL), 0);
}

/* ---- links ----------------------------------------------------------- */

static void
exit_with(void *arg)
{
	straw_msg *m;

	PRECV(m, STRAW_INFINITY); /* go */
	straw_msg_unref(m);
	straw_exit_self_atom(arg);
}

static void
wait_forever(void *arg)
{
	straw_msg *m;

	(void)arg;
	for (;;) {
		PRECV(m, STRAW_INFINITY);
		if (straw_msg_is_atom(m, "stop")) {
			straw_msg_unref(m);
			return;
		}
		straw_msg_unref(m);
	}
}

static void
normal_main(void *arg)
{
	straw_pid child, watcher;
	straw_ref ref;
	straw_msg *go = NULL, *m;

	(void)arg;
	CHECK_EQ(straw_msg_atom(&go, "go"), 0);
	/* The child exits normal; we (linked, not trapping) survive. */
	CHECK_EQ(straw_spawn(exit_with, "normal",
	                     &(straw_spawn_opts){STRAW_SPAWN_LINK |
	                                                 STRAW_SPAWN_MONITOR,
	                                         0, &ref},
	                     &child),
	         0);
	straw_send(child, go);
	pt_down_reason_is("normal");
	/* And a linked waiter survives an exit signal normal from us. */
	CHECK_EQ(straw_spawn(wait_forever, NULL,
	                     &(straw_spawn_opts){STRAW_SPAWN_LINK |
	                                                 STRAW_SPAWN_MONITOR,
	                                         0, &ref},
	                     &watcher),
	         0);
	CHECK_EQ(straw_exit_atom(watcher, "normal"), 0);
	straw_yield();
	CHECK_EQ(straw_receive(&m, 0), -ETIMEDOUT);
	straw_sendf(watcher, "stop");
	pt_down_reason_is("normal");
	/* After unlink, an abnormal exit no longer reaches us. */
	CHECK_EQ(straw_spawn(exit_with, "boom",
	                     &(straw_spawn_opts){STRAW_SPAWN_LINK |
	                                                 STRAW_SPAWN_MONITOR,
	                                         0, &ref},
	                     &child),
	         0);
	CHECK_EQ(straw_unlink(child), 0);
	straw_send(child, go);
	pt_down_reason_is("boom"); /* and we are still here to see it */
	straw_msg_unref(go);
}

/* A normal exit does not kill linked processes that do not trap exits. */
CASE(normal_exit_not_propagating)
{
	CHECK_EQ(pt_run(normal_main, NULL), 0);
}

enum { CHAIN_N = 200 };

struct chain {
	int left;       /* processes still to spawn below */
	straw_pid top;  /* told when the tail is ready */
	straw_pid tail; /* the last one */
};

static void
chain_link(void *arg)
{
	struct chain *ch = arg;
	straw_msg *m;

	if (ch->left-- > 0) {
		CHECK_EQ(straw_spawn(
		                 chain_link, ch,
		                 &(straw_spawn_opts){STRAW_SPAWN_LINK, 0, NULL},
		                 NULL),
		         0);
	} else {
		ch->tail = straw_self();
		straw_sendf(ch->top, "ready");
	}
	for (;;) { /* wait until the chain dies */
		PRECV(m, STRAW_INFINITY);
		if (straw_msg_is_atom(m, "crash")) {
			straw_msg_unref(m);
			straw_exit_self_atom("boom");
		}
		straw_msg_unref(m);
	}
}

static void
chain_main(void *arg)
{
	struct chain ch = {CHAIN_N, straw_self(), {0, 0, 0}};
	straw_pid head;
	straw_ref ref;
	straw_msg *m;
	straw_proc_info info;

	(void)arg;
	CHECK_EQ(straw_spawn(chain_link, &ch,
	                     &(straw_spawn_opts){STRAW_SPAWN_MONITOR, 0, &ref},
	                     &head),
	         0);
	PRECV(m, 5000);
	CHECK(straw_msg_is_atom(m, "ready"));
	straw_msg_unref(m);
	CHECK_EQ(straw_proc_list(NULL, 0), CHAIN_N + 2);
	straw_sendf(ch.tail, "crash");
	pt_down_reason_is("boom"); /* the head died of the tail's reason */
	CHECK_EQ(straw_proc_list(NULL, 0), 1); /* only us */
	CHECK_EQ(straw_proc_info_get(head, &info), STRAW_ENOPROC);
}

/* An abnormal exit travels through a chain of links to its head. */
CASE(exit_propagates_through_chain)
{
	CHECK_EQ(pt_run(chain_main, NULL), 0);
}

static void
trap_main(void *arg)
{
	straw_pid a, b;
	straw_msg *go = NULL, *m;

	(void)arg;
	CHECK_EQ(straw_msg_atom(&go, "go"), 0);
	CHECK_EQ(straw_trap_exit(1), 0);
	CHECK_EQ(straw_trap_exit(1), 1);
	CHECK_EQ(straw_spawn(exit_with, "boom",
	                     &(straw_spawn_opts){STRAW_SPAWN_LINK, 0, NULL},
	                     &a),
	         0);
	straw_send(a, go);
	PRECV(m, 5000);
	{
		straw_pid from;
		CHECK(pt_is_exit(m, &from, "boom"));
		CHECK(straw_pid_equal(from, a));
	}
	straw_msg_unref(m);
	/* normal exits of linked processes arrive too when trapping */
	CHECK_EQ(straw_spawn(exit_with, "normal",
	                     &(straw_spawn_opts){STRAW_SPAWN_LINK, 0, NULL},
	                     &b),
	         0);
	straw_send(b, go);
	PRECV(m, 5000);
	{
		straw_pid from;
		CHECK(pt_is_exit(m, &from, "normal"));
		CHECK(straw_pid_equal(from, b));
	}
	straw_msg_unref(m);
	/* exit/2 with a trappable reason becomes a message */
	CHECK_EQ(straw_exit_atom(straw_self(), "please"), 0);
	PRECV(m, 0);
	{
		straw_pid from;
		CHECK(pt_is_exit(m, &from, "please"));
		CHECK(straw_pid_equal(from, straw_self()));
	}
	straw_msg_unref(m);
	/* linking to a dead pid gives {'EXIT', Pid, noproc} */
	CHECK_EQ(straw_link(a), 0);
	PRECV(m, 0);
	{
		straw_pid from;
		CHECK(pt_is_exit(m, &from, "noproc"));
		CHECK(straw_pid_equal(from, a));
	}
	straw_msg_unref(m);
	straw_msg_unref(go);
	CHECK_EQ(straw_trap_exit(0), 1);
}

/* trap_exit turns exit signals into {'EXIT', Pid, Reason} messages. */
CASE(trap_exit_messages)
{
	CHECK_EQ(pt_run(trap_main, NULL), 0);
}

static void
trapper(void *arg)
{
	straw_pid *peer = arg;
	straw_msg *m;

	straw_trap_exit(1);
	straw_link(*peer);
	straw_sendf(peer[1], "linked");
	for (;;) {
		PRECV(m, STRAW_INFINITY);
		straw_send(peer[1], m); /* report what arrives */
		straw_msg_unref(m);
	}
}

static void
kill_main(void *arg)
{
	straw_pid victim, watcher, self = straw_self();
	straw_pid peer[2];
	straw_ref ref;
	straw_msg *m;

	(void)arg;
	/* The victim traps exits, yet `kill` ends it with reason killed. */
	CHECK_EQ(straw_spawn(trapper, peer,
	                     &(straw_spawn_opts){STRAW_SPAWN_MONITOR, 0, &ref},
	                     &victim),
	         0);
	peer[0] = self; /* it links to us: we trap too, to see its end */
	peer[1] = self;
	straw_trap_exit(1);
	PRECV(m, 5000);
	CHECK(straw_msg_is_atom(m, "linked"));
	straw_msg_unref(m);
	CHECK_EQ(straw_exit_atom(victim, "kill"), 0);
	/* linked processes see killed (as {'EXIT', ...} here), and the
	 * monitor's DOWN says killed */
	{
		int got_exit = 0, got_down = 0;
		while (!(got_exit && got_down)) {
			straw_pid from;
			straw_ref r;
			const uint8_t *rs;
			size_t rl;
			PRECV(m, 5000);
			if (pt_is_exit(m, &from, NULL)) {
				CHECK(pt_is_exit(m, &from, "killed"));
				CHECK(straw_pid_equal(from, victim));
				got_exit++;
			} else {
				CHECK(pt_is_down(m, &r, &from, &rs, &rl));
				CHECK(etfp_is_atom(rs, rl, "killed"));
				CHECK(straw_ref_equal(r, ref));
				got_down++;
			}
			straw_msg_unref(m);
		}
		CHECK_EQ(got_exit, 1);
		CHECK_EQ(got_down, 1);
	}
	/* A process exiting with reason kill (exit/1): linked processes get
	 * reason kill, which is trappable and is not turned into killed. */
	CHECK_EQ(straw_spawn(exit_with, "kill",
	                     &(straw_spawn_opts){STRAW_SPAWN_LINK, 0, NULL},
	                     &watcher),
	         0);
	straw_sendf(watcher, "go");
	PRECV(m, 5000);
	{
		straw_pid from;
		CHECK(pt_is_exit(m, &from, "kill"));
	}
	straw_msg_unref(m);
}

/* kill cannot be trapped; links see killed. */
CASE(kill_is_untrappable)
{
	CHECK_EQ(pt_run(kill_main, NULL), 0);
}

static void
linked_kill_child(void *arg)
{
	straw_pid parent = *(straw_pid *)arg;
	straw_pid sub;
	straw_msg *m;

	/* Linked to a process that exits with kill: not trapping, we die
	 * with reason kill (as in Erlang). */
	CHECK_EQ(straw_spawn(exit_with, "kill",
	                     &(straw_spawn_opts){STRAW_SPAWN_LINK, 0, NULL},
	                     &sub),
	         0);
	straw_sendf(sub, "go");
	PRECV(m, 5000); /* never: the link kills us */
	straw_msg_unref(m);
	straw_sendf(parent, "survived");
}

static void
linked_kill_main(void *arg)
{
	straw_pid self = straw_self(), c;
	straw_ref ref;

	(void)arg;
	CHECK_EQ(straw_spawn(linked_kill_child, &self,
	                     &(straw_spawn_opts){STRAW_SPAWN_MONITOR, 0, &ref},
	                     &c),
	         0);
	pt_down_reason_is("kill");
}

CASE(link_reason_kill_kills_nontrapping)
{
	CHECK_EQ(pt_run(linked_kill_main, NULL), 0);
}

/* ---- monitors -------------------------------------------------------- */

static void
monitor_main(void *arg)
{
	straw_pid child, self = straw_self();
	straw_ref r1, r2, r3, got;
	straw_msg *m;
	const uint8_t *rs;
	size_t rl;
	int seen1 = 0, seen2 = 0;

	(void)arg;
	CHECK_EQ(straw_spawn(exit_with, "bye", NULL, &child), 0);
	CHECK_EQ(straw_monitor(child, &r1), 0);
	CHECK_EQ(straw_monitor(child, &r2), 0);
	CHECK(!straw_ref_equal(r1, r2));
	CHECK_EQ(straw_monitor(child, &r3), 0);
	CHECK_EQ(straw_demonitor(r3, 0), 1); /* active: removed */
	CHECK_EQ(straw_demonitor(r3, 0), 0);
	straw_sendf(child, "go");
	while (seen1 + seen2 < 2) {
		straw_pid who;
		PRECV(m, 5000);
		CHECK(pt_is_down(m, &got, &who, &rs, &rl));
		CHECK(straw_pid_equal(who, child));
		CHECK(etfp_is_atom(rs, rl, "bye"));
		if (straw_ref_equal(got, r1))
			seen1++;
		else if (straw_ref_equal(got, r2))
			seen2++;
		else
			CHECK(!"DOWN for the demonitored ref");
		straw_msg_unref(m);
	}
	CHECK_EQ(seen1, 1);
	CHECK_EQ(seen2, 1);
	/* exactly once: nothing more arrives, and the monitors are gone */
	straw_yield();
	CHECK_EQ(straw_receive(&m, 20), -ETIMEDOUT);
	CHECK_EQ(straw_demonitor(r1, 0), 0);
	/* a dead pid: DOWN with noproc at once */
	CHECK_EQ(straw_monitor(child, &r1), 0);
	PRECV(m, 0);
	{
		straw_pid who;
		CHECK(pt_is_down(m, &got, &who, &rs, &rl));
		CHECK(straw_ref_equal(got, r1));
		CHECK(etfp_is_atom(rs, rl, "noproc"));
	}
	straw_msg_unref(m);
	/* demonitor with flush removes a DOWN already queued */
	CHECK_EQ(straw_monitor(child, &r2), 0);
	straw_sendf(self, "after_monitor");
	CHECK_EQ(straw_mailbox_len(), 2);
	CHECK_EQ(straw_demonitor(r2, STRAW_DEMONITOR_FLUSH), 0);
	CHECK_EQ(straw_mailbox_len(), 1);
	PRECV(m, 0);
	CHECK(straw_msg_is_atom(m, "after_monitor"));
	straw_msg_unref(m);
	/* a monitor of ourselves never fires (we cannot see our own end) */
	CHECK_EQ(straw_monitor(self, &r3), 0);
	CHECK_EQ(straw_demonitor(r3, 0), 1);
}

/* DOWN exactly once per monitor; noproc; demonitor and flush. */
CASE(monitor_down_exactly_once)
{
	CHECK_EQ(pt_run(monitor_main, NULL), 0);
}

/* ---- names ----------------------------------------------------------- */

static void
names_main(void *arg)
{
	straw_pid child, got, self = straw_self();
	straw_ref ref;
	straw_msg *m;

	(void)arg;
	CHECK_EQ(straw_spawn(wait_forever, NULL,
	                     &(straw_spawn_opts){STRAW_SPAWN_MONITOR, 0, &ref},
	                     &child),
	         0);
	CHECK_EQ(straw_register("svc", child), 0);
	CHECK_EQ(straw_register("svc", self), STRAW_ENAMETAKEN);
	CHECK_EQ(straw_register("other", child), STRAW_ENAMETAKEN);
	CHECK_EQ(straw_register("", self), -EINVAL);
	CHECK_EQ(straw_whereis("svc", &got), 0);
	CHECK(straw_pid_equal(got, child));
	CHECK_EQ(straw_whereis("nobody", &got), STRAW_ENONAME);
	CHECK_EQ(straw_msg_atom(&m, "stop"), 0);
	CHECK_EQ(straw_send_name("nobody", m), STRAW_ENONAME);
	CHECK_EQ(straw_send_name("svc", m), 0);
	straw_msg_unref(m);
	pt_down_reason_is("normal");
	/* released with its process */
	CHECK_EQ(straw_whereis("svc", &got), STRAW_ENONAME);
	CHECK_EQ(straw_register("svc", self), 0);
	CHECK_EQ(straw_register("svc2", child), STRAW_ENOPROC);
	CHECK_EQ(straw_unregister("svc"), 0);
	CHECK_EQ(straw_unregister("svc"), STRAW_ENONAME);
	CHECK_EQ(straw_register("svc", self), 0);
}

/* Registered names resolve, collide, and are released at exit. */
CASE(names_released_at_exit)
{
	CHECK_EQ(pt_run(names_main, NULL), 0);
}

/* ---- crashes --------------------------------------------------------- */

static void
do_panic(void *arg)
{
	(void)arg;
	straw_panic("bad %d", 42);
}

static void
do_assert(void *arg)
{
	int x = 1;

	(void)arg;
	straw_assert(x == 2);
}

static volatile int depth_sink;

/* 512 bytes of frame per level, for real: the empty asm takes the
 * buffer's address, so no build (the ThreadSanitizer one did) may reuse
 * one frame for every level. */
static int __attribute__((noinline)) recurse(int n)
{
	volatile char pad[512];

	pad[0] = (char)n;
	pad[511] = (char)n;
	__asm__ __volatile__("" : : "r"(pad) : "memory");
	depth_sink = pad[0];
	return n > 0 ? recurse(n - 1) + pad[0] + pad[511] : 0;
}

static void
do_overflow(void *arg)
{
	(void)arg;
	depth_sink = recurse(1 << 20); /* 512 MiB of frames: hits the guard */
}

/* Uses about 256 KiB of stack (512 frames of 512 bytes and more). */
static void
deep_256k(void *arg)
{
	(void)arg;
	depth_sink = recurse(512);
}

static void
stack_size_main(void *arg)
{
	straw_pid pid, who;
	straw_ref ref, got;
	straw_msg *m;
	const uint8_t *rs;
	size_t rl;

	(void)arg;
	/* 1 MiB of stack: fine */
	CHECK_EQ(straw_spawn(deep_256k, NULL,
	                     &(straw_spawn_opts){STRAW_SPAWN_MONITOR,
	                                         1024 * 1024, &ref},
	                     &pid),
	         0);
	PRECV(m, 5000);
	CHECK(pt_is_down(m, &got, &who, &rs, &rl));
	CHECK(etfp_is_atom(rs, rl, "normal"));
	straw_msg_unref(m);
	/* the default 64 KiB: overflows into the guard page */
	CHECK_EQ(straw_spawn(deep_256k, NULL,
	                     &(straw_spawn_opts){STRAW_SPAWN_MONITOR, 0, &ref},
	                     &pid),
	         0);
	PRECV(m, 5000);
	CHECK(pt_is_down(m, &got, &who, &rs, &rl));
	CHECK(etfp_is_atom(rs, rl, "stack_overflow"));
	straw_msg_unref(m);
}

/* The stack_size option gives a process the stack it asks for. */
CASE(spawn_stack_size)
{
	CHECK_EQ(pt_run(stack_size_main, NULL), 0);
}

static void
do_null(void *arg)
{
	(void)arg;
	depth_sink = *(volatile int *)(uintptr_t)depth_sink;
}

static void
expect_down_tagged(straw_proc_fn fn, const char *tag, const char *text)
{
	straw_pid pid, who;
	straw_ref ref, got;
	straw_msg *m;
	const uint8_t *rs;
	size_t rl;

	CHECK_EQ(straw_spawn(fn, NULL,
	                     &(straw_spawn_opts){STRAW_SPAWN_MONITOR, 0, &ref},
	                     &pid),
	         0);
	PRECV(m, 5000);
	CHECK(pt_is_down(m, &got, &who, &rs, &rl));
	CHECK(straw_pid_equal(who, pid));
	if (text == NULL) {
		CHECK(etfp_is_atom(rs, rl, tag));
	} else {
		/* {Tag, <<"file:line: text">>} */
		CHECK(rl > 2 && rs[0] == ETF_SMALL_TUPLE && rs[1] == 2);
		CHECK(etfp_is_atom(rs + 2, rl - 2, tag));
		CHECK(memmem(rs, rl, text, strlen(text)) != NULL);
		CHECK(memmem(rs, rl, "proc_test.c:", 12) != NULL);
	}
	straw_msg_unref(m);
}

static void
crash_main(void *arg)
{
	(void)arg;
	expect_down_tagged(do_panic, "panic", "bad 42");
	expect_down_tagged(do_assert, "assert", "x == 2");
	expect_down_tagged(do_overflow, "stack_overflow", NULL);
	{
		straw_pid pid, who;
		straw_ref ref, got;
		straw_msg *m;
		const uint8_t *rs;
		size_t rl;
		CHECK_EQ(straw_spawn(do_null, NULL,
		                     &(straw_spawn_opts){STRAW_SPAWN_MONITOR, 0,
		                                         &ref},
		                     &pid),
		         0);
		PRECV(m, 5000);
		CHECK(pt_is_down(m, &got, &who, &rs, &rl));
		CHECK(rl > 2 && rs[0] == ETF_SMALL_TUPLE);
		CHECK(etfp_is_atom(rs + 2, rl - 2, "fault"));
		CHECK(memmem(rs, rl, "segv", 4) != NULL);
		straw_msg_unref(m);
	}
	/* still running, and spawning works after the crashes */
	expect_down_tagged(do_panic, "panic", "bad 42");
}

/* A panic, an assert, a stack overflow into the guard page and a NULL
 * dereference each end only their process, with a reason. */
CASE(crash_isolation)
{
	CHECK_EQ(pt_run(crash_main, NULL), 0);
}

/* ---- timers ---------------------------------------------------------- */

static void
send_after_main(void *arg)
{
	straw_pid self = straw_self();
	straw_timer t1, t2, t3;
	straw_msg *m;
	int64_t v = -1;

	(void)arg;
	m = pt_int(0);
	CHECK_EQ(straw_send_after(self, m, -1, NULL), -EINVAL);
	straw_msg_unref(m);
	m = pt_int(2);
	CHECK_EQ(straw_send_after(self, m, 20, &t2), 0);
	straw_msg_unref(m);
	m = pt_int(1);
	CHECK_EQ(straw_send_after(self, m, 10, &t1), 0);
	straw_msg_unref(m);
	m = pt_int(3);
	CHECK_EQ(straw_send_after(self, m, 60000, &t3), 0);
	straw_msg_unref(m);
	CHECK_EQ(straw_receive(&m, 0), -ETIMEDOUT);
	PRECV(m, 5000);
	CHECK(pt_get_int(m, &v) && v == 1);
	straw_msg_unref(m);
	PRECV(m, 5000);
	CHECK(pt_get_int(m, &v) && v == 2);
	straw_msg_unref(m);
	CHECK_EQ(straw_cancel_timer(t1), -ENOENT); /* fired */
	v = straw_cancel_timer(t3);
	CHECK(v > 30000 && v <= 60000); /* minus the time spent here */
	CHECK_EQ(straw_cancel_timer(t3), -ENOENT);
	CHECK_EQ(straw_receive(&m, 30), -ETIMEDOUT);
}

/* send_after delivers in deadline order; cancel tells the time left. */
CASE(send_after_and_cancel)
{
	CHECK_EQ(pt_run(send_after_main, NULL), 0);
}

static long
timers_n(void)
{
	const char *s = getenv("STRAW_TEST_TIMERS");
	return s != NULL ? atol(s) : 1000000;
}

static void
million_main(void *arg)
{
	straw_pid self = straw_self();
	long n = timers_n(), i, got = 0, cancelled = 0;
	straw_msg *m = pt_int(7);
	straw_timer *ts = malloc((size_t)n * sizeof(*ts));
	int64_t v = -1;

	(void)arg;
	CHECK(ts != NULL);
	/* deadlines spread over 1..500 ms, in shuffled order */
	for (i = 0; i < n; i++)
		CHECK_EQ(straw_send_after(self, m, 1 + (int)((i * 7919) % 500),
		                          &ts[i]),
		         0);
	straw_msg_unref(m);
	for (i = 0; i < n; i += 10)
		if (straw_cancel_timer(ts[i]) >= 0)
			cancelled++;
	while (got + cancelled < n) {
		PRECV(m, 10000);
		CHECK(pt_get_int(m, &v) && v == 7);
		straw_msg_unref(m);
		got++;
	}
	CHECK_EQ(straw_receive(&m, 0), -ETIMEDOUT);
	free(ts);
}

/* A million pending send_after timers (STRAW_TEST_TIMERS changes it): each
 * delivers or is cancelled, exactly once. */
CASE(million_timers)
{
	CHECK_EQ(pt_run(million_main, NULL), 0);
}

/* ---- the container --------------------------------------------------- */

static void
abnormal_main(void *arg)
{
	(void)arg;
	straw_exit_self_atom("oops");
}

static void
stop_main(void *arg)
{
	(void)arg;
	CHECK_EQ(straw_container_wait(straw_container_self()), -EDEADLK);
	straw_spawn(wait_forever, NULL, NULL, NULL);
	straw_container_stop(straw_container_self(), 7);
	wait_forever(NULL);
}

static void
sigterm_main(void *arg)
{
	(void)arg;
	kill(getpid(), SIGTERM);
	wait_forever(NULL);
}

static void
spawner_main(void *arg)
{
	int i;

	(void)arg;
	for (i = 0; i < 100; i++)
		CHECK_EQ(straw_spawn(exit_with, "normal", NULL, NULL), 0);
	/* they all wait for "go" that never comes: stop ends them */
	straw_container_stop(straw_container_self(), 0);
}

CASE(container_exit_status)
{
	straw_container_opts o = {STRAW_CONTAINER_LOCAL, 0, 0, 0};
	straw_container *c;

	CHECK_EQ(pt_run(abnormal_main, NULL), 1);
	CHECK_EQ(pt_run(stop_main, NULL), 7);
	CHECK_EQ(pt_run(spawner_main, NULL), 0);
	/* SIGTERM stops it with 128 + 15 */
	CHECK_EQ(straw_container_run("sig", sigterm_main, NULL, &o), 143);
	/* bad names and a second container at once */
	CHECK_RC(straw_container_run("bad name", abnormal_main, NULL, &o),
	         -EINVAL);
	CHECK_RC(straw_container_run("", abnormal_main, NULL, &o), -EINVAL);
	CHECK_OK(straw_container_start("one", wait_forever, NULL, &o, &c));
	CHECK_RC(straw_container_run("two", abnormal_main, NULL, &o), -EBUSY);
	CHECK_EQ(straw_container_id(c) & 0x80000000u, 0x80000000u);
	CHECK_STR(straw_container_name(c), "one");
	straw_container_stop(c, 3);
	CHECK_EQ(straw_container_wait(c), 3);
	/* outside a container */
	{
		straw_msg *m = NULL;
		straw_pid p = {0, 0, 1};
		CHECK_OK(straw_msg_atom(&m, "x"));
		CHECK_RC(straw_send(p, m), STRAW_ENOTCONTAINER);
		CHECK_RC(straw_receive(&m, 0), STRAW_ENOTCONTAINER);
		CHECK_RC(straw_spawn(wait_forever, NULL, NULL, NULL),
		         STRAW_ENOTCONTAINER);
		CHECK(straw_self().process == 0);
		straw_msg_unref(m);
	}
}

/* ---- introspection and spawn options --------------------------------- */

static void
info_main(void *arg)
{
	straw_pid self = straw_self(), child;
	straw_proc_info info;
	int i;

	(void)arg;
	CHECK_EQ(straw_spawn(wait_forever, NULL,
	                     &(straw_spawn_opts){STRAW_SPAWN_LINK, 256 * 1024,
	                                         NULL},
	                     &child),
	         0);
	CHECK_EQ(straw_register("waiter", child), 0);
	for (i = 0; i < 3; i++)
		straw_send_take(child, pt_int(i));
	CHECK_EQ(straw_proc_info_get(child, &info), 0);
	CHECK_EQ(info.state, STRAW_PROC_RUNNABLE); /* has not run yet */
	CHECK_EQ(info.mailbox_len, 3);
	CHECK_EQ(info.links, 1);
	CHECK(strcmp(info.name, "waiter") == 0);
	straw_yield(); /* it takes the three and waits */
	CHECK_EQ(straw_proc_info_get(child, &info), 0);
	CHECK_EQ(info.state, STRAW_PROC_WAITING);
	CHECK_EQ(info.mailbox_len, 0);
	CHECK_EQ(info.reductions, 3);
	CHECK(info.switches >= 1);
	CHECK(info.memory > 0);
	CHECK_EQ(straw_proc_info_get(self, &info), 0);
	CHECK_EQ(info.state, STRAW_PROC_RUNNABLE);
	CHECK_EQ(straw_proc_list(NULL, 0), 2);
	straw_sendf(child, "stop");
	CHECK_EQ(straw_spawn(wait_forever, NULL,
	                     &(straw_spawn_opts){0, (size_t)1 << 40, NULL},
	                     NULL),
	         -EINVAL);
}

static void
bad_args_main(void *arg)
{
	straw_pid self = straw_self(), remote = {0x77, 5, 1},
	          nobody = {0, 0, 99999};
	straw_msg *m = NULL;
	straw_ref ref = {0, 0, 0, 12345};
	straw_proc_info info;

	(void)arg;
	CHECK_EQ(straw_msg_atom(&m, "x"), 0);
	CHECK_EQ(straw_send(self, NULL), -EINVAL);
	CHECK_EQ(straw_send(remote, m), -EHOSTUNREACH); /* no router yet */
	CHECK_EQ(straw_send(nobody, m), 0);             /* dropped */
	CHECK_EQ(straw_exit(self, NULL), -EINVAL);
	CHECK_EQ(straw_exit(remote, m), -EHOSTUNREACH);
	CHECK_EQ(straw_exit(nobody, m), 0);
	CHECK_EQ(straw_link(remote), -EHOSTUNREACH);
	CHECK_EQ(straw_monitor(remote, &ref), -EHOSTUNREACH);
	CHECK_EQ(straw_demonitor(ref, 0), 0); /* unknown */
	CHECK_EQ(straw_unlink(nobody), 0);
	CHECK_EQ(straw_receive(NULL, 0), -EINVAL);
	CHECK_EQ(straw_receive_if(&m, 0, NULL, NULL), -EINVAL);
	CHECK_EQ(straw_spawn(NULL, NULL, NULL, NULL), -EINVAL);
	CHECK_EQ(straw_send_after(self, NULL, 1, NULL), -EINVAL);
	CHECK_EQ(straw_cancel_timer((straw_timer){0}), -ENOENT);
	CHECK_EQ(straw_cancel_timer((straw_timer){777}), -ENOENT);
	CHECK_EQ(straw_register(NULL, self), -EINVAL);
	CHECK_EQ(straw_register("n", remote), -EHOSTUNREACH);
	CHECK_EQ(straw_proc_info_get(remote, &info), -EHOSTUNREACH);
	CHECK_EQ(straw_send_name(NULL, m), STRAW_ENONAME);
	CHECK_EQ(straw_send_name("n", NULL), -EINVAL);
	CHECK_EQ(straw_mailbox_len(), 0); /* nothing above queued anything */
	straw_msg_unref(m);
}

/* Sanitizers enlarge frames (redzones), so an idle process may need a few
 * pages there; one page exactly otherwise. */
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define PT_SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#define PT_SANITIZED 1
#endif
#endif

/* An idle process (spawned, run, waiting in receive) costs one page: its
 * struct, the coroutine's and its frames share its stack's top page, and
 * nothing else of it is resident. */
static void
idle_pages_main(void *arg)
{
	enum { N = 200 };
	straw_pid kids[N];
	straw_proc_info info;
	size_t page = (size_t)sysconf(_SC_PAGESIZE);
	int i;

	(void)arg;
	for (i = 0; i < N; i++)
		CHECK_EQ(straw_spawn(wait_forever, NULL, NULL, &kids[i]), 0);
	straw_yield(); /* each runs once and waits */
	for (i = 0; i < N; i++) {
		CHECK_EQ(straw_proc_info_get(kids[i], &info), 0);
		CHECK_EQ(info.state, STRAW_PROC_WAITING);
		CHECK_EQ(info.mailbox_bytes, 0);
#ifdef PT_SANITIZED
		CHECK(info.memory >= page && info.memory <= 4 * page);
#else
		CHECK_EQ(info.memory, page);
#endif
	}
	for (i = 0; i < N; i++)
		straw_sendf(kids[i], "stop");
}

CASE(idle_process_is_one_page)
{
	CHECK_EQ(pt_run(idle_pages_main, NULL), 0);
}

/* Process ids wrap after 2^32 spawns: the highest ids work like any
 * other, then 0 and the ids still in use are skipped. */
static void
wrap_main(void *arg)
{
	straw_container *c = straw_container_self();
	straw_pid self = straw_self(), hi1, hi2, low;
	straw_proc_info info;

	(void)arg;
	CHECK_EQ(self.process, 1);
	c->next_pid = UINT32_MAX - 2;
	CHECK_EQ(straw_spawn(wait_forever, NULL, NULL, &hi1), 0);
	CHECK_EQ(straw_spawn(wait_forever, NULL, NULL, &hi2), 0);
	CHECK_EQ(straw_spawn(wait_forever, NULL, NULL, &low), 0);
	CHECK_EQ(hi1.process, UINT32_MAX - 1);
	CHECK_EQ(hi2.process, UINT32_MAX);
	CHECK_EQ(low.process, 2); /* 0 is no id, 1 is this process */
	straw_yield();
	CHECK_EQ(straw_proc_info_get(hi1, &info), 0);
	CHECK_EQ(info.state, STRAW_PROC_WAITING);
	CHECK_EQ(straw_proc_info_get(hi2, &info), 0);
	CHECK_EQ(info.state, STRAW_PROC_WAITING);
	CHECK_EQ(straw_proc_list(NULL, 0), 4);
	straw_sendf(hi1, "stop");
	straw_sendf(hi2, "stop");
	straw_sendf(low, "stop");
	straw_yield();
	CHECK_EQ(straw_proc_info_get(hi2, &info), STRAW_ENOPROC);
	CHECK_EQ(straw_proc_list(NULL, 0), 1);
}

CASE(process_ids_wrap)
{
	CHECK_EQ(pt_run(wrap_main, NULL), 0);
}

/* Bad arguments get a clear error and change nothing. */
CASE(bad_arguments)
{
	CHECK_EQ(pt_run(bad_args_main, NULL), 0);
}

CASE(introspection)
{
	CHECK_EQ(pt_run(info_main, NULL), 0);
}

CHECK_MAIN(order_between_pair, selective_receive, receive_by_pattern,
           receive_timeouts, exit_signal_to_self, normal_exit_not_propagating,
           exit_propagates_through_chain, trap_exit_messages,
           kill_is_untrappable, link_reason_kill_kills_nontrapping,
           monitor_down_exactly_once, names_released_at_exit, crash_isolation,
           send_after_and_cancel, million_timers, container_exit_status,
           spawn_stack_size, bad_arguments, introspection,
           idle_process_is_one_page, process_ids_wrap)
