/* src/sched/io_test.c - fd waits and yielding I/O from coroutines. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <straw/io.h>

#include "sched/sched.h"
#include "testing/check.h"

static struct strawi_sched *S;
static int pfd[2];
static int log_[16], nlog;

enum { TOTAL = 200000 };

static long written_total, read_total;
static unsigned char
pattern(long i)
{
	return (unsigned char)(i * 7 + 3);
}

static int reader_ok = 1;

static void
pattern_reader(void *arg)
{
	char buf[3000];

	(void)arg;
	for (;;) {
		ssize_t n = strawi_read(pfd[0], buf, sizeof(buf),
		                        STRAWI_FOREVER),
		        i;
		if (n <= 0) {
			log_[nlog++] = (int)n;
			return;
		}
		for (i = 0; i < n; i++)
			if ((unsigned char)buf[i] != pattern(read_total + i))
				reader_ok = 0;
		read_total += n;
	}
}

static void
pattern_writer(void *arg)
{
	char buf[5000];

	(void)arg;
	while (written_total < TOTAL) {
		long i, n = TOTAL - written_total < 5000 ? TOTAL - written_total
		                                         : 5000;
		ssize_t w;

		for (i = 0; i < n; i++)
			buf[i] = (char)pattern(written_total + i);
		w = strawi_write(pfd[1], buf, (size_t)n, STRAWI_FOREVER);
		CHECK_EQ(w, n);
		written_total += w;
	}
	close(pfd[1]);
}

CASE(pipe_between_coroutines)
{
	struct strawi_sched_stats st;

	CHECK_OK(strawi_sched_new(NULL, &S));
	CHECK_OK(pipe(pfd));
	nlog = 0;
	/* The pipe (64 KiB) is smaller than what is sent: both sides have
	 * to wait for the other many times. */
	CHECK_OK(strawi_coro_spawn(S, pattern_reader, NULL, 0, NULL));
	CHECK_OK(strawi_coro_spawn(S, pattern_writer, NULL, 0, NULL));
	CHECK_RC(strawi_sched_run(S), 0);
	CHECK_EQ(written_total, TOTAL);
	CHECK_EQ(read_total, TOTAL);
	CHECK(reader_ok);
	CHECK_EQ(nlog, 1);
	CHECK_EQ(log_[0], 0); /* end of file */
	strawi_sched_stats(S, &st);
	CHECK(st.polls > 1);
	CHECK_EQ(st.fd_waits, 0);
	CHECK(fcntl(pfd[0], F_GETFL) & O_NONBLOCK);
	close(pfd[0]);
	strawi_sched_free(S);
}

static int64_t elapsed;
static int rc_seen[4];

static void
timeouts(void *arg)
{
	char c;
	int64_t t0;

	(void)arg;
	/* 0: poll */
	t0 = strawi_now_ns();
	rc_seen[0] = (int)strawi_read(pfd[0], &c, 1, 0);
	rc_seen[1] = strawi_wait_fd(pfd[0], EPOLLIN, 0);
	rc_seen[2] = strawi_wait_fd(pfd[1], EPOLLOUT, 0);
	/* 30 ms */
	t0 = strawi_now_ns();
	rc_seen[3] =
	        (int)strawi_read(pfd[0], &c, 1, strawi_now_ns() + 30 * 1000000);
	elapsed = strawi_now_ns() - t0;
}

CASE(timeouts_zero_and_finite)
{
	CHECK_OK(strawi_sched_new(NULL, &S));
	CHECK_OK(pipe(pfd));
	CHECK_OK(strawi_coro_spawn(S, timeouts, NULL, 0, NULL));
	CHECK_RC(strawi_sched_run(S), 0);
	CHECK_RC(rc_seen[0], -ETIMEDOUT);
	CHECK_RC(rc_seen[1], -ETIMEDOUT);
	CHECK_EQ(rc_seen[2], EPOLLOUT);
	CHECK_RC(rc_seen[3], -ETIMEDOUT);
	CHECK(elapsed >= 30 * 1000000);
	CHECK(elapsed < 3000 * 1000000LL);
	close(pfd[0]);
	close(pfd[1]);
	strawi_sched_free(S);
}

/* Infinite wait, ended by a writer that comes later (a timer). */
static void
late_write(struct strawi_timer *t)
{
	(void)t;
	CHECK_EQ(write(pfd[1], "x", 1), 1);
}

static void
infinite_reader(void *arg)
{
	char c = 0;

	(void)arg;
	rc_seen[0] = (int)strawi_read(pfd[0], &c, 1, STRAWI_FOREVER);
	rc_seen[1] = c;
}

CASE(infinite_wait_then_data)
{
	struct strawi_timer t;

	CHECK_OK(strawi_sched_new(NULL, &S));
	CHECK_OK(pipe(pfd));
	strawi_timer_init(&t, late_write, NULL);
	CHECK_OK(strawi_timer_add(S, &t, strawi_now_ns() + 5000000));
	CHECK_OK(strawi_coro_spawn(S, infinite_reader, NULL, 0, NULL));
	CHECK_RC(strawi_sched_run(S), 0);
	CHECK_EQ(rc_seen[0], 1);
	CHECK_EQ(rc_seen[1], 'x');
	close(pfd[0]);
	close(pfd[1]);
	strawi_sched_free(S);
}

static void
second_reader(void *arg)
{
	(void)arg;
	rc_seen[2] = strawi_wait_fd(pfd[0], EPOLLIN, STRAWI_FOREVER);
	rc_seen[3] = strawi_wait_fd(pfd[0], 0, STRAWI_FOREVER);
	CHECK_EQ(write(pfd[1], "y", 1), 1);
}

CASE(one_waiter_per_direction)
{
	CHECK_OK(strawi_sched_new(NULL, &S));
	CHECK_OK(pipe(pfd));
	CHECK_OK(strawi_coro_spawn(S, infinite_reader, NULL, 0, NULL));
	CHECK_OK(strawi_coro_spawn(S, second_reader, NULL, 0, NULL));
	CHECK_RC(strawi_sched_run(S), 0);
	CHECK_RC(rc_seen[2], -EBUSY);
	CHECK_RC(rc_seen[3], -EINVAL);
	CHECK_EQ(rc_seen[0], 1);
	CHECK_EQ(rc_seen[1], 'y');
	close(pfd[0]);
	close(pfd[1]);
	strawi_sched_free(S);
}

/* A socket read by one coroutine and written by another at once. */
static int sv[2];

static void
sock_reader(void *arg)
{
	char buf[4];

	(void)arg;
	rc_seen[0] = (int)strawi_read(sv[0], buf, 4, STRAWI_FOREVER);
	rc_seen[1] = memcmp(buf, "pong", 4);
}

static void
sock_writer(void *arg)
{
	static char big[1 << 20];

	(void)arg;
	/* Fills the socket buffer: waits for EPOLLOUT on sv[0] while the
	 * reader waits for EPOLLIN on the same fd. */
	rc_seen[2] = (int)strawi_write(sv[0], big, sizeof(big), STRAWI_FOREVER);
}

static void
peer(void *arg)
{
	static char buf[1 << 16];
	long total = 0;

	(void)arg;
	CHECK_EQ(strawi_write(sv[1], "pong", 4, STRAWI_FOREVER), 4);
	while (total < (1 << 20)) {
		ssize_t n =
		        strawi_read(sv[1], buf, sizeof(buf), STRAWI_FOREVER);
		CHECK(n > 0);
		total += n;
	}
	rc_seen[3] = (int)(total == (1 << 20));
}

CASE(reader_and_writer_on_one_socket)
{
	CHECK_OK(strawi_sched_new(NULL, &S));
	CHECK_OK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
	memset(rc_seen, 0, sizeof(rc_seen));
	CHECK_OK(strawi_coro_spawn(S, sock_writer, NULL, 0, NULL));
	CHECK_OK(strawi_coro_spawn(S, sock_reader, NULL, 0, NULL));
	CHECK_OK(strawi_coro_spawn(S, peer, NULL, 0, NULL));
	CHECK_RC(strawi_sched_run(S), 0);
	CHECK_EQ(rc_seen[0], 4);
	CHECK_EQ(rc_seen[1], 0);
	CHECK_EQ(rc_seen[2], 1 << 20);
	CHECK_EQ(rc_seen[3], 1);
	close(sv[0]);
	close(sv[1]);
	strawi_sched_free(S);
}

/* accept and connect over loopback TCP. */
static int lfd;
static struct sockaddr_in laddr;

static void
acceptor(void *arg)
{
	int c;
	char buf[5];

	(void)arg;
	c = strawi_accept(lfd, NULL, NULL, SOCK_CLOEXEC, STRAWI_FOREVER);
	CHECK(c >= 0);
	CHECK_EQ(strawi_read(c, buf, 5, STRAWI_FOREVER), 5);
	rc_seen[0] = memcmp(buf, "hello", 5) == 0;
	close(c);
	/* Nobody else connects: times out. */
	rc_seen[2] = strawi_accept(lfd, NULL, NULL, 0,
	                           strawi_now_ns() + 10 * 1000000);
}

static void
connector(void *arg)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	(void)arg;
	CHECK(fd >= 0);
	rc_seen[1] = strawi_connect(fd, (struct sockaddr *)&laddr,
	                            sizeof(laddr), STRAWI_FOREVER);
	CHECK_EQ(strawi_write(fd, "hello", 5, STRAWI_FOREVER), 5);
	close(fd);
}

static void
refused(void *arg)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	struct sockaddr_in a = laddr;

	(void)arg;
	a.sin_port = *(in_port_t *)arg;
	rc_seen[3] = strawi_connect(fd, (struct sockaddr *)&a, sizeof(a),
	                            STRAWI_FOREVER);
	close(fd);
}

CASE(accept_and_connect)
{
	socklen_t len = sizeof(laddr);
	in_port_t closed_port;
	int tmp;

	CHECK_OK(strawi_sched_new(NULL, &S));
	lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	CHECK(lfd >= 0);
	memset(&laddr, 0, sizeof(laddr));
	laddr.sin_family = AF_INET;
	laddr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	CHECK_OK(bind(lfd, (struct sockaddr *)&laddr, sizeof(laddr)));
	CHECK_OK(listen(lfd, 8));
	CHECK_OK(getsockname(lfd, (struct sockaddr *)&laddr, &len));
	/* A port nobody listens on: bound, then closed. */
	tmp = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	{
		struct sockaddr_in a = laddr;
		socklen_t al = sizeof(a);

		a.sin_port = 0;
		CHECK_OK(bind(tmp, (struct sockaddr *)&a, sizeof(a)));
		CHECK_OK(getsockname(tmp, (struct sockaddr *)&a, &al));
		closed_port = a.sin_port;
		close(tmp);
	}
	memset(rc_seen, 0, sizeof(rc_seen));
	CHECK_OK(strawi_coro_spawn(S, acceptor, NULL, 0, NULL));
	CHECK_OK(strawi_coro_spawn(S, connector, NULL, 0, NULL));
	CHECK_OK(strawi_coro_spawn(S, refused, &closed_port, 0, NULL));
	CHECK_RC(strawi_sched_run(S), 0);
	CHECK_EQ(rc_seen[0], 1);
	CHECK_RC(rc_seen[1], 0);
	CHECK_RC(rc_seen[2], -ETIMEDOUT);
	CHECK_RC(rc_seen[3], -ECONNREFUSED);
	close(lfd);
	strawi_sched_free(S);
}

/* A coroutine killed while it waits on an fd leaves no registration
 * behind: a later waiter on the same fd works. */
static struct strawi_coro *waiter;

static void
kill_waiter(void *arg)
{
	(void)arg;
	CHECK_OK(strawi_coro_kill(waiter, 1, NULL));
}

CASE(kill_while_waiting_on_fd)
{
	struct strawi_sched_stats st;

	CHECK_OK(strawi_sched_new(NULL, &S));
	CHECK_OK(pipe(pfd));
	memset(rc_seen, 0, sizeof(rc_seen));
	CHECK_OK(strawi_coro_spawn(S, infinite_reader, NULL, 0, &waiter));
	CHECK_OK(strawi_coro_spawn(S, kill_waiter, NULL, 0, NULL));
	CHECK_RC(strawi_sched_run(S), 0);
	strawi_sched_stats(S, &st);
	CHECK_EQ(st.fd_waits, 0);
	CHECK_EQ(st.live, 0);
	CHECK_EQ(rc_seen[0], 0); /* it never returned from its read */
	CHECK_OK(strawi_coro_spawn(S, infinite_reader, NULL, 0, NULL));
	CHECK_EQ(write(pfd[1], "z", 1), 1);
	CHECK_RC(strawi_sched_run(S), 0);
	CHECK_EQ(rc_seen[0], 1);
	CHECK_EQ(rc_seen[1], 'z');
	close(pfd[0]);
	close(pfd[1]);
	strawi_sched_free(S);
}

CASE(regular_file_is_ready)
{
	char path[] = "/tmp/straw-io-XXXXXX";
	int fd = mkstemp(path);

	CHECK(fd >= 0);
	unlink(path);
	CHECK_OK(strawi_sched_new(NULL, &S));
	CHECK_EQ(straw_fd_wait(fd, POLLIN, -1), POLLIN);
	close(fd);
	strawi_sched_free(S);
}

/* Outside a coroutine the public calls block the thread in poll(2). */
CASE(public_calls_outside_coroutines)
{
	char c = 0;

	CHECK_EQ(straw_in_process(), 0);
	CHECK_OK(pipe(pfd));
	CHECK_RC(straw_fd_read(pfd[0], &c, 1, 0), -ETIMEDOUT);
	CHECK_RC(straw_fd_read(pfd[0], &c, 1, 10), -ETIMEDOUT);
	CHECK_EQ(straw_fd_write(pfd[1], "q", 1, -1), 1);
	CHECK_EQ(straw_fd_read(pfd[0], &c, 1, -1), 1);
	CHECK_EQ(c, 'q');
	CHECK_EQ(straw_fd_wait(pfd[1], POLLOUT, 0), POLLOUT);
	close(pfd[1]);
	CHECK_EQ(straw_fd_wait(pfd[0], POLLIN, -1) & POLLHUP, POLLHUP);
	CHECK_EQ(straw_fd_read(pfd[0], &c, 1, -1), 0);
	close(pfd[0]);
	CHECK_RC(straw_fd_read(pfd[0], &c, 1, -1), -EBADF);
	CHECK_RC(straw_fd_wait(-1, POLLIN, 0), -EBADF);
}

/* One coroutine waiting for both directions hears both. */
static void
both_ways(void *arg)
{
	(void)arg;
	rc_seen[0] = strawi_wait_fd(sv[0], EPOLLIN | EPOLLOUT, STRAWI_FOREVER);
	CHECK_EQ(write(sv[1], "b", 1), 1);
	rc_seen[1] = strawi_wait_fd(sv[0], EPOLLIN | EPOLLOUT, STRAWI_FOREVER);
	rc_seen[2] = strawi_wait_fd(sv[0], EPOLLIN, STRAWI_FOREVER);
}

CASE(wait_for_both_directions)
{
	CHECK_OK(strawi_sched_new(NULL, &S));
	CHECK_OK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
	CHECK_OK(strawi_coro_spawn(S, both_ways, NULL, 0, NULL));
	CHECK_RC(strawi_sched_run(S), 0);
	CHECK_EQ(rc_seen[0], EPOLLOUT);
	CHECK_EQ(rc_seen[1], EPOLLIN | EPOLLOUT);
	CHECK_EQ(rc_seen[2], EPOLLIN);
	close(sv[0]);
	close(sv[1]);
	strawi_sched_free(S);
}

/* Closing an fd wakes its waiter, whose read then fails. */
static void
closer(void *arg)
{
	(void)arg;
	rc_seen[3] = strawi_close(pfd[0]);
}

static void
reader_of_closed(void *arg)
{
	char c;

	(void)arg;
	rc_seen[2] = (int)strawi_read(pfd[0], &c, 1, STRAWI_FOREVER);
}

CASE(close_wakes_waiters)
{
	CHECK_OK(strawi_sched_new(NULL, &S));
	CHECK_OK(pipe(pfd));
	CHECK_OK(strawi_coro_spawn(S, reader_of_closed, NULL, 0, NULL));
	CHECK_OK(strawi_coro_spawn(S, closer, NULL, 0, NULL));
	CHECK_RC(strawi_sched_run(S), 0);
	CHECK_RC(rc_seen[3], 0);
	CHECK_RC(rc_seen[2], -EBADF);
	CHECK_RC(straw_fd_close(pfd[0]), -EBADF);
	CHECK_RC(straw_fd_close(pfd[1]), 0);
	strawi_sched_free(S);
}

/* Watches: level-triggered callbacks for fds the runtime owns. */
static struct strawi_watch wr_watch, rd_watch, wa, wb;
static int watch_log[16], nwatch, wa_on, wb_on;

static void
on_readable(struct strawi_watch *w, uint32_t revents)
{
	char buf[8];

	watch_log[nwatch++] = (int)revents;
	CHECK_EQ(read(w->fd, buf, sizeof(buf)), 3);
	CHECK_OK(strawi_watch_del(S, w));
	CHECK_RC(strawi_watch_del(S, w), -ENOENT);
}

static void
on_writable(struct strawi_watch *w, uint32_t revents)
{
	watch_log[nwatch++] = (int)revents;
	CHECK_EQ(write(w->fd, "abc", 3), 3);
	CHECK_OK(strawi_watch_del(S, w)); /* once is enough */
}

CASE(watches)
{
	CHECK_OK(strawi_sched_new(NULL, &S));
	CHECK_OK(pipe(pfd));
	nwatch = 0;
	rd_watch = (struct strawi_watch){pfd[0], EPOLLIN, on_readable, NULL};
	wr_watch = (struct strawi_watch){pfd[1], 0, on_writable, NULL};
	CHECK_OK(strawi_watch_add(S, &rd_watch));
	CHECK_OK(strawi_watch_add(S, &wr_watch)); /* no events yet */
	CHECK_OK(strawi_watch_mod(S, &wr_watch, EPOLLOUT));
	CHECK_EQ(wr_watch.events, EPOLLOUT);
	CHECK_RC(strawi_watch_add(S, &rd_watch), -EEXIST);
	CHECK_RC(strawi_sched_run(S), 0); /* ends when no watch is left */
	CHECK_EQ(nwatch, 2);
	CHECK_EQ(watch_log[0], EPOLLOUT); /* the write came first */
	CHECK_EQ(watch_log[1], EPOLLIN);
	close(pfd[0]);
	close(pfd[1]);
	strawi_sched_free(S);
}

/* Two watches ready in the same batch; the first callback deletes both:
 * the other's pending event must be dropped, not delivered. */
static void
on_either(struct strawi_watch *w, uint32_t revents)
{
	(void)w;
	(void)revents;
	nwatch++;
	if (wa_on)
		CHECK_OK(strawi_watch_del(S, &wa));
	if (wb_on)
		CHECK_OK(strawi_watch_del(S, &wb));
	wa_on = wb_on = 0;
}

CASE(deleted_watch_gets_no_event)
{
	int a[2], b[2];

	CHECK_OK(strawi_sched_new(NULL, &S));
	CHECK_OK(pipe(a));
	CHECK_OK(pipe(b));
	CHECK_EQ(write(a[1], "x", 1), 1);
	CHECK_EQ(write(b[1], "x", 1), 1);
	nwatch = 0;
	wa = (struct strawi_watch){a[0], EPOLLIN, on_either, NULL};
	wb = (struct strawi_watch){b[0], EPOLLIN, on_either, NULL};
	CHECK_OK(strawi_watch_add(S, &wa));
	CHECK_OK(strawi_watch_add(S, &wb));
	wa_on = wb_on = 1;
	CHECK_RC(strawi_sched_run(S), 0);
	CHECK_EQ(nwatch, 1);
	close(a[0]);
	close(a[1]);
	close(b[0]);
	close(b[1]);
	strawi_sched_free(S);
}

CHECK_MAIN(watches, deleted_watch_gets_no_event, close_wakes_waiters,
           wait_for_both_directions, pipe_between_coroutines,
           timeouts_zero_and_finite, infinite_wait_then_data,
           one_waiter_per_direction, reader_and_writer_on_one_socket,
           accept_and_connect, kill_while_waiting_on_fd, regular_file_is_ready,
           public_calls_outside_coroutines)
