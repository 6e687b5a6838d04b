/* Introspection: a process's state, mailbox, switches and memory. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "base/base.h"
#include "proc/proc.h"

static void
fill(const struct proc *p, straw_proc_info *info)
{
	memset(info, 0, sizeof(*info));
	info->pid.process = p->id;
	info->trap_exit = p->trap_exit;
	if (p->ft != NULL) /* its thread takes mail under mu */
		pthread_mutex_lock(&p->ft->mu);
	info->mailbox_len = p->mbox.len;
	info->mailbox_bytes = p->mbox.bytes;
	info->reductions = p->received;
	if (p->ft != NULL)
		pthread_mutex_unlock(&p->ft->mu);
	info->links = p->nlinks;
	info->monitors = p->nmons;
	/* A process's struct lives in its stack's top page (counted with the
	 * resident pages below); an attached thread's is allocated. */
	info->memory = (p->coro != NULL ? 0 : sizeof(*p)) + info->mailbox_bytes;
	if (p->life != PROC_ALIVE)
		info->state = STRAW_PROC_EXITING;
	else if (p->ft != NULL)
		info->state = STRAW_PROC_FOREIGN;
	else if (p->waiting)
		info->state = STRAW_PROC_WAITING;
	else if (strawi_coro_state(p->coro) == STRAWI_CORO_PARKED)
		info->state = STRAW_PROC_SLEEPING;
	else
		info->state = STRAW_PROC_RUNNABLE;
	if (p->coro != NULL) {
		info->switches = strawi_coro_switches(p->coro);
		info->memory += strawi_coro_stack_resident(p->coro);
	}
	if (p->name != NULL) {
		size_t n = strlen(p->name);
		if (n >= sizeof(info->name))
			n = sizeof(info->name) - 1;
		memcpy(info->name, p->name, n);
	}
}

int
proc_op_info(struct proc *self, straw_pid pid, straw_proc_info *info)
{
	struct proc *p;

	if (!proc_pid_local(self->c, pid))
		return -EHOSTUNREACH;
	p = proc_lookup(self->c, pid);
	if (p == NULL)
		return STRAW_ENOPROC;
	fill(p, info);
	return 0;
}

int
straw_proc_info_get(straw_pid pid, straw_proc_info *info)
{
	struct op_args a = {0};

	if (info == NULL)
		return -EINVAL;
	a.pid = pid;
	a.info = info;
	return proc_run_op(OP_INFO, &a);
}

struct list_ctx {
	straw_proc_info *out; /* array */
	size_t cap;           /* its entries */
	size_t n;             /* processes seen */
	uint32_t *ids;        /* their ids, to sort */
};

static void
collect(uint32_t id, struct proc *p, void *arg)
{
	struct list_ctx *l = arg;

	(void)p;
	l->ids[l->n++] = id;
}

static int
cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	return (x > y) - (x < y);
}

long
proc_list(straw_container *c, straw_proc_info *out, size_t cap)
{
	struct list_ctx l = {out, cap, 0, NULL};
	size_t i;

	l.ids = straw_malloc((c->procs.len + 1) * sizeof(uint32_t));
	if (l.ids == NULL)
		return -ENOMEM;
	proc_table_each(&c->procs, collect, &l);
	qsort(l.ids, l.n, sizeof(uint32_t), cmp_u32);
	for (i = 0; i < l.n && i < cap; i++)
		fill(proc_table_get(&c->procs, l.ids[i]), &out[i]);
	straw_free(l.ids);
	return (long)l.n;
}

long
straw_proc_list(straw_proc_info *out, size_t cap)
{
	struct proc *self = proc_current();

	if (self == NULL)
		return proc_tls_foreign != NULL ? -EPERM : STRAW_ENOTCONTAINER;
	return proc_list(self->c, out, cap);
}
