/*
 * The container in strawd's registry: joining under its name, mirroring
 * registered names, and publishing the process list for `straw ps
 * CONTAINER` under /containers/<id>/procs/<process> on request (a write to
 * /containers/<id>/ps-request) or every ps_interval_ms.
 *
 * Only the join (before the scheduler thread exists) waits for strawd.
 * Everything after goes out asynchronously on the container's registry
 * connection (src/registry/client.h), in order, and the scheduler thread
 * never waits for an answer: a mirrored name is sent and forgotten (its
 * release prepared in advance), and a publication goes out in parts of
 * PS_PART writes, the answer to each part's last write posting the next
 * part to the scheduler.
 */
#include <errno.h>
#include <inttypes.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>

#include <straw/registry.h>

#include "base/base.h"
#include "base/clock.h"
#include "base/hash.h"
#include "base/log.h"
#include "proc/proc.h"
#include "registry/client.h"

/* Processes listed at most per publication. */
#define PS_MAX 10000
/* Writes of a publication submitted per turn of the scheduler. */
#define PS_PART 256

int
proc_reg_post(straw_container *c, struct strawi_task *t)
{
	struct strawi_sched *s;
	int rc = STRAW_ENOPROC;

	/* As foreign.c's posts: the scheduler is not freed while we post,
	 * and closed means it is ending. */
	atomic_fetch_add(&c->inflight, 1);
	if (!atomic_load(&c->closed) && (s = atomic_load(&c->live)) != NULL) {
		atomic_init(&t->next, NULL);
		strawi_sched_post(s, t);
		rc = 0;
	}
	atomic_fetch_sub(&c->inflight, 1);
	return rc;
}

static void on_ps_part(struct strawi_task *t);

int
proc_reg_join(straw_container *c)
{
	unsigned flags = 0;
	struct proc_reg *g;
	char path[128];
	straw_reg *r;
	uint32_t id, wid;
	int rc;

	if (c->flags & STRAW_CONTAINER_NO_AUTOSTART)
		flags |= STRAW_REG_NO_AUTOSTART;
	g = straw_calloc(1, sizeof(*g));
	if (g == NULL)
		return -ENOMEM;
	rc = straw_reg_connect(&r, NULL, flags);
	if (rc == STRAW_ENODAEMON)
		strawi_log(STRAWI_LOG_ERROR,
		           "container %s: %s (or run it "
		           "without strawd: STRAW_LOCAL=1)",
		           c->name, straw_reg_start_hint());
	if (rc < 0) {
		straw_free(g);
		return rc;
	}
	rc = straw_reg_join(r, c->name, &id);
	if (rc < 0) {
		straw_reg_close(r);
		straw_free(g);
		return rc;
	}
	/* ps requests: a watched node anyone with access may write (set up
	 * here, before the scheduler thread runs, since it waits). */
	snprintf(path, sizeof(path), "/containers/%" PRIu32 "/ps-request", id);
	if (straw_reg_write(r, path, "", 0) == 0 &&
	    straw_reg_watch(r, path, &wid) == 0)
		g->ps_watch.fd = reg_client_event_fd(r);
	else
		g->ps_watch.fd = -1;
	g->c = c;
	proc_map_init(&g->mirrors);
	g->ps_task.fn = on_ps_part;
	c->reg = r;
	c->rg = g;
	c->id = id;
	return 0;
}

static void
drop_mirror(uint64_t key, void *val, void *arg)
{
	struct proc_mirror *m = val;

	(void)key;
	(void)arg;
	while (m != NULL) {
		struct proc_mirror *next = m->next;
		reg_async_free(m->release);
		straw_free(m);
		m = next;
	}
}

void
proc_reg_leave(straw_container *c)
{
	struct proc_reg *g = c->rg;

	/* strawd drops our entries; what is still in flight completes
	 * (-ECANCELED) before straw_reg_close returns. */
	straw_reg_close(c->reg);
	c->reg = NULL;
	if (g == NULL)
		return;
	proc_map_each(&g->mirrors, drop_mirror, NULL);
	proc_map_fini(&g->mirrors);
	straw_free(g->ps_list);
	straw_free(g);
	c->rg = NULL;
}

/* ---- names ------------------------------------------------------------ */

static uint64_t
mirror_key(const char *name)
{
	uint64_t h = strawi_hash_bytes(name, strlen(name), 0x6d69);
	return h ? h : 1;
}

/* Takes the mirror of name out of the map, or NULL. */
static struct proc_mirror *
mirror_take(struct proc_reg *g, const char *name)
{
	uint64_t key = mirror_key(name);
	struct proc_mirror *head = proc_map_get(&g->mirrors, key);
	struct proc_mirror **pp, *m;

	for (pp = &head; (m = *pp) != NULL; pp = &m->next)
		if (strcmp(m->name, name) == 0)
			break;
	if (m == NULL)
		return NULL;
	*pp = m->next;
	proc_map_del(&g->mirrors, key);
	if (head != NULL) /* cannot fail: a slot was just freed */
		STRAWI_ASSERT(proc_map_put(&g->mirrors, key, head) == 0);
	return m;
}

static int
mirror_put(struct proc_reg *g, struct proc_mirror *m)
{
	uint64_t key = mirror_key(m->name);
	struct proc_mirror *head = proc_map_del(&g->mirrors, key);

	m->next = head;
	if (proc_map_put(&g->mirrors, key, m) == 0)
		return 0;
	if (head != NULL) /* cannot fail: the slot was just freed */
		STRAWI_ASSERT(proc_map_put(&g->mirrors, key, head) == 0);
	return -ENOMEM;
}

/* The answer to a register or release (arg: the mirror's name, kept
 * until the release's answer; see proc_reg_name).  I/O thread. */
static void
on_named(void *arg, struct reg_async_result *res)
{
	(void)arg;
	if (res->rc < 0 && res->rc != -ECANCELED)
		strawi_log(STRAWI_LOG_WARN, "registry: name %s: %s",
		           (const char *)arg, straw_strerror(res->rc));
}

/* The release's answer: the mirror goes with it. */
static void
on_released(void *arg, struct reg_async_result *res)
{
	struct proc_mirror *m = arg;

	on_named(m->name, res);
	straw_free(m);
}

/* Sends the registration of name for process, its release prepared. */
static void
mirror_register(struct proc_reg *g, const char *name, uint32_t process)
{
	straw_reg *r = g->c->reg;
	struct reg_async *reg = NULL;
	size_t n = strlen(name);
	struct proc_mirror *m;
	int rc = -ENOMEM;

	m = straw_malloc(sizeof(*m) + n + 1);
	if (m != NULL) {
		memcpy(m->name, name, n + 1);
		m->release = NULL;
		rc = reg_async_new_register(&reg, name, process);
	}
	if (rc == 0)
		rc = reg_async_new_unregister(&m->release, name);
	if (rc == 0)
		rc = mirror_put(g, m);
	/* The mirror outlives both answers (see on_released), so the
	 * register's answer may name it. */
	if (rc == 0) {
		rc = reg_async_submit(r, reg, -1, 0, on_named, m->name);
		if (rc < 0)
			(void)mirror_take(g, name);
	}
	if (rc == 0)
		return;
	strawi_log(STRAWI_LOG_WARN, "registry: name %s not mirrored: %s", name,
	           straw_strerror(rc));
	reg_async_free(reg);
	if (m != NULL)
		reg_async_free(m->release);
	straw_free(m);
}

void
proc_reg_name(straw_container *c, const char *name, uint32_t process)
{
	struct proc_reg *g = c->rg;
	struct proc_mirror *m;

	if (g == NULL || c->stopping)
		return; /* strawd drops the names of a container that left */
	if (process != 0) {
		mirror_register(g, name, process);
		return;
	}
	m = mirror_take(g, name);
	if (m == NULL)
		return; /* never mirrored: nothing to release */
	/* Reserved: neither memory nor a full queue can refuse it, and the
	 * connection closes only after the scheduler thread ended. */
	STRAWI_ASSERT(reg_async_submit(c->reg, m->release, -1,
	                               REG_ASYNC_RESERVED, on_released,
	                               m) == 0);
}

/* ---- the process list --------------------------------------------------- */

static const char *
state_name(int s)
{
	switch (s) {
	case STRAW_PROC_RUNNABLE:
		return "runnable";
	case STRAW_PROC_WAITING:
		return "waiting";
	case STRAW_PROC_SLEEPING:
		return "sleeping";
	case STRAW_PROC_FOREIGN:
		return "foreign";
	default:
		return "exiting";
	}
}

/* Submits a write of path (formatted with the container id) = val; the
 * part's last one (fn set) posts the next part when answered. */
static int
ps_write(struct proc_reg *g, const char *path, const char *val, reg_async_fn fn)
{
	struct reg_async *a = NULL;
	int rc = reg_async_new_write(&a, path, val, strlen(val));

	if (rc == 0)
		rc = reg_async_submit(g->c->reg, a, -1, 0, fn, g);
	if (rc < 0)
		reg_async_free(a);
	return rc;
}

/* The answer to a part's last write.  I/O thread. */
static void
on_part_written(void *arg, struct reg_async_result *res)
{
	struct proc_reg *g = arg;

	(void)res;
	/* Not posted: the container is ending (its teardown frees the
	 * publication). */
	(void)proc_reg_post(g->c, &g->ps_task);
}

static void
ps_done(struct proc_reg *g)
{
	straw_free(g->ps_list);
	g->ps_list = NULL;
	g->ps_busy = 0;
	if (g->ps_again && !g->c->stopping) {
		g->ps_again = 0;
		proc_ps_publish(g->c);
	}
}

/* Submits the next part of the publication: up to PS_PART lines, or, once
 * they are all out, the count and then procs-at (last: it tells a waiting
 * `ps` that the list is complete). */
static void
ps_part(struct proc_reg *g)
{
	uint32_t id = g->c->id;
	char path[128], val[256];
	long end = g->ps_next + PS_PART;
	int rc = 0, last;

	if (g->ps_next > g->ps_n) {
		ps_done(g); /* procs-at was answered */
		return;
	}
	if (end > g->ps_n)
		end = g->ps_n;
	last = end == g->ps_n; /* procs-at's answer posts, then */
	for (; rc == 0 && g->ps_next < end; g->ps_next++) {
		const straw_proc_info *v = &g->ps_list[g->ps_next];
		snprintf(path, sizeof(path),
		         "/containers/%" PRIu32 "/procs/%" PRIu32, id,
		         v->pid.process);
		snprintf(val, sizeof(val),
		         "state=%s mailbox=%zu switches=%" PRIu64
		         " received=%" PRIu64
		         " memory=%zu links=%u monitors=%u trap_exit=%d"
		         " name=%s",
		         state_name(v->state), v->mailbox_len, v->switches,
		         v->reductions, v->memory, v->links, v->monitors,
		         v->trap_exit, v->name);
		rc = ps_write(g, path, val,
		              g->ps_next + 1 == end && !last ? on_part_written
		                                             : NULL);
	}
	if (rc == 0 && last) {
		snprintf(path, sizeof(path),
		         "/containers/%" PRIu32 "/procs-count", id);
		snprintf(val, sizeof(val), "%ld", g->ps_n);
		rc = ps_write(g, path, val, NULL);
		snprintf(path, sizeof(path), "/containers/%" PRIu32 "/procs-at",
		         id);
		snprintf(val, sizeof(val), "%" PRId64, strawi_now_ns());
		if (rc == 0)
			rc = ps_write(g, path, val, on_part_written);
		g->ps_next++; /* past the end: the next answer ends it */
	}
	if (rc < 0) {
		strawi_log(STRAWI_LOG_DEBUG, "registry: process list: %s",
		           straw_strerror(rc));
		ps_done(g);
	}
}

static void
on_ps_part(struct strawi_task *t)
{
	struct proc_reg *g =
	        (struct proc_reg *)((char *)t -
	                            offsetof(struct proc_reg, ps_task));

	if (g->c->stopping) {
		g->ps_again = 0;
		ps_done(g);
		return;
	}
	ps_part(g);
}

void
proc_ps_publish(straw_container *c)
{
	struct proc_reg *g = c->rg;
	char path[128];
	int rc;

	if (g == NULL || c->stopping)
		return;
	if (g->ps_busy) {
		g->ps_again = 1;
		return;
	}
	g->ps_list = straw_malloc(PS_MAX * sizeof(*g->ps_list));
	if (g->ps_list == NULL)
		return;
	g->ps_n = proc_list(c, g->ps_list, PS_MAX);
	if (g->ps_n > PS_MAX)
		g->ps_n = PS_MAX;
	g->ps_next = 0;
	g->ps_busy = 1;
	snprintf(path, sizeof(path), "/containers/%" PRIu32 "/procs", c->id);
	{
		struct reg_async *a = NULL;
		rc = reg_async_new_rm(&a, path);
		if (rc == 0)
			rc = reg_async_submit(c->reg, a, -1, 0, NULL, NULL);
		if (rc < 0) {
			reg_async_free(a);
			ps_done(g);
			return;
		}
	}
	ps_part(g);
}

/* The registry connection's events: a ps request (or a resync). */
static void
on_reg_event(struct strawi_watch *w, uint32_t revents)
{
	straw_container *c = w->arg;
	straw_reg_event ev;
	int any = 0;

	(void)revents;
	while (reg_client_event_pop(c->reg, &ev))
		any = 1;
	if (any)
		proc_ps_publish(c);
}

static void
on_ps_timer(struct strawi_timer *t)
{
	straw_container *c = t->arg;

	proc_ps_publish(c);
	(void)strawi_timer_add(c->sched, &c->ps_timer,
	                       strawi_now_ns() +
	                               (int64_t)c->ps_interval_ms * 1000000);
}

void
proc_reg_start(straw_container *c)
{
	struct proc_reg *g = c->rg;

	strawi_timer_init(&c->ps_timer, on_ps_timer, c);
	if (g == NULL)
		return;
	if (g->ps_watch.fd >= 0) {
		g->ps_watch.events = EPOLLIN;
		g->ps_watch.cb = on_reg_event;
		g->ps_watch.arg = c;
		g->ps_watch_on = strawi_watch_add(c->sched, &g->ps_watch) == 0;
	}
	if (c->ps_interval_ms > 0)
		(void)strawi_timer_add(c->sched, &c->ps_timer, strawi_now_ns());
}

void
proc_reg_idle(straw_container *c)
{
	struct proc_reg *g = c->rg;

	if (g != NULL && g->ps_watch_on) {
		strawi_watch_del(c->sched, &g->ps_watch);
		g->ps_watch_on = 0;
	}
	strawi_timer_cancel(c->sched, &c->ps_timer);
}
