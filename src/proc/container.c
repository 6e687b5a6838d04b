/*
 * Containers: the scheduler thread, joining strawd, the first process,
 * stop (from any thread or a signal) and the exit status.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/base.h"
#include "base/log.h"
#include "proc/etf_proc.h"
#include "proc/proc.h"
#include "term/node.h"

/* The container running in this OS process (one at a time). */
static _Atomic(straw_container *) running;

static struct sigaction old_term, old_int;

static void
on_signal(int sig)
{
	straw_container *c = atomic_load(&running);

	if (c != NULL)
		straw_container_stop(c, 128 + sig);
}

static void
signals_install(straw_container *c)
{
	struct sigaction sa;

	if (c->flags & STRAW_CONTAINER_NO_SIGNALS)
		return;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, &old_term);
	sigaction(SIGINT, &sa, &old_int);
}

static void
signals_restore(straw_container *c)
{
	if (c->flags & STRAW_CONTAINER_NO_SIGNALS)
		return;
	sigaction(SIGTERM, &old_term, NULL);
	sigaction(SIGINT, &old_int, NULL);
}

static int
name_ok(const char *name)
{
	size_t n, i;

	if (name == NULL)
		return 0;
	n = strlen(name);
	if (n < 1 || n > 64 || strspn(name, "0123456789") == n)
		return 0; /* all digits would read as a container id */
	for (i = 0; i < n; i++) {
		char ch = name[i];
		if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
		      (ch >= '0' && ch <= '9') || ch == '_' || ch == '.' ||
		      ch == '-'))
			return 0;
	}
	return 1;
}

struct foreign_list {
	struct proc **v; /* attached threads' processes */
	size_t n;        /* how many */
};

static void
collect_foreign(uint32_t id, struct proc *p, void *arg)
{
	struct foreign_list *l = arg;

	(void)id;
	if (p->ft != NULL && l->v != NULL)
		l->v[l->n++] = p;
}

void
proc_container_cleanup(straw_container *c)
{
	struct foreign_list l = {NULL, 0};
	size_t i;

	/* Attached threads: ended now (their calls return STRAW_ENOPROC). */
	l.v = straw_malloc((c->procs.len + 1) * sizeof(*l.v));
	if (l.v != NULL) {
		proc_table_each(&c->procs, collect_foreign, &l);
		for (i = 0; i < l.n; i++) {
			proc_set_exiting(l.v[i], proc_atom_shutdown);
			proc_die(l.v[i]);
		}
		straw_free(l.v);
	}
}

static void *
sched_thread(void *arg)
{
	straw_container *c = arg;
	struct strawi_sched_config cfg;
	straw_pid first;
	struct proc *p;
	int rc;

	proc_tls_container = c;
	memset(&cfg, 0, sizeof(cfg));
	cfg.stack_size = c->stack_size;
	cfg.on_exit = proc_on_exit;
	cfg.user_space = sizeof(struct proc); /* see proc_spawn */
	rc = strawi_sched_new(&cfg, &c->sched);
	if (rc == 0) {
		/* A stop that came before the scheduler existed takes effect
		 * now (see straw_container_stop). */
		atomic_store(&c->live, c->sched);
		if (atomic_load(&c->stop_status) >= 0)
			strawi_sched_stop(c->sched);
		rc = proc_spawn(c, NULL, c->main_fn, c->main_arg, NULL, &first);
		if (rc < 0) {
			strawi_sched_free(c->sched);
			c->sched = NULL;
		}
	}
	if (rc == 0 && c->ext != NULL) {
		rc = c->ext->start(c, c->ext_arg);
		if (rc < 0) {
			strawi_log(STRAWI_LOG_ERROR, "container %s: %s: %s",
			           c->name, c->ext->name, straw_strerror(rc));
			/* the first process has not run: end it quietly */
			c->stopping = 1;
			strawi_sched_free(c->sched);
			c->sched = NULL;
		}
	}
	c->start_rc = rc;
	if (rc < 0) {
		sem_post(&c->started);
		return NULL;
	}
	p = proc_table_get(&c->procs, first.process);
	p->is_first = 1;
	c->first_id = first.process;
	proc_reg_start(c);
	if (proc_watchdog_start(c) < 0)
		strawi_log(STRAWI_LOG_WARN,
		           "container %s: no long-run reporter", c->name);
	if (c->flags & STRAW_CONTAINER_LINGER)
		strawi_sched_hold(c->sched); /* runs until stopped */
	sem_post(&c->started);

	rc = strawi_sched_run(c->sched);
	proc_reg_idle(c);
	if (c->ext != NULL)
		c->ext->idle(c, c->ext_arg);
	if (rc < 0)
		strawi_log(STRAWI_LOG_ERROR, "container %s: scheduler: %s",
		           c->name, straw_strerror(rc));
	c->stopping = 1;
	proc_container_cleanup(c);
	if (c->ext != NULL)
		c->ext->stop(c, c->ext_arg);
	proc_close_posts(c);
	proc_watchdog_stop(c);
	strawi_sched_free(c->sched); /* ends the remaining processes */
	c->sched = NULL;
	proc_reg_sched_done(c);
	proc_timers_drop(c);
	proc_names_fini(c);
	proc_peers_fini(c);
	proc_table_fini(&c->procs);
	proc_map_fini(&c->monitors);
	proc_tls_container = NULL;
	return NULL;
}

int
strawi_container_start(const char *name, straw_proc_fn main_fn, void *arg,
                       const straw_container_opts *opts,
                       const struct strawi_container_ext *ext, void *ext_arg,
                       straw_container **out)
{
	straw_container_opts none = {0, 0, 0, 0};
	straw_container *c, *expect = NULL;
	const char *env;
	int rc;

	if (opts == NULL)
		opts = &none;
	if (!name_ok(name) || main_fn == NULL || out == NULL)
		return -EINVAL;
	if (opts->stack_size > STRAWI_STACK_MAX)
		return -EINVAL;
	if (ext != NULL && ext->version != STRAWI_CONTAINER_EXT_VERSION)
		return -EINVAL;
	rc = proc_atoms_init();
	if (rc < 0)
		return rc;
	/* Tube calls made by processes wait through the reactor. */
	proc_tube_waits_register();
	c = straw_calloc(1, sizeof(*c));
	if (c == NULL)
		return -ENOMEM;
	if (!atomic_compare_exchange_strong(&running, &expect, c)) {
		straw_free(c);
		return -EBUSY;
	}
	snprintf(c->name, sizeof(c->name), "%s", name);
	c->flags = opts->flags;
	env = getenv("STRAW_LOCAL");
	if (env != NULL && strcmp(env, "1") == 0)
		c->flags |= STRAW_CONTAINER_LOCAL;
	env = getenv("STRAW_AUTOSTART");
	if (env != NULL && strcmp(env, "0") == 0)
		c->flags |= STRAW_CONTAINER_NO_AUTOSTART;
	c->stack_size = opts->stack_size;
	c->ps_interval_ms = opts->ps_interval_ms;
	c->main_fn = main_fn;
	c->main_arg = arg;
	c->ext = ext;
	c->ext_arg = ext_arg;
	c->max_message = opts->max_message != 0 ? opts->max_message
	                                        : STRAW_MAX_MESSAGE_DEFAULT;
	atomic_init(&c->stop_status, -1);
	atomic_init(&c->live, NULL);
	atomic_init(&c->closed, 0);
	atomic_init(&c->inflight, 0);
	pthread_mutex_init(&c->attach_mu, NULL);
	pthread_cond_init(&c->attach_cv, NULL);
	proc_table_init(&c->procs);
	proc_map_init(&c->names);
	proc_map_init(&c->timers);
	proc_map_init(&c->monitors);
	proc_map_init(&c->peers);
	pthread_mutex_init(&c->names_mu, NULL);
	c->machine = strawi_node_self()->machine;
	if (c->flags & STRAW_CONTAINER_LOCAL) {
		c->id = 0x80000000u | ((uint32_t)getpid() & 0x7fffffffu);
	} else {
		rc = proc_reg_join(c);
		if (rc < 0)
			goto fail;
	}
	strawi_node_set_container(c->id, c->name);
	strawi_log_set_prefix(c->name);
	if (sem_init(&c->started, 0, 0) != 0) {
		rc = -errno;
		goto fail_reg;
	}
	/* Before the first process can run: it may raise them itself. */
	signals_install(c);
	rc = pthread_create(&c->thread, NULL, sched_thread, c);
	if (rc != 0) {
		rc = -rc;
		goto fail_signals;
	}
	while (sem_wait(&c->started) != 0)
		; /* EINTR */
	rc = c->start_rc;
	if (rc < 0) {
		pthread_join(c->thread, NULL);
		goto fail_signals;
	}
	*out = c;
	return 0;
fail_signals:
	signals_restore(c);
	sem_destroy(&c->started);
fail_reg:
	proc_reg_leave(c);
fail:
	strawi_node_set_container(0, NULL);
	pthread_mutex_destroy(&c->attach_mu);
	pthread_cond_destroy(&c->attach_cv);
	pthread_mutex_destroy(&c->names_mu);
	atomic_store(&running, NULL);
	straw_free(c);
	return rc;
}

int
straw_container_wait(straw_container *c)
{
	int status, stop;

	if (c == NULL)
		return -EINVAL;
	if (proc_tls_container == c ||
	    (proc_tls_foreign != NULL && proc_tls_foreign->c == c))
		return -EDEADLK; /* it would wait for itself */
	pthread_join(c->thread, NULL);
	signals_restore(c);
	pthread_mutex_lock(&c->attach_mu);
	while (c->attached > 0)
		pthread_cond_wait(&c->attach_cv, &c->attach_mu);
	pthread_mutex_unlock(&c->attach_mu);
	proc_reg_leave(c);
	stop = atomic_load(&c->stop_status);
	status = stop >= 0 ? stop : c->status;
	sem_destroy(&c->started);
	pthread_mutex_destroy(&c->attach_mu);
	pthread_cond_destroy(&c->attach_cv);
	pthread_mutex_destroy(&c->names_mu);
	strawi_node_set_container(0, NULL);
	atomic_store(&running, NULL);
	straw_free(c);
	return status;
}

void
straw_container_stop(straw_container *c, int status)
{
	int expect = -1;

	if (c == NULL)
		return;
	if (status < 0)
		status = 1;
	atomic_compare_exchange_strong(&c->stop_status, &expect, status);
	/* As a post: the scheduler is not freed while we touch it.  Closed
	 * means it is ending already. */
	atomic_fetch_add(&c->inflight, 1);
	if (!atomic_load(&c->closed)) {
		struct strawi_sched *s = atomic_load(&c->live);
		if (s != NULL)
			strawi_sched_stop(s);
	}
	atomic_fetch_sub(&c->inflight, 1);
}

straw_container *
straw_container_self(void)
{
	if (proc_tls_container != NULL)
		return proc_tls_container;
	return proc_tls_foreign != NULL ? proc_tls_foreign->c : NULL;
}

uint32_t
straw_container_id(const straw_container *c)
{
	return c->id;
}

uint64_t
straw_container_machine(const straw_container *c)
{
	return c->machine;
}

const char *
straw_container_name(const straw_container *c)
{
	return c->name;
}
