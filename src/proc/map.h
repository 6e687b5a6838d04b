/*
 * src/proc/map.h - an open-addressing hash map from nonzero 64-bit keys to
 * pointers: the process table (process id -> process), timers and
 * monitors.  Linear probing with backward-shift deletion (no tombstones),
 * capacity a power of two, at most 3/4 full.  One thread at a time.
 */
#ifndef STRAW_PROC_MAP_H
#define STRAW_PROC_MAP_H

#include <stddef.h>
#include <stdint.h>

struct proc_map_slot {
	uint64_t key; /* 0: empty */
	void *val;    /* the value */
};

struct proc_map {
	struct proc_map_slot *slots; /* cap slots, or NULL */
	size_t cap;                  /* a power of two, or 0 */
	size_t len;                  /* keys present */
};

static inline void
proc_map_init(struct proc_map *m)
{
	m->slots = NULL;
	m->cap = 0;
	m->len = 0;
}

/* Frees the slots (not the values).  Accepts an empty map. */
void proc_map_fini(struct proc_map *m);

static inline size_t
proc_map_hash(uint64_t k)
{
	k ^= k >> 33;
	k *= 0xff51afd7ed558ccdULL;
	k ^= k >> 33;
	return (size_t)k;
}

/* The value of key, or NULL. */
static inline void *
proc_map_get(const struct proc_map *m, uint64_t key)
{
	size_t mask = m->cap - 1, i;

	if (m->cap == 0)
		return NULL;
	for (i = proc_map_hash(key) & mask;; i = (i + 1) & mask) {
		if (m->slots[i].key == key)
			return m->slots[i].val;
		if (m->slots[i].key == 0)
			return NULL;
	}
}

/* Inserts key (absent, nonzero).  Returns 0 or -ENOMEM (map unchanged). */
int proc_map_put(struct proc_map *m, uint64_t key, void *val);

/* Removes key; returns its value or NULL if absent. */
void *proc_map_del(struct proc_map *m, uint64_t key);

/* Calls fn for every entry (fn must not change the map). */
void proc_map_each(const struct proc_map *m,
                   void (*fn)(uint64_t key, void *val, void *arg), void *arg);

#endif /* STRAW_PROC_MAP_H */
