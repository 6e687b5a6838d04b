/*
 * The container in strawd's registry: joining under its name, mirroring
 * registered names, and publishing the process list for `straw ps
 * CONTAINER` under /containers/<id>/procs/<process> on request (a write to
 * /containers/<id>/ps-request) or every ps_interval_ms.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>

#include <straw/registry.h>

#include "base/base.h"
#include "base/clock.h"
#include "base/log.h"
#include "proc/proc.h"

/* Processes listed at most per publication. */
#define PS_MAX 10000

int
proc_reg_join(straw_container *c)
{
	unsigned flags = 0;
	straw_reg *r;
	uint32_t id;
	int rc;

	if (c->flags & STRAW_CONTAINER_NO_AUTOSTART)
		flags |= STRAW_REG_NO_AUTOSTART;
	rc = straw_reg_connect(&r, NULL, flags);
	if (rc == STRAW_ENODAEMON)
		strawi_log(STRAWI_LOG_ERROR,
		           "container %s: %s (or run it "
		           "without strawd: STRAW_LOCAL=1)",
		           c->name, straw_reg_start_hint());
	if (rc < 0)
		return rc;
	rc = straw_reg_join(r, c->name, &id);
	if (rc < 0) {
		straw_reg_close(r);
		return rc;
	}
	c->reg = r;
	c->id = id;
	return 0;
}

void
proc_reg_leave(straw_container *c)
{
	straw_reg_close(c->reg); /* strawd drops our entries */
	c->reg = NULL;
}

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

void
proc_ps_publish(straw_container *c)
{
	straw_reg *r = c->reg;
	straw_proc_info *v;
	char path[128], val[256];
	long n, i;
	int rc;

	if (r == NULL)
		return;
	v = straw_malloc(PS_MAX * sizeof(*v));
	if (v == NULL)
		return;
	n = proc_list(c, v, PS_MAX);
	snprintf(path, sizeof(path), "/containers/%" PRIu32 "/procs", c->id);
	rc = straw_reg_rm(r, path);
	if (rc < 0 && rc != -ENOENT)
		goto out;
	for (i = 0; i < n && i < PS_MAX; i++) {
		int len;
		snprintf(path, sizeof(path),
		         "/containers/%" PRIu32 "/procs/%" PRIu32, c->id,
		         v[i].pid.process);
		len = snprintf(val, sizeof(val),
		               "state=%s mailbox=%zu switches=%" PRIu64
		               " received=%" PRIu64
		               " memory=%zu links=%u monitors=%u trap_exit=%d"
		               " name=%s",
		               state_name(v[i].state), v[i].mailbox_len,
		               v[i].switches, v[i].reductions, v[i].memory,
		               v[i].links, v[i].monitors, v[i].trap_exit,
		               v[i].name);
		if (straw_reg_write_async(r, path, val, (size_t)len) < 0)
			break;
	}
	(void)straw_reg_sync(r);
	snprintf(path, sizeof(path), "/containers/%" PRIu32 "/procs-count",
	         c->id);
	snprintf(val, sizeof(val), "%ld", n);
	(void)straw_reg_write(r, path, val, strlen(val));
	/* written last: tells a waiting `ps` the list is complete */
	snprintf(path, sizeof(path), "/containers/%" PRIu32 "/procs-at", c->id);
	snprintf(val, sizeof(val), "%" PRId64, strawi_now_ns());
	(void)straw_reg_write(r, path, val, strlen(val));
out:
	straw_free(v);
}

/* The registry connection's watch fd turned readable: a ps request. */
static struct strawi_watch ps_watch;
static int ps_watch_on;

static void
on_reg_event(struct strawi_watch *w, uint32_t revents)
{
	straw_container *c = w->arg;
	straw_reg_event ev;
	int any = 0;

	(void)revents;
	while (straw_reg_next_event(c->reg, &ev, 0) == 0)
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

/* Sets up ps requests and the periodic publication.  Scheduler thread,
 * once the scheduler exists. */
void
proc_reg_start(straw_container *c)
{
	char path[128];
	uint32_t wid;

	strawi_timer_init(&c->ps_timer, on_ps_timer, c);
	if (c->reg == NULL)
		return;
	snprintf(path, sizeof(path), "/containers/%" PRIu32 "/ps-request",
	         c->id);
	if (straw_reg_write(c->reg, path, "", 0) == 0 &&
	    straw_reg_watch(c->reg, path, &wid) == 0) {
		ps_watch.fd = straw_reg_watch_fd(c->reg);
		ps_watch.events = EPOLLIN;
		ps_watch.cb = on_reg_event;
		ps_watch.arg = c;
		ps_watch_on = strawi_watch_add(c->sched, &ps_watch) == 0;
	}
	if (c->ps_interval_ms > 0)
		(void)strawi_timer_add(c->sched, &c->ps_timer, strawi_now_ns());
}

/* No process is left: stop what would keep the scheduler running. */
void
proc_reg_idle(straw_container *c)
{
	if (ps_watch_on) {
		strawi_watch_del(c->sched, &ps_watch);
		ps_watch_on = 0;
	}
	strawi_timer_cancel(c->sched, &c->ps_timer);
}

/* Mirrors a registered name in strawd's registry (blocks the scheduler
 * thread for one round trip to strawd). */
void
proc_reg_name(straw_container *c, const char *name, uint32_t process)
{
	int rc;

	if (c->reg == NULL || c->stopping)
		return;
	if (process != 0)
		rc = straw_reg_register(c->reg, name, process);
	else
		rc = straw_reg_unregister(c->reg, name);
	if (rc < 0)
		strawi_log(STRAWI_LOG_WARN, "registry: name %s: %s", name,
		           straw_strerror(rc));
}
