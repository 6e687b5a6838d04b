/* The process table: insert, lookup, delete, order of iteration, nodes
 * given back when emptied, ids at both ends of the range, against a
 * reference array. */
#include <errno.h>
#include <stdlib.h>

#include <straw/alloc.h>

#include "proc/table.h"
#include "testing/check.h"

/* Stands for a process: the table only stores the pointer. */
static struct proc *
fake(uintptr_t v)
{
	return (struct proc *)(v * 16);
}

CASE(table_basic)
{
	struct proc_table t;

	proc_table_init(&t);
	CHECK(proc_table_get(&t, 1) == NULL);
	CHECK(proc_table_del(&t, 1) == NULL);
	CHECK_OK(proc_table_put(&t, 1, fake(1)));
	CHECK_OK(proc_table_put(&t, 513, fake(2)));
	CHECK(proc_table_get(&t, 1) == fake(1));
	CHECK(proc_table_get(&t, 513) == fake(2));
	CHECK(proc_table_get(&t, 2) == NULL);
	CHECK(proc_table_get(&t, 1u << 20) == NULL);
	CHECK_EQ(t.len, 2);
	CHECK_EQ(t.nodes, 3); /* one middle node, two leaves */
	CHECK(proc_table_del(&t, 1) == fake(1));
	CHECK(proc_table_del(&t, 1) == NULL);
	CHECK(proc_table_get(&t, 1) == NULL);
	CHECK(proc_table_get(&t, 513) == fake(2));
	CHECK_EQ(t.len, 1);
	CHECK_EQ(t.nodes, 2); /* the leaf of 1 went */
	CHECK(proc_table_del(&t, 513) == fake(2));
	CHECK_EQ(t.len, 0);
	CHECK_EQ(t.nodes, 0); /* and the middle node with the last leaf */
	/* the leaf a lookup remembered goes with its last process */
	CHECK_OK(proc_table_put(&t, 1025, fake(5)));
	CHECK(proc_table_get(&t, 1025) == fake(5));
	CHECK(proc_table_del(&t, 1025) == fake(5));
	CHECK(proc_table_get(&t, 1025) == NULL);
	CHECK(proc_table_get(&t, 1024) == NULL);
	CHECK_EQ(t.nodes, 0);
	proc_table_fini(&t);
	CHECK(t.top == NULL);
}

/* The highest ids (those a wrapped counter gives last) and the lowest. */
CASE(table_ends)
{
	struct proc_table t;

	proc_table_init(&t);
	CHECK_OK(proc_table_put(&t, UINT32_MAX, fake(3)));
	CHECK_OK(proc_table_put(&t, 1, fake(4)));
	CHECK(proc_table_get(&t, UINT32_MAX) == fake(3));
	CHECK(proc_table_get(&t, UINT32_MAX - 1) == NULL);
	CHECK(proc_table_get(&t, 1) == fake(4));
	CHECK_EQ(t.nodes, 4);
	/* a reserved id holds nodes but no process */
	CHECK_OK(proc_table_reserve(&t, 1u << 31));
	CHECK_EQ(t.nodes, 6);
	CHECK(proc_table_get(&t, 1u << 31) == NULL);
	CHECK_EQ(t.len, 2);
	proc_table_fini(&t);
	CHECK_EQ(t.nodes, 0);
	CHECK_EQ(t.len, 0);
}

struct walk {
	uint32_t last; /* id seen last */
	size_t n;      /* ids seen */
	int ordered;   /* every id above the one before */
	int match;     /* every value the reference's */
	uintptr_t *ref;
};

static void
walk_one(uint32_t id, struct proc *p, void *arg)
{
	struct walk *w = arg;

	if (w->n > 0 && id <= w->last)
		w->ordered = 0;
	if (p != fake(w->ref[id]))
		w->match = 0;
	w->last = id;
	w->n++;
}

/* Random inserts and deletes over ids that cross leaves and middle
 * nodes, checked against a plain array; then a walk in id order. */
CASE(table_random)
{
	enum { N = 600000 };
	uintptr_t *ref = calloc(N + 1, sizeof(*ref));
	struct proc_table t;
	struct walk w = {0, 0, 1, 1, NULL};
	uint64_t x = 88172645463325252ULL;
	size_t live = 0, i;
	int step;

	CHECK(ref != NULL);
	proc_table_init(&t);
	for (step = 0; step < 400000; step++) {
		uint32_t k;
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		k = (uint32_t)(1 + x % N);
		if (ref[k] == 0) {
			ref[k] = (uintptr_t)step + 1;
			CHECK_OK(proc_table_put(&t, k, fake(ref[k])));
			live++;
		} else {
			CHECK(proc_table_del(&t, k) == fake(ref[k]));
			ref[k] = 0;
			live--;
		}
		CHECK_EQ(t.len, live);
	}
	for (i = 1; i <= N; i++)
		CHECK(proc_table_get(&t, (uint32_t)i) ==
		      (ref[i] ? fake(ref[i]) : NULL));
	w.ref = ref;
	proc_table_each(&t, walk_one, &w);
	CHECK_EQ(w.n, live);
	CHECK(w.ordered);
	CHECK(w.match);
	for (i = 1; i <= N; i++)
		if (ref[i] != 0)
			CHECK(proc_table_del(&t, (uint32_t)i) == fake(ref[i]));
	CHECK_EQ(t.len, 0);
	CHECK_EQ(t.nodes, 0);
	proc_table_fini(&t);
	free(ref);
}

/* Out of memory: a put that needs a node fails with -ENOMEM and leaves
 * the table as it was, at each of the three levels. */
CASE(table_out_of_memory)
{
	straw_allocator a = {check_failing_realloc, NULL};
	struct proc_table t;
	long k;

	straw_set_allocator(&a);
	proc_table_init(&t);
	/* an empty table needs three nodes: fail at each */
	for (k = 0; k < 3; k++) {
		check_allocs_left = k;
		CHECK_RC(proc_table_put(&t, 7, fake(7)), -ENOMEM);
		CHECK(t.top == NULL);
		CHECK_EQ(t.nodes, 0);
		CHECK_EQ(t.len, 0);
	}
	check_allocs_left = -1;
	CHECK_OK(proc_table_put(&t, 7, fake(7)));
	/* a new leaf under an existing middle node, a new middle node */
	check_allocs_left = 0;
	CHECK_RC(proc_table_put(&t, 7 + PROC_TABLE_LEAF, fake(8)), -ENOMEM);
	CHECK_RC(proc_table_put(&t, 7 + (1u << 18), fake(9)), -ENOMEM);
	CHECK_RC(proc_table_reserve(&t, 7 + (1u << 18)), -ENOMEM);
	CHECK_EQ(t.nodes, 2);
	CHECK_EQ(t.len, 1);
	/* what needs no node still works */
	CHECK_OK(proc_table_put(&t, 8, fake(8)));
	CHECK(proc_table_get(&t, 7) == fake(7));
	CHECK(proc_table_get(&t, 7 + PROC_TABLE_LEAF) == NULL);
	CHECK(proc_table_get(&t, 7 + (1u << 18)) == NULL);
	check_allocs_left = -1;
	proc_table_fini(&t);
	straw_set_allocator(NULL);
}

CHECK_MAIN(table_basic, table_ends, table_random, table_out_of_memory)
