/*
 * The registry server's output: frames are appended to a connection's
 * packet under construction, cut into packets, sent at the end of the
 * turn (one sendmsg each) and queued behind EAGAIN, with backpressure (a
 * connection whose replies back up is not read until they are sent).
 *
 * Output is bounded three ways, like Redis's client-output-buffer-limit:
 * per connection (quota_outq), per uid (quota_outq_uid, root exempt) and
 * for all connections together (max_outq).  The limits are applied as
 * output is appended, not only when it is flushed, so that one turn that
 * makes many events cannot grow strawd past them.  A connection past its
 * own or its uid's limit, or holding the most output when the total is
 * past its limit, has its output freed at once, gets nothing more, and is
 * closed at the end of the turn with the reason logged.  Descriptors
 * queued to connections that do not read (tube replies) are bounded the
 * same way (REG_MAX_QFDS_CONN, REG_MAX_QFDS).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "base/base.h"
#include "base/log.h"
#include "strawd/server_int.h"

/* An empty packet buffer bigger than this is freed after a flush. */
#define OUT_KEEP_BYTES (16 * 1024)

void
reg_conn_dirty(struct reg_server *s, struct reg_conn *c)
{
	if (c->dirty || c->dead)
		return;
	c->dirty = 1;
	c->dirty_next = s->dirty;
	s->dirty = c;
}

int
reg_conn_epoll(struct reg_server *s, struct reg_conn *c)
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

/* Brings c's charge (its packet buffer's capacity and its queued packets)
 * up to date in its uid's record and in the server's total. */
static void
out_recharge(struct reg_server *s, struct reg_conn *c)
{
	size_t now = c->out.cap + c->qbytes;

	if (now > c->charged) {
		reg_uid_add(c->acct, REG_RES_OUTQ, now - c->charged);
		s->outq_total += now - c->charged;
	} else if (now < c->charged) {
		reg_uid_sub(s, c->acct, REG_RES_OUTQ, c->charged - now);
		s->outq_total -= c->charged - now;
	}
	c->charged = now;
}

void
reg_conn_out_free(struct reg_server *s, struct reg_conn *c)
{
	while (c->qhead != NULL) {
		struct reg_outpkt *p = c->qhead;
		c->qhead = p->next;
		outpkt_free(p);
	}
	c->qtail = NULL;
	c->qbytes = 0;
	s->qfds_total -= c->qfds;
	c->qfds = 0;
	straw_buf_fini(&c->out);
	out_recharge(s, c);
}

/* c goes: its output is freed now, it gets nothing more, and it is
 * closed at the end of the turn (it may be in use further up the stack,
 * e.g. by the watch walk). */
static void
overflow(struct reg_server *s, struct reg_conn *c, const char *why)
{
	if (c->kill_reason != NULL || c->dead)
		return;
	c->kill_reason = why;
	reg_conn_out_free(s, c);
	reg_conn_dirty(s, c);
}

/* The live connection holding the most output (or descriptors), of uid
 * record u only if u is not NULL. */
static struct reg_conn *
largest(struct reg_server *s, const struct reg_uid *u, int by_fds)
{
	struct reg_conn *c, *big = NULL;

	for (c = s->conns; c != NULL; c = c->next) {
		if (c->kill_reason != NULL || (u != NULL && c->acct != u))
			continue;
		if (by_fds ? c->qfds > (big ? big->qfds : 0)
		           : c->charged > (big ? big->charged : 0))
			big = c;
	}
	return big;
}

/* Applies the output limits after c's output grew.  Past its uid's or
 * strawd's limit, the connection that holds the most goes (not the one
 * that happened to grow last: a client reading its replies promptly is
 * not dropped for another's backlog). */
static void
out_limits(struct reg_server *s, struct reg_conn *c)
{
	struct reg_conn *big;

	out_recharge(s, c);
	if (c->charged > s->opts.quota_outq)
		overflow(s, c, "not reading its messages (output queue full)");
	else if (c->qfds > REG_MAX_QFDS_CONN)
		overflow(s, c,
		         "not reading its replies (too many descriptors "
		         "queued)");
	while (!reg_uid_room(s, c->acct, REG_RES_OUTQ, 0) &&
	       (big = largest(s, c->acct, 0)) != NULL)
		overflow(s, big,
		         "not reading its messages (its uid's output quota is "
		         "full and it held the most)");
	while (s->outq_total > s->opts.max_outq &&
	       (big = largest(s, NULL, 0)) != NULL)
		overflow(s, big,
		         "not reading its messages (strawd's output limit "
		         "reached and it held the most)");
	while (s->qfds_total > REG_MAX_QFDS &&
	       (big = largest(s, NULL, 1)) != NULL)
		overflow(s, big,
		         "not reading its replies (strawd's limit of queued "
		         "descriptors reached and it held the most)");
}

static void
queue_pkt(struct reg_server *s, struct reg_conn *c, struct reg_outpkt *p)
{
	if (c->qtail != NULL)
		c->qtail->next = p;
	else
		c->qhead = p;
	c->qtail = p;
	c->qbytes += p->len + sizeof(*p);
	c->qfds += p->nfds;
	s->qfds_total += p->nfds;
}

/* Moves the first n bytes of c->out into the queue as one packet. */
static int
seal_out(struct reg_server *s, struct reg_conn *c, size_t n)
{
	struct reg_outpkt *p;

	if (n == 0)
		return 0;
	p = outpkt_new(c->out.data, n);
	if (p == NULL)
		return -ENOMEM;
	queue_pkt(s, c, p);
	memmove(c->out.data, c->out.data + n, c->out.len - n);
	c->out.len -= n;
	return 0;
}

int
reg_conn_appended(struct reg_server *s, struct reg_conn *c, size_t start)
{
	int rc = 0;

	if (c->kill_reason != NULL || c->dead) {
		/* Going: what it is given goes nowhere. */
		straw_buf_fini(&c->out);
		return 0;
	}
	reg_conn_dirty(s, c);
	/* A single frame never exceeds a packet (values are capped), so the
	 * frames before `start` go out first. */
	if (c->out.len > REG_MAX_PACKET) {
		STRAWI_ASSERT(start > 0);
		rc = seal_out(s, c, start);
	}
	out_limits(s, c);
	return rc;
}

/* Sends queued packets until EAGAIN.  0, or -errno when broken. */
static int
send_queued(struct reg_server *s, struct reg_conn *c)
{
	while (c->qhead != NULL) {
		struct reg_outpkt *p = c->qhead;
		int n = reg_send_packet(c->fd, p->data, p->len, p->fds,
		                        p->nfds);
		if (n == -EAGAIN)
			break;
		if (n < 0)
			return n;
		c->qhead = p->next;
		if (c->qhead == NULL)
			c->qtail = NULL;
		c->qbytes -= p->len + sizeof(*p);
		c->qfds -= p->nfds;
		s->qfds_total -= p->nfds;
		outpkt_free(p);
	}
	return 0;
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
	if (c->kill_reason != NULL || c->dead)
		return -ENOENT;
	if (seal_out(s, c, c->out.len) < 0)
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
	queue_pkt(s, c, p);
	reg_conn_dirty(s, c);
	/* Sent now if the client reads, so that strawd holds descriptors
	 * only for clients that do not; errors are for the flush. */
	if (!c->paused)
		(void)send_queued(s, c);
	out_limits(s, c);
	return 0;
}

int
reg_conn_flush(struct reg_server *s, struct reg_conn *c)
{
	int n;
	int rc;

	if (c->qhead == NULL && c->out.len > 0) {
		n = reg_send_packet(c->fd, c->out.data, c->out.len, NULL, 0);
		if (n >= 0)
			c->out.len = 0;
		else if (n != -EAGAIN)
			return n;
	}
	if (c->out.len > 0 && seal_out(s, c, c->out.len) < 0)
		return -ENOMEM;
	rc = send_queued(s, c);
	if (rc < 0)
		return rc;
	if (c->out.len == 0 && c->out.cap > OUT_KEEP_BYTES)
		straw_buf_fini(&c->out);
	out_recharge(s, c);
	/* Stop reading requests while replies back up; resume when sent. */
	if (!!c->paused != !!c->qhead) {
		c->paused = c->qhead != NULL;
		reg_conn_epoll(s, c);
	} else if (c->qhead != NULL) {
		reg_conn_epoll(s, c);
	}
	return 0;
}

void
reg_conn_refuse(struct reg_server *s, int fd, int code)
{
	union {
		struct cmsghdr h;
		char buf[CMSG_SPACE(sizeof(int) * REG_MAX_FDS)];
	} cm;
	struct iovec iov = {s->rbuf, REG_MAX_PACKET};
	straw_buf pkt = STRAW_BUF_INIT;
	struct msghdr mh = {0};
	const uint8_t *frame;
	size_t off = 0, flen, nfds;
	int fds[REG_MAX_FDS], known;
	struct reg_req r;
	uint64_t id = 0;
	ssize_t n;

	/* A client sends its hello at once: answer it if it is there, so
	 * that its handshake fails with the code; else say it with id 0,
	 * which no request has. */
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	mh.msg_control = cm.buf;
	mh.msg_controllen = sizeof(cm.buf);
	n = recvmsg(fd, &mh, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
	if (n > 0) {
		nfds = reg_take_fds(&mh, fds, 0);
		while (nfds > 0)
			close(fds[--nfds]);
		if (reg_frame_next(s->rbuf, (size_t)n, &off, &frame, &flen) ==
		            1 &&
		    reg_msg_decode_req(frame, flen, &r, &known) == 0 &&
		    r.op == REG_OP_HELLO)
			id = r.id;
	}
	if (reg_enc_reply_err(&pkt, &s->b, id, code) == 0)
		(void)reg_send_packet(fd, pkt.data, pkt.len, NULL, 0);
	straw_buf_fini(&pkt);
	close(fd);
	s->refused++;
}
