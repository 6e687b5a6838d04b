/*
 * Links, monitors and exit signals, with one end in this container or in
 * another (through the router, src/proc/router.h), and the peers: the
 * other containers that links and monitors cross to, so that when one is
 * gone all of them fire at once with reason noconnection.
 *
 * Exactly once, even when memory has run out: a monitor with a local
 * watcher holds its DOWN message from the moment it is made, and a link
 * holds the {'EXIT', Other, Reason} of each end that traps exits (made
 * when the link is, or when the end starts trapping).  Each reserve is the
 * message's fixed part plus ETFP_RESERVE_REASON bytes for the reason; a
 * longer reason needs memory when the signal fires, and when there is
 * none the reserve goes with the reason out_of_memory instead (logged).
 *
 * Scheduler thread only; the strawi_proc_remote_* entries in the
 * scheduler context only (never from a process), so that a signal they
 * deliver never ends the code that called them.
 */
#include <errno.h>
#include <string.h>

#include "base/base.h"
#include "base/log.h"
#include "proc/etf_proc.h"
#include "proc/proc.h"
#include "proc/router.h"

/* ---- peers --------------------------------------------------------------- */

static uint64_t
peer_key(uint64_t machine, uint32_t container)
{
	uint64_t k = proc_map_hash(machine) ^ ((uint64_t)container << 1);
	return k != 0 ? k : 1;
}

static struct proc_peer *
peer_find(straw_container *c, uint64_t machine, uint32_t container)
{
	struct proc_peer *p =
	        proc_map_get(&c->peers, peer_key(machine, container));

	while (p != NULL &&
	       (p->machine != machine || p->container != container))
		p = p->hnext;
	return p;
}

/* The peer of a long pid, made if needed; NULL when out of memory. */
static struct proc_peer *
peer_get(straw_container *c, straw_pid remote)
{
	uint64_t key = peer_key(remote.machine, remote.container);
	struct proc_peer *p = peer_find(c, remote.machine, remote.container);
	struct proc_peer *head;

	if (p != NULL)
		return p;
	p = straw_calloc(1, sizeof(*p));
	if (p == NULL)
		return NULL;
	p->machine = remote.machine;
	p->container = remote.container;
	head = proc_map_get(&c->peers, key);
	if (head != NULL) {
		p->hnext = head->hnext; /* second in the chain: no map change */
		head->hnext = p;
	} else if (proc_map_put(&c->peers, key, p) < 0) {
		straw_free(p);
		return NULL;
	}
	return p;
}

/* Frees p once nothing crosses to it any more. */
static void
peer_maybe_free(straw_container *c, struct proc_peer *p)
{
	uint64_t key;
	struct proc_peer **pp, *head;

	if (p->links != NULL || p->mons != NULL || p->busy)
		return;
	key = peer_key(p->machine, p->container);
	head = proc_map_get(&c->peers, key);
	if (head == p) {
		proc_map_del(&c->peers, key);
		if (p->hnext != NULL) /* cannot fail: a slot was just freed */
			STRAWI_ASSERT(proc_map_put(&c->peers, key, p->hnext) ==
			              0);
	} else {
		for (pp = &head->hnext; *pp != p; pp = &(*pp)->hnext)
			;
		*pp = p->hnext;
	}
	straw_free(p);
}

static void
peer_link_hook(struct proc_peer *p, struct proc_link *l)
{
	l->peer = p;
	l->pprev = NULL;
	l->pnext = p->links;
	if (p->links != NULL)
		p->links->pprev = l;
	p->links = l;
}

static void
peer_link_unhook(struct proc_link *l)
{
	struct proc_peer *p = l->peer;

	if (l->pprev != NULL)
		l->pprev->pnext = l->pnext;
	else
		p->links = l->pnext;
	if (l->pnext != NULL)
		l->pnext->pprev = l->pprev;
}

static void
peer_mon_hook(struct proc_peer *p, struct proc_mon *m)
{
	m->peer = p;
	m->pprev = NULL;
	m->pnext = p->mons;
	if (p->mons != NULL)
		p->mons->pprev = m;
	p->mons = m;
}

static void
peer_mon_unhook(struct proc_mon *m)
{
	struct proc_peer *p = m->peer;

	if (m->pprev != NULL)
		m->pprev->pnext = m->pnext;
	else
		p->mons = m->pnext;
	if (m->pnext != NULL)
		m->pnext->pprev = m->pprev;
}

static const struct strawi_router_ops *
router_of(const straw_container *c)
{
	return c->router;
}

/* ---- links ---------------------------------------------------------- */

static int
link_side(const struct proc_link *l, const struct proc *p)
{
	return l->p[0] == p ? 0 : 1;
}

static void
link_unhook(struct proc_link *l, int i)
{
	struct proc *p = l->p[i];

	if (l->prev[i] != NULL)
		l->prev[i]->next[link_side(l->prev[i], p)] = l->next[i];
	else
		p->links = l->next[i];
	if (l->next[i] != NULL)
		l->next[i]->prev[link_side(l->next[i], p)] = l->prev[i];
	p->nlinks--;
}

static void
link_hook(struct proc_link *l, int i)
{
	struct proc *p = l->p[i];

	l->prev[i] = NULL;
	l->next[i] = p->links;
	if (p->links != NULL)
		p->links->prev[link_side(p->links, p)] = l;
	p->links = l;
	p->nlinks++;
}

static void
link_free(struct proc_link *l)
{
	straw_msg_unref(l->reserve[0]);
	straw_msg_unref(l->reserve[1]);
	straw_free(l);
}

/* Takes l off both ends (and its peer) and frees it; returns end i's
 * reserve (the caller's now). */
static straw_msg *
link_drop(straw_container *c, struct proc_link *l, int keep, size_t *fixed)
{
	struct proc_peer *peer = l->peer;
	straw_msg *r = l->reserve[keep];

	*fixed = l->reserve_fixed[keep];
	l->reserve[keep] = NULL;
	link_unhook(l, 0);
	if (l->p[1] != NULL)
		link_unhook(l, 1);
	else
		peer_link_unhook(l);
	link_free(l);
	if (peer != NULL)
		peer_maybe_free(c, peer);
	return r;
}

/* The pid at the other end of l, seen from its end i (long for remote). */
static straw_pid
link_other(const struct proc_link *l, int i)
{
	return l->p[1 - i] != NULL ? proc_pid_of(l->p[1 - i]) : l->remote;
}

/* The link between a and pid (local or long remote), or NULL. */
static struct proc_link *
link_find(struct proc *a, straw_pid pid)
{
	straw_container *c = a->c;
	int local = proc_pid_local(c, pid);
	struct proc_link *l;

	for (l = a->links; l != NULL; l = l->next[link_side(l, a)]) {
		int i = link_side(l, a);
		const struct proc *o = l->p[1 - i];
		if (local ? o != NULL && o->id == pid.process
		          : o == NULL && straw_pid_equal(l->remote, pid))
			return l;
	}
	return NULL;
}

/* Makes end i's reserve: the EXIT it gets when the other end ends. */
static int
link_reserve(struct proc_link *l, int i)
{
	size_t fixed;

	if (l->reserve[i] != NULL)
		return 0;
	l->reserve[i] = etfp_exit_reserve(link_other(l, i), &fixed);
	if (l->reserve[i] == NULL)
		return -ENOMEM;
	l->reserve_fixed[i] = (uint16_t)fixed;
	return 0;
}

int
proc_link_add(struct proc *self, straw_pid pid)
{
	straw_container *c = self->c;
	const struct strawi_router_ops *r;
	struct proc_link *l;
	struct proc *t;
	int rc;

	if (!proc_pid_local(c, pid)) {
		r = router_of(c);
		if (r == NULL)
			return -EHOSTUNREACH;
		pid = proc_pid_long(c, pid);
		if (link_find(self, pid) != NULL)
			return 0;
		l = straw_calloc(1, sizeof(*l));
		if (l == NULL)
			return -ENOMEM;
		l->p[0] = self;
		l->remote = pid;
		if ((self->trap_exit && link_reserve(l, 0) < 0) ||
		    (l->peer = peer_get(c, pid)) == NULL) {
			link_free(l);
			return -ENOMEM;
		}
		rc = r->link(c->router_arg, proc_pid_long(c, proc_pid_of(self)),
		             pid);
		if (rc < 0) {
			struct proc_peer *peer = l->peer;
			link_free(l);
			peer_maybe_free(c, peer);
			return rc;
		}
		link_hook(l, 0);
		peer_link_hook(l->peer, l);
		return 0;
	}
	t = proc_lookup(c, pid);
	if (t == self)
		return 0;
	if (t == NULL) {
		proc_signal(self, pid, proc_atom_noproc, PROC_SIG_LINK, NULL,
		            0);
		return 0;
	}
	if (link_find(self, pid) != NULL)
		return 0;
	l = straw_calloc(1, sizeof(*l));
	if (l == NULL)
		return -ENOMEM;
	l->p[0] = self;
	l->p[1] = t;
	if ((self->trap_exit && link_reserve(l, 0) < 0) ||
	    (t->trap_exit && link_reserve(l, 1) < 0)) {
		link_free(l);
		return -ENOMEM;
	}
	link_hook(l, 0);
	link_hook(l, 1);
	return 0;
}

int
proc_link_remove(struct proc *self, straw_pid pid)
{
	straw_container *c = self->c;
	struct proc_link *l;
	straw_msg *r;
	size_t fixed;
	int remote = !proc_pid_local(c, pid);

	if (remote)
		pid = proc_pid_long(c, pid);
	l = link_find(self, pid);
	if (l == NULL)
		return 0;
	r = link_drop(c, l, 0, &fixed);
	straw_msg_unref(r);
	if (remote && router_of(c) != NULL)
		(void)router_of(c)->unlink(c->router_arg,
		                           proc_pid_long(c, proc_pid_of(self)),
		                           pid);
	return 0;
}

int
proc_trap_set(struct proc *self, int on)
{
	struct proc_link *l;
	int old = self->trap_exit;

	if (on && !old)
		for (l = self->links; l != NULL;
		     l = l->next[link_side(l, self)])
			if (link_reserve(l, link_side(l, self)) < 0)
				return -ENOMEM; /* the reserves made stay */
	self->trap_exit = on != 0;
	return old;
}

/* ---- monitors ------------------------------------------------------- */

uint64_t
proc_new_ref(straw_container *c)
{
	return ++c->next_ref;
}

static straw_ref
ref_of(uint64_t id)
{
	straw_ref r = {0, 0, 0, id};
	return r;
}

static void
mon_hook_watcher(struct proc_mon *m, struct proc *w)
{
	m->watcher = w;
	m->wprev = NULL;
	m->wnext = w->mons;
	if (w->mons != NULL)
		w->mons->wprev = m;
	w->mons = m;
	w->nmons++;
}

static void
mon_hook_target(struct proc_mon *m, struct proc *t)
{
	m->target = t;
	m->tprev = NULL;
	m->tnext = t->watchers;
	if (t->watchers != NULL)
		t->watchers->tprev = m;
	t->watchers = m;
	t->nmons++;
}

/* Takes m off every list it is on (and the map) and frees it, returning
 * its reserve (the caller's now) and its fixed length. */
static straw_msg *
mon_drop(straw_container *c, struct proc_mon *m, size_t *fixed)
{
	struct proc_peer *peer = m->peer;
	straw_msg *r = m->reserve;

	*fixed = m->reserve_fixed;
	if (m->watcher != NULL) {
		proc_map_del(&c->monitors, m->ref);
		if (m->wprev != NULL)
			m->wprev->wnext = m->wnext;
		else
			m->watcher->mons = m->wnext;
		if (m->wnext != NULL)
			m->wnext->wprev = m->wprev;
		m->watcher->nmons--;
	}
	if (m->target != NULL) {
		if (m->tprev != NULL)
			m->tprev->tnext = m->tnext;
		else
			m->target->watchers = m->tnext;
		if (m->tnext != NULL)
			m->tnext->tprev = m->tprev;
		m->target->nmons--;
	}
	if (peer != NULL)
		peer_mon_unhook(m);
	straw_free(m);
	if (peer != NULL)
		peer_maybe_free(c, peer);
	return r;
}

/* The DOWN for watcher w: in the reserve when the reason fits, else
 * allocated, else the reserve with reason out_of_memory; delivered. */
static void
deliver_down(struct proc *w, straw_msg *reserve, size_t fixed, straw_ref ref,
             straw_pid pid, const straw_msg *reason)
{
	straw_msg *m = NULL;

	if (w->life != PROC_ALIVE || w->c->stopping) {
		straw_msg_unref(reserve);
		return;
	}
	if (reserve != NULL && etfp_reserve_fill(reserve, fixed, reason) == 0) {
		m = reserve;
	} else if ((m = etfp_down_msg(ref, pid, reason)) != NULL) {
		straw_msg_unref(reserve);
	} else if (reserve != NULL &&
	           etfp_reserve_fill(reserve, fixed, proc_atom_oom) == 0) {
		strawi_log(
		        STRAWI_LOG_ERROR,
		        "out of memory: a DOWN carries out_of_memory instead "
		        "of its reason");
		m = reserve;
	} else {
		STRAWI_PANIC("a monitor without its reserved DOWN");
	}
	proc_deliver(w, m);
}

/* A new monitor of watcher w with its reserved DOWN; NULL if out of
 * memory. */
static struct proc_mon *
mon_new(straw_container *c, uint64_t id, straw_pid target)
{
	struct proc_mon *m = straw_calloc(1, sizeof(*m));
	size_t fixed;

	if (m == NULL)
		return NULL;
	m->ref = id;
	m->reserve = etfp_down_reserve(ref_of(id), target, &fixed);
	if (m->reserve == NULL || proc_map_put(&c->monitors, id, m) < 0) {
		straw_msg_unref(m->reserve);
		straw_free(m);
		return NULL;
	}
	m->reserve_fixed = (uint16_t)fixed;
	return m;
}

int
proc_monitor_add(struct proc *self, straw_pid pid, straw_ref *out)
{
	straw_container *c = self->c;
	const struct strawi_router_ops *r = router_of(c);
	struct proc_mon *m;
	struct proc *t = NULL;
	uint64_t id;
	int rc;

	if (!proc_pid_local(c, pid)) {
		if (r == NULL)
			return -EHOSTUNREACH;
		pid = proc_pid_long(c, pid);
	} else {
		t = proc_lookup(c, pid);
	}
	id = proc_new_ref(c);
	if (proc_pid_local(c, pid) && t == NULL) {
		straw_msg *down =
		        etfp_down_msg(ref_of(id), pid, proc_atom_noproc);
		if (down == NULL)
			return -ENOMEM;
		proc_deliver(self, down);
		*out = ref_of(id);
		return 0;
	}
	m = mon_new(c, id, pid);
	if (m == NULL)
		return -ENOMEM;
	mon_hook_watcher(m, self);
	if (t != NULL) {
		mon_hook_target(m, t);
	} else {
		size_t fixed;
		m->rpid = pid;
		if ((m->peer = peer_get(c, pid)) != NULL) {
			peer_mon_hook(m->peer, m);
			rc = r->monitor(c->router_arg,
			                proc_pid_long(c, proc_pid_of(self)),
			                pid, proc_ref_long(c, ref_of(id)));
		} else {
			rc = -ENOMEM;
		}
		if (rc < 0) {
			straw_msg_unref(mon_drop(c, m, &fixed));
			return rc;
		}
	}
	*out = ref_of(id);
	return 0;
}

static void
flush_down(struct proc *self, straw_ref ref)
{
	straw_msg **link;

	if (self->ft != NULL)
		pthread_mutex_lock(&self->ft->mu);
	for (link = &self->mbox.head; *link != NULL;) {
		if (etfp_is_down_for(*link, ref)) {
			straw_msg_unref(proc_fifo_remove(&self->mbox, link));
			break;
		}
		link = &(*link)->next;
	}
	if (self->ft != NULL)
		pthread_mutex_unlock(&self->ft->mu);
}

int
proc_monitor_remove(struct proc *self, straw_ref ref, unsigned flags)
{
	straw_container *c = self->c;
	struct proc_mon *m = NULL;
	straw_pid rp = {ref.machine, ref.container, 1};
	int was = 0;

	if (proc_pid_local(c, rp))
		m = proc_map_get(&c->monitors, ref.id);
	if (m != NULL && m->watcher == self) {
		size_t fixed;
		straw_pid target = m->rpid;
		int remote = m->target == NULL;
		straw_msg_unref(mon_drop(c, m, &fixed));
		if (remote && router_of(c) != NULL)
			(void)router_of(c)->demonitor(
			        c->router_arg,
			        proc_pid_long(c, proc_pid_of(self)), target,
			        proc_ref_long(c, ref));
		was = 1;
	}
	if (flags & STRAW_DEMONITOR_FLUSH)
		flush_down(self, ref);
	return was;
}

/* ---- exit signals --------------------------------------------------- */

int
proc_exit_signal(struct proc *self, straw_pid pid, straw_msg *reason)
{
	straw_container *c = self->c;
	struct proc *t;

	if (!proc_pid_local(c, pid)) {
		if (router_of(c) == NULL)
			return -EHOSTUNREACH;
		return router_of(c)->exit(
		        c->router_arg, proc_pid_long(c, proc_pid_of(self)),
		        proc_pid_long(c, pid), reason, PROC_SIG_EXIT);
	}
	t = proc_lookup(c, pid);
	if (t != NULL)
		proc_signal(t, proc_pid_of(self), reason, PROC_SIG_EXIT, NULL,
		            0);
	return 0;
}

void
proc_links_fire(struct proc *p)
{
	straw_container *c = p->c;
	const struct strawi_router_ops *r = router_of(c);
	straw_pid me = proc_pid_of(p), me_long = proc_pid_long(c, me);
	size_t fixed;

	while (p->links != NULL) {
		struct proc_link *l = p->links;
		int i = link_side(l, p);
		struct proc *other = l->p[1 - i];
		straw_pid remote = l->remote;
		straw_msg *res = link_drop(c, l, 1 - i, &fixed);

		if (c->stopping) {
			straw_msg_unref(res);
		} else if (other != NULL) {
			proc_signal(other, me, p->reason, PROC_SIG_LINK, res,
			            fixed);
		} else {
			straw_msg_unref(res);
			if (r != NULL)
				(void)r->exit(c->router_arg, me_long, remote,
				              p->reason, PROC_SIG_LINK);
		}
	}
	while (p->watchers != NULL) {
		struct proc_mon *m = p->watchers;
		struct proc *w = m->watcher;
		straw_ref ref = ref_of(m->ref), rref = m->rref;
		straw_pid rpid = m->rpid;
		straw_msg *res = mon_drop(c, m, &fixed);

		if (w != NULL)
			deliver_down(w, res, fixed, ref, me, p->reason);
		else if (r != NULL && !c->stopping)
			(void)r->down(c->router_arg, me_long, rpid, rref,
			              p->reason);
	}
	while (p->mons != NULL) {
		struct proc_mon *m = p->mons;
		int remote = m->target == NULL;
		straw_pid target = m->rpid;
		straw_ref ref = proc_ref_long(c, ref_of(m->ref));

		straw_msg_unref(mon_drop(c, m, &fixed));
		if (remote && r != NULL && !c->stopping)
			(void)r->demonitor(c->router_arg, me_long, target, ref);
	}
}

/* ---- the router's entries ----------------------------------------------- */

static void
assert_scheduler_context(const straw_container *c)
{
	STRAWI_ASSERT(proc_tls_container == c && proc_current() == NULL);
}

int
strawi_proc_remote_link(straw_container *c, straw_pid remote, uint32_t local)
{
	struct proc *t = proc_table_get(&c->procs, local);
	const struct strawi_router_ops *r = router_of(c);
	struct proc_link *l;
	straw_pid lp = {0, 0, local};

	assert_scheduler_context(c);
	if (t == NULL || t->life != PROC_ALIVE) {
		if (r != NULL)
			(void)r->exit(c->router_arg, proc_pid_long(c, lp),
			              remote, proc_atom_noproc, PROC_SIG_LINK);
		return 0;
	}
	if (link_find(t, remote) != NULL)
		return 0;
	l = straw_calloc(1, sizeof(*l));
	if (l == NULL)
		return -ENOMEM;
	l->p[0] = t;
	l->remote = remote;
	if ((t->trap_exit && link_reserve(l, 0) < 0) ||
	    (l->peer = peer_get(c, remote)) == NULL) {
		link_free(l);
		return -ENOMEM;
	}
	link_hook(l, 0);
	peer_link_hook(l->peer, l);
	return 0;
}

void
strawi_proc_remote_unlink(straw_container *c, straw_pid remote, uint32_t local)
{
	struct proc *t = proc_table_get(&c->procs, local);
	struct proc_link *l;
	size_t fixed;

	assert_scheduler_context(c);
	if (t == NULL || (l = link_find(t, remote)) == NULL)
		return;
	straw_msg_unref(link_drop(c, l, 0, &fixed));
}

void
strawi_proc_remote_exit(straw_container *c, straw_pid from, uint32_t to,
                        const straw_msg *reason, int kind)
{
	struct proc *t = proc_table_get(&c->procs, to);
	straw_msg *res = NULL;
	size_t fixed = 0;

	assert_scheduler_context(c);
	if (t == NULL)
		return;
	if (kind == PROC_SIG_LINK) {
		struct proc_link *l = link_find(t, from);
		if (l == NULL)
			return; /* unlinked meanwhile: Erlang drops it */
		res = link_drop(c, l, 0, &fixed);
	}
	proc_signal(t, from, reason, kind, res, fixed);
}

int
strawi_proc_remote_monitor(straw_container *c, straw_pid watcher,
                           uint32_t target, straw_ref ref)
{
	struct proc *t = proc_table_get(&c->procs, target);
	const struct strawi_router_ops *r = router_of(c);
	straw_pid tp = {0, 0, target};
	struct proc_mon *m;

	assert_scheduler_context(c);
	if (t == NULL || t->life != PROC_ALIVE) {
		if (r != NULL)
			(void)r->down(c->router_arg, proc_pid_long(c, tp),
			              watcher, ref, proc_atom_noproc);
		return 0;
	}
	m = straw_calloc(1, sizeof(*m));
	if (m == NULL)
		return -ENOMEM;
	m->rref = ref;
	m->rpid = watcher;
	m->peer = peer_get(c, watcher);
	if (m->peer == NULL) {
		straw_free(m);
		return -ENOMEM;
	}
	mon_hook_target(m, t);
	peer_mon_hook(m->peer, m);
	return 0;
}

void
strawi_proc_remote_demonitor(straw_container *c, straw_pid watcher,
                             uint32_t target, straw_ref ref)
{
	struct proc *t = proc_table_get(&c->procs, target);
	struct proc_mon *m;
	size_t fixed;

	assert_scheduler_context(c);
	if (t == NULL)
		return;
	for (m = t->watchers; m != NULL; m = m->tnext)
		if (m->watcher == NULL && straw_ref_equal(m->rref, ref) &&
		    straw_pid_equal(m->rpid, watcher)) {
			straw_msg_unref(mon_drop(c, m, &fixed));
			return;
		}
}

void
strawi_proc_remote_down(straw_container *c, straw_ref ref, straw_pid target,
                        const straw_msg *reason)
{
	straw_pid rp = {ref.machine, ref.container, 1};
	struct proc_mon *m = NULL;
	struct proc *w;
	straw_msg *res;
	size_t fixed;

	assert_scheduler_context(c);
	if (proc_pid_local(c, rp))
		m = proc_map_get(&c->monitors, ref.id);
	if (m == NULL || m->target != NULL || m->watcher == NULL ||
	    !straw_pid_equal(m->rpid, target))
		return;
	w = m->watcher;
	res = mon_drop(c, m, &fixed);
	deliver_down(w, res, fixed, ref_of(ref.id), target, reason);
}

/* Every link and monitor crossing to peer p fires with noconnection. */
static void
peer_down(straw_container *c, struct proc_peer *p)
{
	size_t fixed;

	p->busy = 1; /* signals below may end processes, which unhook theirs */
	while (p->links != NULL) {
		struct proc_link *l = p->links;
		struct proc *t = l->p[0];
		straw_pid remote = l->remote;
		straw_msg *res = link_drop(c, l, 0, &fixed);
		proc_signal(t, remote, proc_atom_noconnection, PROC_SIG_LINK,
		            res, fixed);
	}
	while (p->mons != NULL) {
		struct proc_mon *m = p->mons;
		struct proc *w = m->watcher;
		straw_ref ref = ref_of(m->ref);
		straw_pid rpid = m->rpid;
		straw_msg *res = mon_drop(c, m, &fixed);
		if (w != NULL)
			deliver_down(w, res, fixed, ref, rpid,
			             proc_atom_noconnection);
		else
			straw_msg_unref(res);
	}
	p->busy = 0;
	peer_maybe_free(c, p);
}

void
strawi_proc_peer_gone(straw_container *c, uint64_t machine, uint32_t container)
{
	struct proc_peer *p;

	assert_scheduler_context(c);
	p = peer_find(c, machine, container);
	if (p != NULL)
		peer_down(c, p);
}

struct peer_list {
	struct proc_peer **v; /* collected */
	size_t n;             /* how many */
};

static void
collect_peer(uint64_t key, void *val, void *arg)
{
	struct peer_list *l = arg;
	struct proc_peer *p;

	(void)key;
	for (p = val; p != NULL; p = p->hnext)
		l->v[l->n++] = p;
}

static void
count_peer(uint64_t key, void *val, void *arg)
{
	struct proc_peer *p;

	(void)key;
	for (p = val; p != NULL; p = p->hnext)
		(*(size_t *)arg)++;
}

/* Every peer, in an array (the map may change while they fire). */
static int
peers_collect(straw_container *c, struct peer_list *l)
{
	size_t n = 0;

	l->n = 0;
	l->v = NULL;
	proc_map_each(&c->peers, count_peer, &n);
	if (n == 0)
		return 0;
	l->v = straw_malloc(n * sizeof(*l->v));
	if (l->v == NULL)
		return -ENOMEM;
	proc_map_each(&c->peers, collect_peer, l);
	return 0;
}

int
proc_peers_down(straw_container *c)
{
	struct peer_list l;
	size_t i;
	int rc = peers_collect(c, &l);

	if (rc < 0)
		return rc;
	for (i = 0; i < l.n; i++)
		peer_down(c, l.v[i]);
	straw_free(l.v);
	return 0;
}

void
proc_peers_fini(straw_container *c)
{
	struct peer_list l;
	size_t i;

	/* Only at the very end, when every process is gone, so that no link
	 * or monitor points at a peer any more. */
	if (peers_collect(c, &l) == 0) {
		for (i = 0; i < l.n; i++)
			straw_free(l.v[i]);
		straw_free(l.v);
	}
	proc_map_fini(&c->peers);
}
