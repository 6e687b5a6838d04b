/*
 * bench/local.c - suite "local": message throughput, ping-pong round trip,
 * spawn time and memory per idle process between processes of one
 * container, and the same between processes of one Erlang node
 * (bench/local_erl.erl run by erl in the same invocation, case erl-local).
 *
 * Cases: straw (a message built once and sent by reference, the zero-copy
 * path), straw-build (a fresh message per send from bytes: straw_msg_new,
 * which validates them), straw-fmt (a fresh {msg, I} per send with
 * straw_sendf: the same term Erlang sends), erl-local.  Every figure is the median of bench_runs() runs.
 * spawn: straw (wall time per spawn onto fresh stacks), straw-cpu (the
 * same spawns, CPU time of the container's thread), straw-run and
 * straw-run-cpu (the same, up to the moment every spawned process has run
 * once and parked in receive), straw-pooled (again, on the stacks the
 * first ones left), straw-churn (batches of 1000).
 * page-touch: the floor under a fresh spawn on this machine, the CPU time
 * of the first write to one fresh 4 KiB anonymous page (a page fault that
 * backs it), which every process onto fresh memory costs at least: its
 * stack's top page.
 */
#include <sys/mman.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <straw/straw.h>

#include "bench.h"

static long n_msgs, n_rtt, n_spawn;

static straw_msg *
msg_int(int64_t v)
{
	uint8_t b[7] = {131, 104, 2, 97, 0, 97, 0}; /* {0, V & 255} */
	straw_msg *m = NULL;

	b[6] = (uint8_t)v;
	(void)straw_msg_new(&m, b, sizeof(b)); /* valid bytes: only -ENOMEM */
	return m;
}

/* ---- throughput ------------------------------------------------------ */

struct tput {
	int build;      /* a new message per send */
	straw_pid main; /* told when the sink is done */
	double result;  /* msgs/s */
};

static void
sink(void *arg)
{
	struct tput *t = arg;
	straw_msg *m;
	long i;

	for (i = 0; i < n_msgs; i++) {
		if (straw_receive(&m, STRAW_INFINITY) != 0)
			abort();
		straw_msg_unref(m);
	}
	m = msg_int(0);
	straw_send_take(t->main, m);
}

static void
tput_main(void *arg)
{
	struct tput *t = arg;
	straw_msg *m = msg_int(1), *done;
	straw_pid r;
	int64_t t0;
	long i;

	t->main = straw_self();
	straw_spawn(sink, t, NULL, &r);
	t0 = bench_now_ns();
	if (t->build == 2) {
		for (i = 0; i < n_msgs; i++)
			straw_sendf(r, "{msg, ~i}", (int64_t)i);
	} else if (t->build) {
		for (i = 0; i < n_msgs; i++)
			straw_send_take(r, msg_int(i));
	} else {
		for (i = 0; i < n_msgs; i++)
			straw_send(r, m);
	}
	straw_receive(&done, STRAW_INFINITY);
	t->result = (double)n_msgs / ((double)(bench_now_ns() - t0) / 1e9);
	straw_msg_unref(done);
	straw_msg_unref(m);
}

/* ---- round trip ------------------------------------------------------ */

static void
ponger(void *arg)
{
	straw_pid to = *(straw_pid *)arg;
	straw_msg *m;

	for (;;) {
		if (straw_receive(&m, STRAW_INFINITY) != 0)
			return;
		if (straw_msg_len(m) == 3) { /* the stop atom-less marker */
			straw_msg_unref(m);
			return;
		}
		straw_send_take(to, m); /* bounce the same buffer back */
	}
}

struct rtt {
	double p50, p99; /* ns */
};

static void
rtt_main(void *arg)
{
	struct rtt *res = arg;
	straw_pid self = straw_self(), p;
	enum { BATCH = 1000 };
	long batches = n_rtt / BATCH, b, i;
	double *v = malloc((size_t)batches * sizeof(double));
	straw_msg *m = msg_int(1);
	static const uint8_t stop[] = {131, 97, 0};

	straw_spawn(ponger, &self, NULL, &p);
	for (b = 0; b < batches; b++) {
		int64_t t0 = bench_now_ns();
		for (i = 0; i < BATCH; i++) {
			straw_send_take(p, m);
			if (straw_receive(&m, STRAW_INFINITY) != 0)
				abort();
		}
		v[b] = (double)(bench_now_ns() - t0) / BATCH;
	}
	straw_msg_unref(m);
	if (straw_msg_new(&m, stop, sizeof(stop)) == 0)
		straw_send_take(p, m);
	res->p50 = bench_percentile(v, (size_t)batches, 50);
	res->p99 = bench_percentile(v, (size_t)batches, 99);
	free(v);
}

/* ---- spawn and idle memory ------------------------------------------- */

static long
rss_bytes(void)
{
	long size = 0, rss = 0;
	FILE *f = fopen("/proc/self/statm", "r");

	if (f != NULL) {
		if (fscanf(f, "%ld %ld", &size, &rss) != 2)
			rss = 0;
		fclose(f);
	}
	return rss * sysconf(_SC_PAGESIZE);
}

static void
idle(void *arg)
{
	straw_msg *m;

	(void)arg;
	straw_receive(&m, STRAW_INFINITY); /* ended by the container stop */
}

struct spawn_res {
	long n;               /* processes */
	double ns_per_spawn;  /* time, fresh stacks */
	double cpu_per_spawn; /* CPU time of the thread, fresh stacks */
	double ns_run;        /* time until all ran once and parked */
	double cpu_run;       /* CPU time of the same */
	double ns_reuse;      /* time, stacks reused from the pool */
	double bytes_each;    /* RSS delta per process, after they all ran */
	long failed;          /* spawns that failed */
};

static void
spawn_main(void *arg)
{
	struct spawn_res *r = arg;
	long rss0 = rss_bytes(), i;
	int64_t c0 = bench_cpu_now_ns(), t0 = bench_now_ns();

	for (i = 0; i < r->n; i++)
		if (straw_spawn(idle, NULL, NULL, NULL) < 0)
			r->failed++;
	r->ns_per_spawn = (double)(bench_now_ns() - t0) / (double)r->n;
	r->cpu_per_spawn = (double)(bench_cpu_now_ns() - c0) / (double)r->n;
	/* each runs once and parks in receive (the run queue is FIFO: this
	 * process comes back after all of them) */
	straw_yield();
	r->ns_run = (double)(bench_now_ns() - t0) / (double)r->n;
	r->cpu_run = (double)(bench_cpu_now_ns() - c0) / (double)r->n;
	r->bytes_each = (double)(rss_bytes() - rss0) / (double)r->n;
	/* end them all (their stacks go back to the pool) and spawn again */
	for (i = 0; i < r->n; i++) {
		straw_pid p = {0, 0, (uint32_t)(2 + i)};
		straw_exit_atom(p, "kill");
	}
	straw_yield();
	t0 = bench_now_ns();
	for (i = 0; i < r->n; i++)
		if (straw_spawn(idle, NULL, NULL, NULL) < 0)
			r->failed++;
	r->ns_reuse = (double)(bench_now_ns() - t0) / (double)r->n;
	straw_container_stop(straw_container_self(), 0);
}

/* Spawn cost in steady state: batches of 1000 processes spawned, ended
 * and spawned again, the way short-lived workers come and go. */
static void
churn_main(void *arg)
{
	double *ns = arg;
	enum { BATCH = 1000 };
	straw_pid pids[BATCH];
	long rounds = n_spawn / BATCH, r, i;
	int64_t spent = 0;

	for (r = 0; r < rounds; r++) {
		int64_t t0 = bench_now_ns();
		for (i = 0; i < BATCH; i++)
			straw_spawn(idle, NULL, NULL, &pids[i]);
		spent += bench_now_ns() - t0;
		straw_yield();
		for (i = 0; i < BATCH; i++)
			straw_exit_atom(pids[i], "kill");
		straw_yield();
	}
	*ns = (double)spent / (double)(rounds * BATCH);
}

/* CPU ns of the first write to a fresh anonymous page, pages at a time
 * (one mapping, no huge pages, as the stacks are mapped). */
static double
page_touch_ns(long pages)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE), len = (size_t)pages * page;
	volatile char *m =
	        mmap(NULL, len, PROT_READ | PROT_WRITE,
	             MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	int64_t c0;
	long i;

	if (m == MAP_FAILED)
		return -1;
	(void)madvise((void *)m, len, MADV_NOHUGEPAGE);
	c0 = bench_cpu_now_ns();
	for (i = 0; i < pages; i++)
		m[(size_t)i * page] = 1;
	c0 = bench_cpu_now_ns() - c0;
	munmap((void *)m, len);
	return (double)c0 / (double)pages;
}

/* ---- Erlang ---------------------------------------------------------- */

struct erl_res {
	double tput, rtt, spawn_ns, idle_bytes;
	int ok;
};

static void
run_erl(struct erl_res *e)
{
	char cmd[2048];
	char line[256];
	FILE *p;

	memset(e, 0, sizeof(*e));
	snprintf(cmd, sizeof(cmd),
	         "timeout 300 erl -noshell +P 2000000 -eval '"
	         "{ok, M, B} = compile:file(\"%s/local_erl.erl\", [binary]), "
	         "{module, M} = code:load_binary(M, \"local_erl.erl\", B), "
	         "M:main([%ld, %ld, %ld, %d])' 2>&1",
	         STRAW_BENCH_SRC, n_msgs, n_rtt, n_spawn, bench_runs());
	p = popen(cmd, "r");
	if (p == NULL)
		return;
	while (fgets(line, sizeof(line), p) != NULL) {
		double v;
		char name[64];
		if (sscanf(line, "erl %63s %lf", name, &v) != 2)
			continue;
		if (strcmp(name, "throughput") == 0)
			e->tput = v;
		else if (strcmp(name, "rtt") == 0)
			e->rtt = v;
		else if (strcmp(name, "spawn_ns") == 0)
			e->spawn_ns = v;
		else if (strcmp(name, "idle_bytes") == 0)
			e->idle_bytes = v;
		e->ok++;
	}
	pclose(p);
}

static int
run(straw_proc_fn fn, void *arg)
{
	straw_container_opts o = {
	        STRAW_CONTAINER_LOCAL | STRAW_CONTAINER_NO_SIGNALS, 0, 0, 0};
	return straw_container_run("bench-local", fn, arg, &o);
}

int
main(void)
{
	int runs = bench_runs(), i;
	double v[16], w[16];
	struct erl_res e;

	n_msgs = bench_quick() ? 200000 : 2000000;
	n_rtt = bench_quick() ? 100000 : 1000000;
	n_spawn = bench_quick() ? 100000 : 1000000;
	bench_header("local");

	for (int build = 0; build <= 2; build++) {
		static const char *const cases[] = {"straw", "straw-build",
		                                    "straw-fmt"};
		struct bench_result r =
		        BENCH_RESULT_INIT("local", "throughput", cases[build],
		                          build == 2 ? 9 : 7);
		for (i = 0; i < runs; i++) {
			struct tput t = {build, {0, 0, 0}, 0};
			run(tput_main, &t);
			v[i] = t.result;
		}
		r.msgs_per_s = bench_median(v, runs);
		r.ns_per_op = 1e9 / r.msgs_per_s;
		bench_report(&r);
	}
	{
		struct bench_result r =
		        BENCH_RESULT_INIT("local", "ping-pong", "straw", 7);
		for (i = 0; i < runs; i++) {
			struct rtt t = {0, 0};
			run(rtt_main, &t);
			v[i] = t.p50;
			w[i] = t.p99;
		}
		r.rtt_p50_ns = bench_median(v, runs);
		r.rtt_p99_ns = bench_median(w, runs);
		bench_report(&r);
	}
	{
		struct bench_result r =
		        BENCH_RESULT_INIT("local", "spawn", "straw", 0);
		struct bench_result p =
		        BENCH_RESULT_INIT("local", "spawn", "straw-pooled", 0);
		struct bench_result m =
		        BENCH_RESULT_INIT("local", "idle-bytes", "straw", 0);
		struct bench_result rc =
		        BENCH_RESULT_INIT("local", "spawn", "straw-cpu", 0);
		struct bench_result rr =
		        BENCH_RESULT_INIT("local", "spawn", "straw-run", 0);
		struct bench_result rrc =
		        BENCH_RESULT_INIT("local", "spawn", "straw-run-cpu", 0);
		struct bench_result pt = BENCH_RESULT_INIT(
		        "local", "page-touch", "page-touch", 4096);
		double x[16], y[16], z[16], u[16];
		int sruns = runs < 3 ? runs : 3;
		for (i = 0; i < sruns; i++) {
			struct spawn_res s = {n_spawn, 0, 0, 0, 0, 0, 0, 0};
			run(spawn_main, &s);
			if (s.failed)
				fprintf(stderr, "spawn: %ld failed\n",
				        s.failed);
			v[i] = s.ns_per_spawn;
			w[i] = s.bytes_each;
			x[i] = s.ns_reuse;
			y[i] = s.cpu_per_spawn;
			z[i] = s.ns_run;
			u[i] = s.cpu_run;
		}
		rr.ns_per_op = bench_median(z, sruns);
		rr.msgs_per_s = 1e9 / rr.ns_per_op;
		rrc.ns_per_op = bench_median(u, sruns);
		rrc.msgs_per_s = 1e9 / rrc.ns_per_op;
		/* as many pages as the spawn rows take, as many times */
		for (i = 0; i < sruns; i++)
			z[i] = page_touch_ns(n_spawn);
		pt.ns_per_op = bench_median(z, sruns);
		pt.msgs_per_s = 1e9 / pt.ns_per_op;
		rc.ns_per_op = bench_median(y, sruns);
		rc.msgs_per_s = 1e9 / rc.ns_per_op;
		p.ns_per_op = bench_median(x, sruns);
		p.msgs_per_s = 1e9 / p.ns_per_op;
		r.ns_per_op = bench_median(v, sruns);
		r.msgs_per_s = 1e9 / r.ns_per_op;
		m.size = (long)bench_median(w, sruns);
		bench_report(&pt);
		bench_report(&r);
		bench_report(&rc);
		bench_report(&rr);
		bench_report(&rrc);
		bench_report(&p);
		{
			struct bench_result ch = BENCH_RESULT_INIT(
			        "local", "spawn", "straw-churn", 0);
			for (i = 0; i < runs; i++)
				run(churn_main, &v[i]);
			ch.ns_per_op = bench_median(v, runs);
			ch.msgs_per_s = 1e9 / ch.ns_per_op;
			bench_report(&ch);
		}
		bench_report(&m);
		printf("(spawn: %ld processes onto fresh memory, -run: until "
		       "all ran once and parked; page-touch: CPU time of the "
		       "first write to one fresh page, %ld pages; idle-bytes: "
		       "RSS delta per idle process in the size column)\n",
		       n_spawn, n_spawn);
	}

	run_erl(&e);
	if (e.ok < 4) {
		printf("erl-local: erl did not report (is erl installed?)\n");
		return 0;
	}
	{
		struct bench_result r = BENCH_RESULT_INIT("local", "throughput",
		                                          "erl-local", 0);
		r.msgs_per_s = e.tput;
		r.ns_per_op = 1e9 / e.tput;
		bench_report(&r);
	}
	{
		struct bench_result r =
		        BENCH_RESULT_INIT("local", "ping-pong", "erl-local", 0);
		r.rtt_p50_ns = e.rtt;
		bench_report(&r);
	}
	{
		struct bench_result r =
		        BENCH_RESULT_INIT("local", "spawn", "erl-local", 0);
		struct bench_result m = BENCH_RESULT_INIT(
		        "local", "idle-bytes", "erl-local", (long)e.idle_bytes);
		r.ns_per_op = e.spawn_ns;
		r.msgs_per_s = 1e9 / e.spawn_ns;
		bench_report(&r);
		bench_report(&m);
	}
	return 0;
}
