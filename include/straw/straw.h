/*
 * straw/straw.h - containers, lightweight processes and messages.
 *
 * A container is one OS process running the straw runtime.  Its processes are
 * stackful coroutines run by one scheduler thread; each has a mailbox and a
 * pid, exchanges immutable messages (one Erlang term in ETF each), links to
 * and monitors other processes with Erlang's semantics and crashes alone.
 * docs/processes.md describes the model and every rule.
 *
 * Threads: unless a comment says otherwise, a function here must be called
 * from a straw process (code running on the container's scheduler thread) or
 * from a foreign thread attached with straw_attach().  Calls made elsewhere
 * return STRAW_ENOTCONTAINER.  The message, pid and reference functions
 * work on any thread.
 *
 * Blocking: the receive calls, straw_sleep, straw_container_wait/run and
 * straw_attach wait; an attached thread's spawn, link, monitor, register,
 * exit, timer and introspection calls wait for the scheduler thread to run
 * them (microseconds).  Everything else returns at once.  Blocking in a
 * process only suspends that process; the others run.
 */
#ifndef STRAW_STRAW_H
#define STRAW_STRAW_H

#include <stddef.h>
#include <stdint.h>

#include <straw/alloc.h>
#include <straw/buf.h>
#include <straw/err.h>
#include <straw/export.h>
#include <straw/pid.h>
#include <straw/term.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Waits without limit: the timeout of receive, sleep and attach calls. */
#define STRAW_INFINITY (-1)

/* ------------------------------------------------------------------ */
/* Messages                                                            */
/* ------------------------------------------------------------------ */

/*
 * A message: one encoded Erlang term (version byte 131 first), immutable and
 * reference counted.  Sending a message to a process of the same container
 * hands the buffer over without copying.  Every straw_msg pointer a caller
 * gets owns one reference, released with straw_msg_unref().  The reference
 * count is atomic: references may be taken and released on any thread.
 *
 * References a process holds die with it.  A reference a process takes -
 * a message it receives, makes (straw_msg_new, _take, _atom, straw_msgf)
 * or straw_msg_ref()s - is the process's: when the process ends, by a
 * crash too, the references it still holds are released, so a crash
 * leaks no message.  To keep a message beyond the process (in a global
 * table, for another thread), give that holder its own reference with
 * straw_msg_ref() in its own context, or straw_msg_disown() the one the
 * process has.  Attached threads and code outside processes hold plain
 * references.
 */
typedef struct straw_msg straw_msg;

/*
 * Makes a message holding a copy of len bytes at etf, which must be one whole
 * term starting with the version byte; it is validated with straw_term_check
 * and its default limits.  Returns 0 and *out (one reference, the
 * caller's), or -EINVAL (etf NULL or len 0), -ENOMEM or the term layer's
 * code, with *out untouched.  Any thread.
 */
STRAW_API int straw_msg_new(straw_msg **out, const void *etf, size_t len);

/*
 * As straw_msg_new, but takes ownership of etf, a buffer from straw_malloc
 * (a straw_builder_finish result), without copying: on success it belongs
 * to *out, on failure it is freed.  Any thread.
 */
STRAW_API int straw_msg_take(straw_msg **out, uint8_t *etf, size_t len);

/*
 * Makes a message holding one atom (Latin-1 or UTF-8, at most 255 bytes).
 * Returns 0 and *out (one reference, the caller's), STRAW_EBADATOM (NULL or
 * too long) or -ENOMEM.  Any thread.
 */
STRAW_API int straw_msg_atom(straw_msg **out, const char *atom);

/* Takes one more reference to m and returns m (the calling process's,
 * when called in a process that holds m).  Any thread. */
STRAW_API straw_msg *straw_msg_ref(straw_msg *m);

/* Releases one reference; the last frees the message.  Accepts NULL.  Any
 * thread. */
STRAW_API void straw_msg_unref(straw_msg *m);

/* Makes one reference of m that the calling process holds its caller's
 * for good: it is no longer released when the process ends (the caller
 * then releases it with straw_msg_unref, on any thread).  Accepts NULL;
 * does nothing outside a process or for a reference the process does not
 * hold.  Scheduler thread of m's process. */
STRAW_API void straw_msg_disown(straw_msg *m);

/* The encoded term, version byte first; valid while a reference is held.
 * Any thread. */
STRAW_API const uint8_t *straw_msg_data(const straw_msg *m);

/* The length of straw_msg_data(m) in bytes.  Any thread. */
STRAW_API size_t straw_msg_len(const straw_msg *m);

/*
 * Makes a message from a format string in Erlang syntax (straw_build_fmt,
 * e.g. straw_msgf(&m, "{ping, ~p, ~i}", &erl_pid, n)).  The term is built
 * by the term layer's encoder, so it is not validated again.  Returns 0 and
 * *out (one reference, the caller's), or STRAW_EFORMAT, -EINVAL, -ENOMEM
 * with *out untouched.  Any thread.
 */
STRAW_API int straw_msgf(straw_msg **out, const char *fmt, ...);

/* 1 if m is the atom name, 0 otherwise.  Any thread. */
STRAW_API int straw_msg_is_atom(const straw_msg *m, const char *name);

/* Pids and references (straw_pid, straw_ref, their ETF and human forms)
 * are declared in <straw/pid.h>, included above. */

/* ------------------------------------------------------------------ */
/* Containers                                                          */
/* ------------------------------------------------------------------ */

typedef struct straw_container straw_container;

/* The body of a process: returning from it is an exit with reason normal. */
typedef void (*straw_proc_fn)(void *arg);

enum straw_container_flag {
	/* Run without strawd: no registry, nothing published, an id made
	 * from the OS pid (bit 31 set).  For tests and benchmarks; also
	 * chosen by STRAW_LOCAL=1 in the environment. */
	STRAW_CONTAINER_LOCAL = 1u << 0,
	/* Do not start strawd when it is not running: the container then
	 * fails with STRAW_ENODAEMON (STRAW_AUTOSTART=0 does the same). */
	STRAW_CONTAINER_NO_AUTOSTART = 1u << 1,
	/* Do not install SIGTERM/SIGINT handlers (which stop the container
	 * and make straw_container_run return 128 + the signal number). */
	STRAW_CONTAINER_NO_SIGNALS = 1u << 2,
	/* Keep running after the last process exited, until stopped. */
	STRAW_CONTAINER_LINGER = 1u << 3,
};

typedef struct straw_container_opts {
	unsigned flags;     /* enum straw_container_flag bits */
	size_t stack_size;  /* default stack of its processes; 0: 64 KiB */
	int ps_interval_ms; /* publish the process list to the registry
	                          every so often; 0: only on request */
	size_t max_message; /* largest message sent to or received from
	                       another container; 0: STRAW_MAX_MESSAGE_DEFAULT */
} straw_container_opts;

/* The default limit of a message between containers: 64 MiB. */
#define STRAW_MAX_MESSAGE_DEFAULT ((size_t)64 << 20)

/*
 * Starts a container: joins strawd under name (autostarting it unless told
 * not to), starts the scheduler thread and spawns the first process running
 * main_fn(arg).  Returns 0 and *out, or a negative code: -EINVAL (bad name:
 * 1..64 bytes of [A-Za-z0-9_.-]), -EBUSY (a container already runs in this
 * OS process), STRAW_ENODAEMON (strawd unavailable, autostart off),
 * STRAW_ENAMETAKEN, -ENOMEM, or a registry or scheduler error; nothing is
 * left running on failure.  opts may be NULL.  Any thread not already in a
 * container; does not block beyond joining strawd.
 */
STRAW_API int straw_container_start(const char *name, straw_proc_fn main_fn,
                                    void *arg, const straw_container_opts *opts,
                                    straw_container **out);

/*
 * Waits until the container ends and frees it; c is invalid afterwards.
 * It ends when no process is left (unless LINGER), or when stopped.  Returns
 * its exit status: 0 when the first process exited with reason normal and
 * nothing stopped the container with another status, 1 when the first
 * process exited abnormally, the status given to straw_container_stop, or
 * 128 + signal number after SIGTERM/SIGINT.  Call it once, from a thread
 * that is neither a process of c nor attached to it (-EDEADLK, nothing
 * done); blocks.
 */
STRAW_API int straw_container_wait(straw_container *c);

/*
 * straw_container_start followed by straw_container_wait.  Returns the exit
 * status (>= 0) or the negative code of straw_container_start.
 */
STRAW_API int straw_container_run(const char *name, straw_proc_fn main_fn,
                                  void *arg, const straw_container_opts *opts);

/*
 * Asks c to stop: every process is ended (their stacks are discarded without
 * unwinding) and straw_container_wait returns status.  Any thread,
 * including the container's own processes and signal handlers (it only
 * stores the status and writes an eventfd); does not block.
 */
STRAW_API void straw_container_stop(straw_container *c, int status);

/* The container the caller runs in (a process or an attached thread), or
 * NULL. */
STRAW_API straw_container *straw_container_self(void);

/* The container's id (assigned by strawd), machine id and name.  Any
 * thread while c is valid. */
STRAW_API uint32_t straw_container_id(const straw_container *c);
STRAW_API uint64_t straw_container_machine(const straw_container *c);
STRAW_API const char *straw_container_name(const straw_container *c);

/*
 * Waits until strawd has applied every registry change the caller's
 * container asked for before the call: names registered and released
 * (straw_register, straw_unregister, a process ending), process lists
 * published.  Those changes are sent asynchronously, in order, and never
 * make the container wait (see docs/processes.md); this is for a program
 * that must know another container can now see them.  In a process, the
 * process waits (the others run); an attached thread blocks.  Returns 0
 * (also at once in a container without strawd), -ETIMEDOUT after
 * timeout_ms (< 0: no limit; the changes still go through later),
 * STRAW_ENOTCONTAINER (neither a process nor attached), STRAW_ENOPROC (the
 * container is shutting down), -ENOMEM.
 */
STRAW_API int straw_container_sync(int timeout_ms);

/* ------------------------------------------------------------------ */
/* Processes                                                           */
/* ------------------------------------------------------------------ */

enum straw_spawn_flag {
	STRAW_SPAWN_LINK = 1u << 0,    /* link the caller and the child */
	STRAW_SPAWN_MONITOR = 1u << 1, /* the caller monitors the child;
	                                  the reference goes to *monitor */
};

typedef struct straw_spawn_opts {
	unsigned flags;     /* enum straw_spawn_flag bits */
	size_t stack_size;  /* 0: the container's default; rounded up to
	                       pages; a guard page lies below it */
	straw_ref *monitor; /* out: the monitor's reference with MONITOR */
} straw_spawn_opts;

/*
 * Spawns a process running fn(arg) in the caller's container.  It starts
 * running after the caller yields (or at once, concurrently, for a caller
 * on a foreign thread).  Returns 0 and *pid (may be NULL; a short pid), or
 * -ENOMEM, -EINVAL (stack size over 1 GiB), STRAW_ENOTCONTAINER.  opts may
 * be NULL.  Does not block.
 */
STRAW_API int straw_spawn(straw_proc_fn fn, void *arg,
                          const straw_spawn_opts *opts, straw_pid *pid);

/* The caller's pid (short form), or the zero pid outside a container. */
STRAW_API straw_pid straw_self(void);

/* The long form of the caller's pid. */
STRAW_API straw_pid straw_self_long(void);

/*
 * Ends the calling process with reason (any term; NULL means normal).  Its
 * links and monitors receive the reason.  Does not return.  Consumes the
 * caller's reference to reason.  Every message reference, timer, link,
 * monitor and name the process held is released.  Called outside a
 * process (an attached thread uses straw_exit(straw_self(), reason) and
 * straw_detach), it aborts the OS process.
 */
STRAW_API __attribute__((noreturn)) void straw_exit_self(straw_msg *reason);

/* straw_exit_self with an atom reason (normal, shutdown, ...). */
STRAW_API __attribute__((noreturn)) void straw_exit_self_atom(const char *atom);

/*
 * Sends an exit signal with reason to pid, as Erlang's exit/2: `kill` ends
 * it untrappably (its links then see `killed`); `normal` is ignored unless
 * pid traps exits (then {'EXIT', Self, normal} arrives) or pid is the caller;
 * another reason ends it, or arrives as {'EXIT', Self, Reason} when it traps
 * exits.  A signal to the caller itself takes effect before the call
 * returns (it may not return).  Returns 0 (also for a dead pid), -EINVAL,
 * -EHOSTUNREACH (another container and no router), -ENOMEM,
 * STRAW_ENOTCONTAINER.  Does not consume the caller's reference to reason.
 */
STRAW_API int straw_exit(straw_pid pid, straw_msg *reason);

/* straw_exit with an atom reason: also STRAW_EBADATOM. */
STRAW_API int straw_exit_atom(straw_pid pid, const char *atom);

/*
 * Ends the calling process with reason {panic, <<"file:line: message">>}.
 * A process's assertion failure (straw_assert) does the same with
 * {assert, <<"file:line: expression">>}.  Other processes and the container
 * continue.  The end is logged once, with the pid and the reason's text
 * (as are crashes: faults, stack overflows, abort()).  Outside a process
 * it prints the message and aborts.
 */
STRAW_API __attribute__((noreturn, format(printf, 3, 4))) void
straw_panic_at(const char *file, int line, const char *fmt, ...);

#define straw_panic(...) straw_panic_at(__FILE__, __LINE__, __VA_ARGS__)

/* An assertion that ends only the calling process when it fails. */
STRAW_API __attribute__((noreturn)) void
straw_assert_fail(const char *file, int line, const char *expr);

#define straw_assert(x)                                            \
	do {                                                       \
		if (__builtin_expect(!(x), 0))                     \
			straw_assert_fail(__FILE__, __LINE__, #x); \
	} while (0)

/*
 * Sets the caller's trap_exit flag: exit signals (except an untrappable
 * kill) then arrive as {'EXIT', From, Reason} messages.  Turning it on
 * reserves the memory of the {'EXIT', ...} message of each of the caller's
 * links, so that they arrive even when memory has run out later.  Returns
 * the old value (0 or 1), -ENOMEM (the flag is unchanged) or
 * STRAW_ENOTCONTAINER.
 */
STRAW_API int straw_trap_exit(int on);

/*
 * Links the caller and pid (of this or, through the router, of another
 * container).  Linking to a dead process (or an unknown one of this
 * container) delivers an exit signal with reason noproc to the caller (a
 * message when trapping exits, else the caller ends) and returns 0, as
 * Erlang's link/1 in a process trapping exits; a process of a container
 * that is gone gives noconnection.  Linking to oneself does nothing.  The
 * exit signal a link carries is delivered exactly once, also when memory
 * has run out (its message is reserved, see straw_trap_exit; a reason of
 * more than 64 bytes of ETF then arrives as the atom out_of_memory).
 * Returns 0, -EHOSTUNREACH (another container, no router),
 * STRAW_ENOTCONTAINER, -ENOMEM.
 */
STRAW_API int straw_link(straw_pid pid);

/* Removes the link between the caller and pid, if any.  Returns 0. */
STRAW_API int straw_unlink(straw_pid pid);

/*
 * The caller monitors pid: when pid ends (or at once if it is not alive),
 * {'DOWN', Ref, process, Pid, Reason} arrives, exactly once, with Reason
 * noproc for a pid that was not alive and noconnection when the pid's
 * container is gone.  The DOWN's memory is reserved here, so it arrives
 * even when memory has run out later (a reason of more than 64 bytes of
 * ETF then arrives as the atom out_of_memory).  Returns 0 and *ref,
 * -EHOSTUNREACH (another container, no router), -ENOMEM,
 * STRAW_ENOTCONTAINER.
 */
STRAW_API int straw_monitor(straw_pid pid, straw_ref *ref);

enum straw_demonitor_flag {
	STRAW_DEMONITOR_FLUSH = 1u << 0, /* also drop a DOWN already queued */
};

/*
 * Ends the monitor ref.  Returns 1 if it was active, 0 if it was not (already
 * fired, unknown, or not the caller's); with FLUSH a {'DOWN', Ref, ...}
 * message already in the mailbox is removed.  STRAW_ENOTCONTAINER.
 */
STRAW_API int straw_demonitor(straw_ref ref, unsigned flags);

/* A fresh reference.  -EINVAL (ref NULL), STRAW_ENOTCONTAINER outside a
 * container. */
STRAW_API int straw_make_ref(straw_ref *ref);

/*
 * Registers name (1..255 bytes, an atom's text) for pid, a process of the
 * caller's container: it is released when the process ends, and published
 * in strawd's registry under the container when connected (sent at once,
 * applied by strawd shortly after without the caller waiting for it; see
 * straw_container_sync).  Returns 0, -EINVAL (bad name), -EHOSTUNREACH (a
 * pid of another container), STRAW_ENAMETAKEN (the name, or the process
 * already has one), STRAW_ENOPROC (pid not alive), -ENOMEM.
 */
STRAW_API int straw_register(const char *name, straw_pid pid);

/* Removes a registered name.  Returns 0 or STRAW_ENONAME. */
STRAW_API int straw_unregister(const char *name);

/* Looks a registered name of the caller's container up.  Returns 0 and
 * *pid, STRAW_ENONAME, -EINVAL, STRAW_ENOTCONTAINER.  Never waits (an
 * attached thread reads the names under a lock). */
STRAW_API int straw_whereis(const char *name, straw_pid *pid);

/*
 * Looks name up in container (a container name or decimal id; the
 * caller's own one works too): 0 and *pid (long for another container),
 * STRAW_ENONAME (not registered there), STRAW_ENOCONTAINER (no such
 * container), -EHOSTUNREACH (another container and no router), -EINVAL.
 * May wait for the router (a process yields meanwhile).
 */
STRAW_API int straw_whereis_in(const char *container, const char *name,
                               straw_pid *pid);

/* Runs other processes, then continues.  Returns 0 or STRAW_ENOTCONTAINER.
 * Attached threads: returns 0 at once. */
STRAW_API int straw_yield(void);

/* Waits ms milliseconds (other processes run).  Returns 0, or -ENOMEM when
 * no timer could be set (then it did not wait). */
STRAW_API int straw_sleep(int ms);

/* ------------------------------------------------------------------ */
/* Send and receive                                                    */
/* ------------------------------------------------------------------ */

/*
 * Sends m to pid, of this container or (through the router) of another.
 * Does not consume the caller's reference: the receiver here gets the
 * same buffer (no copy); another container gets a copy of its bytes.  As
 * in Erlang, sending to a process that is not alive succeeds and drops the
 * message; messages from one sender to one receiver arrive in the order
 * sent.  Returns 0, -EINVAL (m NULL), -EHOSTUNREACH (another container and
 * no router), -EMSGSIZE (over the router's limit), -ENOMEM,
 * STRAW_ENOTCONTAINER.  Any process or attached thread.  A local send
 * never blocks; a remote one waits while the straw to that container is
 * full (a process yields meanwhile).
 */
STRAW_API int straw_send(straw_pid pid, straw_msg *m);

/* As straw_send, but consumes the caller's reference (also on failure). */
STRAW_API int straw_send_take(straw_pid pid, straw_msg *m);

/* straw_msgf then straw_send_take: builds and sends one message.  Returns
 * the codes of both. */
STRAW_API int straw_sendf(straw_pid pid, const char *fmt, ...);

/* Sends m to the process registered as name in the caller's container.
 * Does not consume the caller's reference.  Returns STRAW_ENONAME when no
 * process has that name, else as straw_send.  An attached thread finds
 * the name itself (under a lock) and never waits for the scheduler. */
STRAW_API int straw_send_name(const char *name, straw_msg *m);

/* straw_msgf then straw_send_name; the message is released after. */
STRAW_API int straw_sendf_name(const char *name, const char *fmt, ...);

/*
 * Sends m to {container, name}: the process registered as name in
 * container (a container name or decimal id; the caller's own container
 * too) of this machine.  Does not consume the caller's reference.  As in
 * Erlang, a name not registered in a live container drops the message
 * (returns 0) - except in the caller's own container, STRAW_ENONAME, as
 * straw_send_name; an unknown container is STRAW_ENOCONTAINER;
 * -EHOSTUNREACH for another container without a router; else as
 * straw_send.
 */
STRAW_API int straw_send_to(const char *container, const char *name,
                            straw_msg *m);

/* straw_msgf then straw_send_to; the message is released after. */
STRAW_API int straw_sendf_to(const char *container, const char *name,
                             const char *fmt, ...);

/*
 * Waits for the next message, at most timeout_ms (0 polls, STRAW_INFINITY
 * waits).  Returns 0 and *out (one reference, the caller's), or
 * -ETIMEDOUT, -ENOMEM (no timer for the timeout could be set),
 * STRAW_ENOTCONTAINER, or for an attached thread whose
 * process was ended by an exit signal, STRAW_ENOPROC.  Blocks (a process
 * yields to the others).
 */
STRAW_API int straw_receive(straw_msg **out, int timeout_ms);

/* Selects a message: returns nonzero to take it. */
typedef int (*straw_msg_pred)(const straw_msg *m, void *arg);

/*
 * Selective receive: takes the first message in the mailbox for which
 * pred(m, arg) is nonzero, waiting for one at most timeout_ms.  Messages that
 * do not match stay in the mailbox in their order.  pred runs on the
 * receiver's stack and must not block.  Returns as straw_receive.
 */
STRAW_API int straw_receive_if(straw_msg **out, int timeout_ms,
                               straw_msg_pred pred, void *arg);

/*
 * Selective receive by a pattern in Erlang syntax (straw_term_match without
 * captures: use `_` for parts to ignore), e.g. "{reply, _, ok}".  Returns as
 * straw_receive, or the matcher's negative code for a bad pattern.
 */
STRAW_API int straw_receive_match(straw_msg **out, int timeout_ms,
                                  const char *pattern);

/*
 * Selective receive with captures: takes the first message matching
 * pattern (straw_term_match syntax, e.g. "{reply, ~i, ~a}") and writes the
 * captures (the trailing arguments, as for straw_term_match) only then.
 * Captures that point into the term (~b, ~t) stay valid while *out is
 * held.  Returns as straw_receive, or the matcher's negative code for a bad
 * pattern (at once for a pattern without captures, else when the first
 * message is tried).
 */
STRAW_API int straw_receivef(straw_msg **out, int timeout_ms,
                             const char *pattern, ...);

/* Messages waiting in the caller's mailbox, or STRAW_ENOTCONTAINER. */
STRAW_API long straw_mailbox_len(void);

/* A cancellable timer of send_after. */
typedef struct straw_timer {
	uint64_t id; /* 0: none */
} straw_timer;

/*
 * Sends m to pid after ms milliseconds.  Does not consume the caller's
 * reference (the timer holds one of its own).  A timer aimed at a process
 * of this container is cancelled when that process ends (as Erlang's
 * timers to a pid are), so it holds nothing for a dead process; one aimed
 * at another container's process sends through the router when it fires.
 * Returns 0 and *timer (may be NULL), -ENOMEM, -EINVAL, -EHOSTUNREACH
 * (another container and no router).  A process or an attached thread.
 */
STRAW_API int straw_send_after(straw_pid pid, straw_msg *m, int ms,
                               straw_timer *timer);

/* Cancels a timer of send_after.  Returns the milliseconds that were left
 * (>= 0), or -ENOENT if it fired or was cancelled already. */
STRAW_API int straw_cancel_timer(straw_timer timer);

/* ------------------------------------------------------------------ */
/* Foreign threads                                                     */
/* ------------------------------------------------------------------ */

/*
 * Makes the calling thread, which is not a process, a process of c: it gets
 * a pid and a mailbox and may then call the send, receive, link, monitor and
 * register functions (which block the thread, not the container).  Exit
 * signals reach it like any process; when one ends it, its receive calls
 * return STRAW_ENOPROC until it detaches.  Returns 0 and *pid, -EBUSY (the
 * thread is already attached or is a process), -ENOMEM, STRAW_ENOPROC (c is
 * stopping).  Any thread; c must be valid.
 */
STRAW_API int straw_attach(straw_container *c, straw_pid *pid);

/*
 * Ends the calling thread's process (reason normal, or the reason that
 * already ended it) and detaches the thread.  Returns 0 or
 * STRAW_ENOTCONTAINER.
 */
STRAW_API int straw_detach(void);

/*
 * An fd (eventfd) that turns readable when mail arrives for the calling
 * attached thread; straw_receive and friends reset it.  The thread owns
 * nothing: the fd is closed by straw_detach.  Returns the fd or
 * STRAW_ENOTCONTAINER.
 */
STRAW_API int straw_mail_fd(void);

/* ------------------------------------------------------------------ */
/* Introspection                                                       */
/* ------------------------------------------------------------------ */

enum straw_proc_state {
	STRAW_PROC_RUNNABLE = 1, /* on the run queue or running */
	STRAW_PROC_WAITING,      /* in receive, waiting for a message */
	STRAW_PROC_SLEEPING,     /* in sleep, or waiting on an fd */
	STRAW_PROC_FOREIGN,      /* an attached thread */
	STRAW_PROC_EXITING,      /* ended, being cleaned up */
};

typedef struct straw_proc_info {
	straw_pid pid;        /* short pid */
	int state;            /* enum straw_proc_state */
	int trap_exit;        /* 0 or 1 */
	size_t mailbox_len;   /* messages waiting */
	size_t mailbox_bytes; /* their encoded bytes */
	uint64_t switches;    /* times it was switched in */
	uint64_t reductions;  /* messages received */
	size_t memory;        /* bytes: stack reserved + bookkeeping */
	uint32_t links;       /* number of links */
	uint32_t monitors;    /* monitors it holds plus those on it */
	char name[64];        /* registered name or "" (truncated) */
} straw_proc_info;

/*
 * Fills *info for pid, a process of the caller's container.  Returns 0,
 * STRAW_ENOPROC, -EHOSTUNREACH (a pid of another container) or -EINVAL.
 * A process or an attached thread.
 */
STRAW_API int straw_proc_info_get(straw_pid pid, straw_proc_info *info);

/*
 * Fills up to cap entries of the container's processes, in pid order, and
 * returns how many processes there are (may exceed cap), or -ENOMEM.  A
 * process only (an attached thread gets -EPERM).
 */
STRAW_API long straw_proc_list(straw_proc_info *out, size_t cap);

#ifdef __cplusplus
}
#endif
#endif /* STRAW_STRAW_H */
