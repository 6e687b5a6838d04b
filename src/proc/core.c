/*
 * Processes: their life and death - spawn, the mailbox delivery, exit
 * signals, the end of a process and what it releases, the reasons of
 * crashes and their log line, exit, panic and assert.  Everything here runs
 * on the container's scheduler thread (in a process or in the scheduler
 * context); attached threads reach it through proc_foreign_call.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <straw/term.h>

#include "base/base.h"
#include "base/log.h"
#include "proc/etf_proc.h"
#include "proc/proc.h"

__thread straw_container *proc_tls_container
        __attribute__((tls_model("initial-exec")));
__thread struct proc *proc_tls_foreign
        __attribute__((tls_model("initial-exec")));

straw_msg *proc_atom_normal, *proc_atom_kill, *proc_atom_killed,
        *proc_atom_noproc, *proc_atom_shutdown, *proc_atom_noconnection,
        *proc_atom_oom;

static pthread_mutex_t atoms_mu = PTHREAD_MUTEX_INITIALIZER;

int
proc_atoms_init(void)
{
	static const char *const names[] = {
	        "normal",   "kill",         "killed",        "noproc",
	        "shutdown", "noconnection", "out_of_memory",
	};
	straw_msg **slots[] = {
	        &proc_atom_normal, &proc_atom_kill,     &proc_atom_killed,
	        &proc_atom_noproc, &proc_atom_shutdown, &proc_atom_noconnection,
	        &proc_atom_oom,
	};
	size_t i;
	int rc = 0;

	pthread_mutex_lock(&atoms_mu);
	for (i = 0; i < STRAW_ARRAY_LEN(slots) && rc == 0; i++)
		if (*slots[i] == NULL &&
		    (*slots[i] = proc_msg_atom(names[i])) == NULL)
			rc = -ENOMEM; /* those made stay for the next try */
	pthread_mutex_unlock(&atoms_mu);
	return rc;
}

straw_pid
proc_pid_long(const straw_container *c, straw_pid pid)
{
	if (pid.machine == 0 && pid.container == 0)
		pid.container = c->id;
	if (pid.machine == 0)
		pid.machine = c->machine;
	return pid;
}

straw_ref
proc_ref_long(const straw_container *c, straw_ref ref)
{
	straw_pid p =
	        proc_pid_long(c, (straw_pid){ref.machine, ref.container, 0});

	ref.machine = p.machine;
	ref.container = p.container;
	return ref;
}

struct proc *
proc_lookup(straw_container *c, straw_pid pid)
{
	if (!proc_pid_local(c, pid) || pid.process == 0)
		return NULL;
	return proc_table_get(&c->procs, pid.process);
}

void
proc_deliver(struct proc *p, straw_msg *m)
{
	if (unlikely(p->life != PROC_ALIVE)) {
		straw_msg_unref(m);
		return;
	}
	if (likely(p->ft == NULL)) {
		proc_fifo_push(&p->mbox, m);
		if (p->waiting)
			strawi_coro_wake(p->coro);
		return;
	}
	pthread_mutex_lock(&p->ft->mu);
	proc_fifo_push(&p->mbox, m);
	if (p->mbox.len == 1 || p->ft->waiting) {
		uint64_t one = 1;
		ssize_t n = write(p->ft->efd, &one, sizeof(one));
		(void)n; /* EAGAIN: the counter is already huge (readable) */
	}
	pthread_mutex_unlock(&p->ft->mu);
}

/* ---- exit signals --------------------------------------------------- */

void
proc_set_exiting(struct proc *p, straw_msg *reason)
{
	if (p->ft != NULL) /* the attached thread reads life under mu */
		pthread_mutex_lock(&p->ft->mu);
	p->life = PROC_EXITING;
	p->reason = straw_msg_ref(reason);
	if (p->ft != NULL)
		pthread_mutex_unlock(&p->ft->mu);
}

void
proc_kill(struct proc *p, straw_msg *reason)
{
	if (p->life != PROC_ALIVE)
		return;
	proc_set_exiting(p, reason);
	if (p->ft != NULL) {
		/* An attached thread: told now, freed at detach. */
		proc_die(p);
		return;
	}
	if (p == proc_current())
		strawi_coro_exit(0, NULL);
	strawi_coro_kill(p->coro, 0, NULL);
}

/* The {'EXIT', From, Reason} message: in the reserve when it fits, else
 * allocated; when memory has run out, the reserve with the reason
 * out_of_memory (the signal is never lost).  NULL only without a reserve
 * and without memory. */
static straw_msg *
exit_message(straw_pid from, const straw_msg *reason, straw_msg *reserve,
             size_t fixed)
{
	straw_msg *m;

	if (reserve != NULL && etfp_reserve_fill(reserve, fixed, reason) == 0)
		return reserve;
	m = etfp_exit_msg(from, reason);
	if (m != NULL) {
		straw_msg_unref(reserve);
		return m;
	}
	if (reserve != NULL &&
	    etfp_reserve_fill(reserve, fixed, proc_atom_oom) == 0) {
		strawi_log(STRAWI_LOG_ERROR,
		           "out of memory: an EXIT carries out_of_memory "
		           "instead of its reason");
		return reserve;
	}
	straw_msg_unref(reserve);
	return NULL;
}

void
proc_signal(struct proc *p, straw_pid from, const straw_msg *reason, int kind,
            straw_msg *reserve, size_t fixed)
{
	if (p->life != PROC_ALIVE) {
		straw_msg_unref(reserve);
		return;
	}
	if (kind == PROC_SIG_EXIT && straw_msg_is_atom(reason, "kill")) {
		straw_msg_unref(reserve);
		proc_kill(p, proc_atom_killed);
		return;
	}
	if (p->trap_exit) {
		straw_msg *m = exit_message(from, reason, reserve, fixed);
		if (m != NULL) {
			proc_deliver(p, m);
			return;
		}
		/* Out of memory and nothing reserved (an exit/2 signal): the
		 * process ends instead of missing the signal silently. */
		strawi_log(
		        STRAWI_LOG_ERROR,
		        "out of memory: an exit signal to a process trapping "
		        "exits ends it");
		proc_kill(p, proc_atom_oom);
		return;
	}
	straw_msg_unref(reserve);
	if (straw_msg_is_atom(reason, "normal")) {
		if (kind == PROC_SIG_EXIT && from.process == p->id &&
		    proc_pid_local(p->c, from))
			proc_kill(p, proc_atom_normal);
		return;
	}
	proc_kill(p, (straw_msg *)reason);
}

void
proc_die(struct proc *p)
{
	straw_container *c = p->c;

	STRAWI_ASSERT(p->life == PROC_EXITING && p->reason != NULL);
	proc_name_release(p);
	proc_waits_abandon(p);
	proc_links_fire(p);
	proc_timers_cancel_for(p);
	proc_msgs_release(p);
	if (p->ft != NULL)
		pthread_mutex_lock(&p->ft->mu);
	p->life = PROC_DEAD;
	proc_fifo_clear(&p->mbox);
	if (p->ft != NULL) {
		uint64_t one = 1;
		ssize_t n = write(p->ft->efd, &one, sizeof(one));
		(void)n;
		pthread_mutex_unlock(&p->ft->mu);
	}
	proc_table_del(&c->procs, p->id);
	if (--c->nprocs == 0) {
		proc_reg_idle(c);
		if (c->ext != NULL)
			c->ext->idle(c, c->ext_arg);
	}
	if (p->is_first && c->status == 0 &&
	    !straw_msg_is_atom(p->reason, "normal"))
		c->status = 1;
	if (p->ft == NULL) { /* p goes with its stack, after on_exit */
		straw_msg_unref(p->hold);
		p->hold = NULL;
		straw_msg_unref(p->reason);
		p->reason = NULL;
	}
}

/* ---- the end of a process ---------------------------------------------- */

static straw_msg *
fault_reason(const struct strawi_exit_info *e)
{
	const char *sig = "fault";
	char text[96];

	switch (e->signo) {
	case 11:
		sig = "segv";
		break;
	case 7:
		sig = "bus";
		break;
	case 4:
		sig = "ill";
		break;
	case 8:
		sig = "fpe";
		break;
	case 5:
		sig = "trap";
		break;
	}
	snprintf(text, sizeof(text), "%s at 0x%" PRIxPTR, sig,
	         (uintptr_t)e->addr);
	return etfp_tag_text_msg("fault", text, strlen(text));
}

/* Characters of a reason's text in the log line, at most. */
#define LOG_REASON_MAX 1000

void
proc_log_exit(const struct proc *p, const char *how)
{
	straw_buf text = STRAW_BUF_INIT;
	char pid[STRAW_PID_FORMAT_MAX];
	const char *r = "(reason not printable)";
	int n = -1;

	straw_pid_format(proc_pid_of(p), pid, sizeof(pid));
	if (straw_term_to_text(p->reason->data, p->reason->len, &text) == 0) {
		r = (const char *)text.data;
		n = text.len > LOG_REASON_MAX ? LOG_REASON_MAX : (int)text.len;
	}
	strawi_log(STRAWI_LOG_ERROR, "process %s %s: %.*s%s", pid, how,
	           n >= 0 ? n : (int)strlen(r), r,
	           n >= 0 && text.len > LOG_REASON_MAX ? "..." : "");
	straw_buf_fini(&text);
}

/* straw_panic and straw_assert end a process with this code. */
#define CODE_ERROR 1

void
proc_on_exit(struct strawi_coro *co, const struct strawi_exit_info *e)
{
	struct proc *p = strawi_coro_user(co);
	const char *how = NULL;

	if (p == NULL)
		return;
	strawi_coro_set_user(co, NULL);
	if (p->life == PROC_ALIVE) {
		straw_msg *r = NULL;
		switch (e->reason) {
		case STRAWI_EXIT_RETURN:
			r = straw_msg_ref(proc_atom_normal);
			break;
		case STRAWI_EXIT_CALLED:
		case STRAWI_EXIT_KILLED:
			r = e->data != NULL ? (straw_msg *)e->data
			                    : straw_msg_ref(proc_atom_normal);
			if (e->code == CODE_ERROR)
				how = "failed";
			break;
		case STRAWI_EXIT_OVERFLOW:
			r = proc_msg_atom("stack_overflow");
			how = "crashed";
			break;
		case STRAWI_EXIT_FAULT:
			r = fault_reason(e);
			how = "crashed";
			break;
		case STRAWI_EXIT_ABORT:
			r = proc_msg_atom("abort");
			how = "crashed";
			break;
		default:
			r = straw_msg_ref(proc_atom_shutdown);
			break;
		}
		if (r == NULL) /* out of memory building the reason */
			r = straw_msg_ref(proc_atom_oom);
		p->life = PROC_EXITING;
		p->reason = r;
		if (how != NULL)
			proc_log_exit(p, how);
	} else if (e->data != NULL) {
		straw_msg_unref(e->data);
	}
	proc_die(p);
}

/* ---- spawn ---------------------------------------------------------- */

static void
proc_entry(void *arg)
{
	struct proc *p = strawi_coro_user_space(strawi_coro_self());

	(void)arg;
	p->fn(p->arg);
}

_Static_assert(sizeof(struct proc) <= STRAWI_USER_SPACE_MAX,
               "struct proc fits the coroutine's user space");

int
proc_spawn(straw_container *c, struct proc *parent, straw_proc_fn fn, void *arg,
           const straw_spawn_opts *opts, straw_pid *out)
{
	straw_spawn_opts none = {0, 0, NULL};
	size_t stack;
	struct strawi_coro *co;
	struct proc *p;
	uint32_t id;
	straw_ref mref;
	int rc;

	if (opts == NULL)
		opts = &none;
	if (fn == NULL)
		return -EINVAL;
	stack = opts->stack_size ? opts->stack_size : c->stack_size;
	if (stack > STRAWI_STACK_MAX)
		return -EINVAL;
	if ((opts->flags & (STRAW_SPAWN_LINK | STRAW_SPAWN_MONITOR)) &&
	    parent == NULL)
		return -EINVAL;
	id = c->next_pid;
	do { /* ids wrap after 2^32 spawns: skip those in use and 0 */
		id++;
	} while (id == 0 || proc_table_get(&c->procs, id) != NULL);
	rc = proc_table_reserve(&c->procs, id);
	if (rc < 0)
		return rc;
	rc = strawi_coro_spawn(c->sched, proc_entry, NULL, stack, &co);
	if (rc < 0)
		return rc;
	/* The process lives in the top page of its own stack, next to the
	 * coroutine's struct: no allocation, no page of its own. */
	p = strawi_coro_user_space(co);
	memset(p, 0, sizeof(*p));
	c->next_pid = id;
	p->id = id;
	p->c = c;
	p->coro = co;
	p->fn = fn;
	p->arg = arg;
	p->stack_size = stack;
	proc_fifo_init(&p->mbox);
	rc = proc_table_put(&c->procs, id, p);
	STRAWI_ASSERT(rc == 0); /* reserved above */
	strawi_coro_set_user(co, p);
	strawi_coro_set_tag(co, id);
	c->nprocs++;
	if (opts->flags & STRAW_SPAWN_LINK) {
		rc = proc_link_add(parent, proc_pid_of(p));
		if (rc < 0)
			goto fail_started;
	}
	if (opts->flags & STRAW_SPAWN_MONITOR) {
		rc = proc_monitor_add(parent, proc_pid_of(p), &mref);
		if (rc < 0)
			goto fail_started;
		if (opts->monitor != NULL)
			*opts->monitor = mref;
	}
	if (out != NULL)
		*out = proc_pid_of(p);
	return 0;
fail_started:
	/* It has not run yet: end it quietly (no signals: its link, if
	 * made, is removed first). */
	proc_link_remove(parent, proc_pid_of(p));
	p->life = PROC_EXITING;
	p->reason = straw_msg_ref(proc_atom_killed);
	strawi_coro_kill(p->coro, 0, NULL);
	return rc;
}

/* ---- self, exit, panic ------------------------------------------------ */

straw_pid
straw_self(void)
{
	struct proc *p = proc_current();
	straw_pid none = {0, 0, 0};

	if (p == NULL)
		p = proc_tls_foreign;
	return p != NULL ? proc_pid_of(p) : none;
}

straw_pid
straw_self_long(void)
{
	struct proc *p = proc_current();
	straw_pid none = {0, 0, 0};

	if (p == NULL)
		p = proc_tls_foreign;
	if (p == NULL)
		return none;
	return proc_pid_long(p->c, proc_pid_of(p));
}

void
straw_exit_self(straw_msg *reason)
{
	struct proc *self = proc_current();

	if (self == NULL) {
		fprintf(stderr, "straw_exit_self called outside a process\n");
		abort();
	}
	if (reason == NULL)
		reason = straw_msg_ref(proc_atom_normal);
	else
		straw_msg_disown(reason); /* the runtime's now */
	strawi_coro_exit(0, reason);
}

void
straw_exit_self_atom(const char *atom)
{
	straw_msg *r = atom != NULL ? proc_msg_atom(atom) : NULL;

	straw_exit_self(r != NULL ? r : straw_msg_ref(proc_atom_oom));
}

static __attribute__((noreturn)) void
end_with_text(const char *tag, const char *text, size_t n)
{
	straw_msg *r;

	if (proc_current() == NULL) {
		fprintf(stderr, "%s: %.*s\n", tag, (int)n, text);
		abort();
	}
	r = etfp_tag_text_msg(tag, text, n);
	if (r == NULL)
		r = straw_msg_ref(proc_atom_oom);
	strawi_coro_exit(CODE_ERROR, r);
}

void
straw_panic_at(const char *file, int line, const char *fmt, ...)
{
	char text[512];
	int n = snprintf(text, sizeof(text), "%s:%d: ", file, line);
	va_list ap;

	if (n < 0)
		n = 0;
	if ((size_t)n >= sizeof(text))
		n = (int)sizeof(text) - 1;
	va_start(ap, fmt);
	vsnprintf(text + n, sizeof(text) - (size_t)n, fmt, ap);
	va_end(ap);
	end_with_text("panic", text, strlen(text));
}

void
straw_assert_fail(const char *file, int line, const char *expr)
{
	char text[512];

	snprintf(text, sizeof(text), "%s:%d: %s", file, line, expr);
	end_with_text("assert", text, strlen(text));
}
