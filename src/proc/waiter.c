/*
 * Waits of processes and attached threads for the layers above
 * (src/proc/container_ext.h): a process parks until the scheduler-thread
 * code that took its request completes it; an attached thread blocks on an
 * eventfd.  A wait is on the heap and on its process's list, so that a
 * process ended while it waits abandons it (proc_waits_abandon, from
 * proc_die) and the completion frees it instead of touching the dead
 * process.
 */
#include <errno.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "base/base.h"
#include "base/clock.h"
#include "proc/container_ext.h"
#include "proc/proc.h"

struct strawi_waiter {
	struct proc *p;                    /* the waiter; NULL: abandoned */
	struct strawi_waiter *next, *prev; /* p's list (processes) */
	int efd;                           /* attached thread: its wake-up */
	int done;                          /* completed (scheduler thread) */
	int rc;                            /* the result */
	uint64_t value;                    /* and its value */
	_Atomic int attached_done;         /* attached thread: completed */
};

static void
unhook(struct strawi_waiter *w)
{
	struct proc *p = w->p;

	if (p == NULL || p->ft != NULL)
		return;
	if (w->prev != NULL)
		w->prev->next = w->next;
	else
		p->waits = w->next;
	if (w->next != NULL)
		w->next->prev = w->prev;
	w->next = w->prev = NULL;
}

int
strawi_waiter_new(struct strawi_waiter **out)
{
	struct proc *p = proc_current();
	struct strawi_waiter *w;

	if (p == NULL)
		p = proc_tls_foreign;
	if (p == NULL)
		return STRAW_ENOTCONTAINER;
	w = straw_calloc(1, sizeof(*w));
	if (w == NULL)
		return -ENOMEM;
	w->p = p;
	w->efd = -1;
	atomic_init(&w->attached_done, 0);
	if (p->ft != NULL) {
		w->efd = eventfd(0, EFD_CLOEXEC);
		if (w->efd < 0) {
			int rc = -errno;
			straw_free(w);
			return rc;
		}
	} else {
		w->next = p->waits;
		if (p->waits != NULL)
			p->waits->prev = w;
		p->waits = w;
	}
	*out = w;
	return 0;
}

static void
waiter_free(struct strawi_waiter *w)
{
	if (w->efd >= 0)
		close(w->efd);
	straw_free(w);
}

void
strawi_waiter_cancel(struct strawi_waiter *w)
{
	unhook(w);
	waiter_free(w);
}

int
strawi_waiter_wait(struct strawi_waiter *w, int64_t deadline, uint64_t *value)
{
	int rc;

	if (w->p->ft != NULL) {
		/* An attached thread: the completion writes the eventfd. */
		for (;;) {
			struct pollfd pfd = {w->efd, POLLIN, 0};
			int ms = -1;
			if (atomic_load(&w->attached_done))
				break;
			if (deadline != STRAWI_FOREVER) {
				int64_t left = deadline - strawi_now_ns();
				if (left <= 0) {
					/* the completion will free it */
					int expect = 0;
					if (atomic_compare_exchange_strong(
					            &w->attached_done, &expect,
					            2))
						return -ETIMEDOUT;
					break; /* it completed meanwhile */
				}
				ms = (int)((left + 999999) / 1000000);
			}
			(void)poll(&pfd, 1, ms);
		}
		rc = w->rc;
		if (value != NULL)
			*value = w->value;
		waiter_free(w);
		return rc;
	}
	while (!w->done) {
		if (strawi_park(deadline) == -ETIMEDOUT && !w->done) {
			unhook(w);
			w->p = NULL; /* abandoned: the completion frees it */
			return -ETIMEDOUT;
		}
	}
	rc = w->rc;
	if (value != NULL)
		*value = w->value;
	unhook(w);
	waiter_free(w);
	return rc;
}

void
strawi_waiter_done(struct strawi_waiter *w, int rc, uint64_t value)
{
	w->rc = rc;
	w->value = value;
	if (w->p == NULL) { /* abandoned */
		waiter_free(w);
		return;
	}
	if (w->p->ft != NULL) {
		uint64_t one = 1;
		int expect = 0;
		if (!atomic_compare_exchange_strong(&w->attached_done, &expect,
		                                    1)) {
			waiter_free(w); /* the thread gave up */
			return;
		}
		if (write(w->efd, &one, sizeof(one)) != sizeof(one))
			STRAWI_PANIC("waiter: cannot write its eventfd");
		return;
	}
	w->done = 1;
	strawi_coro_wake(w->p->coro);
}

void
proc_waits_abandon(struct proc *p)
{
	while (p->waits != NULL) {
		struct strawi_waiter *w = p->waits;
		unhook(w);
		w->p = NULL;
	}
}

struct strawi_sched *
strawi_proc_sched(straw_container *c)
{
	return c->sched;
}

straw_reg *
strawi_proc_registry(straw_container *c)
{
	return c->reg;
}

size_t
strawi_proc_max_message(const straw_container *c)
{
	return c->max_message;
}

int
strawi_proc_post(straw_container *c, struct strawi_task *t)
{
	return proc_reg_post(c, t);
}
