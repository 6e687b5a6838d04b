/*
 * src/tube/broker.c - strawd's tube broker (a registry server module).
 *
 * Requests (bodies are terms):
 *   tube_open   {Peer :: binary, Tid, Mode, TimeoutMs[, Service :: binary]}
 *   tube_accept {TimeoutMs[, Service :: binary, TidMin, TidMax]}
 *   tube_close  {Opener, Acceptor, Tid, Side}
 *   tube_publish {}
 *   tube_adopt  {Opener, Acceptor, Tid, Side, PeerGone} + the memfd
 *
 * An open and an accept meet in either order: whichever comes first waits
 * (REG_REPLY_LATER) until the other arrives or its time is up.  An accept
 * takes only opens that name its service (<<>> or absent: none) and whose
 * tid lies in [TidMin, TidMax] (absent: any), so that acceptors with
 * disjoint filters (the router's straws, an application's tubes) never
 * take each other's opens.  Then strawd
 * creates the memfd, the eventfds and the socketpair, answers both with
 * their side number and their six descriptors (SCM_RIGHTS), and closes its
 * own copies, so that each socket end lives only in its side's process.
 * strawd keeps the header page mapped read-only to publish the counters:
 *
 *   /tubes/<opener>-<acceptor>-<tid>/state        open | closing
 *   /tubes/<opener>-<acceptor>-<tid>/mode         drop | reliable
 *   /tubes/<opener>-<acceptor>-<tid>/<container>/{state, sent, sent_bytes,
 *                 received, received_bytes, dropped, dropped_bytes, wakeups}
 *
 * published when the tube opens, when either side closes or dies, and on
 * tube_publish (what `straw tubes` sends) - never per packet.  When both
 * sides are gone the entry and the mapping go away.
 *
 * A strawd started after another died knows no tubes: each side that is
 * still open announces its tube again with tube_adopt once its container
 * has rejoined (src/tube/tube_open.c), passing the tube's memfd so that
 * strawd can map the header page again.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <straw/term.h>

#include "base/base.h"
#include "base/clock.h"
#include "base/log.h"
#include "strawd/server.h"
#include "tube/tube_impl.h"

enum { PEND_OPEN, PEND_ACCEPT };

/* Tubes a container may announce with tube_adopt (a tube_adopt needs no
 * peer, so it is bounded on its own). */
#define TUBE_ADOPT_MAX 4096

/* A request waiting for its other half. */
struct pending {
	int kind;           /* PEND_OPEN or PEND_ACCEPT */
	uint64_t conn, id;  /* where to answer */
	uint32_t container; /* who asked */
	uint32_t peer;      /* open: the container it names */
	uint32_t tid;       /* open: the tube id */
	int mode;           /* open: the mode */
	int64_t deadline;   /* ns; past it the request is not matched */
	char service[STRAW_TUBE_SERVICE_MAX + 1]; /* open's; accept's filter */
	uint32_t tid_min, tid_max;                /* accept: tids it takes */
	struct pending *next;
};

/* A tube strawd brokered and still tracks. */
struct tube_rec {
	uint32_t c[2];              /* opener, acceptor */
	uint32_t tid;               /* tube id */
	int mode;                   /* enum straw_tube_mode */
	int gone[2];                /* side closed or died */
	const struct tube_shm *shm; /* header page, read-only */
	dev_t dev;                  /* the memfd's identity, which a */
	ino_t ino;                  /* tube_adopt must present again */
	struct tube_rec *next;
};

static struct pending *pendings;
static struct tube_rec *tubes;

static void
rec_path(const struct tube_rec *t, char *buf, size_t cap)
{
	snprintf(buf, cap, "/tubes/%u-%u-%u", t->c[0], t->c[1], t->tid);
}

static void
put(struct reg_server *s, const char *base, const char *leaf, const char *val)
{
	char path[160];

	snprintf(path, sizeof(path), "%s/%s", base, leaf);
	reg_server_write(s, path, val, strlen(val));
}

static void
put_u64(struct reg_server *s, const char *base, const char *leaf, uint64_t v)
{
	char val[32];

	snprintf(val, sizeof(val), "%llu", (unsigned long long)v);
	put(s, base, leaf, val);
}

/* Writes the tube's state and both sides' counters to the registry. */
static void
publish(struct reg_server *s, const struct tube_rec *t)
{
	char base[96], side[128];
	int i;

	rec_path(t, base, sizeof(base));
	put(s, base, "mode", t->mode == STRAW_TUBE_DROP ? "drop" : "reliable");
	put(s, base, "state", t->gone[0] || t->gone[1] ? "closing" : "open");
	for (i = 0; i < 2; i++) {
		const struct tube_shm_stats *st = &t->shm->stats[i];
		snprintf(side, sizeof(side), "%s/%u", base, t->c[i]);
		put(s, side, "state", t->gone[i] ? "closed" : "open");
		put_u64(s, side, "sent", atomic_load(&st->sent));
		put_u64(s, side, "sent_bytes", atomic_load(&st->sent_bytes));
		put_u64(s, side, "received", atomic_load(&st->received));
		put_u64(s, side, "received_bytes",
		        atomic_load(&st->received_bytes));
		put_u64(s, side, "dropped", atomic_load(&st->dropped));
		put_u64(s, side, "dropped_bytes",
		        atomic_load(&st->dropped_bytes));
		put_u64(s, side, "wakeups", atomic_load(&st->wakeups));
	}
}

/* Marks side i of t gone; forgets t when both are.  The other side is
 * gone as well when its container is not (or not yet again) joined: after
 * a restart of strawd, a side that has not announced its tube again may
 * never do so (and if it does, tube_adopt records the tube anew). */
static void
side_gone(struct reg_server *s, struct tube_rec *t, int i)
{
	struct tube_rec **pp;
	char base[96];
	uint64_t conn;

	t->gone[i] = 1;
	if (!t->gone[1 - i] &&
	    reg_server_container_conn(s, t->c[1 - i], &conn) < 0)
		t->gone[1 - i] = 1;
	if (!t->gone[1 - i]) {
		publish(s, t);
		return;
	}
	for (pp = &tubes; *pp != t; pp = &(*pp)->next)
		;
	*pp = t->next;
	/* Everything is released before the entry goes, so that a watcher
	 * of /tubes that sees it go finds nothing of the tube in strawd. */
	munmap((void *)t->shm, TUBE_HDR_BYTES);
	rec_path(t, base, sizeof(base));
	straw_free(t);
	reg_server_rm(s, base);
}

/* Drops waiting requests whose time is up (their client gave up). */
static void
prune(void)
{
	struct pending **pp = &pendings, *p;
	int64_t now = strawi_now_ns();

	while ((p = *pp) != NULL) {
		if (p->deadline <= now) {
			*pp = p->next;
			straw_free(p);
		} else {
			pp = &p->next;
		}
	}
}

static int
reply_side(uint8_t *buf, int side)
{
	buf[0] = 131;
	buf[1] = 97; /* SMALL_INTEGER_EXT */
	buf[2] = (uint8_t)side;
	return 3;
}

/*
 * Creates tube (opener, acceptor, tid, mode) and answers the deferred
 * request `later` (side later_side) with reg_server_reply and the current
 * one through *reply.  Returns 0, or a negative code when the deferred
 * requester is gone (nothing created then) or creation failed.
 */
static int
make_tube(struct reg_server *s, uint32_t opener, uint32_t acceptor,
          uint32_t tid, int mode, const struct pending *later, int later_side,
          struct reg_reply *reply)
{
	struct strawi_tube_pair p;
	struct tube_rec *t;
	struct stat st;
	uint8_t term[3];
	void *hdr;
	int rc;

	t = straw_calloc(1, sizeof(*t));
	if (t == NULL)
		return -ENOMEM;
	rc = strawi_tube_pair_create((enum straw_tube_mode)mode, tid, opener,
	                             acceptor, &p);
	if (rc < 0) {
		straw_free(t);
		return rc;
	}
	if (fstat(p.fds[0][STRAWI_TUBE_FD_MEM], &st) < 0) {
		rc = -errno;
		goto fail;
	}
	hdr = mmap(NULL, TUBE_HDR_BYTES, PROT_READ, MAP_SHARED,
	           p.fds[0][STRAWI_TUBE_FD_MEM], 0);
	if (hdr == MAP_FAILED) {
		rc = -errno;
		goto fail;
	}
	rc = reg_server_reply(s, later->conn, later->id, 0, term,
	                      (size_t)reply_side(term, later_side),
	                      p.fds[later_side], STRAWI_TUBE_NFDS);
	if (rc == 0) {
		reply_side(term, 1 - later_side);
		rc = reg_reply_term(reply, term, 3);
		if (rc == 0)
			rc = reg_reply_fds(reply, p.fds[1 - later_side],
			                   STRAWI_TUBE_NFDS);
		/* If this failed, the deferred side holds a tube whose peer
		 * never comes: it sees the hang-up at once. */
	}
	if (rc < 0) {
		munmap(hdr, TUBE_HDR_BYTES);
		goto fail;
	}
	strawi_tube_pair_close_side(&p, 0);
	strawi_tube_pair_close_side(&p, 1);
	t->c[0] = opener;
	t->c[1] = acceptor;
	t->tid = tid;
	t->mode = mode;
	t->shm = hdr;
	t->dev = st.st_dev;
	t->ino = st.st_ino;
	t->next = tubes;
	tubes = t;
	publish(s, t);
	strawi_log(STRAWI_LOG_INFO, "tube %u-%u-%u open", opener, acceptor,
	           tid);
	return 0;
fail:
	strawi_tube_pair_close_side(&p, 0);
	strawi_tube_pair_close_side(&p, 1);
	straw_free(t);
	return rc;
}

static int
body_cursor(const struct reg_request *req, straw_cursor *c, uint32_t arity)
{
	uint32_t n = 0;

	if (straw_term_check_body(req->body, req->body_len, NULL, NULL) < 0)
		return -EINVAL;
	straw_cursor_init_body(c, req->body, req->body_len);
	if (straw_cursor_tuple(c, &n) < 0 || n != arity)
		return -EINVAL;
	return 0;
}

static int64_t
deadline_for(int64_t timeout_ms)
{
	/* A little before the client's own time is up, so that a tube is
	 * never handed to a caller that already gave up. */
	if (timeout_ms < 0)
		return INT64_MAX;
	return strawi_now_ns() + timeout_ms * 1000000 - 20000000;
}

/* Resolves a container given by decimal id or name to a live id. */
static int
resolve(struct reg_server *s, const uint8_t *name, size_t len, uint32_t *id)
{
	char buf[256];
	uint64_t conn;
	size_t i;

	if (len == 0 || len >= sizeof(buf))
		return -EINVAL;
	memcpy(buf, name, len);
	buf[len] = '\0';
	for (i = 0; i < len && buf[i] >= '0' && buf[i] <= '9'; i++)
		;
	if (i == len) {
		unsigned long v = strtoul(buf, NULL, 10);
		if (v == 0 || v > UINT32_MAX)
			return -ENOENT;
		*id = (uint32_t)v;
		return reg_server_container_conn(s, *id, &conn);
	}
	return reg_server_container_by_name(s, buf, id);
}

/* 0 if a process of uid may open a tube to container peer. */
static int
allowed(struct reg_server *s, uid_t uid, uint32_t peer)
{
	char path[96], list[512], *tok, *save;
	const uint8_t *v;
	size_t len;

	if (uid == 0)
		return 0;
	snprintf(path, sizeof(path), "/containers/%u/uid", peer);
	if (reg_server_read(s, path, &v, &len) == 0 && len < 32) {
		char buf[32];
		memcpy(buf, v, len);
		buf[len] = '\0';
		if (strtoul(buf, NULL, 10) == (unsigned long)uid)
			return 0;
	}
	/* The peer may let others in: a list of uids, or "*". */
	snprintf(path, sizeof(path), "/containers/%u/data/tubes-from", peer);
	if (reg_server_read(s, path, &v, &len) < 0 || len >= sizeof(list))
		return -EACCES;
	memcpy(list, v, len);
	list[len] = '\0';
	for (tok = strtok_r(list, " ,\n", &save); tok != NULL;
	     tok = strtok_r(NULL, " ,\n", &save)) {
		char *end;
		unsigned long u;
		if (strcmp(tok, "*") == 0)
			return 0;
		u = strtoul(tok, &end, 10);
		if (*end == '\0' && u == (unsigned long)uid)
			return 0;
	}
	return -EACCES;
}

static int
exists(uint32_t a, uint32_t b, uint32_t tid)
{
	const struct tube_rec *t;
	const struct pending *p;

	for (t = tubes; t != NULL; t = t->next)
		if (t->c[0] == a && t->c[1] == b && t->tid == tid)
			return 1;
	for (p = pendings; p != NULL; p = p->next)
		if (p->kind == PEND_OPEN && p->container == a && p->peer == b &&
		    p->tid == tid)
			return 1;
	return 0;
}

/* Reads a service name (at most STRAW_TUBE_SERVICE_MAX bytes of
 * [A-Za-z0-9_.-]; empty: none) into buf. */
static int
read_service(straw_cursor *c, char buf[STRAW_TUBE_SERVICE_MAX + 1])
{
	const uint8_t *v;
	size_t n, i;

	if (straw_cursor_binary(c, &v, &n) < 0 || n > STRAW_TUBE_SERVICE_MAX)
		return -EINVAL;
	for (i = 0; i < n; i++)
		if (!((v[i] >= 'a' && v[i] <= 'z') ||
		      (v[i] >= 'A' && v[i] <= 'Z') ||
		      (v[i] >= '0' && v[i] <= '9') || v[i] == '_' ||
		      v[i] == '.' || v[i] == '-'))
			return -EINVAL;
	memcpy(buf, v, n);
	buf[n] = '\0';
	return 0;
}

/* Whether an accept filtering on fservice and [lo, hi] takes an open of
 * tid for service. */
static int
accept_takes(const char *fservice, uint32_t lo, uint32_t hi, uint32_t tid,
             const char *service)
{
	return tid >= lo && tid <= hi && strcmp(fservice, service) == 0;
}

/* What a request asks beyond its kind: an open's tube, an accept's
 * filter. */
struct want {
	uint32_t peer, tid;                       /* open */
	int mode;                                 /* open */
	char service[STRAW_TUBE_SERVICE_MAX + 1]; /* both */
	uint32_t tid_min, tid_max;                /* accept */
};

static int
add_pending(const struct reg_request *req, int kind, const struct want *w,
            int64_t timeout_ms)
{
	struct pending *p = straw_calloc(1, sizeof(*p)), **pp;

	if (p == NULL)
		return -ENOMEM;
	p->kind = kind;
	p->conn = req->conn;
	p->id = req->id;
	p->container = req->container;
	p->peer = w->peer;
	p->tid = w->tid;
	p->mode = w->mode;
	memcpy(p->service, w->service, sizeof(p->service));
	p->tid_min = w->tid_min;
	p->tid_max = w->tid_max;
	p->deadline = deadline_for(timeout_ms);
	for (pp = &pendings; *pp != NULL; pp = &(*pp)->next)
		; /* FIFO */
	*pp = p;
	return REG_REPLY_LATER;
}

static int
tube_open_fn(struct reg_server *s, void *arg, const struct reg_request *req,
             struct reg_reply *reply)
{
	struct pending **pp, *p;
	struct want w = {0, 0, 0, "", 0, 0};
	straw_cursor c;
	const uint8_t *name = NULL;
	size_t nlen = 0;
	int64_t tid = 0, mode = 0, timeout = 0;
	uint32_t peer;
	int rc;

	(void)arg;
	if (req->container == 0)
		return STRAW_ENOTJOINED;
	if ((body_cursor(req, &c, 5) < 0 && body_cursor(req, &c, 4) < 0) ||
	    straw_cursor_binary(&c, &name, &nlen) < 0 ||
	    straw_cursor_int64(&c, &tid) < 0 ||
	    straw_cursor_int64(&c, &mode) < 0 ||
	    straw_cursor_int64(&c, &timeout) < 0 || tid < 0 ||
	    tid > UINT32_MAX ||
	    (mode != STRAW_TUBE_DROP && mode != STRAW_TUBE_RELIABLE) ||
	    (!straw_cursor_at_end(&c) && read_service(&c, w.service) < 0))
		return -EINVAL;
	rc = resolve(s, name, nlen, &peer);
	if (rc < 0)
		return rc;
	if (peer == req->container)
		return -EINVAL;
	rc = allowed(s, req->uid, peer);
	if (rc < 0)
		return rc;
	prune();
	if (exists(req->container, peer, (uint32_t)tid))
		return -EEXIST;
	for (pp = &pendings; (p = *pp) != NULL;) {
		if (p->kind != PEND_ACCEPT || p->container != peer ||
		    !accept_takes(p->service, p->tid_min, p->tid_max,
		                  (uint32_t)tid, w.service)) {
			pp = &p->next;
			continue;
		}
		*pp = p->next;
		rc = make_tube(s, req->container, peer, (uint32_t)tid,
		               (int)mode, p, 1, reply);
		straw_free(p);
		if (rc != -ENOENT)
			return rc < 0 ? rc : 0;
		/* That acceptor is gone: try the next. */
	}
	if (timeout == 0)
		return -ETIMEDOUT;
	w.peer = peer;
	w.tid = (uint32_t)tid;
	w.mode = (int)mode;
	return add_pending(req, PEND_OPEN, &w, timeout);
}

static int
tube_accept_fn(struct reg_server *s, void *arg, const struct reg_request *req,
               struct reg_reply *reply)
{
	struct pending **pp, *p;
	struct want w = {0, 0, 0, "", 0, UINT32_MAX};
	straw_cursor c;
	int64_t timeout = 0, lo = 0, hi = UINT32_MAX;
	int rc, full;

	(void)arg;
	if (req->container == 0)
		return STRAW_ENOTJOINED;
	full = body_cursor(req, &c, 4) == 0;
	if ((!full && body_cursor(req, &c, 1) < 0) ||
	    straw_cursor_int64(&c, &timeout) < 0 ||
	    (full && (read_service(&c, w.service) < 0 ||
	              straw_cursor_int64(&c, &lo) < 0 ||
	              straw_cursor_int64(&c, &hi) < 0 || lo < 0 || hi < lo ||
	              hi > UINT32_MAX)))
		return -EINVAL;
	w.tid_min = (uint32_t)lo;
	w.tid_max = (uint32_t)hi;
	prune();
	for (pp = &pendings; (p = *pp) != NULL;) {
		if (p->kind != PEND_OPEN || p->peer != req->container ||
		    !accept_takes(w.service, w.tid_min, w.tid_max, p->tid,
		                  p->service)) {
			pp = &p->next;
			continue;
		}
		*pp = p->next;
		rc = make_tube(s, p->container, req->container, p->tid, p->mode,
		               p, 0, reply);
		straw_free(p);
		if (rc != -ENOENT)
			return rc < 0 ? rc : 0;
	}
	if (timeout == 0)
		return -ETIMEDOUT;
	return add_pending(req, PEND_ACCEPT, &w, timeout);
}

static int
tube_close_fn(struct reg_server *s, void *arg, const struct reg_request *req,
              struct reg_reply *reply)
{
	struct tube_rec *t;
	straw_cursor c;
	int64_t a = 0, b = 0, tid = 0, side = 0;

	(void)arg;
	(void)reply;
	if (body_cursor(req, &c, 4) < 0 || straw_cursor_int64(&c, &a) < 0 ||
	    straw_cursor_int64(&c, &b) < 0 ||
	    straw_cursor_int64(&c, &tid) < 0 ||
	    straw_cursor_int64(&c, &side) < 0 || (side != 0 && side != 1))
		return -EINVAL;
	for (t = tubes; t != NULL; t = t->next) {
		if (t->c[0] != a || t->c[1] != b || t->tid != tid)
			continue;
		/* Only the side itself may say it closed. */
		if (req->container != t->c[side])
			return -EACCES;
		if (!t->gone[side])
			side_gone(s, t, (int)side);
		return 0;
	}
	return -ENOENT;
}

static int
tube_publish_fn(struct reg_server *s, void *arg, const struct reg_request *req,
                struct reg_reply *reply)
{
	struct tube_rec *t, *next;
	int i;

	(void)arg;
	(void)req;
	(void)reply;
	for (t = tubes; t != NULL; t = next) {
		next = t->next;
		/* A side that closed without telling strawd (its request
		 * failed) still set its flag in the header. */
		for (i = 0; i < 2; i++)
			if (!t->gone[i] && atomic_load(&t->shm->closed[i]))
				t->gone[i] = 1;
		if (t->gone[0] && t->gone[1]) {
			t->gone[0] = 0;
			side_gone(s, t, 0);
		} else {
			publish(s, t);
		}
	}
	return 0;
}

/* Tubes strawd tracks that container id is a side of. */
static int
tubes_of(uint32_t id)
{
	const struct tube_rec *t;
	int n = 0;

	for (t = tubes; t != NULL; t = t->next)
		n += t->c[0] == id || t->c[1] == id;
	return n;
}

/*
 * Maps the header page of the memfd a tube_adopt brought, read-only, after
 * checking that it is a sealed memfd of a tube's size (so that it cannot
 * shrink under strawd) whose header names opener, acceptor and tid.
 */
static int
adopt_map(int fd, uint32_t opener, uint32_t acceptor, uint32_t tid,
          struct stat *st, const struct tube_shm **out)
{
	const struct tube_shm *h;
	int seals;

	if (fstat(fd, st) < 0)
		return -errno;
	if (!S_ISREG(st->st_mode) || st->st_size != STRAW_TUBE_MEMORY)
		return -EINVAL;
	seals = fcntl(fd, F_GET_SEALS);
	if (seals < 0 || (seals & (F_SEAL_SHRINK | F_SEAL_SEAL)) !=
	                         (F_SEAL_SHRINK | F_SEAL_SEAL))
		return -EINVAL;
	h = mmap(NULL, TUBE_HDR_BYTES, PROT_READ, MAP_SHARED, fd, 0);
	if (h == MAP_FAILED)
		return -errno;
	if (h->magic != TUBE_MAGIC || h->version != TUBE_VERSION ||
	    h->ring_bytes != TUBE_RING_BYTES ||
	    (h->mode != STRAW_TUBE_DROP && h->mode != STRAW_TUBE_RELIABLE) ||
	    h->container[0] != opener || h->container[1] != acceptor ||
	    h->tid != tid) {
		munmap((void *)h, TUBE_HDR_BYTES);
		return -EINVAL;
	}
	*out = h;
	return 0;
}

/*
 * tube_adopt: a side of a tube brokered by an earlier strawd (or by this
 * one, before its container lost its connection) announces it again.  Only
 * the side's own container may, with the tube's memory; a tube strawd
 * already tracks must be presented with the same memory.
 */
static int
tube_adopt_fn(struct reg_server *s, void *arg, const struct reg_request *req,
              struct reg_reply *reply)
{
	const struct tube_shm *h = NULL;
	struct tube_rec *t;
	struct stat st;
	straw_cursor c;
	int64_t a = 0, b = 0, tid = 0, side = 0, peer_gone = 0;
	int rc;

	(void)arg;
	(void)reply;
	if (req->container == 0)
		return STRAW_ENOTJOINED;
	if (body_cursor(req, &c, 5) < 0 || straw_cursor_int64(&c, &a) < 0 ||
	    straw_cursor_int64(&c, &b) < 0 ||
	    straw_cursor_int64(&c, &tid) < 0 ||
	    straw_cursor_int64(&c, &side) < 0 ||
	    straw_cursor_int64(&c, &peer_gone) < 0 ||
	    (side != 0 && side != 1) || a <= 0 || a > UINT32_MAX || b <= 0 ||
	    b > UINT32_MAX || a == b || tid < 0 || tid > UINT32_MAX ||
	    req->nfds != 1)
		return -EINVAL;
	if ((side == 0 ? a : b) != req->container)
		return -EACCES;
	rc = adopt_map(req->fds[0], (uint32_t)a, (uint32_t)b, (uint32_t)tid,
	               &st, &h);
	if (rc < 0)
		return rc;
	rc = 0;
	if (atomic_load(&h->closed[side])) {
		rc = -EPIPE; /* it is closing: nothing to announce */
		goto out;
	}
	for (t = tubes; t != NULL; t = t->next)
		if (t->c[0] == a && t->c[1] == b && t->tid == tid)
			break;
	if (t != NULL) {
		if (t->dev != st.st_dev || t->ino != st.st_ino) {
			rc = -EEXIST; /* another tube by that name */
			goto out;
		}
		t->gone[side] = 0; /* its container is back */
		publish(s, t);
		goto out;
	}
	if (tubes_of(req->container) >= TUBE_ADOPT_MAX) {
		rc = STRAW_EQUOTA;
		goto out;
	}
	t = straw_calloc(1, sizeof(*t));
	if (t == NULL) {
		rc = -ENOMEM;
		goto out;
	}
	t->c[0] = (uint32_t)a;
	t->c[1] = (uint32_t)b;
	t->tid = (uint32_t)tid;
	t->mode = (int)h->mode;
	/* The peer is gone if this side saw it hang up or close; if it has
	 * not rejoined yet, it may still (side_gone settles it otherwise). */
	t->gone[1 - side] =
	        peer_gone != 0 || atomic_load(&h->closed[1 - side]) != 0;
	t->shm = h;
	t->dev = st.st_dev;
	t->ino = st.st_ino;
	t->next = tubes;
	tubes = t;
	h = NULL;
	publish(s, t);
	strawi_log(STRAWI_LOG_INFO, "tube %u-%u-%u announced again by %u",
	           t->c[0], t->c[1], t->tid, req->container);
out:
	if (h != NULL)
		munmap((void *)h, TUBE_HDR_BYTES);
	return rc;
}

static void
tube_gone_fn(struct reg_server *s, void *arg, uint32_t id, const char *name)
{
	struct pending **pp, *p;
	struct tube_rec *t, *next;
	int i;

	(void)arg;
	(void)name;
	for (pp = &pendings; (p = *pp) != NULL;) {
		if (p->container == id) {
			*pp = p->next;
			straw_free(p);
		} else {
			pp = &p->next;
		}
	}
	for (t = tubes; t != NULL; t = next) {
		next = t->next;
		for (i = 0; i < 2; i++)
			if (t->c[i] == id && !t->gone[i]) {
				side_gone(s, t, i);
				break; /* t may be freed */
			}
	}
}

static int
tube_broker_init(struct reg_server *s)
{
	int rc;

	rc = reg_server_handle(s, "tube_open", tube_open_fn, NULL);
	if (rc == 0)
		rc = reg_server_handle(s, "tube_accept", tube_accept_fn, NULL);
	if (rc == 0)
		rc = reg_server_handle(s, "tube_close", tube_close_fn, NULL);
	if (rc == 0)
		rc = reg_server_handle(s, "tube_publish", tube_publish_fn,
		                       NULL);
	if (rc == 0)
		rc = reg_server_handle(s, "tube_adopt", tube_adopt_fn, NULL);
	if (rc == 0)
		rc = reg_server_on_gone(s, tube_gone_fn, NULL);
	return rc;
}

const struct reg_server_module strawd_tube_broker = {"tube", tube_broker_init};
