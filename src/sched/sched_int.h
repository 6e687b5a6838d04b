/*
 * src/sched/sched_int.h - the scheduler's own state, shared by the files of
 * src/sched only.  Nothing outside src/sched includes it.
 */
#ifndef STRAWI_SCHED_INT_H
#define STRAWI_SCHED_INT_H

#include <signal.h>
#include <stdatomic.h>
#include <sys/epoll.h>

#include "sched/sched.h"

#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#define STRAWI_ASAN 1
#endif
#if __has_feature(thread_sanitizer)
#define STRAWI_TSAN 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__) && !defined(STRAWI_ASAN)
#define STRAWI_ASAN 1
#endif
#if defined(__SANITIZE_THREAD__) && !defined(STRAWI_TSAN)
#define STRAWI_TSAN 1
#endif

#define STRAWI_STACK_CLASSES 13 /* 16 KiB << 0..12 = 64 MiB */
#define STRAWI_STACK_RED \
	1024                  /* unguarded: switching out this close
                                        to the bottom counts as overflow */
#define STRAWI_RUN_BUDGET 256 /* coroutine runs between polls */

/* Stacks of one size class that are not in use. */
struct strawi_stack_pool {
	struct strawi_coro *hot;  /* ready, pages still resident (LIFO) */
	struct strawi_coro *cold; /* pages returned to the kernel, or fresh */
	size_t hot_count;         /* length of hot */
	size_t cold_count;        /* length of cold */
};

/* One mmap holding several stacks; unmapped by strawi_sched_free. */
struct strawi_slab {
	struct strawi_slab *next; /* list of the scheduler's slabs */
	void *base;               /* mapping */
	size_t len;               /* bytes */
};

/* Waiters on one fd in strawi_wait_fd (table indexed by fd). */
struct strawi_fd_slot {
	struct strawi_coro *rd; /* waiting for EPOLLIN, or NULL */
	struct strawi_coro *wr; /* waiting for EPOLLOUT, or NULL */
	uint32_t seq;           /* registration generation, in epoll data */
	uint32_t pad;           /* unused */
};

struct strawi_sched {
	struct strawi_sched_config cfg; /* copied at creation */
	void *user;                     /* strawi_sched_set_user */
	void *main_sp;                  /* the scheduler context, when out */
	struct strawi_coro *current;    /* running coroutine or NULL */
	struct strawi_coro *rq_head;    /* run queue (FIFO) */
	struct strawi_coro *rq_tail;
	struct strawi_coro *all;  /* live coroutines (doubly linked) */
	struct strawi_coro *prev; /* switched out, not yet settled */
	int prev_dead;            /* prev ended: release its stack */
	int budget;               /* runs left before the next poll */
	uint64_t next_id;         /* next coroutine id */
	int running;              /* inside strawi_sched_run */
	int stopped;              /* last run ended by stop */
	atomic_int sleeping;      /* in epoll_wait with a timeout */
	atomic_int stop;          /* stop requested */
	unsigned holds;           /* strawi_sched_hold count */
	int shutting_down;        /* inside strawi_sched_free */
	_Atomic uint64_t run_tag; /* any thread: the running coroutine's
	                             tag, 0 in the scheduler context */
	_Atomic uint64_t run_seq; /* any thread: bumped at every switch-in
	                             and yield */

	/* timers */
	struct strawi_heap_ent *heap; /* 4-ary min-heap */
	uint32_t heap_len;            /* pending timers */
	uint32_t heap_cap;            /* allocated entries */
	uint64_t timer_seq;           /* next strawi_timer.seq */

	/* reactor */
	int epfd;                     /* epoll instance */
	int efd;                      /* eventfd for remote posts */
	int have_pwait2;              /* epoll_pwait2 works */
	struct strawi_fd_slot *fds;   /* by fd number */
	int nfds;                     /* entries in fds */
	unsigned watches;             /* user watches registered */
	unsigned fd_waits;            /* coroutines in strawi_wait_fd */
	struct epoll_event *poll_evs; /* batch being dispatched */
	int poll_n;                   /* its length */

	/* remote */
	_Atomic(struct strawi_task *) remote; /* LIFO of posted tasks */

	/* stacks */
	size_t page;                                          /* page size */
	struct strawi_stack_pool pools[STRAWI_STACK_CLASSES]; /* by class */
	struct strawi_slab *slabs;  /* every mapping */
	uint64_t stacks_mapped;     /* stacks in slabs */
	uint64_t stacks_guarded;    /* of those, guarded */
	uint64_t stacks_mprotected; /* of those, by mprotect */
	int stacks_excess;          /* a hot list is longer than pool_hot */
	int warned_unguarded;       /* logged that guard pages ran out */

	/* crash isolation */
	void *altstack;       /* sigaltstack of the owner */
	size_t altstack_len;  /* bytes */
	stack_t old_altstack; /* restored when run returns */

	/* sanitizers */
	const void *main_stack_bottom; /* ASan: the owner thread's stack */
	size_t main_stack_size;
	void *main_fake_stack; /* ASan: its fake stack */
	void *tsan_main;       /* TSan: the owner's fiber */

	struct strawi_sched_stats stats; /* counters (live ones computed) */
};

/* The running scheduler of this thread. */
extern _Thread_local struct strawi_sched *strawi_tls_sched
        __attribute__((tls_model("initial-exec")));

/* Heap entry: deadline inline for cache locality. */
struct strawi_heap_ent {
	int64_t deadline;       /* copy of t->deadline */
	struct strawi_timer *t; /* the timer */
};

/* stack.c */
int strawi_stack_class(size_t stack_size, size_t page);
size_t strawi_stack_class_size(int cls);
struct strawi_coro *strawi_stack_get(struct strawi_sched *s, int cls);
void strawi_stack_put(struct strawi_sched *s, struct strawi_coro *c);
void strawi_stack_free_all(struct strawi_sched *s);
/* Whether new slabs are guarded and populated with one process_madvise
 * call each where the kernel allows (on, the default) or one madvise per
 * stack (off); for tests of both paths.  Process-wide. */
void strawi_stack_set_batch(int on);
/* Moves hot stacks past cfg.pool_hot to the cold lists (madvise). */
void strawi_stack_trim(struct strawi_sched *s);
/* Lowest usable byte and the usable bytes of c's stack. */
static inline char *
strawi_stack_lo(const struct strawi_sched *s, const struct strawi_coro *c)
{
	return c->stack_base + s->page;
}
/* The highest usable byte + 1 of c's stack: below its struct and the
 * user space (cfg.user_space, rounded at creation). */
static inline char *
strawi_stack_top(const struct strawi_sched *s, const struct strawi_coro *c)
{
	return (char *)c - s->cfg.user_space;
}
static inline size_t
strawi_stack_len(const struct strawi_sched *s, const struct strawi_coro *c)
{
	return (size_t)(strawi_stack_top(s, c) - strawi_stack_lo(s, c));
}

/* timer.c */
void strawi_timers_fire(struct strawi_sched *s, int64_t now);
void strawi_timers_free(struct strawi_sched *s);

/* reactor.c */
int strawi_reactor_init(struct strawi_sched *s);
void strawi_reactor_fini(struct strawi_sched *s);
void strawi_reactor_poll(struct strawi_sched *s, int64_t deadline);
void strawi_reactor_unwait(struct strawi_sched *s, struct strawi_coro *c);

/* sched.c */
void strawi_sched_drain_remote(struct strawi_sched *s);
void strawi_coro_make_runnable(struct strawi_sched *s, struct strawi_coro *c);
int strawi_park_internal(struct strawi_coro *c, int64_t deadline);
/* Restarts c on a fresh stack frame that ends it with c->exit. */
void strawi_coro_restart_to_exit(struct strawi_sched *s, struct strawi_coro *c);
void strawi_coro_exit_entry(void *arg);
/* Entered by sigreturn after a fault, on the faulting coroutine's stack:
 * ends it with c->exit (no fiber switch happened). */
void strawi_coro_fault_entry(void *arg);

/* fault.c */
int strawi_fault_install(void);
int strawi_fault_thread_enter(struct strawi_sched *s);
void strawi_fault_thread_leave(struct strawi_sched *s);
void strawi_fault_free(struct strawi_sched *s);

#endif /* STRAWI_SCHED_INT_H */
