/* The hash map of the process layer (see map.h). */
#include <errno.h>

#include "base/base.h"
#include "proc/map.h"

void
proc_map_fini(struct proc_map *m)
{
	straw_free(m->slots);
	proc_map_init(m);
}

static void
map_insert_slot(struct proc_map_slot *slots, size_t cap, uint64_t key,
                void *val)
{
	size_t mask = cap - 1, i = proc_map_hash(key) & mask;

	while (slots[i].key != 0)
		i = (i + 1) & mask;
	slots[i].key = key;
	slots[i].val = val;
}

static int
map_grow(struct proc_map *m)
{
	size_t cap = m->cap ? m->cap * 2 : 16, i;
	struct proc_map_slot *s = straw_calloc(cap, sizeof(*s));

	if (s == NULL)
		return -ENOMEM;
	for (i = 0; i < m->cap; i++)
		if (m->slots[i].key != 0)
			map_insert_slot(s, cap, m->slots[i].key,
			                m->slots[i].val);
	straw_free(m->slots);
	m->slots = s;
	m->cap = cap;
	return 0;
}

int
proc_map_put(struct proc_map *m, uint64_t key, void *val)
{
	STRAWI_ASSERT(key != 0);
	if ((m->len + 1) * 4 > m->cap * 3) {
		int rc = map_grow(m);
		if (rc < 0)
			return rc;
	}
	map_insert_slot(m->slots, m->cap, key, val);
	m->len++;
	return 0;
}

void *
proc_map_del(struct proc_map *m, uint64_t key)
{
	size_t mask = m->cap - 1, i, j;
	void *val;

	if (m->cap == 0)
		return NULL;
	for (i = proc_map_hash(key) & mask;; i = (i + 1) & mask) {
		if (m->slots[i].key == 0)
			return NULL;
		if (m->slots[i].key == key)
			break;
	}
	val = m->slots[i].val;
	/* Backward shift: move later entries of the cluster into the hole
	 * when their home slot is not between the hole and them. */
	for (j = (i + 1) & mask; m->slots[j].key != 0; j = (j + 1) & mask) {
		size_t home = proc_map_hash(m->slots[j].key) & mask;
		if (((j - home) & mask) >= ((j - i) & mask)) {
			m->slots[i] = m->slots[j];
			i = j;
		}
	}
	m->slots[i].key = 0;
	m->slots[i].val = NULL;
	m->len--;
	return val;
}

void
proc_map_each(const struct proc_map *m,
              void (*fn)(uint64_t key, void *val, void *arg), void *arg)
{
	size_t i;

	for (i = 0; i < m->cap; i++)
		if (m->slots[i].key != 0)
			fn(m->slots[i].key, m->slots[i].val, arg);
}
