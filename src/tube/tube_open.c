/*
 * src/tube/tube_open.c - opening and accepting tubes through strawd (the
 * client half of src/strawd/tube_broker.c): asynchronously, completing on
 * the registry connection's I/O thread, and synchronously on top of that.
 *
 * Every brokered tube that is open sits on one list, so that when its
 * registry connection comes back after strawd restarted (or after the
 * connection was lost), the tube announces itself again (tube_adopt, with
 * its memfd) and its /tubes entry reappears.  The announcement is the tube
 * layer's reconnection hook on that connection.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <semaphore.h>
#include <stdatomic.h>
#include <string.h>
#include <unistd.h>

#include <straw/term.h>

#include "base/base.h"
#include "base/log.h"
#include "registry/client.h"
#include "tube/tube_impl.h"

/* strawd answers an open or accept with timeout 0 at once; its answer is
 * awaited this long. */
#define TUBE_ANSWER_MS 5000

static pthread_mutex_t brokered_mu = PTHREAD_MUTEX_INITIALIZER;
static straw_tube *brokered; /* open brokered tubes, under brokered_mu */

/* Encodes {Opener, Acceptor, Tid, Side} (a tube_close), or with PeerGone
 * as fifth element when peer_gone >= 0 (a tube_adopt). */
static int
identity_body(uint32_t opener, uint32_t acceptor, uint32_t tid, int side,
              int peer_gone, uint8_t **body, size_t *blen)
{
	straw_builder b;

	straw_builder_init(&b);
	straw_build_tuple(&b, peer_gone >= 0 ? 5 : 4);
	straw_build_uint(&b, opener);
	straw_build_uint(&b, acceptor);
	straw_build_uint(&b, tid);
	straw_build_int(&b, side);
	if (peer_gone >= 0)
		straw_build_int(&b, peer_gone);
	return straw_builder_finish(&b, body, blen);
}

/* identity_body of t. */
static int
tube_identity(const straw_tube *t, int peer_gone, uint8_t **body, size_t *blen)
{
	return identity_body(t->side == 0 ? t->self : t->peer,
	                     t->side == 0 ? t->peer : t->self, t->tid, t->side,
	                     peer_gone, body, blen);
}

int
strawi_tube_adopt_send(straw_reg *r, uint32_t opener, uint32_t acceptor,
                       uint32_t tid, int side, int peer_gone, const int *fds,
                       size_t nfds)
{
	uint8_t *body = NULL;
	size_t blen;
	int rc = identity_body(opener, acceptor, tid, side, peer_gone != 0,
	                       &body, &blen);

	if (rc == 0)
		rc = reg_client_call(r, "tube_adopt", body, blen, fds, nfds,
		                     NULL, NULL, NULL, NULL, 5000);
	straw_free(body);
	return rc;
}

/* The answer to one announcement. */
static void
announced(void *arg, struct reg_async_result *res)
{
	(void)arg;
	if (res->rc < 0 && res->rc != -EPIPE && res->rc != -ECANCELED)
		strawi_log(STRAWI_LOG_WARN,
		           "tube: cannot announce it again: %s",
		           straw_strerror(res->rc));
}

/* Submits the tube_adopt of t on r.  Under brokered_mu (t stays open). */
static int
announce_one(straw_reg *r, straw_tube *t)
{
	struct pollfd p = {t->fds[STRAWI_TUBE_FD_SOCK], POLLIN, 0};
	struct reg_async *a = NULL;
	uint8_t *body = NULL;
	size_t blen;
	int gone, rc;

	gone = atomic_load_explicit(&t->peer_gone, memory_order_relaxed) ||
	       (poll(&p, 1, 0) == 1 &&
	        (p.revents & (POLLHUP | POLLRDHUP | POLLERR)));
	rc = tube_identity(t, gone, &body, &blen);
	if (rc == 0)
		rc = reg_async_new_call(&a, "tube_adopt", body, blen, &t->memfd,
		                        1, 64);
	straw_free(body);
	if (rc == 0)
		rc = reg_async_submit(r, a, TUBE_ANSWER_MS, 0, announced, NULL);
	if (rc < 0)
		reg_async_free(a);
	return rc;
}

/* r's reconnection hook: each open tube brokered on r announces itself
 * again (asynchronously: the hook never waits).  Runs on r's I/O thread. */
static void
announce_all(straw_reg *r, void *arg)
{
	straw_tube *t;
	int rc;

	(void)arg;
	pthread_mutex_lock(&brokered_mu);
	for (t = brokered; t != NULL; t = t->bnext) {
		if (t->reg != r)
			continue;
		rc = announce_one(r, t);
		if (rc < 0)
			strawi_log(
			        STRAWI_LOG_WARN,
			        "tube %u-%u-%u: cannot announce it again: %s",
			        t->side == 0 ? t->self : t->peer,
			        t->side == 0 ? t->peer : t->self, t->tid,
			        straw_strerror(rc));
	}
	pthread_mutex_unlock(&brokered_mu);
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

/* ---- asynchronous open and accept ------------------------------------------ */

/* One open or accept in flight. */
struct tube_req {
	straw_reg *r;           /* the connection */
	straw_tube *t;          /* reserved for the answer */
	strawi_tube_done_fn fn; /* the caller's completion */
	void *arg;              /* passed back */
};

/* Makes the tube the answer res carries in x->t. */
static int
tube_of_answer(struct tube_req *x, struct reg_async_result *res)
{
	straw_cursor c;
	int64_t side;
	int memfd, rc;
	size_t i;

	if (res->nfds != STRAWI_TUBE_NFDS || res->value == NULL ||
	    straw_cursor_init(&c, res->value, res->value_len) < 0 ||
	    straw_cursor_int64(&c, &side) < 0 || (side != 0 && side != 1))
		return STRAW_EPROTOCOL;
	/* Kept to announce the tube again after a reconnection. */
	memfd = fcntl(res->fds[STRAWI_TUBE_FD_MEM], F_DUPFD_CLOEXEC, 0);
	if (memfd < 0)
		return -errno;
	rc = strawi_tube_init(x->t, (int)side, res->fds);
	if (rc < 0) {
		close(memfd);
		return rc;
	}
	for (i = 0; i < res->nfds; i++)
		res->fds[i] = -1; /* the tube's now */
	x->t->reg = x->r;
	x->t->memfd = memfd;
	pthread_mutex_lock(&brokered_mu);
	x->t->bnext = brokered;
	brokered = x->t;
	pthread_mutex_unlock(&brokered_mu);
	return 0;
}

static void
tube_answered(void *arg, struct reg_async_result *res)
{
	struct tube_req *x = arg;
	int rc = res->rc;

	if (rc == 0)
		rc = tube_of_answer(x, res);
	if (rc < 0) {
		straw_free(x->t);
		x->fn(x->arg, rc, NULL);
	} else {
		x->fn(x->arg, 0, x->t);
	}
	straw_free(x);
}

/* Submits op with the body b built; all or nothing. */
static int
broker_submit(straw_reg *r, const char *op, straw_builder *b, int timeout_ms,
              strawi_tube_done_fn fn, void *arg)
{
	struct reg_async *a = NULL;
	struct tube_req *x;
	uint8_t *body = NULL;
	size_t blen;
	int rc;

	rc = straw_builder_finish(b, &body, &blen);
	if (rc < 0)
		return rc;
	x = straw_malloc(sizeof(*x));
	if (x != NULL) {
		x->t = straw_malloc(sizeof(*x->t));
		if (x->t == NULL) {
			straw_free(x);
			x = NULL;
		}
	}
	if (x == NULL) {
		straw_free(body);
		return -ENOMEM;
	}
	x->r = r;
	x->fn = fn;
	x->arg = arg;
	rc = reg_async_new_call(&a, op, body, blen, NULL, 0, 64);
	straw_free(body);
	/* Tubes announce themselves again when r comes back. */
	if (rc == 0)
		rc = reg_client_hook_add(r, announce_all, NULL);
	/* strawd answers a request with timeout 0 at once, and one with a
	 * timeout when it is matched; the wait itself is timed here (strawd
	 * has no timers and forgets the request a little before). */
	if (rc == 0)
		rc = reg_async_submit(
		        r, a, timeout_ms == 0 ? TUBE_ANSWER_MS : timeout_ms, 0,
		        tube_answered, x);
	if (rc < 0) {
		reg_async_free(a);
		straw_free(x->t);
		straw_free(x);
	}
	return rc;
}

/* 0 if service is NULL, empty or a valid service name, else -EINVAL. */
static int
service_ok(const char *service)
{
	size_t n, i;

	if (service == NULL)
		return 0;
	n = strlen(service);
	if (n > STRAW_TUBE_SERVICE_MAX)
		return -EINVAL;
	for (i = 0; i < n; i++) {
		char ch = service[i];
		if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
		      (ch >= '0' && ch <= '9') || ch == '_' || ch == '.' ||
		      ch == '-'))
			return -EINVAL;
	}
	return 0;
}

static void
build_service(straw_builder *b, const char *service)
{
	straw_build_binary(b, service ? service : "",
	                   service ? strlen(service) : 0);
}

int
strawi_tube_open_async(straw_reg *r, const char *peer, const char *service,
                       uint32_t tid, enum straw_tube_mode mode, int timeout_ms,
                       strawi_tube_done_fn fn, void *arg)
{
	straw_builder b;

	if (r == NULL || peer == NULL || *peer == '\0' || fn == NULL ||
	    (mode != STRAW_TUBE_DROP && mode != STRAW_TUBE_RELIABLE) ||
	    service_ok(service) < 0)
		return -EINVAL;
	straw_builder_init(&b);
	straw_build_tuple(&b, 5);
	straw_build_binary(&b, peer, strlen(peer));
	straw_build_uint(&b, tid);
	straw_build_int(&b, mode);
	straw_build_int(&b, timeout_ms < 0 ? -1 : timeout_ms);
	build_service(&b, service);
	return broker_submit(r, "tube_open", &b, timeout_ms, fn, arg);
}

int
strawi_tube_accept_async(straw_reg *r, const straw_tube_filter *filter,
                         int timeout_ms, strawi_tube_done_fn fn, void *arg)
{
	static const straw_tube_filter any = {NULL, 0, UINT32_MAX};
	straw_builder b;

	if (filter == NULL)
		filter = &any;
	if (r == NULL || fn == NULL || service_ok(filter->service) < 0 ||
	    filter->tid_min > filter->tid_max)
		return -EINVAL;
	straw_builder_init(&b);
	straw_build_tuple(&b, 4);
	straw_build_int(&b, timeout_ms < 0 ? -1 : timeout_ms);
	build_service(&b, filter->service);
	straw_build_uint(&b, filter->tid_min);
	straw_build_uint(&b, filter->tid_max);
	return broker_submit(r, "tube_accept", &b, timeout_ms, fn, arg);
}

/* ---- synchronous open and accept -------------------------------------------- */

/* A thread waiting for its open or accept. */
struct tube_wait {
	sem_t done;    /* posted by the completion */
	int rc;        /* its result */
	straw_tube *t; /* its tube */
};

static void
wait_done(void *arg, int rc, straw_tube *t)
{
	struct tube_wait *w = arg;

	w->rc = rc;
	w->t = t;
	sem_post(&w->done);
}

/* Waits for the request submitted (rc 0) or returns its error. */
static int
wait_for(struct tube_wait *w, int rc, straw_tube **out)
{
	if (rc == 0) {
		while (sem_wait(&w->done) != 0)
			; /* EINTR */
		rc = w->rc;
	}
	sem_destroy(&w->done);
	if (rc == 0)
		*out = w->t;
	return rc;
}

int
straw_tube_open_service(straw_reg *r, const char *peer, const char *service,
                        uint32_t tid, enum straw_tube_mode mode, int timeout_ms,
                        straw_tube **out)
{
	struct tube_wait w;

	if (out == NULL || sem_init(&w.done, 0, 0) != 0)
		return -EINVAL;
	return wait_for(&w,
	                strawi_tube_open_async(r, peer, service, tid, mode,
	                                       timeout_ms, wait_done, &w),
	                out);
}

int
straw_tube_open(straw_reg *r, const char *peer, uint32_t tid,
                enum straw_tube_mode mode, int timeout_ms, straw_tube **out)
{
	return straw_tube_open_service(r, peer, NULL, tid, mode, timeout_ms,
	                               out);
}

int
straw_tube_accept_filtered(straw_reg *r, const straw_tube_filter *filter,
                           int timeout_ms, straw_tube **out)
{
	struct tube_wait w;

	if (out == NULL || sem_init(&w.done, 0, 0) != 0)
		return -EINVAL;
	return wait_for(
	        &w,
	        strawi_tube_accept_async(r, filter, timeout_ms, wait_done, &w),
	        out);
}

int
straw_tube_accept(straw_reg *r, int timeout_ms, straw_tube **out)
{
	return straw_tube_accept_filtered(r, NULL, timeout_ms, out);
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
	struct reg_async *a = NULL;
	uint8_t *body = NULL;
	size_t blen;

	/* Best effort: strawd also learns it from the closed flag or the
	 * container's end. */
	if (tube_identity(t, -1, &body, &blen) == 0 &&
	    reg_async_new_call(&a, "tube_close", body, blen, NULL, 0, 64) ==
	            0 &&
	    reg_async_submit(t->reg, a, TUBE_ANSWER_MS, 0, NULL, NULL) < 0)
		reg_async_free(a);
	straw_free(body);
}
