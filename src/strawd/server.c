/*
 * The registry server's loop: the listening socket, connections, reading
 * packets, and the lifecycle (lock, socket, stop).  Requests are handled in
 * server_ops.c, output in server_out.c.
 *
 * One turn of the loop: epoll_wait, then for each ready source accept,
 * read (up to a few packets per connection, so no client starves the
 * others) or reap a container; then flush every connection that got output
 * during the turn, one sendmsg per packet; then free connections that died.
 *
 * Connections are admitted while strawd serves fewer than max_conns and
 * the client's uid has fewer than its quota (root: no quota); others are
 * accepted, told why (STRAW_ESERVERFULL, STRAW_ECONNQUOTA) and closed at
 * once.  When accept fails for want of descriptors (EMFILE), strawd closes
 * a spare descriptor it keeps for that, accepts, refuses and reopens the
 * spare, so that the backlog drains and the loop never spins on a
 * listening socket it cannot accept from.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <straw/pid.h>

#include "base/base.h"
#include "base/clock.h"
#include "base/log.h"
#include "registry/path.h"
#include "strawd/server_int.h"

#define REG_READS_PER_TURN 8 /* packets read from one connection a turn */

const char *
reg_server_dir(const struct reg_server *s)
{
	return s->dir;
}

struct reg_conn *
reg_conn_find(const struct reg_server *s, uint64_t id)
{
	struct reg_conn *c = s->conn_hash[id % REG_CONN_BUCKETS];

	for (; c != NULL; c = c->hnext)
		if (c->id == id && !c->dead)
			return c;
	return NULL;
}

void
reg_conn_close(struct reg_server *s, struct reg_conn *c, const char *why)
{
	struct reg_conn **pp;
	struct reg_container *ct;

	if (c->dead)
		return;
	strawi_log(
	        STRAWI_LOG_INFO, "connection %llu (pid %d uid %u) closed: %s",
	        (unsigned long long)c->id, (int)c->pid, (unsigned)c->uid, why);
	c->dead = 1;
	if (c->container != 0 && (ct = reg_cont_find(s, c->container)) != NULL)
		reg_cont_gone(s, ct);
	reg_watch_drop_conn(s, c);
	epoll_ctl(s->epfd, EPOLL_CTL_DEL, c->fd, NULL);
	close(c->fd);
	c->fd = -1;
	reg_conn_out_free(s, c);
	reg_uid_sub(s, c->acct, REG_RES_CONNS, 1);
	c->acct = NULL;
	reg_listen_resume(s);
	for (pp = &s->conn_hash[c->id % REG_CONN_BUCKETS]; *pp != c;
	     pp = &(*pp)->hnext)
		;
	*pp = c->hnext;
	if (c->prev != NULL)
		c->prev->next = c->next;
	else
		s->conns = c->next;
	if (c->next != NULL)
		c->next->prev = c->prev;
	s->nconns--;
	c->next = s->grave;
	s->grave = c;
}

static void
conn_free(struct reg_conn *c)
{
	STRAWI_ASSERT(c->qhead == NULL && c->out.data == NULL);
	straw_free(c);
}

/*
 * Admits the connected socket fd of a client with that identity, or says
 * why not: STRAW_ESERVERFULL (strawd serves max_conns), STRAW_ECONNQUOTA
 * (the uid has its quota of connections), -ENOMEM or -errno.  The caller
 * still owns fd on failure.
 */
static int
conn_admit(struct reg_server *s, int fd, uid_t uid, gid_t gid, pid_t pid)
{
	struct epoll_event ev = {0};
	int sndbuf = 2 * REG_MAX_PACKET;
	struct reg_conn *c;
	struct reg_uid *u;
	int rc;

	if (s->nconns >= s->opts.max_conns)
		return STRAW_ESERVERFULL;
	u = reg_uid_get(s, (uint32_t)uid);
	if (u == NULL)
		return -ENOMEM;
	if (!reg_uid_room(s, u, REG_RES_CONNS, 1)) {
		rc = STRAW_ECONNQUOTA;
		goto fail_uid;
	}
	c = straw_calloc(1, sizeof(*c));
	if (c == NULL) {
		rc = -ENOMEM;
		goto fail_uid;
	}
	/* Room for whole packets both ways (capped by wmem_max). */
	setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof(sndbuf));
	c->kind = REG_SRC_CONN;
	c->id = ++s->next_conn;
	c->fd = fd;
	c->uid = uid;
	c->gid = gid;
	c->pid = pid;
	ev.events = EPOLLIN;
	ev.data.ptr = c;
	if (epoll_ctl(s->epfd, EPOLL_CTL_ADD, fd, &ev) < 0) {
		rc = -errno;
		straw_free(c);
		goto fail_uid;
	}
	reg_uid_add(u, REG_RES_CONNS, 1);
	c->acct = u;
	c->hnext = s->conn_hash[c->id % REG_CONN_BUCKETS];
	s->conn_hash[c->id % REG_CONN_BUCKETS] = c;
	c->next = s->conns;
	if (s->conns != NULL)
		s->conns->prev = c;
	s->conns = c;
	s->nconns++;
	strawi_log(STRAWI_LOG_INFO, "connection %llu from pid %d uid %u",
	           (unsigned long long)c->id, (int)c->pid, (unsigned)c->uid);
	return 0;
fail_uid:
	reg_uid_put(s, u); /* a record made for this attempt alone goes */
	return rc;
}

int
reg_server_add_conn(struct reg_server *s, int fd, uid_t uid, gid_t gid,
                    pid_t pid)
{
	int fl = fcntl(fd, F_GETFL), rc;

	if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0 ||
	    fcntl(fd, F_SETFD, FD_CLOEXEC) < 0) {
		rc = -errno;
		close(fd);
		return rc;
	}
	rc = conn_admit(s, fd, uid, gid, pid);
	if (rc < 0)
		close(fd);
	return rc;
}

static void
listen_pause(struct reg_server *s)
{
	struct epoll_event ev = {0};

	if (s->listen_paused)
		return;
	ev.data.ptr = &s->listen_src;
	if (epoll_ctl(s->epfd, EPOLL_CTL_MOD, s->listen_fd, &ev) == 0) {
		s->listen_paused = 1;
		strawi_log(STRAWI_LOG_WARN,
		           "out of descriptors: not accepting connections "
		           "until one closes");
	}
}

void
reg_listen_resume(struct reg_server *s)
{
	struct epoll_event ev = {0};

	if (s->spare_fd < 0)
		s->spare_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	if (!s->listen_paused)
		return;
	ev.events = EPOLLIN;
	ev.data.ptr = &s->listen_src;
	if (epoll_ctl(s->epfd, EPOLL_CTL_MOD, s->listen_fd, &ev) == 0)
		s->listen_paused = 0;
}

/* accept4 failed for want of descriptors: gives the spare up for one
 * accept that refuses the client, so that the backlog drains.  Returns 1
 * if a client was refused, 0 when even that is impossible (the listening
 * socket is then paused until a descriptor is freed). */
static int
refuse_at_fd_limit(struct reg_server *s)
{
	int fd;

	if (s->spare_fd >= 0) {
		int err;
		close(s->spare_fd);
		s->spare_fd = -1;
		fd = accept4(s->listen_fd, NULL, NULL,
		             SOCK_NONBLOCK | SOCK_CLOEXEC);
		err = errno;
		if (fd >= 0)
			reg_conn_refuse(s, fd, STRAW_ESERVERFULL);
		s->spare_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
		if (fd >= 0)
			return 1;
		if (err == EAGAIN || err == EINTR || err == ECONNABORTED)
			return 0; /* the backlog is empty */
	}
	listen_pause(s);
	return 0;
}

static void
accept_conns(struct reg_server *s)
{
	for (;;) {
		struct ucred cred;
		socklen_t cl = sizeof(cred);
		int fd = accept4(s->listen_fd, NULL, NULL,
		                 SOCK_NONBLOCK | SOCK_CLOEXEC),
		    rc;

		if (fd < 0) {
			int err = errno;
			if (err == EMFILE || err == ENFILE) {
				if (refuse_at_fd_limit(s))
					continue;
			} else if (err != EAGAIN && err != EINTR &&
			           err != ECONNABORTED) {
				strawi_log(STRAWI_LOG_WARN, "accept: %s",
				           strerror(err));
			}
			return;
		}
		if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &cl) < 0) {
			close(fd);
			continue;
		}
		rc = conn_admit(s, fd, cred.uid, cred.gid, cred.pid);
		if (rc < 0) {
			strawi_log(STRAWI_LOG_INFO,
			           "connection from pid %d uid %u refused: %s",
			           (int)cred.pid, (unsigned)cred.uid,
			           straw_strerror(rc));
			reg_conn_refuse(s, fd,
			                rc == STRAW_ECONNQUOTA
			                        ? rc
			                        : STRAW_ESERVERFULL);
		}
	}
}

static void
close_fds(int *fds, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (fds[i] >= 0)
			close(fds[i]);
}

/* Reads and serves up to REG_READS_PER_TURN packets of c. */
static void
conn_read(struct reg_server *s, struct reg_conn *c)
{
	int turn;

	for (turn = 0; turn < REG_READS_PER_TURN && !c->dead && !c->paused &&
	               !c->close_after_flush && c->kill_reason == NULL;
	     turn++) {
		union {
			struct cmsghdr h;
			char buf[CMSG_SPACE(sizeof(int) * REG_MAX_FDS)];
		} cm;
		struct iovec iov = {s->rbuf, REG_MAX_PACKET};
		struct msghdr mh = {0};
		int fds[REG_MAX_FDS];
		size_t nfds = 0, off = 0, flen;
		const uint8_t *frame;
		ssize_t n;
		int rc;

		mh.msg_iov = &iov;
		mh.msg_iovlen = 1;
		mh.msg_control = cm.buf;
		mh.msg_controllen = sizeof(cm.buf);
		n = recvmsg(c->fd, &mh, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
		if (n < 0) {
			if (errno == EAGAIN || errno == EINTR)
				return;
			/* The peer closed with replies unread: reported once,
			 * before what it sent, which is still served. */
			if (errno == ECONNRESET)
				continue;
			reg_conn_close(s, c, strerror(errno));
			return;
		}
		nfds = reg_take_fds(&mh, fds, nfds);
		if (n == 0) {
			close_fds(fds, nfds);
			reg_conn_close(s, c, "hang-up");
			return;
		}
		if (mh.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) {
			close_fds(fds, nfds);
			reg_conn_close(s, c, "oversized packet");
			return;
		}
		while ((rc = reg_frame_next(s->rbuf, (size_t)n, &off, &frame,
		                            &flen)) == 1 &&
		       !c->dead && !c->close_after_flush &&
		       c->kill_reason == NULL)
			/* fds belong to the packet's first request. */
			reg_serve_frame(s, c, frame, flen, fds,
			                off == flen + 4 ? nfds : 0);
		close_fds(fds, nfds);
		if (rc < 0 && !c->dead)
			reg_conn_close(s, c, "malformed frame");
	}
}

/*
 * c's peer is gone (it hung up, or a send to it failed): serves what it
 * sent before it went, then closes c.  So a client's last requests (a
 * tube_close, pipelined writes) count, and a container leaves the registry
 * only after them.  Bounded: the socket's receive queue is.
 */
static void
conn_last_words(struct reg_server *s, struct reg_conn *c, const char *why)
{
	int turns;

	c->paused = 0; /* its replies go nowhere: read on */
	for (turns = 0; turns < 1024 && !c->dead && !c->close_after_flush &&
	                c->kill_reason == NULL;
	     turns++)
		conn_read(s, c);
	if (!c->dead)
		reg_conn_close(s, c, why);
}

static void
flush_dirty(struct reg_server *s)
{
	while (s->dirty != NULL) {
		struct reg_conn *c = s->dirty;
		int rc;

		s->dirty = c->dirty_next;
		c->dirty = 0;
		if (c->dead)
			continue;
		if (c->kill_reason != NULL) {
			reg_conn_close(s, c, c->kill_reason);
			continue;
		}
		rc = reg_conn_flush(s, c);
		if (rc == -EPIPE || rc == -ECONNRESET)
			conn_last_words(s, c, strerror(-rc));
		else if (rc < 0)
			reg_conn_close(s, c, strerror(-rc));
		else if (c->close_after_flush && c->qhead == NULL)
			reg_conn_close(s, c, "protocol error");
	}
}

static void
bury_dead(struct reg_server *s)
{
	while (s->cgrave != NULL) {
		struct reg_container *ct = s->cgrave;
		s->cgrave = ct->next;
		straw_free(ct);
	}
	while (s->grave != NULL) {
		struct reg_conn *c = s->grave;
		s->grave = c->next;
		conn_free(c);
	}
}

static int
bind_socket(struct reg_server *s)
{
	struct sockaddr_un sa = {0};
	char tmp[REG_DIR_MAX + 64];
	int fd, rc;

	rc = reg_rundir_file(s->dir, "strawd.sock", s->sock_path,
	                     sizeof(s->sock_path));
	if (rc < 0)
		return rc;
	snprintf(tmp, sizeof(tmp), "%s/.strawd.sock.%d", s->dir, (int)getpid());
	if (strlen(tmp) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	sa.sun_family = AF_UNIX;
	memcpy(sa.sun_path, tmp, strlen(tmp) + 1);
	unlink(tmp);
	/* Bind under a temporary name and rename it into place once it
	 * listens, so that a client never finds a socket nobody accepts on. */
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    chmod(tmp, 0666) < 0 || listen(fd, 512) < 0 ||
	    rename(tmp, s->sock_path) < 0) {
		rc = -errno;
		unlink(tmp);
		close(fd);
		return rc;
	}
	s->own_socket = 1;
	s->listen_fd = fd;
	return 0;
}

static int
adopt_socket(struct reg_server *s, int fd)
{
	int type = 0, acc = 0, fl;
	socklen_t l = sizeof(type);

	if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &l) < 0)
		return -errno;
	l = sizeof(acc);
	if (getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &acc, &l) < 0)
		return -errno;
	if (type != SOCK_SEQPACKET || !acc)
		return -ENOTSOCK;
	fl = fcntl(fd, F_GETFL);
	if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0 ||
	    fcntl(fd, F_SETFD, FD_CLOEXEC) < 0)
		return -errno;
	s->listen_fd = fd;
	return reg_rundir_file(s->dir, "strawd.sock", s->sock_path,
	                       sizeof(s->sock_path));
}

static int
epoll_add(int epfd, int fd, void *tag)
{
	struct epoll_event ev = {0};

	ev.events = EPOLLIN;
	ev.data.ptr = tag;
	return epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev) < 0 ? -errno : 0;
}

int
reg_server_create(const struct reg_server_opts *opts, struct reg_server **out,
                  int *holder)
{
	struct reg_server *s;
	size_t i;
	int rc;

	*holder = 0;
	s = straw_calloc(1, sizeof(*s));
	if (s == NULL)
		return -ENOMEM;
	s->lock_fd = s->listen_fd = s->epfd = s->stop_fd = -1;
	s->listen_src = REG_SRC_LISTEN;
	s->stop_src = REG_SRC_STOP;
	s->opts = *opts;
	reg_quota_setup(s);
	s->spare_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	s->owner = geteuid();
	s->started_ns = strawi_now_ns();
	straw_builder_init(&s->b);
	straw_builder_init(&s->vb);
	rc = reg_tree_init(&s->tree);
	if (rc < 0)
		goto fail;
	s->tree.on_change = reg_watch_fire;
	s->tree.on_charge = reg_quota_tree_charge;
	s->tree.cb_arg = s;
	s->rbuf = straw_malloc(REG_MAX_PACKET);
	if (s->rbuf == NULL) {
		rc = -ENOMEM;
		goto fail;
	}
	rc = reg_rundir_path(opts->dir, s->dir, sizeof(s->dir));
	if (rc < 0)
		goto fail;
	rc = reg_rundir_create(s->dir);
	if (rc < 0)
		goto fail;
	rc = reg_rundir_lock(s->dir, holder);
	if (rc < 0)
		goto fail;
	s->lock_fd = rc;
	if (straw_machine_id(&s->machine) < 0)
		s->machine = 0;
	if (reg_boot_id(s->boot_id, sizeof(s->boot_id)) < 0)
		snprintf(s->boot_id, sizeof(s->boot_id), "unknown");
	s->last_id = reg_ids_load(s->dir, s->boot_id, s->notes, REG_MAX_NOTES,
	                          &s->nnotes);
	rc = opts->listen_fd_set && opts->listen_fd >= 0
	             ? adopt_socket(s, opts->listen_fd)
	             : bind_socket(s);
	if (rc < 0)
		goto fail;
	s->epfd = epoll_create1(EPOLL_CLOEXEC);
	s->stop_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (s->epfd < 0 || s->stop_fd < 0) {
		rc = -errno;
		goto fail;
	}
	rc = epoll_add(s->epfd, s->listen_fd, &s->listen_src);
	if (rc == 0)
		rc = epoll_add(s->epfd, s->stop_fd, &s->stop_src);
	if (rc == 0)
		rc = reg_server_setup_tree(s);
	if (rc == 0)
		rc = reg_server_handle(s, "usage", reg_quota_usage_fn, NULL);
	if (rc < 0)
		goto fail;
	for (i = 0; opts->modules != NULL && opts->modules[i] != NULL; i++) {
		const struct reg_server_module *m = opts->modules[i];
		rc = m->init(s);
		if (rc < 0) {
			strawi_log(STRAWI_LOG_ERROR, "module %s: %s", m->name,
			           straw_strerror(rc));
			goto fail;
		}
	}
	*out = s;
	return 0;
fail:
	reg_server_destroy(s);
	return rc;
}

/*
 * The process of container ct exited (its pidfd says so).  The kernel hung
 * its socket up before reporting the exit, unless another process shares
 * it: then the requests it sent last (a tube_close, say) are served first
 * and the connection is closed with the container, so that once
 * /containers/<id> is gone strawd holds nothing of it any more.
 */
static void
cont_exited(struct reg_server *s, struct reg_container *ct)
{
	struct reg_conn *c = reg_conn_find(s, ct->conn);
	struct pollfd p;

	if (c == NULL || c->dead || c->container != ct->id) {
		reg_cont_gone(s, ct);
		return;
	}
	p.fd = c->fd;
	p.events = POLLIN;
	p.revents = 0;
	if (poll(&p, 1, 0) != 1 || !(p.revents & POLLHUP)) {
		reg_cont_gone(s, ct); /* its socket lives on elsewhere */
		return;
	}
	conn_last_words(s, c, "process exited");
}

int
reg_server_run_once(struct reg_server *s, int timeout_ms)
{
	struct epoll_event evs[64];
	int i, n;

	n = epoll_wait(s->epfd, evs, (int)STRAW_ARRAY_LEN(evs), timeout_ms);
	if (n < 0)
		return errno == EINTR ? 0 : -errno;
	s->turn++;
	for (i = 0; i < n; i++) {
		enum reg_src_kind *k = evs[i].data.ptr;
		struct reg_conn *c;
		switch (*k) {
		case REG_SRC_LISTEN:
			accept_conns(s);
			break;
		case REG_SRC_STOP:
			__atomic_store_n(&s->stopping, 1, __ATOMIC_RELAXED);
			break;
		case REG_SRC_PIDFD:
			if (!((struct reg_container *)k)->dead)
				cont_exited(s, (struct reg_container *)k);
			break;
		case REG_SRC_CONN:
			c = (struct reg_conn *)k;
			if (c->dead)
				break;
			if (evs[i].events & EPOLLOUT)
				reg_conn_dirty(s, c);
			if ((evs[i].events & (EPOLLHUP | EPOLLERR)) &&
			    c->paused) {
				/* Gone while we were not reading it: its
				 * backed-up output goes nowhere; what it sent
				 * is still served. */
				conn_last_words(s, c, "hang-up");
				break;
			}
			if (evs[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR))
				conn_read(s, c);
			break;
		}
	}
	flush_dirty(s);
	bury_dead(s);
	return n;
}

int
reg_server_run(struct reg_server *s)
{
	int rc;

	while (!__atomic_load_n(&s->stopping, __ATOMIC_RELAXED)) {
		rc = reg_server_run_once(s, -1);
		if (rc < 0)
			return rc;
	}
	return 0;
}

uint64_t
reg_server_turn(const struct reg_server *s)
{
	return s->turn;
}

void
reg_server_stop(struct reg_server *s)
{
	uint64_t one = 1;

	/* An atomic store: async-signal-safe, and seen by the loop. */
	__atomic_store_n(&s->stopping, 1, __ATOMIC_RELAXED);
	(void)!write(s->stop_fd, &one, sizeof(one));
}

void
reg_server_destroy(struct reg_server *s)
{
	if (s == NULL)
		return;
	while (s->conns != NULL)
		reg_conn_close(s, s->conns, "strawd stopping");
	while (s->containers != NULL)
		reg_cont_gone(s, s->containers);
	bury_dead(s);
	if (s->listen_fd >= 0) {
		if (s->own_socket)
			unlink(s->sock_path);
		close(s->listen_fd);
	}
	if (s->epfd >= 0)
		close(s->epfd);
	if (s->stop_fd >= 0)
		close(s->stop_fd);
	if (s->lock_fd >= 0)
		close(s->lock_fd);
	if (s->spare_fd >= 0)
		close(s->spare_fd);
	reg_tree_fini(&s->tree);
	reg_quota_fini(s);
	straw_builder_fini(&s->b);
	straw_builder_fini(&s->vb);
	straw_free(s->rbuf);
	straw_free(s);
}

/* ---- extension API ----------------------------------------------------- */

int
reg_server_handle(struct reg_server *s, const char *op, reg_handler_fn fn,
                  void *arg)
{
	static const char *builtin[] = {
	        "hello",  "read",  "write",    "mkdir",      "rm",
	        "ls",     "get",   "setperms", "watch",      "unwatch",
	        "txn",    "join",  "register", "unregister", "lookup",
	        "status", "check", "reply",    "event",
	};
	size_t i, n = strlen(op);

	if (n == 0 || n > REG_OP_NAME_MAX || fn == NULL)
		return -EINVAL;
	for (i = 0; i < STRAW_ARRAY_LEN(builtin); i++)
		if (strcmp(builtin[i], op) == 0)
			return -EINVAL;
	for (i = 0; i < s->nhandlers; i++)
		if (strcmp(s->handlers[i].op, op) == 0)
			return -EEXIST;
	if (s->nhandlers == REG_MAX_HANDLERS)
		return -ENOMEM;
	memcpy(s->handlers[s->nhandlers].op, op, n + 1);
	s->handlers[s->nhandlers].fn = fn;
	s->handlers[s->nhandlers].arg = arg;
	s->nhandlers++;
	return 0;
}

int
reg_reply_term(struct reg_reply *r, const uint8_t *term, size_t len)
{
	if (len < 2 || term[0] != 131)
		return -EINVAL;
	r->term.len = 0;
	return straw_buf_append(&r->term, term, len);
}

int
reg_reply_fds(struct reg_reply *r, const int *fds, size_t nfds)
{
	size_t i;

	if (r->nfds + nfds > REG_MAX_FDS)
		return -EINVAL;
	for (i = 0; i < nfds; i++) {
		int fd = fcntl(fds[i], F_DUPFD_CLOEXEC, 3);
		if (fd < 0) {
			int rc = -errno;
			while (i-- > 0)
				close(r->fds[--r->nfds]);
			return rc;
		}
		r->fds[r->nfds++] = fd;
	}
	return 0;
}

int
reg_server_reply(struct reg_server *s, uint64_t conn, uint64_t id, int rc,
                 const uint8_t *term, size_t len, const int *fds, size_t nfds)
{
	struct reg_conn *c = reg_conn_find(s, conn);
	straw_buf one = STRAW_BUF_INIT;
	size_t start;
	int r;

	if (c == NULL || c->kill_reason != NULL)
		return -ENOENT;
	if (rc < 0) {
		reg_reply_err(s, c, id, rc);
		return 0;
	}
	if (term != NULL && (len < 2 || term[0] != 131))
		return -EINVAL;
	if (term != NULL && len > REG_MAX_PACKET - 64)
		return -E2BIG;
	if (nfds == 0) {
		start = c->out.len;
		r = term ? reg_enc_reply_term(&c->out, &s->b, id, term + 1,
		                              len - 1)
		         : reg_enc_reply_ok(&c->out, &s->b, id);
		return r < 0 ? r : reg_conn_appended(s, c, start);
	}
	r = term ? reg_enc_reply_term(&one, &s->b, id, term + 1, len - 1)
	         : reg_enc_reply_ok(&one, &s->b, id);
	if (r == 0)
		r = reg_conn_send_fds(s, c, one.data, one.len, fds, nfds);
	straw_buf_fini(&one);
	return r;
}

int
reg_server_on_gone(struct reg_server *s, reg_gone_fn fn, void *arg)
{
	if (s->ngone == REG_MAX_GONE)
		return -ENOMEM;
	s->gone[s->ngone].fn = fn;
	s->gone[s->ngone].arg = arg;
	s->ngone++;
	return 0;
}

int
reg_server_container_conn(const struct reg_server *s, uint32_t id,
                          uint64_t *conn)
{
	struct reg_container *ct = reg_cont_find(s, id);

	if (ct == NULL)
		return -ENOENT;
	*conn = ct->conn;
	return 0;
}

int
reg_server_container_by_name(const struct reg_server *s, const char *name,
                             uint32_t *id)
{
	struct reg_container *ct = reg_cont_by_name(s, name, strlen(name));

	if (ct == NULL)
		return -ENOENT;
	*id = ct->id;
	return 0;
}

int
reg_server_container_proc(const struct reg_server *s, uint32_t id, uid_t *uid,
                          pid_t *pid, int *pidfd)
{
	struct reg_container *ct = reg_cont_find(s, id);

	if (ct == NULL)
		return -ENOENT;
	*uid = ct->uid;
	*pid = ct->pid;
	*pidfd = ct->pidfd;
	return 0;
}

static const struct reg_who server_who = {0, REG_PAYER_SRV};

int
reg_server_write(struct reg_server *s, const char *path, const void *val,
                 size_t len)
{
	size_t n = strlen(path), missing;
	struct reg_node *nd;
	int rc = reg_path_check(path, n);

	if (rc < 0)
		return rc;
	missing = reg_tree_missing(&s->tree, path, n);
	rc = reg_tree_write(&s->tree, &server_who, path, n, val, len);
	if (rc < 0)
		return rc;
	/* Nodes strawd creates belong to it and are readable by all. */
	for (nd = reg_tree_find(&s->tree, path, n); missing-- > 0;
	     nd = nd->parent) {
		nd->owner = s->owner;
		nd->nread = 1;
		nd->acl_read[0] = REG_ANYONE;
	}
	return 0;
}

int
reg_server_rm(struct reg_server *s, const char *path)
{
	size_t n = strlen(path);
	int rc = reg_path_check(path, n);

	return rc < 0 ? rc : reg_tree_rm(&s->tree, &server_who, path, n);
}

int
reg_server_read(struct reg_server *s, const char *path, const uint8_t **val,
                size_t *len)
{
	size_t n = strlen(path);
	int rc = reg_path_check(path, n);

	return rc < 0 ? rc
	              : reg_tree_read(&s->tree, &server_who, path, n, val, len);
}

int
reg_server_set_perms(struct reg_server *s, const char *path,
                     const struct reg_perms *p)
{
	size_t n = strlen(path);
	int rc = reg_path_check(path, n);

	return rc < 0 ? rc
	              : reg_tree_set_perms(&s->tree, &server_who, path, n, p);
}
