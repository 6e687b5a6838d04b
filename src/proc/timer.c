/* send_after timers: a message delivered at a deadline, cancellable. */
#include <errno.h>

#include "base/base.h"
#include "base/clock.h"
#include "proc/proc.h"

/* A pending send_after. */
struct proc_tmr {
	struct strawi_timer t; /* the scheduler's timer; arg: this */
	uint64_t id;           /* key in the container's timer map */
	straw_container *c;    /* owner */
	uint32_t dest;         /* process id of the receiver */
	straw_msg *msg;        /* carries a queue reference */
};

static void
tmr_fire(struct strawi_timer *t)
{
	struct proc_tmr *tm = t->arg;
	straw_container *c = tm->c;
	struct proc *p = proc_table_get(&c->procs, tm->dest);

	proc_map_del(&c->timers, tm->id);
	if (p != NULL)
		proc_deliver(p, tm->msg);
	else
		straw_msg_unref(tm->msg);
	straw_free(tm);
}

int
proc_op_send_after(struct proc *self, straw_pid pid, straw_msg *m, unsigned ms,
                   straw_timer *out)
{
	straw_container *c = self->c;
	struct proc_tmr *tm;
	int rc;

	if (!proc_pid_local(c, pid))
		return -EHOSTUNREACH;
	tm = straw_malloc(sizeof(*tm));
	if (tm == NULL)
		return -ENOMEM;
	tm->msg = proc_msg_for_queue(m, 0);
	if (tm->msg == NULL) {
		straw_free(tm);
		return -ENOMEM;
	}
	tm->id = ++c->next_timer;
	tm->c = c;
	tm->dest = pid.process;
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

/* Frees every pending timer (the container stops). */
void proc_timers_drop(straw_container *c);

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
