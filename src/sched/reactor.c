/*
 * src/sched/reactor.c - the epoll reactor: watches (callbacks for fds the
 * runtime owns) and coroutines waiting for fd readiness.
 *
 * A waiting coroutine registers its fd one-shot (EPOLLONESHOT), trying
 * EPOLL_CTL_MOD first and EPOLL_CTL_ADD when the kernel does not know the
 * fd: a registration dies with the file, and an fd number reused for
 * another file is a new key, so nothing has to be unregistered when a
 * program closes an fd.  The epoll data carries the fd number and a
 * generation, so an event for a registration nobody waits on any more is
 * recognised and dropped.  At most one coroutine waits per fd and
 * direction (read, write).
 */
#define _GNU_SOURCE 1
#include <errno.h>
#include <poll.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "sched/sched_int.h"

#define EVENTS_PER_POLL 256
#define RD_EVENTS       (EPOLLIN | EPOLLPRI | EPOLLRDHUP)
#define WR_EVENTS       (EPOLLOUT)
#define ERR_EVENTS      (EPOLLERR | EPOLLHUP)

/* The eventfd that other threads write to. */
static void
efd_ready(struct strawi_sched *s)
{
	uint64_t v;

	while (read(s->efd, &v, sizeof(v)) < 0 && errno == EINTR)
		;
	strawi_sched_drain_remote(s);
}

/* Tag of the eventfd's registration (watches are aligned pointers, fd
 * waits have bit 0 set). */
#define EFD_TAG 2u

int
strawi_reactor_init(struct strawi_sched *s)
{
	struct epoll_event ev;

	s->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (s->epfd < 0)
		return -errno;
	s->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (s->efd < 0)
		return -errno;
	memset(&ev, 0, sizeof(ev));
	ev.events = EPOLLIN;
	ev.data.u64 = EFD_TAG;
	if (epoll_ctl(s->epfd, EPOLL_CTL_ADD, s->efd, &ev) < 0)
		return -errno;
	s->have_pwait2 = 1;
	return 0;
}

void
strawi_reactor_fini(struct strawi_sched *s)
{
	if (s->epfd >= 0)
		close(s->epfd);
	if (s->efd >= 0)
		close(s->efd);
	s->epfd = s->efd = -1;
	straw_free(s->fds);
	s->fds = NULL;
	s->nfds = 0;
}

/* ---- watches ------------------------------------------------------------ */

int
strawi_watch_add(struct strawi_sched *s, struct strawi_watch *w)
{
	struct epoll_event ev;

	memset(&ev, 0, sizeof(ev));
	ev.events = w->events;
	ev.data.ptr = w;
	if (epoll_ctl(s->epfd, EPOLL_CTL_ADD, w->fd, &ev) < 0)
		return -errno;
	s->watches++;
	return 0;
}

int
strawi_watch_mod(struct strawi_sched *s, struct strawi_watch *w,
                 uint32_t events)
{
	struct epoll_event ev;

	memset(&ev, 0, sizeof(ev));
	ev.events = events;
	ev.data.ptr = w;
	if (epoll_ctl(s->epfd, EPOLL_CTL_MOD, w->fd, &ev) < 0)
		return -errno;
	w->events = events;
	return 0;
}

int
strawi_watch_del(struct strawi_sched *s, struct strawi_watch *w)
{
	struct epoll_event ev;
	int i;

	memset(&ev, 0, sizeof(ev));

	if (epoll_ctl(s->epfd, EPOLL_CTL_DEL, w->fd, &ev) < 0)
		return -errno;
	/* Events of w still in the batch being dispatched are dropped, so w
	 * may be freed as soon as this returns. */
	for (i = 0; i < s->poll_n; i++)
		if (s->poll_evs[i].data.ptr == w)
			s->poll_evs[i].data.u64 = 0;
	STRAWI_ASSERT(s->watches > 0);
	s->watches--;
	return 0;
}

/* ---- fd waits ----------------------------------------------------------- */

static struct strawi_fd_slot *
fd_slot(struct strawi_sched *s, int fd)
{
	if (fd >= s->nfds) {
		int n = s->nfds ? s->nfds : 64;
		struct strawi_fd_slot *f;

		while (n <= fd)
			n *= 2;
		f = straw_realloc(s->fds, (size_t)n * sizeof(*f));
		if (f == NULL)
			return NULL;
		memset(f + s->nfds, 0, (size_t)(n - s->nfds) * sizeof(*f));
		s->fds = f;
		s->nfds = n;
	}
	return &s->fds[fd];
}

/* (Re)arms fd's one-shot registration for the slot's waiters. */
static int
fd_arm(struct strawi_sched *s, int fd, struct strawi_fd_slot *slot)
{
	struct epoll_event ev;

	memset(&ev, 0, sizeof(ev));
	ev.events = EPOLLONESHOT | (slot->rd ? RD_EVENTS : 0) |
	            (slot->wr ? WR_EVENTS : 0);
	ev.data.u64 = ((uint64_t)slot->seq << 32) | ((uint64_t)fd << 1) | 1;
	if (epoll_ctl(s->epfd, EPOLL_CTL_MOD, fd, &ev) == 0)
		return 0;
	if (errno != ENOENT)
		return -errno;
	if (epoll_ctl(s->epfd, EPOLL_CTL_ADD, fd, &ev) == 0)
		return 0;
	return -errno;
}

void
strawi_reactor_unwait(struct strawi_sched *s, struct strawi_coro *c)
{
	struct strawi_fd_slot *slot = &s->fds[c->wait_fd];

	if (slot->rd == c)
		slot->rd = NULL;
	if (slot->wr == c)
		slot->wr = NULL;
	c->wait_fd = -1;
	s->fd_waits--;
	/* A registration nobody waits on stays armed until it fires; its
	 * event is then dropped (no waiter).  Re-arm for one that remains
	 * so the union of interests is not narrowed. */
}

/* The events a waiter for ev hears about. */
static inline uint32_t
wanted(uint32_t ev)
{
	return (ev & (RD_EVENTS | WR_EVENTS)) | ERR_EVENTS |
	       ((ev & EPOLLIN) ? (uint32_t)(EPOLLRDHUP | EPOLLPRI) : 0);
}

static void
fd_event(struct strawi_sched *s, int fd, uint32_t seq, uint32_t revents)
{
	struct strawi_fd_slot *slot;
	struct strawi_coro *c;

	if (fd >= s->nfds)
		return;
	slot = &s->fds[fd];
	if (slot->seq != seq)
		return; /* a registration from an earlier generation */
	if ((c = slot->rd) != NULL && (revents & (RD_EVENTS | ERR_EVENTS))) {
		strawi_reactor_unwait(s, c);
		c->park_result = (int)(revents & wanted(c->wait_events));
		strawi_coro_make_runnable(s, c);
	}
	if ((c = slot->wr) != NULL && (revents & (WR_EVENTS | ERR_EVENTS))) {
		strawi_reactor_unwait(s, c);
		c->park_result = (int)(revents & wanted(c->wait_events));
		strawi_coro_make_runnable(s, c);
	}
	if (slot->rd != NULL || slot->wr != NULL) {
		/* The one-shot registration fired for the other direction. */
		if (fd_arm(s, fd, slot) < 0) {
			/* can't happen unless the fd went away: wake them */
			if ((c = slot->rd) != NULL) {
				strawi_reactor_unwait(s, c);
				c->park_result = EPOLLERR;
				strawi_coro_make_runnable(s, c);
			}
			if ((c = slot->wr) != NULL) {
				strawi_reactor_unwait(s, c);
				c->park_result = EPOLLERR;
				strawi_coro_make_runnable(s, c);
			}
		}
	}
}

int
strawi_close(int fd)
{
	struct strawi_sched *s = strawi_tls_sched;

	if (s != NULL && fd >= 0 && fd < s->nfds) {
		struct strawi_fd_slot *slot = &s->fds[fd];
		struct strawi_coro *c;

		while ((c = slot->rd != NULL ? slot->rd : slot->wr) != NULL) {
			strawi_reactor_unwait(s, c);
			c->park_result = EPOLLERR | EPOLLHUP;
			strawi_coro_make_runnable(s, c);
		}
		slot->seq++; /* events of the old registration are stale */
	}
	if (close(fd) < 0 && errno != EINTR)
		return -errno;
	return 0;
}

/* poll(2) for a thread without a running scheduler, or a deadline now. */
static int
wait_fd_blocking(int fd, uint32_t events, int64_t deadline)
{
	struct pollfd p;
	int timeout, rc;
	int64_t now;

	for (;;) {
		p.fd = fd;
		p.events = (short)(((events & EPOLLIN) ? POLLIN : 0) |
		                   ((events & EPOLLOUT) ? POLLOUT : 0) |
		                   ((events & EPOLLPRI) ? POLLPRI : 0));
		p.revents = 0;
		if (deadline == STRAWI_FOREVER) {
			timeout = -1;
		} else {
			now = strawi_now_ns();
			if (deadline <= now) {
				timeout = 0;
			} else {
				int64_t ms =
				        (deadline - now + 999999) / 1000000;
				timeout = ms > 1000000 ? 1000000 : (int)ms;
			}
		}
		rc = poll(&p, 1, timeout);
		if (rc < 0 && errno == EINTR)
			continue;
		if (rc < 0)
			return -errno;
		if (rc > 0) {
			uint32_t r = 0;

			if (p.revents & POLLNVAL)
				return -EBADF;
			r |= (p.revents & POLLIN) ? EPOLLIN : 0;
			r |= (p.revents & POLLOUT) ? EPOLLOUT : 0;
			r |= (p.revents & POLLPRI) ? EPOLLPRI : 0;
			r |= (p.revents & POLLERR) ? EPOLLERR : 0;
			r |= (p.revents & POLLHUP) ? EPOLLHUP : 0;
			return (int)r;
		}
		if (timeout >= 0 && deadline != STRAWI_FOREVER &&
		    strawi_now_ns() >= deadline)
			return -ETIMEDOUT;
	}
}

int
strawi_wait_fd(int fd, uint32_t events, int64_t deadline)
{
	struct strawi_sched *s = strawi_tls_sched;
	struct strawi_coro *c = s != NULL ? s->current : NULL;
	struct strawi_fd_slot *slot;
	int rc;

	if (fd < 0)
		return -EBADF;
	if ((events & (RD_EVENTS | WR_EVENTS)) == 0)
		return -EINVAL;
	if (c == NULL ||
	    (deadline != STRAWI_FOREVER && deadline <= strawi_now_ns()))
		return wait_fd_blocking(fd, events, deadline);
	slot = fd_slot(s, fd);
	if (slot == NULL)
		return -ENOMEM;
	if (((events & RD_EVENTS) && slot->rd != NULL) ||
	    ((events & WR_EVENTS) && slot->wr != NULL))
		return -EBUSY;
	if (slot->rd == NULL && slot->wr == NULL)
		slot->seq++;
	if (events & RD_EVENTS)
		slot->rd = c;
	if (events & WR_EVENTS)
		slot->wr = c;
	rc = fd_arm(s, fd, slot);
	if (rc < 0) {
		if (slot->rd == c)
			slot->rd = NULL;
		if (slot->wr == c)
			slot->wr = NULL;
		if (rc == -EPERM) /* regular file: always ready */
			return (int)(events & (RD_EVENTS | WR_EVENTS));
		return rc;
	}
	c->wait_fd = fd;
	c->wait_events = events;
	s->fd_waits++;
	rc = strawi_park_internal(c, deadline);
	if (c->wait_fd >= 0) /* -ENOMEM: the deadline timer was not added */
		strawi_reactor_unwait(s, c);
	return rc;
}

/* ---- polling ------------------------------------------------------------ */

void
strawi_reactor_poll(struct strawi_sched *s, int64_t deadline)
{
	struct epoll_event evs[EVENTS_PER_POLL];
	int n, i;

	s->stats.polls++;
	if (deadline == 0) {
		n = epoll_wait(s->epfd, evs, EVENTS_PER_POLL, 0);
	} else if (deadline == STRAWI_FOREVER) {
		n = epoll_wait(s->epfd, evs, EVENTS_PER_POLL, -1);
	} else {
		int64_t now = strawi_now_ns(), d = deadline - now;
		struct timespec ts;

		if (d < 0)
			d = 0;
		ts.tv_sec = d / 1000000000;
		ts.tv_nsec = d % 1000000000;
		n = -1;
		errno = ENOSYS;
		if (s->have_pwait2)
			n = epoll_pwait2(s->epfd, evs, EVENTS_PER_POLL, &ts,
			                 NULL);
		if (n < 0 && errno == ENOSYS) {
			int64_t ms = (d + 999999) / 1000000;

			s->have_pwait2 = 0;
			n = epoll_wait(s->epfd, evs, EVENTS_PER_POLL,
			               ms > 1000000000 ? 1000000000 : (int)ms);
		}
	}
	if (n < 0)
		return; /* EINTR: the loop comes back */
	s->poll_evs = evs;
	s->poll_n = n;
	for (i = 0; i < n; i++) {
		uint64_t d = evs[i].data.u64;

		if (d == 0) {
			continue; /* its watch was deleted meanwhile */
		} else if (d & 1) {
			fd_event(s, (int)((d >> 1) & 0x7fffffff),
			         (uint32_t)(d >> 32), evs[i].events);
		} else if (d == EFD_TAG) {
			efd_ready(s);
		} else {
			struct strawi_watch *w = evs[i].data.ptr;

			w->cb(w, evs[i].events);
		}
	}
	s->poll_evs = NULL;
	s->poll_n = 0;
}
