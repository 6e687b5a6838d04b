/*
 * Foreign threads: attach, send and receive with timeouts, the mail fd,
 * exit signals and monitors reaching an attached thread, the container
 * stopping under attached threads, and many threads sending to one process
 * at once (run this one under ThreadSanitizer too: -DSTRAW_SANITIZE=thread).
 */
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>

#include <straw/straw.h>

#include "base/clock.h"
#include "proc/proc.h"
#include "proc/proc_test_util.h"
#include "proc/route.h"
#include "testing/check.h"

static int
fd_readable(int fd, int ms)
{
	struct pollfd p = {fd, POLLIN, 0};

	return poll(&p, 1, ms) == 1 && (p.revents & POLLIN);
}

/* Replies {pong, N} to {ping, Pid} ... until stop. */
static void
echo(void *arg)
{
	straw_msg *m;
	int64_t n = 0;

	(void)arg;
	PCHECK_EQ(straw_register("echo", straw_self()), 0);
	for (;;) {
		straw_pid from;
		PRECV(m, STRAW_INFINITY);
		if (straw_msg_is_atom(m, "stop")) {
			straw_msg_unref(m);
			return;
		}
		PCHECK(pt_get_tag_pid(m, "ping", &from));
		straw_msg_unref(m);
		straw_send_take(from, pt_tag_int("pong", ++n));
	}
}

static straw_container *
start(straw_proc_fn fn, void *arg)
{
	straw_container_opts o = {
	        STRAW_CONTAINER_LOCAL | STRAW_CONTAINER_NO_SIGNALS, 0, 0};
	straw_container *c = NULL;

	atomic_store(&pt_failed, 0);
	if (straw_container_start("foreign-test", fn, arg, &o, &c) < 0)
		return NULL;
	return c;
}

CASE(attach_send_receive)
{
	straw_container *c = start(echo, NULL);
	straw_pid me, echo_pid, again;
	straw_msg *m;
	int64_t v = 0;
	int fd, i;

	CHECK(c != NULL);
	CHECK_OK(straw_attach(c, &me));
	CHECK_RC(straw_attach(c, &again), -EBUSY);
	CHECK(straw_pid_equal(straw_self(), me));
	CHECK(straw_container_self() == c);
	fd = straw_mail_fd();
	CHECK(fd >= 0);
	CHECK_EQ(fd_readable(fd, 0), 0);
	CHECK_RC(straw_receive(&m, 0), STRAW_ETIMEOUT);
	{
		int64_t t0 = strawi_now_ns();
		CHECK_RC(straw_receive(&m, 30), STRAW_ETIMEOUT);
		CHECK(strawi_now_ns() - t0 >= 30 * 1000000LL);
	}
	/* the echo registers itself once it runs: ask by name until then */
	m = pt_tag_pid("ping", me);
	while (straw_whereis("echo", &echo_pid) != 0)
		CHECK_OK(straw_yield()); /* returns at once on a thread */
	for (i = 1; i <= 3; i++)
		CHECK_OK(straw_send(echo_pid, m));
	straw_msg_unref(m);
	CHECK_EQ(fd_readable(fd, 5000), 1); /* mail arrived */
	for (i = 1; i <= 3; i++) {
		CHECK_OK(straw_receive(&m, 5000));
		CHECK(pt_get_tag_int(m, "pong", &v));
		CHECK_EQ(v, i);
		straw_msg_unref(m);
	}
	CHECK_EQ(fd_readable(fd, 0), 0); /* nothing waits: not readable */
	CHECK_EQ(straw_mailbox_len(), 0);
	m = straw_msg_atom("stop", NULL);
	CHECK_OK(straw_send_name("echo", m));
	straw_msg_unref(m);
	CHECK_OK(straw_detach());
	CHECK_RC(straw_detach(), STRAW_ENOTCONTAINER);
	CHECK_EQ(straw_container_wait(c), 0);
	CHECK_PROCS_OK();
}

static void
crash_on_go(void *arg)
{
	straw_msg *m;

	(void)arg;
	PRECV(m, STRAW_INFINITY);
	straw_msg_unref(m);
	straw_panic("asked to");
}

static void
idle_main(void *arg)
{
	straw_msg *m;

	(void)arg;
	PRECV(m, STRAW_INFINITY);
	straw_msg_unref(m);
}

/* Links and monitors reach an attached thread like any process. */
CASE(foreign_links_and_monitors)
{
	straw_container *c = start(idle_main, NULL);
	straw_pid me, a, b, from;
	straw_ref ref, got;
	straw_msg *m, *go = straw_msg_atom("go", NULL);
	const uint8_t *rs;
	size_t rl;

	CHECK(c != NULL);
	CHECK_OK(straw_attach(c, &me));
	/* trapping: the crash of a linked process arrives as a message */
	CHECK_EQ(straw_trap_exit(1), 0);
	CHECK_OK(straw_spawn(
	        crash_on_go, NULL,
	        &(straw_spawn_opts){STRAW_SPAWN_LINK | STRAW_SPAWN_MONITOR, 0,
	                            &ref},
	        &a));
	CHECK_OK(straw_send(a, go));
	CHECK_OK(straw_receive(&m, 5000));
	CHECK(pt_is_exit(m, &from, NULL) ||
	      pt_is_down(m, &got, &from, &rs, &rl));
	straw_msg_unref(m);
	CHECK_OK(straw_receive(&m, 5000));
	CHECK(pt_is_exit(m, &from, NULL) ||
	      pt_is_down(m, &got, &from, &rs, &rl));
	CHECK(straw_pid_equal(from, a));
	straw_msg_unref(m);
	CHECK_RC(straw_receive(&m, 0), STRAW_ETIMEOUT);
	/* not trapping: a linked crash ends the attached thread's process */
	CHECK_EQ(straw_trap_exit(0), 1);
	CHECK_OK(straw_spawn(crash_on_go, NULL,
	                     &(straw_spawn_opts){STRAW_SPAWN_LINK, 0, NULL},
	                     &b));
	CHECK_OK(straw_send(b, go));
	CHECK_RC(straw_receive(&m, 5000), STRAW_ENOPROC);
	CHECK_RC(straw_link(b), STRAW_ENOPROC);
	CHECK_OK(straw_detach());
	/* a fresh attach works again */
	CHECK_OK(straw_attach(c, &me));
	{
		straw_pid first = {0, 0, 1};
		CHECK_OK(straw_send(first, go));
	}
	CHECK_OK(straw_detach());
	straw_msg_unref(go);
	CHECK_EQ(straw_container_wait(c), 0);
	CHECK_PROCS_OK();
}

static void
forever(void *arg)
{
	straw_msg *m;

	(void)arg;
	for (;;) {
		PRECV(m, STRAW_INFINITY);
		straw_msg_unref(m);
	}
}

struct stopper {
	straw_container *c; /* to stop */
	int rc;             /* the attached thread's receive result */
};

static void *
blocked_thread(void *arg)
{
	struct stopper *s = arg;
	straw_msg *m;
	straw_pid me;

	if (straw_attach(s->c, &me) != 0)
		return NULL;
	s->rc = straw_receive(&m, STRAW_INFINITY);
	straw_detach();
	return NULL;
}

/* Stopping a container wakes an attached thread blocked in receive. */
CASE(stop_with_attached_thread)
{
	straw_container *c = start(forever, NULL);
	struct stopper s = {c, 1};
	pthread_t t;
	straw_pid me;
	int64_t end;

	CHECK(c != NULL);
	/* attach here too, so the thread below is surely attached... */
	CHECK_OK(straw_attach(c, &me));
	CHECK_OK(-pthread_create(&t, NULL, blocked_thread, &s));
	/* ...wait until it is: it shows up in the container's table */
	for (end = strawi_deadline_ms(10000);;) {
		straw_proc_info info;
		straw_pid p = {0, 0, me.process + 1};
		if (straw_proc_info_get(p, &info) == 0 &&
		    info.state == STRAW_PROC_FOREIGN)
			break;
		CHECK(strawi_now_ns() < end); /* bounded */
		sched_yield();
	}
	CHECK_OK(straw_detach());
	straw_container_stop(c, 5);
	pthread_join(t, NULL);
	CHECK_RC(s.rc, STRAW_ENOPROC);
	CHECK_EQ(straw_container_wait(c), 5);
}

static void *
router_thread(void *arg)
{
	straw_container *c = arg;
	int64_t i;

	for (i = 0; i < 100; i++)
		if (strawi_proc_deliver_id(c, 1, pt_tag_int("in", i)) != 0)
			return (void *)1;
	return NULL;
}

static void
inbound_main(void *arg)
{
	straw_msg *m;
	int64_t i, v = -1;

	(void)arg;
	for (i = 0; i < 100; i++) {
		PRECV(m, 5000);
		PCHECK(pt_get_tag_int(m, "in", &v));
		PCHECK_EQ(v, i);
		straw_msg_unref(m);
	}
	/* on the scheduler thread: delivered at once */
	PCHECK_EQ(strawi_proc_deliver_id(straw_container_self(), 1,
	                                 pt_tag_int("in", 100)),
	          0);
	PCHECK_EQ(straw_mailbox_len(), 1);
	PCHECK_EQ(strawi_proc_deliver_id(straw_container_self(), 999,
	                                 pt_tag_int("in", 101)),
	          0); /* no such process: dropped */
	PRECV(m, 0);
	straw_msg_unref(m);
}

/* The router's entry: a thread that is not attached hands messages to a
 * local process, in order. */
CASE(deliver_from_router_thread)
{
	straw_container *c = start(inbound_main, NULL);
	pthread_t t;
	void *rc = (void *)2;

	CHECK(c != NULL);
	CHECK_OK(-pthread_create(&t, NULL, router_thread, c));
	pthread_join(t, &rc);
	CHECK(rc == NULL);
	CHECK_EQ(straw_container_wait(c), 0);
	CHECK_PROCS_OK();
}

/* ---- contention ------------------------------------------------------ */

enum { SENDERS = 4 };

static long
per_sender(void)
{
	const char *s = getenv("STRAW_TEST_FOREIGN_MSGS");
	return s != NULL ? atol(s) : 20000;
}

/* Counts {s<k>, Seq} from each sender, checking each sender's order, and
 * answers {total, N} to {report, Pid}. */
static void
collector(void *arg)
{
	int64_t next[SENDERS] = {0};
	long total = 0;
	straw_msg *m;
	straw_pid to;

	(void)arg;
	PCHECK_EQ(straw_register("collector", straw_self()), 0);
	for (;;) {
		int k, matched = 0;
		int64_t v = -1;
		PRECV(m, 30000);
		if (pt_get_tag_pid(m, "report", &to)) {
			straw_msg_unref(m);
			straw_send_take(to, pt_tag_int("total", total));
			return;
		}
		for (k = 0; k < SENDERS; k++) {
			char tag[8];
			snprintf(tag, sizeof(tag), "s%d", k);
			if (pt_get_tag_int(m, tag, &v)) {
				PCHECK_EQ(v, next[k]);
				next[k]++;
				matched = 1;
			}
		}
		PCHECK(matched);
		total++;
		straw_msg_unref(m);
	}
}

struct sender {
	straw_container *c; /* where */
	int k;              /* which */
	int rc;             /* first error */
	sem_t *go;          /* start together */
};

static void *
sender_thread(void *arg)
{
	struct sender *s = arg;
	char tag[8];
	straw_pid me, col;
	long i, n = per_sender();

	snprintf(tag, sizeof(tag), "s%d", s->k);
	s->rc = straw_attach(s->c, &me);
	if (s->rc < 0)
		return NULL;
	while (sem_wait(s->go) != 0)
		;
	s->rc = straw_whereis("collector", &col);
	for (i = 0; i < n && s->rc == 0; i++)
		s->rc = straw_send_take(col, pt_tag_int(tag, i));
	straw_detach();
	return NULL;
}

CASE(foreign_senders_contention)
{
	straw_container *c = start(collector, NULL);
	struct sender s[SENDERS];
	pthread_t t[SENDERS];
	sem_t go;
	straw_pid me, col;
	straw_msg *m;
	int64_t total = -1, end;
	int k;

	CHECK(c != NULL);
	CHECK_OK(straw_attach(c, &me));
	end = strawi_deadline_ms(10000);
	while (straw_whereis("collector", &col) != 0) {
		CHECK(strawi_now_ns() < end); /* bounded */
		sched_yield(); /* it registers when it first runs */
	}
	sem_init(&go, 0, 0);
	for (k = 0; k < SENDERS; k++) {
		s[k].c = c;
		s[k].k = k;
		s[k].rc = 0;
		s[k].go = &go;
		CHECK_OK(-pthread_create(&t[k], NULL, sender_thread, &s[k]));
	}
	for (k = 0; k < SENDERS; k++)
		sem_post(&go);
	for (k = 0; k < SENDERS; k++) {
		pthread_join(t[k], NULL);
		CHECK_OK(s[k].rc);
	}
	/* every sender detached: all its sends were posted before; ours
	 * comes after them */
	CHECK_OK(straw_send_take(col, pt_tag_pid("report", me)));
	CHECK_OK(straw_receive(&m, 30000));
	CHECK(pt_get_tag_int(m, "total", &total));
	CHECK_EQ(total, SENDERS * per_sender());
	straw_msg_unref(m);
	CHECK_OK(straw_detach());
	sem_destroy(&go);
	CHECK_EQ(straw_container_wait(c), 0);
	CHECK_PROCS_OK();
}

CHECK_MAIN(attach_send_receive, foreign_links_and_monitors,
           stop_with_attached_thread, deliver_from_router_thread,
           foreign_senders_contention)
