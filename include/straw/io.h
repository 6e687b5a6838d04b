/*
 * straw/io.h - the yielding fd calls of a straw process: straw_fd_read,
 * straw_fd_write, straw_fd_accept, straw_fd_connect, straw_fd_wait and
 * straw_fd_close.
 *
 * A straw process is a coroutine of its container's scheduler thread, so a
 * plain read(2) on an empty pipe would stop every process of the
 * container.  These calls behave like their namesakes but, inside a
 * process, wait through the container's epoll reactor and let the other
 * processes run meanwhile.  Outside a process (any other thread) they
 * simply block that thread in poll(2).  Any thread may call them.
 *
 * Timeouts are in milliseconds: 0 only tries (and polls readiness once),
 * a negative value waits without end.  Errors are negative: -errno of the
 * underlying call, or -ETIMEDOUT when the time ran out first.  The
 * calls set O_NONBLOCK on the fd (it stays set on the open file
 * description, which other holders of the file share).  At most one process
 * may wait per fd and direction (reading, writing); a second gets -EBUSY.
 */
#ifndef STRAW_IO_H
#define STRAW_IO_H

#include <sys/socket.h>
#include <sys/types.h>

#include <straw/export.h>

#ifdef __cplusplus
extern "C" {
#endif

/*
 * Reads up to n bytes into buf, waiting until some are available, the
 * other end closed (returns 0) or the timeout.  Returns the count read or
 * a negative code; on a timeout nothing was read.
 */
STRAW_API ssize_t straw_fd_read(int fd, void *buf, size_t n, int timeout_ms);

/*
 * Writes all n bytes of buf, waiting for room as needed.  Returns n; or,
 * when an error or the timeout stops it, the bytes written before if any,
 * else the negative code (-EPIPE, -ETIMEDOUT, ...).
 */
STRAW_API ssize_t straw_fd_write(int fd, const void *buf, size_t n,
                                 int timeout_ms);

/*
 * Accepts a connection on a listening socket, like accept4(2) with flags
 * (SOCK_CLOEXEC, SOCK_NONBLOCK).  Returns the new fd, owned by the caller,
 * or a negative code (nothing accepted).
 */
STRAW_API int straw_fd_accept(int fd, struct sockaddr *addr, socklen_t *len,
                              int flags, int timeout_ms);

/*
 * Connects a socket, waiting for the connection to complete.  Returns 0 or
 * a negative code (-ECONNREFUSED, ...); after -ETIMEDOUT the socket may
 * still be connecting: close it.
 */
STRAW_API int straw_fd_connect(int fd, const struct sockaddr *addr,
                               socklen_t len, int timeout_ms);

/*
 * Waits until fd is ready for events (POLLIN, POLLOUT from <poll.h>).
 * Returns the ready POLL* bits (> 0; POLLERR and POLLHUP may be among
 * them; readiness may be spurious, so the next non-blocking call can still
 * say EAGAIN), or a negative code: -ETIMEDOUT, -EBUSY (another process
 * waits on fd in that direction), -EINVAL (no POLLIN/POLLOUT asked), -EBADF.
 * A regular file is always ready.
 */
STRAW_API int straw_fd_wait(int fd, short events, int timeout_ms);

/*
 * Closes fd like close(2), first waking the processes of the caller's
 * container that wait on it in these calls: they return -EBADF (or what
 * their call gives on a closed fd) instead of waiting on.  Use it instead
 * of close(2) for fds other processes may be waiting on.  Returns 0 or
 * -errno.  Any thread.
 */
STRAW_API int straw_fd_close(int fd);

/* Whether the caller runs inside a straw process (a coroutine).  Any
 * thread. */
STRAW_API int straw_in_process(void);

#ifdef __cplusplus
}
#endif
#endif /* STRAW_IO_H */
