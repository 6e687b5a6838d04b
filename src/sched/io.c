/*
 * src/sched/io.c - blocking fd calls that yield: inside a coroutine they
 * wait through the reactor, elsewhere they wait in poll(2).  Also the
 * public straw_fd_read & co. (include/straw/io.h).
 */
#define _GNU_SOURCE 1
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sys/epoll.h>
#include <unistd.h>

#include <straw/io.h>

#include "sched/sched_int.h"

_Static_assert(POLLIN == EPOLLIN && POLLOUT == EPOLLOUT &&
                       POLLPRI == EPOLLPRI && POLLERR == EPOLLERR &&
                       POLLHUP == EPOLLHUP,
               "poll and epoll bits differ");

static int
set_nonblock(int fd)
{
	int fl = fcntl(fd, F_GETFL);

	if (fl < 0)
		return -errno;
	if (!(fl & O_NONBLOCK) && fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0)
		return -errno;
	return 0;
}

ssize_t
strawi_read(int fd, void *buf, size_t n, int64_t deadline)
{
	int rc = set_nonblock(fd);

	if (rc < 0)
		return rc;
	for (;;) {
		ssize_t r = read(fd, buf, n);

		if (r >= 0)
			return r;
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN && errno != EWOULDBLOCK)
			return -errno;
		rc = strawi_wait_fd(fd, EPOLLIN, deadline);
		if (rc < 0)
			return rc;
	}
}

ssize_t
strawi_write(int fd, const void *buf, size_t n, int64_t deadline)
{
	const char *p = buf;
	size_t done = 0;
	int rc = set_nonblock(fd);

	if (rc < 0)
		return rc;
	while (done < n || n == 0) {
		ssize_t r = write(fd, p + done, n - done);

		if (r >= 0) {
			done += (size_t)r;
			if (n == 0)
				break;
			continue;
		}
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN && errno != EWOULDBLOCK)
			return done > 0 ? (ssize_t)done : -errno;
		rc = strawi_wait_fd(fd, EPOLLOUT, deadline);
		if (rc < 0)
			return done > 0 ? (ssize_t)done : rc;
	}
	return (ssize_t)done;
}

int
strawi_accept(int fd, struct sockaddr *addr, socklen_t *len, int flags,
              int64_t deadline)
{
	int rc = set_nonblock(fd);

	if (rc < 0)
		return rc;
	for (;;) {
		int c = accept4(fd, addr, len, flags);

		if (c >= 0)
			return c;
		if (errno == EINTR || errno == ECONNABORTED)
			continue;
		if (errno != EAGAIN && errno != EWOULDBLOCK)
			return -errno;
		rc = strawi_wait_fd(fd, EPOLLIN, deadline);
		if (rc < 0)
			return rc;
	}
}

int
strawi_connect(int fd, const struct sockaddr *addr, socklen_t len,
               int64_t deadline)
{
	int rc = set_nonblock(fd), err = 0;
	socklen_t elen = sizeof(err);

	if (rc < 0)
		return rc;
	if (connect(fd, addr, len) == 0)
		return 0;
	if (errno != EINPROGRESS && errno != EINTR)
		return -errno;
	rc = strawi_wait_fd(fd, EPOLLOUT, deadline);
	if (rc < 0)
		return rc;
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &elen) < 0)
		return -errno;
	return -err;
}

/* ---- public wrappers ---------------------------------------------------- */

ssize_t
straw_fd_read(int fd, void *buf, size_t n, int timeout_ms)
{
	return strawi_read(fd, buf, n, strawi_deadline_ms(timeout_ms));
}

ssize_t
straw_fd_write(int fd, const void *buf, size_t n, int timeout_ms)
{
	return strawi_write(fd, buf, n, strawi_deadline_ms(timeout_ms));
}

int
straw_fd_accept(int fd, struct sockaddr *addr, socklen_t *len, int flags,
                int timeout_ms)
{
	return strawi_accept(fd, addr, len, flags,
	                     strawi_deadline_ms(timeout_ms));
}

int
straw_fd_connect(int fd, const struct sockaddr *addr, socklen_t len,
                 int timeout_ms)
{
	return strawi_connect(fd, addr, len, strawi_deadline_ms(timeout_ms));
}

int
straw_fd_wait(int fd, short events, int timeout_ms)
{
	return strawi_wait_fd(fd, (uint32_t)(unsigned short)events,
	                      strawi_deadline_ms(timeout_ms));
}

int
straw_fd_close(int fd)
{
	return strawi_close(fd);
}

int
straw_in_process(void)
{
	return strawi_coro_self() != NULL;
}
