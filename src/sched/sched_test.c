/* src/sched/sched_test.c - coroutines, run queue, park/wake, kill, exit,
 * stop, holds, stack pooling. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "sched/sched.h"
#include "testing/check.h"

static struct strawi_sched *S;
static int order[64], norder;
static struct strawi_exit_info exits[64];
static uint64_t exit_ids[64];
static int nexits;

static void
on_exit_record(struct strawi_coro *c, const struct strawi_exit_info *e)
{
	if (nexits < 64) {
		exit_ids[nexits] = strawi_coro_id(c);
		exits[nexits++] = *e;
	}
}

static struct strawi_sched *
new_sched(void)
{
	struct strawi_sched_config cfg;

	memset(&cfg, 0, sizeof(cfg));
	cfg.on_exit = on_exit_record;
	norder = 0;
	nexits = 0;
	CHECK_OK(strawi_sched_new(&cfg, &S));
	return S;
}

static void
note(void *arg)
{
	order[norder++] = (int)(intptr_t)arg;
}

CASE(spawn_runs_in_order_and_ends)
{
	struct strawi_sched_stats st;
	int i;

	new_sched();
	CHECK(strawi_sched_user(S) == NULL);
	strawi_sched_set_user(S, &norder);
	CHECK(strawi_sched_user(S) == &norder);
	CHECK(strawi_coro_self() == NULL);
	CHECK(strawi_sched_self() == NULL);
	for (i = 0; i < 5; i++)
		CHECK_OK(strawi_coro_spawn(S, note, (void *)(intptr_t)i, 0,
		                           NULL));
	strawi_sched_stats(S, &st);
	CHECK_EQ(st.live, 5);
	CHECK_EQ(st.runnable, 5);
	CHECK_RC(strawi_sched_run(S), 0);
	CHECK_EQ(strawi_sched_stopped(S), 0);
	CHECK_EQ(norder, 5);
	for (i = 0; i < 5; i++)
		CHECK_EQ(order[i], i);
	CHECK_EQ(nexits, 5);
	CHECK_EQ(exits[0].reason, STRAWI_EXIT_RETURN);
	strawi_sched_stats(S, &st);
	CHECK_EQ(st.live, 0);
	CHECK_EQ(st.spawned, 5);
	CHECK_EQ(st.exited, 5);
	CHECK_EQ(st.crashed, 0);
	CHECK_EQ(st.switches, 5);
	strawi_sched_free(S);
}

static void
yielder(void *arg)
{
	int id = (int)(intptr_t)arg, i;

	for (i = 0; i < 3; i++) {
		order[norder++] = id * 10 + i;
		strawi_yield();
	}
}

CASE(yield_round_robin)
{
	static const int want[] = {10, 20, 11, 21, 12, 22};
	struct strawi_coro *a;
	size_t i;

	new_sched();
	CHECK_OK(strawi_coro_spawn(S, yielder, (void *)1, 0, &a));
	CHECK_OK(strawi_coro_spawn(S, yielder, (void *)2, 0, NULL));
	CHECK_RC(strawi_sched_run(S), 0);
	CHECK_EQ(norder, 6);
	for (i = 0; i < STRAW_ARRAY_LEN(want); i++)
		CHECK_EQ(order[i], want[i]);
	strawi_sched_free(S);
}

static struct strawi_coro *parker_c;
static int park_rc;

static void
parker(void *arg)
{
	(void)arg;
	parker_c = strawi_coro_self();
	CHECK_EQ(strawi_coro_state(parker_c), STRAWI_CORO_RUNNING);
	order[norder++] = 1;
	park_rc = strawi_park(STRAWI_FOREVER);
	order[norder++] = 3;
}

static void
waker(void *arg)
{
	(void)arg;
	CHECK_EQ(strawi_coro_state(parker_c), STRAWI_CORO_PARKED);
	order[norder++] = 2;
	strawi_coro_wake(parker_c);
	CHECK_EQ(strawi_coro_state(parker_c), STRAWI_CORO_RUNNABLE);
	strawi_coro_wake(parker_c); /* leaves a permit, not a second run */
}

CASE(park_and_wake)
{
	new_sched();
	park_rc = 99;
	CHECK_OK(strawi_coro_spawn(S, parker, NULL, 0, NULL));
	CHECK_OK(strawi_coro_spawn(S, waker, NULL, 0, NULL));
	CHECK_RC(strawi_sched_run(S), 0);
	CHECK_EQ(norder, 3);
	CHECK_EQ(order[0], 1);
	CHECK_EQ(order[1], 2);
	CHECK_EQ(order[2], 3);
	CHECK_RC(park_rc, 0);
	strawi_sched_free(S);
}

static int64_t park_elapsed;
static uint64_t switches_before, switches_after;

static void
timed_parker(void *arg)
{
	int64_t ms = (int64_t)(intptr_t)arg, t0 = strawi_now_ns();
	struct strawi_coro *self = strawi_coro_self();

	switches_before = strawi_coro_switches(self);
	park_rc = strawi_park(ms < 0 ? 0 : t0 + ms * 1000000);
	switches_after = strawi_coro_switches(self);
	park_elapsed = strawi_now_ns() - t0;
}

CASE(park_timeout)
{
	new_sched();
	CHECK_OK(strawi_coro_spawn(S, timed_parker, (void *)20, 0, NULL));
	CHECK_RC(strawi_sched_run(S), 0);
	CHECK_RC(park_rc, -ETIMEDOUT);
	CHECK(park_elapsed >= 20 * 1000000);
	CHECK(park_elapsed < 2000 * 1000000LL);
	CHECK_EQ(switches_after, switches_before + 1);
	strawi_sched_free(S);
}

CASE(park_poll_does_not_switch)
{
	new_sched();
	CHECK_OK(strawi_coro_spawn(S, timed_parker, (void *)-1, 0, NULL));
	CHECK_RC(strawi_sched_run(S), 0);
	CHECK_RC(park_rc, -ETIMEDOUT);
	CHECK_EQ(switches_after, switches_before);
	strawi_sched_free(S);
}

static void
permit_user(void *arg)
{
	struct strawi_coro *self = strawi_coro_self();

	(void)arg;
	strawi_coro_wake(self); /* a wake before the park */
	switches_before = strawi_coro_switches(self);
	park_rc = strawi_park(STRAWI_FOREVER);
	switches_after = strawi_coro_switches(self);
	/* The permit is used up: this one times out. */
	order[norder++] = strawi_park(strawi_now_ns() + 1000000);
}

CASE(wake_before_park_is_kept)
{
	new_sched();
	CHECK_OK(strawi_coro_spawn(S, permit_user, NULL, 0, NULL));
	CHECK_RC(strawi_sched_run(S), 0);
	CHECK_RC(park_rc, 0);
	CHECK_EQ(switches_after, switches_before);
	CHECK_EQ(norder, 1);
	CHECK_RC(order[0], -ETIMEDOUT);
	strawi_sched_free(S);
}

static void
forever(void *arg)
{
	(void)arg;
	order[norder++] = 1;
	strawi_park(STRAWI_FOREVER);
	order[norder++] = 2; /* never: killed while parked */
}

static struct strawi_coro *victim;

static void
killer(void *arg)
{
	int x = 7;

	(void)arg;
	CHECK_RC(strawi_coro_kill(strawi_coro_self(), 1, NULL), -EINVAL);
	CHECK_RC(strawi_coro_kill(victim, 42, &x), 0);
	CHECK_RC(strawi_coro_kill(victim, 43, NULL), 0); /* ignored */
}

CASE(kill_parked)
{
	new_sched();
	CHECK_OK(strawi_coro_spawn(S, forever, NULL, 0, &victim));
	CHECK_OK(strawi_coro_spawn(S, killer, NULL, 0, NULL));
	CHECK_RC(strawi_sched_run(S), 0);
	CHECK_EQ(norder, 1);
	CHECK_EQ(nexits, 2);
	CHECK_EQ(exits[0].reason, STRAWI_EXIT_RETURN); /* the killer */
	CHECK_EQ(exits[1].reason, STRAWI_EXIT_KILLED);
	CHECK_EQ(exits[1].code, 42);
	CHECK(exits[1].data != NULL);
	strawi_sched_free(S);
}

static void
killer_first(void *arg)
{
	(void)arg;
	CHECK_RC(strawi_coro_kill(victim, 5, NULL), 0);
}

CASE(kill_before_first_run)
{
	new_sched();
	CHECK_OK(strawi_coro_spawn(S, killer_first, NULL, 0, NULL));
	CHECK_OK(strawi_coro_spawn(S, note, (void *)9, 0, &victim));
	CHECK_RC(strawi_sched_run(S), 0);
	CHECK_EQ(norder, 0); /* note() never ran */
	CHECK_EQ(nexits, 2);
	CHECK_EQ(exits[1].reason, STRAWI_EXIT_KILLED);
	CHECK_EQ(exits[1].code, 5);
	strawi_sched_free(S);
}

static void
exiter(void *arg)
{
	(void)arg;
	strawi_coro_exit(77, (void *)&order);
}

CASE(exit_called)
{
	new_sched();
	CHECK_OK(strawi_coro_spawn(S, exiter, NULL, 0, NULL));
	CHECK_RC(strawi_sched_run(S), 0);
	CHECK_EQ(nexits, 1);
	CHECK_EQ(exits[0].reason, STRAWI_EXIT_CALLED);
	CHECK_EQ(exits[0].code, 77);
	CHECK(exits[0].data == (void *)&order);
	strawi_sched_free(S);
}

static void
stopper(void *arg)
{
	(void)arg;
	order[norder++] = 1;
	strawi_sched_stop(strawi_sched_self());
	strawi_yield();
	order[norder++] = 2;
}

CASE(stop_and_run_again)
{
	new_sched();
	CHECK_OK(strawi_coro_spawn(S, stopper, NULL, 0, NULL));
	CHECK_RC(strawi_sched_run(S), 0);
	CHECK_EQ(strawi_sched_stopped(S), 1);
	CHECK_EQ(norder, 1);
	CHECK_RC(strawi_sched_run(S), 0);
	CHECK_EQ(strawi_sched_stopped(S), 0);
	CHECK_EQ(norder, 2);
	strawi_sched_free(S);
}

static void
nested_run(void *arg)
{
	(void)arg;
	order[norder++] = strawi_sched_run(strawi_sched_self());
}

CASE(run_from_coroutine_is_refused)
{
	new_sched();
	CHECK_OK(strawi_coro_spawn(S, nested_run, NULL, 0, NULL));
	CHECK_RC(strawi_sched_run(S), 0);
	CHECK_EQ(norder, 1);
	CHECK_RC(order[0], -EBUSY);
	strawi_sched_free(S);
}

CASE(free_kills_the_living)
{
	new_sched();
	CHECK_OK(strawi_coro_spawn(S, forever, NULL, 0, NULL));
	CHECK_OK(strawi_coro_spawn(S, forever, NULL, 0, NULL));
	CHECK_OK(strawi_coro_spawn(S, note, (void *)3, 0, NULL));
	strawi_sched_stop(S);
	CHECK_RC(strawi_sched_run(S), 0); /* stopped before anything ran */
	CHECK_EQ(norder, 0);
	strawi_sched_free(S);
	CHECK_EQ(nexits, 3);
	CHECK_EQ(exits[0].reason, STRAWI_EXIT_SHUTDOWN);
	CHECK_EQ(exits[1].reason, STRAWI_EXIT_SHUTDOWN);
	CHECK_EQ(exits[2].reason, STRAWI_EXIT_SHUTDOWN);
	CHECK_EQ(norder, 0);
}

static void
hold_releaser(struct strawi_timer *t)
{
	(void)t;
	order[norder++] = 5;
	strawi_sched_release(S);
}

CASE(hold_keeps_running)
{
	struct strawi_timer t;

	new_sched();
	strawi_sched_hold(S);
	strawi_timer_init(&t, hold_releaser, NULL);
	CHECK_OK(strawi_timer_add(S, &t, strawi_now_ns() + 2000000));
	CHECK_RC(strawi_sched_run(S), 0); /* returns once released */
	CHECK_EQ(norder, 1);
	strawi_sched_free(S);
}

static void
nothing(void *arg)
{
	(void)arg;
}

CASE(stacks_are_pooled)
{
	struct strawi_sched_stats st;
	int round, i;
	uint64_t mapped = 0;

	new_sched();
	for (round = 0; round < 20; round++) {
		for (i = 0; i < 100; i++)
			CHECK_OK(strawi_coro_spawn(S, nothing, NULL, 0, NULL));
		CHECK_RC(strawi_sched_run(S), 0);
		strawi_sched_stats(S, &st);
		if (round == 0)
			mapped = st.stacks_mapped;
		CHECK_EQ(st.stacks_mapped, mapped); /* reused, not mapped */
	}
	CHECK_EQ(st.spawned, 2000);
	CHECK_EQ(st.exited, 2000);
	CHECK_OK(strawi_coro_spawn(S, nothing, NULL, 16 * 1024 * 1024, NULL));
	CHECK_RC(strawi_coro_spawn(S, nothing, NULL,
	                           (size_t)STRAWI_STACK_MAX + 1, NULL),
	         -EINVAL);
	CHECK_RC(strawi_sched_run(S), 0);
	strawi_sched_free(S);
}

static size_t idle_resident, idle_size;

static void
idle_parker(void *arg)
{
	(void)arg;
	strawi_park(STRAWI_FOREVER);
}

static void
measure(void *arg)
{
	struct strawi_coro *c = arg;

	idle_resident = strawi_coro_stack_resident(c);
	idle_size = strawi_coro_stack_size(c);
	strawi_coro_wake(c);
}

CASE(idle_coroutine_touches_one_page)
{
	struct strawi_coro *c;
	long page = sysconf(_SC_PAGESIZE);

	new_sched();
	CHECK_OK(strawi_coro_spawn(S, idle_parker, NULL, 0, &c));
	CHECK_OK(strawi_coro_spawn(S, measure, c, 0, NULL));
	CHECK_RC(strawi_sched_run(S), 0);
	CHECK(idle_size >= STRAWI_STACK_DEFAULT - 1024);
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
	CHECK(idle_resident >= (size_t)page &&
	      idle_resident <= 4 * (size_t)page);
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
	CHECK(idle_resident >= (size_t)page &&
	      idle_resident <= 4 * (size_t)page);
#else
	CHECK_EQ(idle_resident, page);
#endif
#else
	CHECK_EQ(idle_resident, page);
#endif
	strawi_sched_free(S);
}

static int timer_fired[4], nfired;

static void
timer_cb(struct strawi_timer *t)
{
	timer_fired[nfired++] = (int)(intptr_t)t->arg;
}

CASE(timers_fire_in_deadline_order)
{
	struct strawi_timer t[4];
	int64_t now = strawi_now_ns();
	int i;

	new_sched();
	nfired = 0;
	for (i = 0; i < 4; i++)
		strawi_timer_init(&t[i], timer_cb, (void *)(intptr_t)i);
	CHECK_OK(strawi_timer_add(S, &t[0], now + 3000000));
	CHECK_OK(strawi_timer_add(S, &t[1], now + 1000000));
	CHECK_OK(strawi_timer_add(S, &t[2], now + 1000000)); /* tie: after 1 */
	CHECK_OK(strawi_timer_add(S, &t[3], now + 2000000));
	CHECK_EQ(strawi_timer_cancel(S, &t[3]), 1);
	CHECK_EQ(strawi_timer_cancel(S, &t[3]), 0);
	CHECK(!strawi_timer_pending(&t[3]));
	CHECK_RC(strawi_sched_run(S), 0);
	CHECK_EQ(nfired, 3);
	CHECK_EQ(timer_fired[0], 1);
	CHECK_EQ(timer_fired[1], 2);
	CHECK_EQ(timer_fired[2], 0);
	CHECK(strawi_now_ns() - now >= 3000000);
	strawi_sched_free(S);
}

static struct strawi_coro *sleeper_c;

static void
sleeper(void *arg)
{
	int64_t t0 = strawi_now_ns();

	(void)arg;
	sleeper_c = strawi_coro_self();
	strawi_sleep_until(t0 + 10 * 1000000);
	park_elapsed = strawi_now_ns() - t0;
	park_rc = strawi_park(0); /* the wake that came while asleep */
	order[norder++] = strawi_park(0);
}

static void
sleep_waker(void *arg)
{
	struct strawi_coro *c;
	int n = 0;

	(void)arg;
	for (c = strawi_sched_first(S); c != NULL; c = strawi_coro_next(c))
		n++;
	order[norder++] = n;
	strawi_coro_wake(sleeper_c);
	strawi_coro_wake(sleeper_c);
}

CASE(sleep_keeps_wakes)
{
	new_sched();
	CHECK_OK(strawi_coro_spawn(S, sleeper, NULL, 0, NULL));
	CHECK_OK(strawi_coro_spawn(S, sleep_waker, NULL, 0, NULL));
	CHECK_RC(strawi_sched_run(S), 0);
	CHECK(park_elapsed >= 10 * 1000000);
	CHECK_EQ(norder, 2);
	CHECK_EQ(order[0], 2); /* two live coroutines */
	CHECK_RC(park_rc, 0);
	CHECK_RC(order[1], -ETIMEDOUT); /* one permit only */
	strawi_sched_free(S);
}

/* on_exit may park; the coroutine cannot be killed meanwhile. */
static int hook_steps;
static struct strawi_coro *hooked;

static void
parking_hook(struct strawi_coro *c, const struct strawi_exit_info *e)
{
	(void)e;
	if (strawi_coro_user(c) == NULL)
		return;
	hook_steps++;
	CHECK_EQ(strawi_coro_state(c), STRAWI_CORO_EXITING);
	CHECK_RC(strawi_park(strawi_now_ns() + 2000000), -ETIMEDOUT);
	CHECK_EQ(strawi_coro_state(c), STRAWI_CORO_EXITING);
	hook_steps++;
}

static void
marked(void *arg)
{
	(void)arg;
	hooked = strawi_coro_self();
	strawi_coro_set_user(hooked, &hook_steps);
}

static void
kill_hooked(void *arg)
{
	(void)arg;
	strawi_yield(); /* marked() ends and parks in its hook */
	order[norder++] = strawi_coro_kill(hooked, 1, NULL);
}

CASE(on_exit_may_park)
{
	struct strawi_sched_config cfg;

	memset(&cfg, 0, sizeof(cfg));
	cfg.on_exit = parking_hook;
	norder = 0;
	CHECK_OK(strawi_sched_new(&cfg, &S));
	CHECK_OK(strawi_coro_spawn(S, marked, NULL, 0, NULL));
	CHECK_OK(strawi_coro_spawn(S, kill_hooked, NULL, 0, NULL));
	CHECK_RC(strawi_sched_run(S), 0);
	CHECK_EQ(hook_steps, 2);
	CHECK_EQ(norder, 1);
	CHECK_RC(order[0], -EINVAL);
	strawi_sched_free(S);
}

/* Many coroutines parked at once, then all woken; every stack guarded
 * (by default) and each idle one resident in one page. */
enum { MANY = 20000 };
static struct strawi_coro *many[MANY];
static long many_done;

static void
many_parker(void *arg)
{
	(void)arg;
	CHECK_RC(strawi_park(STRAWI_FOREVER), 0);
	many_done++;
}

static void
many_waker(void *arg)
{
	int i;

	(void)arg;
	for (i = 0; i < MANY; i++)
		strawi_coro_wake(many[i]);
}

CASE(many_parked_coroutines)
{
	struct strawi_sched_stats st;
	int i;

	new_sched();
	many_done = 0;
	for (i = 0; i < MANY; i++)
		CHECK_OK(strawi_coro_spawn(S, many_parker, NULL, 0, &many[i]));
	strawi_sched_stop(S);
	CHECK_RC(strawi_sched_run(S), 0); /* stopped: nobody ran yet */
	CHECK_OK(strawi_coro_spawn(S, many_waker, NULL, 0, NULL));
	/* Only the waker is left runnable once all have parked. */
	CHECK_RC(strawi_sched_run(S), 0);
	CHECK_EQ(many_done, MANY);
	strawi_sched_stats(S, &st);
	CHECK_EQ(st.live, 0);
	CHECK_EQ(st.exited, MANY + 1);
	CHECK(st.stacks_mapped >= MANY);
	CHECK(st.stacks_guarded > 0);
	strawi_sched_free(S);
}

/* Out of memory: every failing call reports -ENOMEM and changes nothing. */
CASE(out_of_memory)
{
	straw_allocator a = {check_failing_realloc, NULL};
	struct strawi_sched_stats st;
	struct strawi_timer t[65];
	struct strawi_coro *c = NULL;
	int i;

	straw_set_allocator(&a);
	check_allocs_left = 0;
	S = NULL;
	CHECK_RC(strawi_sched_new(NULL, &S), -ENOMEM);
	CHECK(S == NULL);
	check_allocs_left = -1;
	CHECK_OK(strawi_sched_new(NULL, &S));
	/* The heap starts with 64 entries; the 65th add must grow it. */
	for (i = 0; i < 65; i++)
		strawi_timer_init(&t[i], NULL, NULL);
	for (i = 0; i < 64; i++)
		CHECK_OK(strawi_timer_add(S, &t[i], STRAWI_FOREVER - 1));
	check_allocs_left = 0;
	CHECK_RC(strawi_timer_add(S, &t[64], 1), -ENOMEM);
	CHECK(!strawi_timer_pending(&t[64]));
	/* A first spawn needs a slab (and its bookkeeping). */
	CHECK_RC(strawi_coro_spawn(S, nothing, NULL, 0, &c), -ENOMEM);
	CHECK(c == NULL);
	strawi_sched_stats(S, &st);
	CHECK_EQ(st.live, 0);
	CHECK_EQ(st.timers, 64);
	CHECK_EQ(st.stacks_mapped, 0);
	check_allocs_left = -1;
	CHECK_OK(strawi_coro_spawn(S, nothing, NULL, 0, &c));
	for (i = 0; i < 64; i++)
		CHECK_EQ(strawi_timer_cancel(S, &t[i]), 1);
	CHECK_RC(strawi_sched_run(S), 0);
	strawi_sched_free(S);
	straw_set_allocator(NULL);
}

/*
 * Random mix: coroutines yield, park with and without deadlines, sleep,
 * wait on pipes, wake, kill and spawn each other and end in every way.
 * The counters must add up and every coroutine must end once.
 */
enum { STRESS_SLOTS = 64 };
static struct strawi_coro *slot_coro[STRESS_SLOTS];
static uint64_t slot_id[STRESS_SLOTS];
static int stress_pipe[2];
static long stress_ops, stress_spawned, stress_ended, stress_reasons[8];
static uint64_t stress_rng = 0x9E3779B97F4A7C15ULL;

static uint64_t
stress_rand(void)
{
	stress_rng ^= stress_rng << 13;
	stress_rng ^= stress_rng >> 7;
	stress_rng ^= stress_rng << 17;
	return stress_rng;
}

static void stress_body(void *arg);

static void
stress_spawn(void)
{
	int i = (int)(stress_rand() % STRESS_SLOTS);
	struct strawi_coro *c;

	if (slot_coro[i] != NULL || stress_ops <= 0)
		return;
	CHECK_OK(strawi_coro_spawn(S, stress_body, (void *)(intptr_t)i,
	                           (stress_rand() & 1) ? 16384 : 0, &c));
	slot_coro[i] = c;
	slot_id[i] = strawi_coro_id(c);
	strawi_coro_set_user(c, &slot_coro[i]);
	stress_spawned++;
}

static void
stress_on_exit(struct strawi_coro *c, const struct strawi_exit_info *e)
{
	struct strawi_coro **slot = strawi_coro_user(c);

	if (slot == NULL)
		return;
	CHECK(*slot == c);
	*slot = NULL;
	stress_ended++;
	stress_reasons[e->reason]++;
}

static void
stress_body(void *arg)
{
	char b;

	(void)arg;
	while (stress_ops-- > 0) {
		int j = (int)(stress_rand() % STRESS_SLOTS);
		struct strawi_coro *o = slot_coro[j];

		switch (stress_rand() % 10) {
		case 0:
			strawi_yield();
			break;
		case 1:
			strawi_park(strawi_now_ns() +
			            (int64_t)(stress_rand() % 200000));
			break;
		case 2:
			if (o != NULL && o != strawi_coro_self())
				strawi_coro_wake(o);
			break;
		case 3:
			if (o != NULL && o != strawi_coro_self())
				strawi_coro_kill(o, 9, NULL);
			break;
		case 4:
			stress_spawn();
			break;
		case 5: /* contend for the pipe: one reader at a time */
			if (strawi_read(stress_pipe[0], &b, 1,
			                strawi_now_ns() + 100000) == -EBUSY)
				strawi_yield();
			break;
		case 6:
			CHECK_EQ(write(stress_pipe[1], "s", 1), 1);
			break;
		case 7:
			strawi_sleep_until(strawi_now_ns() + 50000);
			break;
		case 8:
			if (stress_rand() % 8 == 0)
				strawi_coro_exit(1, NULL);
			break;
		default:
			if (stress_rand() % 8 == 0)
				return;
			strawi_park(0);
			break;
		}
	}
}

CASE(random_mix)
{
	struct strawi_sched_config cfg;
	struct strawi_sched_stats st;
	int i;

	memset(&cfg, 0, sizeof(cfg));
	cfg.on_exit = stress_on_exit;
	cfg.pool_hot = 8; /* trim often */
	CHECK_OK(strawi_sched_new(&cfg, &S));
	CHECK_OK(pipe(stress_pipe));
	stress_ops = 100000;
	for (i = 0; i < 16; i++)
		stress_spawn();
	/* Parked ones with no deadline are left when the ops run out:
	 * stop once nothing else is runnable, then free kills them. */
	CHECK_RC(strawi_sched_run(S), 0);
	strawi_sched_stats(S, &st);
	fprintf(stderr, "%ld spawned, %llu switches\n", stress_spawned,
	        (unsigned long long)st.switches);
	CHECK_EQ(st.spawned, stress_spawned);
	CHECK_EQ(st.live + st.exited, st.spawned);
	CHECK_EQ(st.fd_waits, 0);
	strawi_sched_free(S);
	CHECK_EQ(stress_ended, stress_spawned);
	CHECK(stress_reasons[STRAWI_EXIT_RETURN] > 0);
	CHECK(stress_reasons[STRAWI_EXIT_CALLED] > 0);
	CHECK(stress_reasons[STRAWI_EXIT_KILLED] > 0);
	CHECK_EQ(stress_reasons[STRAWI_EXIT_FAULT], 0);
	CHECK_EQ(stress_reasons[STRAWI_EXIT_OVERFLOW], 0);
	for (i = 0; i < STRESS_SLOTS; i++)
		CHECK(slot_coro[i] == NULL);
	close(stress_pipe[0]);
	close(stress_pipe[1]);
}

CHECK_MAIN(random_mix, out_of_memory, sleep_keeps_wakes, many_parked_coroutines,
           on_exit_may_park, spawn_runs_in_order_and_ends, yield_round_robin,
           park_and_wake, park_timeout, park_poll_does_not_switch,
           wake_before_park_is_kept, kill_parked, kill_before_first_run,
           exit_called, stop_and_run_again, run_from_coroutine_is_refused,
           free_kills_the_living, hold_keeps_running, stacks_are_pooled,
           idle_coroutine_touches_one_page, timers_fire_in_deadline_order)
