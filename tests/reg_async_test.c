/*
 * The registry client's asynchronous path and reconnection hooks against
 * a real strawd (started by the test, stopped, stalled with SIGSTOP and
 * killed by the pid it got): order and results of requests, callbacks on
 * the I/O thread without the client's locks, submissions that return at
 * once while strawd is stalled, the bounded queue, timeouts, requests
 * resent (or failed) across a kill -9 of strawd, several hooks on one
 * connection, and the failing allocator on every allocation of the path.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <sys/eventfd.h>

#include <straw/alloc.h>

#include "registry/client.h"
#include "registry/client_int.h"
#include "registry_util.h"

/* ---- completions, recorded in order -------------------------------------- */

#define LOG_MAX (2 * REG_ASYNC_MAX + 16)

static struct {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	int n;                 /* completions so far */
	int tag[LOG_MAX];      /* the arg of each, in order */
	int rc[LOG_MAX];       /* its result */
	uint64_t num[LOG_MAX]; /* its number */
	int on_main;           /* one ran on the test's thread */
} lg = {PTHREAD_MUTEX_INITIALIZER,
        PTHREAD_COND_INITIALIZER,
        0,
        {0},
        {0},
        {0},
        0};
static pthread_t main_thread;
static straw_reg *cb_reg;        /* callbacks use it when set */
static int cb_container_ok = -1; /* container id read in a callback */

static void
log_reset(void)
{
	main_thread = pthread_self();
	pthread_mutex_lock(&lg.mu);
	lg.n = 0;
	lg.on_main = 0;
	pthread_mutex_unlock(&lg.mu);
}

static void
on_done(void *arg, struct reg_async_result *res)
{
	int tag = (int)(intptr_t)arg;

	/* No lock of r is held: taking its call lock here would deadlock
	 * otherwise (the test thread does no call meanwhile). */
	if (cb_reg != NULL && tag == 1)
		cb_container_ok = straw_reg_container_id(cb_reg) != 0;
	pthread_mutex_lock(&lg.mu);
	if (lg.n < LOG_MAX) {
		lg.tag[lg.n] = tag;
		lg.rc[lg.n] = res->rc;
		lg.num[lg.n] = res->num;
	}
	lg.n++;
	if (pthread_equal(pthread_self(), main_thread))
		lg.on_main = 1;
	pthread_cond_broadcast(&lg.cv);
	pthread_mutex_unlock(&lg.mu);
}

/* Waits until n completions were logged: 0, or -ETIMEDOUT. */
static int
log_wait(int n, int timeout_ms)
{
	struct timespec ts;
	int rc = 0;

	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += timeout_ms / 1000;
	ts.tv_nsec += (long)(timeout_ms % 1000) * 1000000;
	if (ts.tv_nsec >= 1000000000) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000;
	}
	pthread_mutex_lock(&lg.mu);
	while (lg.n < n && rc == 0)
		rc = pthread_cond_timedwait(&lg.cv, &lg.mu, &ts);
	rc = lg.n >= n ? 0 : -ETIMEDOUT;
	pthread_mutex_unlock(&lg.mu);
	return rc;
}

static int
log_count(void)
{
	int n;

	pthread_mutex_lock(&lg.mu);
	n = lg.n;
	pthread_mutex_unlock(&lg.mu);
	return n;
}

/* Submits a (built by the caller's constructor, rc its result). */
static int
submit(straw_reg *r, int rc, struct reg_async *a, int tag, int timeout_ms,
       unsigned flags)
{
	if (rc < 0)
		return rc;
	rc = reg_async_submit(r, a, timeout_ms, flags, on_done,
	                      (void *)(intptr_t)tag);
	if (rc < 0)
		reg_async_free(a);
	return rc;
}

static int
a_write(straw_reg *r, const char *path, const char *val, int tag)
{
	struct reg_async *a = NULL;
	int rc = reg_async_new_write(&a, path, val, strlen(val));

	return submit(r, rc, a, tag, -1, 0);
}

static int
a_register(straw_reg *r, const char *name, uint32_t proc, int tag)
{
	struct reg_async *a = NULL;
	int rc = reg_async_new_register(&a, name, proc);

	return submit(r, rc, a, tag, -1, 0);
}

static int
a_unregister(straw_reg *r, const char *name, int tag)
{
	struct reg_async *a = NULL;
	int rc = reg_async_new_unregister(&a, name);

	return submit(r, rc, a, tag, -1, 0);
}

static int
a_lookup(straw_reg *r, const char *c, const char *name, int tag)
{
	struct reg_async *a = NULL;
	int rc = reg_async_new_lookup(&a, c, name);

	return submit(r, rc, a, tag, -1, 0);
}

static int
a_publish(straw_reg *r, int tag)
{
	static const uint8_t nil[] = {131, 106};
	struct reg_async *a = NULL;
	int rc = reg_async_new_call(&a, "tube_publish", nil, sizeof(nil), NULL,
	                            0, 64);

	return submit(r, rc, a, tag, -1, 0);
}

/* Waits until r has sent every queued asynchronous request. */
static int
all_sent(straw_reg *r, int timeout_ms)
{
	int64_t end = strawi_deadline_ms(timeout_ms);
	int empty = 0;

	while (!empty && strawi_now_ns() < end) {
		pthread_mutex_lock(&r->amu);
		empty = r->aq_head == NULL;
		pthread_mutex_unlock(&r->amu);
		if (!empty)
			sched_yield();
	}
	return empty ? 0 : -ETIMEDOUT;
}

static void
expect(int i, int tag, int rc)
{
	CHECK_EQ(lg.tag[i], tag);
	CHECK_RC(lg.rc[i], rc);
}

static straw_reg *
joined(const char *name, uint32_t *id)
{
	straw_reg *r = NULL;

	if (straw_reg_connect(&r, NULL, STRAW_REG_NO_AUTOSTART) < 0)
		return NULL;
	if (straw_reg_join(r, name, id) < 0) {
		straw_reg_close(r);
		return NULL;
	}
	return r;
}

/* Requests complete in the order submitted, with strawd's results; the
 * callbacks run on the I/O thread, without the client's locks held. */
CASE(async_order_and_results)
{
	char *v = NULL;
	size_t vl;
	uint32_t id, proc;
	straw_reg *r;
	pid_t pid;

	tu_setup();
	pid = tu_start_strawd();
	CHECK(pid > 0);
	r = joined("asy", &id);
	CHECK(r != NULL);
	log_reset();
	cb_reg = r;
	CHECK_OK(a_write(r, "/t/a", "1", 1));
	CHECK_OK(a_write(r, "/t/a", "2", 2));
	CHECK_OK(a_register(r, "svc", 5, 3));
	CHECK_OK(a_lookup(r, "asy", "svc", 4));
	CHECK_OK(a_register(r, "svc", 6, 5));
	CHECK_OK(a_unregister(r, "svc", 6));
	CHECK_OK(a_lookup(r, "asy", "svc", 7));
	CHECK_OK(a_unregister(r, "svc", 8));
	CHECK_OK(log_wait(8, 10000));
	cb_reg = NULL;
	expect(0, 1, 0);
	expect(1, 2, 0);
	expect(2, 3, 0);
	expect(3, 4, 0);
	CHECK_EQ_U(lg.num[3], 5);
	expect(4, 5, STRAW_ENAMETAKEN);
	expect(5, 6, 0);
	expect(6, 7, STRAW_ENONAME);
	expect(7, 8, STRAW_ENONAME);
	CHECK_EQ(lg.on_main, 0);
	CHECK_EQ(cb_container_ok, 1);
	/* What strawd holds is the last word of each. */
	CHECK_OK(straw_reg_read(r, "/t/a", &v, &vl));
	CHECK_MEM(v, vl, "2", 1);
	straw_free(v);
	CHECK_RC(straw_reg_lookup(r, "asy", "svc", &proc), STRAW_ENONAME);
	/* Bad arguments are refused when building, before anything is
	 * queued. */
	{
		struct reg_async *a = NULL;
		CHECK_RC(reg_async_new_write(&a, "no/slash", "x", 1),
		         STRAW_EBADPATH);
		CHECK_RC(reg_async_new_register(&a, "", 1), -EINVAL);
		CHECK_RC(reg_async_new_call(&a, "", NULL, 0, NULL, 0, 0),
		         -EINVAL);
		CHECK(a == NULL);
	}
	straw_reg_close(r);
	CHECK_EQ(tu_stop_strawd(pid), 0);
	tu_cleanup();
}

/* strawd stopped (SIGSTOP): submissions return at once, a request with a
 * timeout completes with -ETIMEDOUT (its late answer is dropped), the queue holds REG_ASYNC_MAX and
 * refuses the next with -ENOBUFS (a reserved one still goes), and once
 * strawd runs again everything completes, in order. */
CASE(async_stalled_strawd)
{
	struct reg_async *a = NULL;
	straw_reg *r;
	uint32_t id;
	pid_t pid;
	int i, n, tag;

	tu_setup();
	pid = tu_start_strawd();
	CHECK(pid > 0);
	r = joined("stall", &id);
	CHECK(r != NULL);
	log_reset();
	CHECK_OK(kill(pid, SIGSTOP));
	CHECK_OK(a_write(r, "/q/x", "0", 0));
	CHECK_OK(reg_async_new_write(&a, "/q/timed", "t", 1));
	CHECK_OK(submit(r, 0, a, 10000, 100, 0));
	/* Only the timed one can complete while strawd is stopped. */
	CHECK_OK(log_wait(1, 10000));
	expect(0, 10000, -ETIMEDOUT);
	for (n = 1; n < REG_ASYNC_MAX; n++)
		CHECK_OK(a_write(r, "/q/x", "1", n));
	CHECK_RC(a_write(r, "/q/x", "2", -1), -ENOBUFS);
	CHECK_OK(reg_async_new_write(&a, "/q/x", "3", 1));
	CHECK_OK(submit(r, 0, a, REG_ASYNC_MAX, -1, REG_ASYNC_RESERVED));
	CHECK_EQ(log_count(), 1);
	CHECK_OK(kill(pid, SIGCONT));
	CHECK_OK(log_wait(REG_ASYNC_MAX + 2, 30000));
	for (i = 1, tag = 0; i < REG_ASYNC_MAX + 2; i++, tag++)
		expect(i, tag, 0);
	{
		char *v = NULL;
		size_t vl;
		CHECK_OK(straw_reg_read(r, "/q/x", &v, &vl));
		CHECK_MEM(v, vl, "3", 1);
		straw_free(v);
		/* The timed-out write had been sent: a timeout ends the
		 * wait, not the request. */
		CHECK_OK(straw_reg_read(r, "/q/timed", &v, &vl));
		CHECK_MEM(v, vl, "t", 1);
		straw_free(v);
	}
	straw_reg_close(r);
	CHECK_EQ(tu_stop_strawd(pid), 0);
	tu_cleanup();
}

/* Requests sent but unanswered when strawd is killed: the built-in ones
 * are sent again to the new strawd, in order and before anything later;
 * an extension request fails with -ECONNRESET.  Closing completes what is
 * left with -ECANCELED. */
CASE(async_resent_after_kill9)
{
	straw_reg *r;
	uint32_t id, proc;
	char *v = NULL;
	size_t vl;
	pid_t pid;

	tu_setup();
	pid = tu_start_strawd();
	CHECK(pid > 0);
	r = joined("resend", &id);
	CHECK(r != NULL);
	log_reset();
	CHECK_OK(kill(pid, SIGSTOP));
	CHECK_OK(a_register(r, "a", 1, 1));
	CHECK_OK(a_write(r, "/x", "1", 2));
	CHECK_OK(a_publish(r, 3));
	CHECK_OK(a_unregister(r, "a", 4));
	CHECK_OK(a_register(r, "a", 2, 5));
	CHECK_OK(all_sent(r, 10000));
	tu_kill9(pid); /* stopped: none of them was served */
	pid = tu_start_strawd();
	CHECK(pid > 0);
	CHECK_OK(log_wait(5, 10000));
	expect(0, 3, -ECONNRESET);
	expect(1, 1, 0);
	expect(2, 2, 0);
	expect(3, 4, 0);
	expect(4, 5, 0);
	CHECK_EQ(straw_reg_container_id(r), id);
	CHECK_OK(straw_reg_lookup(r, "resend", "a", &proc));
	CHECK_EQ(proc, 2);
	CHECK_OK(straw_reg_read(r, "/x", &v, &vl));
	CHECK_MEM(v, vl, "1", 1);
	straw_free(v);
	/* Unanswered at close: -ECANCELED. */
	CHECK_OK(kill(pid, SIGSTOP));
	CHECK_OK(a_write(r, "/y", "1", 6));
	straw_reg_close(r);
	CHECK_OK(log_wait(6, 1));
	expect(5, 6, -ECANCELED);
	CHECK_OK(kill(pid, SIGCONT));
	CHECK_EQ(tu_stop_strawd(pid), 0);
	tu_cleanup();
}

/* ---- hooks ----------------------------------------------------------------- */

static int hook_pipe[2];

static void
hook(straw_reg *r, void *arg)
{
	char c = (char)(intptr_t)arg;
	struct reg_async *a = NULL;
	char path[16];

	/* A hook may submit (the tube layer announces its tubes so). */
	snprintf(path, sizeof(path), "/hooked/%c", c);
	if (reg_async_new_write(&a, path, &c, 1) == 0 &&
	    reg_async_submit(r, a, -1, 0, on_done, (void *)(intptr_t)c) < 0)
		reg_async_free(a);
	(void)!write(hook_pipe[1], &c, 1);
}

/* The next hook byte within 10 s, or -1. */
static int
next_hook(void)
{
	struct pollfd p = {hook_pipe[0], POLLIN, 0};
	char c;

	if (poll(&p, 1, 10000) != 1 || read(hook_pipe[0], &c, 1) != 1)
		return -1;
	return c;
}

static pid_t
restart(pid_t pid)
{
	tu_kill9(pid);
	return tu_start_strawd();
}

/* Two layers' hooks on one connection both run once after each restart
 * of strawd (kill -9), in the order added, after the container rejoined;
 * a removed hook runs no more. */
CASE(hooks_after_kill9)
{
	void (*fn)(straw_reg *, void *) = hook;
	straw_reg *r;
	uint32_t id;
	char *v = NULL;
	size_t vl;
	pid_t pid;
	int round;
	char c;

	tu_setup();
	log_reset();
	CHECK_OK(pipe2(hook_pipe, O_CLOEXEC | O_NONBLOCK));
	pid = tu_start_strawd();
	CHECK(pid > 0);
	r = joined("hooks", &id);
	CHECK(r != NULL);
	CHECK_OK(reg_client_hook_add(r, fn, (void *)(intptr_t)'A'));
	CHECK_OK(reg_client_hook_add(r, fn, (void *)(intptr_t)'B'));
	CHECK_OK(reg_client_hook_add(r, fn, (void *)(intptr_t)'A')); /* no-op */
	for (round = 0; round < 2; round++) {
		pid = restart(pid);
		CHECK(pid > 0);
		CHECK_EQ(next_hook(), 'A');
		CHECK_EQ(next_hook(), 'B');
		CHECK_EQ(straw_reg_container_id(r), id);
	}
	CHECK_OK(reg_client_hook_remove(r, fn, (void *)(intptr_t)'B'));
	CHECK_RC(reg_client_hook_remove(r, fn, (void *)(intptr_t)'B'), -ENOENT);
	CHECK_OK(reg_client_hook_add(r, fn, (void *)(intptr_t)'C'));
	pid = restart(pid);
	CHECK(pid > 0);
	CHECK_EQ(next_hook(), 'A');
	CHECK_EQ(next_hook(), 'C');
	/* What the hooks submitted reached the new strawd. */
	CHECK_OK(log_wait(6, 10000));
	expect(4, 'A', 0);
	expect(5, 'C', 0);
	CHECK_OK(straw_reg_read(r, "/hooked/C", &v, &vl));
	CHECK_MEM(v, vl, "C", 1);
	straw_free(v);
	straw_reg_close(r);
	CHECK_EQ(read(hook_pipe[0], &c, 1), -1); /* no stray run */
	CHECK_EQ(log_count(), 6);
	close(hook_pipe[0]);
	close(hook_pipe[1]);
	CHECK_EQ(tu_stop_strawd(pid), 0);
	tu_cleanup();
}

/* ---- out of memory --------------------------------------------------------- */

/* Builds request kind k (0 write, 1 register, 2 call with an fd, 3 rm,
 * 4 lookup, 5 unregister). */
static int
build(int k, struct reg_async **a, int fd)
{
	static const uint8_t nil[] = {131, 106};

	switch (k) {
	case 0:
		return reg_async_new_write(a, "/oom/w", "v", 1);
	case 1:
		return reg_async_new_register(a, "oomname", 3);
	case 2:
		return reg_async_new_call(a, "tube_publish", nil, sizeof(nil),
		                          &fd, 1, 64);
	case 3:
		return reg_async_new_rm(a, "/oom/w");
	case 4:
		return reg_async_new_lookup(a, "oom", "oomname");
	default:
		return reg_async_new_unregister(a, "oomname");
	}
}

/* Every allocation of the asynchronous path fails in turn: the call
 * returns -ENOMEM, nothing was sent, no callback runs, nothing leaks
 * (ASan), and the request goes through once memory is back. */
CASE(async_out_of_memory)
{
	straw_allocator fail = {check_failing_realloc, NULL};
	int want_rc[6] = {0, 0, 0, 0, 0, 0};
	straw_reg *r;
	uint32_t id, proc;
	char *v = NULL;
	size_t vl;
	pid_t pid;
	int k, n, failures = 0, fd;

	tu_setup();
	pid = tu_start_strawd();
	CHECK(pid > 0);
	r = joined("oom", &id);
	CHECK(r != NULL);
	fd = eventfd(0, EFD_CLOEXEC);
	CHECK(fd >= 0);
	log_reset();
	for (k = 0; k < 6; k++) {
		for (n = 0;; n++) {
			struct reg_async *a = NULL;
			int rc;

			straw_set_allocator(&fail);
			check_allocs_left = n;
			rc = build(k, &a, fd);
			if (rc == 0)
				rc = reg_async_submit(r, a, -1, 0, on_done,
				                      (void *)(intptr_t)k);
			check_allocs_left = -1;
			straw_set_allocator(NULL);
			if (rc == -ENOMEM) {
				failures++;
				CHECK(a == NULL);
				CHECK_EQ(log_count(), k);
				/* Nothing reached strawd. */
				if (k == 0)
					CHECK_RC(straw_reg_read(r, "/oom/w", &v,
					                        &vl),
					         -ENOENT);
				if (k == 1)
					CHECK_RC(straw_reg_lookup(r, "oom",
					                          "oomname",
					                          &proc),
					         STRAW_ENONAME);
				continue;
			}
			CHECK_OK(rc);
			break;
		}
		CHECK_OK(log_wait(k + 1, 10000));
		expect(k, k, want_rc[k]);
	}
	CHECK(failures >= 6);
	CHECK_EQ_U(lg.num[4], 3); /* the lookup found the name */
	CHECK_RC(straw_reg_lookup(r, "oom", "oomname", &proc), STRAW_ENONAME);
	/* A hook: -ENOMEM, and none added. */
	straw_set_allocator(&fail);
	check_allocs_left = 0;
	CHECK_RC(reg_client_hook_add(r, hook, NULL), -ENOMEM);
	check_allocs_left = -1;
	straw_set_allocator(NULL);
	CHECK_RC(reg_client_hook_remove(r, hook, NULL), -ENOENT);
	/* Nothing allocates once a request is submitted: sent while strawd
	 * is stopped, answered with every allocation failing. */
	{
		struct reg_async *a = NULL;
		CHECK_OK(kill(pid, SIGSTOP));
		CHECK_OK(reg_async_new_register(&a, "late", 9));
		CHECK_OK(submit(r, 0, a, 6, -1, 0));
		CHECK_OK(reg_async_new_lookup(&a, "oom", "late"));
		CHECK_OK(submit(r, 0, a, 7, -1, 0));
		CHECK_OK(all_sent(r, 10000));
		straw_set_allocator(&fail);
		check_allocs_left = 0;
		kill(pid, SIGCONT);
		n = log_wait(8, 10000);
		check_allocs_left = -1;
		straw_set_allocator(NULL);
		CHECK_OK(n);
		expect(6, 6, 0);
		expect(7, 7, 0);
		CHECK_EQ_U(lg.num[7], 9);
	}
	close(fd);
	straw_reg_close(r);
	CHECK_EQ(tu_stop_strawd(pid), 0);
	tu_cleanup();
}

CHECK_MAIN(async_order_and_results, async_stalled_strawd,
           async_resent_after_kill9, hooks_after_kill9, async_out_of_memory)
