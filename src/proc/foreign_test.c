/*
 * Foreign threads: attach, send and receive with timeouts, the mail fd,
 * exit signals and monitors reaching an attached thread, the container
 * stopping under attached threads, many threads sending to one process at
 * once, and threads sending to each other and to one process at once.  The
 * tsan_threads test also runs this file under ThreadSanitizer.
 * STRAW_TEST_FOREIGN_MSGS scales the messages per sender (default 20000;
 * a quarter of that per thread and receiver in the mesh).
 */
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>

#include <straw/straw.h>

#include "base/clock.h"
#include "proc/proc.h"
#include "proc/proc_test_util.h"
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
	CHECK_EQ(straw_register("echo", straw_self()), 0);
	for (;;) {
		straw_pid from;
		PRECV(m, STRAW_INFINITY);
		if (straw_msg_is_atom(m, "stop")) {
			straw_msg_unref(m);
			return;
		}
		CHECK(pt_get_tag_pid(m, "ping", &from));
		straw_msg_unref(m);
		straw_send_take(from, pt_tag_int("pong", ++n));
	}
}

static straw_container *
start(straw_proc_fn fn, void *arg)
{
	straw_container_opts o = {
	        STRAW_CONTAINER_LOCAL | STRAW_CONTAINER_NO_SIGNALS, 0, 0, 0};
	straw_container *c = NULL;

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
	CHECK_RC(straw_receive(&m, 0), -ETIMEDOUT);
	{
		int64_t t0 = strawi_now_ns();
		CHECK_RC(straw_receive(&m, 30), -ETIMEDOUT);
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
	CHECK_OK(straw_msg_atom(&m, "stop"));
	CHECK_OK(straw_send_name("echo", m));
	straw_msg_unref(m);
	CHECK_OK(straw_detach());
	CHECK_RC(straw_detach(), STRAW_ENOTCONTAINER);
	CHECK_EQ(straw_container_wait(c), 0);
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
	straw_msg *m, *go = NULL;
	const uint8_t *rs;
	size_t rl;

	CHECK_OK(straw_msg_atom(&go, "go"));
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
	CHECK_RC(straw_receive(&m, 0), -ETIMEDOUT);
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
		if (proc_post_deliver(c, 1, pt_tag_int("in", i)) != 0)
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
		CHECK(pt_get_tag_int(m, "in", &v));
		CHECK_EQ(v, i);
		straw_msg_unref(m);
	}
}

/* Posting a delivery from a thread that is not attached (the attached
 * threads' send path): in order. */
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
}

static void *
msgf_thread(void *arg)
{
	straw_msg *m;
	int err = 0;

	(void)arg;
	err = straw_msgf(&m, "{a, ~i, ~s}", (int64_t)1, "text");
	if (err != 0 || straw_term_match(straw_msg_data(m), straw_msg_len(m),
	                                 "{a, 1, \"text\"}") != 1)
		return (void *)1;
	straw_msg_unref(m);
	return NULL;
}

/* A thread that built messages leaves nothing when it exits: its format
 * builder and its message cache are freed (the sanitizer build fails on a
 * leak). */
CASE(thread_caches_freed_at_exit)
{
	pthread_t t;
	void *rc = (void *)2;

	for (int i = 0; i < 3; i++) {
		CHECK_OK(-pthread_create(&t, NULL, msgf_thread, NULL));
		pthread_join(t, &rc);
		CHECK(rc == NULL);
	}
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
	CHECK_EQ(straw_register("collector", straw_self()), 0);
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
				CHECK_EQ(v, next[k]);
				next[k]++;
				matched = 1;
			}
		}
		CHECK(matched);
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
}

/* ---- foreign threads sending to each other ------------------------------ */

/*
 * Each mesh thread sends {s<k>, Seq} to every other mesh thread - one
 * message, its buffer shared by all receivers, which release it on their
 * own threads - and to the collector, then {end, k} to the other threads;
 * meanwhile it takes what the others send it, checking each sender's order
 * and count.  Even threads take mail with straw_receive, odd ones wait on
 * the mail fd, which is readable only while mail waits.
 */
struct mesh {
	straw_container *c;      /* where */
	straw_pid col;           /* the collector */
	straw_pid pids[SENDERS]; /* the threads' processes */
	pthread_barrier_t ready; /* every thread attached */
	long n;                  /* messages per sender and receiver */
};

struct mesh_thread {
	struct mesh *mesh;     /* shared */
	int k;                 /* which */
	int64_t next[SENDERS]; /* next sequence number expected per sender */
	int ended[SENDERS];    /* {end, j} seen */
	int ends;              /* how many */
	long early;            /* messages taken while still sending */
};

static long
mesh_count(void)
{
	return per_sender() / 4;
}

/* Checks one received message against the senders' order. */
static void
mesh_take(struct mesh_thread *t, straw_msg *m)
{
	int64_t v = -1;
	int j, matched = 0;

	if (pt_get_tag_int(m, "end", &v)) {
		CHECK_EQ(v >= 0 && v < SENDERS && v != t->k, 1);
		if (v >= 0 && v < SENDERS) {
			CHECK_EQ(t->ended[v], 0);
			CHECK_EQ(t->next[v], t->mesh->n);
			t->ended[v] = 1;
		}
		t->ends++;
		matched = 1;
	}
	for (j = 0; j < SENDERS && !matched; j++) {
		char tag[8];
		snprintf(tag, sizeof(tag), "s%d", j);
		if (pt_get_tag_int(m, tag, &v)) {
			CHECK_EQ(j != t->k && !t->ended[j], 1);
			CHECK_EQ(v, t->next[j]);
			t->next[j] = v + 1;
			matched = 1;
		}
	}
	CHECK_EQ(matched, 1);
	straw_msg_unref(m);
}

/* Takes the mail that waits now, without blocking. */
static void
mesh_drain(struct mesh_thread *t)
{
	straw_msg *m;

	if (t->k % 2 == 0) {
		while (straw_receive(&m, 0) == 0) {
			mesh_take(t, m);
			t->early++;
		}
		return;
	}
	while (fd_readable(straw_mail_fd(), 0)) {
		int rc = straw_receive(&m, 0);
		CHECK_EQ(rc, 0); /* only this thread takes its mail */
		if (rc != 0)
			return;
		mesh_take(t, m);
		t->early++;
	}
}

/* Waits up to 30 s for one message; 0 if none came. */
static int
mesh_wait(struct mesh_thread *t)
{
	straw_msg *m;
	int rc;

	if (t->k % 2 == 0) {
		rc = straw_receive(&m, 30000);
	} else {
		if (!fd_readable(straw_mail_fd(), 30000))
			return 0;
		rc = straw_receive(&m, 0);
	}
	CHECK_EQ(rc, 0);
	if (rc != 0)
		return 0;
	mesh_take(t, m);
	return 1;
}

static void *
mesh_thread_main(void *arg)
{
	struct mesh_thread *t = arg;
	struct mesh *mh = t->mesh;
	char tag[8];
	straw_pid me = {0, 0, 0};
	straw_msg *m;
	long i;
	int j, attached;

	snprintf(tag, sizeof(tag), "s%d", t->k);
	attached = straw_attach(mh->c, &me) == 0;
	CHECK_EQ(attached, 1);
	mh->pids[t->k] = me;
	pthread_barrier_wait(&mh->ready); /* also when attach failed */
	if (!attached)
		return NULL;
	for (i = 0; i < mh->n; i++) {
		m = pt_tag_int(tag, i);
		for (j = 0; j < SENDERS; j++)
			if (j != t->k)
				CHECK_EQ(straw_send(mh->pids[j], m), 0);
		CHECK_EQ(straw_send_take(mh->col, m), 0);
		if (i % 64 == 63)
			mesh_drain(t);
	}
	for (j = 0; j < SENDERS; j++)
		if (j != t->k)
			CHECK_EQ(straw_send_take(mh->pids[j],
			                         pt_tag_int("end", t->k)),
			         0);
	while (t->ends < SENDERS - 1 && mesh_wait(t))
		;
	CHECK_EQ(t->ends, SENDERS - 1);
	/* Each sender's end came after all it sent: nothing more is due. */
	CHECK_EQ(straw_receive(&m, 0), -ETIMEDOUT);
	CHECK_EQ(straw_mailbox_len(), 0);
	CHECK_EQ(fd_readable(straw_mail_fd(), 0), 0);
	CHECK_EQ(straw_detach(), 0);
	return NULL;
}

CASE(foreign_threads_mesh)
{
	straw_container *c = start(collector, NULL);
	struct mesh mh;
	struct mesh_thread t[SENDERS];
	pthread_t th[SENDERS];
	straw_pid me;
	straw_msg *m;
	int64_t total = -1;
	long early = 0;
	int k, j;

	CHECK(c != NULL);
	memset(&mh, 0, sizeof(mh));
	mh.c = c;
	mh.n = mesh_count();
	CHECK_OK(straw_attach(c, &me));
	while (straw_whereis("collector", &mh.col) != 0)
		sched_yield(); /* it registers when it first runs */
	CHECK_EQ(pthread_barrier_init(&mh.ready, NULL, SENDERS), 0);
	memset(t, 0, sizeof(t));
	for (k = 0; k < SENDERS; k++) {
		t[k].mesh = &mh;
		t[k].k = k;
		CHECK_OK(
		        -pthread_create(&th[k], NULL, mesh_thread_main, &t[k]));
	}
	for (k = 0; k < SENDERS; k++)
		pthread_join(th[k], NULL);
	for (k = 0; k < SENDERS; k++) {
		for (j = 0; j < SENDERS; j++)
			CHECK_EQ(t[k].next[j], j == k ? 0 : mh.n);
		early += t[k].early;
	}
	fprintf(stderr,
	        "  %ld messages between threads, %ld taken while "
	        "their receiver was still sending\n",
	        (long)SENDERS * (SENDERS - 1) * mh.n, early);
	pthread_barrier_destroy(&mh.ready);
	/* the threads detached: all they sent was delivered before */
	CHECK_OK(straw_send_take(mh.col, pt_tag_pid("report", me)));
	CHECK_OK(straw_receive(&m, 30000));
	CHECK(pt_get_tag_int(m, "total", &total));
	CHECK_EQ(total, SENDERS * mh.n);
	straw_msg_unref(m);
	CHECK_OK(straw_detach());
	CHECK_EQ(straw_container_wait(c), 0);
}

CHECK_MAIN(attach_send_receive, foreign_links_and_monitors,
           thread_caches_freed_at_exit, stop_with_attached_thread,
           deliver_from_router_thread, foreign_senders_contention,
           foreign_threads_mesh)
