/*
 * Processes: spawn, exit, exit signals, links, monitors and names.  Every
 * function here runs on the container's scheduler thread (in a process or
 * in the scheduler context); foreign threads reach them through
 * proc_foreign_call (foreign.c).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/base.h"
#include "base/hash.h"
#include "base/log.h"
#include "proc/etf_proc.h"
#include "proc/proc.h"
#include "proc/route.h"

void proc_reg_name(straw_container *c, const char *name, uint32_t process);
void proc_reg_idle(straw_container *c);

__thread straw_container *proc_tls_container;
__thread struct proc *proc_tls_foreign;

straw_msg *proc_atom_normal, *proc_atom_kill, *proc_atom_killed,
        *proc_atom_noproc, *proc_atom_shutdown;

static pthread_mutex_t atoms_mu = PTHREAD_MUTEX_INITIALIZER;

int
proc_atoms_init(void)
{
	int rc = 0;

	pthread_mutex_lock(&atoms_mu);
	if (proc_atom_normal == NULL) {
		proc_atom_normal = proc_msg_atom("normal");
		proc_atom_kill = proc_msg_atom("kill");
		proc_atom_killed = proc_msg_atom("killed");
		proc_atom_noproc = proc_msg_atom("noproc");
		proc_atom_shutdown = proc_msg_atom("shutdown");
		if (proc_atom_normal == NULL || proc_atom_kill == NULL ||
		    proc_atom_killed == NULL || proc_atom_noproc == NULL ||
		    proc_atom_shutdown == NULL) {
			straw_msg_unref(proc_atom_normal);
			straw_msg_unref(proc_atom_kill);
			straw_msg_unref(proc_atom_killed);
			straw_msg_unref(proc_atom_noproc);
			straw_msg_unref(proc_atom_shutdown);
			proc_atom_normal = NULL;
			rc = -ENOMEM;
		}
	}
	pthread_mutex_unlock(&atoms_mu);
	return rc;
}

int
proc_pid_local(const straw_container *c, straw_pid pid)
{
	if (pid.machine == 0 && pid.container == 0)
		return 1;
	return pid.container == c->id &&
	       (pid.machine == 0 || pid.machine == c->machine);
}

struct proc *
proc_lookup(straw_container *c, straw_pid pid)
{
	if (!proc_pid_local(c, pid) || pid.process == 0)
		return NULL;
	return proc_table_get(&c->procs, pid.process);
}

static straw_pid
pid_of(const struct proc *p)
{
	straw_pid pid = {0, 0, p->id};
	return pid;
}

void
proc_deliver(struct proc *p, straw_msg *m)
{
	if (unlikely(p->life != PROC_ALIVE)) {
		straw_msg_unref(m);
		return;
	}
	if (likely(p->ft == NULL)) {
		proc_fifo_push(&p->mbox, m);
		if (p->waiting)
			strawi_coro_wake(p->coro);
		return;
	}
	pthread_mutex_lock(&p->ft->mu);
	proc_fifo_push(&p->mbox, m);
	if (p->mbox.len == 1 || p->ft->waiting) {
		uint64_t one = 1;
		ssize_t n = write(p->ft->efd, &one, sizeof(one));
		(void)n; /* EAGAIN: the counter is already huge (readable) */
	}
	pthread_mutex_unlock(&p->ft->mu);
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

static struct proc_link *
link_find(struct proc *a, struct proc *b)
{
	struct proc_link *l = a->links;

	while (l != NULL) {
		int i = link_side(l, a);
		if (l->p[1 - i] == b)
			return l;
		l = l->next[i];
	}
	return NULL;
}

static int
op_link(struct proc *self, straw_pid pid)
{
	struct proc *t = proc_lookup(self->c, pid);
	struct proc_link *l;

	if (!proc_pid_local(self->c, pid))
		return -EHOSTUNREACH;
	if (t == self)
		return 0;
	if (t == NULL) {
		proc_signal(self, pid, proc_atom_noproc, PROC_SIG_LINK);
		return 0;
	}
	if (link_find(self, t) != NULL)
		return 0;
	l = straw_malloc(sizeof(*l));
	if (l == NULL)
		return -ENOMEM;
	l->p[0] = self;
	l->p[1] = t;
	link_hook(l, 0);
	link_hook(l, 1);
	return 0;
}

static int
op_unlink(struct proc *self, straw_pid pid)
{
	struct proc *t = proc_lookup(self->c, pid);
	struct proc_link *l;

	if (t == NULL || t == self)
		return 0;
	l = link_find(self, t);
	if (l != NULL) {
		link_unhook(l, 0);
		link_unhook(l, 1);
		straw_free(l);
	}
	return 0;
}

/* ---- monitors ------------------------------------------------------- */

static void
mon_unhook(struct proc_mon *m)
{
	if (m->wprev != NULL)
		m->wprev->wnext = m->wnext;
	else
		m->watcher->mons = m->wnext;
	if (m->wnext != NULL)
		m->wnext->wprev = m->wprev;
	if (m->tprev != NULL)
		m->tprev->tnext = m->tnext;
	else
		m->target->watchers = m->tnext;
	if (m->tnext != NULL)
		m->tnext->tprev = m->tprev;
	m->watcher->nmons--;
	m->target->nmons--;
}

static uint64_t
new_ref_id(straw_container *c)
{
	return ++c->next_ref;
}

static straw_ref
ref_of(uint64_t id)
{
	straw_ref r = {0, 0, 0, id};
	return r;
}

static int
op_monitor(struct proc *self, straw_pid pid, straw_ref *out)
{
	straw_container *c = self->c;
	struct proc *t;
	struct proc_mon *m;
	uint64_t id;

	if (!proc_pid_local(c, pid))
		return -EHOSTUNREACH;
	t = proc_lookup(c, pid);
	id = new_ref_id(c);
	if (t == NULL) {
		straw_msg *down =
		        etfp_down_msg(ref_of(id), pid, proc_atom_noproc);
		if (down == NULL)
			return -ENOMEM;
		proc_deliver(self, down);
		*out = ref_of(id);
		return 0;
	}
	m = straw_malloc(sizeof(*m));
	if (m == NULL)
		return -ENOMEM;
	if (proc_map_put(&c->monitors, id, m) < 0) {
		straw_free(m);
		return -ENOMEM;
	}
	m->ref = id;
	m->watcher = self;
	m->target = t;
	m->wprev = NULL;
	m->wnext = self->mons;
	if (self->mons != NULL)
		self->mons->wprev = m;
	self->mons = m;
	m->tprev = NULL;
	m->tnext = t->watchers;
	if (t->watchers != NULL)
		t->watchers->tprev = m;
	t->watchers = m;
	self->nmons++;
	t->nmons++;
	*out = ref_of(id);
	return 0;
}

static void flush_down(struct proc *self, straw_ref ref);

static int
op_demonitor(struct proc *self, straw_ref ref, unsigned flags)
{
	straw_container *c = self->c;
	struct proc_mon *m = NULL;
	straw_pid rp = {ref.machine, ref.container, 1};
	int was = 0;

	if (proc_pid_local(c, rp))
		m = proc_map_get(&c->monitors, ref.id);
	if (m != NULL && m->watcher == self) {
		proc_map_del(&c->monitors, ref.id);
		mon_unhook(m);
		straw_free(m);
		was = 1;
	}
	if (flags & STRAW_DEMONITOR_FLUSH)
		flush_down(self, ref);
	return was;
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

/* ---- names ---------------------------------------------------------- */

static uint64_t
name_key(const char *name)
{
	uint64_t h = strawi_hash_bytes(name, strlen(name), 0x5157);
	return h ? h : 1;
}

static struct proc_name **
name_slot(straw_container *c, const char *name, struct proc_name **head_out)
{
	struct proc_name *head = proc_map_get(&c->names, name_key(name));
	struct proc_name **pp;

	*head_out = head;
	for (pp = &head; *pp != NULL; pp = &(*pp)->next)
		if (strcmp((*pp)->name, name) == 0)
			return pp;
	return NULL;
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

static void
name_remove(straw_container *c, const char *name)
{
	uint64_t key = name_key(name);
	struct proc_name *head = proc_map_get(&c->names, key), *prev = NULL;
	struct proc_name *n = head;

	while (n != NULL && strcmp(n->name, name) != 0) {
		prev = n;
		n = n->next;
	}
	if (n == NULL)
		return;
	if (prev != NULL) {
		prev->next = n->next;
	} else {
		proc_map_del(&c->names, key);
		if (n->next != NULL)
			/* cannot fail: a slot was just freed */
			STRAWI_ASSERT(proc_map_put(&c->names, key, n->next) ==
			              0);
	}
	n->p->name = NULL;
	proc_reg_name(c, n->name, 0);
	straw_free(n);
}

static int
op_register(struct proc *self, const char *name, straw_pid pid)
{
	straw_container *c = self->c;
	struct proc *t;
	struct proc_name *n, *head;
	size_t len;
	uint64_t key;

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
	(void)name_slot(c, name, &head);
	n->next = head;
	if (head != NULL) {
		proc_map_del(&c->names, key);
		STRAWI_ASSERT(proc_map_put(&c->names, key, n) == 0);
	} else if (proc_map_put(&c->names, key, n) < 0) {
		straw_free(n);
		return -ENOMEM;
	}
	t->name = n->name;
	proc_reg_name(c, n->name, t->id);
	return 0;
}

static int
op_unregister(struct proc *self, const char *name)
{
	if (!name_valid(name) || name_find(self->c, name) == NULL)
		return STRAW_ENONAME;
	name_remove(self->c, name);
	return 0;
}

static int
op_whereis(struct proc *self, const char *name, straw_pid *pid)
{
	struct proc_name *n;

	if (!name_valid(name))
		return STRAW_ENONAME;
	n = name_find(self->c, name);
	if (n == NULL)
		return STRAW_ENONAME;
	*pid = pid_of(n->p);
	return 0;
}

/* ---- exit signals --------------------------------------------------- */

void
proc_set_exiting(struct proc *p, straw_msg *reason)
{
	if (p->ft != NULL) /* the attached thread reads life under mu */
		pthread_mutex_lock(&p->ft->mu);
	p->life = PROC_EXITING;
	p->reason = straw_msg_ref(reason);
	if (p->ft != NULL)
		pthread_mutex_unlock(&p->ft->mu);
}

void
proc_kill(struct proc *p, straw_msg *reason)
{
	if (p->life != PROC_ALIVE)
		return;
	proc_set_exiting(p, reason);
	if (p->ft != NULL) {
		/* An attached thread: told now, freed at detach. */
		proc_die(p);
		return;
	}
	if (p == proc_current())
		strawi_coro_exit(0, NULL);
	strawi_coro_kill(p->coro, 0, NULL);
}

void
proc_signal(struct proc *p, straw_pid from, straw_msg *reason, int kind)
{
	if (p->life != PROC_ALIVE)
		return;
	if (kind == PROC_SIG_EXIT && straw_msg_is_atom(reason, "kill")) {
		proc_kill(p, proc_atom_killed);
		return;
	}
	if (p->trap_exit) {
		straw_msg *m = etfp_exit_msg(from, reason);
		if (m != NULL) {
			proc_deliver(p, m);
			return;
		}
		/* Out of memory: the signal cannot become a message; the
		 * process ends instead of missing it silently. */
	}
	if (straw_msg_is_atom(reason, "normal")) {
		if (kind == PROC_SIG_EXIT && from.process == p->id &&
		    proc_pid_local(p->c, from))
			proc_kill(p, reason);
		return;
	}
	proc_kill(p, reason);
}

void
proc_die(struct proc *p)
{
	straw_container *c = p->c;
	straw_pid me = pid_of(p);

	STRAWI_ASSERT(p->life == PROC_EXITING && p->reason != NULL);
	if (p->name != NULL)
		name_remove(c, p->name);
	while (p->links != NULL) {
		struct proc_link *l = p->links;
		int i = link_side(l, p);
		struct proc *other = l->p[1 - i];
		link_unhook(l, 0);
		link_unhook(l, 1);
		straw_free(l);
		if (!c->stopping)
			proc_signal(other, me, p->reason, PROC_SIG_LINK);
	}
	while (p->watchers != NULL) {
		struct proc_mon *m = p->watchers;
		struct proc *w = m->watcher;
		straw_ref ref = ref_of(m->ref);
		proc_map_del(&c->monitors, m->ref);
		mon_unhook(m);
		straw_free(m);
		if (!c->stopping && w->life == PROC_ALIVE) {
			straw_msg *down = etfp_down_msg(ref, me, p->reason);
			if (down != NULL)
				proc_deliver(w, down);
			else
				strawi_log(STRAWI_LOG_ERROR,
				           "out of memory: DOWN for %u lost",
				           p->id);
		}
	}
	while (p->mons != NULL) {
		struct proc_mon *m = p->mons;
		proc_map_del(&c->monitors, m->ref);
		mon_unhook(m);
		straw_free(m);
	}
	if (p->ft != NULL)
		pthread_mutex_lock(&p->ft->mu);
	p->life = PROC_DEAD;
	proc_fifo_clear(&p->mbox);
	if (p->ft != NULL) {
		uint64_t one = 1;
		ssize_t n = write(p->ft->efd, &one, sizeof(one));
		(void)n;
		pthread_mutex_unlock(&p->ft->mu);
	}
	proc_table_del(&c->procs, p->id);
	if (--c->nprocs == 0)
		proc_reg_idle(c);
	if (p->is_first && c->status == 0 &&
	    !straw_msg_is_atom(p->reason, "normal"))
		c->status = 1;
	if (p->ft == NULL) { /* p goes with its stack, after on_exit */
		straw_msg_unref(p->hold);
		straw_msg_unref(p->reason);
	}
}

static straw_msg *
fault_reason(const struct strawi_exit_info *e)
{
	const char *sig = "fault";
	char text[96];

	switch (e->signo) {
	case 11:
		sig = "segv";
		break;
	case 7:
		sig = "bus";
		break;
	case 4:
		sig = "ill";
		break;
	case 8:
		sig = "fpe";
		break;
	}
	snprintf(text, sizeof(text), "%s at %p", sig, e->addr);
	return etfp_tag_text_msg("fault", text, strlen(text));
}

void
proc_on_exit(struct strawi_coro *co, const struct strawi_exit_info *e)
{
	struct proc *p = strawi_coro_user(co);

	if (p == NULL)
		return;
	strawi_coro_set_user(co, NULL);
	if (p->life == PROC_ALIVE) {
		straw_msg *r = NULL;
		switch (e->reason) {
		case STRAWI_EXIT_RETURN:
			r = straw_msg_ref(proc_atom_normal);
			break;
		case STRAWI_EXIT_CALLED:
		case STRAWI_EXIT_KILLED:
			r = e->data != NULL ? (straw_msg *)e->data
			                    : straw_msg_ref(proc_atom_normal);
			break;
		case STRAWI_EXIT_OVERFLOW:
			r = proc_msg_atom("stack_overflow");
			break;
		case STRAWI_EXIT_FAULT:
			r = fault_reason(e);
			break;
		case STRAWI_EXIT_ABORT:
			r = proc_msg_atom("abort");
			break;
		default:
			r = straw_msg_ref(proc_atom_shutdown);
			break;
		}
		if (r == NULL) /* out of memory building the reason */
			r = straw_msg_ref(proc_atom_killed);
		p->life = PROC_EXITING;
		p->reason = r;
		if (e->reason != STRAWI_EXIT_RETURN &&
		    e->reason != STRAWI_EXIT_CALLED &&
		    e->reason != STRAWI_EXIT_SHUTDOWN)
			strawi_log(STRAWI_LOG_WARN,
			           "process <%u> crashed (reason %d)", p->id,
			           e->reason);
	} else if (e->data != NULL) {
		straw_msg_unref(e->data);
	}
	proc_die(p);
}

/* ---- spawn ---------------------------------------------------------- */

static void
proc_entry(void *arg)
{
	struct proc *p = strawi_coro_user_space(strawi_coro_self());

	(void)arg;
	p->fn(p->arg);
}

_Static_assert(sizeof(struct proc) <= STRAWI_USER_SPACE_MAX,
               "struct proc fits the coroutine's user space");

int
proc_spawn(straw_container *c, struct proc *parent, straw_proc_fn fn, void *arg,
           const straw_spawn_opts *opts, straw_pid *out)
{
	straw_spawn_opts none = {0, 0, NULL};
	size_t stack;
	struct strawi_coro *co;
	struct proc *p;
	uint32_t id;
	straw_ref mref;
	int rc;

	if (opts == NULL)
		opts = &none;
	if (fn == NULL)
		return -EINVAL;
	stack = opts->stack_size ? opts->stack_size : c->stack_size;
	if (stack > STRAWI_STACK_MAX)
		return -EINVAL;
	if ((opts->flags & (STRAW_SPAWN_LINK | STRAW_SPAWN_MONITOR)) &&
	    parent == NULL)
		return -EINVAL;
	id = c->next_pid;
	do { /* ids wrap after 2^32 spawns: skip those in use and 0 */
		id++;
	} while (id == 0 || proc_table_get(&c->procs, id) != NULL);
	rc = proc_table_reserve(&c->procs, id);
	if (rc < 0)
		return rc;
	rc = strawi_coro_spawn(c->sched, proc_entry, NULL, stack, &co);
	if (rc < 0)
		return rc;
	/* The process lives in the top page of its own stack, next to the
	 * coroutine's struct: no allocation, no page of its own. */
	p = strawi_coro_user_space(co);
	memset(p, 0, sizeof(*p));
	c->next_pid = id;
	p->id = id;
	p->c = c;
	p->coro = co;
	p->fn = fn;
	p->arg = arg;
	p->stack_size = stack;
	proc_fifo_init(&p->mbox);
	rc = proc_table_put(&c->procs, id, p);
	STRAWI_ASSERT(rc == 0); /* reserved above */
	strawi_coro_set_user(co, p);
	c->nprocs++;
	if (opts->flags & STRAW_SPAWN_LINK) {
		rc = op_link(parent, pid_of(p));
		if (rc < 0)
			goto fail_started;
	}
	if (opts->flags & STRAW_SPAWN_MONITOR) {
		rc = op_monitor(parent, pid_of(p), &mref);
		if (rc < 0)
			goto fail_started;
		if (opts->monitor != NULL)
			*opts->monitor = mref;
	}
	if (out != NULL)
		*out = pid_of(p);
	return 0;
fail_started:
	/* It has not run yet: end it quietly (no signals: its link, if
	 * made, is removed first). */
	op_unlink(parent, pid_of(p));
	p->life = PROC_EXITING;
	p->reason = straw_msg_ref(proc_atom_killed);
	strawi_coro_kill(p->coro, 0, NULL);
	return rc;
}

/* ---- the public calls (process side; foreign.c adds the rest) -------- */

static int op_exit(struct proc *self, straw_pid pid, straw_msg *reason);
static int op_send_name(struct proc *self, const char *name, straw_msg *m);

int
strawi_proc_run_op(struct proc *self, int op, struct op_args *a)
{
	int old;

	switch (op) {
	case OP_SPAWN:
		return proc_spawn(self->c, self, a->fn, a->arg, a->opts,
		                  a->pid_out);
	case OP_EXIT:
		return op_exit(self, a->pid, a->msg);
	case OP_LINK:
		return op_link(self, a->pid);
	case OP_UNLINK:
		return op_unlink(self, a->pid);
	case OP_MONITOR:
		return op_monitor(self, a->pid, a->ref_out);
	case OP_DEMONITOR:
		return op_demonitor(self, a->ref, a->flags);
	case OP_REGISTER:
		return op_register(self, a->name, a->pid);
	case OP_UNREGISTER:
		return op_unregister(self, a->name);
	case OP_WHEREIS:
		return op_whereis(self, a->name, a->pid_out);
	case OP_TRAP:
		old = self->trap_exit;
		self->trap_exit = a->flags != 0;
		return old;
	case OP_MAKE_REF:
		*a->ref_out = ref_of(new_ref_id(self->c));
		return 0;
	case OP_SEND_NAME:
		return op_send_name(self, a->name, a->msg);
	case OP_SEND_AFTER:
		return proc_op_send_after(self, a->pid, a->msg, a->flags,
		                          a->timer_out);
	case OP_CANCEL_TIMER:
		return proc_op_cancel_timer(self, a->timer);
	case OP_INFO:
		return proc_op_info(self, a->pid, a->info);
	}
	return -EINVAL;
}

/* Runs op for the caller: directly in a process, through the scheduler
 * for an attached thread. */
int
proc_run_op(int op, struct op_args *a)
{
	struct proc *self = proc_current();

	if (self != NULL)
		return strawi_proc_run_op(self, op, a);
	if (proc_tls_foreign != NULL)
		return proc_foreign_call(proc_tls_foreign, op, a);
	return STRAW_ENOTCONTAINER;
}

int
straw_spawn(straw_proc_fn fn, void *arg, const straw_spawn_opts *opts,
            straw_pid *pid)
{
	struct op_args a = {0};

	a.fn = fn;
	a.arg = arg;
	a.opts = opts;
	a.pid_out = pid;
	return proc_run_op(OP_SPAWN, &a);
}

straw_pid
straw_self(void)
{
	struct proc *p = proc_current();
	straw_pid none = {0, 0, 0};

	if (p == NULL)
		p = proc_tls_foreign;
	return p != NULL ? pid_of(p) : none;
}

straw_pid
straw_self_long(void)
{
	struct proc *p = proc_current();
	straw_pid none = {0, 0, 0};

	if (p == NULL)
		p = proc_tls_foreign;
	if (p == NULL)
		return none;
	none.machine = p->c->machine;
	none.container = p->c->id;
	none.process = p->id;
	return none;
}

void
straw_exit_self(straw_msg *reason)
{
	struct proc *self = proc_current();

	if (self == NULL) {
		fprintf(stderr, "straw_exit_self called outside a process\n");
		abort();
	}
	if (reason == NULL)
		reason = straw_msg_ref(proc_atom_normal);
	strawi_coro_exit(0, reason);
}

void
straw_exit_self_atom(const char *atom)
{
	straw_msg *r = NULL;

	if (straw_msg_atom(&r, atom) < 0)
		r = straw_msg_ref(proc_atom_killed);
	straw_exit_self(r);
}

static int
op_exit(struct proc *self, straw_pid pid, straw_msg *reason)
{
	struct proc *t;

	if (!proc_pid_local(self->c, pid))
		return -EHOSTUNREACH;
	t = proc_lookup(self->c, pid);
	if (t != NULL)
		proc_signal(t, pid_of(self), reason, PROC_SIG_EXIT);
	return 0;
}

int
straw_exit(straw_pid pid, straw_msg *reason)
{
	struct op_args a = {0};

	if (reason == NULL)
		return -EINVAL;
	a.pid = pid;
	a.msg = reason;
	return proc_run_op(OP_EXIT, &a);
}

int
straw_exit_atom(straw_pid pid, const char *atom)
{
	straw_msg *r;
	struct proc *self = proc_current();
	int rc = straw_msg_atom(&r, atom);

	if (rc < 0)
		return rc;
	if (self != NULL) /* a signal to itself may end it in the call */
		self->hold = r;
	rc = straw_exit(pid, r);
	if (self != NULL)
		self->hold = NULL;
	straw_msg_unref(r);
	return rc;
}

static __attribute__((noreturn)) void
end_with_text(const char *tag, const char *text, size_t n)
{
	straw_msg *r;

	if (proc_current() == NULL) {
		fprintf(stderr, "%s: %.*s\n", tag, (int)n, text);
		abort();
	}
	r = etfp_tag_text_msg(tag, text, n);
	if (r == NULL)
		r = straw_msg_ref(proc_atom_killed);
	strawi_coro_exit(0, r);
}

void
straw_panic_at(const char *file, int line, const char *fmt, ...)
{
	char text[512];
	int n = snprintf(text, sizeof(text), "%s:%d: ", file, line);
	va_list ap;

	if (n < 0)
		n = 0;
	if ((size_t)n >= sizeof(text))
		n = (int)sizeof(text) - 1;
	va_start(ap, fmt);
	vsnprintf(text + n, sizeof(text) - (size_t)n, fmt, ap);
	va_end(ap);
	end_with_text("panic", text, strlen(text));
}

void
straw_assert_fail(const char *file, int line, const char *expr)
{
	char text[512];

	snprintf(text, sizeof(text), "%s:%d: %s", file, line, expr);
	end_with_text("assert", text, strlen(text));
}

int
straw_trap_exit(int on)
{
	struct op_args a = {0};

	a.flags = on != 0;
	return proc_run_op(OP_TRAP, &a);
}

int
straw_link(straw_pid pid)
{
	struct op_args a = {0};

	a.pid = pid;
	return proc_run_op(OP_LINK, &a);
}

int
straw_unlink(straw_pid pid)
{
	struct op_args a = {0};

	a.pid = pid;
	return proc_run_op(OP_UNLINK, &a);
}

int
straw_monitor(straw_pid pid, straw_ref *ref)
{
	struct op_args a = {0};
	straw_ref dummy;

	a.pid = pid;
	a.ref_out = ref != NULL ? ref : &dummy;
	return proc_run_op(OP_MONITOR, &a);
}

int
straw_demonitor(straw_ref ref, unsigned flags)
{
	struct op_args a = {0};

	a.ref = ref;
	a.flags = flags;
	return proc_run_op(OP_DEMONITOR, &a);
}

int
straw_make_ref(straw_ref *ref)
{
	struct op_args a = {0};

	a.ref_out = ref;
	return proc_run_op(OP_MAKE_REF, &a);
}

int
straw_register(const char *name, straw_pid pid)
{
	struct op_args a = {0};

	a.name = name;
	a.pid = pid;
	return proc_run_op(OP_REGISTER, &a);
}

int
straw_unregister(const char *name)
{
	struct op_args a = {0};

	a.name = name;
	return proc_run_op(OP_UNREGISTER, &a);
}

int
straw_whereis(const char *name, straw_pid *pid)
{
	struct op_args a = {0};

	a.name = name;
	a.pid_out = pid;
	return proc_run_op(OP_WHEREIS, &a);
}

/* ---- send ----------------------------------------------------------- */

static int
send_remote(straw_pid pid, straw_msg *m, int consume)
{
	if (strawi_route_send != NULL) {
		if (!consume)
			straw_msg_ref(m);
		return strawi_route_send(pid, m);
	}
	if (consume)
		straw_msg_unref(m);
	return -EHOSTUNREACH;
}

int strawi_foreign_send(struct proc *self, straw_pid pid, straw_msg *m);

static inline int
send_common(straw_pid pid, straw_msg *m, int consume)
{
	struct proc *self = proc_current(), *t;
	straw_container *c;

	if (unlikely(m == NULL))
		return -EINVAL;
	if (unlikely(self == NULL)) {
		struct proc *f = proc_tls_foreign;
		if (f == NULL) {
			if (consume)
				straw_msg_unref(m);
			return STRAW_ENOTCONTAINER;
		}
		if (!proc_pid_local(f->c, pid))
			return send_remote(pid, m, consume);
		m = proc_msg_for_queue(m, consume);
		if (m == NULL)
			return -ENOMEM;
		return strawi_foreign_send(f, pid, m);
	}
	c = self->c;
	if (unlikely(!proc_pid_local(c, pid)))
		return send_remote(pid, m, consume);
	t = proc_table_get(&c->procs, pid.process);
	if (t == NULL || t->life != PROC_ALIVE) {
		if (consume)
			straw_msg_unref(m);
		return 0;
	}
	m = proc_msg_for_queue(m, consume);
	if (unlikely(m == NULL))
		return -ENOMEM;
	proc_deliver(t, m);
	if (unlikely(++self->budget >= PROC_SEND_BUDGET)) {
		self->budget = 0;
		strawi_yield();
	}
	return 0;
}

int
straw_send(straw_pid pid, straw_msg *m)
{
	return send_common(pid, m, 0);
}

int
straw_send_take(straw_pid pid, straw_msg *m)
{
	return send_common(pid, m, 1);
}

static int
op_send_name(struct proc *self, const char *name, straw_msg *m)
{
	struct proc_name *n;
	straw_msg *q;

	if (!name_valid(name))
		return STRAW_ENONAME;
	n = name_find(self->c, name);
	if (n == NULL)
		return STRAW_ENONAME;
	q = proc_msg_for_queue(m, 0);
	if (q == NULL)
		return -ENOMEM;
	proc_deliver(n->p, q);
	return 0;
}

int
straw_send_name(const char *name, straw_msg *m)
{
	struct op_args a = {0};

	if (m == NULL)
		return -EINVAL;
	a.name = name;
	a.msg = m;
	return proc_run_op(OP_SEND_NAME, &a);
}
