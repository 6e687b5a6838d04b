/*
 * The registry client's I/O thread, one per connection: it notices
 * hang-ups and reconnects, sends the asynchronous requests, reads what
 * strawd sends once asynchronous requests are in use (or
 * reg_client_event_fd was called), times requests out, and runs the
 * completion callbacks and the reconnection hooks.
 *
 * It never waits for a caller.  It only ever tries `mu`, and only when no
 * caller holds or awaits it (`calls`); otherwise it leaves the socket to
 * the call in progress - which reads and dispatches everything that
 * arrives, asynchronous answers included - and sleeps on the kick eventfd,
 * which the call writes when it releases `mu` (`io_wants`, a Dekker pair
 * with `calls`).  While it sleeps it holds no lock.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <unistd.h>

#include "base/base.h"
#include "base/clock.h"
#include "client_int.h"

void
reg_client_lock(straw_reg *r)
{
	atomic_fetch_add(&r->calls, 1);
	pthread_mutex_lock(&r->mu);
}

void
reg_client_unlock(straw_reg *r)
{
	pthread_mutex_unlock(&r->mu);
	atomic_fetch_sub(&r->calls, 1);
	if (atomic_load(&r->io_wants) && atomic_exchange(&r->io_wants, 0))
		reg_client_kick(r->kickfd);
}

/* Takes mu for the I/O thread if no caller holds or awaits it: 1, else 0
 * (io_wants is then set, so the caller's release kicks the thread). */
static int
io_trylock(straw_reg *r)
{
	if (atomic_load(&r->calls) == 0 && pthread_mutex_trylock(&r->mu) == 0)
		return 1;
	atomic_store(&r->io_wants, 1);
	/* A caller may have released mu before it could see io_wants. */
	if (atomic_load(&r->calls) == 0 && pthread_mutex_trylock(&r->mu) == 0) {
		atomic_store(&r->io_wants, 0);
		return 1;
	}
	return 0;
}

static void
drain(int fd)
{
	uint8_t buf[4096];

	while (read(fd, buf, sizeof(buf)) > 0)
		;
}

static int
ms_until(int64_t when)
{
	int64_t left;

	if (when == INT64_MAX)
		return -1;
	left = (when - strawi_now_ns() + 999999) / 1000000;
	if (left < 0)
		return 0;
	return left > INT_MAX ? INT_MAX : (int)left;
}

static int64_t
min64(int64_t a, int64_t b)
{
	return a < b ? a : b;
}

/* What one turn of the loop found under mu. */
struct io_turn {
	int have_mu;  /* mu was free */
	int stop;     /* straw_reg_close began */
	int fd;       /* the socket, -1 when disconnected */
	uint64_t gen; /* its connection number */
	short events; /* what to poll it for */
	int hooks;    /* the hooks are due for gen */
};

/* Reconnects (one attempt), sends, reads: everything done under mu. */
static void
io_work(straw_reg *r, struct io_turn *t, int64_t *next_try)
{
	int64_t now = strawi_now_ns();

	if (r->stopping) {
		t->stop = 1;
		return;
	}
	if (r->fd < 0 && now >= *next_try) {
		(void)reg_client_attempt(r, strawi_deadline_ms(200));
		*next_try = now + (int64_t)REG_RETRY_MS * 1000000;
	}
	if (r->fd >= 0 && reg_async_send(r) == 0 && atomic_load(&r->io_reads))
		(void)reg_client_pump(r);
	t->fd = r->fd;
	t->gen = atomic_load(&r->gen);
	if (t->fd < 0)
		return;
	/* Hang-ups are always reported; input only when we read it. */
	t->events = atomic_load(&r->io_reads) ? POLLIN : 0;
	pthread_mutex_lock(&r->amu);
	if (r->a_blocked)
		t->events |= POLLOUT;
	pthread_mutex_unlock(&r->amu);
	if (t->gen > 1 && r->hook_gen != t->gen) {
		r->hook_gen = t->gen;
		t->hooks = 1;
	}
}

/* Sends what is queued, for REG_CLOSE_FLUSH_MS at most (closing). */
static void
io_flush(straw_reg *r)
{
	int64_t deadline = strawi_deadline_ms(REG_CLOSE_FLUSH_MS);

	while (reg_async_have(r, 0) && strawi_now_ns() < deadline) {
		struct pollfd p;
		int blocked;

		pthread_mutex_lock(&r->mu);
		if (r->fd < 0 || reg_async_send(r) < 0) {
			pthread_mutex_unlock(&r->mu);
			break;
		}
		(void)reg_client_pump(r); /* so that strawd can write */
		pthread_mutex_lock(&r->amu);
		blocked = r->a_blocked;
		pthread_mutex_unlock(&r->amu);
		p.fd = r->fd;
		pthread_mutex_unlock(&r->mu);
		if (!blocked || p.fd < 0)
			continue;
		p.events = POLLIN | POLLOUT;
		(void)poll(&p, 1, ms_until(deadline));
	}
}

static void *
io_main(void *arg)
{
	straw_reg *r = arg;
	int64_t next_try = 0;
	sigset_t all;
	int infd = -1;

	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, NULL);
	for (;;) {
		struct io_turn t = {0, 0, -1, 0, 0, 0};
		struct pollfd p[2];
		int64_t wake;
		int n = 0;

		reg_async_run_callbacks(r);
		t.have_mu = io_trylock(r);
		if (t.have_mu) {
			io_work(r, &t, &next_try);
			pthread_mutex_unlock(&r->mu);
		}
		if (t.stop)
			break;
		if (t.hooks) {
			reg_client_run_hooks(r, t.gen);
			continue;
		}
		wake = reg_async_expire(r, strawi_now_ns());
		if (reg_async_have(r, 1))
			continue;
		p[n].fd = r->kickfd;
		p[n].events = POLLIN;
		n++;
		if (!t.have_mu) {
			/* The caller kicks us when done; the timeout is a
			 * safety net only. */
			wake = min64(wake, strawi_deadline_ms(1000));
		} else if (t.fd >= 0) {
			p[n].fd = t.fd;
			p[n].events = t.events;
			n++;
		} else {
			/* Disconnected: try again when a socket appears in
			 * the directory, and every REG_RETRY_MS (at most one
			 * autostart a second, see attempt). */
			if (infd < 0)
				infd = reg_client_watch_dir(r);
			if (infd >= 0) {
				p[n].fd = infd;
				p[n].events = POLLIN;
				n++;
			}
			wake = min64(wake, next_try);
		}
		if (poll(p, (nfds_t)n, ms_until(wake)) <= 0)
			continue;
		if (p[0].revents & POLLIN)
			drain(r->kickfd);
		if (n < 2 || p[1].revents == 0)
			continue;
		if (p[1].fd == infd) {
			drain(infd);
			next_try = 0; /* something appeared: try at once */
			continue;
		}
		/* With POLLIN asked, the next read sees the end itself. */
		if ((p[1].revents & (POLLHUP | POLLERR | POLLNVAL)) &&
		    !(p[1].revents & POLLIN) && io_trylock(r)) {
			if (r->fd == t.fd && atomic_load(&r->gen) == t.gen)
				reg_client_disconnect(r);
			pthread_mutex_unlock(&r->mu);
		}
	}
	io_flush(r);
	reg_async_cancel_all(r, -ECANCELED);
	reg_async_run_callbacks(r);
	if (infd >= 0)
		close(infd);
	return NULL;
}

int
reg_client_io_start(straw_reg *r)
{
	int rc = pthread_create(&r->monitor, NULL, io_main, r);

	if (rc != 0)
		return -rc;
	r->monitor_started = 1;
	return 0;
}

void
reg_client_io_stop(straw_reg *r)
{
	if (!r->monitor_started)
		return;
	pthread_mutex_lock(&r->amu);
	r->a_closing = 1;
	pthread_mutex_unlock(&r->amu);
	reg_client_lock(r);
	r->stopping = 1;
	reg_client_unlock(r);
	reg_client_kick(r->kickfd);
	pthread_join(r->monitor, NULL);
	r->monitor_started = 0;
}
