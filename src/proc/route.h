/*
 * src/proc/route.h - what the router (src/route) uses of the process layer:
 * the hook it provides for sends to other containers, and the entry it
 * calls to hand a message that came from elsewhere to a local process.
 */
#ifndef STRAW_PROC_ROUTE_H
#define STRAW_PROC_ROUTE_H

#include <stdint.h>

#include <straw/straw.h>

/*
 * Provided by the router (a weak reference until it exists): sends m to a
 * pid of another container or machine, consuming one reference (also on
 * failure).  Called on the sending process's thread (a process or an
 * attached thread).  Returns 0 or a negative code, which straw_send
 * returns.  Without it, such sends fail with -EHOSTUNREACH.
 */
int strawi_route_send(straw_pid pid, straw_msg *m) __attribute__((weak));

/*
 * Delivers m, consuming one reference, to process `process` of container
 * c; a process that is not alive drops it (Erlang's rule).  On c's
 * scheduler thread it is delivered at once; from any other thread it is
 * posted and delivered in posting order.  Returns 0, or STRAW_ENOPROC when
 * c is shutting down (m is released).  Any thread while c is valid.
 */
int strawi_proc_deliver_id(straw_container *c, uint32_t process, straw_msg *m);

#endif /* STRAW_PROC_ROUTE_H */
