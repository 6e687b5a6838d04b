/*
 * src/strawd/tube_broker.c - strawd's tube broker (a registry server
 * module).
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
 * take each other's opens.  Then strawd creates the memfd, the eventfds and the socketpair, writes a nonce and a
 * MAC made with its secret key into the header (tube_key.c), answers both
 * with their side number and their six descriptors (SCM_RIGHTS), and
 * closes its own copies: it keeps neither a descriptor nor a mapping of
 * the tube, only a small record.  The registry shows it:
 *
 *   /tubes/<opener>-<acceptor>-<tid>/state        open | closing | announced
 *   /tubes/<opener>-<acceptor>-<tid>/mode         drop | reliable
 *   /tubes/<opener>-<acceptor>-<tid>/<container>/{state, sent, sent_bytes,
 *                 received, received_bytes, dropped, dropped_bytes, wakeups}
 *
 * written when the tube opens, when either side closes or dies, and on
 * tube_publish (what `straw tubes` sends) - never per packet.  The
 * counters are read from the header through a side's own descriptor
 * (tube_peek.c).  When both sides are gone the entry goes.
 *
 * A strawd started after another died knows no tubes: each side that is
 * still open announces its tube again with tube_adopt once its container
 * has rejoined (src/tube/tube_open.c), passing the tube's memfd.  strawd
 * adopts it only if the header's MAC proves that strawd brokered that very
 * memory for those two containers, and shows a side only once that side
 * itself announced it (until then the tube is "announced").
 *
 * Every open and accept waiting, and every side a container holds, counts
 * one tube end against its uid's quota (REG_RES_TUBES).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include <straw/term.h>

#include "base/base.h"
#include "base/clock.h"
#include "base/log.h"
#include "strawd/server.h"
#include "strawd/tube_broker.h"
#include "tube/tube_impl.h"

enum { PEND_OPEN, PEND_ACCEPT };

/* Counters of all tubes are read at most this often (a publish between
 * two reads only reads the tubes of the caller's own container). */
#define FULL_READ_NS (100 * 1000000LL)

/* A request waiting for its other half. */
struct pending {
	int kind;           /* PEND_OPEN or PEND_ACCEPT */
	uint64_t conn, id;  /* where to answer */
	uint32_t container; /* who asked */
	uid_t uid;          /* its uid, charged one tube end */
	uint32_t peer;      /* open: the container it names */
	uint32_t tid;       /* open: the tube id */
	int mode;           /* open: the mode */
	int64_t deadline;   /* ns; past it the request is not matched */
	char service[STRAW_TUBE_SERVICE_MAX + 1]; /* open's; accept's filter */
	uint32_t tid_min, tid_max;                /* accept: tids it takes */
	struct pending *next;
};

/* What strawd knows of one side of a tube. */
enum side_state {
	SIDE_UNCONFIRMED, /* after a restart: not announced by it yet */
	SIDE_HELD,        /* its container holds it (charged to uid) */
	SIDE_GONE,        /* closed or died */
};

/* A side's counters as last read, in the order they are published. */
enum {
	CNT_SENT,
	CNT_SENT_BYTES,
	CNT_RECEIVED,
	CNT_RECEIVED_BYTES,
	CNT_DROPPED,
	CNT_DROPPED_BYTES,
	CNT_WAKEUPS,
	CNT_N
};

/* A tube strawd brokered and still tracks. */
struct tube_rec {
	uint32_t c[2];             /* opener, acceptor */
	uint32_t tid;              /* tube id */
	int mode;                  /* enum straw_tube_mode */
	int side[2];               /* enum side_state */
	uid_t uid[2];              /* charged for side i while held */
	int hint[2];               /* the memfd's number in side i's
	                                  process, or -1 if not known */
	uint64_t counts[2][CNT_N]; /* counters as last read */
	uint64_t dev, ino;         /* the memfd's identity */
	uint64_t read_turn;        /* turn of the last read */
	struct tube_rec *next;
};

static struct pending *pendings;
static struct tube_rec *tubes;
static uint8_t tube_key[TUBE_KEY_BYTES];
static int64_t last_full_read;

static const char *const cnt_names[CNT_N] = {
        "sent",    "sent_bytes",    "received", "received_bytes",
        "dropped", "dropped_bytes", "wakeups",
};

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

/* Writes the tube's state and its known sides' counters to the
 * registry. */
static void
publish(struct reg_server *s, const struct tube_rec *t)
{
	char base[96], side[128];
	int i, k;

	rec_path(t, base, sizeof(base));
	put(s, base, "mode", t->mode == STRAW_TUBE_DROP ? "drop" : "reliable");
	put(s, base, "state",
	    t->side[0] == SIDE_GONE || t->side[1] == SIDE_GONE   ? "closing"
	    : t->side[0] == SIDE_HELD && t->side[1] == SIDE_HELD ? "open"
	                                                         : "announced");
	for (i = 0; i < 2; i++) {
		/* A side appears once it held the tube itself. */
		if (t->side[i] == SIDE_UNCONFIRMED)
			continue;
		snprintf(side, sizeof(side), "%s/%u", base, t->c[i]);
		put(s, side, "state",
		    t->side[i] == SIDE_GONE ? "closed" : "open");
		for (k = 0; k < CNT_N; k++)
			put_u64(s, side, cnt_names[k], t->counts[i][k]);
	}
}

/* Takes the counters out of a copy of the header; *closed gets the sides
 * whose closed flag is set (bit i: side i). */
static void
take_counts(struct tube_rec *t, const struct tube_shm *h, int *closed)
{
	int i;

	*closed = 0;
	for (i = 0; i < 2; i++) {
		const struct tube_shm_stats *st = &h->stats[i];
		uint64_t *c = t->counts[i];
		c[CNT_SENT] = atomic_load(&st->sent);
		c[CNT_SENT_BYTES] = atomic_load(&st->sent_bytes);
		c[CNT_RECEIVED] = atomic_load(&st->received);
		c[CNT_RECEIVED_BYTES] = atomic_load(&st->received_bytes);
		c[CNT_DROPPED] = atomic_load(&st->dropped);
		c[CNT_DROPPED_BYTES] = atomic_load(&st->dropped_bytes);
		c[CNT_WAKEUPS] = atomic_load(&st->wakeups);
		if (atomic_load(&h->closed[i]))
			*closed |= 1 << i;
	}
}

/* Descriptor maps of the containers one tube_publish looked into. */
struct scan_cache {
	struct scan_entry {
		uint32_t container;    /* whose */
		int rc;                /* the scan's result */
		struct tube_fdmap map; /* its descriptors */
	} * e;
	size_t n, cap;
};

static const struct tube_fdmap *
scan_of(struct scan_cache *sc, uint32_t container, pid_t pid)
{
	struct scan_entry *e;
	size_t i;

	for (i = 0; i < sc->n; i++)
		if (sc->e[i].container == container)
			return sc->e[i].rc == 0 ? &sc->e[i].map : NULL;
	if (sc->n == sc->cap) {
		size_t ncap = sc->cap ? 2 * sc->cap : 8;
		struct scan_entry *ne =
		        straw_realloc(sc->e, ncap * sizeof(*ne));
		if (ne == NULL)
			return NULL;
		sc->e = ne;
		sc->cap = ncap;
	}
	e = &sc->e[sc->n++];
	memset(e, 0, sizeof(*e));
	e->container = container;
	e->rc = tube_fdmap_scan(pid, &e->map);
	return e->rc == 0 ? &e->map : NULL;
}

static void
scan_fini(struct scan_cache *sc)
{
	size_t i;

	for (i = 0; i < sc->n; i++)
		tube_fdmap_fini(&sc->e[i].map);
	straw_free(sc->e);
}

/*
 * Reads t's counters through the memory one of its held sides holds (its
 * remembered descriptor, else found with one walk of its process's
 * descriptors, kept in sc).  Returns 0 and the closed flags in *closed,
 * or a negative code when no side could be read (the counters stay as
 * they were).
 */
static int
read_counts(struct reg_server *s, struct tube_rec *t, struct scan_cache *sc,
            int *closed)
{
	struct tube_shm h;
	int i, rc = -ENOENT;

	for (i = 0; i < 2 && rc < 0; i++) {
		const struct tube_fdmap *m;
		uid_t uid;
		pid_t pid;
		int pidfd;
		if (t->side[i] != SIDE_HELD ||
		    reg_server_container_proc(s, t->c[i], &uid, &pid, &pidfd) <
		            0)
			continue;
		if (t->hint[i] >= 0)
			rc = tube_peek_proc(pidfd, t->hint[i], t->dev, t->ino,
			                    &h);
		if (rc < 0 && (m = scan_of(sc, t->c[i], pid)) != NULL) {
			t->hint[i] = tube_fdmap_find(m, t->dev, t->ino);
			if (t->hint[i] >= 0)
				rc = tube_peek_proc(pidfd, t->hint[i], t->dev,
				                    t->ino, &h);
		}
	}
	if (rc == 0) {
		take_counts(t, &h, closed);
		t->read_turn = reg_server_turn(s);
	}
	return rc;
}

/* Takes side i's charge back and marks it gone. */
static void
release_side(struct reg_server *s, struct tube_rec *t, int i)
{
	if (t->side[i] == SIDE_HELD)
		reg_server_uncharge(s, t->uid[i], REG_RES_TUBES, 1);
	t->side[i] = SIDE_GONE;
}

/* Marks side i of t gone; forgets t when the other side does not hold it
 * either (gone, or after a restart never announced by it: it may never
 * be, and if it is, tube_adopt records the tube anew). */
static void
side_gone(struct reg_server *s, struct tube_rec *t, int i)
{
	struct scan_cache sc = {0};
	struct tube_rec **pp;
	char base[96];
	int closed;

	release_side(s, t, i);
	if (t->side[1 - i] == SIDE_HELD) {
		if (read_counts(s, t, &sc, &closed) == 0 &&
		    (closed & (1 << (1 - i))))
			release_side(s, t, 1 - i);
		scan_fini(&sc);
	}
	if (t->side[1 - i] == SIDE_HELD) {
		publish(s, t);
		return;
	}
	release_side(s, t, 1 - i);
	for (pp = &tubes; *pp != t; pp = &(*pp)->next)
		;
	*pp = t->next;
	rec_path(t, base, sizeof(base));
	straw_free(t);
	/* Nothing of the tube is left in strawd when its entry goes. */
	reg_server_rm(s, base);
}

/* Frees a waiting request and gives back its tube end. */
static void
pending_free(struct reg_server *s, struct pending *p)
{
	reg_server_uncharge(s, p->uid, REG_RES_TUBES, 1);
	straw_free(p);
}

/* Drops waiting requests whose time is up (their client gave up). */
static void
prune(struct reg_server *s)
{
	struct pending **pp = &pendings, *p;
	int64_t now = strawi_now_ns();

	while ((p = *pp) != NULL) {
		if (p->deadline <= now) {
			*pp = p->next;
			pending_free(s, p);
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

/* Writes a fresh nonce and its MAC into the header of memfd fd and
 * records the memfd's identity in t. */
static int
seal_identity(struct tube_rec *t, int fd)
{
	struct tube_ident id;
	uint8_t tag[16 + 32];
	struct stat st;
	size_t got = 0;

	if (fstat(fd, &st) < 0)
		return -errno;
	while (got < sizeof(id.nonce)) {
		ssize_t n =
		        getrandom(id.nonce + got, sizeof(id.nonce) - got, 0);
		if (n < 0 && errno != EINTR)
			return -errno;
		if (n > 0)
			got += (size_t)n;
	}
	id.opener = t->c[0];
	id.acceptor = t->c[1];
	id.tid = t->tid;
	id.mode = (uint32_t)t->mode;
	id.dev = st.st_dev;
	id.ino = st.st_ino;
	memcpy(tag, id.nonce, 16);
	tube_key_mac(tube_key, &id, tag + 16);
	_Static_assert(offsetof(struct tube_shm, mac) ==
	                       offsetof(struct tube_shm, nonce) + 16,
	               "nonce then MAC");
	if (pwrite(fd, tag, sizeof(tag), offsetof(struct tube_shm, nonce)) !=
	    (ssize_t)sizeof(tag))
		return errno ? -errno : -EIO;
	t->dev = st.st_dev;
	t->ino = st.st_ino;
	return 0;
}

/*
 * Creates tube (opener, acceptor, tid, mode) and answers the deferred
 * request `later` (side later_side) with reg_server_reply and the current
 * one (from uid cur_uid) through *reply.  The requests' tube ends become
 * the tube's.  Returns 0, or a negative code when the deferred requester
 * is gone (-ENOENT; nothing created then) or creation failed (the caller
 * still holds both charges).
 */
static int
make_tube(struct reg_server *s, uint32_t opener, uint32_t acceptor,
          uint32_t tid, int mode, const struct pending *later, int later_side,
          uid_t cur_uid, struct reg_reply *reply)
{
	struct strawi_tube_pair p;
	struct tube_rec *t;
	uint8_t term[3];
	int rc;

	t = straw_calloc(1, sizeof(*t));
	if (t == NULL)
		return -ENOMEM;
	t->c[0] = opener;
	t->c[1] = acceptor;
	t->tid = tid;
	t->mode = mode;
	t->hint[0] = t->hint[1] = -1;
	rc = strawi_tube_pair_create((enum straw_tube_mode)mode, tid, opener,
	                             acceptor, &p);
	if (rc < 0) {
		straw_free(t);
		return rc;
	}
	rc = seal_identity(t, p.fds[0][STRAWI_TUBE_FD_MEM]);
	if (rc == 0)
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
	strawi_tube_pair_close_side(&p, 0);
	strawi_tube_pair_close_side(&p, 1);
	if (rc < 0) {
		straw_free(t);
		return rc;
	}
	t->side[0] = t->side[1] = SIDE_HELD;
	t->uid[later_side] = later->uid;
	t->uid[1 - later_side] = cur_uid;
	t->next = tubes;
	tubes = t;
	publish(s, t);
	strawi_log(STRAWI_LOG_INFO, "tube %u-%u-%u open", opener, acceptor,
	           tid);
	return 0;
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

/* Keeps the request waiting; its tube end stays charged to it. */
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
	p->uid = req->uid;
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

/* Matches the request (charged one tube end) with the waiting ones that
 * fit, else makes it wait; gives its charge back when it fails. */
static int
match_or_wait(struct reg_server *s, const struct reg_request *req, int kind,
              const struct want *w, int64_t timeout, struct reg_reply *reply)
{
	struct pending **pp, *p;
	int rc;

	for (pp = &pendings; (p = *pp) != NULL;) {
		int fits =
		        kind == PEND_OPEN
		                ? p->kind == PEND_ACCEPT &&
		                          p->container == w->peer &&
		                          accept_takes(p->service, p->tid_min,
		                                       p->tid_max, w->tid,
		                                       w->service)
		                : p->kind == PEND_OPEN &&
		                          p->peer == req->container &&
		                          accept_takes(w->service, w->tid_min,
		                                       w->tid_max, p->tid,
		                                       p->service);
		if (!fits) {
			pp = &p->next;
			continue;
		}
		*pp = p->next;
		rc = kind == PEND_OPEN
		             ? make_tube(s, req->container, w->peer, w->tid,
		                         w->mode, p, 1, req->uid, reply)
		             : make_tube(s, p->container, req->container,
		                         p->tid, p->mode, p, 0, req->uid,
		                         reply);
		if (rc == 0) {
			straw_free(p); /* its charge is the tube's now */
			return 0;
		}
		pending_free(s, p);
		if (rc != -ENOENT) {
			reg_server_uncharge(s, req->uid, REG_RES_TUBES, 1);
			return rc;
		}
		/* That requester is gone: try the next. */
	}
	rc = timeout == 0 ? -ETIMEDOUT : add_pending(req, kind, w, timeout);
	if (rc < 0)
		reg_server_uncharge(s, req->uid, REG_RES_TUBES, 1);
	return rc;
}

static int
tube_open_fn(struct reg_server *s, void *arg, const struct reg_request *req,
             struct reg_reply *reply)
{
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
	prune(s);
	if (exists(req->container, peer, (uint32_t)tid))
		return -EEXIST;
	rc = reg_server_charge(s, req->uid, REG_RES_TUBES, 1);
	if (rc < 0)
		return rc;
	w.peer = peer;
	w.tid = (uint32_t)tid;
	w.mode = (int)mode;
	return match_or_wait(s, req, PEND_OPEN, &w, timeout, reply);
}

static int
tube_accept_fn(struct reg_server *s, void *arg, const struct reg_request *req,
               struct reg_reply *reply)
{
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
	prune(s);
	rc = reg_server_charge(s, req->uid, REG_RES_TUBES, 1);
	if (rc < 0)
		return rc;
	return match_or_wait(s, req, PEND_ACCEPT, &w, timeout, reply);
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
		if (t->side[side] != SIDE_GONE)
			side_gone(s, t, (int)side);
		return 0;
	}
	return -ENOENT;
}

/*
 * tube_publish: reads the counters of the tubes of the caller's container
 * (at most once a turn each) and, at most every FULL_READ_NS, of all
 * tubes, and writes them to the registry; forgets tubes both sides of
 * which closed.  So a flood of publish requests costs strawd at most one
 * read of each tube a turn.
 */
static int
tube_publish_fn(struct reg_server *s, void *arg, const struct reg_request *req,
                struct reg_reply *reply)
{
	struct scan_cache sc = {0};
	struct tube_rec *t, *next;
	uint64_t turn = reg_server_turn(s);
	int64_t now = strawi_now_ns();
	int full = now - last_full_read >= FULL_READ_NS, i, closed;

	(void)arg;
	(void)reply;
	if (full)
		last_full_read = now;
	for (t = tubes; t != NULL; t = next) {
		int mine = req->container != 0 && (t->c[0] == req->container ||
		                                   t->c[1] == req->container);
		next = t->next;
		if ((!full && !mine) || t->read_turn == turn)
			continue;
		if (read_counts(s, t, &sc, &closed) < 0) {
			publish(s, t);
			continue;
		}
		/* A side that closed without telling strawd (its request
		 * failed) still set its flag in the header. */
		for (i = 0; i < 2; i++)
			if ((closed & (1 << i)) && t->side[i] == SIDE_HELD)
				release_side(s, t, i);
		if (t->side[0] != SIDE_HELD && t->side[1] != SIDE_HELD) {
			t->side[0] = SIDE_HELD; /* so that side_gone frees it */
			side_gone(s, t, 0);
		} else {
			publish(s, t);
		}
	}
	scan_fini(&sc);
	return 0;
}

/* Says that a forged tube was refused: at most once a second, with the
 * number of others refused meanwhile, so that a flood of them cannot fill
 * strawd's log. */
static void
warn_forged(const struct reg_request *req, int64_t a, int64_t b, int64_t tid)
{
	static int64_t last;
	static uint64_t quiet;
	int64_t now = strawi_now_ns();

	if (last != 0 && now - last < 1000000000) {
		quiet++;
		return;
	}
	strawi_log(STRAWI_LOG_WARN,
	           "tube_adopt of %lld-%lld-%lld by container %u (uid %u) "
	           "refused: strawd did not broker that memory (%llu more "
	           "refused since the last report)",
	           (long long)a, (long long)b, (long long)tid, req->container,
	           (unsigned)req->uid, (unsigned long long)quiet);
	last = now;
	quiet = 0;
}

/*
 * tube_adopt: a side of a tube brokered by an earlier strawd (or by this
 * one, before its container lost its connection) announces it again.
 * Only the side's own container may, with the tube's memory, whose header
 * must carry the MAC strawd wrote when it made that memory for these two
 * containers (so neither a hand-made header nor a copy of a real one in
 * other memory passes: -EACCES); a tube strawd already tracks must be
 * presented with the same memory (-EEXIST otherwise).
 */
static int
tube_adopt_fn(struct reg_server *s, void *arg, const struct reg_request *req,
              struct reg_reply *reply)
{
	struct tube_ident id;
	struct tube_shm h;
	struct tube_rec *t;
	struct stat st;
	straw_cursor c;
	int64_t a = 0, b = 0, tid = 0, side = 0, peer_gone = 0;
	int rc, closed;

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
	rc = tube_peek_memfd(req->fds[0], &st, &h);
	if (rc < 0)
		return rc;
	if (h.magic != TUBE_MAGIC || h.version != TUBE_VERSION ||
	    h.ring_bytes != TUBE_RING_BYTES ||
	    (h.mode != STRAW_TUBE_DROP && h.mode != STRAW_TUBE_RELIABLE) ||
	    h.container[0] != a || h.container[1] != b || h.tid != tid)
		return -EINVAL;
	id.opener = (uint32_t)a;
	id.acceptor = (uint32_t)b;
	id.tid = (uint32_t)tid;
	id.mode = h.mode;
	memcpy(id.nonce, h.nonce, sizeof(id.nonce));
	id.dev = st.st_dev;
	id.ino = st.st_ino;
	if (!tube_key_check(tube_key, &id, h.mac)) {
		warn_forged(req, a, b, tid);
		return -EACCES;
	}
	if (atomic_load(&h.closed[side]))
		return -EPIPE; /* it is closing: nothing to announce */
	for (t = tubes; t != NULL; t = t->next)
		if (t->c[0] == a && t->c[1] == b && t->tid == tid)
			break;
	if (t != NULL && (t->dev != st.st_dev || t->ino != st.st_ino))
		return -EEXIST; /* another tube by that name */
	if (t == NULL || t->side[side] != SIDE_HELD) {
		rc = reg_server_charge(s, req->uid, REG_RES_TUBES, 1);
		if (rc < 0)
			return rc;
	}
	if (t == NULL) {
		t = straw_calloc(1, sizeof(*t));
		if (t == NULL) {
			reg_server_uncharge(s, req->uid, REG_RES_TUBES, 1);
			return -ENOMEM;
		}
		t->c[0] = (uint32_t)a;
		t->c[1] = (uint32_t)b;
		t->tid = (uint32_t)tid;
		t->mode = (int)h.mode;
		t->dev = st.st_dev;
		t->ino = st.st_ino;
		t->hint[0] = t->hint[1] = -1;
		/* The peer is gone if this side saw it hang up or close;
		 * else it shows only once it announces the tube itself. */
		t->side[1 - side] =
		        peer_gone != 0 || atomic_load(&h.closed[1 - side])
		                ? SIDE_GONE
		                : SIDE_UNCONFIRMED;
		t->next = tubes;
		tubes = t;
		strawi_log(STRAWI_LOG_INFO,
		           "tube %u-%u-%u announced again by %u", t->c[0],
		           t->c[1], t->tid, req->container);
	}
	if (t->side[side] != SIDE_HELD) {
		t->side[side] = SIDE_HELD; /* its container is back */
		t->uid[side] = req->uid;
		t->hint[side] = -1;
	}
	take_counts(t, &h, &closed);
	publish(s, t);
	return 0;
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
			pending_free(s, p);
		} else {
			pp = &p->next;
		}
	}
	for (t = tubes; t != NULL; t = next) {
		next = t->next;
		for (i = 0; i < 2; i++)
			if (t->c[i] == id && t->side[i] != SIDE_GONE) {
				side_gone(s, t, i);
				break; /* t may be freed */
			}
	}
}

static int
tube_broker_init(struct reg_server *s)
{
	int rc;

	rc = tube_key_load(reg_server_dir(s), tube_key);
	if (rc < 0) {
		strawi_log(STRAWI_LOG_ERROR, "cannot load or make %s/%s: %s",
		           reg_server_dir(s), TUBE_KEY_FILE,
		           straw_strerror(rc));
		return rc;
	}
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
