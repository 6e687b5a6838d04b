/*
 * tests/strawd_util.h - what strawd_hostile_test.c and the chaos tool
 * (bench/chaos.c) share: a raw protocol client as an attacker speaks it,
 * strawd's footprint read from /proc, running a function as uid 65534, and
 * the attacks themselves (the watcher of "/", the flood, lazy watchers).
 * Header only, on top of registry_util.h.
 */
#ifndef STRAW_TESTS_STRAWD_UTIL_H
#define STRAW_TESTS_STRAWD_UTIL_H

#define _GNU_SOURCE
#include <grp.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <sys/mman.h>

#include <straw/alloc.h>
#include <straw/term.h>
#include <straw/tube.h>

#include "registry/client.h"
#include "registry/msg.h"
#include "registry_util.h"
#include "strawd/server.h"
#include "tube_util.h"

#define NOBODY 65534

/*
 * Runs fn(arg) as uid 65534 in a child and returns its pid (-1 if fork
 * failed); the child's exit status is fn's result, or 90 when it could
 * not become uid 65534 (not run as root).
 */
static inline pid_t
nobody_fork(int (*fn)(void *), void *arg)
{
	pid_t pid = fork();

	if (pid == 0) {
		if (setgroups(0, NULL) < 0 || setgid(NOBODY) < 0 ||
		    setuid(NOBODY) < 0 || getuid() != NOBODY)
			_exit(90);
		_exit(fn(arg));
	}
	return pid;
}

static inline void
say(int fd, char c)
{
	if (write(fd, &c, 1) != 1)
		_exit(95);
}

static inline int
hear(int fd, int timeout_ms)
{
	struct pollfd p = {fd, POLLIN, 0};
	char c;

	if (poll(&p, 1, timeout_ms) != 1 || read(fd, &c, 1) != 1)
		return -1;
	return c;
}

/* ---- strawd's footprint ------------------------------------------------ */

/* A "Vm..." field of /proc/<pid>/status, in KiB, or -1. */
static inline long
proc_kb(pid_t pid, const char *field)
{
	char path[64], line[256];
	size_t n = strlen(field);
	long v = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	f = fopen(path, "r");
	if (f == NULL)
		return -1;
	while (fgets(line, sizeof(line), f) != NULL)
		if (strncmp(line, field, n) == 0 && line[n] == ':')
			v = strtol(line + n + 1, NULL, 10);
	fclose(f);
	return v;
}

/* Lines of /proc/<pid>/maps: the process's memory mappings. */
static inline int
proc_maps(pid_t pid)
{
	char path[64];
	int n = 0, c;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/maps", (int)pid);
	f = fopen(path, "r");
	if (f == NULL)
		return -1;
	while ((c = getc(f)) != EOF)
		n += c == '\n';
	fclose(f);
	return n;
}

/* utime + stime of pid, in clock ticks (/proc/<pid>/stat). */
static inline long
proc_cpu_ticks(pid_t pid)
{
	char path[64], buf[1024], *p;
	unsigned long ut = 0, st = 0;
	ssize_t n;
	int fd, i;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	/* Fields after the command name, which ends with the last ')'. */
	p = strrchr(buf, ')');
	if (p == NULL)
		return -1;
	for (i = 0; i < 11 && p != NULL; i++)
		p = strchr(p + 1, ' ');
	if (p == NULL || sscanf(p, " %lu %lu", &ut, &st) != 2)
		return -1;
	return (long)(ut + st);
}

/* What uid holds according to strawd's usage request: 0 with use[], or
 * -ENOENT when it holds nothing. */
static inline int
usage_of(straw_reg *r, uint32_t uid, uint64_t use[REG_USAGE_NRES],
         struct reg_usage_info *info)
{
	static const uint8_t nil[] = {131, 106};
	struct reg_usage_entry e[64];
	uint8_t *reply = NULL;
	size_t rlen = 0, n = 0, i;
	int rc;

	rc = reg_client_call(r, "usage", nil, sizeof(nil), NULL, 0, &reply,
	                     &rlen, NULL, NULL, 5000);
	if (rc < 0)
		return rc;
	rc = reg_read_usage(reply + 1, rlen - 1, info, e, 64, &n);
	straw_free(reply);
	if (rc < 0)
		return rc;
	for (i = 0; i < n; i++)
		if (e[i].uid == uid) {
			memcpy(use, e[i].use, sizeof(e[i].use));
			return 0;
		}
	return -ENOENT;
}

/* ---- a raw protocol client, as an attacker speaks it -------------------- */

struct raw {
	int fd;           /* the connection */
	uint64_t next_id; /* last request id used */
	straw_builder b;  /* scratch */
	straw_buf pkt;    /* frames not sent yet */
	uint8_t *rbuf;    /* one packet received */
};

/* What a received frame said. */
struct raw_in {
	int is_event;   /* an event */
	uint64_t id;    /* reply: request id */
	int rc;         /* reply: 0 or the code */
	uint64_t value; /* reply: its value if an integer, else 0 */
	size_t nfds;    /* descriptors with its packet (closed already) */
};

static inline void
raw_fini(struct raw *x)
{
	if (x->fd >= 0)
		close(x->fd);
	x->fd = -1;
	straw_builder_fini(&x->b);
	straw_buf_fini(&x->pkt);
	straw_free(x->rbuf);
	x->rbuf = NULL;
}

/* Sends the frames in x->pkt as one packet, with nfds descriptors. */
static inline int
raw_flush(struct raw *x, const int *fds, size_t nfds)
{
	union {
		struct cmsghdr h;
		char buf[CMSG_SPACE(sizeof(int) * REG_MAX_FDS)];
	} cm;
	struct iovec iov = {x->pkt.data, x->pkt.len};
	struct msghdr mh = {0};
	ssize_t n;

	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	if (nfds > 0) {
		memset(&cm, 0, sizeof(cm));
		mh.msg_control = cm.buf;
		mh.msg_controllen = CMSG_SPACE(sizeof(int) * nfds);
		cm.h.cmsg_level = SOL_SOCKET;
		cm.h.cmsg_type = SCM_RIGHTS;
		cm.h.cmsg_len = CMSG_LEN(sizeof(int) * nfds);
		memcpy(CMSG_DATA(&cm.h), fds, sizeof(int) * nfds);
	}
	n = sendmsg(x->fd, &mh, MSG_NOSIGNAL);
	x->pkt.len = 0;
	return n < 0 ? -errno : 0;
}

/*
 * Receives one packet within timeout_ms and decodes up to cap frames into
 * in[], closing the descriptors it brought.  Returns the number of frames,
 * 0 at end of file, -ETIMEDOUT, or another error.
 */
static inline int
raw_recv(struct raw *x, struct raw_in *in, size_t cap, int timeout_ms)
{
	union {
		struct cmsghdr h;
		char buf[CMSG_SPACE(sizeof(int) * REG_MAX_FDS)];
	} cm;
	struct iovec iov = {x->rbuf, REG_MAX_PACKET};
	struct pollfd p = {x->fd, POLLIN, 0};
	struct msghdr mh = {0};
	int fds[REG_MAX_FDS];
	size_t nfds, off = 0, flen, k = 0;
	const uint8_t *frame;
	struct reg_in ri;
	ssize_t n;

	if (poll(&p, 1, timeout_ms) != 1)
		return -ETIMEDOUT;
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	mh.msg_control = cm.buf;
	mh.msg_controllen = sizeof(cm.buf);
	n = recvmsg(x->fd, &mh, MSG_CMSG_CLOEXEC);
	if (n < 0)
		return errno == ECONNRESET ? 0 : -errno;
	nfds = reg_take_fds(&mh, fds, 0);
	for (size_t i = 0; i < nfds; i++)
		close(fds[i]);
	while (k < cap &&
	       reg_frame_next(x->rbuf, (size_t)n, &off, &frame, &flen) == 1) {
		if (reg_msg_decode_in(frame, flen, &ri) < 0)
			return STRAW_EPROTOCOL;
		in[k].is_event = ri.is_event;
		in[k].id = ri.id;
		in[k].rc = ri.rc;
		in[k].value = 0;
		if (!ri.is_event && ri.value != NULL)
			(void)reg_read_uint(ri.value, ri.value_len,
			                    &in[k].value);
		in[k].nfds = k == 0 ? nfds : 0;
		k++;
	}
	return n == 0 ? 0 : (int)k;
}

/* Waits for the reply to id (events and other replies are skipped).
 * Returns its code, or -ETIMEDOUT / -ECONNRESET. */
static inline int
raw_wait(struct raw *x, uint64_t id, int timeout_ms)
{
	int64_t end = strawi_deadline_ms(timeout_ms);
	struct raw_in in[64];

	for (;;) {
		int left = (int)((end - strawi_now_ns()) / 1000000), n, i;
		if (left <= 0)
			return -ETIMEDOUT;
		n = raw_recv(x, in, 64, left);
		if (n == 0)
			return -ECONNRESET;
		if (n < 0)
			return n;
		for (i = 0; i < n; i++)
			/* Id 0: strawd refused the connection. */
			if (!in[i].is_event &&
			    (in[i].id == id || (in[i].id == 0 && in[i].rc < 0)))
				return in[i].rc;
	}
}

/* Connects and says hello: 0, or the code strawd refused it with. */
static inline int
raw_open(struct raw *x)
{
	uint64_t id;
	int rc;

	memset(x, 0, sizeof(*x));
	straw_builder_init(&x->b);
	x->rbuf = straw_malloc(REG_MAX_PACKET);
	x->fd = tu_raw_connect();
	if (x->fd < 0 || x->rbuf == NULL)
		return x->fd < 0 ? -ECONNREFUSED : -ENOMEM;
	id = ++x->next_id;
	rc = reg_enc_hello(&x->pkt, &x->b, id);
	if (rc == 0)
		rc = raw_flush(x, NULL, 0);
	/* A refused connection may be closed before the hello goes: what
	 * strawd said is still there to read. */
	return rc < 0 && rc != -EPIPE ? rc : raw_wait(x, id, 10000);
}

/* Queues an extension request {op, Id, Body} with a body built by the
 * caller in b (finished here).  Returns its id, or 0 on failure. */
static inline uint64_t
raw_ext(struct raw *x, const char *op, straw_builder *body)
{
	uint8_t *bytes = NULL;
	size_t len;
	uint64_t id = ++x->next_id;
	int rc = straw_builder_finish(body, &bytes, &len);

	if (rc == 0)
		rc = reg_enc_ext(&x->pkt, &x->b, op, id, bytes, len);
	straw_free(bytes);
	return rc == 0 ? id : 0;
}

static inline int
raw_join(struct raw *x, const char *name, uint32_t *cid)
{
	int64_t end = strawi_deadline_ms(10000);
	uint64_t id = ++x->next_id;
	struct raw_in in[4];

	if (reg_enc_join(&x->pkt, &x->b, id, name, 0) < 0 ||
	    raw_flush(x, NULL, 0) < 0)
		return -EIO;
	for (;;) {
		int left = (int)((end - strawi_now_ns()) / 1000000), n, i;
		if (left <= 0)
			return -ETIMEDOUT;
		n = raw_recv(x, in, 4, left);
		if (n <= 0)
			return n == 0 ? -ECONNRESET : n;
		for (i = 0; i < n; i++)
			if (!in[i].is_event && in[i].id == id) {
				*cid = (uint32_t)in[i].value;
				return in[i].rc;
			}
	}
}

/* tube_adopt {a, b, tid, side, 0} with memfd on x; returns strawd's code. */
static inline int
raw_adopt(struct raw *x, uint32_t a, uint32_t b, uint32_t tid, int side,
          int memfd)
{
	straw_builder body;
	uint64_t id;

	straw_builder_init(&body);
	straw_build_tuple(&body, 5);
	straw_build_uint(&body, a);
	straw_build_uint(&body, b);
	straw_build_uint(&body, tid);
	straw_build_int(&body, side);
	straw_build_int(&body, 0);
	id = raw_ext(x, "tube_adopt", &body);
	if (id == 0 || raw_flush(x, &memfd, 1) < 0)
		return -EIO;
	return raw_wait(x, id, 10000);
}

/* A forged tube's memory naming (c0, c1, tid). */
static inline int
forged_memfd(uint32_t c0, uint32_t c1, uint32_t tid)
{
	struct tube_shm h;

	tu_forged_header(&h, c0, c1, tid);
	return tu_memfd_with(&h, sizeof(h));
}

static inline int
watch_leak_child(void *arg)
{
	int *ready = arg, leaks = 0, pub = 0, done = 0;
	int64_t end = strawi_deadline_ms(20000);
	straw_reg_event ev;
	straw_reg *r;
	uint32_t w;

	if (straw_reg_connect(&r, NULL, 0) < 0)
		return 1;
	if (straw_reg_watch(r, "/", &w) < 0 ||
	    straw_reg_watch(r, "/secret/later", &w) < 0 ||
	    straw_reg_watch(r, "/public", &w) < 0)
		return 2;
	/* Watching an existing node it may not read is refused. */
	if (straw_reg_watch(r, "/secret", &w) != -EACCES)
		return 3;
	say(*ready, 'r');
	while (!done) {
		int left = (int)((end - strawi_now_ns()) / 1000000);
		if (left <= 0 || straw_reg_next_event(r, &ev, left) < 0)
			return 4;
		if (strstr(ev.path, "secret") != NULL) {
			fprintf(stderr, "  uid 65534 heard of %s\n", ev.path);
			leaks++;
		}
		pub += strcmp(ev.path, "/public/x") == 0;
		done = strcmp(ev.path, "/public/done") == 0;
	}
	straw_reg_close(r);
	/* Heard of what it may read (both watches of /public/x: its
	 * permissions and its removal, twice each), nothing else. */
	return leaks ? 5 : pub != 4 ? 6 : 0;
}

#define FLOOD_CONTAINERS 16
#define FLOOD_PER        4096 /* tube requests and forgeries of each */
#define FLOOD_BATCH      256

/* What the flood's attacker got. */
struct flood_result {
	int made;    /* tubes strawd made for it */
	int quota;   /* tube requests refused with STRAW_EQUOTA */
	int other;   /* refused otherwise */
	int forged;  /* forged tube_adopts sent */
	int adopted; /* of them, not refused with -EACCES */
};

struct flood_arg {
	uint32_t root_id;         /* root's container, named by forgeries */
	int to_parent;            /* write end: 'q' once at the quota */
	int from_parent;          /* read end: 'x' to leave */
	struct flood_result *res; /* shared with the parent (MAP_SHARED) */
};

/* Counts what one batch's replies say on x: ok (with a tube's
 * descriptors), STRAW_EQUOTA, other errors; until `want` replies to
 * tube requests came, or the status reply `until` (if not 0). */
static inline int
flood_replies(struct raw *x, int want, uint64_t until, int *ok, int *quota,
              int *other)
{
	int64_t end = strawi_deadline_ms(60000);
	struct raw_in in[FLOOD_BATCH + 8];
	int got = 0, seen_until = until == 0;

	while (got < want || !seen_until) {
		int left = (int)((end - strawi_now_ns()) / 1000000), n, i;
		if (left <= 0)
			return -ETIMEDOUT;
		n = raw_recv(x, in, FLOOD_BATCH + 8, left);
		if (n <= 0)
			return n == 0 ? -ECONNRESET : n;
		for (i = 0; i < n; i++) {
			if (in[i].is_event)
				continue;
			if (until != 0 && in[i].id == until) {
				seen_until = 1;
				continue;
			}
			got++;
			if (in[i].rc == 0)
				(*ok)++;
			else if (in[i].rc == STRAW_EQUOTA)
				(*quota)++;
			else
				(*other)++;
		}
	}
	return 0;
}

static inline int
flood_child(void *arg)
{
	struct flood_arg *fa = arg;
	struct raw c[FLOOD_CONTAINERS];
	uint32_t id[FLOOD_CONTAINERS];
	int made = 0, quota = 0, other = 0, forged_ok = 0, k, j, i;
	char name[32];

	for (k = 0; k < FLOOD_CONTAINERS; k++) {
		snprintf(name, sizeof(name), "flood-%d", k);
		if (raw_open(&c[k]) < 0 || raw_join(&c[k], name, &id[k]) < 0)
			return 1;
	}
	/* Forgeries naming root's container: 16 x 4096. */
	for (k = 0; k < FLOOD_CONTAINERS; k++) {
		struct tube_shm h;
		int fd;
		tu_forged_header(&h, id[k], fa->root_id, 0);
		fd = tu_memfd_with(&h, sizeof(h));
		if (fd < 0)
			return 2;
		for (j = 0; j < FLOOD_PER; j++) {
			uint32_t tid = (uint32_t)j;
			if (pwrite(fd, &tid, sizeof(tid),
			           offsetof(struct tube_shm, tid)) != 4)
				return 3;
			forged_ok += raw_adopt(&c[k], id[k], fa->root_id, tid,
			                       0, fd) != -EACCES;
		}
		close(fd);
	}
	fa->res->forged = FLOOD_CONTAINERS * FLOOD_PER;
	fa->res->adopted = forged_ok;
	if (forged_ok)
		return 4;
	/* Tubes between its own containers, pairs (2k, 2k+1): accepts
	 * first (a status request after them says they are in), then opens
	 * that find them (timeout 0). */
	for (k = 0; k < FLOOD_CONTAINERS; k += 2) {
		for (j = 0; j < FLOOD_PER; j += FLOOD_BATCH) {
			int ok_a = 0, ok_o = 0, q = 0, o = 0;
			uint64_t st;
			for (i = 0; i < FLOOD_BATCH; i++) {
				straw_builder b;
				straw_builder_init(&b);
				straw_build_tuple(&b, 1);
				straw_build_int(&b, 60000);
				if (raw_ext(&c[k + 1], "tube_accept", &b) == 0)
					return 5;
			}
			st = ++c[k + 1].next_id;
			if (reg_enc_status(&c[k + 1].pkt, &c[k + 1].b, st) <
			            0 ||
			    raw_flush(&c[k + 1], NULL, 0) < 0)
				return 6;
			/* The refused accepts answer before the status. */
			if (flood_replies(&c[k + 1], 0, st, &ok_a, &q, &o) < 0)
				return 7;
			snprintf(name, sizeof(name), "%u", id[k + 1]);
			for (i = 0; i < FLOOD_BATCH; i++) {
				straw_builder b;
				straw_builder_init(&b);
				straw_build_tuple(&b, 4);
				straw_build_binary(&b, name, strlen(name));
				straw_build_uint(&b, (uint32_t)(j + i));
				straw_build_int(&b, STRAW_TUBE_RELIABLE);
				straw_build_int(&b, 0);
				if (raw_ext(&c[k], "tube_open", &b) == 0)
					return 8;
			}
			if (raw_flush(&c[k], NULL, 0) < 0 ||
			    flood_replies(&c[k], FLOOD_BATCH, 0, &ok_o, &q,
			                  &o) < 0)
				return 9;
			/* The accepts that found their open answer now. */
			if (ok_o > 0 && flood_replies(&c[k + 1], ok_o, 0, &ok_a,
			                              &q, &o) < 0)
				return 10;
			made += ok_o;
			quota += q;
			other += o;
		}
	}
	fa->res->made = made;
	fa->res->quota = quota;
	fa->res->other = other;
	/* 8192 tube ends: 4096 tubes between its own containers at most. */
	if (made == 0 || made > 4096 || quota == 0)
		return 11;
	say(fa->to_parent, 'q');
	hear(fa->from_parent, 120000);
	for (k = 0; k < FLOOD_CONTAINERS; k++)
		raw_fini(&c[k]);
	return 0;
}

struct root_probe {
	atomic_int stop;  /* set to end the loop */
	int failures;     /* operations that failed */
	int rounds;       /* rounds done */
	int64_t worst_ns; /* slowest round */
};

/* Root's work during the flood: status, write, read, join. */
static inline void *
root_probe_main(void *arg)
{
	struct root_probe *p = arg;
	straw_reg_status st;
	straw_reg *r, *c;
	char path[64], *v;
	size_t len;
	uint32_t id;

	if (straw_reg_connect(&r, NULL, 0) < 0) {
		p->failures++;
		return NULL;
	}
	while (!atomic_load(&p->stop)) {
		int64_t t0 = strawi_now_ns();
		snprintf(path, sizeof(path), "/probe/%d", p->rounds % 64);
		p->failures += straw_reg_status_get(r, &st) < 0;
		p->failures += straw_reg_write(r, path, "v", 1) < 0;
		if (straw_reg_read(r, path, &v, &len) < 0)
			p->failures++;
		else
			straw_free(v);
		if (straw_reg_connect(&c, NULL, 0) < 0) {
			p->failures++;
		} else {
			p->failures += straw_reg_join(c, "probe", &id) < 0;
			straw_reg_close(c);
		}
		t0 = strawi_now_ns() - t0;
		if (t0 > p->worst_ns)
			p->worst_ns = t0;
		p->rounds++;
	}
	straw_reg_close(r);
	return NULL;
}

/* Opens n raw connections watching /flood that never read. */
static inline int
lazy_watchers(struct raw *w, int n)
{
	int i;

	for (i = 0; i < n; i++) {
		uint64_t id;
		if (raw_open(&w[i]) < 0)
			return -1;
		id = ++w[i].next_id;
		if (reg_enc_watch(&w[i].pkt, &w[i].b, id, "/flood", 6, 1) < 0 ||
		    raw_flush(&w[i], NULL, 0) < 0 ||
		    raw_wait(&w[i], id, 10000) < 0)
			return -1;
	}
	return 0;
}

/* 1 if strawd closed every one of them (what they got, then EOF). */
static inline int
all_cut_off(struct raw *w, int n)
{
	struct raw_in in[4096];
	int i, k;

	for (i = 0; i < n; i++) {
		for (k = 0; k < 100000; k++) {
			int got = raw_recv(&w[i], in, 4096, 20000);
			if (got == 0)
				break;
			if (got < 0)
				return 0;
		}
		raw_fini(&w[i]);
	}
	return 1;
}

/* What root does to /secret while the watch_leak_child watches: writes,
 * re-permits, a transaction, removals; then what it may read, ending with
 * /public/done.  0, or the first error. */
static inline int
watch_leak_changes(straw_reg *r)
{
	straw_reg_perms all = {0};
	straw_reg_txn *t;
	int rc;

	all.nread = 1;
	all.read[0] = STRAW_REG_ANYONE;
	if ((rc = straw_reg_write(r, "/secret/hidden-name", "v", 1)) < 0 ||
	    (rc = straw_reg_write(r, "/secret/a/b/c", "v", 1)) < 0 ||
	    /* Readable itself, but below nodes 65534 may not list. */
	    (rc = straw_reg_set_perms(r, "/secret/a/b/c", &all)) < 0 ||
	    (rc = straw_reg_write(r, "/secret/later", "v", 1)) < 0 ||
	    (rc = straw_reg_txn_begin(r, &t)) < 0)
		return rc;
	if ((rc = straw_reg_txn_write(t, "/secret/in-txn", "v", 1)) < 0 ||
	    (rc = straw_reg_txn_rm(t, "/secret/a")) < 0) {
		straw_reg_txn_abort(t);
		return rc;
	}
	if ((rc = straw_reg_txn_commit(t)) < 0 ||
	    (rc = straw_reg_rm(r, "/secret")) < 0 ||
	    (rc = straw_reg_write(r, "/public/x", "v", 1)) < 0 ||
	    (rc = straw_reg_set_perms(r, "/public/x", &all)) < 0 ||
	    (rc = straw_reg_rm(r, "/public/x")) < 0 ||
	    (rc = straw_reg_write(r, "/public/done", "v", 1)) < 0 ||
	    (rc = straw_reg_set_perms(r, "/public/done", &all)) < 0)
		return rc;
	return 0;
}

/* Before the watcher starts: /secret/early (root only) and /public
 * (readable by all). */
static inline int
watch_leak_setup(straw_reg *r)
{
	straw_reg_perms all = {0};
	int rc;

	all.nread = 1;
	all.read[0] = STRAW_REG_ANYONE;
	if ((rc = straw_reg_write(r, "/secret/early", "x", 1)) < 0 ||
	    (rc = straw_reg_mkdir(r, "/public")) < 0)
		return rc;
	return straw_reg_set_perms(r, "/public", &all);
}

/* Waits up to 10 s until path exists (want 1) or not (want 0), woken by a
 * watch on `watch`.  1 once it does. */
static inline int
wait_path(straw_reg *r, const char *watch, const char *path, int want)
{
	int64_t end = strawi_deadline_ms(10000);
	straw_reg_event ev;
	uint32_t w;
	int ok = 0;

	if (straw_reg_watch(r, watch, &w) < 0)
		return 0;
	for (;;) {
		char *v;
		size_t len;
		int rc = straw_reg_read(r, path, &v, &len);
		if (rc == 0)
			straw_free(v);
		if ((rc == 0) == want) {
			ok = 1;
			break;
		}
		if (straw_reg_next_event(
		            r, &ev, (int)((end - strawi_now_ns()) / 1000000)) <
		    0)
			break;
	}
	straw_reg_unwatch(r, w);
	return ok;
}

struct conns_arg {
	int to_parent;   /* 'f' once at its quota */
	int from_parent; /* 'x' to leave */
};

#define FD_LIMIT  256
#define FD_EXTRAS 32

static inline int
fdlimit_child(void *arg)
{
	struct conns_arg *ca = arg;
	struct raw *c = straw_calloc(FD_LIMIT, sizeof(*c));
	int extra[FD_EXTRAS];
	int n = 0, i, rc = 0;
	straw_reg *r;

	if (c == NULL)
		return 1;
	/* Connections until strawd runs out of descriptors. */
	while (n < FD_LIMIT && (rc = raw_open(&c[n])) == 0)
		n++;
	raw_fini(&c[n < FD_LIMIT ? n : FD_LIMIT - 1]);
	if (rc != STRAW_ESERVERFULL || n < FD_LIMIT / 2) {
		fprintf(stderr, "  %d connections, then %s\n", n,
		        straw_errname(rc));
		return 2;
	}
	rc = straw_reg_connect(&r, NULL, 0);
	if (rc != STRAW_ESERVERFULL) {
		fprintf(stderr, "  at the limit, straw_reg_connect: %s\n",
		        straw_errname(rc));
		return 3;
	}
	/* Clients that connect and say nothing: strawd must not leave them
	 * in its backlog (where it would spin on them). */
	for (i = 0; i < FD_EXTRAS; i++)
		if ((extra[i] = tu_raw_connect()) < 0)
			return 4;
	fprintf(stderr,
	        "  uid 65534: %d connections admitted, then refused "
	        "(%s)\n",
	        n, straw_strerror(STRAW_ESERVERFULL));
	say(ca->to_parent, 'f');
	if (hear(ca->from_parent, 60000) != 'x')
		return 5;
	/* Each was answered {reply, 0, {error, ...}} and closed. */
	for (i = 0; i < FD_EXTRAS; i++) {
		struct raw x = {0};
		struct raw_in in[4];
		straw_builder_init(&x.b);
		x.fd = extra[i];
		x.rbuf = straw_malloc(REG_MAX_PACKET);
		if (raw_recv(&x, in, 4, 10000) != 1 || in[0].is_event ||
		    in[0].id != 0 || in[0].rc != STRAW_ESERVERFULL)
			return 6;
		if (raw_recv(&x, in, 4, 10000) != 0)
			return 7;
		raw_fini(&x);
	}
	/* Room again: admitted again. */
	for (i = 0; i < 8; i++)
		raw_fini(&c[i]);
	rc = straw_reg_connect(&r, NULL, 0);
	if (rc < 0) {
		fprintf(stderr, "  after closing some: %s\n",
		        straw_errname(rc));
		return 8;
	}
	straw_reg_close(r);
	for (i = 8; i < n; i++)
		raw_fini(&c[i]);
	straw_free(c);
	return 0;
}

#define WATCHERS 50 /* of each uid */
#define WRITES   300000

static inline int
slow_child(void *arg)
{
	struct conns_arg *ca = arg;
	struct raw w[WATCHERS];
	char path[300];
	straw_reg *r;
	int i;

	if (lazy_watchers(w, WATCHERS) < 0)
		return 1;
	if (straw_reg_connect(&r, NULL, 0) < 0)
		return 2;
	for (i = 0; i < WRITES; i++) {
		/* Long paths: events outgrow every buffer fast. */
		snprintf(path, sizeof(path), "/flood/%0200d", i % 1000);
		if (straw_reg_write_async(r, path, "x", 1) < 0)
			return 3;
	}
	if (straw_reg_sync(r) < 0)
		return 4;
	straw_reg_close(r);
	say(ca->to_parent, 'w');
	if (hear(ca->from_parent, 60000) != 'x')
		return 5;
	return all_cut_off(w, WATCHERS) ? 0 : 6;
}

#endif /* STRAW_TESTS_STRAWD_UTIL_H */
