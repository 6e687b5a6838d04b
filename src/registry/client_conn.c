/*
 * The registry client's connection: connecting (and starting strawd when
 * none runs), the handshake, sending and receiving packets, dispatching
 * replies and events, and getting back on its feet when strawd goes away.
 *
 * Hang-up detection and reconnection are the I/O thread's (client_io.c):
 * when strawd dies the kernel hangs the socket up at once; the I/O thread
 * then reconnects - waiting for the socket file to reappear with inotify,
 * or starting strawd when autostart is on - and restores the container's
 * id, names and watches, all within milliseconds of a new strawd serving.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/file.h>
#include <sys/inotify.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/base.h"
#include "base/clock.h"
#include "base/log.h"
#include "client_int.h"
#include "registry/path.h"

extern char **environ;

static int
ms_left(int64_t deadline)
{
	int64_t left;

	if (deadline == INT64_MAX)
		return -1;
	left = (deadline - strawi_now_ns() + 999999) / 1000000;
	if (left < 0)
		return 0;
	return left > INT_MAX ? INT_MAX : (int)left;
}

void
reg_client_kick(int fd)
{
	uint64_t one = 1;

	(void)!write(fd, &one, sizeof(one));
}

static void
drain_fd(int fd)
{
	uint8_t buf[4096];

	while (read(fd, buf, sizeof(buf)) > 0)
		;
}

void
reg_client_drop_rfds(straw_reg *r)
{
	while (r->nrfds > 0)
		close(r->rfds[--r->nrfds]);
}

void
reg_client_disconnect(straw_reg *r)
{
	if (r->fd < 0)
		return;
	epoll_ctl(r->epfd, EPOLL_CTL_DEL, r->fd, NULL);
	close(r->fd);
	r->fd = -1;
	r->out.len = 0;
	if (r->async_outstanding > 0 && r->async_err == 0)
		r->async_err = -ECONNRESET;
	r->async_outstanding = 0;
	reg_client_drop_rfds(r);
	reg_async_requeue(r);
	/* Whoever noticed the hang-up, the I/O thread reconnects: wake it
	 * (it may be polling the fd just closed, whose number may be
	 * reused). */
	reg_client_kick(r->kickfd);
}

void
reg_client_push_event(straw_reg *r, uint32_t watch, unsigned flags,
                      const char *path, size_t len)
{
	struct reg_client_event *e;

	if (len > REG_PATH_MAX)
		len = REG_PATH_MAX;
	pthread_mutex_lock(&r->evmu);
	if (r->nev >= REG_EVENT_QUEUE_MAX) {
		r->ev_overflow = 1;
		pthread_mutex_unlock(&r->evmu);
		return;
	}
	e = straw_malloc(sizeof(*e) + len + 1);
	if (e == NULL) {
		r->ev_overflow = 1;
		pthread_mutex_unlock(&r->evmu);
		return;
	}
	e->next = NULL;
	e->watch = watch;
	e->flags = flags;
	e->len = len;
	memcpy(e->path, path, len);
	e->path[len] = '\0';
	if (r->evtail != NULL)
		r->evtail->next = e;
	else
		r->evhead = e;
	r->evtail = e;
	if (r->nev++ == 0)
		reg_client_kick(r->evfd);
	pthread_mutex_unlock(&r->evmu);
}

/* Dispatches the frames of one received packet of n bytes. */
static int
dispatch(straw_reg *r, size_t n, int *fds, size_t nfds)
{
	const uint8_t *frame;
	size_t off = 0, flen;
	struct reg_in in;
	int rc;

	while ((rc = reg_frame_next(r->rbuf, n, &off, &frame, &flen)) == 1) {
		rc = reg_msg_decode_in(frame, flen, &in);
		if (rc < 0)
			return STRAW_EPROTOCOL;
		if (in.is_event) {
			if (in.id <= UINT32_MAX)
				reg_client_push_event(r, (uint32_t)in.id, 0,
				                      (const char *)in.value,
				                      in.value_len);
		} else if (in.id == 0 && in.rc < 0) {
			/* No request has id 0: strawd refused the connection
			 * before reading our hello, and says why. */
			r->refused = in.rc;
		} else if (!r->got_reply && in.id == r->want_id) {
			r->reply = in;
			r->got_reply = 1;
			memcpy(r->rfds, fds, nfds * sizeof(int));
			r->nrfds = nfds;
			nfds = 0;
		} else if (in.id & REG_ASYNC_ID_BIT) {
			/* fds travel with the first frame of their packet */
			reg_async_answer(r, &in, fds, nfds);
			nfds = 0;
		} else if (r->async_outstanding > 0) {
			r->async_outstanding--;
			if (in.rc < 0 && r->async_err == 0)
				r->async_err = in.rc;
		}
	}
	while (nfds > 0)
		close(fds[--nfds]);
	return rc;
}

/* Receives one packet: 1 handled, 0 nothing there (MSG_DONTWAIT), or
 * -ECONNRESET (hang-up; r is then disconnected) / STRAW_EPROTOCOL. */
static int
recv_one(straw_reg *r, int flags)
{
	union {
		struct cmsghdr h;
		char buf[CMSG_SPACE(sizeof(int) * REG_MAX_FDS)];
	} cm;
	struct iovec iov = {r->rbuf, REG_MAX_PACKET};
	struct msghdr mh = {0};
	int fds[REG_MAX_FDS];
	size_t nfds = 0;
	ssize_t n;
	int rc;

	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	mh.msg_control = cm.buf;
	mh.msg_controllen = sizeof(cm.buf);
	do
		n = recvmsg(r->fd, &mh, flags | MSG_CMSG_CLOEXEC);
	while (n < 0 && errno == EINTR);
	if (n < 0 && errno == EAGAIN)
		return 0;
	if (n >= 0)
		nfds = reg_take_fds(&mh, fds, nfds);
	if (n <= 0 || (mh.msg_flags & MSG_TRUNC)) {
		while (nfds > 0)
			close(fds[--nfds]);
		reg_client_disconnect(r);
		if (n > 0)
			return STRAW_EPROTOCOL;
		return r->refused < 0 ? r->refused : -ECONNRESET;
	}
	rc = dispatch(r, (size_t)n, fds, nfds);
	if (rc < 0) {
		strawi_log(STRAWI_LOG_ERROR, "malformed message from strawd");
		reg_client_disconnect(r);
		return rc;
	}
	return 1;
}

int
reg_client_pump(straw_reg *r)
{
	int rc;

	while (r->fd >= 0 && (rc = recv_one(r, MSG_DONTWAIT)) == 1)
		;
	return r->fd >= 0 ? 0 : -ECONNRESET;
}

/* Sends one packet, reading what arrives meanwhile so that neither side
 * can block the other. */
static int
send_pkt(straw_reg *r, const uint8_t *data, size_t len, const int *fds,
         size_t nfds)
{
	for (;;) {
		struct pollfd p;
		int rc;

		if (r->fd < 0)
			return -ECONNRESET;
		rc = reg_send_packet(r->fd, data, len, fds, nfds);
		if (rc == 0 || (rc != -EAGAIN && rc != -EPIPE &&
		                rc != -ECONNRESET && rc != -ENOTCONN))
			return rc;
		if (rc != -EAGAIN) {
			/* What strawd sent before it closed may say why (a
			 * refused connection). */
			reg_client_pump(r);
			reg_client_disconnect(r);
			return r->refused < 0 ? r->refused : -ECONNRESET;
		}
		p.fd = r->fd;
		p.events = POLLIN | POLLOUT;
		if (poll(&p, 1, REG_CALL_TIMEOUT_MS) == 0)
			return -ETIMEDOUT;
		if (p.revents & (POLLIN | POLLHUP | POLLERR)) {
			rc = reg_client_pump(r);
			if (rc < 0)
				return rc;
		}
	}
}

int
reg_client_send(straw_reg *r, const straw_buf *req, const int *fds, size_t nfds)
{
	int rc = 0;

	if (r->fd < 0)
		return -ECONNRESET;
	if (nfds > 0 || (req && r->out.len + req->len > REG_MAX_PACKET)) {
		if (r->out.len > 0)
			rc = send_pkt(r, r->out.data, r->out.len, NULL, 0);
		r->out.len = 0;
		if (rc == 0 && req)
			rc = send_pkt(r, req->data, req->len, fds, nfds);
		return rc;
	}
	if (req && straw_buf_append(&r->out, req->data, req->len) < 0)
		return -ENOMEM;
	if (r->out.len > 0)
		rc = send_pkt(r, r->out.data, r->out.len, NULL, 0);
	r->out.len = 0;
	return rc;
}

/* Waits for the reply to r->want_id. */
static int
wait_reply(straw_reg *r, int64_t deadline)
{
	while (!r->got_reply) {
		struct pollfd p;
		int rc;

		if (r->fd < 0)
			return -ECONNRESET;
		if (deadline - strawi_now_ns() > REG_RECV_TIMEOUT_NS) {
			/* Far from the deadline: a blocking receive (bounded
			 * by SO_RCVTIMEO) saves a poll per call. */
			rc = recv_one(r, 0);
			if (rc < 0)
				return rc;
			continue;
		}
		p.fd = r->fd;
		p.events = POLLIN;
		rc = poll(&p, 1, ms_left(deadline));
		if (rc < 0 && errno != EINTR)
			return -errno;
		if (rc == 0)
			return -ETIMEDOUT;
		rc = recv_one(r, MSG_DONTWAIT);
		if (rc < 0)
			return rc;
	}
	return 0;
}

/* Sends r->req and waits for its reply, without reconnecting. */
static int
exchange(straw_reg *r, const straw_buf *req, uint64_t id, const int *fds,
         size_t nfds, int64_t deadline)
{
	int rc;

	reg_client_drop_rfds(r);
	r->want_id = id;
	r->got_reply = 0;
	rc = reg_client_send(r, req, fds, nfds);
	if (rc == 0)
		rc = wait_reply(r, deadline);
	if (rc == 0)
		rc = r->reply.rc;
	return rc;
}

int
reg_client_drain(straw_reg *r, int64_t deadline)
{
	int rc = reg_client_send(r, NULL, NULL, 0);

	r->got_reply = 1; /* nothing else is awaited */
	while (rc == 0 && r->async_outstanding > 0) {
		struct pollfd p = {r->fd, POLLIN, 0};
		rc = poll(&p, 1, ms_left(deadline));
		if (rc == 0)
			return -ETIMEDOUT;
		rc = rc < 0 ? (errno == EINTR ? 0 : -errno)
		            : recv_one(r, MSG_DONTWAIT);
		if (rc > 0)
			rc = 0;
	}
	return rc;
}

/* ---- starting strawd ---------------------------------------------------- */

static int
find_strawd(char *out, size_t cap)
{
	const char *env = getenv("STRAW_STRAWD"), *path;
	char self[PATH_MAX];
	ssize_t n;

	if (env != NULL && *env != '\0') {
		snprintf(out, cap, "%s", env);
		return access(out, X_OK) == 0 ? 0 : -ENOENT;
	}
	n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n > 0) {
		char *slash;
		self[n] = '\0';
		slash = strrchr(self, '/');
		if (slash != NULL) {
			*slash = '\0';
			if ((size_t)snprintf(out, cap, "%s/strawd", self) <
			            cap &&
			    access(out, X_OK) == 0)
				return 0;
		}
	}
	path = getenv("PATH");
	while (path != NULL && *path != '\0') {
		const char *end = strchr(path, ':');
		size_t len = end ? (size_t)(end - path) : strlen(path);
		if (len > 0 &&
		    (size_t)snprintf(out, cap, "%.*s/strawd", (int)len, path) <
		            cap &&
		    access(out, X_OK) == 0)
			return 0;
		path = end ? end + 1 : NULL;
	}
	return -ENOENT;
}

/* Starts `strawd --daemon` for r->dir and waits until it serves (its
 * foreground process exits once the socket is in place) or says another
 * already does. */
static int
spawn_strawd(straw_reg *r)
{
	char bin[PATH_MAX], dirvar[REG_DIR_MAX + 16], logp[REG_DIR_MAX + 32];
	char *argv[] = {bin, "--daemon", NULL};
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t sa;
	sigset_t none;
	char **envp;
	size_t n = 0, i, j = 0;
	int status, rc, lockfd;
	pid_t pid;

	rc = find_strawd(bin, sizeof(bin));
	if (rc < 0) {
		strawi_log(STRAWI_LOG_WARN, "cannot start strawd: not found "
		                            "(set STRAW_STRAWD or PATH)");
		return -ENOEXEC;
	}
	if (reg_rundir_create(r->dir) < 0)
		return STRAW_ENODAEMON;
	/* One starter at a time: when many containers notice at once that
	 * strawd is gone, one starts it and the others wait for its socket
	 * (the caller's inotify), rather than all starting one. */
	if (reg_rundir_file(r->dir, "autostart.lock", logp, sizeof(logp)) < 0)
		return -ENAMETOOLONG;
	lockfd = open(logp, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (lockfd >= 0 && flock(lockfd, LOCK_EX | LOCK_NB) < 0) {
		close(lockfd);
		return 0;
	}
	snprintf(dirvar, sizeof(dirvar), "STRAW_DIR=%s", r->dir);
	reg_rundir_file(r->dir, "strawd.log", logp, sizeof(logp));
	while (environ != NULL && environ[n] != NULL)
		n++;
	envp = straw_calloc(n + 2, sizeof(*envp));
	if (envp == NULL)
		return -ENOMEM;
	for (i = 0; i < n; i++)
		if (strncmp(environ[i], "STRAW_DIR=", 10) != 0 &&
		    strncmp(environ[i], "LISTEN_", 7) != 0)
			envp[j++] = environ[i];
	envp[j++] = dirvar;
	/* posix_spawn (vfork-like: no copy of this process's page
	 * tables), with signals unblocked - the caller may be the I/O
	 * thread, which blocks them all - stdin and stdout on /dev/null and
	 * stderr appended to the log. */
	sigemptyset(&none);
	rc = posix_spawn_file_actions_init(&fa);
	if (rc == 0) {
		posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY,
		                                 0);
		posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY,
		                                 0);
		posix_spawn_file_actions_addopen(
		        &fa, 2, logp, O_WRONLY | O_CREAT | O_APPEND, 0600);
		posix_spawnattr_init(&sa);
		posix_spawnattr_setsigmask(&sa, &none);
		posix_spawnattr_setflags(&sa, POSIX_SPAWN_SETSIGMASK);
		rc = posix_spawn(&pid, bin, &fa, &sa, argv, envp);
		posix_spawnattr_destroy(&sa);
		posix_spawn_file_actions_destroy(&fa);
	}
	straw_free(envp);
	if (rc != 0) {
		strawi_log(STRAWI_LOG_WARN, "cannot start %s: %s", bin,
		           strerror(rc));
		if (lockfd >= 0)
			close(lockfd);
		return -ENOEXEC;
	}
	while (waitpid(pid, &status, 0) < 0) {
		if (errno != EINTR) {
			status = 0; /* reaped elsewhere: just try to connect */
			break;
		}
	}
	if (lockfd >= 0)
		close(lockfd);
	/* 0: it serves; 1: another strawd already does. */
	if (WIFEXITED(status) &&
	    (WEXITSTATUS(status) == 0 || WEXITSTATUS(status) == 1))
		return 0;
	strawi_log(STRAWI_LOG_WARN, "%s failed to start (see %s)", bin, logp);
	return -ENOEXEC;
}

/* ---- connecting --------------------------------------------------------- */

static int
connect_once(straw_reg *r)
{
	struct sockaddr_un sa = {0};
	int fd;

	if (strlen(r->sock_path) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	sa.sun_family = AF_UNIX;
	memcpy(sa.sun_path, r->sock_path, strlen(r->sock_path) + 1);
	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		int rc = -errno;
		close(fd);
		return rc;
	}
	return fd;
}

static uint64_t
new_id(straw_reg *r)
{
	return ++r->next_req;
}

/* Handshake on a fresh connection, then the container's state again. */
static int
handshake(straw_reg *r, int64_t deadline, int restore)
{
	struct reg_client_rec *rec;
	uint32_t version, pid;
	uint64_t id, machine, got;
	int rc;

	id = new_id(r);
	r->hreq.len = 0;
	rc = reg_enc_hello(&r->hreq, &r->b, id);
	if (rc == 0)
		rc = exchange(r, &r->hreq, id, NULL, 0, deadline);
	if (rc < 0)
		return rc;
	if (r->reply.value == NULL ||
	    reg_read_hello(r->reply.value, r->reply.value_len, &version, &pid,
	                   &machine) < 0 ||
	    version != REG_PROTO_VERSION)
		return STRAW_EPROTOCOL;
	r->server_pid = pid;
	r->machine = machine;
	if (!restore)
		return 0;
	if (r->container != 0) {
		id = new_id(r);
		r->hreq.len = 0;
		rc = reg_enc_join(&r->hreq, &r->b, id, r->container_name,
		                  r->container);
		if (rc == 0)
			rc = exchange(r, &r->hreq, id, NULL, 0, deadline);
		if (rc == 0 && (r->reply.value == NULL ||
		                reg_read_uint(r->reply.value,
		                              r->reply.value_len, &got) < 0 ||
		                got != r->container))
			rc = STRAW_EPROTOCOL;
		if (rc < 0 && r->fd < 0)
			return rc; /* strawd went away again: retry later */
		if (rc < 0) {
			/* Refused for good (the id or the name belongs to
			 * someone else now): carry on without them rather
			 * than retry forever. */
			strawi_log(STRAWI_LOG_ERROR,
			           "cannot rejoin as container %u '%s': %s; "
			           "no longer a container",
			           r->container, r->container_name,
			           straw_strerror(rc));
			r->container = 0;
			straw_free(r->container_name);
			r->container_name = NULL;
			while (r->names != NULL) {
				rec = r->names;
				r->names = rec->next;
				straw_free(rec);
			}
		}
		for (rec = r->names; rec != NULL; rec = rec->next) {
			id = new_id(r);
			r->hreq.len = 0;
			rc = reg_enc_register(&r->hreq, &r->b, id, rec->text,
			                      rec->num);
			if (rc == 0)
				rc = exchange(r, &r->hreq, id, NULL, 0,
				              deadline);
			if (rc < 0)
				strawi_log(STRAWI_LOG_WARN,
				           "cannot register '%s' again: %s",
				           rec->text, straw_strerror(rc));
		}
	}
	for (rec = r->watches; rec != NULL; rec = rec->next) {
		id = new_id(r);
		r->hreq.len = 0;
		rc = reg_enc_watch(&r->hreq, &r->b, id, rec->text,
		                   strlen(rec->text), rec->num);
		if (rc == 0)
			rc = exchange(r, &r->hreq, id, NULL, 0, deadline);
		if (rc < 0 && r->fd < 0)
			return rc;
		/* Changes may have been missed while strawd was away. */
		reg_client_push_event(r, rec->num, STRAW_REG_EVENT_RESYNC,
		                      rec->text, strlen(rec->text));
	}
	return 0;
}

/* One attempt: connect (starting strawd if allowed and none serves),
 * handshake, restore. */
static int
attempt(straw_reg *r, int64_t deadline, int allow_spawn)
{
	struct epoll_event ev = {0};
	int fd, rc;

	r->refused = 0;
	fd = connect_once(r);
	if ((fd == -ENOENT || fd == -ECONNREFUSED) && r->autostart &&
	    allow_spawn) {
		/* At most one start a second (counted only when one is
		 * tried: a dying strawd may still accept a connection). */
		r->next_spawn = strawi_now_ns() + 1000000000;
		rc = spawn_strawd(r);
		if (rc < 0)
			return rc;
		fd = connect_once(r);
	}
	if (fd == -ENOENT || fd == -ECONNREFUSED)
		return STRAW_ENODAEMON;
	if (fd < 0)
		return fd;
	r->fd = fd;
	{
		struct timeval tv = {REG_RECV_TIMEOUT_NS / 1000000000, 0};
		int sndbuf = 2 * REG_MAX_PACKET;
		setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
		setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof(sndbuf));
	}
	rc = handshake(r, deadline, r->gen > 0);
	if (rc < 0) {
		reg_client_disconnect(r);
		return rc;
	}
	ev.events = EPOLLIN;
	ev.data.fd = fd;
	epoll_ctl(r->epfd, EPOLL_CTL_ADD, fd, &ev);
	if (r->gen++ > 0)
		strawi_log(STRAWI_LOG_INFO, "reconnected to strawd pid %u",
		           r->server_pid);
	reg_client_kick(r->kickfd);
	return 0;
}

/* Waits up to ms for something to appear in the runtime directory (the
 * socket of a strawd starting), or 100 ms without inotify. */
static void
wait_socket(int infd, int ms)
{
	struct pollfd p = {infd, POLLIN, 0};

	if (infd < 0) {
		poll(NULL, 0, ms < 0 || ms > 100 ? 100 : ms);
		return;
	}
	if (poll(&p, 1, ms < 0 || ms > 1000 ? 1000 : ms) > 0)
		drain_fd(infd);
}

int
reg_client_watch_dir(straw_reg *r)
{
	int fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);

	if (fd < 0)
		return -1;
	if (inotify_add_watch(fd, r->dir, IN_CREATE | IN_MOVED_TO) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

int
reg_client_ensure(straw_reg *r, int64_t deadline)
{
	int infd = -1, rc;

	if (r->fd >= 0)
		return 0;
	for (;;) {
		int64_t now = strawi_now_ns();
		rc = attempt(r, deadline, now >= r->next_spawn);
		if (rc == 0 || (rc != STRAW_ENODAEMON && rc != -ECONNRESET &&
		                rc != -ETIMEDOUT))
			break;
		if (deadline != INT64_MAX && strawi_now_ns() >= deadline)
			break;
		if (infd < 0)
			infd = reg_client_watch_dir(r);
		else
			wait_socket(infd, ms_left(deadline));
	}
	if (infd >= 0)
		close(infd);
	return rc;
}

int
reg_client_call_locked(straw_reg *r, uint64_t id, int retry, const int *fds,
                       size_t nfds, int64_t deadline)
{
	int rc = reg_client_ensure(r, strawi_deadline_ms(REG_RECONNECT_MS));

	if (rc < 0)
		return rc;
	rc = exchange(r, &r->req, id, fds, nfds, deadline);
	if (rc == -ECONNRESET && retry) {
		rc = reg_client_ensure(r, strawi_deadline_ms(REG_RECONNECT_MS));
		if (rc == 0)
			rc = exchange(r, &r->req, id, fds, nfds, deadline);
	}
	return rc;
}

int
reg_client_attempt(straw_reg *r, int64_t deadline)
{
	return attempt(r, deadline, strawi_now_ns() >= r->next_spawn);
}

int
reg_client_open(straw_reg *r, int64_t deadline)
{
	struct epoll_event ev = {0};
	int rc;

	r->fd = -1;
	r->epfd = epoll_create1(EPOLL_CLOEXEC);
	r->evfd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	r->kickfd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	r->rbuf = straw_malloc(REG_MAX_PACKET);
	r->abuf = straw_malloc(REG_MAX_PACKET);
	if (r->epfd < 0 || r->evfd < 0 || r->kickfd < 0)
		return -errno;
	if (r->rbuf == NULL || r->abuf == NULL)
		return -ENOMEM;
	ev.events = EPOLLIN;
	ev.data.fd = r->evfd;
	if (epoll_ctl(r->epfd, EPOLL_CTL_ADD, r->evfd, &ev) < 0)
		return -errno;
	rc = attempt(r, deadline, 1);
	if (rc == STRAW_ENODAEMON && r->autostart)
		rc = reg_client_ensure(r, deadline); /* it is starting */
	if (rc == -ENOEXEC)
		rc = STRAW_ENODAEMON; /* autostart failed */
	if (rc < 0)
		return rc;
	return reg_client_io_start(r);
}

void
reg_client_teardown(straw_reg *r)
{
	reg_client_io_stop(r);
	reg_client_disconnect(r);
	if (r->epfd >= 0)
		close(r->epfd);
	if (r->evfd >= 0)
		close(r->evfd);
	if (r->kickfd >= 0)
		close(r->kickfd);
	straw_free(r->rbuf);
	straw_free(r->abuf);
}
