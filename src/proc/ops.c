/*
 * The operations on container state that a process runs directly and an
 * attached thread has the scheduler thread run for it (proc_foreign_call):
 * one dispatcher, and the public calls that go through it.
 */
#include <errno.h>
#include <string.h>

#include "base/base.h"
#include "proc/proc.h"

int
strawi_proc_run_op(struct proc *self, int op, struct op_args *a)
{
	straw_ref r = {0, 0, 0, 0};

	switch (op) {
	case OP_SPAWN:
		return proc_spawn(self->c, self, a->fn, a->arg, a->opts,
		                  a->pid_out);
	case OP_EXIT:
		return proc_exit_signal(self, a->pid, a->msg);
	case OP_LINK:
		return proc_link_add(self, a->pid);
	case OP_UNLINK:
		return proc_link_remove(self, a->pid);
	case OP_MONITOR:
		return proc_monitor_add(self, a->pid, a->ref_out);
	case OP_DEMONITOR:
		return proc_monitor_remove(self, a->ref, a->flags);
	case OP_REGISTER:
		return proc_name_register(self, a->name, a->pid);
	case OP_UNREGISTER:
		return proc_name_unregister(self->c, a->name);
	case OP_TRAP:
		return proc_trap_set(self, a->flags != 0);
	case OP_MAKE_REF:
		r.id = proc_new_ref(self->c);
		*a->ref_out = r;
		return 0;
	case OP_SEND_AFTER:
		return proc_op_send_after(self, a->pid, a->msg, a->flags,
		                          a->timer_out);
	case OP_CANCEL_TIMER:
		return proc_op_cancel_timer(self, a->timer);
	case OP_INFO:
		return proc_op_info(self, a->pid, a->info);
	}
	return -EINVAL;
}

int
proc_run_op(int op, struct op_args *a)
{
	struct proc *self = proc_current();

	if (self != NULL)
		return strawi_proc_run_op(self, op, a);
	if (proc_tls_foreign != NULL)
		return proc_foreign_call(proc_tls_foreign, op, a);
	return STRAW_ENOTCONTAINER;
}

int
straw_spawn(straw_proc_fn fn, void *arg, const straw_spawn_opts *opts,
            straw_pid *pid)
{
	struct op_args a = {0};

	a.fn = fn;
	a.arg = arg;
	a.opts = opts;
	a.pid_out = pid;
	return proc_run_op(OP_SPAWN, &a);
}

int
straw_exit(straw_pid pid, straw_msg *reason)
{
	struct op_args a = {0};

	if (reason == NULL)
		return -EINVAL;
	a.pid = pid;
	a.msg = reason;
	return proc_run_op(OP_EXIT, &a);
}

int
straw_exit_atom(straw_pid pid, const char *atom)
{
	struct proc *self = proc_current();
	straw_msg *r;
	int rc;

	if (atom == NULL || strlen(atom) > 255)
		return STRAW_EBADATOM;
	if ((r = proc_msg_atom(atom)) == NULL)
		return -ENOMEM;
	if (self != NULL) /* a signal to itself may end it in the call */
		self->hold = r;
	rc = straw_exit(pid, r);
	if (self != NULL)
		self->hold = NULL;
	straw_msg_unref(r);
	return rc;
}

int
straw_trap_exit(int on)
{
	struct op_args a = {0};

	a.flags = on != 0;
	return proc_run_op(OP_TRAP, &a);
}

int
straw_link(straw_pid pid)
{
	struct op_args a = {0};

	a.pid = pid;
	return proc_run_op(OP_LINK, &a);
}

int
straw_unlink(straw_pid pid)
{
	struct op_args a = {0};

	a.pid = pid;
	return proc_run_op(OP_UNLINK, &a);
}

int
straw_monitor(straw_pid pid, straw_ref *ref)
{
	struct op_args a = {0};
	straw_ref dummy;

	a.pid = pid;
	a.ref_out = ref != NULL ? ref : &dummy;
	return proc_run_op(OP_MONITOR, &a);
}

int
straw_demonitor(straw_ref ref, unsigned flags)
{
	struct op_args a = {0};

	a.ref = ref;
	a.flags = flags;
	return proc_run_op(OP_DEMONITOR, &a);
}

int
straw_make_ref(straw_ref *ref)
{
	struct op_args a = {0};

	if (ref == NULL)
		return -EINVAL;
	a.ref_out = ref;
	return proc_run_op(OP_MAKE_REF, &a);
}

int
straw_register(const char *name, straw_pid pid)
{
	struct op_args a = {0};

	a.name = name;
	a.pid = pid;
	return proc_run_op(OP_REGISTER, &a);
}

int
straw_unregister(const char *name)
{
	struct op_args a = {0};

	a.name = name;
	return proc_run_op(OP_UNREGISTER, &a);
}
