/* src/sched/timer_test.c - the timer heap: order, ties, cancel, re-add,
 * a million pending timers. */
#include <stdlib.h>
#include <string.h>

#include "sched/sched.h"
#include "testing/check.h"

static struct strawi_sched *S;
static int64_t last_deadline;
static uint64_t last_seq;
static long fired, out_of_order;

static void
check_order_cb(struct strawi_timer *t)
{
	if (fired > 0 && (t->deadline < last_deadline ||
	                  (t->deadline == last_deadline && t->seq < last_seq)))
		out_of_order++;
	last_deadline = t->deadline;
	last_seq = t->seq;
	fired++;
	*(long *)t->arg += 1;
}

static uint64_t rng = 88172645463325252ULL;

static uint64_t
next_rand(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static long
scale(void)
{
	const char *e = getenv("STRAW_TEST_TIMERS");

	return e != NULL ? atol(e) : 1000000;
}

CASE(million_timers)
{
	long n = scale(), i, cancelled = 0;
	struct strawi_timer *t = straw_malloc((size_t)n * sizeof(*t));
	long *hits = straw_calloc((size_t)n, sizeof(long));
	struct strawi_sched_stats st;
	int64_t now, t0, t1, t2, t3;

	CHECK(t != NULL && hits != NULL);
	CHECK_OK(strawi_sched_new(NULL, &S));
	fired = out_of_order = 0;
	now = strawi_now_ns();
	t0 = strawi_now_ns();
	/* Due within the next 50 ms, many sharing a deadline. */
	for (i = 0; i < n; i++) {
		strawi_timer_init(&t[i], check_order_cb, &hits[i]);
		CHECK_OK(strawi_timer_add(
		        S, &t[i], now + (int64_t)(next_rand() % 50000) * 1000));
	}
	t1 = strawi_now_ns();
	strawi_sched_stats(S, &st);
	CHECK_EQ(st.timers, n);
	for (i = 0; i < n; i += 2) {
		CHECK_EQ(strawi_timer_cancel(S, &t[i]), 1);
		cancelled++;
	}
	t2 = strawi_now_ns();
	strawi_sched_stats(S, &st);
	CHECK_EQ(st.timers, n - cancelled);
	CHECK_RC(strawi_sched_run(S), 0);
	t3 = strawi_now_ns();
	CHECK_EQ(fired, n - cancelled);
	CHECK_EQ(out_of_order, 0);
	for (i = 0; i < n; i++) {
		CHECK_EQ(hits[i], i % 2); /* odd ones fired once, even never */
		CHECK(!strawi_timer_pending(&t[i]));
	}
	fprintf(stderr,
	        "%ld timers: add %.0f ns/op, cancel %.0f ns/op, "
	        "fire %.0f ns/op (incl. waiting)\n",
	        n, (double)(t1 - t0) / (double)n,
	        (double)(t2 - t1) / (double)cancelled,
	        (double)(t3 - t2) / (double)(n - cancelled));
	strawi_sched_free(S);
	straw_free(t);
	straw_free(hits);
}

/* Random adds, moves and cancels against a simple reference. */
CASE(random_operations_match_reference)
{
	enum { N = 2000 };
	static struct strawi_timer t[N];
	static long hits[N];
	static int64_t want[N]; /* deadline if pending, -1 otherwise */
	int64_t base = strawi_now_ns() - 1000000000; /* all already due */
	long pending = 0;
	int i, op;

	CHECK_OK(strawi_sched_new(NULL, &S));
	fired = out_of_order = 0;
	for (i = 0; i < N; i++) {
		strawi_timer_init(&t[i], check_order_cb, &hits[i]);
		hits[i] = 0;
		want[i] = -1;
	}
	for (op = 0; op < 50000; op++) {
		i = (int)(next_rand() % N);
		if (next_rand() % 3 == 0) {
			CHECK_EQ(strawi_timer_cancel(S, &t[i]), want[i] >= 0);
			pending -= want[i] >= 0;
			want[i] = -1;
		} else {
			int64_t d = base + (int64_t)(next_rand() % 1000);

			CHECK_OK(strawi_timer_add(S, &t[i],
			                          d)); /* add or move */
			pending += want[i] < 0;
			want[i] = d;
		}
		CHECK_EQ(strawi_timer_pending(&t[i]), want[i] >= 0);
	}
	CHECK_RC(strawi_sched_run(S), 0);
	CHECK_EQ(fired, pending);
	CHECK_EQ(out_of_order, 0);
	for (i = 0; i < N; i++)
		CHECK_EQ(hits[i], want[i] >= 0);
	strawi_sched_free(S);
}

/* A callback may cancel another pending timer and re-add itself. */
static struct strawi_timer ta, tb;
static int a_runs, b_runs;

static void
cb_b(struct strawi_timer *t)
{
	(void)t;
	b_runs++;
}

static void
cb_a(struct strawi_timer *t)
{
	a_runs++;
	CHECK_EQ(strawi_timer_cancel(S, &tb), a_runs == 1);
	if (a_runs < 3) /* in the past: must not loop within one round */
		CHECK_OK(strawi_timer_add(S, t, 0));
}

CASE(callbacks_cancel_and_re_add)
{
	int64_t now = strawi_now_ns();

	CHECK_OK(strawi_sched_new(NULL, &S));
	strawi_timer_init(&ta, cb_a, NULL);
	strawi_timer_init(&tb, cb_b, NULL);
	CHECK_OK(strawi_timer_add(S, &ta, now));
	CHECK_OK(strawi_timer_add(S, &tb, now + 1000));
	CHECK_RC(strawi_sched_run(S), 0);
	CHECK_EQ(a_runs, 3);
	CHECK_EQ(b_runs, 0);
	strawi_sched_free(S);
}

CASE(free_drops_pending_timers)
{
	struct strawi_timer t1;
	long hits = 0;

	CHECK_OK(strawi_sched_new(NULL, &S));
	strawi_timer_init(&t1, check_order_cb, &hits);
	CHECK_OK(strawi_timer_add(S, &t1, strawi_now_ns() + 3600000000000LL));
	strawi_sched_free(S);
	CHECK_EQ(hits, 0);
	CHECK(!strawi_timer_pending(&t1));
}

CHECK_MAIN(million_timers, random_operations_match_reference,
           callbacks_cancel_and_re_add, free_drops_pending_timers)
