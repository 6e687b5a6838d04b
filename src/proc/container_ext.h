/*
 * src/proc/container_ext.h - what the process layer offers the layers
 * above it (the router, later the distribution layer), which it cannot
 * call itself: a container started with their ops table, posting to a
 * container's scheduler from any thread, the container's registry
 * connection, and waits of a process or an attached thread for something
 * those layers complete on the scheduler thread.
 */
#ifndef STRAW_PROC_CONTAINER_EXT_H
#define STRAW_PROC_CONTAINER_EXT_H

#include <stdint.h>

#include <straw/registry.h>
#include <straw/straw.h>

#include "sched/sched.h"

#define STRAWI_CONTAINER_EXT_VERSION 1

/*
 * The layers above the process layer, for one container.  Every op runs
 * on the container's scheduler thread, in the scheduler context; none may
 * be NULL.
 */
struct strawi_container_ext {
	uint32_t version; /* STRAWI_CONTAINER_EXT_VERSION; first */
	const char *name; /* for the log */
	/* The scheduler exists and the first process has not run yet.
	 * Returns 0, or a negative code: the container then fails to start
	 * with it (nothing of it runs). */
	int (*start)(straw_container *c, void *arg);
	/* No process is left (the container ends unless it lingers): drop
	 * what would keep the scheduler running (watched fds, timers).  May
	 * run more than once; a later process may need them again. */
	void (*idle)(straw_container *c, void *arg);
	/* The container stops: release everything, before its processes are
	 * ended (their signals to other containers are not sent then). */
	void (*stop)(straw_container *c, void *arg);
};

/*
 * straw_container_start (include/straw/straw.h) with the layers above:
 * ext (may be NULL) runs with ext_arg as described above.  Returns as
 * straw_container_start; -EINVAL for an ext of another version.
 */
int strawi_container_start(const char *name, straw_proc_fn main_fn, void *arg,
                           const straw_container_opts *opts,
                           const struct strawi_container_ext *ext,
                           void *ext_arg, straw_container **out);

/* c's scheduler (valid while c runs).  Scheduler thread. */
struct strawi_sched *strawi_proc_sched(straw_container *c);

/* c's registry connection, or NULL for a local container.  Any thread while
 * c is valid. */
straw_reg *strawi_proc_registry(straw_container *c);

/* c's limit on the size of one message to or from another container. */
size_t strawi_proc_max_message(const straw_container *c);

/* Posts t to c's scheduler from any thread: 0, or STRAW_ENOPROC when c no
 * longer takes posts (t will not run). */
int strawi_proc_post(straw_container *c, struct strawi_task *t);

/*
 * A wait of the calling process or attached thread for an event that code
 * on the scheduler thread completes.  It lives on the heap, never on the
 * waiter's stack: a process may be ended (killed) while it waits, and then
 * the wait is abandoned and freed when it completes (or when the container
 * ends).
 *
 * strawi_waiter_new: for the caller (a process or an attached thread):
 *   0 and *out, -ENOMEM, STRAW_ENOTCONTAINER.
 * strawi_waiter_wait: waits until strawi_waiter_done or deadline (absolute
 *   CLOCK_MONOTONIC ns, STRAWI_FOREVER): returns the done's rc (and its
 *   value in *value, which may be NULL), or
 *   -ETIMEDOUT (the wait is then abandoned: a later done frees it).  A
 *   process parks (the others run); an attached thread blocks.  Frees w
 *   unless abandoned.  The caller that made w, once.
 * strawi_waiter_done: completes w with rc and value and wakes its waiter,
 *   or frees it when it was abandoned.  Scheduler thread, once.
 */
struct strawi_waiter;
int strawi_waiter_new(struct strawi_waiter **out);
/* Frees a waiter that was never handed to the code that would complete it.
 * The caller that made it. */
void strawi_waiter_cancel(struct strawi_waiter *w);
int strawi_waiter_wait(struct strawi_waiter *w, int64_t deadline,
                       uint64_t *value);
void strawi_waiter_done(struct strawi_waiter *w, int rc, uint64_t value);

#endif /* STRAW_PROC_CONTAINER_EXT_H */
