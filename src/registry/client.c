/*
 * The registry client's operations (include/straw/registry.h and
 * client.h): each takes the connection's lock, encodes one request, sends
 * it after any pipelined writes and waits for its reply.  Built-in requests
 * are idempotent and are sent again once after a reconnection; extension
 * requests are not.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/base.h"
#include "base/clock.h"
#include "client_int.h"
#include "registry/path.h"

const char *
straw_reg_start_hint(void)
{
	return "strawd is not running; start it with `strawd --daemon`, "
	       "or leave STRAW_AUTOSTART unset so that straw starts it";
}

static int
autostart_env(void)
{
	const char *e = getenv("STRAW_AUTOSTART");

	return !(e != NULL && strcmp(e, "0") == 0);
}

int
straw_reg_connect(straw_reg **out, const char *dir, unsigned flags)
{
	straw_reg *r;
	int rc;

	r = straw_calloc(1, sizeof(*r));
	if (r == NULL)
		return -ENOMEM;
	r->fd = r->epfd = r->evfd = r->kickfd = -1;
	pthread_mutex_init(&r->mu, NULL);
	pthread_mutex_init(&r->evmu, NULL);
	pthread_mutex_init(&r->amu, NULL);
	pthread_cond_init(&r->acv, NULL);
	r->a_next_deadline = INT64_MAX;
	straw_builder_init(&r->b);
	r->autostart = !(flags & STRAW_REG_NO_AUTOSTART) && autostart_env();
	rc = reg_rundir_path(dir, r->dir, sizeof(r->dir));
	if (rc == 0)
		rc = reg_rundir_file(r->dir, "strawd.sock", r->sock_path,
		                     sizeof(r->sock_path));
	if (rc == 0)
		rc = reg_client_open(r, strawi_deadline_ms(5000));
	if (rc < 0) {
		straw_reg_close(r);
		return rc;
	}
	*out = r;
	return 0;
}

static void
free_recs(struct reg_client_rec *rec)
{
	while (rec != NULL) {
		struct reg_client_rec *next = rec->next;
		straw_free(rec);
		rec = next;
	}
}

void
straw_reg_close(straw_reg *r)
{
	struct reg_client_event *e;

	if (r == NULL)
		return;
	/* Asynchronous requests first (the I/O thread sends what is queued
	 * and completes the rest), then the pipelined writes. */
	reg_client_io_stop(r);
	if (r->fd >= 0) {
		reg_client_lock(r);
		reg_client_drain(r, strawi_deadline_ms(1000));
		reg_client_unlock(r);
	}
	reg_client_teardown(r);
	reg_async_fini(r);
	while ((e = r->evhead) != NULL) {
		r->evhead = e->next;
		straw_free(e);
	}
	free_recs(r->names);
	free_recs(r->watches);
	straw_free(r->container_name);
	straw_builder_fini(&r->b);
	straw_buf_fini(&r->out);
	straw_buf_fini(&r->req);
	straw_buf_fini(&r->hreq);
	pthread_mutex_destroy(&r->mu);
	pthread_mutex_destroy(&r->evmu);
	pthread_mutex_destroy(&r->amu);
	pthread_cond_destroy(&r->acv);
	straw_free(r);
}

int
reg_client_path_ok(const char *path)
{
	return path != NULL ? reg_path_check(path, strlen(path))
	                    : STRAW_EBADPATH;
}

int
reg_client_name_ok(const char *name)
{
	return name == NULL || *name == '\0' || strlen(name) > REG_NAME_MAX
	               ? -EINVAL
	               : 0;
}

/* Sends the request encoded in r->req under id and waits for the reply;
 * on success r->reply holds it.  Under mu. */
static int
call(straw_reg *r, uint64_t id)
{
	return reg_client_call_locked(r, id, 1, NULL, 0,
	                              strawi_deadline_ms(REG_CALL_TIMEOUT_MS));
}

/* Starts a request: lock, fresh id, empty request buffer. */
static uint64_t
begin(straw_reg *r)
{
	reg_client_lock(r);
	r->req.len = 0;
	return ++r->next_req;
}

static int
end(straw_reg *r, int rc)
{
	reg_client_unlock(r);
	return rc;
}

/* Sends the request op on path and waits for its reply (in r->reply).
 * Takes r's lock in every case: the caller reads the reply, then releases
 * it with end(). */
static int
path_call(straw_reg *r, const char *op, const char *path)
{
	int rc = reg_client_path_ok(path);
	uint64_t id = begin(r);

	if (rc == 0)
		rc = reg_enc_path_req(&r->req, &r->b, op, id, path,
		                      strlen(path));
	return rc < 0 ? rc : call(r, id);
}

static int
simple_path_op(straw_reg *r, const char *op, const char *path)
{
	return end(r, path_call(r, op, path));
}

int
straw_reg_read(straw_reg *r, const char *path, char **val, size_t *len)
{
	const uint8_t *d;
	size_t dlen;
	char *v;
	int rc = path_call(r, "read", path);

	if (rc == 0 && (r->reply.value == NULL ||
	                reg_read_binary(r->reply.value, r->reply.value_len, &d,
	                                &dlen) < 0))
		rc = STRAW_EPROTOCOL;
	if (rc < 0)
		return end(r, rc);
	v = straw_malloc(dlen + 1);
	if (v == NULL)
		return end(r, -ENOMEM);
	memcpy(v, d, dlen);
	v[dlen] = '\0';
	*val = v;
	if (len != NULL)
		*len = dlen;
	return end(r, 0);
}

int
straw_reg_write(straw_reg *r, const char *path, const void *val, size_t len)
{
	uint64_t id;
	int rc = reg_client_path_ok(path);

	if (rc < 0)
		return rc;
	if (len > REG_MAX_VALUE)
		return STRAW_EVALUESIZE;
	id = begin(r);
	rc = reg_enc_write(&r->req, &r->b, id, path, strlen(path), val, len);
	return end(r, rc < 0 ? rc : call(r, id));
}

int
straw_reg_write_async(straw_reg *r, const char *path, const void *val,
                      size_t len)
{
	int64_t deadline = strawi_deadline_ms(REG_CALL_TIMEOUT_MS);
	uint64_t id;
	int rc = reg_client_path_ok(path);

	if (rc < 0)
		return rc;
	if (len > REG_MAX_VALUE)
		return STRAW_EVALUESIZE;
	reg_client_lock(r);
	if (r->async_err < 0)
		return end(r, r->async_err);
	rc = reg_client_ensure(r, strawi_deadline_ms(REG_RECONNECT_MS));
	if (rc < 0)
		return end(r, rc);
	id = ++r->next_req;
	rc = reg_enc_write(&r->out, &r->b, id, path, strlen(path), val, len);
	if (rc < 0)
		return end(r, rc);
	r->async_outstanding++;
	if (r->out.len >= REG_ASYNC_BATCH ||
	    r->async_outstanding >= REG_ASYNC_WINDOW)
		rc = reg_client_send(r, NULL, NULL, 0);
	/* Bound what is in flight, so that replies never back up. */
	while (rc == 0 && r->async_outstanding >= REG_ASYNC_WINDOW) {
		struct pollfd p = {r->fd, POLLIN, 0};
		r->got_reply = 1;
		rc = poll(&p, 1, REG_CALL_TIMEOUT_MS);
		if (rc == 0)
			rc = -ETIMEDOUT;
		else if (rc > 0)
			rc = reg_client_pump(r);
		else
			rc = 0;
		if (strawi_now_ns() > deadline)
			rc = -ETIMEDOUT;
	}
	return end(r, rc);
}

int
straw_reg_sync(straw_reg *r)
{
	int rc;

	reg_client_lock(r);
	rc = r->fd >= 0 ? reg_client_drain(
	                          r, strawi_deadline_ms(REG_CALL_TIMEOUT_MS))
	                : 0;
	if (r->async_err < 0)
		rc = r->async_err;
	r->async_err = 0;
	return end(r, rc);
}

int
straw_reg_mkdir(straw_reg *r, const char *path)
{
	return simple_path_op(r, "mkdir", path);
}

int
straw_reg_rm(straw_reg *r, const char *path)
{
	return simple_path_op(r, "rm", path);
}

void
straw_reg_free_names(char **names, size_t n)
{
	size_t i;

	if (names == NULL)
		return;
	for (i = 0; i < n; i++)
		straw_free(names[i]);
	straw_free(names);
}

int
straw_reg_ls(straw_reg *r, const char *path, char ***names, size_t *n)
{
	straw_cursor c;
	uint32_t count, i;
	char **v = NULL;
	int rc = path_call(r, "ls", path);

	if (rc == 0 && (r->reply.value == NULL ||
	                reg_read_ls_begin(&c, r->reply.value,
	                                  r->reply.value_len, &count) < 0))
		rc = STRAW_EPROTOCOL;
	if (rc < 0)
		return end(r, rc);
	v = straw_calloc(count ? count : 1, sizeof(*v));
	if (v == NULL)
		return end(r, -ENOMEM);
	for (i = 0; i < count; i++) {
		const uint8_t *name;
		size_t nlen;
		if (reg_read_ls_next(&c, &name, &nlen) != 1) {
			rc = STRAW_EPROTOCOL;
			break;
		}
		v[i] = straw_malloc(nlen + 1);
		if (v[i] == NULL) {
			rc = -ENOMEM;
			break;
		}
		memcpy(v[i], name, nlen);
		v[i][nlen] = '\0';
	}
	if (rc < 0) {
		straw_reg_free_names(v, i);
		return end(r, rc);
	}
	*names = v;
	*n = count;
	return end(r, 0);
}

static void
perms_from(const struct reg_perms *p, straw_reg_perms *out)
{
	memset(out, 0, sizeof(*out));
	out->owner = p->owner;
	out->nread = p->nread;
	out->nwrite = p->nwrite;
	memcpy(out->read, p->read, sizeof(out->read));
	memcpy(out->write, p->write, sizeof(out->write));
}

int
straw_reg_get_perms(straw_reg *r, const char *path, straw_reg_perms *perms,
                    size_t *nchildren)
{
	struct reg_perms p;
	const uint8_t *d;
	uint32_t nch;
	size_t dlen;
	int rc = path_call(r, "get", path);

	if (rc == 0 && (r->reply.value == NULL ||
	                reg_read_get(r->reply.value, r->reply.value_len, &d,
	                             &dlen, &p, &nch) < 0))
		rc = STRAW_EPROTOCOL;
	if (rc == 0 && perms != NULL)
		perms_from(&p, perms);
	if (rc == 0 && nchildren != NULL)
		*nchildren = nch;
	return end(r, rc);
}

int
straw_reg_set_perms(straw_reg *r, const char *path,
                    const straw_reg_perms *perms)
{
	struct reg_perms p;
	uint64_t id;
	int rc = reg_client_path_ok(path);

	if (rc < 0)
		return rc;
	if (perms->nread > REG_MAX_ACL || perms->nwrite > REG_MAX_ACL)
		return -EINVAL;
	memset(&p, 0, sizeof(p));
	p.owner = perms->owner;
	p.nread = perms->nread;
	p.nwrite = perms->nwrite;
	memcpy(p.read, perms->read, sizeof(p.read));
	memcpy(p.write, perms->write, sizeof(p.write));
	id = begin(r);
	rc = reg_enc_setperms(&r->req, &r->b, id, path, strlen(path), &p);
	return end(r, rc < 0 ? rc : call(r, id));
}

/* ---- transactions -------------------------------------------------------- */

struct straw_reg_txn {
	straw_reg *r;    /* connection */
	straw_builder b; /* scratch */
	straw_buf ops;   /* encoded operations */
	uint32_t nops;   /* their number */
};

int
straw_reg_txn_begin(straw_reg *r, straw_reg_txn **t)
{
	straw_reg_txn *x = straw_calloc(1, sizeof(*x));

	if (x == NULL)
		return -ENOMEM;
	x->r = r;
	straw_builder_init(&x->b);
	*t = x;
	return 0;
}

void
straw_reg_txn_abort(straw_reg_txn *t)
{
	if (t == NULL)
		return;
	straw_builder_fini(&t->b);
	straw_buf_fini(&t->ops);
	straw_free(t);
}

static int
txn_added(straw_reg_txn *t, int rc)
{
	if (rc == 0)
		t->nops++;
	return rc;
}

int
straw_reg_txn_write(straw_reg_txn *t, const char *path, const void *val,
                    size_t len)
{
	int rc = reg_client_path_ok(path);

	if (rc < 0)
		return rc;
	if (len > REG_MAX_VALUE)
		return STRAW_EVALUESIZE;
	return txn_added(t, reg_txnop_write(&t->ops, &t->b, path, strlen(path),
	                                    val, len));
}

int
straw_reg_txn_mkdir(straw_reg_txn *t, const char *path)
{
	int rc = reg_client_path_ok(path);

	return rc < 0 ? rc
	              : txn_added(t, reg_txnop_path(&t->ops, &t->b, "mkdir",
	                                            path, strlen(path)));
}

int
straw_reg_txn_rm(straw_reg_txn *t, const char *path)
{
	int rc = reg_client_path_ok(path);

	return rc < 0 ? rc
	              : txn_added(t, reg_txnop_path(&t->ops, &t->b, "rm", path,
	                                            strlen(path)));
}

int
straw_reg_txn_check(straw_reg_txn *t, const char *path, const void *val,
                    size_t len)
{
	int rc = reg_client_path_ok(path);

	return rc < 0 ? rc
	              : txn_added(t, reg_txnop_check(&t->ops, &t->b, path,
	                                             strlen(path), val, len));
}

int
straw_reg_txn_commit(straw_reg_txn *t)
{
	straw_reg *r = t->r;
	uint64_t id;
	int rc;

	if (t->ops.len + 64 > REG_MAX_PACKET) {
		straw_reg_txn_abort(t);
		return -E2BIG;
	}
	id = begin(r);
	rc = reg_enc_txn(&r->req, &r->b, id, t->ops.data, t->ops.len, t->nops);
	straw_reg_txn_abort(t);
	return end(r, rc < 0 ? rc : call(r, id));
}

/* ---- watches -------------------------------------------------------------- */

struct reg_client_rec *
reg_client_rec_new(const char *text, uint32_t num)
{
	size_t n = strlen(text);
	struct reg_client_rec *rec = straw_malloc(sizeof(*rec) + n + 1);

	if (rec == NULL)
		return NULL;
	rec->next = NULL;
	rec->num = num;
	memcpy(rec->text, text, n + 1);
	return rec;
}

int
straw_reg_watch(straw_reg *r, const char *path, uint32_t *wid)
{
	struct reg_client_rec *rec;
	uint64_t id;
	uint32_t token;
	int rc = reg_client_path_ok(path);

	if (rc < 0)
		return rc;
	id = begin(r);
	token = ++r->next_watch;
	rec = reg_client_rec_new(path, token);
	if (rec == NULL)
		return end(r, -ENOMEM);
	rc = reg_enc_watch(&r->req, &r->b, id, path, strlen(path), token);
	if (rc == 0)
		rc = call(r, id);
	if (rc < 0) {
		straw_free(rec);
		return end(r, rc);
	}
	rec->next = r->watches;
	r->watches = rec;
	*wid = token;
	return end(r, 0);
}

struct reg_client_rec *
reg_client_rec_unlink(struct reg_client_rec **list, const char *text,
                      uint32_t num)
{
	struct reg_client_rec **pp, *rec;

	for (pp = list; (rec = *pp) != NULL; pp = &rec->next) {
		if (text ? strcmp(rec->text, text) == 0 : rec->num == num) {
			*pp = rec->next;
			return rec;
		}
	}
	return NULL;
}

int
straw_reg_unwatch(straw_reg *r, uint32_t wid)
{
	struct reg_client_rec *rec;
	uint64_t id;
	int rc;

	id = begin(r);
	rec = reg_client_rec_unlink(&r->watches, NULL, wid);
	if (rec == NULL)
		return end(r, -ENOENT);
	straw_free(rec);
	rc = reg_enc_unwatch(&r->req, &r->b, id, wid);
	return end(r, rc < 0 ? rc : call(r, id));
}

int
straw_reg_watch_fd(straw_reg *r)
{
	return r->epfd;
}

static int
pop_event(straw_reg *r, straw_reg_event *ev)
{
	struct reg_client_event *e;
	uint64_t v;

	pthread_mutex_lock(&r->evmu);
	e = r->evhead;
	if (e == NULL && r->ev_overflow) {
		/* Events were dropped: tell the application to re-read. */
		r->ev_overflow = 0;
		pthread_mutex_unlock(&r->evmu);
		ev->watch = 0;
		ev->flags = STRAW_REG_EVENT_RESYNC;
		memcpy(ev->path, "/", 2);
		return 1;
	}
	if (e == NULL) {
		(void)!read(r->evfd, &v, sizeof(v));
		pthread_mutex_unlock(&r->evmu);
		return 0;
	}
	r->evhead = e->next;
	if (r->evhead == NULL) {
		r->evtail = NULL;
		(void)!read(r->evfd, &v, sizeof(v));
	}
	r->nev--;
	pthread_mutex_unlock(&r->evmu);
	ev->watch = e->watch;
	ev->flags = e->flags;
	memcpy(ev->path, e->path, e->len + 1);
	straw_free(e);
	return 1;
}

int
straw_reg_next_event(straw_reg *r, straw_reg_event *ev, int timeout_ms)
{
	int64_t deadline = strawi_deadline_ms(timeout_ms);

	for (;;) {
		struct pollfd p;
		int64_t left;

		if (pop_event(r, ev))
			return 0;
		reg_client_lock(r);
		if (r->fd >= 0)
			reg_client_pump(r);
		reg_client_unlock(r);
		if (pop_event(r, ev))
			return 0;
		left = deadline == INT64_MAX
		               ? -1
		               : (deadline - strawi_now_ns()) / 1000000;
		if (deadline != INT64_MAX && left <= 0)
			return -ETIMEDOUT;
		p.fd = r->epfd;
		p.events = POLLIN;
		/* Wake at least every 100 ms: a reconnection changes the
		 * socket inside the epoll set. */
		poll(&p, 1, left < 0 || left > 100 ? 100 : (int)left + 1);
	}
}

/* ---- containers and names -------------------------------------------------- */

int
straw_reg_join(straw_reg *r, const char *name, uint32_t *cid)
{
	uint64_t id, got;
	char *copy;
	size_t n = name ? strlen(name) : 0;
	int rc;

	if (n == 0 || n > REG_NAME_MAX)
		return -EINVAL;
	copy = straw_malloc(n + 1);
	if (copy == NULL)
		return -ENOMEM;
	memcpy(copy, name, n + 1);
	id = begin(r);
	if (r->container != 0) {
		straw_free(copy);
		return end(r, -EALREADY);
	}
	rc = reg_enc_join(&r->req, &r->b, id, name, 0);
	if (rc == 0)
		rc = call(r, id);
	if (rc == 0 &&
	    (r->reply.value == NULL ||
	     reg_read_uint(r->reply.value, r->reply.value_len, &got) < 0 ||
	     got == 0 || got > UINT32_MAX))
		rc = STRAW_EPROTOCOL;
	if (rc < 0) {
		straw_free(copy);
		return end(r, rc);
	}
	r->container = (uint32_t)got;
	r->container_name = copy;
	if (cid != NULL)
		*cid = r->container;
	return end(r, 0);
}

uint32_t
straw_reg_container_id(straw_reg *r)
{
	uint32_t id;

	reg_client_lock(r);
	id = r->container;
	reg_client_unlock(r);
	return id;
}

int
straw_reg_register(straw_reg *r, const char *name, uint32_t process)
{
	struct reg_client_rec *rec;
	uint64_t id;
	int rc;

	if (reg_client_name_ok(name) < 0)
		return -EINVAL;
	rec = reg_client_rec_new(name, process);
	if (rec == NULL)
		return -ENOMEM;
	id = begin(r);
	rc = reg_enc_register(&r->req, &r->b, id, name, process);
	if (rc == 0)
		rc = call(r, id);
	if (rc < 0) {
		straw_free(rec);
		return end(r, rc);
	}
	rec->next = r->names;
	r->names = rec;
	return end(r, 0);
}

int
straw_reg_unregister(straw_reg *r, const char *name)
{
	struct reg_client_rec *rec;
	uint64_t id;
	int rc;

	if (reg_client_name_ok(name) < 0)
		return -EINVAL;
	id = begin(r);
	rc = reg_enc_unregister(&r->req, &r->b, id, name);
	if (rc == 0)
		rc = call(r, id);
	if (rc == 0 &&
	    (rec = reg_client_rec_unlink(&r->names, name, 0)) != NULL)
		straw_free(rec);
	return end(r, rc);
}

int
straw_reg_lookup(straw_reg *r, const char *container, const char *name,
                 uint32_t *process)
{
	uint64_t id, v;
	int rc;

	if (reg_client_name_ok(container) < 0 || reg_client_name_ok(name) < 0)
		return -EINVAL;
	id = begin(r);
	rc = reg_enc_lookup(&r->req, &r->b, id, container, name);
	if (rc == 0)
		rc = call(r, id);
	if (rc == 0 &&
	    (r->reply.value == NULL ||
	     reg_read_uint(r->reply.value, r->reply.value_len, &v) < 0 ||
	     v > UINT32_MAX))
		rc = STRAW_EPROTOCOL;
	if (rc == 0)
		*process = (uint32_t)v;
	return end(r, rc);
}

int
straw_reg_status_get(straw_reg *r, straw_reg_status *st)
{
	struct reg_status_info in;
	uint64_t id;
	int rc;

	id = begin(r);
	rc = reg_enc_status(&r->req, &r->b, id);
	if (rc == 0)
		rc = call(r, id);
	if (rc == 0 &&
	    (r->reply.value == NULL ||
	     reg_read_status(r->reply.value, r->reply.value_len, &in) < 0))
		rc = STRAW_EPROTOCOL;
	if (rc == 0) {
		st->pid = in.pid;
		st->machine = in.machine;
		st->containers = in.containers;
		st->nodes = in.nodes;
		st->connections = in.connections;
		st->watches = in.watches;
		st->uptime_ms = in.uptime_ms;
		st->next_id = in.next_id;
	}
	return end(r, rc);
}

/* ---- internal API (client.h) -------------------------------------------- */

int
reg_client_call(straw_reg *r, const char *op, const uint8_t *body,
                size_t body_len, const int *fds, size_t nfds, uint8_t **reply,
                size_t *reply_len, int *fds_out, size_t *nfds_out,
                int timeout_ms)
{
	static const uint8_t ok_term[] = {131, 119, 2, 'o', 'k'};
	const uint8_t *v;
	size_t vlen, i, cap = nfds_out ? *nfds_out : 0;
	uint8_t *copy = NULL;
	uint64_t id;
	int rc;

	if (op == NULL || *op == '\0' || strlen(op) > REG_OP_NAME_MAX ||
	    nfds > REG_MAX_FDS)
		return -EINVAL;
	id = begin(r);
	rc = reg_enc_ext(&r->req, &r->b, op, id, body, body_len);
	if (rc == 0)
		rc = reg_client_call_locked(r, id, 0, fds, nfds,
		                            strawi_deadline_ms(timeout_ms));
	if (rc < 0) {
		reg_client_drop_rfds(r);
		return end(r, rc);
	}
	if (r->reply.value != NULL) {
		v = r->reply.value;
		vlen = r->reply.value_len;
	} else {
		v = ok_term + 1;
		vlen = sizeof(ok_term) - 1;
	}
	if (reply != NULL) {
		copy = straw_malloc(vlen + 1);
		if (copy == NULL) {
			reg_client_drop_rfds(r);
			return end(r, -ENOMEM);
		}
		copy[0] = 131;
		memcpy(copy + 1, v, vlen);
		*reply = copy;
		if (reply_len != NULL)
			*reply_len = vlen + 1;
	}
	for (i = 0; i < r->nrfds && i < cap; i++)
		fds_out[i] = r->rfds[i];
	if (nfds_out != NULL)
		*nfds_out = i;
	/* Keep what was handed over, close the rest. */
	memmove(r->rfds, r->rfds + i, (r->nrfds - i) * sizeof(int));
	r->nrfds -= i;
	reg_client_drop_rfds(r);
	return end(r, 0);
}

uint32_t
reg_client_server_pid(straw_reg *r)
{
	return r->server_pid;
}

const char *
reg_client_dir(straw_reg *r)
{
	return r->dir;
}

int
reg_client_event_fd(straw_reg *r)
{
	atomic_store(&r->io_reads, 1);
	reg_client_kick(r->kickfd); /* the I/O thread polls for input now */
	return r->evfd;
}

int
reg_client_event_pop(straw_reg *r, straw_reg_event *ev)
{
	return pop_event(r, ev);
}
