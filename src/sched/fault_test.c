/* src/sched/fault_test.c - crash isolation: a fault in a coroutine ends
 * only that coroutine and the scheduler goes on. */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "sched/sched_int.h"
#include "testing/check.h"

static struct strawi_sched *S;
static struct strawi_exit_info exits[256];
static int nexits, after_runs, hook_faults;
/* Unmapped addresses, hidden from the optimiser. */
static volatile uintptr_t bad8 = 8, bad16 = 16, bad24 = 24;

static void
on_exit_record(struct strawi_coro *c, const struct strawi_exit_info *e)
{
	(void)c;
	exits[nexits++] = *e;
	if (hook_faults) {
		hook_faults = 0;
		*(volatile int *)bad8 = 1; /* fault inside on_exit */
	}
}

static void
new_sched(int guard)
{
	struct strawi_sched_config cfg;

	memset(&cfg, 0, sizeof(cfg));
	cfg.on_exit = on_exit_record;
	cfg.guard = guard;
	nexits = 0;
	after_runs = 0;
	CHECK_OK(strawi_sched_new(&cfg, &S));
}

/* Recurses until the stack runs out; the volatile buffer keeps the frames
 * from being optimised away. */
static volatile int recurse_limit = 1 << 30;

static int __attribute__((noinline)) recurse(int depth)
{
	volatile char buf[512];

	buf[0] = (char)depth;
	buf[511] = (char)depth;
	if (depth >= recurse_limit)
		return 0;
	return recurse(depth + 1) + buf[0] + buf[511];
}

static void
overflow(void *arg)
{
	(void)arg;
	recurse(0);
}

static void
after(void *arg)
{
	(void)arg;
	strawi_yield();
	after_runs++;
}

CASE(guard_page_overflow_ends_only_that_coroutine)
{
	struct strawi_sched_stats st;
	int i;

	new_sched(STRAWI_GUARD_ON);
	CHECK_OK(strawi_coro_spawn(S, after, NULL, 0, NULL));
	CHECK_OK(strawi_coro_spawn(S, overflow, NULL, 0, NULL));
	CHECK_OK(strawi_coro_spawn(S, after, NULL, 0, NULL));
	CHECK_RC(strawi_sched_run(S), 0);
	CHECK_EQ(after_runs, 2);
	CHECK_EQ(nexits, 3);
	CHECK_EQ(exits[0].reason, STRAWI_EXIT_OVERFLOW);
	CHECK_EQ(exits[0].signo, SIGSEGV);
	CHECK(exits[0].addr != NULL);
	strawi_sched_stats(S, &st);
	CHECK_EQ(st.crashed, 1);
	CHECK_EQ(st.stacks_guarded, st.stacks_mapped);
	/* Again and again: the stack is reused, the handler still works. */
	for (i = 0; i < 5; i++)
		CHECK_OK(strawi_coro_spawn(S, overflow, NULL, 0, NULL));
	CHECK_OK(strawi_coro_spawn(S, after, NULL, 0, NULL));
	CHECK_RC(strawi_sched_run(S), 0);
	CHECK_EQ(nexits, 9);
	for (i = 3; i < 8; i++)
		CHECK_EQ(exits[i].reason, STRAWI_EXIT_OVERFLOW);
	CHECK_EQ(after_runs, 3);
	strawi_sched_free(S);
}

/* Every stack of several slabs gets its guard page, whether a slab is
 * guarded in one process_madvise call or stack by stack: as many
 * coroutines alive at once as three slabs hold, each overflowing. */
static void
overflow_all_stacks(int batch)
{
	struct strawi_sched_stats st;
	enum { N = 3 * (4096 / 68) + 1 }; /* 64 KiB stacks, 4 MiB slabs */
	int i;

	strawi_stack_set_batch(batch);
	new_sched(STRAWI_GUARD_ON);
	for (i = 0; i < N; i++)
		CHECK_OK(strawi_coro_spawn(S, overflow, NULL, 0, NULL));
	CHECK_OK(strawi_coro_spawn(S, after, NULL, 0, NULL));
	CHECK_RC(strawi_sched_run(S), 0);
	CHECK_EQ(nexits, N + 1);
	for (i = 0; i < N; i++) {
		CHECK_EQ(exits[i].reason, STRAWI_EXIT_OVERFLOW);
		CHECK_EQ(exits[i].signo, SIGSEGV);
	}
	CHECK_EQ(exits[N].reason, STRAWI_EXIT_RETURN);
	CHECK_EQ(after_runs, 1);
	strawi_sched_stats(S, &st);
	CHECK_EQ(st.crashed, N);
	CHECK(st.stacks_mapped >= N + 1);
	CHECK_EQ(st.stacks_guarded, st.stacks_mapped);
	strawi_sched_free(S);
	strawi_stack_set_batch(1);
}

CASE(every_stack_of_a_slab_is_guarded)
{
	overflow_all_stacks(1);
}

CASE(every_stack_is_guarded_without_batching)
{
	overflow_all_stacks(0);
}

static void
null_deref(void *arg)
{
	(void)arg;
	*(volatile int *)bad16 = 1;
}

CASE(segfault_ends_coroutine)
{
	new_sched(STRAWI_GUARD_AUTO);
	CHECK_OK(strawi_coro_spawn(S, null_deref, NULL, 0, NULL));
	CHECK_OK(strawi_coro_spawn(S, after, NULL, 0, NULL));
	CHECK_RC(strawi_sched_run(S), 0);
	CHECK_EQ(nexits, 2);
	CHECK_EQ(exits[0].reason, STRAWI_EXIT_FAULT);
	CHECK_EQ(exits[0].signo, SIGSEGV);
	CHECK(exits[0].addr == (void *)(uintptr_t)16);
	CHECK_EQ(after_runs, 1);
	strawi_sched_free(S);
}

static void
aborter(void *arg)
{
	(void)arg;
	abort();
}

CASE(abort_ends_coroutine)
{
	new_sched(STRAWI_GUARD_AUTO);
	CHECK_OK(strawi_coro_spawn(S, aborter, NULL, 0, NULL));
	CHECK_OK(strawi_coro_spawn(S, after, NULL, 0, NULL));
	CHECK_RC(strawi_sched_run(S), 0);
	CHECK_EQ(nexits, 2);
	CHECK_EQ(exits[0].reason, STRAWI_EXIT_ABORT);
	CHECK_EQ(exits[0].signo, SIGABRT);
	CHECK_EQ(after_runs, 1);
	/* A second abort on the same thread works too. */
	CHECK_OK(strawi_coro_spawn(S, aborter, NULL, 0, NULL));
	CHECK_RC(strawi_sched_run(S), 0);
	CHECK_EQ(nexits, 3);
	CHECK_EQ(exits[2].reason, STRAWI_EXIT_ABORT);
	strawi_sched_free(S);
}

CASE(fault_in_on_exit_is_not_reentered)
{
	new_sched(STRAWI_GUARD_AUTO);
	hook_faults = 1;
	CHECK_OK(strawi_coro_spawn(S, after, NULL, 0, NULL));
	CHECK_OK(strawi_coro_spawn(S, after, NULL, 0, NULL));
	CHECK_RC(strawi_sched_run(S), 0);
	CHECK_EQ(nexits, 2); /* once each, the faulting hook not again */
	CHECK_EQ(after_runs, 2);
	strawi_sched_free(S);
}

/* Goes down to the bottom of an unguarded stack and switches out there. */
static void __attribute__((noinline)) deep_then_yield(char *bottom)
{
	volatile char buf[64];

	buf[0] = 1;
	if ((char *)buf - bottom > 900)
		deep_then_yield(bottom);
	else
		strawi_yield();
	buf[63] = buf[0];
}

static void
unguarded_deep(void *arg)
{
	struct strawi_coro *self = strawi_coro_self();
	char probe;

	(void)arg;
	/* The stack lies right below the coroutine struct. */
	deep_then_yield((char *)self - strawi_coro_stack_size(self));
	(void)probe;
	after_runs += 100; /* never: ended at the switch */
}

CASE(unguarded_overflow_seen_at_switch)
{
	struct strawi_sched_stats st;

	new_sched(STRAWI_GUARD_OFF);
	CHECK_OK(strawi_coro_spawn(S, unguarded_deep, NULL, 0, NULL));
	CHECK_OK(strawi_coro_spawn(S, after, NULL, 0, NULL));
	CHECK_RC(strawi_sched_run(S), 0);
	strawi_sched_stats(S, &st);
	CHECK_EQ(st.stacks_guarded, 0);
	CHECK_EQ(nexits, 2);
	CHECK_EQ(exits[0].reason, STRAWI_EXIT_OVERFLOW);
	CHECK(exits[0].addr != NULL);
	CHECK_EQ(exits[1].reason, STRAWI_EXIT_RETURN);
	CHECK_EQ(after_runs, 1);
	strawi_sched_free(S);
}

/* A fault outside any coroutine still kills the OS process as usual,
 * through whatever handler was installed before straw's. */
#if defined(__SANITIZE_ADDRESS__)
#define SANITIZER_ASAN 1
#elif defined(__SANITIZE_THREAD__)
#define SANITIZER_TSAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SANITIZER_ASAN 1
#elif __has_feature(thread_sanitizer)
#define SANITIZER_TSAN 1
#endif
#endif

CASE(fault_outside_coroutines_is_fatal)
{
	pid_t pid;
	int status;

	fflush(NULL);
	pid = fork();
	CHECK(pid >= 0);
	if (pid == 0) {
		struct strawi_sched *s;

		if (strawi_sched_new(NULL, &s) < 0)
			_exit(3);
		*(volatile int *)bad24 = 1;
		_exit(4);
	}
	status = check_wait_child(pid, 10000);
	CHECK(status != -1);
#if defined(SANITIZER_ASAN)
	/* Handed on to ASan's handler, which reports and exits with 1. */
	CHECK(WIFEXITED(status));
	CHECK_EQ(WEXITSTATUS(status), 1);
#elif defined(SANITIZER_TSAN)
	/* TSan's handler reports and exits with 66. */
	CHECK(WIFEXITED(status));
	CHECK_EQ(WEXITSTATUS(status), 66);
#else
	/* No handler before ours: the default action. */
	CHECK(WIFSIGNALED(status));
	CHECK_EQ(WTERMSIG(status), SIGSEGV);
#endif
}

static void
trapper(void *arg)
{
	(void)arg;
	__builtin_trap();
}

static volatile int zero;

/* An integer division by zero, in assembly so that UBSan does not catch
 * it first.  Only x86-64 traps on it. */
static void
divider(void *arg)
{
#if defined(__x86_64__)
	int q, d = zero;

	__asm__ volatile("cltd\n\tidivl %2" : "=a"(q) : "a"(7), "r"(d) : "edx");
	*(volatile int *)arg = q;
#else
	*(volatile int *)arg = 0;
#endif
}

CASE(trap_and_division_end_coroutines)
{
	int out = 0;

	new_sched(STRAWI_GUARD_AUTO);
	CHECK_OK(strawi_coro_spawn(S, trapper, NULL, 0, NULL));
	CHECK_OK(strawi_coro_spawn(S, divider, &out, 0, NULL));
	CHECK_OK(strawi_coro_spawn(S, after, NULL, 0, NULL));
	CHECK_RC(strawi_sched_run(S), 0);
	CHECK_EQ(after_runs, 1);
	CHECK_EQ(nexits, 3);
	CHECK_EQ(exits[0].reason, STRAWI_EXIT_FAULT);
#if defined(__x86_64__)
	CHECK_EQ(exits[0].signo, SIGILL);
	CHECK_EQ(exits[1].reason, STRAWI_EXIT_FAULT);
	CHECK_EQ(exits[1].signo, SIGFPE);
#else
	CHECK_EQ(exits[0].signo, SIGTRAP);
	CHECK_EQ(exits[1].reason, STRAWI_EXIT_RETURN);
	CHECK_EQ(out, 0);
#endif
	strawi_sched_free(S);
}

/* ---- the user space below the struct ---------------------------------- */

#define USER_SPACE 200 /* rounded up to 208 */
static int user_intact, user_checked;

static void
user_fill(struct strawi_coro *c)
{
	memset(strawi_coro_user_space(c), 0x5a, USER_SPACE);
}

/* on_exit: the user space still holds what the coroutine wrote, whatever
 * ended it (fresh frames after a fault start below it). */
static void
on_exit_user(struct strawi_coro *c, const struct strawi_exit_info *e)
{
	const unsigned char *u = strawi_coro_user_space(c);
	int i, ok = 1;

	exits[nexits++] = *e;
	for (i = 0; i < USER_SPACE; i++)
		ok &= u[i] == 0x5a;
	user_intact += ok;
	user_checked++;
}

static void
user_overflow(void *arg)
{
	(void)arg;
	user_fill(strawi_coro_self());
	recurse(0);
}

static void
user_segv(void *arg)
{
	(void)arg;
	user_fill(strawi_coro_self());
	*(volatile int *)bad16 = 1;
}

static void
user_park(void *arg)
{
	(void)arg;
	user_fill(strawi_coro_self());
	strawi_park(STRAWI_FOREVER); /* killed */
}

static void
user_killer(void *arg)
{
	strawi_coro_kill(arg, 0, NULL);
}

CASE(user_space_survives_faults_and_kills)
{
	struct strawi_sched_config cfg;
	struct strawi_coro *c, *parked;
	size_t plain;

	memset(&cfg, 0, sizeof(cfg));
	cfg.user_space = STRAWI_USER_SPACE_MAX + 1;
	CHECK_RC(strawi_sched_new(&cfg, &S), -EINVAL);
	/* the usable stack without user space, for comparison */
	CHECK_OK(strawi_sched_new(NULL, &S));
	CHECK_OK(strawi_coro_spawn(S, after, NULL, 0, &c));
	plain = strawi_coro_stack_size(c);
	CHECK_RC(strawi_sched_run(S), 0);
	strawi_sched_free(S);

	cfg.on_exit = on_exit_user;
	cfg.user_space = USER_SPACE;
	nexits = user_intact = user_checked = 0;
	CHECK_OK(strawi_sched_new(&cfg, &S));
	CHECK_OK(strawi_coro_spawn(S, user_overflow, NULL, 0, &c));
	CHECK((char *)strawi_coro_user_space(c) == (char *)c - 208);
	CHECK_EQ((uintptr_t)strawi_coro_user_space(c) % 16, 0);
	CHECK_EQ(strawi_coro_stack_size(c), plain - 208);
	CHECK_OK(strawi_coro_spawn(S, user_segv, NULL, 0, NULL));
	CHECK_OK(strawi_coro_spawn(S, user_park, NULL, 0, &parked));
	CHECK_OK(strawi_coro_spawn(S, user_killer, parked, 0, NULL));
	CHECK_RC(strawi_sched_run(S), 0);
	CHECK_EQ(nexits, 4);
	CHECK_EQ(exits[0].reason, STRAWI_EXIT_OVERFLOW);
	CHECK_EQ(exits[1].reason, STRAWI_EXIT_FAULT);
	CHECK_EQ(exits[2].reason, STRAWI_EXIT_RETURN); /* the killer */
	CHECK_EQ(exits[3].reason, STRAWI_EXIT_KILLED);
	CHECK_EQ(user_checked, 4);
	/* the killer never wrote its user space */
	CHECK_EQ(user_intact, 3);
	strawi_sched_free(S);
}

CHECK_MAIN(trap_and_division_end_coroutines,
           guard_page_overflow_ends_only_that_coroutine,
           every_stack_of_a_slab_is_guarded,
           every_stack_is_guarded_without_batching, segfault_ends_coroutine,
           abort_ends_coroutine, fault_in_on_exit_is_not_reentered,
           unguarded_overflow_seen_at_switch, fault_outside_coroutines_is_fatal,
           user_space_survives_faults_and_kills)
