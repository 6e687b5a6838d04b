/*
 * src/sched/sched.c - coroutines, the run queue, park and wake, posts from
 * other threads, and the scheduler loop.  See sched.h and docs/sched.md.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "sched/ctx.h"
#include "sched/sched_int.h"

#ifdef STRAWI_ASAN
#include <sanitizer/asan_interface.h>
#include <sanitizer/common_interface_defs.h>
#endif
#ifdef STRAWI_TSAN
#include <sanitizer/tsan_interface.h>
#endif

_Thread_local struct strawi_sched *strawi_tls_sched
        __attribute__((tls_model("initial-exec")));
_Thread_local struct strawi_coro *strawi_tls_current
        __attribute__((tls_model("initial-exec")));

/* ---- run queue ---------------------------------------------------------- */

static inline void
rq_push(struct strawi_sched *s, struct strawi_coro *c)
{
	c->rq_next = NULL;
	if (s->rq_tail != NULL)
		s->rq_tail->rq_next = c;
	else
		s->rq_head = c;
	s->rq_tail = c;
	s->stats.runnable++;
}

/*
 * A long run queue (a burst of spawns or wakes) outgrows the caches: every
 * coroutine's top page is then a cache and TLB miss when it runs.  When c
 * is taken, its successor n is next: start loading n's innermost frames
 * and the user space above them (c's run gives them time to arrive), and
 * the struct of the one after n, whose sp and links the next pop reads.
 * n's own struct was requested the same way one pop earlier.  Short
 * queues (a yield between two coroutines) skip it.
 */
#define RQ_PREFETCH_MIN 32 /* a shorter queue stays in cache */

static inline void
rq_prefetch(const struct strawi_sched *s, const struct strawi_coro *n)
{
	const char *sp = n->sp, *user = (const char *)n - s->cfg.user_space;

	__builtin_prefetch(sp, 1);
	__builtin_prefetch(sp + 64, 1);
	__builtin_prefetch(sp + 128, 1);
	__builtin_prefetch(user, 1);
	__builtin_prefetch(user + 64, 1);
	__builtin_prefetch(user + 128, 1);
	if (n->rq_next != NULL)
		__builtin_prefetch(n->rq_next, 1);
}

static inline struct strawi_coro *
rq_pop(struct strawi_sched *s)
{
	struct strawi_coro *c = s->rq_head;

	if (c != NULL) {
		struct strawi_coro *n = c->rq_next;

		s->rq_head = n;
		if (n == NULL)
			s->rq_tail = NULL;
		else if (s->stats.runnable > RQ_PREFETCH_MIN)
			rq_prefetch(s, n);
		s->stats.runnable--;
	}
	return c;
}

/* ---- switching ---------------------------------------------------------- */

/*
 * A coroutine that gives up the CPU switches straight to the next runnable
 * one when there is one and the loop's budget allows, else to the
 * scheduler context.  Whatever runs after a switch first settles the
 * coroutine that switched out (s->prev): releases its stack if it ended,
 * checks an unguarded stack's depth.  The scheduler context itself never
 * sets s->prev, so s->prev == NULL on a coroutine's first entry means it
 * came from the scheduler.
 */

static void settle_prev(struct strawi_sched *s);

static inline void
resumed(struct strawi_sched *s)
{
	if (s->prev != NULL)
		settle_prev(s);
}

/* Tells other threads (the process layer's long-run reporter) what runs:
 * relaxed stores, free on the switch path. */
static inline void
publish_running(struct strawi_sched *s, uint64_t tag)
{
	atomic_store_explicit(&s->run_tag, tag, memory_order_relaxed);
	atomic_store_explicit(
	        &s->run_seq,
	        atomic_load_explicit(&s->run_seq, memory_order_relaxed) + 1,
	        memory_order_relaxed);
}

static inline void
make_current(struct strawi_sched *s, struct strawi_coro *c)
{
	s->current = c;
	strawi_tls_current = c;
	if (c->state != STRAWI_CORO_EXITING)
		c->state = STRAWI_CORO_RUNNING;
	c->switches++;
	s->stats.switches++;
	publish_running(s, c->tag);
}

/* Scheduler context -> coroutine c, until something switches back. */
static inline void
switch_to_coro(struct strawi_sched *s, struct strawi_coro *c)
{
	make_current(s, c);
#ifdef STRAWI_ASAN
	__sanitizer_start_switch_fiber(&s->main_fake_stack,
	                               strawi_stack_lo(s, c),
	                               strawi_stack_len(s, c));
#endif
#ifdef STRAWI_TSAN
	__tsan_switch_to_fiber(c->tsan_fiber, 0);
#endif
	strawi_ctx_switch(&s->main_sp, c->sp);
#ifdef STRAWI_ASAN
	__sanitizer_finish_switch_fiber(s->main_fake_stack, NULL, NULL);
#endif
	s->current = NULL;
	strawi_tls_current = NULL;
	publish_running(s, 0);
	resumed(s);
}

/*
 * The running coroutine c gives up the CPU (it is queued, parked or
 * ending).  Returns when c runs again; a dying coroutine never does.
 */
static inline void
switch_out(struct strawi_sched *s, struct strawi_coro *c, int dying)
{
	struct strawi_coro *next = NULL;

	if (s->budget > 0 &&
	    !atomic_load_explicit(&s->stop, memory_order_relaxed))
		next = rq_pop(s);
	if (next == c) { /* a yield with nobody else to run */
		s->budget--;
		c->state = STRAWI_CORO_RUNNING;
		publish_running(s, c->tag);
		return;
	}
	s->prev = c;
	s->prev_dead = dying;
	if (next != NULL) {
		s->budget--;
		make_current(s, next);
#ifdef STRAWI_ASAN
		__sanitizer_start_switch_fiber(
		        dying ? NULL : &c->san_fake_stack,
		        strawi_stack_lo(s, next), strawi_stack_len(s, next));
#endif
#ifdef STRAWI_TSAN
		__tsan_switch_to_fiber(next->tsan_fiber, 0);
#endif
		strawi_ctx_switch(&c->sp, next->sp);
	} else {
		s->current = NULL;
		strawi_tls_current = NULL;
		publish_running(s, 0);
#ifdef STRAWI_ASAN
		__sanitizer_start_switch_fiber(
		        dying ? NULL : &c->san_fake_stack, s->main_stack_bottom,
		        s->main_stack_size);
#endif
#ifdef STRAWI_TSAN
		__tsan_switch_to_fiber(s->tsan_main, 0);
#endif
		strawi_ctx_switch(&c->sp, s->main_sp);
	}
#ifdef STRAWI_ASAN
	__sanitizer_finish_switch_fiber(c->san_fake_stack, NULL, NULL);
#endif
	resumed(s);
}

/* First code on a fresh coroutine stack (or a restarted one). */
static void
first_entry(struct strawi_sched *s)
{
#ifdef STRAWI_ASAN
	const void *bottom;
	size_t size;

	__sanitizer_finish_switch_fiber(NULL, &bottom, &size);
	if (s->prev == NULL) { /* from the scheduler: its stack */
		s->main_stack_bottom = bottom;
		s->main_stack_size = size;
	}
#endif
	resumed(s);
}

void
strawi_coro_make_runnable(struct strawi_sched *s, struct strawi_coro *c)
{
	if (c->state != STRAWI_CORO_EXITING)
		c->state = STRAWI_CORO_RUNNABLE;
	rq_push(s, c);
}

/* ---- ending ------------------------------------------------------------- */

/* Runs on_exit and switches away for good. */
__attribute__((noreturn)) static void
coro_finish(struct strawi_coro *c)
{
	struct strawi_sched *s = c->sched;

	c->state = STRAWI_CORO_EXITING;
	if (s->cfg.on_exit != NULL && !c->in_on_exit) {
		c->in_on_exit = 1;
		s->cfg.on_exit(c, &c->exit);
	}
	/* Waits armed by on_exit are over. */
	if (strawi_timer_pending(&c->park_timer))
		strawi_timer_cancel(s, &c->park_timer);
	switch_out(s, c, 1);
	STRAWI_PANIC("a dead coroutine was resumed");
}

static void
coro_main(void *arg)
{
	struct strawi_coro *c = arg;

	first_entry(c->sched);
	if (!c->kill_pending) {
		c->started = 1;
		c->fn(c->arg);
		c->exit.reason = STRAWI_EXIT_RETURN;
	}
	coro_finish(c);
}

void
strawi_coro_exit_entry(void *arg)
{
	struct strawi_coro *c = arg;

	first_entry(c->sched);
	coro_finish(c);
}

void
strawi_coro_fault_entry(void *arg)
{
	coro_finish(arg);
}

void
strawi_coro_restart_to_exit(struct strawi_sched *s, struct strawi_coro *c)
{
#ifdef STRAWI_ASAN
	ASAN_UNPOISON_MEMORY_REGION(strawi_stack_lo(s, c),
	                            strawi_stack_len(s, c));
#else
	(void)s;
#endif
	c->sp = strawi_ctx_make(strawi_stack_top(s, c), strawi_coro_exit_entry,
	                        c);
}

/* After s->prev switched out: release it if it ended, check its stack. */
static void
settle_prev(struct strawi_sched *s)
{
	struct strawi_coro *c = s->prev;

	s->prev = NULL;
	if (s->prev_dead) {
		struct strawi_coro *d = c;

		s->prev_dead = 0;
		if (d->all_prev != NULL)
			d->all_prev->all_next = d->all_next;
		else
			s->all = d->all_next;
		if (d->all_next != NULL)
			d->all_next->all_prev = d->all_prev;
		s->stats.exited++;
		if (d->exit.reason == STRAWI_EXIT_OVERFLOW ||
		    d->exit.reason == STRAWI_EXIT_FAULT ||
		    d->exit.reason == STRAWI_EXIT_ABORT)
			s->stats.crashed++;
		s->stats.live--;
#ifdef STRAWI_TSAN
		__tsan_destroy_fiber(d->tsan_fiber);
		d->tsan_fiber = NULL;
#endif
		strawi_stack_put(s, d);
		return;
	}
	if (unlikely(!c->guarded && (char *)c->sp < strawi_stack_lo(s, c) +
	                                                    STRAWI_STACK_RED)) {
		/* An unguarded stack switched out (almost) at its bottom: it
		 * may have overrun it.  End it before it runs again. */
		if (c->state != STRAWI_CORO_EXITING &&
		    strawi_coro_kill(c, 0, NULL) == 0) {
			c->exit.reason = STRAWI_EXIT_OVERFLOW;
			c->exit.addr = c->sp;
		}
	}
}

/* ---- coroutines --------------------------------------------------------- */

int
strawi_coro_spawn(struct strawi_sched *s, strawi_coro_fn fn, void *arg,
                  size_t stack_size, struct strawi_coro **out)
{
	struct strawi_coro *c;
	int cls;

	if (stack_size == 0)
		stack_size = s->cfg.stack_size;
	if (stack_size > STRAWI_STACK_MAX)
		return -EINVAL;
	cls = strawi_stack_class(stack_size, s->page);
	c = strawi_stack_get(s, cls);
	if (c == NULL)
		return -ENOMEM;
	c->sched = s;
	c->rq_next = NULL;
	c->fn = fn;
	c->arg = arg;
	c->user = NULL;
	c->id = s->next_id++;
	c->switches = 0;
	c->tag = 0;
	c->park_result = 0;
	c->wake_pending = 0;
	c->kill_pending = 0;
	c->started = 0;
	c->in_on_exit = 0;
	c->wait_fd = -1;
	c->wait_events = 0;
	strawi_timer_init(&c->park_timer, NULL, c);
	memset(&c->exit, 0, sizeof(c->exit));
	c->san_fake_stack = NULL;
#ifdef STRAWI_ASAN
	ASAN_UNPOISON_MEMORY_REGION(strawi_stack_lo(s, c),
	                            strawi_stack_len(s, c));
	/* poisoned while the stack was in the pool (strawi_stack_put) */
	ASAN_UNPOISON_MEMORY_REGION(strawi_stack_top(s, c), s->cfg.user_space);
#endif
#ifdef STRAWI_TSAN
	c->tsan_fiber = __tsan_create_fiber(0);
#endif
	c->sp = strawi_ctx_make(strawi_stack_top(s, c), coro_main, c);
	c->all_prev = NULL;
	c->all_next = s->all;
	if (s->all != NULL)
		s->all->all_prev = c;
	s->all = c;
	s->stats.spawned++;
	s->stats.live++;
	strawi_coro_make_runnable(s, c);
	if (out != NULL)
		*out = c;
	return 0;
}

struct strawi_sched *
strawi_sched_self(void)
{
	return strawi_tls_sched;
}

void
strawi_yield(void)
{
	struct strawi_sched *s = strawi_tls_sched;
	struct strawi_coro *c = s->current;

	STRAWI_ASSERT(c != NULL);
	strawi_coro_make_runnable(s, c);
	switch_out(s, c, 0);
}

static void
park_timeout(struct strawi_timer *t)
{
	struct strawi_coro *c = t->arg;
	struct strawi_sched *s = c->sched;

	if (c->state != STRAWI_CORO_PARKED)
		return; /* can't happen: the timer is cancelled on wake */
	if (c->wait_fd >= 0)
		strawi_reactor_unwait(s, c);
	c->park_result = -ETIMEDOUT;
	strawi_coro_make_runnable(s, c);
}

int
strawi_park_internal(struct strawi_coro *c, int64_t deadline)
{
	struct strawi_sched *s = c->sched;
	int exiting = c->state == STRAWI_CORO_EXITING;

	if (deadline != STRAWI_FOREVER) {
		c->park_timer.cb = park_timeout;
		if (strawi_timer_add(s, &c->park_timer, deadline) < 0)
			return -ENOMEM;
	}
	c->park_result = 0;
	c->state = STRAWI_CORO_PARKED;
	switch_out(s, c, 0);
	if (exiting)
		c->state = STRAWI_CORO_EXITING;
	if (strawi_timer_pending(&c->park_timer))
		strawi_timer_cancel(s, &c->park_timer);
	return c->park_result;
}

int
strawi_park(int64_t deadline)
{
	struct strawi_sched *s = strawi_tls_sched;
	struct strawi_coro *c = s->current;

	STRAWI_ASSERT(c != NULL);
	if (c->wake_pending) {
		c->wake_pending = 0;
		return 0;
	}
	if (deadline != STRAWI_FOREVER && deadline <= strawi_now_ns())
		return -ETIMEDOUT;
	return strawi_park_internal(c, deadline);
}

void
strawi_sleep_until(int64_t deadline)
{
	struct strawi_sched *s = strawi_tls_sched;
	struct strawi_coro *c = s->current;
	int woken;

	STRAWI_ASSERT(c != NULL);
	woken = c->wake_pending;
	c->wake_pending = 0;
	while (deadline == STRAWI_FOREVER || strawi_now_ns() < deadline) {
		int rc = strawi_park_internal(c, deadline);

		if (rc == 0)
			woken = 1;
		else if (rc == -ENOMEM) /* no room for the timer: poll */
			strawi_yield();
	}
	c->wake_pending = (uint8_t)woken;
}

void
strawi_coro_wake(struct strawi_coro *c)
{
	if (c->state == STRAWI_CORO_PARKED && c->wait_fd < 0) {
		c->park_result = 0;
		strawi_coro_make_runnable(c->sched, c);
	} else if (c->state != STRAWI_CORO_DEAD) {
		c->wake_pending = 1;
	}
}

static void
remote_wake_fn(struct strawi_task *t)
{
	struct strawi_coro *c =
	        (struct strawi_coro *)((char *)t - offsetof(struct strawi_coro,
	                                                    remote_wake));

	/* An exchange, not a store: it reads the waker's exchange, so what
	 * the waker wrote before waking is visible to c. */
	atomic_exchange(&c->remote_queued, 0);
	if (c->state != STRAWI_CORO_DEAD)
		strawi_coro_wake(c);
}

void
strawi_coro_wake_remote(struct strawi_coro *c)
{
	if (atomic_exchange(&c->remote_queued, 1) != 0)
		return;
	c->remote_wake.fn = remote_wake_fn;
	strawi_sched_post(c->sched, &c->remote_wake);
}

void
strawi_coro_exit(intptr_t code, void *data)
{
	struct strawi_sched *s = strawi_tls_sched;
	struct strawi_coro *c = s->current;

	STRAWI_ASSERT(c != NULL);
	if (c->state != STRAWI_CORO_EXITING) {
		c->exit.reason = STRAWI_EXIT_CALLED;
		c->exit.code = code;
		c->exit.data = data;
	}
	coro_finish(c);
}

int
strawi_coro_kill(struct strawi_coro *c, intptr_t code, void *data)
{
	struct strawi_sched *s = c->sched;

	if (c == s->current || c->state == STRAWI_CORO_EXITING ||
	    c->state == STRAWI_CORO_DEAD || c->in_on_exit)
		return -EINVAL;
	if (c->kill_pending)
		return 0;
	c->kill_pending = 1;
	c->exit.reason = STRAWI_EXIT_KILLED;
	c->exit.signo = 0;
	c->exit.addr = NULL;
	c->exit.code = code;
	c->exit.data = data;
	if (c->state == STRAWI_CORO_PARKED) {
		if (c->wait_fd >= 0)
			strawi_reactor_unwait(s, c);
		if (strawi_timer_pending(&c->park_timer))
			strawi_timer_cancel(s, &c->park_timer);
		strawi_coro_make_runnable(s, c);
	}
	/* A coroutine that ran is restarted on a fresh frame that ends it,
	 * its old frames discarded; one that never ran ends in coro_main. */
	if (c->started)
		strawi_coro_restart_to_exit(s, c);
	return 0;
}

void *
strawi_coro_user_space(const struct strawi_coro *c)
{
	return strawi_stack_top(c->sched, c);
}

size_t
strawi_coro_stack_size(const struct strawi_coro *c)
{
	return strawi_stack_len(c->sched, c);
}

/* ---- posts -------------------------------------------------------------- */

void
strawi_sched_post(struct strawi_sched *s, struct strawi_task *t)
{
	struct strawi_task *old = atomic_load(&s->remote);

	do {
		atomic_store_explicit(&t->next, old, memory_order_relaxed);
	} while (!atomic_compare_exchange_weak(&s->remote, &old, t));
	/* Only a sleeping scheduler needs the eventfd: one awake drains the
	 * queue before it sleeps.  Both sides are sequentially consistent:
	 * either this load sees `sleeping`, or the scheduler's check after
	 * setting it sees this post. */
	if (old == NULL && atomic_load(&s->sleeping)) {
		uint64_t one = 1;
		ssize_t n;

		do {
			n = write(s->efd, &one, sizeof(one));
		} while (n < 0 && errno == EINTR);
		/* EAGAIN: the counter is full, so it is readable anyway. */
	}
}

void
strawi_sched_drain_remote(struct strawi_sched *s)
{
	struct strawi_task *list, *rev = NULL, *next;

	if (atomic_load_explicit(&s->remote, memory_order_relaxed) == NULL)
		return;
	list = atomic_exchange(&s->remote, NULL);
	while (list != NULL) { /* LIFO -> posting order */
		next = atomic_load_explicit(&list->next, memory_order_relaxed);
		atomic_store_explicit(&list->next, rev, memory_order_relaxed);
		rev = list;
		list = next;
	}
	while (rev != NULL) {
		next = atomic_load_explicit(&rev->next, memory_order_relaxed);
		s->stats.remote_wakes++;
		rev->fn(rev); /* may post rev again: next was read first */
		rev = next;
	}
}

/* ---- the scheduler ------------------------------------------------------ */

int
strawi_sched_new(const struct strawi_sched_config *config,
                 struct strawi_sched **out)
{
	struct strawi_sched *s;
	long page = sysconf(_SC_PAGESIZE);
	int rc;

	s = straw_calloc(1, sizeof(*s));
	if (s == NULL)
		return -ENOMEM;
	if (config != NULL)
		s->cfg = *config;
	if (s->cfg.stack_size == 0)
		s->cfg.stack_size = STRAWI_STACK_DEFAULT;
	if (s->cfg.stack_size > STRAWI_STACK_MAX ||
	    s->cfg.user_space > STRAWI_USER_SPACE_MAX) {
		straw_free(s);
		return -EINVAL;
	}
	s->cfg.user_space = (s->cfg.user_space + 15) & ~(size_t)15;
	if (s->cfg.pool_hot == 0)
		s->cfg.pool_hot = 256;
	s->page = page > 0 ? (size_t)page : 4096;
	s->next_id = 1;
	s->epfd = -1;
	s->efd = -1;
	atomic_init(&s->stop, 0);
	atomic_init(&s->sleeping, 0);
	atomic_init(&s->remote, NULL);
	atomic_init(&s->run_tag, 0);
	atomic_init(&s->run_seq, 0);
	rc = strawi_fault_install();
	if (rc == 0)
		rc = strawi_reactor_init(s);
	if (rc < 0) {
		strawi_reactor_fini(s);
		straw_free(s);
		return rc;
	}
	*out = s;
	return 0;
}

/* Whether anything can still happen without a new call from outside. */
static int
has_work(const struct strawi_sched *s)
{
	if (atomic_load_explicit(&s->remote, memory_order_relaxed) != NULL ||
	    s->heap_len > 0 || s->fd_waits > 0)
		return 1;
	if (s->shutting_down) /* only what can still end by itself */
		return 0;
	return s->stats.live > 0 || s->watches > 0 || s->holds > 0;
}

int
strawi_sched_run(struct strawi_sched *s)
{
	int rc;

	if (s->running || strawi_tls_sched != NULL)
		return -EBUSY;
	rc = strawi_fault_thread_enter(s);
	if (rc < 0)
		return rc;
	s->running = 1;
	s->stopped = 0;
	strawi_tls_sched = s;
#ifdef STRAWI_TSAN
	s->tsan_main = __tsan_get_current_fiber();
#endif
	for (;;) {
		struct strawi_coro *c;
		int64_t deadline;

		if (atomic_load_explicit(&s->stop, memory_order_relaxed)) {
			s->stopped = 1;
			break;
		}
		s->budget = STRAWI_RUN_BUDGET;
		while (s->budget > 0 &&
		       !atomic_load_explicit(&s->stop, memory_order_relaxed) &&
		       (c = rq_pop(s)) != NULL) {
			s->budget--;
			switch_to_coro(s, c);
		}
		strawi_sched_drain_remote(s);
		if (s->heap_len > 0)
			strawi_timers_fire(s, strawi_now_ns());
		if (s->rq_head != NULL || atomic_load(&s->stop))
			deadline = 0;
		else if (!has_work(s))
			break;
		else if (s->heap_len > 0)
			deadline = s->heap[0].deadline;
		else
			deadline = STRAWI_FOREVER;
		if (deadline != 0) {
			strawi_stack_trim(s);
			atomic_store(&s->sleeping, 1);
			if (atomic_load(&s->remote) != NULL)
				deadline = 0; /* posted meanwhile: no sleep */
		}
		strawi_reactor_poll(s, deadline);
		atomic_store_explicit(&s->sleeping, 0, memory_order_relaxed);
	}
	strawi_stack_trim(s);
	atomic_store(&s->stop, 0);
	strawi_tls_sched = NULL;
	s->running = 0;
	strawi_fault_thread_leave(s);
	return 0;
}

void
strawi_sched_stop(struct strawi_sched *s)
{
	uint64_t one = 1;
	ssize_t n;

	atomic_store(&s->stop, 1);
	do {
		n = write(s->efd, &one, sizeof(one));
	} while (n < 0 && errno == EINTR);
}

int
strawi_sched_stopped(const struct strawi_sched *s)
{
	return s->stopped;
}

void
strawi_sched_hold(struct strawi_sched *s)
{
	s->holds++;
}

void
strawi_sched_release(struct strawi_sched *s)
{
	STRAWI_ASSERT(s->holds > 0);
	s->holds--;
}

void
strawi_sched_set_user(struct strawi_sched *s, void *user)
{
	s->user = user;
}

void *
strawi_sched_user(const struct strawi_sched *s)
{
	return s->user;
}

struct strawi_coro *
strawi_sched_first(const struct strawi_sched *s)
{
	return s->all;
}

void
strawi_sched_stats(const struct strawi_sched *s, struct strawi_sched_stats *out)
{
	*out = s->stats;
	out->timers = s->heap_len;
	out->fd_waits = s->fd_waits;
	out->stacks_mapped = s->stacks_mapped;
	out->stacks_guarded = s->stacks_guarded;
}

void
strawi_sched_free(struct strawi_sched *s)
{
	struct strawi_coro *c;

	if (s == NULL)
		return;
	STRAWI_ASSERT(!s->running);
	/* End every coroutine, running their on_exit hooks. */
	for (c = s->all; c != NULL; c = c->all_next) {
		if (c->state == STRAWI_CORO_EXITING)
			continue;
		if (strawi_coro_kill(c, 0, NULL) == 0)
			c->exit.reason = STRAWI_EXIT_SHUTDOWN;
	}
	strawi_timers_free(s); /* drop pending timers without firing */
	/* Runs until nothing can still happen; a coroutine parked forever in
	 * its on_exit is abandoned with its stack. */
	s->shutting_down = 1;
	atomic_store(&s->stop, 0);
	strawi_sched_run(s);
	strawi_reactor_fini(s);
	strawi_fault_free(s);
	strawi_stack_free_all(s);
	straw_free(s->heap);
	straw_free(s);
}

void
strawi_coro_set_tag(struct strawi_coro *c, uint64_t tag)
{
	c->tag = tag;
}

void
strawi_sched_running(const struct strawi_sched *s, uint64_t *tag, uint64_t *seq)
{
	*tag = atomic_load_explicit(&s->run_tag, memory_order_relaxed);
	*seq = atomic_load_explicit(&s->run_seq, memory_order_relaxed);
}
