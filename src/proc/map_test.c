/* The process layer's hash map: insert, lookup, delete with backward shift,
 * growth, against a reference array. */
#include "proc/map.h"
#include "testing/check.h"

CASE(map_basic)
{
	struct proc_map m;
	int a, b;

	proc_map_init(&m);
	CHECK(proc_map_get(&m, 1) == NULL);
	CHECK(proc_map_del(&m, 1) == NULL);
	CHECK_OK(proc_map_put(&m, 1, &a));
	CHECK_OK(proc_map_put(&m, 17, &b));
	CHECK(proc_map_get(&m, 1) == &a);
	CHECK(proc_map_get(&m, 17) == &b);
	CHECK(proc_map_get(&m, 2) == NULL);
	CHECK_EQ(m.len, 2);
	CHECK(proc_map_del(&m, 1) == &a);
	CHECK(proc_map_get(&m, 1) == NULL);
	CHECK(proc_map_get(&m, 17) == &b);
	CHECK_EQ(m.len, 1);
	proc_map_fini(&m);
	CHECK_EQ(m.cap, 0);
}

/* Random inserts and deletes checked against a plain array. */
CASE(map_random)
{
	enum { N = 20000 };
	static uintptr_t ref[N + 1];
	struct proc_map m;
	uint64_t x = 88172645463325252ULL;
	size_t live = 0, i;
	int step;

	proc_map_init(&m);
	memset(ref, 0, sizeof(ref));
	for (step = 0; step < 400000; step++) {
		uint64_t k;
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		k = 1 + x % N;
		if (ref[k] == 0) {
			ref[k] = (uintptr_t)step + 1;
			CHECK_OK(proc_map_put(&m, k, (void *)ref[k]));
			live++;
		} else {
			CHECK(proc_map_del(&m, k) == (void *)ref[k]);
			ref[k] = 0;
			live--;
		}
		CHECK_EQ(m.len, live);
	}
	for (i = 1; i <= N; i++)
		CHECK(proc_map_get(&m, i) == (void *)ref[i]);
	proc_map_fini(&m);
}

CHECK_MAIN(map_basic, map_random)
