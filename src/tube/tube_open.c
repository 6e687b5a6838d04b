/*
 * src/tube/tube_open.c - opening and accepting tubes through strawd (the
 * client half of src/tube/broker.c).
 *
 * Every brokered tube that is open sits on one list, so that when its
 * registry connection comes back after strawd restarted (or after the
 * connection was lost), the tube announces itself again (tube_adopt, with
 * its memfd) and its /tubes entry reappears.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <string.h>
#include <unistd.h>

#include <straw/term.h>

#include "base/base.h"
#include "base/log.h"
#include "registry/client.h"
#include "tube/tube_impl.h"

static pthread_mutex_t brokered_mu = PTHREAD_MUTEX_INITIALIZER;
static straw_tube *brokered; /* open brokered tubes, under brokered_mu */

/* What one tube says in its tube_adopt. */
struct announce {
	uint32_t opener, acceptor, tid; /* its identity */
	int side;                       /* this side */
	int peer_gone;                  /* the peer hung up or closed */
	int memfd;                      /* a dup of its memory */
};

int
strawi_tube_adopt_send(straw_reg *r, uint32_t opener, uint32_t acceptor,
                       uint32_t tid, int side, int peer_gone, const int *fds,
                       size_t nfds)
{
	straw_builder b;
	uint8_t *body = NULL;
	size_t blen;
	int rc;

	straw_builder_init(&b);
	straw_build_tuple(&b, 5);
	straw_build_uint(&b, opener);
	straw_build_uint(&b, acceptor);
	straw_build_uint(&b, tid);
	straw_build_int(&b, side);
	straw_build_int(&b, peer_gone);
	rc = straw_builder_finish(&b, &body, &blen);
	if (rc == 0)
		rc = reg_client_call(r, "tube_adopt", body, blen, fds, nfds,
		                     NULL, NULL, NULL, NULL, 5000);
	straw_free(body);
	return rc;
}

static void
announce_one(straw_reg *r, const struct announce *a)
{
	int rc = strawi_tube_adopt_send(r, a->opener, a->acceptor, a->tid,
	                                a->side, a->peer_gone, &a->memfd, 1);

	if (rc < 0 && rc != -EPIPE)
		strawi_log(STRAWI_LOG_WARN,
		           "tube %u-%u-%u: cannot announce it again: %s",
		           a->opener, a->acceptor, a->tid, straw_strerror(rc));
}

/* r's reconnection hook: each open tube brokered on r announces itself
 * again.  Runs on r's monitor thread. */
static void
announce_all(straw_reg *r, void *arg)
{
	struct announce *list = NULL, *grown;
	size_t n = 0, cap = 0, i;
	straw_tube *t;

	(void)arg;
	/* Snapshot under the lock (a tube may close meanwhile: strawd then
	 * sees its closed flag), announce without it. */
	pthread_mutex_lock(&brokered_mu);
	for (t = brokered; t != NULL; t = t->bnext) {
		struct pollfd p = {t->fds[STRAWI_TUBE_FD_SOCK], POLLIN, 0};
		struct announce *a;
		if (t->reg != r)
			continue;
		if (n == cap) {
			cap = cap ? 2 * cap : 8;
			grown = straw_realloc(list, cap * sizeof(*list));
			if (grown == NULL)
				break;
			list = grown;
		}
		a = &list[n];
		a->memfd = fcntl(t->memfd, F_DUPFD_CLOEXEC, 0);
		if (a->memfd < 0)
			continue;
		a->opener = t->side == 0 ? t->self : t->peer;
		a->acceptor = t->side == 0 ? t->peer : t->self;
		a->tid = t->tid;
		a->side = t->side;
		a->peer_gone = atomic_load_explicit(&t->peer_gone,
		                                    memory_order_relaxed) ||
		               (poll(&p, 1, 0) == 1 &&
		                (p.revents & (POLLHUP | POLLRDHUP | POLLERR)));
		n++;
	}
	pthread_mutex_unlock(&brokered_mu);
	for (i = 0; i < n; i++) {
		announce_one(r, &list[i]);
		close(list[i].memfd);
	}
	straw_free(list);
}

void
strawi_tube_broker_forget(straw_tube *t)
{
	straw_tube **pp;

	pthread_mutex_lock(&brokered_mu);
	for (pp = &brokered; *pp != NULL; pp = &(*pp)->bnext)
		if (*pp == t) {
			*pp = t->bnext;
			break;
		}
	pthread_mutex_unlock(&brokered_mu);
}

/* Sends op with body and makes a tube of the side and descriptors the
 * answer carries. */
static int
broker_call(straw_reg *r, const char *op, straw_builder *b, int timeout_ms,
            straw_tube **out)
{
	uint8_t *body = NULL, *reply = NULL;
	size_t blen, rlen, nfds = STRAWI_TUBE_NFDS, i;
	int fds[STRAWI_TUBE_NFDS], rc, memfd;
	int64_t side;
	straw_cursor c;
	straw_tube *t;

	rc = straw_builder_finish(b, &body, &blen);
	if (rc < 0)
		return rc;
	/* strawd answers a call with timeout 0 at once, and one with a
	 * timeout when it is matched; the wait itself is timed here (strawd
	 * has no timers and forgets the request a little before). */
	rc = reg_client_call(r, op, body, blen, NULL, 0, &reply, &rlen, fds,
	                     &nfds, timeout_ms == 0 ? 5000 : timeout_ms);
	straw_free(body);
	if (rc < 0)
		return rc;
	rc = STRAW_EPROTOCOL;
	memfd = -1;
	if (nfds == STRAWI_TUBE_NFDS &&
	    straw_cursor_init(&c, reply, rlen) == 0 &&
	    straw_cursor_int64(&c, &side) == 0 && (side == 0 || side == 1)) {
		/* Kept to announce the tube again after a reconnection. */
		memfd = fcntl(fds[STRAWI_TUBE_FD_MEM], F_DUPFD_CLOEXEC, 0);
		rc = memfd < 0 ? -errno
		               : strawi_tube_from_fds((int)side, fds, &t);
	}
	straw_free(reply);
	if (rc < 0) {
		for (i = 0; i < nfds; i++)
			close(fds[i]);
		if (memfd >= 0)
			close(memfd);
		return rc;
	}
	t->reg = r;
	t->memfd = memfd;
	(void)reg_client_hook_add(r, announce_all, NULL);
	pthread_mutex_lock(&brokered_mu);
	t->bnext = brokered;
	brokered = t;
	pthread_mutex_unlock(&brokered_mu);
	*out = t;
	return 0;
}

int
straw_tube_open(straw_reg *r, const char *peer, uint32_t tid,
                enum straw_tube_mode mode, int timeout_ms, straw_tube **out)
{
	straw_builder b;

	if (r == NULL || peer == NULL || *peer == '\0' || out == NULL ||
	    (mode != STRAW_TUBE_DROP && mode != STRAW_TUBE_RELIABLE))
		return -EINVAL;
	straw_builder_init(&b);
	straw_build_tuple(&b, 4);
	straw_build_binary(&b, peer, strlen(peer));
	straw_build_uint(&b, tid);
	straw_build_int(&b, mode);
	straw_build_int(&b, timeout_ms < 0 ? -1 : timeout_ms);
	return broker_call(r, "tube_open", &b, timeout_ms, out);
}

int
straw_tube_accept(straw_reg *r, int timeout_ms, straw_tube **out)
{
	straw_builder b;

	if (r == NULL || out == NULL)
		return -EINVAL;
	straw_builder_init(&b);
	straw_build_tuple(&b, 1);
	straw_build_int(&b, timeout_ms < 0 ? -1 : timeout_ms);
	return broker_call(r, "tube_accept", &b, timeout_ms, out);
}

int
straw_tube_publish(straw_reg *r)
{
	static const uint8_t nil[] = {131, 106}; /* [] */

	if (r == NULL)
		return -EINVAL;
	return reg_client_call(r, "tube_publish", nil, sizeof(nil), NULL, 0,
	                       NULL, NULL, NULL, NULL, 5000);
}

/* Tells strawd this side closed (called by straw_tube_close). */
void
strawi_tube_broker_closed(straw_tube *t)
{
	straw_builder b;
	uint8_t *body = NULL;
	size_t blen;
	uint32_t opener = t->side == 0 ? t->self : t->peer;
	uint32_t acceptor = t->side == 0 ? t->peer : t->self;

	straw_builder_init(&b);
	straw_build_tuple(&b, 4);
	straw_build_uint(&b, opener);
	straw_build_uint(&b, acceptor);
	straw_build_uint(&b, t->tid);
	straw_build_int(&b, t->side);
	if (straw_builder_finish(&b, &body, &blen) == 0)
		/* Best effort: strawd also learns it from the closed flag
		 * or the container's end. */
		reg_client_call(t->reg, "tube_close", body, blen, NULL, 0, NULL,
		                NULL, NULL, NULL, 1000);
	straw_free(body);
}
