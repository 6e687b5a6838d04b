/*
 * src/proc/tube_wait.c - how a process waits inside a tube call: the tube
 * layer (below the scheduler) asks through the wait operations registered
 * here, and a process waits for a tube's readiness fd through its
 * container's reactor, so that a reliable sender facing a full tube (or a
 * reader facing an empty one) lets the other processes and the timers run.
 */
#include <sys/epoll.h>

#include "proc/proc.h"
#include "tube/tube_impl.h"

static int
in_coroutine(void)
{
	return strawi_coro_self() != NULL;
}

static int
wait_readable(int fd, int64_t deadline)
{
	return strawi_wait_fd(fd, EPOLLIN, deadline);
}

static const struct strawi_tube_wait_ops proc_tube_waits = {
        .version = STRAWI_TUBE_WAIT_OPS_VERSION,
        .yields = in_coroutine,
        .wait_readable = wait_readable,
};

void
proc_tube_waits_register(void)
{
	strawi_tube_set_wait_ops(&proc_tube_waits);
}
