/*
 * Foreign threads: a thread of the program attaches to a container, gets a
 * process and a mailbox guarded by a mutex, and blocks in poll(2) on an
 * eventfd for mail.  Whatever it does to container state runs on the
 * scheduler thread as a posted task.
 */
#include <errno.h>
#include <sched.h>
#include <semaphore.h>
#include <stddef.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "base/base.h"
#include "proc/etf_proc.h"
#include "proc/proc.h"

/* Announces a post; 0 if the container is closed to posts. */
static int
post_begin(straw_container *c)
{
	atomic_fetch_add(&c->inflight, 1);
	if (atomic_load(&c->closed)) {
		atomic_fetch_sub(&c->inflight, 1);
		return 0;
	}
	return 1;
}

static void
post_end(straw_container *c)
{
	atomic_fetch_sub(&c->inflight, 1);
}

void
proc_close_posts(straw_container *c)
{
	atomic_store(&c->closed, 1);
	while (atomic_load(&c->inflight) != 0)
		sched_yield(); /* a poster is between two atomic ops */
}

struct sync_task {
	struct strawi_task task; /* first: the posted node */
	struct proc *self;       /* the attached thread's process */
	int op;                  /* OP_* */
	struct op_args *a;       /* arguments */
	int rc;                  /* result */
	sem_t done;              /* posted when rc is set */
};

static void
sync_run(struct strawi_task *t)
{
	struct sync_task *st = (struct sync_task *)t;

	if (st->self->life != PROC_ALIVE)
		st->rc = STRAW_ENOPROC;
	else
		st->rc = strawi_proc_run_op(st->self, st->op, st->a);
	sem_post(&st->done);
}

static int
post_and_wait(straw_container *c, struct sync_task *st,
              void (*fn)(struct strawi_task *))
{
	st->task.fn = fn;
	atomic_init(&st->task.next, NULL);
	if (sem_init(&st->done, 0, 0) != 0)
		return -errno;
	if (!post_begin(c)) {
		sem_destroy(&st->done);
		return STRAW_ENOPROC;
	}
	strawi_sched_post(c->sched, &st->task);
	post_end(c);
	while (sem_wait(&st->done) != 0)
		; /* EINTR */
	sem_destroy(&st->done);
	return st->rc;
}

int
proc_foreign_call(struct proc *self, int op, struct op_args *a)
{
	struct sync_task st;

	st.self = self;
	st.op = op;
	st.a = a;
	st.rc = 0;
	return post_and_wait(self->c, &st, sync_run);
}

struct send_task {
	struct strawi_task task; /* first: the posted node */
	straw_container *c;      /* where */
	uint32_t dest;           /* receiver */
	straw_msg *m;            /* carries a queue reference */
};

static void
send_run(struct strawi_task *t)
{
	struct send_task *st = (struct send_task *)t;
	struct proc *p = proc_table_get(&st->c->procs, st->dest);

	if (p != NULL)
		proc_deliver(p, st->m);
	else
		straw_msg_unref(st->m);
	straw_free(st);
}

int
proc_post_deliver(straw_container *c, uint32_t process, straw_msg *m)
{
	struct send_task *st = straw_malloc(sizeof(*st));

	if (st == NULL) {
		straw_msg_unref(m);
		return -ENOMEM;
	}
	st->task.fn = send_run;
	atomic_init(&st->task.next, NULL);
	st->c = c;
	st->dest = process;
	st->m = m;
	if (!post_begin(c)) {
		/* The container stopped: like a send to a dead process. */
		straw_msg_unref(m);
		straw_free(st);
		return 0;
	}
	strawi_sched_post(c->sched, &st->task);
	post_end(c);
	return 0;
}

static void
attach_run(struct strawi_task *t)
{
	struct sync_task *st = (struct sync_task *)t;
	struct proc *p = st->self;
	straw_container *c = p->c;
	uint32_t id;

	if (c->stopping) {
		st->rc = STRAW_ENOPROC;
		sem_post(&st->done);
		return;
	}
	do {
		id = ++c->next_pid;
	} while (id == 0 || proc_table_get(&c->procs, id) != NULL);
	p->id = id;
	st->rc = proc_table_put(&c->procs, id, p);
	if (st->rc == 0) {
		c->nprocs++;
		strawi_sched_hold(c->sched);
	}
	sem_post(&st->done);
}

static void
free_foreign(struct proc *p)
{
	straw_container *c = p->c;

	straw_msg_unref(p->reason);
	close(p->ft->efd);
	pthread_mutex_destroy(&p->ft->mu);
	straw_free(p->ft);
	straw_free(p);
	pthread_mutex_lock(&c->attach_mu);
	c->attached--;
	pthread_cond_broadcast(&c->attach_cv);
	pthread_mutex_unlock(&c->attach_mu);
}

int
straw_attach(straw_container *c, straw_pid *pid)
{
	struct sync_task st;
	struct proc *p;
	int rc;

	if (c == NULL)
		return -EINVAL;
	if (proc_tls_foreign != NULL || proc_current() != NULL)
		return -EBUSY;
	p = straw_calloc(1, sizeof(*p));
	if (p == NULL)
		return -ENOMEM;
	p->ft = straw_calloc(1, sizeof(*p->ft));
	if (p->ft == NULL) {
		straw_free(p);
		return -ENOMEM;
	}
	p->ft->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (p->ft->efd < 0) {
		rc = -errno;
		straw_free(p->ft);
		straw_free(p);
		return rc;
	}
	pthread_mutex_init(&p->ft->mu, NULL);
	p->c = c;
	proc_fifo_init(&p->mbox);
	pthread_mutex_lock(&c->attach_mu);
	c->attached++;
	pthread_mutex_unlock(&c->attach_mu);
	st.self = p;
	st.rc = 0;
	rc = post_and_wait(c, &st, attach_run);
	if (rc < 0) {
		free_foreign(p);
		return rc;
	}
	proc_tls_foreign = p;
	if (pid != NULL) {
		pid->machine = 0;
		pid->container = 0;
		pid->process = p->id;
	}
	return 0;
}

static void
detach_run(struct strawi_task *t)
{
	struct sync_task *st = (struct sync_task *)t;
	struct proc *p = st->self;
	straw_container *c = p->c;

	if (p->life == PROC_ALIVE) {
		proc_set_exiting(p, proc_atom_normal);
		proc_die(p);
	}
	if (!c->stopping)
		strawi_sched_release(c->sched);
	st->rc = 0;
	sem_post(&st->done);
}

int
straw_detach(void)
{
	struct proc *p = proc_tls_foreign;
	struct sync_task st;

	if (p == NULL)
		return STRAW_ENOTCONTAINER;
	st.self = p;
	st.rc = 0;
	(void)post_and_wait(p->c, &st, detach_run); /* closed: nothing to do */
	proc_tls_foreign = NULL;
	free_foreign(p);
	return 0;
}

int
straw_mail_fd(void)
{
	struct proc *p = proc_tls_foreign;

	return p != NULL ? p->ft->efd : STRAW_ENOTCONTAINER;
}
