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

/* A link between two processes: in both processes' lists. */
struct proc_link {
	struct proc *p[2];         /* the two ends */
	struct proc_link *next[2]; /* next link of p[i] */
	struct proc_link *prev[2]; /* previous link of p[i] */
};

/* A monitor: in the watcher's list and in the target's list. */
struct proc_mon {
	uint64_t ref;                   /* reference id */
	struct proc *watcher;           /* gets the DOWN */
	struct proc *target;            /* watched */
	struct proc_mon *wnext, *wprev; /* watcher's list */
	struct proc_mon *tnext, *tprev; /* target's list */
};

/* What an attached thread adds to its process. */
struct proc_foreign {
	pthread_mutex_t mu; /* guards the process's mailbox and `waiting` */
	int efd;            /* eventfd: readable while mail waits */
	int waiting;        /* the thread waits for new mail */
};

struct proc {
	uint32_t id;               /* process id */
	uint8_t life;              /* enum proc_life */
	uint8_t trap_exit;         /* exit signals become messages */
	uint8_t waiting;           /* parked in receive: wake on mail */
	uint8_t sleeping;          /* in straw_sleep */
	uint8_t is_first;          /* the container's first process */
	uint32_t budget;           /* sends since it last gave up the CPU */
	straw_container *c;        /* its container */
	struct strawi_coro *coro;  /* NULL for an attached thread */
	struct proc_foreign *ft;   /* an attached thread's extras */
	struct proc_fifo mbox;     /* the mailbox */
	struct proc_link *links;   /* its links */
	struct proc_mon *mons;     /* monitors it holds */
	struct proc_mon *watchers; /* monitors on it */
	uint32_t nlinks;           /* links */
	uint32_t nmons;            /* monitors held and on it */
	char *name;                /* registered name or NULL */
	straw_msg *reason;         /* exit reason once not alive */
	straw_msg *hold;           /* released if it ends inside a call */
	uint64_t received;         /* messages taken from the mailbox */
	size_t stack_size;         /* usable stack bytes */
	straw_proc_fn fn;          /* body */
	void *arg;                 /* its argument */
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
	int ps_interval_ms;                  /* publish period, 0: none */
	struct strawi_timer ps_timer;        /* publishes the process list */
	struct proc_reg *rg;                 /* reg.c's state, NULL: local */
};

/* The container of the scheduler thread running now, or NULL. */
extern __thread straw_container *proc_tls_container;
/* The process of an attached thread, or NULL. */
extern __thread struct proc *proc_tls_foreign;

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

/* Looks a local pid up; NULL if not alive (or not of this container). */
struct proc *proc_lookup(straw_container *c, straw_pid pid);

/* 1 if pid names this container (short, or long with our ids). */
int proc_pid_local(const straw_container *c, straw_pid pid);

/* Puts m (which carries a queue reference) into p's mailbox and wakes p.
 * Drops m when p is not alive.  Scheduler thread. */
void proc_deliver(struct proc *p, straw_msg *m);

/* Exit signal kinds. */
enum { PROC_SIG_LINK = 1, PROC_SIG_EXIT = 2 };

/* Delivers an exit signal to p (see docs/processes.md for the rules).
 * Scheduler thread; does not return when it ends the running process. */
void proc_signal(struct proc *p, straw_pid from, straw_msg *reason, int kind);

/* Marks p exiting with reason (a new reference).  Scheduler thread. */
void proc_set_exiting(struct proc *p, straw_msg *reason);

/* Ends p with reason (takes a new reference).  Scheduler thread; does not
 * return when p is the running process. */
void proc_kill(struct proc *p, straw_msg *reason);

/* Tells p's links and monitors, releases its name and mailbox, removes it
 * from the table.  p->reason is set.  Frees p unless it is an attached
 * thread's (freed at detach). */
void proc_die(struct proc *p);

/* Creates a process (spawn's work).  Scheduler thread. */
int proc_spawn(straw_container *c, struct proc *parent, straw_proc_fn fn,
               void *arg, const straw_spawn_opts *opts, straw_pid *out);

/* Ends every process of a stopping container's table that has no coroutine
 * (attached threads), then frees timers and names.  Scheduler thread. */
void proc_container_cleanup(straw_container *c);

/* The on_exit hook of the container's scheduler. */
void proc_on_exit(struct strawi_coro *co, const struct strawi_exit_info *e);

/* Cached atom messages (never freed). */
extern straw_msg *proc_atom_normal, *proc_atom_kill, *proc_atom_killed,
        *proc_atom_noproc, *proc_atom_shutdown;
int proc_atoms_init(void);

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
	OP_WHEREIS,
	OP_TRAP,
	OP_MAKE_REF,
	OP_SEND_NAME,
	OP_SEND_AFTER,
	OP_CANCEL_TIMER,
	OP_INFO,
};

struct op_args {
	straw_proc_fn fn;             /* SPAWN */
	void *arg;                    /* SPAWN */
	const straw_spawn_opts *opts; /* SPAWN */
	straw_pid pid;                /* most */
	straw_pid *pid_out;           /* SPAWN, WHEREIS */
	straw_msg *msg;               /* EXIT reason, SEND_NAME */
	straw_ref ref;                /* DEMONITOR */
	straw_ref *ref_out;           /* MONITOR, MAKE_REF */
	unsigned flags;               /* DEMONITOR; TRAP value */
	const char *name;             /* names */
	straw_timer timer;            /* CANCEL_TIMER */
	straw_timer *timer_out;       /* SEND_AFTER */
	straw_proc_info *info;        /* INFO */
};

/* Runs op for self on the scheduler thread. */
int strawi_proc_run_op(struct proc *self, int op, struct op_args *a);

/* Runs op for the caller: directly in a process, through the scheduler
 * for an attached thread; STRAW_ENOTCONTAINER elsewhere. */
int proc_run_op(int op, struct op_args *a);

/* Has the scheduler thread run op for an attached thread; blocks. */
int proc_foreign_call(struct proc *self, int op, struct op_args *a);

/* The timer and introspection ops (timer.c, info.c). */
int proc_op_send_after(struct proc *self, straw_pid pid, straw_msg *m,
                       unsigned ms, straw_timer *out);
int proc_op_cancel_timer(struct proc *self, straw_timer t);
int proc_op_info(struct proc *self, straw_pid pid, straw_proc_info *info);

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

#endif /* STRAW_PROC_PROC_H */
