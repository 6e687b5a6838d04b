/*
 * bench/sched.c - suite "sched": the scheduler below processes.
 *
 *   ctx-switch     one strawi_ctx_switch (straw) vs swapcontext (ucontext)
 *   yield          one strawi_yield between two coroutines (switch there
 *                  and back through the scheduler)
 *   park-wake-rtt  round trip: A wakes B and parks, B wakes A and parks;
 *                  peer pthread: two threads, mutex + condition variables
 *   spawn-exit     a coroutine spawns children that run and end when it
 *                  yields; straw: 100 children per yield, straw-burst:
 *                  10000 per yield (past the hot pool of 256 stacks: the
 *                  excess is trimmed with madvise when the run ends);
 *                  peer pthread: pthread_create + pthread_join
 *   timer-add-cancel  add then cancel one timer with 100k others pending
 *   remote-wake    wakes of a coroutine from another thread, per wake
 *   idle-bytes     resident bytes per parked coroutine (size column) of
 *                  100000 fresh ones ($STRAW_BENCH_IDLE_N to change);
 *                  ns/op = spawn time on fresh stacks (mmap, guard page,
 *                  first touch of the top page)
 *   spawn-fresh    the same spawns, CPU time of the thread per spawn (the
 *                  machine is shared: wall time varies with its load)
 */
#define _GNU_SOURCE 1
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <ucontext.h>
#include <unistd.h>

#include "bench.h"
#include "sched/ctx.h"
#include "sched/sched.h"

static long iters;
static struct strawi_sched *S;

static void
die(const char *what, int rc)
{
	fprintf(stderr, "bench sched: %s: %d\n", what, rc);
	exit(1);
}

static void
report(const char *name, const char *case_, long size, double ns)
{
	struct bench_result r = BENCH_RESULT_INIT("sched", name, case_, size);

	r.ns_per_op = ns;
	if (ns > 0)
		r.msgs_per_s = 1e9 / ns;
	bench_report(&r);
}

/* ---- raw context switch ------------------------------------------------- */

static void *main_sp, *co_sp;

static void
ctx_entry(void *arg)
{
	(void)arg;
	for (;;)
		strawi_ctx_switch(&co_sp, main_sp);
}

static double
run_ctx(void)
{
	static char stack[64 * 1024] __attribute__((aligned(16)));
	int64_t t0;
	long i;

	co_sp = strawi_ctx_make(stack + sizeof(stack), ctx_entry, NULL);
	t0 = bench_now_ns();
	for (i = 0; i < iters; i++)
		strawi_ctx_switch(&main_sp, co_sp);
	return (double)(bench_now_ns() - t0) / (double)(2 * iters);
}

static ucontext_t uc_main, uc_co;

static void
uc_entry(void)
{
	for (;;)
		swapcontext(&uc_co, &uc_main);
}

static double
run_ucontext(void)
{
	static char stack[64 * 1024] __attribute__((aligned(16)));
	long i, n = iters / 10;
	int64_t t0;

	getcontext(&uc_co);
	uc_co.uc_stack.ss_sp = stack;
	uc_co.uc_stack.ss_size = sizeof(stack);
	uc_co.uc_link = NULL;
	makecontext(&uc_co, uc_entry, 0);
	t0 = bench_now_ns();
	for (i = 0; i < n; i++)
		swapcontext(&uc_main, &uc_co);
	return (double)(bench_now_ns() - t0) / (double)(2 * n);
}

/* ---- yield, park/wake --------------------------------------------------- */

static void
yielder(void *arg)
{
	long i;

	(void)arg;
	for (i = 0; i < iters; i++)
		strawi_yield();
}

static double
run_yield(void)
{
	int64_t t0;
	int rc;

	if ((rc = strawi_coro_spawn(S, yielder, NULL, 0, NULL)) < 0 ||
	    (rc = strawi_coro_spawn(S, yielder, NULL, 0, NULL)) < 0)
		die("spawn", rc);
	t0 = bench_now_ns();
	strawi_sched_run(S);
	return (double)(bench_now_ns() - t0) / (double)(2 * iters);
}

static struct strawi_coro *pa, *pb;

static void
ping(void *arg)
{
	long i;

	(void)arg;
	for (i = 0; i < iters; i++) {
		strawi_coro_wake(pb);
		strawi_park(STRAWI_FOREVER);
	}
	strawi_coro_wake(pb);
}

static void
pong(void *arg)
{
	long i;

	(void)arg;
	for (i = 0; i < iters; i++) {
		strawi_park(STRAWI_FOREVER);
		strawi_coro_wake(pa);
	}
	strawi_park(STRAWI_FOREVER);
}

static double
run_park_wake(void)
{
	int64_t t0;
	int rc;

	if ((rc = strawi_coro_spawn(S, pong, NULL, 0, &pb)) < 0 ||
	    (rc = strawi_coro_spawn(S, ping, NULL, 0, &pa)) < 0)
		die("spawn", rc);
	t0 = bench_now_ns();
	strawi_sched_run(S);
	return (double)(bench_now_ns() - t0) / (double)iters;
}

/* Peer: two threads handing a token back and forth with a mutex and
 * condition variables, the same round trip between OS threads. */
static pthread_mutex_t pt_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t pt_cv = PTHREAD_COND_INITIALIZER;
static int pt_turn;
static long pt_iters;

static void *
pt_pong(void *arg)
{
	long i;

	(void)arg;
	pthread_mutex_lock(&pt_mu);
	for (i = 0; i < pt_iters; i++) {
		while (pt_turn != 1)
			pthread_cond_wait(&pt_cv, &pt_mu);
		pt_turn = 0;
		pthread_cond_broadcast(&pt_cv);
	}
	pthread_mutex_unlock(&pt_mu);
	return NULL;
}

static double
run_pthread_rtt(void)
{
	pthread_t th;
	int64_t t0;
	long i;

	pt_iters = iters / 20;
	pt_turn = 0;
	pthread_create(&th, NULL, pt_pong, NULL);
	t0 = bench_now_ns();
	pthread_mutex_lock(&pt_mu);
	for (i = 0; i < pt_iters; i++) {
		pt_turn = 1;
		pthread_cond_broadcast(&pt_cv);
		while (pt_turn != 0)
			pthread_cond_wait(&pt_cv, &pt_mu);
	}
	pthread_mutex_unlock(&pt_mu);
	t0 = bench_now_ns() - t0;
	pthread_join(th, NULL);
	return (double)t0 / (double)pt_iters;
}

/* ---- spawn -------------------------------------------------------------- */

static void
nothing(void *arg)
{
	(void)arg;
}

static long spawn_batch, spawn_total;

/* A parent spawning batches of children; they run and end each time it
 * yields. */
static void
spawner(void *arg)
{
	long i;
	int rc;

	(void)arg;
	for (i = 0; i < spawn_total; i++) {
		if ((rc = strawi_coro_spawn(S, nothing, NULL, 0, NULL)) < 0)
			die("spawn", rc);
		if (i % spawn_batch == spawn_batch - 1)
			strawi_yield();
	}
}

static double
run_spawn(void)
{
	int64_t t0;
	int rc;

	spawn_total = iters / 10 / spawn_batch * spawn_batch;
	if ((rc = strawi_coro_spawn(S, spawner, NULL, 0, NULL)) < 0)
		die("spawn", rc);
	t0 = bench_now_ns();
	strawi_sched_run(S);
	return (double)(bench_now_ns() - t0) / (double)spawn_total;
}

/* Peer: a thread created and joined. */
static void *
pt_nothing(void *arg)
{
	return arg;
}

static double
run_pthread_spawn(void)
{
	long i, n = iters / 200;
	int64_t t0 = bench_now_ns();
	pthread_t th;

	for (i = 0; i < n; i++) {
		pthread_create(&th, NULL, pt_nothing, NULL);
		pthread_join(th, NULL);
	}
	return (double)(bench_now_ns() - t0) / (double)n;
}

/* ---- timers ------------------------------------------------------------- */

static void
timer_cb(struct strawi_timer *t)
{
	(void)t;
}

static double
run_timers(void)
{
	enum { PENDING = 100000 };
	static struct strawi_timer bg[PENDING], t;
	int64_t now = bench_now_ns(), t0;
	long i;
	int rc;

	for (i = 0; i < PENDING; i++) {
		strawi_timer_init(&bg[i], timer_cb, NULL);
		rc = strawi_timer_add(
		        S, &bg[i], now + 3600000000000LL + i * 7919 % PENDING);
		if (rc < 0)
			die("timer", rc);
	}
	strawi_timer_init(&t, timer_cb, NULL);
	t0 = bench_now_ns();
	for (i = 0; i < iters; i++) {
		strawi_timer_add(S, &t, now + 3600000000000LL + (i & 65535));
		strawi_timer_cancel(S, &t);
	}
	t0 = bench_now_ns() - t0;
	for (i = 0; i < PENDING; i++)
		strawi_timer_cancel(S, &bg[i]);
	return (double)t0 / (double)iters;
}

/* ---- remote wakes ------------------------------------------------------- */

static atomic_long remote_sent;
static long remote_total;
static struct strawi_coro *sink;

static void
sink_fn(void *arg)
{
	(void)arg;
	while (atomic_load(&remote_sent) < remote_total)
		strawi_park(STRAWI_FOREVER);
}

static void *
remote_waker(void *arg)
{
	long i;

	(void)arg;
	for (i = 0; i < remote_total; i++) {
		atomic_fetch_add(&remote_sent, 1);
		strawi_coro_wake_remote(sink);
	}
	return NULL;
}

static double
run_remote(void)
{
	pthread_t th;
	int64_t t0;
	int rc;

	remote_total = iters / 10;
	atomic_store(&remote_sent, 0);
	if ((rc = strawi_coro_spawn(S, sink_fn, NULL, 0, &sink)) < 0)
		die("spawn", rc);
	t0 = bench_now_ns();
	pthread_create(&th, NULL, remote_waker, NULL);
	strawi_sched_run(S);
	pthread_join(th, NULL);
	return (double)(bench_now_ns() - t0) / (double)remote_total;
}

/* ---- memory of idle coroutines ------------------------------------------ */

static long
rss_bytes(void)
{
	long pages = 0, rss = 0;
	FILE *f = fopen("/proc/self/statm", "r");

	if (f == NULL)
		return 0;
	if (fscanf(f, "%ld %ld", &pages, &rss) != 2)
		rss = 0;
	fclose(f);
	return rss * sysconf(_SC_PAGESIZE);
}

static void
idle(void *arg)
{
	(void)arg;
	strawi_park(STRAWI_FOREVER);
}

static void
stopper(void *arg)
{
	(void)arg;
	strawi_sched_stop(strawi_sched_self());
}

static double idle_bytes, idle_cpu_ns;

static double
run_idle(void)
{
	const char *env = getenv("STRAW_BENCH_IDLE_N");
	long i, n = env != NULL ? atol(env) : bench_quick() ? 20000 : 100000;
	struct strawi_sched *s;
	long before;
	int64_t t0, t1, c0;
	int rc;

	if ((rc = strawi_sched_new(NULL, &s)) < 0)
		die("sched", rc);
	before = rss_bytes();
	c0 = bench_cpu_now_ns();
	t0 = bench_now_ns();
	for (i = 0; i < n; i++)
		if ((rc = strawi_coro_spawn(s, idle, NULL, 0, NULL)) < 0)
			die("spawn", rc);
	t1 = bench_now_ns();
	idle_cpu_ns = (double)(bench_cpu_now_ns() - c0) / (double)n;
	strawi_coro_spawn(s, stopper, NULL, 0, NULL);
	strawi_sched_run(s); /* all park, then stop */
	idle_bytes = (double)(rss_bytes() - before) / (double)n;
	strawi_sched_free(s);
	return (double)(t1 - t0) / (double)n;
}

typedef double (*bench_fn)(void);

static double
median_of(bench_fn fn)
{
	double v[16];
	int i, n = bench_runs();

	for (i = 0; i < n; i++)
		v[i] = fn();
	return bench_median(v, n);
}

int
main(void)
{
	double ns, bytes[16];
	int rc, i, n;

	iters = bench_quick() ? 200000 : 2000000;
	if ((rc = strawi_sched_new(NULL, &S)) < 0)
		die("sched", rc);
	bench_header("sched");
	report("ctx-switch", "straw", 0, median_of(run_ctx));
	report("ctx-switch", "ucontext", 0, median_of(run_ucontext));
	report("yield", "straw", 0, median_of(run_yield));
	report("park-wake-rtt", "straw", 0, median_of(run_park_wake));
	report("park-wake-rtt", "pthread", 0, median_of(run_pthread_rtt));
	spawn_batch = 100; /* stacks come back hot from the pool */
	report("spawn-exit", "straw", 0, median_of(run_spawn));
	spawn_batch = 10000; /* past the hot pool */
	report("spawn-exit", "straw-burst", 0, median_of(run_spawn));
	report("spawn-exit", "pthread", 0, median_of(run_pthread_spawn));
	report("timer-add-cancel", "straw", 0, median_of(run_timers));
	report("remote-wake", "straw", 0, median_of(run_remote));
	n = bench_runs() > 3 ? 3 : bench_runs();
	{
		double v[16], cpu[16];

		for (i = 0; i < n; i++) {
			v[i] = run_idle();
			bytes[i] = idle_bytes;
			cpu[i] = idle_cpu_ns;
		}
		ns = bench_median(v, n);
		report("idle-bytes", "straw", (long)bench_median(bytes, n), ns);
		report("spawn-fresh", "straw-cpu", 0, bench_median(cpu, n));
	}
	strawi_sched_free(S);
	return 0;
}
