/*
 * The registry server's loop: the listening socket, connections, reading
 * packets, batching and sending output with backpressure, and the lifecycle
 * (lock, socket, stop).  Requests are handled in server_ops.c.
 *
 * One turn of the loop: epoll_wait, then for each ready source accept,
 * read (up to a few packets per connection, so no client starves the
 * others) or reap a container; then flush every connection that got output
 * during the turn, one sendmsg per packet; then free connections that died.
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
reg_conn_dirty(struct reg_server *s, struct reg_conn *c)
{
	if (c->dirty || c->dead)
		return;
	c->dirty = 1;
	c->dirty_next = s->dirty;
	s->dirty = c;
}

static int
conn_epoll(struct reg_server *s, struct reg_conn *c)
{
	struct epoll_event ev = {0};

	ev.events = (c->paused ? 0 : EPOLLIN) | (c->qhead ? EPOLLOUT : 0);
	ev.data.ptr = c;
	return epoll_ctl(s->epfd, EPOLL_CTL_MOD, c->fd, &ev) < 0 ? -errno : 0;
}

static struct reg_outpkt *
outpkt_new(const uint8_t *data, size_t len)
{
	struct reg_outpkt *p = straw_malloc(sizeof(*p) + len);

	if (p == NULL)
		return NULL;
	p->next = NULL;
	p->len = len;
	p->nfds = 0;
	memcpy(p->data, data, len);
	return p;
}

static void
outpkt_free(struct reg_outpkt *p)
{
	size_t i;

	for (i = 0; i < p->nfds; i++)
		close(p->fds[i]);
	straw_free(p);
}

static void
queue_pkt(struct reg_conn *c, struct reg_outpkt *p)
{
	if (c->qtail != NULL)
		c->qtail->next = p;
	else
		c->qhead = p;
	c->qtail = p;
	c->qbytes += p->len + sizeof(*p);
}

/* Moves the first n bytes of c->out into the queue as one packet. */
static int
seal_out(struct reg_conn *c, size_t n)
{
	struct reg_outpkt *p;

	if (n == 0)
		return 0;
	p = outpkt_new(c->out.data, n);
	if (p == NULL)
		return -ENOMEM;
	queue_pkt(c, p);
	memmove(c->out.data, c->out.data + n, c->out.len - n);
	c->out.len -= n;
	return 0;
}

int
reg_conn_appended(struct reg_server *s, struct reg_conn *c, size_t start)
{
	reg_conn_dirty(s, c);
	if (c->out.len <= REG_MAX_PACKET)
		return 0;
	/* A single frame never exceeds a packet (values are capped), so the
	 * frames before `start` go out first. */
	STRAWI_ASSERT(start > 0);
	return seal_out(c, start);
}

int
reg_conn_send_fds(struct reg_server *s, struct reg_conn *c,
                  const uint8_t *frames, size_t len, const int *fds,
                  size_t nfds)
{
	struct reg_outpkt *p;
	size_t i;

	if (nfds > REG_MAX_FDS)
		return -EINVAL;
	if (seal_out(c, c->out.len) < 0)
		return -ENOMEM;
	p = outpkt_new(frames, len);
	if (p == NULL)
		return -ENOMEM;
	for (i = 0; i < nfds; i++) {
		p->fds[i] = fcntl(fds[i], F_DUPFD_CLOEXEC, 3);
		if (p->fds[i] < 0) {
			int rc = -errno;
			p->nfds = i;
			outpkt_free(p);
			return rc;
		}
	}
	p->nfds = nfds;
	queue_pkt(c, p);
	reg_conn_dirty(s, c);
	return 0;
}

/* Sends what c has queued, then c->out.  Returns 0 (maybe with data left
 * queued) or -errno when the connection is broken. */
static int
conn_flush(struct reg_server *s, struct reg_conn *c)
{
	int n;

	if (c->qhead == NULL && c->out.len > 0) {
		n = reg_send_packet(c->fd, c->out.data, c->out.len, NULL, 0);
		if (n >= 0) {
			c->out.len = 0;
			return 0;
		}
		if (n != -EAGAIN)
			return n;
	}
	if (c->out.len > 0 && seal_out(c, c->out.len) < 0)
		return -ENOMEM;
	while (c->qhead != NULL) {
		struct reg_outpkt *p = c->qhead;
		n = reg_send_packet(c->fd, p->data, p->len, p->fds, p->nfds);
		if (n == -EAGAIN)
			break;
		if (n < 0)
			return n;
		c->qhead = p->next;
		if (c->qhead == NULL)
			c->qtail = NULL;
		c->qbytes -= p->len + sizeof(*p);
		outpkt_free(p);
	}
	if (c->qbytes > s->opts.quota_outq)
		return -ENOBUFS;
	/* Stop reading requests while replies back up; resume when sent. */
	if (!!c->paused != !!c->qhead) {
		c->paused = c->qhead != NULL;
		conn_epoll(s, c);
	} else if (c->qhead != NULL) {
		conn_epoll(s, c);
	}
	return 0;
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
	while (c->qhead != NULL) {
		struct reg_outpkt *p = c->qhead;
		c->qhead = p->next;
		outpkt_free(p);
	}
	straw_buf_fini(&c->out);
	straw_free(c);
}

static void
accept_conns(struct reg_server *s)
{
	for (;;) {
		struct epoll_event ev = {0};
		struct ucred cred;
		socklen_t cl = sizeof(cred);
		int sndbuf = 2 * REG_MAX_PACKET;
		struct reg_conn *c;
		int fd = accept4(s->listen_fd, NULL, NULL,
		                 SOCK_NONBLOCK | SOCK_CLOEXEC);

		if (fd < 0) {
			if (errno != EAGAIN && errno != EINTR &&
			    errno != ECONNABORTED)
				strawi_log(STRAWI_LOG_WARN, "accept: %s",
				           strerror(errno));
			return;
		}
		if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &cl) < 0 ||
		    (c = straw_calloc(1, sizeof(*c))) == NULL) {
			close(fd);
			continue;
		}
		/* Room for whole packets both ways (capped by wmem_max). */
		setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof(sndbuf));
		c->kind = REG_SRC_CONN;
		c->id = ++s->next_conn;
		c->fd = fd;
		c->uid = cred.uid;
		c->gid = cred.gid;
		c->pid = cred.pid;
		ev.events = EPOLLIN;
		ev.data.ptr = c;
		if (epoll_ctl(s->epfd, EPOLL_CTL_ADD, fd, &ev) < 0) {
			close(fd);
			straw_free(c);
			continue;
		}
		c->hnext = s->conn_hash[c->id % REG_CONN_BUCKETS];
		s->conn_hash[c->id % REG_CONN_BUCKETS] = c;
		c->next = s->conns;
		if (s->conns != NULL)
			s->conns->prev = c;
		s->conns = c;
		s->nconns++;
		strawi_log(STRAWI_LOG_INFO,
		           "connection %llu from pid %d uid %u",
		           (unsigned long long)c->id, (int)c->pid,
		           (unsigned)c->uid);
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
	               !c->close_after_flush;
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
		       !c->dead && !c->close_after_flush)
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
	for (turns = 0; turns < 1024 && !c->dead && !c->close_after_flush;
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
		rc = conn_flush(s, c);
		if (rc == -EPIPE || rc == -ECONNRESET)
			conn_last_words(s, c, strerror(-rc));
		else if (rc == -ENOBUFS)
			reg_conn_close(s, c,
			               "not reading its messages "
			               "(output queue full)");
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
	if (s->opts.quota_nodes == 0)
		s->opts.quota_nodes = 10000;
	if (s->opts.quota_value == 0 || s->opts.quota_value > REG_MAX_VALUE)
		s->opts.quota_value = opts->quota_value > REG_MAX_VALUE
		                              ? REG_MAX_VALUE
		                              : 65536;
	if (s->opts.quota_watches == 0)
		s->opts.quota_watches = 256;
	if (s->opts.quota_outq == 0)
		s->opts.quota_outq = (size_t)4 << 20;
	s->owner = geteuid();
	s->started_ns = strawi_now_ns();
	straw_builder_init(&s->b);
	straw_builder_init(&s->vb);
	rc = reg_tree_init(&s->tree);
	if (rc < 0)
		goto fail;
	s->tree.on_change = reg_watch_fire;
	s->tree.on_free = reg_node_freed;
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
	if (reg_machine_id(&s->machine) < 0)
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
reg_server_run(struct reg_server *s)
{
	struct epoll_event evs[64];
	int i, n;

	while (!__atomic_load_n(&s->stopping, __ATOMIC_RELAXED)) {
		n = epoll_wait(s->epfd, evs, (int)STRAW_ARRAY_LEN(evs), -1);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		for (i = 0; i < n; i++) {
			enum reg_src_kind *k = evs[i].data.ptr;
			struct reg_conn *c;
			switch (*k) {
			case REG_SRC_LISTEN:
				accept_conns(s);
				break;
			case REG_SRC_STOP:
				__atomic_store_n(&s->stopping, 1,
				                 __ATOMIC_RELAXED);
				break;
			case REG_SRC_PIDFD:
				if (!((struct reg_container *)k)->dead)
					cont_exited(s,
					            (struct reg_container *)k);
				break;
			case REG_SRC_CONN:
				c = (struct reg_conn *)k;
				if (c->dead)
					break;
				if (evs[i].events & EPOLLOUT)
					reg_conn_dirty(s, c);
				if ((evs[i].events & (EPOLLHUP | EPOLLERR)) &&
				    c->paused) {
					/* Gone while we were not reading it:
					 * its backed-up output goes nowhere;
					 * what it sent is still served. */
					conn_last_words(s, c, "hang-up");
					break;
				}
				if (evs[i].events &
				    (EPOLLIN | EPOLLHUP | EPOLLERR))
					conn_read(s, c);
				break;
			}
		}
		flush_dirty(s);
		bury_dead(s);
	}
	return 0;
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
	reg_tree_fini(&s->tree);
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

	if (c == NULL)
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

static const struct reg_who server_who = {0, REG_CREATOR_SRV};

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
