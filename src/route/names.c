/*
 * Containers by name: `straw_send_to("web", "cache", m)` needs the id of
 * container "web", which strawd keeps under /names/web.  The router reads
 * it once (an asynchronous registry read; the sender waits for it) and
 * keeps it until the straw to that container dies (a new container may
 * then take the name).  And whereis of {Container, Name}: a registry
 * lookup.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/base.h"
#include "base/hash.h"
#include "registry/client.h"
#include "route/route.h"

/* How long a registry read or lookup may take, at most. */
#define LOOKUP_TIMEOUT_MS 10000

static uint64_t
cname_key(const char *name)
{
	uint64_t h = strawi_hash_bytes(name, strlen(name), 0x6e61);
	return h ? h : 1;
}

void
route_names_init(struct route *r)
{
	proc_map_init(&r->cnames);
}

static void
free_chain(uint64_t key, void *val, void *arg)
{
	struct route_cname *n = val;

	(void)key;
	(void)arg;
	while (n != NULL) {
		struct route_cname *next = n->next;
		straw_free(n);
		n = next;
	}
}

void
route_names_fini(struct route *r)
{
	proc_map_each(&r->cnames, free_chain, NULL);
	proc_map_fini(&r->cnames);
}

static struct route_cname *
cname_find(struct route *r, const char *name)
{
	struct route_cname *n = proc_map_get(&r->cnames, cname_key(name));

	while (n != NULL && strcmp(n->name, name) != 0)
		n = n->next;
	return n;
}

static void
cname_add(struct route *r, const char *name, uint32_t id)
{
	uint64_t key = cname_key(name);
	struct route_cname *head = proc_map_get(&r->cnames, key), *n;
	size_t len = strlen(name);

	if (cname_find(r, name) != NULL)
		return;
	n = straw_malloc(sizeof(*n) + len + 1);
	if (n == NULL)
		return; /* not cached: read again next time */
	n->id = id;
	memcpy(n->name, name, len + 1);
	if (head != NULL) {
		n->next = head->next;
		head->next = n;
	} else {
		n->next = NULL;
		if (proc_map_put(&r->cnames, key, n) < 0)
			straw_free(n);
	}
}

struct forget_ctx {
	struct route *r;
	uint32_t peer;
	uint64_t keys[64]; /* heads to drop (chains of dead names) */
	size_t n;
};

static void
find_dead(uint64_t key, void *val, void *arg)
{
	struct forget_ctx *f = arg;
	struct route_cname *n;

	for (n = val; n != NULL; n = n->next)
		if (n->id == f->peer && f->n < STRAW_ARRAY_LEN(f->keys)) {
			f->keys[f->n++] = key;
			return;
		}
}

void
route_names_forget(struct route *r, uint32_t peer)
{
	struct forget_ctx f;
	size_t i;

	f.r = r;
	f.peer = peer;
	do {
		f.n = 0;
		proc_map_each(&r->cnames, find_dead, &f);
		for (i = 0; i < f.n; i++) {
			/* drop the whole chain: the others are read again */
			free_chain(f.keys[i],
			           proc_map_del(&r->cnames, f.keys[i]), NULL);
		}
	} while (f.n == STRAW_ARRAY_LEN(f.keys));
}

/* ---- asynchronous reads, waited for ----------------------------------- */

struct lookup {
	struct strawi_task task; /* first: its completion, posted */
	struct route *r;         /* holds a reference */
	struct strawi_waiter *w; /* the waiting process or thread */
	int rc;                  /* the result */
	uint64_t num;            /* a lookup's process id */
	char text[32];           /* a read's value (a container id) */
};

static void
lookup_run(struct strawi_task *t)
{
	struct lookup *l = (struct lookup *)t;

	strawi_waiter_done(l->w, l->rc, l->num);
	route_release(l->r);
	straw_free(l);
}

/* The value of a read: a binary term holding decimal digits. */
static int
read_id(const struct reg_async_result *res, uint64_t *id)
{
	const uint8_t *v = res->value;
	uint32_t n;
	uint64_t x = 0;
	size_t i;

	/* 131, BINARY_EXT (109), u32 length, bytes */
	if (v == NULL || res->value_len < 6 || v[0] != 131 || v[1] != 109)
		return -EPROTO;
	n = (uint32_t)v[2] << 24 | (uint32_t)v[3] << 16 | (uint32_t)v[4] << 8 |
	    v[5];
	if (n == 0 || n > 10 || res->value_len != 6 + (size_t)n)
		return -EPROTO;
	for (i = 0; i < n; i++) {
		if (v[6 + i] < '0' || v[6 + i] > '9')
			return -EPROTO;
		x = x * 10 + (uint64_t)(v[6 + i] - '0');
	}
	if (x == 0 || x > UINT32_MAX)
		return -EPROTO;
	*id = x;
	return 0;
}

static void
on_read(void *arg, struct reg_async_result *res)
{
	struct lookup *l = arg;

	l->rc = res->rc;
	if (l->rc == 0)
		l->rc = read_id(res, &l->num);
	else if (l->rc == -ENOENT)
		l->rc = STRAW_ENOCONTAINER;
	if (strawi_proc_post(l->r->c, &l->task) < 0) {
		/* the container is ending: its waiter is gone with it */
		route_release(l->r);
		straw_free(l);
	}
}

static void
on_lookup(void *arg, struct reg_async_result *res)
{
	struct lookup *l = arg;

	l->rc = res->rc;
	l->num = res->num;
	if (strawi_proc_post(l->r->c, &l->task) < 0) {
		route_release(l->r);
		straw_free(l);
	}
}

/* Submits a (made by the caller) and waits for its answer. */
static int
lookup_wait(struct route *r, struct reg_async *a, reg_async_fn fn,
            uint64_t *num, int64_t deadline)
{
	struct lookup *l = straw_calloc(1, sizeof(*l));
	int rc;

	if (l == NULL) {
		reg_async_free(a);
		return -ENOMEM;
	}
	rc = strawi_waiter_new(&l->w);
	if (rc < 0) {
		straw_free(l);
		reg_async_free(a);
		return rc;
	}
	l->r = r;
	l->task.fn = lookup_run;
	atomic_init(&l->task.next, NULL);
	route_hold(r);
	rc = reg_async_submit(r->reg, a, LOOKUP_TIMEOUT_MS, 0, fn, l);
	if (rc < 0) {
		strawi_waiter_cancel(l->w);
		reg_async_free(a);
		route_release(r);
		straw_free(l);
		return rc;
	}
	return strawi_waiter_wait(l->w, deadline, num);
}

int
route_container_id(struct route *r, const char *container, uint32_t *id,
                   int64_t deadline)
{
	size_t n = strlen(container);
	struct route_cname *c;
	struct reg_async *a;
	char path[300];
	uint64_t v = 0;
	int rc;

	if (n == 0 || n > 255)
		return STRAW_ENOCONTAINER;
	if (strspn(container, "0123456789") == n) {
		char *end;
		unsigned long x = strtoul(container, &end, 10);
		if (x == 0 || x > UINT32_MAX)
			return STRAW_ENOCONTAINER;
		*id = (uint32_t)x;
		return 0;
	}
	c = cname_find(r, container);
	if (c != NULL) {
		*id = c->id;
		return 0;
	}
	snprintf(path, sizeof(path), "/names/%s", container);
	rc = reg_async_new_read(&a, path, 64);
	if (rc == STRAW_EBADPATH)
		return STRAW_ENOCONTAINER;
	if (rc < 0)
		return rc;
	rc = lookup_wait(r, a, on_read, &v, deadline);
	if (rc < 0)
		return rc;
	*id = (uint32_t)v;
	cname_add(r, container, *id);
	return 0;
}

int
route_whereis(void *rt, const char *container, const char *name, straw_pid *out,
              int64_t deadline)
{
	struct route *r = rt;
	struct reg_async *a;
	uint32_t id;
	uint64_t proc = 0;
	int rc = route_container_id(r, container, &id, deadline);

	if (rc < 0)
		return rc;
	if (id == r->self) /* a name of ours: cannot happen (proc looks) */
		return STRAW_ENONAME;
	rc = reg_async_new_lookup(&a, container, name);
	if (rc < 0)
		return rc == -EINVAL ? STRAW_ENONAME : rc;
	rc = lookup_wait(r, a, on_lookup, &proc, deadline);
	if (rc < 0)
		return rc;
	if (proc == 0 || proc > UINT32_MAX)
		return STRAW_ENONAME;
	out->machine = r->machine;
	out->container = id;
	out->process = (uint32_t)proc;
	return 0;
}
