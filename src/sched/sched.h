/*
 * src/sched/sched.h - the scheduler: one per container thread, running
 * stackful coroutines, timers and an epoll reactor.  The process layer
 * (src/proc) builds processes on it; nothing above src/proc uses it
 * directly.
 *
 * Threads.  A scheduler belongs to the thread that called
 * strawi_sched_new() for it: that thread (its "owner") runs it, and every
 * call below is for the owner thread only (from a coroutine or from a
 * callback the scheduler runs) unless its comment says "any thread".  The
 * calls for any thread are strawi_sched_post(), strawi_coro_wake_remote(),
 * strawi_sched_stop(), strawi_timer_init(), strawi_close() and, outside
 * coroutines (where they block in poll(2)), the I/O calls.
 *
 * Contexts.  Code runs either in a coroutine (on the coroutine's own stack)
 * or in the scheduler context (on the owner thread's stack: the loop
 * itself, timer callbacks, watch callbacks and posted tasks).  on_exit
 * always runs in the ending coroutine.  Calls that give up the CPU
 * (strawi_yield, strawi_park, strawi_wait_fd, the I/O wrappers) are for
 * coroutines only; callbacks must not call them.
 *
 * Nothing here makes a syscall to switch, park or wake on the owner thread.
 * Times are absolute deadlines in nanoseconds of CLOCK_MONOTONIC
 * (strawi_now_ns() in src/base/clock.h); STRAWI_FOREVER waits without end
 * and any deadline <= now polls.
 */
#ifndef STRAWI_SCHED_H
#define STRAWI_SCHED_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/socket.h>

#include "base/base.h"
#include "base/clock.h"

#ifdef __cplusplus
extern "C" {
#endif

#define STRAWI_FOREVER INT64_MAX /* a deadline that never comes */

struct strawi_sched;
struct strawi_coro;

/* ---- work posted from other threads ------------------------------------ */

/*
 * A task handed to a scheduler from any thread.  The caller embeds it in its
 * own object and owns its memory; it must stay valid from the post until fn
 * has been called (on the owner thread, in the scheduler context).  A task
 * may be posted again once fn has started.
 */
struct strawi_task {
	_Atomic(struct strawi_task *) next; /* queue link, scheduler's */
	void (*fn)(struct strawi_task *t);  /* runs on the owner thread */
};

/* ---- timers ------------------------------------------------------------- */

/*
 * A timer, embedded by its user (no allocation per timer).  Pending timers
 * sit in a 4-ary min-heap ordered by (deadline, order of adding), so add and
 * cancel are O(log n) and timers with equal deadlines fire in the order
 * they were added.  The callback runs in the scheduler context; it may add
 * or cancel timers (itself included), wake coroutines and spawn, not park.
 */
struct strawi_timer {
	int64_t deadline;                   /* absolute ns; set by add */
	uint64_t seq;                       /* tie-break: order of adding */
	uint32_t index;                     /* heap slot; UINT32_MAX: idle */
	void (*cb)(struct strawi_timer *t); /* fired once per add */
	void *arg;                          /* the user's, untouched */
};

/* Prepares t (idle) with its callback and argument.  Any thread. */
void strawi_timer_init(struct strawi_timer *t,
                       void (*cb)(struct strawi_timer *t), void *arg);

/*
 * Arms t to fire at deadline (moving it if it is already pending).  Returns
 * 0, or -ENOMEM when the heap cannot grow (t stays as it was).  t must stay
 * valid until it fired or was cancelled.
 */
int strawi_timer_add(struct strawi_sched *s, struct strawi_timer *t,
                     int64_t deadline);

/* Disarms t.  Returns 1 if it was pending, 0 if it was idle. */
int strawi_timer_cancel(struct strawi_sched *s, struct strawi_timer *t);

/* Whether t is pending.  Any thread may read it only when it owns t. */
static inline int
strawi_timer_pending(const struct strawi_timer *t)
{
	return t->index != UINT32_MAX;
}

/* ---- coroutines --------------------------------------------------------- */

/* Why a coroutine ended (strawi_exit_info.reason). */
enum strawi_exit_reason {
	STRAWI_EXIT_RETURN = 0,   /* its entry function returned */
	STRAWI_EXIT_CALLED = 1,   /* it called strawi_coro_exit() */
	STRAWI_EXIT_KILLED = 2,   /* strawi_coro_kill() */
	STRAWI_EXIT_OVERFLOW = 3, /* stack overflow: guard page or sp check */
	STRAWI_EXIT_FAULT = 4,    /* SIGSEGV/BUS/ILL/FPE/TRAP elsewhere */
	STRAWI_EXIT_ABORT = 5,    /* abort() (SIGABRT raised by the thread) */
	STRAWI_EXIT_SHUTDOWN = 6, /* still alive at strawi_sched_free() */
};

/* How a coroutine ended; passed to on_exit. */
struct strawi_exit_info {
	int reason;    /* enum strawi_exit_reason */
	int signo;     /* the signal for FAULT, ABORT and an OVERFLOW into the
	                  guard page; else 0 */
	void *addr;    /* faulting address for OVERFLOW and FAULT; else NULL */
	intptr_t code; /* from strawi_coro_exit()/strawi_coro_kill(); else 0 */
	void *data; /* from strawi_coro_exit()/strawi_coro_kill(); else NULL */
};

/* States of a coroutine (strawi_coro_state()). */
enum strawi_coro_state {
	STRAWI_CORO_RUNNABLE = 0, /* in the run queue */
	STRAWI_CORO_RUNNING = 1,  /* the current coroutine */
	STRAWI_CORO_PARKED = 2,   /* in strawi_park(), waiting for a wake */
	STRAWI_CORO_EXITING = 3,  /* running its on_exit hook */
	STRAWI_CORO_DEAD = 4,     /* ended; its stack is in the pool */
};

/* Guard pages below coroutine stacks (strawi_sched_config.guard). */
enum strawi_guard_mode {
	STRAWI_GUARD_AUTO = 0, /* guard pages (without limit on Linux >=
	                          6.13; on older kernels while the map budget,
	                          vm.max_map_count, allows), then unguarded
	                          stacks checked at switches; the default */
	STRAWI_GUARD_ON = 1,   /* always; spawn fails with -ENOMEM past the
	                          budget on older kernels */
	STRAWI_GUARD_OFF = 2,  /* never (sp check at switches only) */
};

/* Entry function of a coroutine.  Returning ends it (STRAWI_EXIT_RETURN). */
typedef void (*strawi_coro_fn)(void *arg);

/*
 * Scheduler options.  Zero-initialise and set what you need; zero means the
 * default.
 */
struct strawi_sched_config {
	size_t stack_size; /* default stack per coroutine (bytes, rounded
	                      up to a power of two >= 16 KiB, of which the
	                      top 256 hold the struct strawi_coro and the
	                      user_space below it; the guard page comes on
	                      top); 0: STRAWI_STACK_DEFAULT */
	int guard;         /* enum strawi_guard_mode */
	size_t pool_hot;   /* stacks per size class kept resident for
	                      reuse; more are trimmed with madvise when the
	                      scheduler sleeps or returns; 0: 256 */
	/*
	 * Called once in every coroutine that ends, in that coroutine, just
	 * before its stack goes back to the pool: after its entry returned,
	 * strawi_coro_exit(), a kill, or a fault (then on a fresh stack: the
	 * frames of the faulting code are gone).  It may yield and park
	 * (briefly: at shutdown strawi_sched_free waits for it).  A fault
	 * inside on_exit ends the coroutine without calling it again.  NULL:
	 * nothing is called.
	 */
	void (*on_exit)(struct strawi_coro *c,
	                const struct strawi_exit_info *e);
	/*
	 * Bytes kept for the scheduler's user right below every coroutine's
	 * struct, on the same page (strawi_coro_user_space()), so what the
	 * user keeps per coroutine costs no allocation and no page of its
	 * own.  They come out of the usable stack (the frames start below
	 * them), are rounded up to 16 and are not zeroed at spawn.  At most
	 * STRAWI_USER_SPACE_MAX; 0: none.
	 */
	size_t user_space;
};

#define STRAWI_USER_SPACE_MAX 1024 /* cap of strawi_sched_config.user_space */

#define STRAWI_STACK_DEFAULT  (64 * 1024) /* usable bytes, lazily backed */
#define STRAWI_STACK_MIN      (16 * 1024)
#define STRAWI_STACK_MAX      (64 * 1024 * 1024)

/*
 * A coroutine.  It lives at the top of its own stack mapping (so an idle
 * coroutine's struct and its innermost frames share one page) and is
 * recycled with the stack when the coroutine ends: after on_exit returns,
 * the pointer is dead.  Read it only through the accessors below.
 */
struct strawi_coro {
	void *sp;                    /* saved stack pointer when switched out */
	struct strawi_sched *sched;  /* owner */
	struct strawi_coro *rq_next; /* run queue link */
	struct strawi_coro *all_prev; /* list of live coroutines */
	struct strawi_coro *all_next;
	strawi_coro_fn fn;              /* entry */
	void *arg;                      /* entry argument */
	void *user;                     /* the process layer's; NULL at spawn */
	char *stack_base;               /* start of the mapping (guard) */
	struct strawi_coro *pool_next;  /* stack pool link when dead */
	uint32_t stack_class;           /* size class of the mapping */
	uint8_t guarded;                /* the lowest page is a guard page */
	uint64_t id;                    /* serial per scheduler, from 1 */
	uint64_t tag;                   /* the user's (strawi_coro_set_tag) */
	uint64_t switches;              /* times switched in */
	int state;                      /* enum strawi_coro_state */
	int park_result;                /* what strawi_park() returns */
	uint8_t wake_pending;           /* a wake came while not parked */
	uint8_t kill_pending;           /* strawi_coro_kill() came */
	uint8_t started;                /* entry has been called */
	uint8_t in_on_exit;             /* on_exit running: no re-entry */
	int wait_fd;                    /* fd in strawi_wait_fd, or -1 */
	uint32_t wait_events;           /* its events */
	struct strawi_timer park_timer; /* deadline of strawi_park() */
	struct strawi_exit_info exit;   /* set when ending */
	struct strawi_task remote_wake; /* strawi_coro_wake_remote() node */
	atomic_uint remote_queued;      /* remote_wake is posted */
	void *san_fake_stack;           /* ASan fiber bookkeeping */
	void *tsan_fiber;               /* TSan fiber */
};

/*
 * Creates a coroutine that will call fn(arg) on a stack of stack_size usable
 * bytes (0: the scheduler's default), and queues it to run.  On success
 * stores it in *out (may be NULL) and returns 0; returns -ENOMEM (no memory
 * or no map budget left) or -EINVAL (stack_size > STRAWI_STACK_MAX) with
 * nothing created.  Owner thread; does not switch (the caller keeps
 * running).
 */
int strawi_coro_spawn(struct strawi_sched *s, strawi_coro_fn fn, void *arg,
                      size_t stack_size, struct strawi_coro **out);

/* The running coroutine of this thread (the scheduler keeps it at every
 * switch), for strawi_coro_self. */
extern _Thread_local struct strawi_coro *strawi_tls_current
        __attribute__((tls_model("initial-exec")));

/* The running coroutine of this thread, or NULL outside any (in the
 * scheduler context, or a thread without a running scheduler).  Any thread
 * (about itself); one thread-local load. */
static inline struct strawi_coro *
strawi_coro_self(void)
{
	return strawi_tls_current;
}

/* The scheduler running on this thread, or NULL.  Any thread (about
 * itself). */
struct strawi_sched *strawi_sched_self(void);

/* Accessors.  Owner thread. */
static inline uint64_t
strawi_coro_id(const struct strawi_coro *c)
{
	return c->id;
}
static inline uint64_t
strawi_coro_switches(const struct strawi_coro *c)
{
	return c->switches;
}
static inline int
strawi_coro_state(const struct strawi_coro *c)
{
	return c->state;
}
static inline void *
strawi_coro_user(const struct strawi_coro *c)
{
	return c->user;
}
static inline void
strawi_coro_set_user(struct strawi_coro *c, void *user)
{
	c->user = user;
}

/* The cfg.user_space bytes (16-aligned) kept for the user below c's
 * struct; they live as long as the stack (reused by the next coroutine
 * that gets it, after c's on_exit returned).  Owner thread. */
void *strawi_coro_user_space(const struct strawi_coro *c);

/* Usable stack bytes and resident (touched) stack bytes of c (mincore;
 * a syscall, for introspection only).  Owner thread. */
size_t strawi_coro_stack_size(const struct strawi_coro *c);
size_t strawi_coro_stack_resident(const struct strawi_coro *c);

/*
 * Puts the running coroutine at the tail of the run queue and lets the
 * others run.  Coroutine only.
 */
void strawi_yield(void);

/*
 * Blocks the running coroutine until strawi_coro_wake() (or a remote wake)
 * or the deadline.  Returns 0 when woken, -ETIMEDOUT when the deadline
 * passed first, -ENOMEM (without blocking) when the timer heap could not
 * grow for the deadline.  A wake that came while the coroutine was not parked is
 * kept (one, like a permit) and makes the next park return 0 at once, so a
 * check-then-park sequence cannot lose a wake; a park may also return 0
 * spuriously: callers re-check their condition.  A deadline <= now returns
 * -ETIMEDOUT without switching unless a wake is pending.  If the
 * coroutine is killed while parked, park does not return: the coroutine
 * ends (on_exit runs).  Coroutine only.
 */
int strawi_park(int64_t deadline);

/*
 * Sleeps until the deadline whatever wakes come meanwhile; a wake is kept
 * for the next strawi_park (it is not lost).  Coroutine only.
 */
void strawi_sleep_until(int64_t deadline);

/*
 * Makes c runnable if it is parked, or leaves it a pending wake otherwise
 * (see strawi_park).  Never switches.  Owner thread (coroutine or
 * callback).
 */
void strawi_coro_wake(struct strawi_coro *c);

/*
 * strawi_coro_wake() from any thread: queues c's wake on its scheduler (a
 * lock-free queue; the first post into an empty queue writes the
 * scheduler's eventfd) and returns.  Several wakes before the scheduler
 * looks coalesce.  The memory of c stays valid as long as the scheduler
 * lives (stacks are pooled, never unmapped before strawi_sched_free), so a
 * late wake of a coroutine that has ended is harmless: at worst a spurious
 * wake of a coroutine that reused the stack.  Any thread; never blocks.
 */
void strawi_coro_wake_remote(struct strawi_coro *c);

/*
 * Ends the running coroutine: on_exit runs with reason STRAWI_EXIT_CALLED
 * and code/data as given, then its stack goes back to the pool.  Never
 * returns.  Coroutine only.
 */
__attribute__((noreturn)) void strawi_coro_exit(intptr_t code, void *data);

/*
 * Ends another coroutine c (not the running one) of this scheduler: c
 * becomes runnable, and when it is switched in (inside its park or yield,
 * or before its entry if it never ran) it ends with reason
 * STRAWI_EXIT_KILLED and code/data as given, running on_exit.  Its frames
 * are discarded (no cleanup runs in them).  A second kill of the same
 * coroutine before it ran is ignored.  Returns 0, or -EINVAL for the
 * running coroutine or one already ending (in on_exit, parked there or
 * not).  Owner thread.
 */
int strawi_coro_kill(struct strawi_coro *c, intptr_t code, void *data);

/* ---- the scheduler ------------------------------------------------------ */

/* Counters of a scheduler (strawi_sched_stats). */
struct strawi_sched_stats {
	uint64_t switches;       /* coroutine switch-ins */
	uint64_t spawned;        /* coroutines created */
	uint64_t exited;         /* coroutines ended (any reason) */
	uint64_t crashed;        /* of those, by fault, overflow or abort */
	uint64_t live;           /* alive now */
	uint64_t runnable;       /* in the run queue now */
	uint64_t timers;         /* pending timers now */
	uint64_t fd_waits;       /* coroutines in strawi_wait_fd now */
	uint64_t stacks_mapped;  /* stacks mapped (live + pooled) */
	uint64_t stacks_guarded; /* of those, with a guard page */
	uint64_t polls;          /* epoll_wait calls */
	uint64_t remote_wakes; /* wakes and tasks received from other threads */
};

/* The scheduler; opaque (src/sched/sched_int.h). */
struct strawi_sched;

/*
 * Creates a scheduler owned by the calling thread (config may be NULL for
 * the defaults; it is copied).  Returns 0 and stores it in *out, or a
 * negative code (-ENOMEM, -EMFILE, ..., -EINVAL for a stack_size or
 * user_space over its maximum; nothing created).
 */
int strawi_sched_new(const struct strawi_sched_config *config,
                     struct strawi_sched **out);

/*
 * Runs the scheduler on the owner thread until strawi_sched_stop() or until
 * there is no work left: no live coroutine, no pending timer, no watched fd
 * and no hold (strawi_sched_hold).  While it runs, faults in its coroutines
 * end only that coroutine (see docs/sched.md).  Returns 0 (no work or
 * stopped; strawi_sched_stopped() tells which), or -EBUSY when called
 * recursively or from a coroutine.  Run may be called again after it
 * returned.  Owner thread; blocks.
 */
int strawi_sched_run(struct strawi_sched *s);

/*
 * Makes strawi_sched_run() return soon: after the coroutine or callback
 * running now gives up the CPU.  Any thread; never blocks.  The flag stays
 * set until strawi_sched_run() is called again.
 */
void strawi_sched_stop(struct strawi_sched *s);

/* Whether the last run ended by strawi_sched_stop().  Owner thread. */
int strawi_sched_stopped(const struct strawi_sched *s);

/*
 * A hold keeps strawi_sched_run() running while nothing else is left (for
 * example while a foreign thread is attached and may post).  Owner thread.
 */
void strawi_sched_hold(struct strawi_sched *s);
void strawi_sched_release(struct strawi_sched *s);

/*
 * Destroys s (NULL is fine): every coroutine still alive is killed with
 * reason STRAWI_EXIT_SHUTDOWN and run until it ended (its on_exit runs),
 * pending timers are dropped without firing, posted tasks that did not run
 * yet are run, then every stack is unmapped.  No other thread may post to
 * or wake on s once strawi_sched_free started.  Owner thread, outside strawi_sched_run.
 */
void strawi_sched_free(struct strawi_sched *s);

/*
 * Hands t to run t->fn(t) on s's owner thread, in the scheduler context,
 * in posting order per posting thread.  Any thread; never blocks.
 */
void strawi_sched_post(struct strawi_sched *s, struct strawi_task *t);

/*
 * The live coroutines of s, for introspection (`straw ps`): the first, then
 * strawi_coro_next() until NULL; unspecified order.  Do not spawn or end
 * coroutines while walking.  Owner thread.
 */
struct strawi_coro *strawi_sched_first(const struct strawi_sched *s);
static inline struct strawi_coro *
strawi_coro_next(const struct strawi_coro *c)
{
	return c->all_next;
}

/*
 * What runs, for a watchdog on another thread: *tag is the running
 * coroutine's tag (strawi_coro_set_tag; 0 when none runs or it set none)
 * and *seq changes at every switch-in and yield, so two reads with the
 * same seq and a nonzero tag mean one coroutine ran all the time between
 * them.  Any thread; never blocks.
 */
void strawi_sched_running(const struct strawi_sched *s, uint64_t *tag,
                          uint64_t *seq);

/* Sets c's tag (0 at spawn), shown by strawi_sched_running while c runs.
 * Owner thread. */
void strawi_coro_set_tag(struct strawi_coro *c, uint64_t tag);

/* A pointer for the layer above (its container state); NULL at first.
 * Owner thread. */
void strawi_sched_set_user(struct strawi_sched *s, void *user);
void *strawi_sched_user(const struct strawi_sched *s);

/* Copies the counters.  Owner thread. */
void strawi_sched_stats(const struct strawi_sched *s,
                        struct strawi_sched_stats *out);

/* ---- the reactor -------------------------------------------------------- */

/*
 * A watch: a callback for an fd that the runtime itself owns (an eventfd,
 * a listening socket of the router, a tube's wake-up fd).  Level triggered;
 * the callback runs in the scheduler context with the ready EPOLL* events
 * and may wake coroutines, post, add timers, change or remove watches
 * (itself included).  A watch holds strawi_sched_run() running.
 */
struct strawi_watch {
	int fd;                                               /* watched */
	uint32_t events;                                      /* EPOLLIN.. */
	void (*cb)(struct strawi_watch *w, uint32_t revents); /* on ready */
	void *arg;                                            /* user's */
};

/*
 * Starts watching w->fd for w->events (EPOLLIN, EPOLLOUT, ...).  w is the
 * caller's and must stay valid until strawi_watch_del.  Returns 0 or a
 * negative errno from epoll_ctl.  Owner thread.
 */
int strawi_watch_add(struct strawi_sched *s, struct strawi_watch *w);
/* Changes the events of a watch; 0 or -errno. */
int strawi_watch_mod(struct strawi_sched *s, struct strawi_watch *w,
                     uint32_t events);
/* Stops watching (before closing the fd).  0 or -errno.  Owner thread. */
int strawi_watch_del(struct strawi_sched *s, struct strawi_watch *w);

/*
 * Blocks the running coroutine until fd is ready for events (EPOLLIN,
 * EPOLLOUT, or both) or the deadline passes.  Returns the ready events
 * (> 0; EPOLLERR/EPOLLHUP may be among them), -ETIMEDOUT, -EBUSY when
 * another coroutine already waits on fd in the same direction, or -errno
 * from epoll (-EBADF...).  Readiness may be spurious (a nonblocking call
 * may still say EAGAIN).  An fd that epoll cannot watch (a regular file)
 * is reported ready at once.  Outside a coroutine it blocks the thread in
 * poll(2).  Coroutine (or any thread, blocking).
 */
int strawi_wait_fd(int fd, uint32_t events, int64_t deadline);

/*
 * Yielding I/O for coroutines: like read(2), write(2), accept4(2) and
 * connect(2), but waiting through the reactor, so other coroutines run
 * meanwhile.  They put fd in non-blocking mode (O_NONBLOCK stays set on
 * the open file description).  Return what the call returns (bytes, fd,
 * 0) or a negative code: -errno, or -ETIMEDOUT when the deadline
 * passed first (then nothing was read, written or accepted; a timed-out
 * connect leaves the socket connecting).  strawi_write writes everything
 * unless an error or the deadline interrupts it, then returns the bytes
 * written if any.  Outside a coroutine they block the thread (poll(2)).
 */
ssize_t strawi_read(int fd, void *buf, size_t n, int64_t deadline);
ssize_t strawi_write(int fd, const void *buf, size_t n, int64_t deadline);
int strawi_accept(int fd, struct sockaddr *addr, socklen_t *len, int flags,
                  int64_t deadline);
int strawi_connect(int fd, const struct sockaddr *addr, socklen_t len,
                   int64_t deadline);

/*
 * Closes fd after waking the coroutines of this thread's scheduler that
 * wait on it (their strawi_wait_fd returns EPOLLERR | EPOLLHUP, so their
 * read or write then fails with -EBADF instead of waiting for an fd that
 * is gone).  Returns 0 or -errno from close(2).  Any thread; only the
 * calling thread's scheduler is told.
 */
int strawi_close(int fd);

#ifdef __cplusplus
}
#endif
#endif /* STRAWI_SCHED_H */
