/* src/sched/remote_test.c - wakes, posts and stop from other threads,
 * under contention.  The tsan_threads test also runs it under ThreadSanitizer.
 * STRAW_TEST_REMOTE_N scales the messages per thread. */
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "sched/sched.h"
#include "testing/check.h"

enum { THREADS = 4 };

static struct strawi_sched *S;
static pthread_barrier_t start;
static long per_thread;

static long
scale(void)
{
	const char *e = getenv("STRAW_TEST_REMOTE_N");

	return e != NULL ? atol(e) : 20000;
}

/* ---- tasks posted from threads ----------------------------------------- */

struct post {
	struct strawi_task task; /* first */
	int thread;              /* poster */
	long seq;                /* per-poster order */
};

static struct post *posts;
static long next_seq[THREADS], done_posts, bad_order;

static void
post_fn(struct strawi_task *t)
{
	struct post *p = (struct post *)t;

	if (p->seq != next_seq[p->thread])
		bad_order++;
	next_seq[p->thread] = p->seq + 1;
	if (++done_posts == per_thread * THREADS)
		strawi_sched_release(S);
}

static void *
poster(void *arg)
{
	int id = (int)(intptr_t)arg;
	long i;

	pthread_barrier_wait(&start);
	for (i = 0; i < per_thread; i++) {
		struct post *p = &posts[(long)id * per_thread + i];

		p->task.fn = post_fn;
		p->thread = id;
		p->seq = i;
		strawi_sched_post(S, &p->task);
	}
	return NULL;
}

CASE(posts_from_many_threads)
{
	pthread_t th[THREADS];
	int i;

	per_thread = scale();
	posts = straw_calloc((size_t)(per_thread * THREADS), sizeof(*posts));
	CHECK(posts != NULL);
	CHECK_OK(strawi_sched_new(NULL, &S));
	strawi_sched_hold(S); /* until every post arrived */
	CHECK_EQ(pthread_barrier_init(&start, NULL, THREADS), 0);
	for (i = 0; i < THREADS; i++)
		CHECK_EQ(pthread_create(&th[i], NULL, poster,
		                        (void *)(intptr_t)i),
		         0);
	CHECK_RC(strawi_sched_run(S), 0);
	for (i = 0; i < THREADS; i++)
		pthread_join(th[i], NULL);
	CHECK_EQ(done_posts, per_thread * THREADS);
	CHECK_EQ(bad_order, 0);
	for (i = 0; i < THREADS; i++)
		CHECK_EQ(next_seq[i], per_thread);
	pthread_barrier_destroy(&start);
	strawi_sched_free(S);
	straw_free(posts);
}

/* ---- remote wakes of a consumer coroutine ------------------------------ */

struct msg {
	struct msg *next; /* inbox link */
	int thread;       /* sender */
	long seq;         /* per-sender order */
};

static _Atomic(struct msg *) inbox; /* LIFO pushed by senders */
static struct msg *msgs;
static struct strawi_coro *consumer;
static long got, got_seq[THREADS], got_bad, parks;

static void
consume(void *arg)
{
	(void)arg;
	while (got < per_thread * THREADS) {
		struct msg *m = atomic_exchange(&inbox, NULL), *rev = NULL;

		while (m != NULL) { /* reverse to sending order */
			struct msg *n = m->next;
			m->next = rev;
			rev = m;
			m = n;
		}
		for (; rev != NULL; rev = rev->next) {
			if (rev->seq != got_seq[rev->thread])
				got_bad++;
			got_seq[rev->thread] = rev->seq + 1;
			got++;
		}
		if (got < per_thread * THREADS) {
			/* Nothing may be lost between the check above and
			 * the park: a wake that came meanwhile is kept. */
			if (atomic_load(&inbox) == NULL) {
				parks++;
				CHECK_RC(strawi_park(STRAWI_FOREVER), 0);
			}
		}
	}
}

static void *
sender(void *arg)
{
	int id = (int)(intptr_t)arg;
	long i;

	pthread_barrier_wait(&start);
	for (i = 0; i < per_thread; i++) {
		struct msg *m = &msgs[(long)id * per_thread + i];
		struct msg *old = atomic_load(&inbox);

		m->thread = id;
		m->seq = i;
		do {
			m->next = old;
		} while (!atomic_compare_exchange_weak(&inbox, &old, m));
		strawi_coro_wake_remote(consumer);
		if (i % 16 == 0)
			sched_yield(); /* let the consumer catch up and park */
	}
	return NULL;
}

CASE(remote_wakes_under_contention)
{
	pthread_t th[THREADS];
	struct strawi_sched_stats st;
	int i;

	per_thread = scale();
	msgs = straw_calloc((size_t)(per_thread * THREADS), sizeof(*msgs));
	CHECK(msgs != NULL);
	CHECK_OK(strawi_sched_new(NULL, &S));
	CHECK_OK(strawi_coro_spawn(S, consume, NULL, 0, &consumer));
	CHECK_EQ(pthread_barrier_init(&start, NULL, THREADS), 0);
	for (i = 0; i < THREADS; i++)
		CHECK_EQ(pthread_create(&th[i], NULL, sender,
		                        (void *)(intptr_t)i),
		         0);
	CHECK_RC(strawi_sched_run(S), 0); /* ends when consume returns */
	for (i = 0; i < THREADS; i++)
		pthread_join(th[i], NULL);
	CHECK_EQ(got, per_thread * THREADS);
	CHECK_EQ(got_bad, 0);
	strawi_sched_stats(S, &st);
	CHECK(st.remote_wakes > 0);
	CHECK_EQ(st.live, 0);
	fprintf(stderr, "%ld messages, %ld parks, %llu remote wakes\n", got,
	        parks, (unsigned long long)st.remote_wakes);
	pthread_barrier_destroy(&start);
	/* Late wakes of the ended consumer are harmless. */
	strawi_coro_wake_remote(consumer);
	CHECK_RC(strawi_sched_run(S), 0);
	strawi_sched_free(S);
	straw_free(msgs);
}

/* ---- stop from another thread ------------------------------------------ */

static void
park_forever(void *arg)
{
	(void)arg;
	strawi_park(STRAWI_FOREVER);
}

static void *
stopper(void *arg)
{
	(void)arg;
	pthread_barrier_wait(&start);
	strawi_sched_stop(S);
	return NULL;
}

static void
ready(struct strawi_task *t)
{
	(void)t;
}

CASE(stop_from_another_thread)
{
	pthread_t th;
	struct strawi_task t = {.fn = ready};

	CHECK_OK(strawi_sched_new(NULL, &S));
	CHECK_OK(strawi_coro_spawn(S, park_forever, NULL, 0, NULL));
	CHECK_EQ(pthread_barrier_init(&start, NULL, 1), 0);
	CHECK_EQ(pthread_create(&th, NULL, stopper, NULL), 0);
	CHECK_RC(strawi_sched_run(S), 0);
	pthread_join(th, NULL);
	CHECK_EQ(strawi_sched_stopped(S), 1);
	/* A task posted from this thread runs on the next run. */
	strawi_sched_post(S, &t);
	strawi_sched_stop(S);
	CHECK_RC(strawi_sched_run(S), 0);
	pthread_barrier_destroy(&start);
	strawi_sched_free(S); /* kills the parked coroutine */
}

CHECK_MAIN(posts_from_many_threads, remote_wakes_under_contention,
           stop_from_another_thread)
