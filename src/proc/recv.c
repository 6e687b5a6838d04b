/*
 * Receive: the next message or a selected one, with a timeout; sleep,
 * yield, send_after timers and the mailbox length.
 */
#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <string.h>
#include <unistd.h>

#include <straw/term.h>

#include "base/base.h"
#include "base/clock.h"
#include "proc/etf_proc.h"
#include "proc/proc.h"

static int64_t
deadline_of(int timeout_ms)
{
	if (timeout_ms < 0)
		return STRAWI_FOREVER;
	return strawi_now_ns() + (int64_t)timeout_ms * 1000000;
}

/* A process's receive: scans the mailbox from *link on, parks for more. */
static int
proc_receive(struct proc *p, straw_msg **out, int timeout_ms,
             straw_msg_pred pred, void *arg)
{
	straw_msg **link = &p->mbox.head;
	int64_t deadline = 0;
	int timed_out = 0, rc;

	for (;;) {
		straw_msg *m;
		while ((m = *link) != NULL) {
			if (pred == NULL || pred(m, arg)) {
				*out = proc_fifo_remove(&p->mbox, link);
				proc_msg_own(p, *out);
				p->received++;
				return 0;
			}
			link = &m->next;
		}
		if (timeout_ms == 0 || timed_out)
			return -ETIMEDOUT;
		if (deadline == 0)
			deadline = deadline_of(timeout_ms);
		p->waiting = 1;
		p->budget = 0;
		rc = strawi_park(deadline);
		p->waiting = 0;
		if (rc == -ENOMEM) /* no room for the timeout's timer */
			return rc;
		timed_out = rc == -ETIMEDOUT;
	}
}

/* An attached thread's receive: the same under its mutex, waiting in
 * poll(2) on its eventfd. */
static int
foreign_receive(struct proc *p, straw_msg **out, int timeout_ms,
                straw_msg_pred pred, void *arg)
{
	struct proc_foreign *ft = p->ft;
	int64_t deadline = timeout_ms > 0 ? deadline_of(timeout_ms) : 0;
	size_t seen = 0; /* messages scanned already */
	uint64_t v;
	int rc;

	pthread_mutex_lock(&ft->mu);
	for (;;) {
		straw_msg **link = &p->mbox.head, *m;
		size_t i = 0;
		struct pollfd pfd;
		int wait_ms;

		if (p->life != PROC_ALIVE) {
			rc = STRAW_ENOPROC;
			break;
		}
		while ((m = *link) != NULL) {
			if (i++ >= seen && (pred == NULL || pred(m, arg))) {
				*out = proc_fifo_remove(&p->mbox, link);
				p->received++;
				rc = 0;
				goto done;
			}
			link = &m->next;
		}
		seen = p->mbox.len;
		if (timeout_ms == 0) {
			rc = -ETIMEDOUT;
			break;
		}
		if (timeout_ms < 0) {
			wait_ms = -1;
		} else {
			int64_t left = deadline - strawi_now_ns();
			if (left <= 0) {
				rc = -ETIMEDOUT;
				break;
			}
			wait_ms = (int)((left + 999999) / 1000000);
		}
		ft->waiting = 1;
		if (read(ft->efd, &v, sizeof(v)) < 0) {
			/* EAGAIN: nothing to reset */
		}
		pthread_mutex_unlock(&ft->mu);
		pfd.fd = ft->efd;
		pfd.events = POLLIN;
		pfd.revents = 0;
		(void)poll(&pfd, 1, wait_ms);
		pthread_mutex_lock(&ft->mu);
		ft->waiting = 0;
	}
done:
	/* Readable while mail waits, not otherwise. */
	if (read(ft->efd, &v, sizeof(v)) < 0) {
		/* EAGAIN: it was not readable */
	}
	if (p->mbox.len > 0) {
		v = 1;
		if (write(ft->efd, &v, sizeof(v)) < 0) {
			/* cannot fail short of a counter overflow */
		}
	}
	pthread_mutex_unlock(&ft->mu);
	return rc;
}

static int
receive_common(straw_msg **out, int timeout_ms, straw_msg_pred pred, void *arg)
{
	struct proc *p = proc_current();

	if (out == NULL)
		return -EINVAL;
	if (likely(p != NULL))
		return proc_receive(p, out, timeout_ms, pred, arg);
	if (proc_tls_foreign != NULL)
		return foreign_receive(proc_tls_foreign, out, timeout_ms, pred,
		                       arg);
	return STRAW_ENOTCONTAINER;
}

int
straw_receive(straw_msg **out, int timeout_ms)
{
	return receive_common(out, timeout_ms, NULL, NULL);
}

int
straw_receive_if(straw_msg **out, int timeout_ms, straw_msg_pred pred,
                 void *arg)
{
	if (pred == NULL)
		return -EINVAL;
	return receive_common(out, timeout_ms, pred, arg);
}

struct match_arg {
	const char *pattern; /* the pattern */
	int err;             /* first error of the matcher */
};

static int
match_pred(const straw_msg *m, void *arg)
{
	struct match_arg *a = arg;
	int rc;

	if (a->err < 0)
		return 1; /* stop scanning: the pattern is bad */
	rc = straw_term_match(m->data, m->len, a->pattern);
	if (rc < 0 && rc != STRAW_EBADTERM) {
		a->err = rc;
		return 1;
	}
	return rc == 1;
}

int
straw_receive_match(straw_msg **out, int timeout_ms, const char *pattern)
{
	struct match_arg a = {pattern, 0};
	straw_msg *m = NULL;
	int rc;

	if (pattern == NULL || out == NULL || strchr(pattern, '~') != NULL)
		return -EINVAL; /* captures: straw_receivef */
	/* Check the pattern once against a harmless term first, so a bad
	 * pattern fails even with an empty mailbox. */
	{
		static const uint8_t nil[] = {131, 106};
		rc = straw_term_match(nil, sizeof(nil), pattern);
		if (rc < 0)
			return rc;
	}
	rc = receive_common(&m, timeout_ms, match_pred, &a);
	if (rc == 0 && a.err < 0) {
		/* cannot happen after the check above; keep the message */
		straw_msg_unref(m);
		return a.err;
	}
	if (rc == 0)
		*out = m;
	return rc;
}

long
straw_mailbox_len(void)
{
	struct proc *p = proc_current();
	long n;

	if (p != NULL)
		return (long)p->mbox.len;
	p = proc_tls_foreign;
	if (p == NULL)
		return STRAW_ENOTCONTAINER;
	pthread_mutex_lock(&p->ft->mu);
	n = (long)p->mbox.len;
	pthread_mutex_unlock(&p->ft->mu);
	return n;
}

int
straw_yield(void)
{
	if (proc_current() != NULL) {
		strawi_yield();
		return 0;
	}
	return proc_tls_foreign != NULL ? 0 : STRAW_ENOTCONTAINER;
}

int
straw_sleep(int ms)
{
	struct proc *p = proc_current();
	int64_t deadline;
	int rc;

	if (p == NULL) {
		struct timespec ts;
		if (proc_tls_foreign == NULL)
			return STRAW_ENOTCONTAINER;
		if (ms <= 0)
			return 0;
		ts.tv_sec = ms / 1000;
		ts.tv_nsec = (long)(ms % 1000) * 1000000;
		while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
			;
		return 0;
	}
	if (ms < 0)
		deadline = STRAWI_FOREVER;
	else
		deadline = strawi_now_ns() + (int64_t)ms * 1000000;
	p->sleeping = 1;
	do {
		rc = strawi_park(deadline);
	} while (rc == 0);
	p->sleeping = 0;
	return rc == -ETIMEDOUT ? 0 : rc; /* -ENOMEM */
}
