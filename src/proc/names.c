/*
 * Registered names: a name belongs to one process of the container, a
 * process has at most one, and it goes when the process ends.  Names are
 * mirrored in strawd's registry (proc_reg_name, reg.c).
 *
 * Threads: the scheduler thread changes the table, under names_mu; an
 * attached thread reads it under names_mu (so its send by name and
 * whereis need no round trip to the scheduler thread); the scheduler
 * thread reads it without the lock (it is the only writer).
 */
#include <errno.h>
#include <string.h>

#include "base/base.h"
#include "base/hash.h"
#include "proc/proc.h"

static uint64_t
name_key(const char *name)
{
	uint64_t h = strawi_hash_bytes(name, strlen(name), 0x5157);
	return h ? h : 1;
}

static struct proc_name *
name_find(straw_container *c, const char *name)
{
	struct proc_name *n = proc_map_get(&c->names, name_key(name));

	while (n != NULL && strcmp(n->name, name) != 0)
		n = n->next;
	return n;
}

static int
name_valid(const char *name)
{
	size_t n;

	if (name == NULL)
		return 0;
	n = strlen(name);
	return n >= 1 && n <= 255;
}

/* Takes name out of the table (under names_mu) and frees it. */
static void
name_remove(straw_container *c, struct proc_name *n)
{
	uint64_t key = name_key(n->name);
	struct proc_name *head = proc_map_get(&c->names, key), **pp;

	pthread_mutex_lock(&c->names_mu);
	if (head == n) {
		proc_map_del(&c->names, key);
		if (n->next != NULL) /* cannot fail: a slot was just freed */
			STRAWI_ASSERT(proc_map_put(&c->names, key, n->next) ==
			              0);
	} else {
		for (pp = &head->next; *pp != n; pp = &(*pp)->next)
			;
		*pp = n->next;
	}
	pthread_mutex_unlock(&c->names_mu);
	n->p->name = NULL;
	proc_reg_name(c, n->name, 0);
	straw_free(n);
}

int
proc_name_register(struct proc *self, const char *name, straw_pid pid)
{
	straw_container *c = self->c;
	struct proc *t;
	struct proc_name *n, *head;
	size_t len;
	uint64_t key;
	int rc = 0;

	if (!proc_pid_local(c, pid))
		return -EHOSTUNREACH;
	if (!name_valid(name))
		return -EINVAL;
	t = proc_lookup(c, pid);
	if (t == NULL || t->life != PROC_ALIVE)
		return STRAW_ENOPROC;
	if (t->name != NULL || name_find(c, name) != NULL)
		return STRAW_ENAMETAKEN;
	len = strlen(name);
	n = straw_malloc(sizeof(*n) + len + 1);
	if (n == NULL)
		return -ENOMEM;
	memcpy(n->name, name, len + 1);
	n->p = t;
	key = name_key(name);
	pthread_mutex_lock(&c->names_mu);
	head = proc_map_get(&c->names, key);
	if (head != NULL) { /* second in the chain: no map change */
		n->next = head->next;
		head->next = n;
	} else {
		n->next = NULL;
		rc = proc_map_put(&c->names, key, n);
	}
	pthread_mutex_unlock(&c->names_mu);
	if (rc < 0) {
		straw_free(n);
		return -ENOMEM;
	}
	t->name = n->name;
	proc_reg_name(c, n->name, t->id);
	return 0;
}

int
proc_name_unregister(straw_container *c, const char *name)
{
	struct proc_name *n = name_valid(name) ? name_find(c, name) : NULL;

	if (n == NULL)
		return STRAW_ENONAME;
	name_remove(c, n);
	return 0;
}

int
proc_name_whereis(straw_container *c, const char *name, straw_pid *pid)
{
	struct proc_name *n;
	int on_thread = proc_tls_container == c, rc = STRAW_ENONAME;

	if (!name_valid(name))
		return STRAW_ENONAME;
	if (!on_thread)
		pthread_mutex_lock(&c->names_mu);
	n = name_find(c, name);
	if (n != NULL) {
		*pid = proc_pid_of(n->p);
		rc = 0;
	}
	if (!on_thread)
		pthread_mutex_unlock(&c->names_mu);
	return rc;
}

void
proc_name_release(struct proc *p)
{
	if (p->name != NULL)
		name_remove(p->c, name_find(p->c, p->name));
}

static void
drop_name(uint64_t key, void *val, void *arg)
{
	struct proc_name *n = val;

	(void)key;
	(void)arg;
	while (n != NULL) {
		struct proc_name *next = n->next;
		straw_free(n);
		n = next;
	}
}

void
proc_names_fini(straw_container *c)
{
	pthread_mutex_lock(&c->names_mu);
	proc_map_each(&c->names, drop_name, NULL);
	proc_map_fini(&c->names);
	pthread_mutex_unlock(&c->names_mu);
}
