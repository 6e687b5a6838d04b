/*
 * A straw: the reliable, ordered channel between this container and one
 * other of the machine, over one reliable-mode tube used both ways (two in
 * the rare case that both sides opened at the same time: each sends on the
 * first it had and reads both).  Sending, the queue and its flusher;
 * reading, putting terms together and handing them to the process layer;
 * the death of a straw.  See route.h and docs/straws.md.
 */
#include <errno.h>
#include <stddef.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>

#include "base/base.h"
#include "base/clock.h"
#include "base/log.h"
#include "route/route.h"
#include "tube/tube_impl.h"

/* Packets written with one call. */
#define TX_BATCH 16

/* First size of a reassembly buffer; it grows with the bytes that come
 * (so a lying length costs no more than what really arrives). */
#define RX_BUF_FIRST (64 * 1024)

static void rx_ready(struct strawi_watch *w, uint32_t revents);
static void rx_again(struct route_rx *x);
static void tx_ready(struct strawi_watch *w, uint32_t revents);
static void straw_flush(struct straw *s);

struct straw *
straw_new(struct route *r, uint32_t peer)
{
	struct straw *s = straw_calloc(1, sizeof(*s));

	if (s == NULL)
		return NULL;
	s->r = r;
	s->peer = peer;
	s->state = STRAW_OPENING;
	s->qtail = &s->qhead;
	s->next_tid = 1;
	s->opened_at = strawi_now_ns();
	s->wwatch.fd = -1;
	s->wwatch.events = EPOLLIN;
	s->wwatch.cb = tx_ready;
	s->wwatch.arg = s;
	return s;
}

void
route_out_done(struct route_out *out, int rc)
{
	straw_msg_unref(out->term);
	straw_free(out->name);
	if (out->w != NULL)
		strawi_waiter_done(out->w, rc, 0);
	straw_free(out);
}

/* ---- frames out ----------------------------------------------------------- */

/* Writes the first frame's header and fields of o into h; returns their
 * length (total length of the term included when it carries one). */
static size_t
first_header(const struct route_out *o, uint8_t *h, size_t total, int more)
{
	size_t n = ROUTE_HDR;

	route_put_hdr(h, o->type, more ? ROUTE_F_MORE : 0, o->to, o->from);
	switch (o->type) {
	case ROUTE_MSG_NAME: {
		size_t nl = strlen(o->name);
		h[n++] = (uint8_t)nl;
		memcpy(h + n, o->name, nl);
		n += nl;
		break;
	}
	case ROUTE_EXIT:
		h[n++] = o->kind;
		break;
	case ROUTE_MONITOR:
	case ROUTE_DEMONITOR:
	case ROUTE_DOWN:
		route_put64(h + n, o->ref);
		n += ROUTE_REF_LEN;
		break;
	default:
		break;
	}
	if (o->term != NULL) {
		route_put32(h + n, (uint32_t)total);
		n += 4;
	}
	return n;
}

/* The bytes of the first header before the term's length, for planning. */
static size_t
first_header_len(const struct route_out *o)
{
	uint8_t h[ROUTE_HDR + 1 + 255 + 8 + 4];

	return first_header(o, h, 0, 0);
}

/*
 * Writes as many frames of o as fit in s->tx without waiting.  Returns 1
 * when o is all written, 0 when the tube is full (its write fd is armed),
 * or a negative code (-EPIPE: the peer is gone).
 */
static int
out_write(struct straw *s, struct route_out *o)
{
	const uint8_t *bytes = o->term != NULL ? straw_msg_data(o->term) : NULL;
	size_t total = o->term != NULL ? straw_msg_len(o->term) : 0;

	for (;;) {
		struct iovec v[2 * TX_BATCH];
		uint8_t first[ROUTE_HDR + 1 + 255 + 8 + 4];
		uint8_t conts[TX_BATCH][ROUTE_HDR];
		size_t chunk[TX_BATCH], off = o->off;
		int n = 0, rc, i;

		while (n < TX_BATCH) {
			size_t hl, c;
			if (!o->started && n == 0) {
				hl = first_header_len(o);
				c = total - off;
				if (c > STRAW_TUBE_MAX_PACKET - hl)
					c = STRAW_TUBE_MAX_PACKET - hl;
				hl = first_header(o, first, total,
				                  off + c < total);
				v[0].iov_base = first;
			} else {
				int more;
				c = total - off;
				if (c > STRAW_TUBE_MAX_PACKET - ROUTE_HDR)
					c = STRAW_TUBE_MAX_PACKET - ROUTE_HDR;
				more = off + c < total;
				route_put_hdr(conts[n], ROUTE_CONT,
				              more ? ROUTE_F_MORE : 0, o->to,
				              o->from);
				hl = ROUTE_HDR;
				v[2 * n].iov_base = conts[n];
			}
			v[2 * n].iov_len = hl;
			v[2 * n + 1].iov_base =
			        bytes != NULL ? (void *)(bytes + off) : NULL;
			v[2 * n + 1].iov_len = c;
			chunk[n] = c;
			off += c;
			n++;
			if (off >= total)
				break;
		}
		rc = strawi_tube_send_pairs(s->tx, v, n, 0);
		if (rc == -ETIMEDOUT)
			return 0;
		if (rc < 0)
			return rc;
		/* A part of the batch went: send on, so that a full tube is
		 * seen by a send that returns -ETIMEDOUT (which arms the
		 * write fd), never by a short count. */
		for (i = 0; i < rc; i++) {
			o->started = 1;
			o->off += chunk[i];
		}
		if (o->off >= total)
			return 1;
	}
}

/* Counts o as sent on s. */
static void
count_out(struct straw *s, const struct route_out *o)
{
	if (o->type == ROUTE_MSG || o->type == ROUTE_MSG_NAME) {
		s->msgs_out++;
		s->bytes_out += straw_msg_len(o->term);
		route_dirty(s);
	}
}

int
straw_try_direct(struct straw *s, struct route_out *out)
{
	int rc;

	if (s->state != STRAW_OPEN || s->qhead != NULL)
		return 0;
	rc = out_write(s, out);
	if (rc == 1)
		count_out(s, out);
	if (rc < 0) {
		straw_kill(s, 0);
		return rc;
	}
	return rc;
}

void
straw_queue(struct straw *s, struct route_out *out)
{
	out->next = NULL;
	*s->qtail = out;
	s->qtail = &out->next;
	s->qlen++;
	if (s->state == STRAW_OPEN && s->qhead == out)
		straw_flush(s);
}

static void
wwatch_set(struct straw *s, int on)
{
	struct strawi_sched *sc = strawi_proc_sched(s->r->c);

	if (on && !s->wwatching) {
		s->wwatch.fd = straw_tube_write_fd(s->tx);
		if (strawi_watch_add(sc, &s->wwatch) == 0)
			s->wwatching = 1;
	} else if (!on && s->wwatching) {
		strawi_watch_del(sc, &s->wwatch);
		s->wwatching = 0;
	}
}

/* Writes the queue until it is empty or the tube is full. */
static void
straw_flush(struct straw *s)
{
	while (s->qhead != NULL && s->state == STRAW_OPEN) {
		struct route_out *o = s->qhead;
		int rc;

		if (!o->started && s->peer_max != 0 && o->term != NULL &&
		    (o->type == ROUTE_MSG || o->type == ROUTE_MSG_NAME) &&
		    straw_msg_len(o->term) > s->peer_max) {
			rc = -EMSGSIZE; /* over the peer's limit: not sent */
		} else {
			rc = out_write(s, o);
			if (rc == 0) {
				wwatch_set(s, 1);
				return;
			}
			if (rc < 0) {
				straw_kill(s, 0);
				return;
			}
			count_out(s, o);
			rc = 0;
		}
		s->qhead = o->next;
		if (s->qhead == NULL)
			s->qtail = &s->qhead;
		s->qlen--;
		route_out_done(o, rc);
	}
	wwatch_set(s, 0);
}

static void
tx_ready(struct strawi_watch *w, uint32_t revents)
{
	struct straw *s = w->arg;

	(void)revents;
	straw_flush(s);
}

/* ---- opening ---------------------------------------------------------- */

/* Sends this side's HELLO on t (the first packet: it fits). */
static int
send_hello(struct straw *s, straw_tube *t)
{
	uint8_t p[ROUTE_HDR + ROUTE_HELLO_LEN];

	route_put_hdr(p, ROUTE_HELLO, 0, 0, 0);
	route_put16(p + ROUTE_HDR, ROUTE_PROTO_VERSION);
	route_put16(p + ROUTE_HDR + 2, 0);
	route_put64(p + ROUTE_HDR + 4, s->r->max_message);
	return straw_tube_send(t, p, sizeof(p), 0);
}

/* Reads tube t too; 0, or a negative code (t is closed then). */
static int
add_rx(struct straw *s, straw_tube *t)
{
	struct route_rx *x;
	int i = s->rx[0] == NULL ? 0 : 1, rc;

	if (s->rx[i] != NULL) { /* a third: cannot happen, refused */
		straw_tube_close(t);
		return -EEXIST;
	}
	x = straw_calloc(1, sizeof(*x));
	if (x == NULL) {
		straw_tube_close(t);
		return -ENOMEM;
	}
	x->s = s;
	x->t = t;
	x->watch.fd = straw_tube_fd(t);
	x->watch.events = EPOLLIN;
	x->watch.cb = rx_ready;
	x->watch.arg = x;
	rc = send_hello(s, t);
	if (rc == 1)
		rc = strawi_watch_add(strawi_proc_sched(s->r->c), &x->watch);
	else if (rc >= 0)
		rc = -EIO; /* a new tube without room: cannot happen */
	if (rc < 0) {
		straw_tube_close(t);
		straw_free(x);
		return rc;
	}
	x->watching = 1;
	(void)straw_tube_set_spin(t, 0); /* read in the scheduler: no spin */
	s->rx[i] = x;
	rx_again(x); /* what came before the first read arms nothing */
	return 0;
}

/* The straw turns open once it has a tube to send on and the peer's HELLO
 * came on it. */
static void
maybe_open(struct straw *s)
{
	struct route_rx *x =
	        s->rx[0] != NULL && s->rx[0]->t == s->tx ? s->rx[0] : s->rx[1];

	if (s->state != STRAW_OPENING || s->tx == NULL || x == NULL ||
	    !x->hello)
		return;
	s->state = STRAW_OPEN;
	strawi_log(STRAWI_LOG_DEBUG, "router: straw to %" PRIu32 " open",
	           s->peer);
	route_dirty(s);
	straw_flush(s);
}

void
straw_accepted(struct straw *s, straw_tube *t)
{
	if (add_rx(s, t) < 0) {
		if (s->tx == NULL && s->rx[0] == NULL)
			straw_kill(s, -ENOMEM);
		return;
	}
	if (s->tx == NULL)
		s->tx = t;
	maybe_open(s);
}

void
straw_opened(struct straw *s, int rc, straw_tube *t)
{
	if (rc == 0) {
		straw_accepted(s, t);
		return;
	}
	if (rc == -EEXIST || rc == -ECONNRESET) {
		/* that tube id is taken, or strawd restarted: again */
		if (s->tx == NULL && straw_open(s) == 0)
			return;
	}
	if (s->tx != NULL)
		return; /* the peer's own tube came first: it serves */
	if (rc == -EACCES)
		strawi_log(STRAWI_LOG_ERROR,
		           "straw to container %" PRIu32
		           ": refused (another uid, not allowed)",
		           s->peer);
	straw_kill(s, rc == -EACCES ? -EACCES : 0);
}

/* ---- frames in -------------------------------------------------------- */

/* Ends the straw for a peer that broke the protocol. */
static void
protocol_error(struct route_rx *x, const char *what)
{
	struct straw *s = x->s;

	strawi_log(STRAWI_LOG_ERROR,
	           "straw to container %" PRIu32 ": %s; closing it", s->peer,
	           what);
	straw_kill(s, 0);
}

static straw_pid
peer_pid(const struct straw *s, uint32_t process)
{
	straw_pid p = {s->r->machine, s->peer, process};
	return p;
}

/* A whole term of type x->type arrived in m (consumed). */
static void
term_done(struct route_rx *x, straw_msg *m)
{
	struct straw *s = x->s;
	straw_container *c = s->r->c;
	straw_ref ref = {s->r->machine, s->r->self, 0, x->ref};

	switch (x->type) {
	case ROUTE_MSG:
		s->msgs_in++;
		s->bytes_in += straw_msg_len(m);
		route_dirty(s);
		strawi_proc_remote_deliver(c, x->to, m);
		return;
	case ROUTE_MSG_NAME:
		s->msgs_in++;
		s->bytes_in += straw_msg_len(m);
		route_dirty(s);
		strawi_proc_remote_deliver_name(c, x->name, m);
		return;
	case ROUTE_EXIT:
		strawi_proc_remote_exit(c, peer_pid(s, x->from), x->to, m,
		                        x->kind);
		break;
	case ROUTE_DOWN:
		strawi_proc_remote_down(c, ref, peer_pid(s, x->from), m);
		break;
	}
	straw_msg_unref(m);
}

/* The first frame of a term: its fields at p[0..n) after the header. */
static int
term_begin(struct route_rx *x, const uint8_t *p, size_t n, int more)
{
	struct route *r = x->s->r;
	size_t off = 0, chunk;
	uint32_t total;

	switch (x->type) {
	case ROUTE_MSG_NAME: {
		size_t nl;
		if (n < 1 || (nl = p[0]) == 0 || n < 1 + nl)
			return -EPROTO;
		memcpy(x->name, p + 1, nl);
		x->name[nl] = '\0';
		if (memchr(x->name, '\0', nl) != NULL)
			return -EPROTO;
		off = 1 + nl;
		break;
	}
	case ROUTE_EXIT:
		if (n < 1 ||
		    (p[0] != STRAWI_SIG_LINK && p[0] != STRAWI_SIG_EXIT))
			return -EPROTO;
		x->kind = p[0];
		off = 1;
		break;
	case ROUTE_DOWN:
		if (n < ROUTE_REF_LEN)
			return -EPROTO;
		x->ref = route_get64(p);
		off = ROUTE_REF_LEN;
		break;
	}
	if (n - off < 4)
		return -EPROTO;
	total = route_get32(p + off);
	off += 4;
	chunk = n - off;
	if (total == 0 || chunk > total || (more != 0) != (chunk < total))
		return -EPROTO;
	if (total > r->max_message)
		return -EMSGSIZE;
	if (!more) {
		straw_msg *m;
		if (straw_msg_new(&m, p + off, total) < 0)
			return -EBADMSG;
		term_done(x, m);
		return 0;
	}
	x->total = total;
	x->got = chunk;
	x->buf = straw_malloc(total < RX_BUF_FIRST ? total : RX_BUF_FIRST);
	if (x->buf == NULL)
		return -ENOMEM;
	memcpy(x->buf, p + off, chunk);
	x->active = 1;
	return 0;
}

/* A CONT frame: bytes p[0..n). */
static int
term_more(struct route_rx *x, const uint8_t *p, size_t n, int more)
{
	size_t cap = x->got < RX_BUF_FIRST ? RX_BUF_FIRST : x->got;
	straw_msg *m;

	if (!x->active || n == 0 || n > x->total - x->got ||
	    (more != 0) != (x->got + n < x->total))
		return -EPROTO;
	if (x->got + n > cap || x->got + n > RX_BUF_FIRST) {
		/* grow to what came, doubling, never past total */
		size_t want = x->got + n, ncap = RX_BUF_FIRST;
		uint8_t *b;
		while (ncap < want)
			ncap *= 2;
		if (ncap > x->total)
			ncap = x->total;
		b = straw_realloc(x->buf, ncap);
		if (b == NULL)
			return -ENOMEM;
		x->buf = b;
	}
	memcpy(x->buf + x->got, p, n);
	x->got += n;
	if (more)
		return 0;
	x->active = 0;
	m = NULL;
	if (straw_msg_take(&m, x->buf, x->total) < 0) {
		x->buf = NULL; /* freed by take */
		return -EBADMSG;
	}
	x->buf = NULL;
	term_done(x, m);
	return 0;
}

/* One frame of len bytes at p. */
static int
rx_frame(struct route_rx *x, const uint8_t *p, size_t len)
{
	struct straw *s = x->s;
	straw_container *c = s->r->c;
	uint8_t type;
	int more;
	uint32_t to, from;
	straw_ref ref;

	if (len < ROUTE_HDR || p[2] != 0 || p[3] != 0)
		return -EPROTO;
	type = p[0];
	more = p[1] & ROUTE_F_MORE;
	if (p[1] & ~ROUTE_F_MORE)
		return -EPROTO;
	to = route_get32(p + 4);
	strawi_log(STRAWI_LOG_DEBUG,
	           "router: frame %u from %" PRIu32 " len %zu", type, s->peer,
	           len);
	from = route_get32(p + 8);
	if (!x->hello && type != ROUTE_HELLO)
		return -EPROTO;
	if (x->active && type != ROUTE_CONT)
		return -EPROTO;
	p += ROUTE_HDR;
	len -= ROUTE_HDR;
	switch (type) {
	case ROUTE_HELLO:
		if (x->hello || len < ROUTE_HELLO_LEN ||
		    route_get16(p) != ROUTE_PROTO_VERSION)
			return -EPROTO;
		x->hello = 1;
		if (x->t == s->tx)
			s->peer_max = route_get64(p + 4);
		maybe_open(s);
		return 0;
	case ROUTE_MSG:
	case ROUTE_MSG_NAME:
	case ROUTE_EXIT:
	case ROUTE_DOWN:
		x->type = type;
		x->to = to;
		x->from = from;
		return term_begin(x, p, len, more);
	case ROUTE_CONT:
		if (!x->active || to != x->to || from != x->from)
			return -EPROTO;
		return term_more(x, p, len, more);
	case ROUTE_LINK:
		return strawi_proc_remote_link(c, peer_pid(s, from), to) < 0
		               ? -ENOMEM
		               : 0;
	case ROUTE_UNLINK:
		strawi_proc_remote_unlink(c, peer_pid(s, from), to);
		return 0;
	case ROUTE_MONITOR:
	case ROUTE_DEMONITOR:
		if (len < ROUTE_REF_LEN)
			return -EPROTO;
		ref.machine = s->r->machine;
		ref.container = s->peer;
		ref.reserved = 0;
		ref.id = route_get64(p);
		if (type == ROUTE_DEMONITOR) {
			strawi_proc_remote_demonitor(c, peer_pid(s, from), to,
			                             ref);
			return 0;
		}
		return strawi_proc_remote_monitor(c, peer_pid(s, from), to,
		                                  ref) < 0
		               ? -ENOMEM
		               : 0;
	}
	return -EPROTO;
}

static const char *
rx_error_text(int rc)
{
	switch (rc) {
	case -EMSGSIZE:
		return "a message over this container's limit";
	case -EBADMSG:
		return "a malformed term";
	case -ENOMEM:
		return "out of memory";
	default:
		return "a malformed frame";
	}
}

static void rx_more_run(struct strawi_task *t);

/* Reads on later, from the scheduler's task queue: the tube's fd turns
 * readable again only after a receive found the tube empty, so a reader
 * that stops at its budget (or that has not read yet) must come back by
 * itself.  The queue is FIFO: a straw's teardown, posted after, runs
 * after. */
static void
rx_again(struct route_rx *x)
{
	if (x->more_posted)
		return;
	x->more_posted = 1;
	x->more.fn = rx_more_run;
	atomic_init(&x->more.next, NULL);
	strawi_sched_post(strawi_proc_sched(x->s->r->c), &x->more);
}

static void
rx_ready(struct strawi_watch *w, uint32_t revents)
{
	struct route_rx *x = w->arg;
	struct straw *s = x->s;
	int i;

	(void)revents;
	if (s->state == STRAW_DEAD)
		return;
	for (i = 0;; i++) {
		if (i == ROUTE_RX_BUDGET) {
			rx_again(x);
			return;
		}
		const void *p;
		int len = straw_tube_peek(x->t, &p, 0), rc;

		if (len == -ETIMEDOUT)
			return;
		if (len < 0) {
			/* -EPIPE: the peer closed or died (everything it sent
			 * was read); STRAW_ETUBECORRUPT */
			if (len != -EPIPE)
				strawi_log(STRAWI_LOG_ERROR,
				           "straw to container %" PRIu32
				           ": %s; closing it",
				           s->peer, straw_strerror(len));
			straw_kill(s, 0);
			return;
		}
		rc = rx_frame(x, p, (size_t)len);
		if (s->state == STRAW_DEAD)
			return; /* a signal ended it (freed once we return) */
		straw_tube_release(x->t);
		if (rc < 0) {
			protocol_error(x, rx_error_text(rc));
			return;
		}
	}
}

static void
rx_more_run(struct strawi_task *t)
{
	struct route_rx *x =
	        (struct route_rx *)((char *)t -
	                            offsetof(struct route_rx, more));

	x->more_posted = 0;
	rx_ready(&x->watch, 0);
}

/* ---- death ---------------------------------------------------------------- */

static void
rx_free(struct straw *s, struct route_rx *x)
{
	if (x == NULL)
		return;
	if (x->watching)
		strawi_watch_del(strawi_proc_sched(s->r->c), &x->watch);
	straw_tube_close(x->t);
	straw_free(x->buf);
	straw_free(x);
}

/* The rest of a straw's end, in the scheduler context and after every
 * callback that may still hold it returned: its tubes close, the process
 * layer hears that the peer is gone (links and monitors fire), it is
 * freed. */
static void
gone_run(struct strawi_task *t)
{
	struct straw *s =
	        (struct straw *)((char *)t - offsetof(struct straw, gone));
	struct route *r = s->r;
	int i;

	for (i = 0; i < 2; i++)
		rx_free(s, s->rx[i]);
	if (!r->stopped)
		strawi_proc_peer_gone(r->c, r->machine, s->peer);
	straw_free(s);
	route_release(r);
}

void
straw_kill(struct straw *s, int err)
{
	struct route *r = s->r;
	int i;

	if (s->state == STRAW_DEAD)
		return;
	s->state = STRAW_DEAD;
	s->err = err;
	wwatch_set(s, 0);
	for (i = 0; i < 2; i++)
		if (s->rx[i] != NULL && s->rx[i]->watching) {
			strawi_watch_del(strawi_proc_sched(r->c),
			                 &s->rx[i]->watch);
			s->rx[i]->watching = 0;
		}
	s->tx = NULL;
	while (s->qhead != NULL) {
		struct route_out *o = s->qhead;
		s->qhead = o->next;
		if (o->type == ROUTE_MSG || o->type == ROUTE_MSG_NAME)
			s->dropped++;
		route_out_done(o, err);
	}
	s->qtail = &s->qhead;
	s->qlen = 0;
	route_straw_forget(r, s, err);
	/* This may run in a callback of s or in a process (a send that found
	 * the peer gone): the rest comes as a task. */
	s->gone.fn = gone_run;
	atomic_init(&s->gone.next, NULL);
	route_hold(r);
	strawi_sched_post(strawi_proc_sched(r->c), &s->gone);
}
