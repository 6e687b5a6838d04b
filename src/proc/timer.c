/*
 * send_after timers: a message delivered at a deadline, cancellable.  A
 * timer aimed at a process of this container is on that process's list
 * and is cancelled when the process ends (Erlang's rule for a timer to a
 * pid), so that its message does not wait for a deadline in vain; one
 * aimed at another container's process goes through the router when it
 * fires.
 */
#include <errno.h>

#include "base/base.h"
#include "base/clock.h"
#include "proc/proc.h"

/* A pending send_after. */
struct proc_tmr {
	struct strawi_timer t;        /* the scheduler's timer; arg: this */
	uint64_t id;                  /* key in the container's timer map */
	straw_container *c;           /* owner */
	struct proc *dest;            /* the receiver here, or NULL */
	straw_pid remote;             /* the receiver elsewhere (long) */
	straw_pid from;               /* who set it */
	struct proc_tmr *next, *prev; /* dest's list */
	straw_msg *msg;               /* carries a queue reference */
};

static void
tmr_unhook(struct proc_tmr *tm)
{
	if (tm->dest == NULL)
		return;
	if (tm->prev != NULL)
		tm->prev->next = tm->next;
	else
		tm->dest->timers = tm->next;
	if (tm->next != NULL)
		tm->next->prev = tm->prev;
	tm->dest = NULL;
}

static void
tmr_fire(struct strawi_timer *t)
{
	struct proc_tmr *tm = t->arg;
	straw_container *c = tm->c;
	struct proc *p = tm->dest;

	proc_map_del(&c->timers, tm->id);
	tmr_unhook(tm);
	if (p != NULL)
		proc_deliver(p, tm->msg);
	else
		(void)proc_send_remote(c, tm->from, tm->remote, tm->msg);
	straw_free(tm);
}

int
proc_op_send_after(struct proc *self, straw_pid pid, straw_msg *m, unsigned ms,
                   straw_timer *out)
{
	straw_container *c = self->c;
	struct proc_tmr *tm;
	struct proc *dest = NULL;
	int rc;

	if (!proc_pid_local(c, pid)) {
		if (c->router == NULL)
			return -EHOSTUNREACH;
	} else {
		dest = proc_lookup(c, pid);
		if (dest == NULL || dest->life != PROC_ALIVE) {
			/* it would be dropped: a timer that never delivers */
			if (out != NULL)
				out->id = ++c->next_timer;
			return 0;
		}
	}
	tm = straw_calloc(1, sizeof(*tm));
	if (tm == NULL)
		return -ENOMEM;
	tm->msg = proc_msg_for_queue(m, 0);
	if (tm->msg == NULL) {
		straw_free(tm);
		return -ENOMEM;
	}
	tm->id = ++c->next_timer;
	tm->c = c;
	tm->remote = proc_pid_long(c, pid);
	tm->from = proc_pid_of(self);
	strawi_timer_init(&tm->t, tmr_fire, tm);
	rc = proc_map_put(&c->timers, tm->id, tm);
	if (rc < 0)
		goto fail;
	rc = strawi_timer_add(c->sched, &tm->t,
	                      strawi_now_ns() + (int64_t)ms * 1000000);
	if (rc < 0) {
		proc_map_del(&c->timers, tm->id);
		goto fail;
	}
	if (dest != NULL) {
		tm->dest = dest;
		tm->next = dest->timers;
		if (dest->timers != NULL)
			dest->timers->prev = tm;
		dest->timers = tm;
	}
	if (out != NULL)
		out->id = tm->id;
	return 0;
fail:
	straw_msg_unref(tm->msg);
	straw_free(tm);
	return rc;
}

int
proc_op_cancel_timer(struct proc *self, straw_timer t)
{
	straw_container *c = self->c;
	struct proc_tmr *tm;
	int64_t left;

	if (t.id == 0)
		return -ENOENT;
	tm = proc_map_del(&c->timers, t.id);
	if (tm == NULL)
		return -ENOENT;
	left = tm->t.deadline - strawi_now_ns();
	strawi_timer_cancel(c->sched, &tm->t);
	tmr_unhook(tm);
	straw_msg_unref(tm->msg);
	straw_free(tm);
	if (left < 0)
		left = 0;
	return (int)((left + 999999) / 1000000);
}

static void
tmr_drop(uint64_t key, void *val, void *arg)
{
	struct proc_tmr *tm = val;

	(void)key;
	strawi_timer_cancel(tm->c->sched, &tm->t);
	straw_msg_unref(tm->msg);
	straw_free(tm);
	(void)arg;
}

void
proc_timers_cancel_for(struct proc *p)
{
	straw_container *c = p->c;

	while (p->timers != NULL) {
		struct proc_tmr *tm = p->timers;
		tmr_unhook(tm);
		proc_map_del(&c->timers, tm->id);
		strawi_timer_cancel(c->sched, &tm->t);
		straw_msg_unref(tm->msg);
		straw_free(tm);
	}
}

void
proc_timers_drop(straw_container *c)
{
	proc_map_each(&c->timers, tmr_drop, NULL);
	proc_map_fini(&c->timers);
}

int
straw_send_after(straw_pid pid, straw_msg *m, int ms, straw_timer *timer)
{
	struct op_args a = {0};

	if (m == NULL || ms < 0)
		return -EINVAL;
	a.pid = pid;
	a.msg = m;
	a.flags = (unsigned)ms;
	a.timer_out = timer;
	return proc_run_op(OP_SEND_AFTER, &a);
}

int
straw_cancel_timer(straw_timer timer)
{
	struct op_args a = {0};

	a.timer = timer;
	return proc_run_op(OP_CANCEL_TIMER, &a);
}
