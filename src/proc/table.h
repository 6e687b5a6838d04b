/*
 * src/proc/table.h - the process table of a container: process id ->
 * struct proc, a three-level radix tree over the 32-bit id (14 + 9 + 9
 * bits).
 *
 * Process ids are given in sequence, so the processes spawned one after
 * the other sit next to each other in one 4 KiB leaf (512 ids): a spawn or
 * a lookup of a recent id touches memory already in cache and in the TLB,
 * where a hash table spreads them over the whole table (one cache and TLB
 * miss per spawn at a million processes) and rehashes it as it grows.  A
 * leaf is freed when its last process goes, a middle node (512 leaves)
 * when its last leaf goes, so the table holds about 8 bytes per process
 * when the live ids are dense, and at worst one leaf and one middle node
 * (8 KiB) per process when every live process is alone in its 512 ids.
 * One thread at a time (the container's scheduler thread).
 */
#ifndef STRAW_PROC_TABLE_H
#define STRAW_PROC_TABLE_H

#include <stddef.h>
#include <stdint.h>

#define PROC_TABLE_LEAF_BITS 9
#define PROC_TABLE_MID_BITS  9
#define PROC_TABLE_TOP_BITS  (32 - PROC_TABLE_MID_BITS - PROC_TABLE_LEAF_BITS)
#define PROC_TABLE_LEAF      (1u << PROC_TABLE_LEAF_BITS) /* ids a leaf */
#define PROC_TABLE_MID       (1u << PROC_TABLE_MID_BITS)  /* leaves a mid */
#define PROC_TABLE_TOP       (1u << PROC_TABLE_TOP_BITS)  /* mids a table */

struct proc;

/* PROC_TABLE_LEAF consecutive ids. */
struct proc_table_leaf {
	struct proc *slot[PROC_TABLE_LEAF]; /* by the id's low bits; NULL */
};

/* PROC_TABLE_MID consecutive leaves. */
struct proc_table_mid {
	struct proc_table_leaf *leaf[PROC_TABLE_MID]; /* or NULL */
	uint16_t used[PROC_TABLE_MID]; /* processes in each leaf */
	uint32_t leaves;               /* leaves allocated */
};

struct proc_table {
	uint64_t hot_base;           /* id >> LEAF_BITS of hot, or ~0 */
	struct proc_table_leaf *hot; /* the leaf found last, or NULL */
	struct proc_table_mid **top; /* PROC_TABLE_TOP entries, or NULL */
	size_t len;                  /* processes in the table */
	size_t nodes;                /* leaves and middle nodes allocated */
};

static inline void
proc_table_init(struct proc_table *t)
{
	t->hot_base = UINT64_MAX;
	t->hot = NULL;
	t->top = NULL;
	t->len = 0;
	t->nodes = 0;
}

/* Frees the nodes (not the processes).  Accepts an empty table. */
void proc_table_fini(struct proc_table *t);

/* The process of id, or NULL.  The leaf it finds is remembered: messages
 * tend to go to the same few processes, and a lookup in the remembered
 * leaf is one load instead of three. */
static inline struct proc *
proc_table_get(struct proc_table *t, uint32_t id)
{
	const struct proc_table_mid *mid;
	struct proc_table_leaf *leaf;

	if (t->hot_base == id >> PROC_TABLE_LEAF_BITS)
		return t->hot->slot[id & (PROC_TABLE_LEAF - 1)];
	if (t->top == NULL)
		return NULL;
	mid = t->top[id >> (PROC_TABLE_MID_BITS + PROC_TABLE_LEAF_BITS)];
	if (mid == NULL)
		return NULL;
	leaf = mid->leaf[(id >> PROC_TABLE_LEAF_BITS) & (PROC_TABLE_MID - 1)];
	if (leaf == NULL)
		return NULL;
	t->hot_base = id >> PROC_TABLE_LEAF_BITS;
	t->hot = leaf;
	return leaf->slot[id & (PROC_TABLE_LEAF - 1)];
}

/*
 * Makes sure the nodes that will hold id exist, so that a following
 * proc_table_put of id cannot fail.  Returns 0 or -ENOMEM (table
 * unchanged).  A reserved id that is never put may leave empty nodes,
 * freed with the table or when their neighbours go.
 */
int proc_table_reserve(struct proc_table *t, uint32_t id);

/* Inserts p under id (absent, nonzero).  Returns 0 or -ENOMEM (table
 * unchanged); never fails after proc_table_reserve(t, id). */
int proc_table_put(struct proc_table *t, uint32_t id, struct proc *p);

/* Removes id; returns its process, or NULL if absent. */
struct proc *proc_table_del(struct proc_table *t, uint32_t id);

/* Calls fn for every process in id order (fn must not change the
 * table). */
void proc_table_each(const struct proc_table *t,
                     void (*fn)(uint32_t id, struct proc *p, void *arg),
                     void *arg);

#endif /* STRAW_PROC_TABLE_H */
