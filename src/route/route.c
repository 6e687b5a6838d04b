/*
 * The router of a container: its life (the container extension the
 * runtime starts it with), its table of straws and of peers known to be
 * gone, the standing accept of the straws other containers open to it,
 * and the router ops the process layer calls (src/proc/router.h).
 * Straws themselves are in straw.c, names of containers in names.c, the
 * registry entries in publish.c.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/base.h"
#include "base/clock.h"
#include "base/log.h"
#include "registry/client.h"
#include "route/route.h"
#include "tube/tube_impl.h"

/* The router of the container running in this OS process (one at a
 * time), set and read on its scheduler thread. */
static struct route *the_route;

static struct route *
route_of(straw_container *c)
{
	return the_route != NULL && the_route->c == c ? the_route : NULL;
}

static void
route_set(straw_container *c, struct route *r)
{
	(void)c;
	the_route = r;
}

/* ---- references ----------------------------------------------------------- */

void
route_hold(struct route *r)
{
	atomic_fetch_add(&r->refs, 1);
}

void
route_release(struct route *r)
{
	if (atomic_fetch_sub(&r->refs, 1) != 1)
		return;
	route_names_fini(r);
	proc_map_fini(&r->straws);
	proc_map_fini(&r->dead);
	straw_free(r);
}

/* ---- the table ------------------------------------------------------------ */

struct straw *
route_straw_find(struct route *r, uint32_t peer)
{
	return proc_map_get(&r->straws, (uint64_t)peer + 1);
}

void
route_dead_add(struct route *r, uint32_t peer, int err)
{
	uint64_t key = (uint64_t)peer + 1;
	uint32_t old = r->dead_ring[r->dead_next];
	void *val = (void *)(intptr_t)(err != 0 ? err : 1);

	if (proc_map_get(&r->dead, key) != NULL) {
		proc_map_del(&r->dead, key);
		(void)proc_map_put(&r->dead, key, val);
		return;
	}
	if (old != 0)
		proc_map_del(&r->dead, (uint64_t)old + 1);
	if (proc_map_put(&r->dead, key, val) == 0) {
		r->dead_ring[r->dead_next] = peer;
		r->dead_next = (r->dead_next + 1) % ROUTE_DEAD_MAX;
	}
}

void
route_straw_forget(struct route *r, struct straw *s, int err)
{
	proc_map_del(&r->straws, (uint64_t)s->peer + 1);
	route_undirty(s);
	route_names_forget(r, s->peer);
	route_dead_add(r, s->peer, err);
	route_unpublish(r, s->peer);
}

struct straw *
route_straw_get(struct route *r, uint32_t peer, int *err)
{
	struct straw *s = route_straw_find(r, peer);
	intptr_t dead;
	int rc;

	if (s != NULL)
		return s;
	dead = (intptr_t)proc_map_get(&r->dead, (uint64_t)peer + 1);
	if (dead != 0) {
		*err = dead == 1 ? 0 : (int)dead;
		return NULL;
	}
	if (peer == r->self) {
		*err = -EHOSTUNREACH; /* cannot happen: ours are local */
		return NULL;
	}
	s = straw_new(r, peer);
	if (s == NULL || proc_map_put(&r->straws, (uint64_t)peer + 1, s) < 0) {
		straw_free(s);
		*err = -ENOMEM;
		return NULL;
	}
	rc = straw_open(s);
	if (rc < 0) {
		proc_map_del(&r->straws, (uint64_t)peer + 1);
		straw_free(s);
		*err = rc;
		return NULL;
	}
	route_dirty(s);
	return s;
}

/* ---- asynchronous completions ----------------------------------------- */

/* What an open or accept hands back to the scheduler. */
struct tube_done {
	struct strawi_task task; /* first */
	struct route *r;         /* holds a reference */
	uint32_t peer;           /* an open's peer */
	int accept;              /* an accept's */
	int rc;                  /* its result */
	straw_tube *t;           /* its tube */
};

static void route_accept(struct route *r);

static void
tube_done_run(struct strawi_task *task)
{
	struct tube_done *d = (struct tube_done *)task;
	struct route *r = d->r;

	strawi_log(STRAWI_LOG_DEBUG, "router: %s %" PRIu32 ": %s",
	           d->accept ? "accept" : "open to", d->peer,
	           d->rc == 0 ? "done" : straw_strerror(d->rc));
	if (r->stopped) {
		straw_tube_close(d->t);
	} else if (d->accept) {
		r->accepting = 0;
		if (d->rc == 0) {
			straw_tube_info info;
			struct straw *s;
			int err = 0;
			straw_tube_get_info(d->t, &info);
			s = route_straw_find(r, info.peer);
			if (s == NULL &&
			    proc_map_get(&r->dead, (uint64_t)info.peer + 1) !=
			            NULL)
				/* it was gone and is back: a new straw */
				proc_map_del(&r->dead, (uint64_t)info.peer + 1);
			if (s == NULL)
				s = route_straw_get(r, info.peer, &err);
			if (s != NULL)
				straw_accepted(s, d->t);
			else
				straw_tube_close(d->t);
		} else if (d->rc != -ECANCELED) {
			if (d->rc != -ECONNRESET && d->rc != -ETIMEDOUT)
				strawi_log(STRAWI_LOG_WARN,
				           "router: accepting straws: %s",
				           straw_strerror(d->rc));
		}
		route_accept(r);
	} else {
		struct straw *s = route_straw_find(r, d->peer);
		if (s != NULL && s->state != STRAW_DEAD)
			straw_opened(s, d->rc, d->t);
		else
			straw_tube_close(d->t);
	}
	straw_free(d);
	route_release(r);
}

/* On the registry connection's I/O thread: hand it to the scheduler. */
static void
tube_done_io(void *arg, int rc, straw_tube *t)
{
	struct tube_done *d = arg;

	d->rc = rc;
	d->t = t;
	d->task.fn = tube_done_run;
	atomic_init(&d->task.next, NULL);
	if (strawi_proc_post(d->r->c, &d->task) < 0) {
		/* the container is ending: nobody wants it */
		straw_tube_close(t);
		route_release(d->r);
		straw_free(d);
	}
}

int
straw_open(struct straw *s)
{
	struct route *r = s->r;
	struct tube_done *d = straw_calloc(1, sizeof(*d));
	char peer[16];
	int rc;

	if (d == NULL)
		return -ENOMEM;
	d->r = r;
	d->peer = s->peer;
	snprintf(peer, sizeof(peer), "%" PRIu32, s->peer);
	route_hold(r);
	rc = strawi_tube_open_async(r->reg, peer, ROUTE_SERVICE, s->next_tid++,
	                            STRAW_TUBE_RELIABLE, ROUTE_OPEN_TIMEOUT_MS,
	                            tube_done_io, d);
	if (rc < 0) {
		route_release(r);
		straw_free(d);
	}
	return rc;
}

/* Keeps one accept of straws out. */
static void
route_accept(struct route *r)
{
	static const straw_tube_filter filter = {ROUTE_SERVICE, 0, UINT32_MAX};
	struct tube_done *d;
	int rc;

	if (r->accepting || r->stopped)
		return;
	d = straw_calloc(1, sizeof(*d));
	if (d == NULL) {
		strawi_log(STRAWI_LOG_ERROR,
		           "router: out of memory: no straw is accepted");
		return;
	}
	d->r = r;
	d->accept = 1;
	route_hold(r);
	rc = strawi_tube_accept_async(r->reg, &filter, -1, tube_done_io, d);
	if (rc < 0) {
		strawi_log(STRAWI_LOG_ERROR, "router: accepting straws: %s",
		           straw_strerror(rc));
		route_release(r);
		straw_free(d);
		return;
	}
	r->accepting = 1;
}

/* ---- the ops -------------------------------------------------------------- */

/* Whether pid can be reached through a straw (a container of this
 * machine): 0, or the code to return. */
static int
reachable(const struct route *r, straw_pid pid)
{
	if (pid.machine != r->machine)
		return -EHOSTUNREACH; /* other machines: the distribution */
	return 0;
}

/* An item of a send queue. */
static struct route_out *
out_new(uint8_t type, uint32_t to, uint32_t from)
{
	struct route_out *o = straw_calloc(1, sizeof(*o));

	if (o != NULL) {
		o->type = type;
		o->to = to;
		o->from = from;
	}
	return o;
}

/* The process layer hears that peer is gone, in the scheduler context:
 * for a link or monitor made to a container that is not there. */
struct gone_later {
	struct strawi_task task; /* first */
	struct route *r;         /* holds a reference */
	uint32_t peer;
};

static void
gone_later_run(struct strawi_task *t)
{
	struct gone_later *g = (struct gone_later *)t;

	if (!g->r->stopped)
		strawi_proc_peer_gone(g->r->c, g->r->machine, g->peer);
	route_release(g->r);
	straw_free(g);
}

static void
route_peer_gone_later(struct route *r, uint32_t peer)
{
	struct gone_later *g = straw_malloc(sizeof(*g));

	if (g == NULL) {
		strawi_log(STRAWI_LOG_ERROR,
		           "router: out of memory: a link or monitor to gone "
		           "container %" PRIu32 " waits for the router's end",
		           peer);
		return;
	}
	g->task.fn = gone_later_run;
	atomic_init(&g->task.next, NULL);
	g->r = r;
	g->peer = peer;
	route_hold(r);
	strawi_sched_post(strawi_proc_sched(r->c), &g->task);
}

static int
is_message(const struct route_out *o)
{
	return o->type == ROUTE_MSG || o->type == ROUTE_MSG_NAME;
}

/*
 * Sends item o (its term a reference the item owns) on the straw to peer.
 * With may_wait (a process's send), a process whose straw has no room
 * parks until its item is written and gets the result.  Otherwise nothing
 * waits: the item is written now or queued, and its waiter, if it has one
 * (an attached thread's), gets the result through route_out_done.
 * Returns the result when it is known now, else 0.  Scheduler thread.
 */
static int
send_item(struct route *r, uint32_t peer, struct route_out *o, int64_t deadline,
          int may_wait)
{
	struct strawi_waiter *w;
	struct straw *s;
	int err = 0, rc;

	s = route_straw_get(r, peer, &err);
	if (s == NULL) {
		if (is_message(o) && err == 0)
			r->dropped++; /* to a gone container: dropped */
		if (!is_message(o) && o->type != ROUTE_DOWN &&
		    o->type != ROUTE_EXIT)
			route_peer_gone_later(r, peer); /* noconnection */
		route_out_done(o, err);
		return err;
	}
	if (is_message(o) && s->peer_max != 0 &&
	    straw_msg_len(o->term) > s->peer_max) {
		route_out_done(o, -EMSGSIZE);
		return -EMSGSIZE;
	}
	rc = straw_try_direct(s, o);
	if (rc != 0) {
		/* written, or the peer is gone (dropped, as Erlang does) */
		route_out_done(o, 0);
		return 0;
	}
	if (!may_wait || o->w != NULL) {
		straw_queue(s, o);
		return 0;
	}
	rc = strawi_waiter_new(&w);
	if (rc < 0) {
		route_out_done(o, rc);
		return rc;
	}
	o->w = w;
	s->waits++;
	route_dirty(s);
	/* The queue may write o at once and free it: wait on w alone. */
	straw_queue(s, o);
	return strawi_waiter_wait(w, deadline, NULL);
}

/* An attached thread's send, done by the scheduler thread. */
struct foreign_send {
	struct strawi_task task; /* first */
	struct route *r;         /* holds a reference */
	uint32_t peer;           /* the destination's container */
	struct route_out *o;     /* what to send, with the thread's waiter */
};

static void
foreign_send_run(struct strawi_task *t)
{
	struct foreign_send *f = (struct foreign_send *)t;
	struct route *r = f->r;

	if (r->stopped)
		route_out_done(f->o, -ECANCELED);
	else
		(void)send_item(r, f->peer, f->o, STRAWI_FOREVER, 0);
	route_release(r);
	straw_free(f);
}

/* From an attached thread: the scheduler thread sends o; the thread waits
 * until it is written (backpressure) or failed. */
static int
foreign_send(struct route *r, uint32_t peer, struct route_out *o,
             int64_t deadline)
{
	struct foreign_send *f = straw_malloc(sizeof(*f));
	struct strawi_waiter *w;
	int rc;

	if (f == NULL) {
		route_out_done(o, 0);
		return -ENOMEM;
	}
	rc = strawi_waiter_new(&o->w);
	if (rc < 0) {
		straw_free(f);
		route_out_done(o, 0);
		return rc;
	}
	w = o->w;
	f->task.fn = foreign_send_run;
	atomic_init(&f->task.next, NULL);
	f->r = r;
	f->peer = peer;
	f->o = o;
	route_hold(r);
	rc = strawi_proc_post(r->c, &f->task);
	if (rc < 0) {
		route_release(r);
		straw_free(f);
		route_out_done(o, rc); /* completes w */
	}
	return strawi_waiter_wait(w, deadline, NULL);
}

/* Sends a message item from the calling process or attached thread. */
static int
send_message(struct route *r, uint32_t peer, struct route_out *o,
             int64_t deadline)
{
	if (strawi_proc_container_here() != r->c)
		return foreign_send(r, peer, o, deadline);
	return send_item(r, peer, o, deadline, 1);
}

static int
op_send(void *rt, straw_pid from, straw_pid to, straw_msg *m, int64_t deadline)
{
	struct route *r = rt;
	struct route_out *o;
	int rc = reachable(r, to);

	if (rc == 0 && straw_msg_len(m) > r->max_message)
		rc = -EMSGSIZE;
	if (rc == 0 &&
	    (o = out_new(ROUTE_MSG, to.process, from.process)) == NULL)
		rc = -ENOMEM;
	if (rc < 0) {
		straw_msg_unref(m);
		return rc;
	}
	o->term = m;
	return send_message(r, to.container, o, deadline);
}

static int
op_send_name(void *rt, straw_pid from, const char *container, const char *name,
             straw_msg *m, int64_t deadline)
{
	struct route *r = rt;
	struct route_out *o = NULL;
	uint32_t id = 0;
	int rc = 0;

	if (strlen(name) > 255 || *name == '\0')
		rc = STRAW_ENONAME;
	else if (straw_msg_len(m) > r->max_message)
		rc = -EMSGSIZE;
	if (rc == 0)
		rc = route_container_id(r, container, &id, deadline);
	if (rc == 0 && (o = out_new(ROUTE_MSG_NAME, 0, from.process)) == NULL)
		rc = -ENOMEM;
	if (rc == 0 && (o->name = straw_malloc(strlen(name) + 1)) == NULL)
		rc = -ENOMEM;
	if (rc < 0) {
		straw_free(o);
		straw_msg_unref(m);
		return rc;
	}
	memcpy(o->name, name, strlen(name) + 1);
	o->term = m;
	return send_message(r, id, o, deadline);
}

/* Queues a signal frame (never waits). */
static int
signal_item(struct route *r, uint8_t type, straw_pid local, straw_pid remote,
            uint64_t ref, const straw_msg *reason, int kind)
{
	struct route_out *o;
	int rc = reachable(r, remote);

	if (rc < 0)
		return rc;
	o = out_new(type, remote.process, local.process);
	if (o == NULL)
		return -ENOMEM;
	o->ref = ref;
	o->kind = (uint8_t)kind;
	if (reason != NULL)
		o->term = straw_msg_ref((straw_msg *)reason);
	(void)send_item(r, remote.container, o, STRAWI_FOREVER, 0);
	return 0;
}

static int
op_link(void *rt, straw_pid local, straw_pid remote)
{
	return signal_item(rt, ROUTE_LINK, local, remote, 0, NULL, 0);
}

static int
op_unlink(void *rt, straw_pid local, straw_pid remote)
{
	return signal_item(rt, ROUTE_UNLINK, local, remote, 0, NULL, 0);
}

static int
op_monitor(void *rt, straw_pid watcher, straw_pid target, straw_ref ref)
{
	return signal_item(rt, ROUTE_MONITOR, watcher, target, ref.id, NULL, 0);
}

static int
op_demonitor(void *rt, straw_pid watcher, straw_pid target, straw_ref ref)
{
	return signal_item(rt, ROUTE_DEMONITOR, watcher, target, ref.id, NULL,
	                   0);
}

static int
op_exit(void *rt, straw_pid from, straw_pid to, const straw_msg *reason,
        int kind)
{
	return signal_item(rt, ROUTE_EXIT, from, to, 0, reason, kind);
}

static int
op_down(void *rt, straw_pid target, straw_pid watcher, straw_ref ref,
        const straw_msg *reason)
{
	return signal_item(rt, ROUTE_DOWN, target, watcher, ref.id, reason, 0);
}

static const struct strawi_router_ops route_ops = {
        .version = STRAWI_ROUTER_OPS_VERSION,
        .send = op_send,
        .send_name = op_send_name,
        .whereis = route_whereis,
        .link = op_link,
        .unlink = op_unlink,
        .monitor = op_monitor,
        .demonitor = op_demonitor,
        .exit = op_exit,
        .down = op_down,
};

/* ---- the container extension ----------------------------------------- */

static int
ext_start(straw_container *c, void *arg)
{
	struct route *r;
	int rc;

	(void)arg;
	if (strawi_proc_registry(c) == NULL)
		return 0; /* a local container: no other container to reach */
	r = straw_calloc(1, sizeof(*r));
	if (r == NULL)
		return -ENOMEM;
	r->c = c;
	r->reg = strawi_proc_registry(c);
	r->self = straw_container_id(c);
	r->machine = straw_container_machine(c);
	r->max_message = strawi_proc_max_message(c);
	atomic_init(&r->refs, 1);
	proc_map_init(&r->straws);
	proc_map_init(&r->dead);
	route_names_init(r);
	route_publish_init(r);
	rc = strawi_proc_router_set(c, &route_ops, r);
	if (rc < 0) {
		route_release(r);
		return rc;
	}
	route_set(c, r);
	route_accept(r);
	return 0;
}

struct straw_list {
	struct straw **v; /* collected */
	size_t n;         /* how many */
};

static void
count_straw(uint64_t key, void *val, void *arg)
{
	(void)key;
	(void)val;
	(*(size_t *)arg)++;
}

static void
collect_straw(uint64_t key, void *val, void *arg)
{
	struct straw_list *l = arg;

	(void)key;
	l->v[l->n++] = val;
}

/* Ends every straw (the table changes as they go). */
static void
kill_all(struct route *r, int err)
{
	struct straw_list l = {NULL, 0};
	size_t n = 0, i;

	proc_map_each(&r->straws, count_straw, &n);
	if (n == 0)
		return;
	l.v = straw_malloc(n * sizeof(*l.v));
	if (l.v == NULL) {
		strawi_log(STRAWI_LOG_ERROR,
		           "router: out of memory: straws stay open");
		return;
	}
	proc_map_each(&r->straws, collect_straw, &l);
	for (i = 0; i < l.n; i++)
		straw_kill(l.v[i], err);
	straw_free(l.v);
}

static void
ext_idle(straw_container *c, void *arg)
{
	struct route *r = route_of(c);

	(void)arg;
	if (r == NULL)
		return;
	/* No process is left: straws keep nothing alive (the peers see this
	 * side go, as when the container ends). */
	kill_all(r, 0);
	route_publish_idle(r);
}

static void
ext_stop(straw_container *c, void *arg)
{
	struct route *r = route_of(c);

	(void)arg;
	if (r == NULL)
		return;
	kill_all(r, -ECANCELED);
	(void)strawi_proc_router_set(c, NULL, NULL);
	route_publish_idle(r);
	r->stopped = 1;
	route_set(c, NULL);
	route_release(r);
}

const struct strawi_container_ext strawi_route_ext = {
        .version = STRAWI_CONTAINER_EXT_VERSION,
        .name = "router",
        .start = ext_start,
        .idle = ext_idle,
        .stop = ext_stop,
};
