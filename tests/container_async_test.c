/*
 * A container's scheduler never waits on strawd (docs/processes.md,
 * docs/tubes.md), checked against a real strawd that the test starts,
 * stalls with SIGSTOP and continues by the pid it got:
 *
 *   - a timer process ticking every millisecond keeps ticking while a name
 *     registration (with straw_container_sync) and a tube accept wait on a
 *     stalled strawd, and both complete once strawd runs again;
 *   - the registry mirror of names stays in order (register then release
 *     never ends registered), even past the bound of the request queue;
 *   - filtered accepts: acceptors with different filters each get only
 *     their tubes, whether the opens come first or the accepts;
 *   - a reliable-mode sender inside a process, blocked on a full tube,
 *     lets a timer process run and resumes when the reader drains; the
 *     write-readiness fd wakes a process waiting for room;
 *   - the failing allocator on the open and accept paths: -ENOMEM with
 *     nothing sent, and no allocation once a request is out.
 *
 * Processes never CHECK (the harness jumps on the test's thread): they
 * leave results in atomics and post semaphores, and the test's thread
 * checks.  The test's thread has its own registry connection, joined as
 * a second container ("peer"), for the other end of the tubes.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <semaphore.h>
#include <stdatomic.h>

#include <straw/alloc.h>
#include <straw/io.h>
#include <straw/straw.h>
#include <straw/tube.h>

#include "proc/proc.h"
#include "registry/client_int.h"
#include "registry_util.h"
#include "tube/tube_impl.h"

/* ---- shared with the processes --------------------------------------- */

static _Atomic long ticks;  /* the ticker's count */
static _Atomic int stop;    /* processes end */
static _Atomic int go;      /* the test says: do it now */
static _Atomic int step;    /* how far a process got */
static _Atomic int result;  /* a process's result code */
static _Atomic int result2; /* another's */
static _Atomic int result3; /* a third's */
static _Atomic(straw_tube *) tube_a, tube_b, tube_c;
static sem_t said; /* a process tells the test something */

static void
reset(void)
{
	ticks = 0;
	stop = 0;
	go = 0;
	step = 0;
	result = 1;
	result2 = 1;
	result3 = 1;
	tube_a = tube_b = tube_c = NULL;
	sem_init(&said, 0, 0);
}

/* Waits for a process's word: 0, or -ETIMEDOUT after timeout_ms. */
static int
hear(int timeout_ms)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += timeout_ms / 1000;
	ts.tv_nsec += (long)(timeout_ms % 1000) * 1000000;
	if (ts.tv_nsec >= 1000000000) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000;
	}
	while (sem_timedwait(&said, &ts) != 0)
		if (errno != EINTR)
			return -ETIMEDOUT;
	return 0;
}

static void
ticker(void *arg)
{
	(void)arg;
	while (!stop) {
		straw_sleep(1);
		ticks++;
	}
}

/* Sleeps (1 ms steps: the others run) until flag is set. */
static void
await(_Atomic int *flag)
{
	while (!*flag && !stop)
		straw_sleep(1);
}

/* Ticks over ms milliseconds of the test's clock. */
static long
ticks_over(int ms)
{
	long t0 = ticks;

	/* The measurement window itself, not a synchronisation. */
	poll(NULL, 0, ms);
	return ticks - t0;
}

static straw_container *
start(const char *name, straw_proc_fn fn)
{
	straw_container_opts o = {STRAW_CONTAINER_NO_SIGNALS, 0, 0, 0};
	straw_container *c = NULL;

	if (straw_container_start(name, fn, NULL, &o, &c) < 0)
		return NULL;
	return c;
}

static straw_reg *
peer_join(uint32_t *id)
{
	straw_reg *r = NULL;

	if (straw_reg_connect(&r, NULL, STRAW_REG_NO_AUTOSTART) < 0)
		return NULL;
	if (straw_reg_join(r, "peer", id) < 0) {
		straw_reg_close(r);
		return NULL;
	}
	return r;
}

static void
close_tubes(void)
{
	straw_tube_close(atomic_exchange(&tube_a, NULL));
	straw_tube_close(atomic_exchange(&tube_b, NULL));
	straw_tube_close(atomic_exchange(&tube_c, NULL));
}

/* ---- (a) ticks while strawd is stalled ---------------------------------- */

static void
stalled_register(void *arg)
{
	(void)arg;
	await(&go);
	if (straw_register("stalled", straw_self()) != 0)
		return;
	step = 1; /* straw_register returned */
	sem_post(&said);
	result = straw_container_sync(30000);
	step = 2;
	sem_post(&said);
	await(&stop);
}

static void
stalled_accept(void *arg)
{
	straw_tube *t = NULL;
	char buf[16];
	int n;

	(void)arg;
	await(&go);
	result2 = straw_container_tube_accept(NULL, 30000, &t);
	sem_post(&said);
	if (result2 != 0)
		return;
	/* Echo one packet: a recv in a process yields too. */
	n = straw_tube_recv(t, buf, sizeof(buf), 10000);
	if (n > 0)
		straw_tube_send(t, buf, (size_t)n, 10000);
	tube_a = t;
	sem_post(&said);
	await(&stop);
}

static void
stalled_main(void *arg)
{
	(void)arg;
	straw_spawn(ticker, NULL, NULL, NULL);
	straw_spawn(stalled_register, NULL, NULL, NULL);
	straw_spawn(stalled_accept, NULL, NULL, NULL);
	sem_post(&said);
}

CASE(ticks_while_strawd_stalled)
{
	straw_container *c;
	straw_tube *t = NULL;
	straw_reg *r;
	uint32_t pid_of_name, id;
	char buf[16];
	long n;
	pid_t pid;

	tu_setup();
	reset();
	pid = tu_start_strawd();
	CHECK(pid > 0);
	c = start("stall", stalled_main);
	CHECK(c != NULL);
	CHECK_OK(hear(10000));
	r = peer_join(&id);
	CHECK(r != NULL);
	CHECK_OK(kill(pid, SIGSTOP));
	go = 1;
	/* straw_register returns at once: it does not wait for strawd. */
	CHECK_OK(hear(2000));
	CHECK_EQ(step, 1);
	n = ticks_over(500);
	fprintf(stderr, "  %ld ticks in 500 ms with strawd stopped\n", n);
	CHECK(n >= 100);
	CHECK_EQ(step, 1);    /* the sync waits for strawd */
	CHECK_EQ(result2, 1); /* so does the accept */
	CHECK_OK(kill(pid, SIGCONT));
	CHECK_OK(hear(10000));
	CHECK_EQ(step, 2);
	CHECK_RC(result, 0);
	CHECK_OK(straw_reg_lookup(r, "stall", "stalled", &pid_of_name));
	CHECK(pid_of_name != 0);
	/* The accept waiting all along gets the tube opened now. */
	CHECK_OK(
	        straw_tube_open(r, "stall", 5, STRAW_TUBE_RELIABLE, 10000, &t));
	CHECK_OK(hear(10000));
	CHECK_RC(result2, 0);
	CHECK_EQ(straw_tube_send(t, "ping", 4, 1000), 1);
	CHECK_EQ(straw_tube_recv(t, buf, sizeof(buf), 10000), 4);
	CHECK_MEM(buf, 4, "ping", 4);
	CHECK_OK(hear(10000));
	close_tubes(); /* before the container's connection closes */
	stop = 1;
	CHECK_EQ(straw_container_wait(c), 0);
	straw_tube_close(t);
	straw_reg_close(r);
	CHECK_EQ(tu_stop_strawd(pid), 0);
	tu_cleanup();
}

/* ---- names in order ------------------------------------------------------- */

#define NAME_PAIRS 2100 /* 4200 requests: past REG_ASYNC_MAX */

static void
names_main(void *arg)
{
	int i;

	(void)arg;
	await(&go);
	/* strawd is stopped: the queue fills; registrations past the bound
	 * are not mirrored (logged), and neither are their releases. */
	for (i = 0; i < NAME_PAIRS; i++) {
		if (straw_register("flip", straw_self()) != 0 ||
		    straw_unregister("flip") != 0) {
			result = -1;
			break;
		}
	}
	step = 1;
	sem_post(&said);
	await(&stop);
	result = straw_container_sync(30000);
	if (result == 0)
		result = straw_register("kept", straw_self());
	if (result == 0)
		result = straw_container_sync(30000);
	go = 0;
	sem_post(&said);
	while (!go) /* the name is released when we end */
		straw_sleep(1);
}

/* Register then release of the same name never ends registered, even when
 * strawd is stalled and the queue of requests overflows meanwhile. */
CASE(names_mirrored_in_order)
{
	straw_container *c;
	straw_reg *r;
	uint32_t id, proc;
	pid_t pid;

	tu_setup();
	reset();
	pid = tu_start_strawd();
	CHECK(pid > 0);
	c = start("names", names_main);
	CHECK(c != NULL);
	CHECK_OK(tu_connect_wait(&r, 1000));
	CHECK_OK(kill(pid, SIGSTOP));
	go = 1;
	CHECK_OK(hear(20000));
	CHECK_EQ(step, 1);
	CHECK_OK(kill(pid, SIGCONT));
	stop = 1;
	CHECK_OK(hear(30000));
	CHECK_RC(result, 0);
	CHECK_RC(straw_reg_lookup(r, "names", "flip", &proc), STRAW_ENONAME);
	CHECK_OK(straw_reg_lookup(r, "names", "kept", &proc));
	CHECK_EQ(proc, 1);
	go = 1;
	CHECK_EQ(straw_container_wait(c), 0);
	(void)id;
	straw_reg_close(r);
	CHECK_EQ(tu_stop_strawd(pid), 0);
	tu_cleanup();
}

/* ---- (c) filtered accepts ------------------------------------------------- */

static const straw_tube_filter f_app = {"app", 0, UINT32_MAX};
static const straw_tube_filter f_range = {NULL, 100, 199};

/* An acceptor process: accepts with its filter, leaves its result and
 * tube, says so. */
struct acceptor {
	const straw_tube_filter *filter; /* NULL: plain accept */
	_Atomic int *rc;                 /* its result */
	_Atomic(straw_tube *) *tube;     /* its tube */
};

static struct acceptor acc_straw = {&f_app, &result, &tube_a};
static struct acceptor acc_range = {&f_range, &result2, &tube_b};
static struct acceptor acc_plain = {NULL, &result3, &tube_c};

static void
accept_one(void *arg)
{
	struct acceptor *a = arg;
	straw_tube *t = NULL;

	*a->rc = straw_container_tube_accept(a->filter, 20000, &t);
	*a->tube = t;
	sem_post(&said);
}

/* Accepts first: the range acceptor submits first, then the service one;
 * a sync then tells the test both are waiting in strawd. */
static void
filters_accepts_first(void *arg)
{
	(void)arg;
	straw_spawn(accept_one, &acc_range, NULL, NULL);
	straw_yield(); /* it submits */
	straw_spawn(accept_one, &acc_straw, NULL, NULL);
	straw_yield();
	if (straw_container_sync(10000) == 0)
		sem_post(&said);
}

/* Opens first: the test's opens are waiting; the range acceptor takes
 * tid 120 before the plain one asks, which then gets tid 500 (not the
 * service's tid 8). */
static void
filters_opens_first(void *arg)
{
	(void)arg;
	await(&go);
	straw_spawn(accept_one, &acc_straw, NULL, NULL);
	straw_spawn(accept_one, &acc_range, NULL, NULL);
	straw_yield();
	straw_yield();
	straw_spawn(accept_one, &acc_plain, NULL, NULL);
}

static void
check_tube(straw_tube *t, uint32_t tid)
{
	straw_tube_info info;

	CHECK(t != NULL);
	straw_tube_get_info(t, &info);
	CHECK_EQ(info.tid, tid);
	CHECK_EQ(info.side, 1);
}

/* Asynchronous opens of the test's thread. */
static struct {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	int n;            /* completed */
	int rc[4];        /* by tag */
	straw_tube *t[4]; /* by tag */
} opens = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0, {0}, {0}};

static void
opened(void *arg, int rc, straw_tube *t)
{
	int tag = (int)(intptr_t)arg;

	pthread_mutex_lock(&opens.mu);
	opens.rc[tag] = rc;
	opens.t[tag] = t;
	opens.n++;
	pthread_cond_broadcast(&opens.cv);
	pthread_mutex_unlock(&opens.mu);
}

static void
opens_reset(void)
{
	pthread_mutex_lock(&opens.mu);
	memset(opens.rc, 0, sizeof(opens.rc));
	memset(opens.t, 0, sizeof(opens.t));
	opens.n = 0;
	pthread_mutex_unlock(&opens.mu);
}

static int
opens_wait(int n, int timeout_ms)
{
	int64_t end = strawi_deadline_ms(timeout_ms);
	int ok;

	pthread_mutex_lock(&opens.mu);
	while (opens.n < n && strawi_now_ns() < end) {
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_sec += 1;
		pthread_cond_timedwait(&opens.cv, &opens.mu, &ts);
	}
	ok = opens.n >= n;
	pthread_mutex_unlock(&opens.mu);
	return ok ? 0 : -ETIMEDOUT;
}

static void
barrier_done(void *arg, struct reg_async_result *res)
{
	(void)res;
	sem_post(arg);
}

/* Waits until strawd has received every request r sent before (a
 * lookup's answer comes after theirs). */
static int
barrier(straw_reg *r)
{
	struct reg_async *a = NULL;
	sem_t s;
	int rc;

	sem_init(&s, 0, 0);
	rc = reg_async_new_lookup(&a, "peer", "none");
	if (rc == 0)
		rc = reg_async_submit(r, a, 10000, 0, barrier_done, &s);
	if (rc == 0)
		while (sem_wait(&s) != 0)
			;
	else
		reg_async_free(a);
	sem_destroy(&s);
	return rc;
}

CASE(filtered_accepts)
{
	straw_container *c;
	straw_tube *t = NULL;
	straw_reg *r;
	uint32_t id;
	pid_t pid;
	int i;

	tu_setup();
	reset();
	pid = tu_start_strawd();
	CHECK(pid > 0);
	r = peer_join(&id);
	CHECK(r != NULL);

	/* Accepts first. */
	c = start("filt", filters_accepts_first);
	CHECK(c != NULL);
	CHECK_OK(hear(10000));
	/* The service's open: the range acceptor, first in line, must not
	 * take it. */
	CHECK_OK(straw_tube_open_service(r, "filt", "app", 7,
	                                 STRAW_TUBE_RELIABLE, 10000, &t));
	CHECK_OK(hear(10000));
	CHECK_RC(result, 0);
	check_tube(tube_a, 7);
	CHECK_EQ(result2, 1); /* still waiting */
	straw_tube_close(t);
	/* Outside the range, and another service: nobody takes them. */
	CHECK_RC(straw_tube_open(r, "filt", 300, STRAW_TUBE_RELIABLE, 300, &t),
	         -ETIMEDOUT);
	CHECK_RC(straw_tube_open_service(r, "filt", "other", 150,
	                                 STRAW_TUBE_RELIABLE, 300, &t),
	         -ETIMEDOUT);
	CHECK_OK(straw_tube_open(r, "filt", 150, STRAW_TUBE_RELIABLE, 10000,
	                         &t));
	CHECK_OK(hear(10000));
	CHECK_RC(result2, 0);
	check_tube(tube_b, 150);
	straw_tube_close(t);
	close_tubes();
	CHECK_EQ(straw_container_wait(c), 0);

	/* Opens first (asynchronously, from this thread). */
	reset();
	opens_reset();
	c = start("filt2", filters_opens_first);
	CHECK(c != NULL);
	CHECK_OK(strawi_tube_open_async(r, "filt2", "app", 8,
	                                STRAW_TUBE_RELIABLE, 20000, opened,
	                                (void *)0));
	CHECK_OK(strawi_tube_open_async(r, "filt2", NULL, 120,
	                                STRAW_TUBE_RELIABLE, 20000, opened,
	                                (void *)1));
	CHECK_OK(strawi_tube_open_async(r, "filt2", NULL, 500,
	                                STRAW_TUBE_RELIABLE, 20000, opened,
	                                (void *)2));
	CHECK_OK(barrier(r)); /* the three wait in strawd */
	go = 1;
	for (i = 0; i < 3; i++)
		CHECK_OK(hear(10000));
	CHECK_OK(opens_wait(3, 10000));
	for (i = 0; i < 3; i++)
		CHECK_RC(opens.rc[i], 0);
	CHECK_RC(result, 0);
	check_tube(tube_a, 8);
	CHECK_RC(result2, 0);
	check_tube(tube_b, 120);
	CHECK_RC(result3, 0);
	check_tube(tube_c, 500);
	for (i = 0; i < 3; i++)
		straw_tube_close(opens.t[i]);
	close_tubes();
	CHECK_EQ(straw_container_wait(c), 0);
	/* Bad filters and services. */
	{
		straw_tube_filter bad = {NULL, 5, 4};
		straw_tube_filter badsvc = {"no/slash", 0, 1};
		CHECK_RC(straw_tube_accept_filtered(r, &bad, 0, &t), -EINVAL);
		CHECK_RC(straw_tube_accept_filtered(r, &badsvc, 0, &t),
		         -EINVAL);
		CHECK_RC(straw_tube_open_service(r, "filt", "a b", 1,
		                                 STRAW_TUBE_DROP, 0, &t),
		         -EINVAL);
	}
	straw_reg_close(r);
	CHECK_EQ(tu_stop_strawd(pid), 0);
	tu_cleanup();
}

/* ---- (d) a reliable sender blocked in a process --------------------------- */

#define REL_PACKETS 20000

static void
reliable_sender(void *arg)
{
	straw_tube *t = NULL;
	uint32_t i;
	int rc;

	(void)arg;
	rc = straw_container_tube_open("peer", NULL, 1, STRAW_TUBE_RELIABLE,
	                               10000, &t);
	if (rc < 0) {
		result = rc;
		sem_post(&said);
		return;
	}
	tube_a = t;
	sem_post(&said);
	for (i = 0; i < REL_PACKETS; i++) {
		rc = straw_tube_send(t, &i, sizeof(i), -1);
		if (rc != 1) {
			result = rc;
			sem_post(&said);
			return;
		}
	}
	step = 1;
	sem_post(&said);
	await(&go); /* the reader drained */
	/* Now fill it without waiting, then wait for room on the
	 * write-readiness fd. */
	while ((rc = straw_tube_send(t, &i, sizeof(i), 0)) == 1)
		i++;
	if (rc != -ETIMEDOUT) {
		result = rc;
		sem_post(&said);
		return;
	}
	result2 = (int)i; /* packets sent in all */
	step = 2;
	sem_post(&said);
	rc = straw_fd_wait(straw_tube_write_fd(t), POLLIN, 20000);
	if (rc > 0)
		rc = straw_tube_send(t, &i, sizeof(i), 0);
	result = rc;
	step = 3;
	sem_post(&said);
	await(&stop);
}

static void
reliable_main(void *arg)
{
	(void)arg;
	straw_spawn(ticker, NULL, NULL, NULL);
	straw_spawn(reliable_sender, NULL, NULL, NULL);
}

CASE(reliable_sender_yields)
{
	straw_tube_stats st;
	straw_container *c;
	straw_tube *t = NULL;
	straw_reg *r;
	uint32_t id, i, v, total;
	int64_t end;
	long n;
	pid_t pid;

	tu_setup();
	reset();
	pid = tu_start_strawd();
	CHECK(pid > 0);
	r = peer_join(&id);
	CHECK(r != NULL);
	c = start("rel", reliable_main);
	CHECK(c != NULL);
	CHECK_OK(straw_tube_accept(r, 10000, &t));
	CHECK_OK(hear(10000));
	CHECK_EQ(result, 1);
	/* The sender fills the tube and waits for room (it publishes its
	 * sleep count before it waits). */
	end = strawi_deadline_ms(10000);
	do
		straw_tube_get_stats(t, &st);
	while (st.peer.sleeps == 0 && strawi_now_ns() < end);
	CHECK(st.peer.sleeps != 0);
	CHECK_EQ(step, 0);
	n = ticks_over(300);
	fprintf(stderr, "  %ld ticks in 300 ms with the sender blocked\n", n);
	CHECK(n >= 60);
	/* Drain: the sender resumes and finishes. */
	for (i = 0; i < REL_PACKETS; i++) {
		CHECK_EQ(straw_tube_recv(t, &v, sizeof(v), 10000), 4);
		CHECK_EQ(v, i);
	}
	CHECK_OK(hear(10000));
	CHECK_EQ(step, 1);
	go = 1;
	CHECK_OK(hear(10000));
	CHECK_EQ(step, 2);
	total = (uint32_t)result2;
	CHECK(total > REL_PACKETS);
	/* The sender waits on the write fd: nothing changes until room. */
	n = ticks_over(100);
	CHECK(n >= 20);
	CHECK_EQ(step, 2);
	for (; i < total; i++) {
		CHECK_EQ(straw_tube_recv(t, &v, sizeof(v), 10000), 4);
		CHECK_EQ(v, i);
	}
	CHECK_OK(hear(10000));
	CHECK_EQ(step, 3);
	CHECK_EQ(result, 1);
	CHECK_EQ(straw_tube_recv(t, &v, sizeof(v), 10000), 4);
	CHECK_EQ(v, total);
	close_tubes(); /* before the container's connection closes */
	stop = 1;
	CHECK_EQ(straw_container_wait(c), 0);
	straw_tube_close(t);
	straw_reg_close(r);
	CHECK_EQ(tu_stop_strawd(pid), 0);
	tu_cleanup();
}

/* ---- (e) out of memory on the open and accept paths ----------------------- */

static straw_allocator failing = {check_failing_realloc, NULL};

/* In a process: accept (then open) with every allocation failing in
 * turn; result: the -ENOMEM count, or a negative code. */
static void
oom_tubes(void *arg)
{
	straw_reg *r = straw_container_self()->reg;
	static const straw_tube_filter f = {NULL, 50, 50};
	straw_tube *t = NULL;
	int k, rc, fails = 0, pending, pending0;

	(void)arg;
	await(&go); /* the test's requests are out: it allocates no more */
	/* The router's standing accept of straws is out all along. */
	pthread_mutex_lock(&r->amu);
	pending0 = (int)r->a_pending;
	pthread_mutex_unlock(&r->amu);
	for (k = 0;; k++) {
		straw_set_allocator(&failing);
		check_allocs_left = k;
		rc = straw_container_tube_accept(&f, 20000, &t);
		check_allocs_left = -1;
		straw_set_allocator(NULL);
		if (rc != -ENOMEM)
			break;
		fails++;
		/* Nothing went out. */
		pthread_mutex_lock(&r->amu);
		pending = (int)r->a_pending;
		pthread_mutex_unlock(&r->amu);
		if (pending != pending0) {
			rc = -EBADE;
			break;
		}
	}
	tube_a = t;
	for (k = 0; rc == 0; k++) {
		straw_set_allocator(&failing);
		check_allocs_left = k;
		rc = straw_container_tube_open("peer", NULL, 51,
		                               STRAW_TUBE_DROP, 20000, &t);
		check_allocs_left = -1;
		straw_set_allocator(NULL);
		if (rc == 0) {
			tube_b = t;
			break;
		}
		if (rc == -ENOMEM) {
			fails++;
			rc = 0; /* again, with one allocation more */
		}
	}
	result = rc < 0 ? rc : fails;
	sem_post(&said);
}

/* The tubes' open and accept paths with the failing allocator: each
 * failure is -ENOMEM with nothing sent; the successful call gets its tube
 * (the test's open, waiting in strawd all along, meets only it); and once
 * a request is out, nothing allocates: with every allocation failing, an
 * accept and an open submitted before complete with their tubes. */
CASE(tubes_out_of_memory)
{
	straw_container *c;
	straw_reg *r, *r2;
	uint32_t id;
	char buf[8];
	pid_t pid;

	tu_setup();
	reset();
	pid = tu_start_strawd();
	CHECK(pid > 0);
	r = peer_join(&id);
	CHECK(r != NULL);
	c = start("oomt", oom_tubes);
	CHECK(c != NULL);
	opens_reset();
	/* Our open waits in strawd for the process's accept, our accept for
	 * its open, before its allocations start failing. */
	CHECK_OK(strawi_tube_open_async(r, "oomt", NULL, 50, STRAW_TUBE_DROP,
	                                20000, opened, (void *)0));
	CHECK_OK(strawi_tube_accept_async(r, NULL, 20000, opened, (void *)1));
	CHECK_OK(barrier(r));
	go = 1;
	CHECK_OK(hear(20000));
	CHECK_OK(opens_wait(2, 20000));
	fprintf(stderr, "  %d allocation failures, all -ENOMEM\n", result);
	CHECK(result >= 6);
	CHECK_RC(opens.rc[0], 0);
	CHECK_RC(opens.rc[1], 0);
	check_tube(tube_a, 50);
	check_tube(opens.t[1], 51);
	CHECK(tube_b != NULL);
	close_tubes();
	straw_tube_close(opens.t[0]);
	straw_tube_close(opens.t[1]);
	CHECK_EQ(straw_container_wait(c), 0);

	/* Submitted with memory, completed without. */
	{
		CHECK_OK(tu_connect_wait(&r2, 1000));
		CHECK_OK(straw_reg_join(r2, "other", &id));
		opens_reset();
		CHECK_OK(kill(pid, SIGSTOP));
		CHECK_OK(strawi_tube_accept_async(r, NULL, 20000, opened,
		                                  (void *)0));
		CHECK_OK(strawi_tube_open_async(r2, "peer", NULL, 60,
		                                STRAW_TUBE_RELIABLE, 20000,
		                                opened, (void *)1));
		straw_set_allocator(&failing);
		check_allocs_left = 0;
		kill(pid, SIGCONT);
		opens_wait(2, 20000);
		check_allocs_left = -1;
		straw_set_allocator(NULL);
		CHECK_EQ(opens.n, 2);
		CHECK_RC(opens.rc[0], 0);
		CHECK_RC(opens.rc[1], 0);
		CHECK_EQ(straw_tube_send(opens.t[1], "x", 1, 1000), 1);
		CHECK_EQ(straw_tube_recv(opens.t[0], buf, sizeof(buf), 1000),
		         1);
		straw_tube_close(opens.t[0]);
		straw_tube_close(opens.t[1]);
		straw_reg_close(r2);
	}
	straw_reg_close(r);
	CHECK_EQ(tu_stop_strawd(pid), 0);
	tu_cleanup();
}

CHECK_MAIN(ticks_while_strawd_stalled, names_mirrored_in_order,
           filtered_accepts, reliable_sender_yields, tubes_out_of_memory)
