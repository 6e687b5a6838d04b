/*
 * src/proc/router.h - the seam between the process layer and the router
 * (src/route), the one way messages, links, monitors and exit signals
 * cross containers.
 *
 * The process layer sits below the router, so it reaches it only through
 * the ops table below, which the router registers for a container at run
 * time (strawi_proc_router_set): no weak symbol and no constructor, so a
 * program linked statically works as one linked with libstraw.so.  While
 * no router is registered, every operation on a pid of another container
 * fails with -EHOSTUNREACH.  In the other direction the router calls the
 * strawi_proc_remote_* entries to hand the process layer what came from
 * another container.
 *
 * Pids given to the router are long (machine and container filled in);
 * `local` pids are processes of the container the table is registered for.
 */
#ifndef STRAW_PROC_ROUTER_H
#define STRAW_PROC_ROUTER_H

#include <stdint.h>

#include <straw/straw.h>

#define STRAWI_ROUTER_OPS_VERSION 1

/* The kinds of exit signals (Erlang's): one a link carries when its other
 * end ended, and one exit/2 sends. */
enum strawi_signal_kind {
	STRAWI_SIG_LINK = 1,
	STRAWI_SIG_EXIT = 2,
};

/*
 * The router's table.  `router` is the pointer given with it.  Unless said
 * otherwise an op runs on the container's scheduler thread (in a process
 * or in the scheduler context), must not block it, and does not consume
 * the messages it is given (it copies what it keeps).  No op may be NULL.
 */
struct strawi_router_ops {
	int version; /* STRAWI_ROUTER_OPS_VERSION */

	/*
	 * Sends m from `from` to pid `to` of another container or machine,
	 * consuming one reference to m (also on failure).  Called on the
	 * sender's thread: in a process it may park the process until the
	 * straw has room (backpressure; other processes run), on an attached
	 * thread it may block the thread, never past deadline (absolute
	 * CLOCK_MONOTONIC ns, or STRAWI_FOREVER).  Returns 0 (also when `to`
	 * is not alive or its container is gone: Erlang drops such messages),
	 * -EMSGSIZE (over the container's limit, nothing sent), -ETIMEDOUT,
	 * -ENOMEM, or a code for an error the sender must see.
	 */
	int (*send)(void *router, straw_pid from, straw_pid to, straw_msg *m,
	            int64_t deadline);

	/*
	 * As send, to the process registered as `name` in `container` (a
	 * container name or a decimal id) of this machine.  A name not
	 * registered in a live container drops the message (returns 0); an
	 * unknown container returns STRAW_ENOCONTAINER.
	 */
	int (*send_name)(void *router, straw_pid from, const char *container,
	                 const char *name, straw_msg *m, int64_t deadline);

	/*
	 * Looks {container, name} up: 0 and *out (long), STRAW_ENONAME,
	 * STRAW_ENOCONTAINER, -ETIMEDOUT.  May park the calling process (or
	 * block the attached thread) until deadline.
	 */
	int (*whereis)(void *router, const char *container, const char *name,
	               straw_pid *out, int64_t deadline);

	/*
	 * `local` linked to (unlinked from) `remote`.  Queued, never blocks.
	 * Returns 0 or -ENOMEM; a remote end that turns out not to be alive
	 * answers with an exit signal noproc (strawi_proc_remote_exit), and a
	 * container that is gone with noconnection (strawi_proc_peer_gone).
	 */
	int (*link)(void *router, straw_pid local, straw_pid remote);
	int (*unlink)(void *router, straw_pid local, straw_pid remote);

	/*
	 * `watcher` (local) monitors `target` (remote) under ref (made by the
	 * watcher's container), or stops doing so.  Queued, never blocks;
	 * 0 or -ENOMEM.  A target not alive answers with a DOWN noproc
	 * (strawi_proc_remote_down); a gone container with noconnection.
	 */
	int (*monitor)(void *router, straw_pid watcher, straw_pid target,
	               straw_ref ref);
	int (*demonitor)(void *router, straw_pid watcher, straw_pid target,
	                 straw_ref ref);

	/*
	 * An exit signal of `kind` from `from` (local) to `to` (remote) with
	 * reason: for STRAWI_SIG_LINK, `from` ended and the link between
	 * them is gone on this side.  Queued; 0 or -ENOMEM.
	 */
	int (*exit)(void *router, straw_pid from, straw_pid to,
	            const straw_msg *reason, int kind);

	/*
	 * `target` (local) ended with reason, or was not alive (noproc),
	 * and `watcher` (remote) monitored it under ref.  Queued; 0 or
	 * -ENOMEM.
	 */
	int (*down)(void *router, straw_pid target, straw_pid watcher,
	            straw_ref ref, const straw_msg *reason);
};

/*
 * Registers (ops non-NULL) or removes (NULL) the router of c.  Returns 0,
 * -EINVAL (a version this layer does not know) or -EBUSY (another router
 * is registered).  Removing it first turns every link and monitor to
 * another container into an exit signal or DOWN with reason noconnection,
 * as strawi_proc_peer_gone does for all peers at once.  c's scheduler
 * thread.
 */
int strawi_proc_router_set(straw_container *c,
                           const struct strawi_router_ops *ops, void *router);

/*
 * Entries for the router, all on c's scheduler thread, in the scheduler
 * context or in a process (they never end the calling process).  Pids
 * from elsewhere are long; `local` names a process of c by its id.
 */

/* Delivers m (one reference, consumed) to process `process`; a process
 * that is not alive drops it. */
void strawi_proc_remote_deliver(straw_container *c, uint32_t process,
                                straw_msg *m);

/* Delivers m (one reference, consumed) to the process registered as name;
 * dropped when no process has that name (Erlang's rule for {Name, Node}
 * sends). */
void strawi_proc_remote_deliver_name(straw_container *c, const char *name,
                                     straw_msg *m);

/* `remote` linked itself to `local` (it called link): the link is kept on
 * this side, so that local's end reaches remote.  A local process that is
 * not alive answers with an exit signal noproc through ops->exit.
 * Returns 0 or -ENOMEM (then the router answers noproc itself, or drops
 * the peer: the link could not be kept). */
int strawi_proc_remote_link(straw_container *c, straw_pid remote,
                            uint32_t local);

/* `remote` unlinked itself from `local`. */
void strawi_proc_remote_unlink(straw_container *c, straw_pid remote,
                               uint32_t local);

/* An exit signal of `kind` from `from` (remote) to process `to`, with
 * Erlang's rules (docs/processes.md); for STRAWI_SIG_LINK the link is
 * removed first and a signal for a link that does not exist is ignored.
 * reason is not consumed. */
void strawi_proc_remote_exit(straw_container *c, straw_pid from, uint32_t to,
                             const straw_msg *reason, int kind);

/* `watcher` (remote) monitors process `target` under ref (the watcher's
 * reference); a target not alive answers DOWN noproc through ops->down.
 * Returns 0 or -ENOMEM. */
int strawi_proc_remote_monitor(straw_container *c, straw_pid watcher,
                               uint32_t target, straw_ref ref);

/* `watcher` stopped monitoring `target` under ref. */
void strawi_proc_remote_demonitor(straw_container *c, straw_pid watcher,
                                  uint32_t target, straw_ref ref);

/* The remote target of the monitor ref (made by c) ended with reason: its
 * watcher gets {'DOWN', Ref, process, Target, Reason}, exactly once (a ref
 * that is not an active monitor is ignored).  reason is not consumed. */
void strawi_proc_remote_down(straw_container *c, straw_ref ref,
                             straw_pid target, const straw_msg *reason);

/* Container `container` of machine `machine` is gone (its process died,
 * or the connection to its machine was lost): each link of a local
 * process to one of its processes delivers an exit signal noconnection,
 * each monitor of one of them a DOWN with reason noconnection, once; the
 * links and monitors it held on local processes are dropped. */
void strawi_proc_peer_gone(straw_container *c, uint64_t machine,
                           uint32_t container);

/* The container running on this thread (the scheduler thread), or NULL. */
straw_container *strawi_proc_container_here(void);

#endif /* STRAW_PROC_ROUTER_H */
