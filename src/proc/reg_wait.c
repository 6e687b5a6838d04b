/*
 * src/proc/reg_wait.c - processes and attached threads waiting for what
 * only strawd gives - a tube opened or accepted on the container's own
 * registry connection, the registry caught up with the container
 * (straw_container_sync) - without blocking their container.
 *
 * The request goes out asynchronously and its completion runs on the
 * connection's I/O thread.  A waiting process parks; the completion posts
 * a task to the scheduler, which hands the result over and wakes it.  An
 * attached thread blocks on an eventfd that the completion writes; it gives
 * the wait up (STRAW_ENOPROC) when the container ends its process, which
 * it checks every WAIT_CHECK_MS (a race settled by `state`).
 *
 * A process may be killed while it waits (its frames are discarded, no
 * code of it runs again), so a wait lives on the heap and is never owned
 * by the waiter's stack: a completion for a process that is gone disposes
 * of the result (closes the tube), and a wait handed to a process that is
 * killed before it took it is found on the container's `handed` list by
 * the next completion (or when the scheduler ends) and disposed of.
 */
#include <errno.h>
#include <poll.h>
#include <stdatomic.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <straw/tube.h>

#include "base/base.h"
#include "proc/proc.h"
#include "registry/client.h"
#include "tube/tube_impl.h"

/* An attached thread checks this often whether its process still lives. */
#define WAIT_CHECK_MS 100

/* The state of an attached thread's wait. */
enum { WAIT_PENDING, WAIT_COMPLETED, WAIT_ABANDONED };

struct proc_regwait {
	struct strawi_task task;   /* first: the completion, posted */
	straw_container *c;        /* the waiter's container */
	struct proc *p;            /* the waiting process; NULL: attached */
	uint32_t pid;              /* its id */
	int efd;                   /* attached thread: written at completion */
	_Atomic int state;         /* attached thread: WAIT_* */
	int done;                  /* handed over (scheduler thread) */
	int rc;                    /* the result */
	straw_tube *tube;          /* an open's or accept's tube */
	struct proc_regwait *next; /* on the container's handed list */
};

static void
wait_dispose(struct proc_regwait *w)
{
	straw_tube_close(w->tube); /* NULL is fine; never blocks */
	if (w->efd >= 0)
		close(w->efd);
	straw_free(w);
}

/* Whether w's process is alive (and so still in its wait). */
static int
waiter_alive(const struct proc_regwait *w)
{
	struct proc *p = proc_table_get(&w->c->procs, w->pid);

	return p != NULL && p == w->p && p->life == PROC_ALIVE;
}

/* Disposes of the handed waits whose process died before taking them
 * (all = 1: every one).  Scheduler thread. */
static void
sweep(struct proc_reg *g, int all)
{
	struct proc_regwait **pp = &g->handed, *w;

	while ((w = *pp) != NULL) {
		if (all || !waiter_alive(w)) {
			*pp = w->next;
			wait_dispose(w);
		} else {
			pp = &w->next;
		}
	}
}

void
proc_reg_sched_done(straw_container *c)
{
	if (c->rg != NULL)
		sweep(c->rg, 1);
}

/* The completion on the scheduler thread: hand over and wake. */
static void
wait_task(struct strawi_task *t)
{
	struct proc_regwait *w = (struct proc_regwait *)t;
	struct proc_reg *g = w->c->rg;

	sweep(g, 0);
	if (!waiter_alive(w)) {
		wait_dispose(w);
		return;
	}
	w->done = 1;
	w->next = g->handed;
	g->handed = w;
	strawi_coro_wake(w->p->coro);
}

/* A completion, on the registry connection's I/O thread. */
static void
wait_complete(struct proc_regwait *w, int rc, straw_tube *t)
{
	int pending = WAIT_PENDING;

	w->rc = rc;
	w->tube = t;
	if (w->p == NULL) {
		uint64_t one = 1;
		if (!atomic_compare_exchange_strong(&w->state, &pending,
		                                    WAIT_COMPLETED))
			wait_dispose(w); /* the thread gave up */
		else
			(void)!write(w->efd, &one, sizeof(one));
		return;
	}
	w->task.fn = wait_task;
	/* Not posted: the container is ending and its processes with it. */
	if (proc_reg_post(w->c, &w->task) < 0)
		wait_dispose(w);
}

/* Makes a wait for the calling process or attached thread; *r gets the
 * container's registry connection. */
static int
wait_begin(struct proc_regwait **out, straw_reg **r)
{
	struct proc *self = proc_current();
	struct proc_regwait *w;
	straw_container *c;

	if (self != NULL)
		c = self->c;
	else if (proc_tls_foreign != NULL)
		c = proc_tls_foreign->c;
	else
		return STRAW_ENOTCONTAINER;
	if (c->reg == NULL)
		return STRAW_ENOTJOINED;
	w = straw_calloc(1, sizeof(*w));
	if (w == NULL)
		return -ENOMEM;
	w->efd = -1;
	if (self == NULL) {
		w->efd = eventfd(0, EFD_CLOEXEC);
		if (w->efd < 0) {
			int rc = -errno;
			straw_free(w);
			return rc;
		}
	}
	atomic_init(&w->state, WAIT_PENDING);
	w->c = c;
	w->p = self;
	w->pid = self != NULL ? self->id : 0;
	*r = c->reg;
	*out = w;
	return 0;
}

/* Whether the attached thread's process still lives. */
static int
attached_alive(void)
{
	struct proc *p = proc_tls_foreign;
	int alive;

	pthread_mutex_lock(&p->ft->mu);
	alive = p->life == PROC_ALIVE;
	pthread_mutex_unlock(&p->ft->mu);
	return alive;
}

/* An attached thread waits: 0 when completed, STRAW_ENOPROC when its
 * process ended first (w then belongs to the completion). */
static int
attached_wait(struct proc_regwait *w)
{
	for (;;) {
		struct pollfd p = {w->efd, POLLIN, 0};
		int pending = WAIT_PENDING;

		(void)poll(&p, 1, WAIT_CHECK_MS);
		if (atomic_load(&w->state) == WAIT_COMPLETED)
			return 0;
		if (attached_alive())
			continue;
		if (atomic_compare_exchange_strong(&w->state, &pending,
		                                   WAIT_ABANDONED))
			return STRAW_ENOPROC;
		return 0; /* completed meanwhile */
	}
}

/* Waits for the completion of the request submitted (rc 0), or frees w
 * (rc < 0: nothing was submitted).  Returns the result. */
static int
wait_end(struct proc_regwait *w, int rc, straw_tube **out)
{
	struct proc_regwait **pp;

	if (w->p == NULL && rc == 0) {
		rc = attached_wait(w);
		if (rc < 0)
			return rc; /* abandoned: the completion disposes */
		rc = w->rc;
	} else if (w->p != NULL && rc == 0) {
		/* Parked; spurious wakes are fine.  A kill ends us here. */
		while (!w->done)
			(void)strawi_park(STRAWI_FOREVER);
		for (pp = &w->c->rg->handed; *pp != w; pp = &(*pp)->next)
			;
		*pp = w->next;
		rc = w->rc;
	}
	if (rc == 0 && out != NULL) {
		*out = w->tube;
		w->tube = NULL;
	}
	wait_dispose(w); /* closes a tube not taken */
	return rc;
}

static void
on_tube(void *arg, int rc, straw_tube *t)
{
	wait_complete(arg, rc, t);
}

int
straw_container_tube_open(const char *peer, const char *service, uint32_t tid,
                          enum straw_tube_mode mode, int timeout_ms,
                          straw_tube **out)
{
	struct proc_regwait *w;
	straw_reg *r;
	int rc;

	if (out == NULL)
		return -EINVAL;
	rc = wait_begin(&w, &r);
	if (rc < 0)
		return rc;
	rc = strawi_tube_open_async(r, peer, service, tid, mode, timeout_ms,
	                            on_tube, w);
	return wait_end(w, rc, out);
}

int
straw_container_tube_accept(const straw_tube_filter *filter, int timeout_ms,
                            straw_tube **out)
{
	struct proc_regwait *w;
	straw_reg *r;
	int rc;

	if (out == NULL)
		return -EINVAL;
	rc = wait_begin(&w, &r);
	if (rc < 0)
		return rc;
	rc = strawi_tube_accept_async(r, filter, timeout_ms, on_tube, w);
	return wait_end(w, rc, out);
}

/* The answer of the request that follows the caller's changes. */
static void
on_synced(void *arg, struct reg_async_result *res)
{
	/* Any answer means strawd served everything sent before. */
	wait_complete(arg,
	              res->rc == -ETIMEDOUT   ? -ETIMEDOUT
	              : res->rc == -ECANCELED ? STRAW_ENOPROC
	                                      : 0,
	              NULL);
}

int
straw_container_sync(int timeout_ms)
{
	struct proc_regwait *w;
	struct reg_async *a = NULL;
	straw_reg *r;
	int rc = wait_begin(&w, &r);

	if (rc == STRAW_ENOTJOINED)
		return 0; /* without strawd nothing is mirrored */
	if (rc < 0)
		return rc;
	/* A lookup: read-only, and answered in order after every earlier
	 * request of the connection.  Reserved: a full queue (the very case
	 * a caller may want to wait out) does not refuse it, and each waiter
	 * has one at a time. */
	rc = reg_async_new_lookup(&a, w->c->name, "sync");
	if (rc == 0)
		rc = reg_async_submit(r, a, timeout_ms, REG_ASYNC_RESERVED,
		                      on_synced, w);
	if (rc < 0)
		reg_async_free(a);
	return wait_end(w, rc, NULL);
}
