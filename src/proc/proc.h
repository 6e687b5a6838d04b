/*
 * src/proc/proc.h - processes, containers and their bookkeeping (internal).
 *
 * Everything here belongs to the container's scheduler thread, except the
 * mailbox of an attached (foreign) thread, which its mutex guards, and the
 * fields marked "any thread".
 */
#ifndef STRAW_PROC_PROC_H
#define STRAW_PROC_PROC_H

#include <pthread.h>
#include <semaphore.h>
#include <stdatomic.h>
#include <stdint.h>

#include <straw/straw.h>

#include "proc/container_ext.h"
#include "proc/map.h"
#include "proc/msg.h"
#include "proc/table.h"
#include "sched/sched.h"

enum proc_life {
	PROC_ALIVE = 0,   /* running or waiting */
	PROC_EXITING = 1, /* has its reason; its links and monitors are not
	                     yet told (its on_exit is pending) */
	PROC_DEAD = 2,    /* told; out of the table */
};

struct proc_peer;
struct proc_tmr;      /* timer.c */
struct proc_watchdog; /* watchdog.c */

/*
 * A link: between two processes of this container (p[0] and p[1]), or
 * between p[0] and a process of another container (p[1] NULL, remote and
 * peer set).  A link is in the list of each local end, and a remote one in
 * its peer's list too.  reserve[i] is the {'EXIT', Other, Reason} message
 * that p[i] gets when the other end ends, made when p[i] traps exits, so
 * that the signal arrives even when memory has run out (see link.c).
 */
struct proc_link {
	struct proc *p[2];         /* the ends; p[1] NULL: remote */
	struct proc_link *next[2]; /* next link of p[i] */
	struct proc_link *prev[2]; /* previous link of p[i] */
	straw_pid remote;          /* remote: the other end (long form) */
	struct proc_peer *peer;    /* remote: its container's entry */
	struct proc_link *pnext;   /* remote: the peer's list */
	struct proc_link *pprev;   /* ... */
	straw_msg *reserve[2];     /* p[i]'s EXIT message, or NULL */
	uint16_t reserve_fixed[2]; /* its bytes before the reason */
};

/*
 * A monitor.  Its watcher and its target are each either a local process
 * or a pid of another container (rpid, then peer set); never both remote.
 * A local watcher's monitor is in the container's monitors map under its
 * reference id (refs made here are unique) and holds `reserve`, its DOWN
 * message made when the monitor was, so that the DOWN arrives even when
 * memory has run out.  A remote watcher's monitor carries the watcher's
 * reference in rref and is found through its target's list.
 */
struct proc_mon {
	uint64_t ref;                   /* local watcher: reference id */
	straw_ref rref;                 /* remote watcher: its reference */
	struct proc *watcher;           /* gets the DOWN; NULL: remote */
	struct proc *target;            /* watched; NULL: remote */
	straw_pid rpid;                 /* the remote end (long form) */
	struct proc_peer *peer;         /* remote end's container entry */
	struct proc_mon *wnext, *wprev; /* local watcher's list */
	struct proc_mon *tnext, *tprev; /* local target's list */
	struct proc_mon *pnext, *pprev; /* the peer's list */
	straw_msg *reserve;             /* local watcher: its DOWN */
	uint16_t reserve_fixed;         /* its bytes before the reason */
};

/* Another container that links or monitors cross to (link.c). */
struct proc_peer {
	uint64_t machine;        /* its machine */
	uint32_t container;      /* its id */
	struct proc_peer *hnext; /* chain of one hash in c->peers */
	struct proc_link *links; /* links to its processes */
	struct proc_mon *mons;   /* monitors to or from its processes */
	int busy;                /* its links are firing: not freed yet */
};

/* What an attached thread adds to its process. */
struct proc_foreign {
	pthread_mutex_t mu; /* guards the process's mailbox and `waiting` */
	int efd;            /* eventfd: readable while mail waits */
	int waiting;        /* the thread waits for new mail */
};

struct proc {
	uint32_t id;                 /* process id */
	uint8_t life;                /* enum proc_life */
	uint8_t trap_exit;           /* exit signals become messages */
	uint8_t waiting;             /* parked in receive: wake on mail */
	uint8_t sleeping;            /* in straw_sleep */
	uint8_t is_first;            /* the container's first process */
	uint32_t budget;             /* sends since it last gave up the CPU */
	straw_container *c;          /* its container */
	struct strawi_coro *coro;    /* NULL for an attached thread */
	struct proc_foreign *ft;     /* an attached thread's extras */
	struct proc_fifo mbox;       /* the mailbox */
	struct proc_link *links;     /* its links */
	struct proc_mon *mons;       /* monitors it holds */
	struct proc_mon *watchers;   /* monitors on it */
	struct strawi_waiter *waits; /* its waits (waiter.c) */
	uint32_t nlinks;             /* links */
	uint32_t nmons;              /* monitors held and on it */
	char *name;                  /* registered name or NULL */
	straw_msg *reason;           /* exit reason once not alive */
	straw_msg *hold;             /* released if it ends inside a call */
	straw_msg *held_hot;         /* the message it took last (msg.c) */
	straw_msg *held;             /* the others it holds: all released
	                              when it ends */
	struct proc_tmr *timers;     /* send_after timers aimed at it */
	uint64_t received;           /* messages taken from the mailbox */
	size_t stack_size;           /* usable stack bytes */
	straw_proc_fn fn;            /* body */
	void *arg;                   /* its argument */
};

/* A registered name. */
struct proc_name {
	struct proc_name *next; /* chain of one hash */
	struct proc *p;         /* owner */
	char name[];            /* NUL-terminated */
};

struct straw_container {
	struct strawi_sched *sched;          /* its scheduler; owner: thread */
	pthread_t thread;                    /* the scheduler thread */
	char name[80];                       /* container name */
	uint32_t id;                         /* container id */
	uint64_t machine;                    /* machine id */
	unsigned flags;                      /* enum straw_container_flag */
	size_t stack_size;                   /* default process stack */
	straw_proc_fn main_fn;               /* the first process */
	void *main_arg;                      /* its argument */
	sem_t started;                       /* posted when start is decided */
	int start_rc;                        /* start's result */
	struct proc_table procs;             /* id -> struct proc */
	struct proc_map names;               /* name hash -> struct proc_name */
	struct proc_map timers;              /* timer id -> struct proc_tmr */
	struct proc_map monitors;            /* ref id -> struct proc_mon */
	uint32_t next_pid;                   /* last process id given */
	uint64_t next_ref;                   /* last reference id given */
	uint64_t next_timer;                 /* last timer id given */
	size_t nprocs;                       /* processes alive or exiting */
	uint32_t first_id;                   /* the first process's id */
	int status;                          /* exit status so far */
	int stopping;                        /* shutting down: no signals */
	_Atomic int stop_status;             /* any thread: -1 or the status */
	_Atomic(struct strawi_sched *) live; /* any thread: sched, once made */
	_Atomic int closed;                  /* any thread: no more posts */
	_Atomic int inflight;                /* any thread: posts under way */
	pthread_mutex_t attach_mu;           /* guards attached */
	pthread_cond_t attach_cv;            /* signalled when attached drops */
	int attached;                        /* attached threads not detached */
	void *reg;                           /* registry connection or NULL */
	const struct strawi_router_ops *router; /* registered router, NULL */
	void *router_arg;                       /* its pointer */
	struct proc_map peers;                  /* hash -> struct proc_peer */
	pthread_mutex_t names_mu;               /* names: the scheduler thread
	                                        writes under it, other
	                                        threads read under it */
	struct proc_watchdog *watchdog;         /* long-run reporter, or NULL */
	int ps_interval_ms;                     /* publish period, 0: none */
	struct strawi_timer ps_timer;           /* publishes the process list */
	struct proc_reg *rg;                    /* reg.c's state, NULL: local */
	const struct strawi_container_ext *ext; /* the layers above, or NULL */
	void *ext_arg;                          /* their pointer */
	size_t max_message;                     /* largest message to or from
	                                           another container */
};

/* The container of the scheduler thread running now, or NULL. */
extern __thread straw_container *proc_tls_container
        __attribute__((tls_model("initial-exec")));
/* The process of an attached thread, or NULL. */
extern __thread struct proc *proc_tls_foreign
        __attribute__((tls_model("initial-exec")));

/* The running process on the scheduler thread, or NULL. */
static inline struct proc *
proc_current(void)
{
	struct strawi_coro *co;

	if (proc_tls_container == NULL)
		return NULL;
	co = strawi_coro_self();
	return co != NULL ? (struct proc *)strawi_coro_user(co) : NULL;
}

/* Sends a process may make before it yields to the others (Erlang's
 * reductions, coarsely): keeps a flooding sender from starving its
 * receivers and its mailbox backlog small enough to stay in cache. */
#define PROC_SEND_BUDGET 256

/* The short pid of p. */
static inline straw_pid
proc_pid_of(const struct proc *p)
{
	straw_pid pid = {0, 0, p->id};
	return pid;
}

/* ---- core.c: life and death ----------------------------------------- */

/* Looks a local pid up; NULL if not alive (or not of this container). */
struct proc *proc_lookup(straw_container *c, straw_pid pid);

/* 1 if pid names this container (short, or long with our ids). */
static inline int
proc_pid_local(const straw_container *c, straw_pid pid)
{
	if (pid.machine == 0 && pid.container == 0)
		return 1;
	return pid.container == c->id &&
	       (pid.machine == 0 || pid.machine == c->machine);
}

/* The long forms of a pid and a reference of c. */
straw_pid proc_pid_long(const straw_container *c, straw_pid pid);
straw_ref proc_ref_long(const straw_container *c, straw_ref ref);

/* Puts m (which carries a queue reference) into p's mailbox and wakes p.
 * Drops m when p is not alive.  Scheduler thread. */
void proc_deliver(struct proc *p, straw_msg *m);

/* Exit signal kinds: those of src/proc/router.h. */
enum { PROC_SIG_LINK = 1, PROC_SIG_EXIT = 2 };

/* Delivers an exit signal to p (see docs/processes.md for the rules).
 * reason is not consumed; `reserve` (may be NULL, consumed) is a message
 * of link.c's reserve kind to turn into the {'EXIT', From, Reason} when p
 * traps exits.  Scheduler thread; does not return when it ends the
 * running process. */
void proc_signal(struct proc *p, straw_pid from, const straw_msg *reason,
                 int kind, straw_msg *reserve, size_t reserve_fixed);

/* Marks p exiting with reason (a new reference).  Scheduler thread. */
void proc_set_exiting(struct proc *p, straw_msg *reason);

/* Ends p with reason (takes a new reference).  Scheduler thread; does not
 * return when p is the running process. */
void proc_kill(struct proc *p, straw_msg *reason);

/* Tells p's links and monitors, releases its name, mailbox, messages and
 * timers, removes it from the table.  p->reason is set.  Frees p unless it
 * is an attached thread's (freed at detach). */
void proc_die(struct proc *p);

/* Creates a process (spawn's work).  Scheduler thread. */
int proc_spawn(straw_container *c, struct proc *parent, straw_proc_fn fn,
               void *arg, const straw_spawn_opts *opts, straw_pid *out);

/* Ends every process of a stopping container's table that has no coroutine
 * (attached threads).  Scheduler thread. */
void proc_container_cleanup(straw_container *c);

/* The on_exit hook of the container's scheduler. */
void proc_on_exit(struct strawi_coro *co, const struct strawi_exit_info *e);

/* Cached atom messages (never freed). */
extern straw_msg *proc_atom_normal, *proc_atom_kill, *proc_atom_killed,
        *proc_atom_noproc, *proc_atom_shutdown, *proc_atom_noconnection,
        *proc_atom_oom;
int proc_atoms_init(void);

/* ---- link.c: links, monitors, exit signals, peers ---------------------- */

int proc_link_add(struct proc *self, straw_pid pid);
int proc_link_remove(struct proc *self, straw_pid pid);
int proc_monitor_add(struct proc *self, straw_pid pid, straw_ref *out);
int proc_monitor_remove(struct proc *self, straw_ref ref, unsigned flags);
/* exit/2: an exit signal from self to pid, local or remote. */
int proc_exit_signal(struct proc *self, straw_pid pid, straw_msg *reason);
/* Sets self's trap_exit (reserving the EXIT messages of its links when it
 * turns on); returns the old value or -ENOMEM (unchanged). */
int proc_trap_set(struct proc *self, int on);
/* A new reference id of c. */
uint64_t proc_new_ref(straw_container *c);
/* p ended (p->reason set): its links and monitors fire, its monitors go. */
void proc_links_fire(struct proc *p);
/* Every link and monitor to another container fires with noconnection
 * (the router goes).  0 or -ENOMEM (nothing fired). */
int proc_peers_down(straw_container *c);
/* The container stops: every peer entry goes, without signals. */
void proc_peers_fini(straw_container *c);

/* ---- names.c: registered names ----------------------------------------- */

int proc_name_register(struct proc *self, const char *name, straw_pid pid);
int proc_name_unregister(straw_container *c, const char *name);
/* The process registered as name: 0 and *pid (short), or STRAW_ENONAME.
 * Any thread of c's (the scheduler thread, or an attached one). */
int proc_name_whereis(straw_container *c, const char *name, straw_pid *pid);
/* p ends: its name goes. */
void proc_name_release(struct proc *p);
/* Frees every name (the container stopped). */
void proc_names_fini(straw_container *c);

/* ---- send.c ---------------------------------------------------------- */

/* Sends m from `from` to a pid of another container through the router,
 * consuming one reference; -EHOSTUNREACH without one.  The sender's
 * thread. */
int proc_send_remote(straw_container *c, straw_pid from, straw_pid pid,
                     straw_msg *m);

/* p ends: the waits it was in are abandoned (waiter.c). */
void proc_waits_abandon(struct proc *p);

/* ---- msg.c: the messages a process holds -------------------------------- */

/* p took m (one reference, its): released if p ends holding it. */
void proc_msg_own_slow(struct proc *p, straw_msg *m);
static inline void
proc_msg_own(struct proc *p, straw_msg *m)
{
	if (likely(m->owner == NULL && p->held_hot == NULL)) {
		m->owner = p;
		m->owned = 1;
		p->held_hot = m;
		return;
	}
	proc_msg_own_slow(p, m);
}
/* m was just made by the caller: the calling process owns it.  Returns m. */
straw_msg *proc_msg_made(straw_msg *m);
/* p ends: every message it holds is released. */
void proc_msgs_release(struct proc *p);

/* ---- timer.c, info.c, reg.c, container.c, foreign.c -------------------- */

/* The timers aimed at p are cancelled (p ends). */
void proc_timers_cancel_for(struct proc *p);
/* Frees every pending timer (the container stops). */
void proc_timers_drop(straw_container *c);

/* Ops for foreign threads: numbered for proc_foreign_call. */
enum {
	OP_SPAWN = 1,
	OP_EXIT,
	OP_LINK,
	OP_UNLINK,
	OP_MONITOR,
	OP_DEMONITOR,
	OP_REGISTER,
	OP_UNREGISTER,
	OP_TRAP,
	OP_MAKE_REF,
	OP_SEND_AFTER,
	OP_CANCEL_TIMER,
	OP_INFO,
};

struct op_args {
	straw_proc_fn fn;             /* SPAWN */
	void *arg;                    /* SPAWN */
	const straw_spawn_opts *opts; /* SPAWN */
	straw_pid pid;                /* most */
	straw_pid *pid_out;           /* SPAWN */
	straw_msg *msg;               /* EXIT reason, SEND_AFTER */
	straw_ref ref;                /* DEMONITOR */
	straw_ref *ref_out;           /* MONITOR, MAKE_REF */
	unsigned flags;               /* DEMONITOR; TRAP value */
	const char *name;             /* names */
	straw_timer timer;            /* CANCEL_TIMER */
	straw_timer *timer_out;       /* SEND_AFTER */
	straw_proc_info *info;        /* INFO */
};

/* Runs op for self on the scheduler thread (ops.c). */
int strawi_proc_run_op(struct proc *self, int op, struct op_args *a);

/* Runs op for the caller: directly in a process, through the scheduler
 * for an attached thread; STRAW_ENOTCONTAINER elsewhere (ops.c). */
int proc_run_op(int op, struct op_args *a);

/* Has the scheduler thread run op for an attached thread; blocks. */
int proc_foreign_call(struct proc *self, int op, struct op_args *a);

/* Posts the delivery of m (a queue reference, consumed) to process
 * `process` of c from any thread (foreign.c).  Returns 0 (dropped when c
 * is stopping) or -ENOMEM. */
int proc_post_deliver(straw_container *c, uint32_t process, straw_msg *m);

/* Closes c to posts and waits for those under way.  Scheduler thread. */
void proc_close_posts(straw_container *c);

/* The timer and introspection ops (timer.c, info.c). */
int proc_op_send_after(struct proc *self, straw_pid pid, straw_msg *m,
                       unsigned ms, straw_timer *out);
int proc_op_cancel_timer(struct proc *self, straw_timer t);
int proc_op_info(struct proc *self, straw_pid pid, straw_proc_info *info);
/* Fills up to cap entries of c's processes in id order; returns how many
 * exist, or -ENOMEM.  Scheduler thread. */
long proc_list(straw_container *c, straw_proc_info *out, size_t cap);

/* ---- the container in strawd's registry (reg.c, reg_wait.c) ------------
 *
 * Nothing here waits on strawd on the scheduler thread: requests go out on
 * the container's registry connection asynchronously (in order), and what
 * must come back to the scheduler (the next part of a process list, the
 * end of a wait) comes back as a posted task.
 */

struct reg_async;
struct proc_regwait;

/* A name mirrored in the registry, with its release prepared in advance
 * (so that releasing it cannot fail for memory or a full queue). */
struct proc_mirror {
	struct proc_mirror *next;  /* same hash */
	struct reg_async *release; /* the unregister, ready to submit */
	char name[];               /* NUL-terminated */
};

/* reg.c's state of a joined container.  Scheduler thread, except where
 * marked. */
struct proc_reg {
	straw_container *c;           /* its container */
	struct proc_map mirrors;      /* name hash -> struct proc_mirror */
	struct strawi_watch ps_watch; /* ps requests (registry events) */
	int ps_watch_on;              /* it is in the reactor */
	struct strawi_task ps_task;   /* a part of a publication is done */
	straw_proc_info *ps_list;     /* the snapshot being published */
	long ps_n;                    /* its length */
	long ps_next;                 /* the next entry to write */
	int ps_busy;                  /* a publication is under way */
	int ps_again;                 /* another was asked for meanwhile */
	struct proc_regwait *handed;  /* completed waits not yet taken */
};

/* Publishes the process list in the registry (when joined): asynchronously,
 * in parts; a publication asked for while one runs follows it.  Scheduler
 * thread. */
void proc_ps_publish(straw_container *c);

/* Mirrors a registered name in strawd's registry (process 0: released).
 * Returns at once; the change reaches strawd in the order made.  A name
 * whose registration could not be sent (no memory, queue full: logged) is
 * not released either, so register then release never ends registered.
 * Scheduler thread. */
void proc_reg_name(straw_container *c, const char *name, uint32_t process);

/* Connects, joins under c->name, sets up ps requests (the caller's thread,
 * before the scheduler exists; blocks).  0 or a negative code. */
int proc_reg_join(straw_container *c);
/* Closes the connection (after the scheduler thread ended and every
 * attached thread detached) and frees reg.c's state. */
void proc_reg_leave(straw_container *c);
/* Watches for ps requests, starts the periodic publication.  Scheduler
 * thread, once the scheduler exists. */
void proc_reg_start(straw_container *c);
/* No process is left: stops what would keep the scheduler running.
 * Scheduler thread. */
void proc_reg_idle(straw_container *c);
/* The scheduler was freed: disposes of what waited for processes that are
 * gone (reg_wait.c).  Scheduler thread. */
void proc_reg_sched_done(straw_container *c);

/* Posts t to c's scheduler from any thread: 0, or STRAW_ENOPROC when c no
 * longer takes posts (t will not run).  reg.c. */
int proc_reg_post(straw_container *c, struct strawi_task *t);

/* Registers the tube layer's wait operations (processes wait for tube room
 * and data through the reactor).  reg_wait.c; any thread. */
void proc_tube_waits_register(void);

/* The long-run reporter (watchdog.c): started and stopped with the
 * container's scheduler thread. */
int proc_watchdog_start(straw_container *c);
void proc_watchdog_stop(straw_container *c);

/* The exit log line of p (core.c): once, for an abnormal end. */
void proc_log_exit(const struct proc *p, const char *how);

#endif /* STRAW_PROC_PROC_H */
