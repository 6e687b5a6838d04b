/*
 * Sending: to a pid of this container (the buffer is handed over, no
 * copy), to a registered name, to {Container, Name}, and to pids of other
 * containers through the router (src/proc/router.h).  A process sends on
 * the scheduler thread without a lock; an attached thread posts the
 * delivery to it (foreign.c) and never waits for it.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "base/base.h"
#include "proc/proc.h"
#include "proc/router.h"
#include "sched/sched.h"

int
proc_send_remote(straw_container *c, straw_pid from, straw_pid pid,
                 straw_msg *m)
{
	const struct strawi_router_ops *r = c->router;

	if (r == NULL) {
		straw_msg_unref(m);
		return -EHOSTUNREACH;
	}
	return r->send(c->router_arg, proc_pid_long(c, from),
	               proc_pid_long(c, pid), m, STRAWI_FOREVER);
}

/* The caller's process and container: a process, or an attached thread
 * (*foreign set). */
static struct proc *
sender(int *foreign)
{
	struct proc *self = proc_current();

	*foreign = 0;
	if (likely(self != NULL))
		return self;
	*foreign = 1;
	return proc_tls_foreign;
}

static inline int
send_common(straw_pid pid, straw_msg *m, int consume)
{
	struct proc *self, *t;
	straw_container *c;
	int foreign;

	if (unlikely(m == NULL))
		return -EINVAL;
	self = sender(&foreign);
	if (unlikely(self == NULL)) {
		if (consume)
			straw_msg_unref(m);
		return STRAW_ENOTCONTAINER;
	}
	c = self->c;
	if (unlikely(!proc_pid_local(c, pid)))
		return proc_send_remote(c, proc_pid_of(self), pid,
		                        consume ? m : straw_msg_ref(m));
	if (unlikely(foreign)) {
		m = proc_msg_for_queue(m, consume);
		if (m == NULL)
			return -ENOMEM;
		return proc_post_deliver(c, pid.process, m);
	}
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

int
straw_send_name(const char *name, straw_msg *m)
{
	struct proc *self;
	straw_pid to;
	int foreign, rc;

	if (m == NULL)
		return -EINVAL;
	self = sender(&foreign);
	if (self == NULL)
		return STRAW_ENOTCONTAINER;
	rc = proc_name_whereis(self->c, name, &to);
	if (rc < 0)
		return rc;
	return send_common(to, m, 0);
}

/* 1 if `container` (a name or a decimal id) is c itself. */
static int
is_self(const straw_container *c, const char *container)
{
	size_t n = strlen(container);
	char *end;
	unsigned long id;

	if (n > 0 && strspn(container, "0123456789") == n) {
		id = strtoul(container, &end, 10);
		return id == c->id;
	}
	return strcmp(container, c->name) == 0;
}

int
straw_send_to(const char *container, const char *name, straw_msg *m)
{
	const struct strawi_router_ops *r;
	struct proc *self;
	straw_container *c;
	int foreign;

	if (container == NULL || name == NULL || m == NULL)
		return -EINVAL;
	self = sender(&foreign);
	if (self == NULL)
		return STRAW_ENOTCONTAINER;
	c = self->c;
	if (is_self(c, container))
		return straw_send_name(name, m);
	r = c->router;
	if (r == NULL)
		return -EHOSTUNREACH;
	return r->send_name(c->router_arg, proc_pid_long(c, proc_pid_of(self)),
	                    container, name, straw_msg_ref(m), STRAWI_FOREVER);
}

int
straw_whereis(const char *name, straw_pid *pid)
{
	struct proc *self;
	int foreign;

	if (pid == NULL)
		return -EINVAL;
	self = sender(&foreign);
	if (self == NULL)
		return STRAW_ENOTCONTAINER;
	return proc_name_whereis(self->c, name, pid);
}

int
straw_whereis_in(const char *container, const char *name, straw_pid *pid)
{
	const struct strawi_router_ops *r;
	struct proc *self;
	straw_container *c;
	int foreign;

	if (container == NULL || name == NULL || pid == NULL)
		return -EINVAL;
	self = sender(&foreign);
	if (self == NULL)
		return STRAW_ENOTCONTAINER;
	c = self->c;
	if (is_self(c, container))
		return proc_name_whereis(c, name, pid);
	r = c->router;
	if (r == NULL)
		return -EHOSTUNREACH;
	return r->whereis(c->router_arg, container, name, pid, STRAWI_FOREVER);
}
