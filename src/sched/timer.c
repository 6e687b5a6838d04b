/*
 * src/sched/timer.c - timers in a 4-ary min-heap.  Each timer knows its
 * slot, so cancel is O(log n) without a search; a 4-ary heap is shallower
 * than a binary one and its four children share a cache line or two.
 */
#include <errno.h>

#include "sched/sched_int.h"

#define ARITY 4

void
strawi_timer_init(struct strawi_timer *t, void (*cb)(struct strawi_timer *t),
                  void *arg)
{
	t->deadline = 0;
	t->seq = 0;
	t->index = UINT32_MAX;
	t->cb = cb;
	t->arg = arg;
}

static inline int
ent_before(const struct strawi_heap_ent *a, const struct strawi_heap_ent *b)
{
	if (a->deadline != b->deadline)
		return a->deadline < b->deadline;
	return a->t->seq < b->t->seq;
}

static inline void
heap_set(struct strawi_heap_ent *h, uint32_t i, struct strawi_heap_ent e)
{
	h[i] = e;
	e.t->index = i;
}

static void
sift_up(struct strawi_heap_ent *h, uint32_t i)
{
	struct strawi_heap_ent e = h[i];

	while (i > 0) {
		uint32_t p = (i - 1) / ARITY;

		if (!ent_before(&e, &h[p]))
			break;
		heap_set(h, i, h[p]);
		i = p;
	}
	heap_set(h, i, e);
}

static void
sift_down(struct strawi_heap_ent *h, uint32_t n, uint32_t i)
{
	struct strawi_heap_ent e = h[i];

	for (;;) {
		uint32_t first = i * ARITY + 1, best, k, end;

		if (first >= n)
			break;
		best = first;
		end = first + ARITY < n ? first + ARITY : n;
		for (k = first + 1; k < end; k++)
			if (ent_before(&h[k], &h[best]))
				best = k;
		if (!ent_before(&h[best], &e))
			break;
		heap_set(h, i, h[best]);
		i = best;
	}
	heap_set(h, i, e);
}

/* Removes the entry at slot i. */
static void
heap_remove(struct strawi_sched *s, uint32_t i)
{
	struct strawi_heap_ent *h = s->heap;
	uint32_t last = --s->heap_len;

	h[i].t->index = UINT32_MAX;
	if (i == last)
		return;
	heap_set(h, i, h[last]);
	if (i > 0 && ent_before(&h[i], &h[(i - 1) / ARITY]))
		sift_up(h, i);
	else
		sift_down(h, s->heap_len, i);
}

int
strawi_timer_add(struct strawi_sched *s, struct strawi_timer *t,
                 int64_t deadline)
{
	struct strawi_heap_ent e;

	if (t->index != UINT32_MAX) {
		heap_remove(s, t->index);
	} else if (s->heap_len == s->heap_cap) {
		uint32_t cap = s->heap_cap ? s->heap_cap * 2 : 64;
		struct strawi_heap_ent *h;

		if (cap > UINT32_MAX / 2)
			return -ENOMEM;
		h = straw_realloc(s->heap, (size_t)cap * sizeof(*h));
		if (h == NULL)
			return -ENOMEM;
		s->heap = h;
		s->heap_cap = cap;
	}
	t->deadline = deadline;
	t->seq = s->timer_seq++;
	e.deadline = deadline;
	e.t = t;
	s->heap[s->heap_len] = e;
	t->index = s->heap_len++;
	sift_up(s->heap, t->index);
	return 0;
}

int
strawi_timer_cancel(struct strawi_sched *s, struct strawi_timer *t)
{
	if (t->index == UINT32_MAX)
		return 0;
	STRAWI_ASSERT(t->index < s->heap_len && s->heap[t->index].t == t);
	heap_remove(s, t->index);
	return 1;
}

void
strawi_timers_fire(struct strawi_sched *s, int64_t now)
{
	/* Timers added by the callbacks wait for the next round, so a
	 * callback re-adding itself in the past cannot loop forever. */
	uint64_t limit = s->timer_seq;

	while (s->heap_len > 0 && s->heap[0].deadline <= now &&
	       s->heap[0].t->seq < limit) {
		struct strawi_timer *t = s->heap[0].t;

		heap_remove(s, 0);
		t->cb(t);
	}
}

void
strawi_timers_free(struct strawi_sched *s)
{
	uint32_t i;

	for (i = 0; i < s->heap_len; i++)
		s->heap[i].t->index = UINT32_MAX;
	s->heap_len = 0;
}
