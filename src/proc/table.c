/* The process table of a container (see table.h). */
#include <errno.h>

#include "base/base.h"
#include "proc/table.h"

#define MID_SHIFT (PROC_TABLE_MID_BITS + PROC_TABLE_LEAF_BITS)

static inline uint32_t
top_index(uint32_t id)
{
	return id >> MID_SHIFT;
}

static inline uint32_t
mid_index(uint32_t id)
{
	return (id >> PROC_TABLE_LEAF_BITS) & (PROC_TABLE_MID - 1);
}

void
proc_table_fini(struct proc_table *t)
{
	uint32_t i, j;

	if (t->top != NULL) {
		for (i = 0; i < PROC_TABLE_TOP; i++) {
			struct proc_table_mid *mid = t->top[i];

			if (mid == NULL)
				continue;
			for (j = 0; j < PROC_TABLE_MID; j++)
				straw_free(mid->leaf[j]);
			straw_free(mid);
		}
		straw_free(t->top);
	}
	proc_table_init(t);
}

int
proc_table_reserve(struct proc_table *t, uint32_t id)
{
	struct proc_table_mid *mid;
	int new_top = 0;

	if (unlikely(t->top == NULL)) {
		t->top = straw_calloc(PROC_TABLE_TOP, sizeof(*t->top));
		if (t->top == NULL)
			return -ENOMEM;
		new_top = 1;
	}
	mid = t->top[top_index(id)];
	if (unlikely(mid == NULL)) {
		mid = straw_calloc(1, sizeof(*mid));
		if (mid == NULL)
			goto fail_top;
		t->top[top_index(id)] = mid;
		t->nodes++;
	}
	if (unlikely(mid->leaf[mid_index(id)] == NULL)) {
		struct proc_table_leaf *leaf = straw_calloc(1, sizeof(*leaf));

		if (leaf == NULL)
			goto fail_mid;
		mid->leaf[mid_index(id)] = leaf;
		mid->leaves++;
		t->nodes++;
	}
	return 0;
fail_mid:
	if (mid->leaves == 0) {
		t->top[top_index(id)] = NULL;
		straw_free(mid);
		t->nodes--;
	}
fail_top:
	if (new_top) {
		straw_free(t->top);
		t->top = NULL;
	}
	return -ENOMEM;
}

int
proc_table_put(struct proc_table *t, uint32_t id, struct proc *p)
{
	struct proc_table_mid *mid;
	struct proc_table_leaf *leaf;
	int rc;

	STRAWI_ASSERT(id != 0 && p != NULL);
	rc = proc_table_reserve(t, id);
	if (rc < 0)
		return rc;
	mid = t->top[top_index(id)];
	leaf = mid->leaf[mid_index(id)];
	STRAWI_ASSERT(leaf->slot[id & (PROC_TABLE_LEAF - 1)] == NULL);
	leaf->slot[id & (PROC_TABLE_LEAF - 1)] = p;
	mid->used[mid_index(id)]++;
	t->len++;
	return 0;
}

struct proc *
proc_table_del(struct proc_table *t, uint32_t id)
{
	struct proc_table_mid *mid;
	struct proc_table_leaf *leaf;
	struct proc *p;

	if (t->top == NULL)
		return NULL;
	mid = t->top[top_index(id)];
	if (mid == NULL)
		return NULL;
	leaf = mid->leaf[mid_index(id)];
	if (leaf == NULL)
		return NULL;
	p = leaf->slot[id & (PROC_TABLE_LEAF - 1)];
	if (p == NULL)
		return NULL;
	leaf->slot[id & (PROC_TABLE_LEAF - 1)] = NULL;
	t->len--;
	if (--mid->used[mid_index(id)] > 0)
		return p;
	/* The leaf is empty: give it back, and the middle node with it when
	 * that was its last leaf. */
	mid->leaf[mid_index(id)] = NULL;
	if (t->hot == leaf) {
		t->hot = NULL;
		t->hot_base = UINT64_MAX;
	}
	straw_free(leaf);
	t->nodes--;
	if (--mid->leaves == 0) {
		t->top[top_index(id)] = NULL;
		straw_free(mid);
		t->nodes--;
	}
	return p;
}

void
proc_table_each(const struct proc_table *t,
                void (*fn)(uint32_t id, struct proc *p, void *arg), void *arg)
{
	uint32_t i, j, k;

	if (t->top == NULL)
		return;
	for (i = 0; i < PROC_TABLE_TOP; i++) {
		const struct proc_table_mid *mid = t->top[i];

		if (mid == NULL)
			continue;
		for (j = 0; j < PROC_TABLE_MID; j++) {
			const struct proc_table_leaf *leaf = mid->leaf[j];

			if (leaf == NULL)
				continue;
			for (k = 0; k < PROC_TABLE_LEAF; k++)
				if (leaf->slot[k] != NULL)
					fn(i << MID_SHIFT |
					           j << PROC_TABLE_LEAF_BITS |
					           k,
					   leaf->slot[k], arg);
		}
	}
}
