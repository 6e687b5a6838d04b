/*
 * The registry client's asynchronous requests (client.h): building them,
 * the three queues (submitted, in flight, answered), sending them without
 * blocking, matching answers, deadlines, requeueing after a lost
 * connection, and the reconnection hooks.
 *
 * A request holds everything its answer needs from the moment it is built
 * (room for the value, the name record of a register), so nothing after
 * submission allocates: a submitted request always completes, exactly
 * once.  Lists are singly linked FIFOs under amu; a request is on at most
 * one of them, or owned by the one thread that took it off.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "base/base.h"
#include "base/clock.h"
#include "client_int.h"

/* Room for an integer answer (a lookup's process id), version byte
 * included. */
#define REPLY_SMALL 16

/* Ids are unique per process, hence per connection. */
static _Atomic uint64_t next_id;

/* ---- building ------------------------------------------------------------ */

/* Makes a request of kind from the frame in pkt (consumed: freed). */
static int
make(struct reg_async **out, int kind, straw_buf *pkt, uint64_t id,
     size_t reply_max)
{
	struct reg_async *a;
	size_t i;

	a = straw_malloc(sizeof(*a) + pkt->len + reply_max);
	if (a == NULL) {
		straw_buf_fini(pkt);
		return -ENOMEM;
	}
	memset(a, 0, sizeof(*a));
	a->id = id;
	a->kind = kind;
	for (i = 0; i < REG_MAX_FDS; i++)
		a->fds[i] = a->rfds[i] = -1;
	a->frame_len = pkt->len;
	memcpy(a->frame, pkt->data, pkt->len);
	a->reply = a->frame + pkt->len;
	a->reply_max = reply_max;
	straw_buf_fini(pkt);
	*out = a;
	return 0;
}

static uint64_t
new_id(void)
{
	return (atomic_fetch_add(&next_id, 1) + 1) | REG_ASYNC_ID_BIT;
}

/* The encoder's result in pkt: a request, or its error. */
static int
finish(struct reg_async **out, int kind, int rc, straw_builder *b,
       straw_buf *pkt, uint64_t id, size_t reply_max)
{
	straw_builder_fini(b);
	if (rc < 0) {
		straw_buf_fini(pkt);
		return rc;
	}
	return make(out, kind, pkt, id, reply_max);
}

int
reg_async_new_write(struct reg_async **out, const char *path, const void *val,
                    size_t len)
{
	straw_buf pkt = STRAW_BUF_INIT;
	straw_builder b;
	uint64_t id = new_id();
	int rc = reg_client_path_ok(path);

	if (rc < 0)
		return rc;
	if (len > REG_MAX_VALUE)
		return STRAW_EVALUESIZE;
	straw_builder_init(&b);
	rc = reg_enc_write(&pkt, &b, id, path, strlen(path), val, len);
	return finish(out, REG_ASYNC_PLAIN, rc, &b, &pkt, id, REPLY_SMALL);
}

int
reg_async_new_read(struct reg_async **out, const char *path, size_t reply_max)
{
	straw_buf pkt = STRAW_BUF_INIT;
	straw_builder b;
	uint64_t id = new_id();
	int rc = reg_client_path_ok(path);

	if (rc < 0)
		return rc;
	if (reply_max > REG_MAX_PACKET)
		return -EINVAL;
	straw_builder_init(&b);
	rc = reg_enc_path_req(&pkt, &b, "read", id, path, strlen(path));
	return finish(out, REG_ASYNC_PLAIN, rc, &b, &pkt, id,
	              reply_max > REPLY_SMALL ? reply_max : REPLY_SMALL);
}

int
reg_async_new_rm(struct reg_async **out, const char *path)
{
	straw_buf pkt = STRAW_BUF_INIT;
	straw_builder b;
	uint64_t id = new_id();
	int rc = reg_client_path_ok(path);

	if (rc < 0)
		return rc;
	straw_builder_init(&b);
	rc = reg_enc_path_req(&pkt, &b, "rm", id, path, strlen(path));
	return finish(out, REG_ASYNC_PLAIN, rc, &b, &pkt, id, REPLY_SMALL);
}

/* A register or unregister, with the record of the name it keeps. */
static int
new_name_req(struct reg_async **out, int kind, const char *name,
             uint32_t process)
{
	straw_buf pkt = STRAW_BUF_INIT;
	struct reg_client_rec *rec;
	straw_builder b;
	uint64_t id = new_id();
	int rc = reg_client_name_ok(name);

	if (rc < 0)
		return rc;
	rec = reg_client_rec_new(name, process);
	if (rec == NULL)
		return -ENOMEM;
	straw_builder_init(&b);
	rc = kind == REG_ASYNC_REGISTER
	             ? reg_enc_register(&pkt, &b, id, name, process)
	             : reg_enc_unregister(&pkt, &b, id, name);
	rc = finish(out, kind, rc, &b, &pkt, id, REPLY_SMALL);
	if (rc < 0) {
		straw_free(rec);
		return rc;
	}
	(*out)->rec = rec;
	return 0;
}

int
reg_async_new_register(struct reg_async **out, const char *name,
                       uint32_t process)
{
	return new_name_req(out, REG_ASYNC_REGISTER, name, process);
}

int
reg_async_new_unregister(struct reg_async **out, const char *name)
{
	return new_name_req(out, REG_ASYNC_UNREGISTER, name, 0);
}

int
reg_async_new_lookup(struct reg_async **out, const char *container,
                     const char *name)
{
	straw_buf pkt = STRAW_BUF_INIT;
	straw_builder b;
	uint64_t id = new_id();
	int rc;

	if (reg_client_name_ok(container) < 0 || reg_client_name_ok(name) < 0)
		return -EINVAL;
	straw_builder_init(&b);
	rc = reg_enc_lookup(&pkt, &b, id, container, name);
	return finish(out, REG_ASYNC_PLAIN, rc, &b, &pkt, id, REPLY_SMALL);
}

int
reg_async_new_call(struct reg_async **out, const char *op, const uint8_t *body,
                   size_t body_len, const int *fds, size_t nfds,
                   size_t reply_max)
{
	straw_buf pkt = STRAW_BUF_INIT;
	struct reg_async *a;
	straw_builder b;
	uint64_t id = new_id();
	size_t i;
	int rc;

	if (op == NULL || *op == '\0' || strlen(op) > REG_OP_NAME_MAX ||
	    nfds > REG_MAX_FDS || reply_max > REG_MAX_PACKET)
		return -EINVAL;
	straw_builder_init(&b);
	rc = reg_enc_ext(&pkt, &b, op, id, body, body_len);
	if (rc == 0 && pkt.len > REG_MAX_PACKET)
		rc = -EMSGSIZE;
	rc = finish(out, REG_ASYNC_CALL, rc, &b, &pkt, id, reply_max);
	if (rc < 0)
		return rc;
	a = *out;
	for (i = 0; i < nfds; i++) {
		a->fds[i] = fcntl(fds[i], F_DUPFD_CLOEXEC, 0);
		if (a->fds[i] < 0) {
			rc = -errno;
			reg_async_free(a);
			return rc;
		}
		a->nfds = i + 1;
	}
	return 0;
}

static void
close_fds(int *fds, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (fds[i] >= 0) {
			close(fds[i]);
			fds[i] = -1;
		}
}

void
reg_async_free(struct reg_async *a)
{
	if (a == NULL)
		return;
	close_fds(a->fds, a->nfds);
	close_fds(a->rfds, a->nrfds);
	straw_free(a->rec);
	straw_free(a);
}

/* ---- the queues ------------------------------------------------------------ */

/* A FIFO: head and tail pointers of one of the three lists. */
struct fifo {
	struct reg_async **head, **tail;
};

static struct fifo
fifo_of(struct reg_async **head, struct reg_async **tail)
{
	struct fifo f = {head, tail};
	return f;
}

static void
fifo_push(struct fifo f, struct reg_async *a)
{
	a->next = NULL;
	if (*f.tail != NULL)
		(*f.tail)->next = a;
	else
		*f.head = a;
	*f.tail = a;
}

/* Puts the chain first..last before the head of f. */
static void
fifo_prepend(struct fifo f, struct reg_async *first, struct reg_async *last)
{
	last->next = *f.head;
	if (*f.head == NULL)
		*f.tail = last;
	*f.head = first;
}

/* Unlinks a, whose predecessor is prev (NULL: a is the head). */
static void
fifo_unlink(struct fifo f, struct reg_async *prev, struct reg_async *a)
{
	if (prev != NULL)
		prev->next = a->next;
	else
		*f.head = a->next;
	if (*f.tail == a)
		*f.tail = prev;
	a->next = NULL;
}

#define QUEUED(r)   fifo_of(&(r)->aq_head, &(r)->aq_tail)
#define INFLIGHT(r) fifo_of(&(r)->af_head, &(r)->af_tail)
#define DONE(r)     fifo_of(&(r)->ad_head, &(r)->ad_tail)

static int
on_io_thread(straw_reg *r)
{
	return r->monitor_started && pthread_equal(pthread_self(), r->monitor);
}

int
reg_async_submit(straw_reg *r, struct reg_async *a, int timeout_ms,
                 unsigned flags, reg_async_fn fn, void *arg)
{
	int kick;

	pthread_mutex_lock(&r->amu);
	if (r->a_closing) {
		pthread_mutex_unlock(&r->amu);
		return -ECANCELED;
	}
	if (!(flags & REG_ASYNC_RESERVED) && r->a_pending >= REG_ASYNC_MAX) {
		pthread_mutex_unlock(&r->amu);
		return -ENOBUFS;
	}
	a->fn = fn;
	a->arg = arg;
	a->rc = 0;
	a->deadline =
	        timeout_ms < 0 ? INT64_MAX : strawi_deadline_ms(timeout_ms);
	/* The I/O thread learns of work it does not know about yet: a first
	 * request, or an earlier deadline than it waits for. */
	kick = r->aq_head == NULL || a->deadline < r->a_next_deadline;
	if (a->deadline < r->a_next_deadline)
		r->a_next_deadline = a->deadline;
	fifo_push(QUEUED(r), a);
	r->a_pending++;
	pthread_mutex_unlock(&r->amu);
	if (!atomic_load(&r->io_reads)) {
		atomic_store(&r->io_reads, 1); /* answers are read for us */
		kick = 1;
	}
	if (kick && !on_io_thread(r))
		reg_client_kick(r->kickfd);
	return 0;
}

int
reg_async_have(straw_reg *r, int answered)
{
	int any;

	pthread_mutex_lock(&r->amu);
	any = (answered ? r->ad_head : r->aq_head) != NULL;
	pthread_mutex_unlock(&r->amu);
	return any;
}

/* Moves a, taken off its list, to the answered list with rc. */
static void
complete_locked(straw_reg *r, struct reg_async *a, int rc)
{
	a->rc = rc;
	fifo_push(DONE(r), a);
}

void
reg_async_answer(straw_reg *r, const struct reg_in *in, int *fds, size_t nfds)
{
	struct reg_async *a, *prev = NULL;
	struct reg_client_rec *rec;

	pthread_mutex_lock(&r->amu);
	for (a = r->af_head; a != NULL && a->id != in->id; a = a->next)
		prev = a;
	if (a != NULL) {
		fifo_unlink(INFLIGHT(r), prev, a);
		r->a_pending--;
	}
	pthread_mutex_unlock(&r->amu);
	if (a == NULL) {
		/* It timed out, or strawd is confused: drop the answer. */
		close_fds(fds, nfds);
		return;
	}
	a->rc = in->rc;
	if (in->rc == 0 && in->value != NULL) {
		if (in->value_len + 1 > a->reply_max) {
			a->rc = -EMSGSIZE;
		} else {
			a->reply[0] = 131;
			memcpy(a->reply + 1, in->value, in->value_len);
			a->reply_len = in->value_len + 1;
		}
	}
	if (a->rc == 0) {
		memcpy(a->rfds, fds, nfds * sizeof(int));
		a->nrfds = nfds;
	} else {
		close_fds(fds, nfds);
	}
	/* The names a reconnection restores (mu is held: the handshake's). */
	if (a->rc == 0 && a->kind == REG_ASYNC_REGISTER) {
		a->rec->next = r->names;
		r->names = a->rec;
		a->rec = NULL;
	} else if (a->rc == 0 && a->kind == REG_ASYNC_UNREGISTER) {
		rec = reg_client_rec_unlink(&r->names, a->rec->text, 0);
		straw_free(rec);
	}
	pthread_mutex_lock(&r->amu);
	complete_locked(r, a, a->rc);
	pthread_mutex_unlock(&r->amu);
	if (!on_io_thread(r))
		reg_client_kick(r->kickfd);
}

void
reg_async_requeue(straw_reg *r)
{
	struct reg_async *a, *next, *first = NULL, *last = NULL;

	pthread_mutex_lock(&r->amu);
	for (a = r->af_head; a != NULL; a = next) {
		next = a->next;
		if (a->kind == REG_ASYNC_CALL) {
			r->a_pending--;
			complete_locked(r, a, -ECONNRESET);
			continue;
		}
		a->next = NULL;
		if (last != NULL)
			last->next = a;
		else
			first = a;
		last = a;
	}
	r->af_head = r->af_tail = NULL;
	if (first != NULL)
		fifo_prepend(QUEUED(r), first, last);
	r->a_blocked = 0;
	pthread_mutex_unlock(&r->amu);
}

int
reg_async_send(straw_reg *r)
{
	for (;;) {
		struct reg_async *first, *last, *a;
		const uint8_t *data;
		size_t len;
		int rc;

		if (r->fd < 0)
			return -ECONNRESET;
		/* Take a packet's worth off the queue: requests without
		 * fds together, one with fds alone (its fds belong to the
		 * packet's first frame). */
		pthread_mutex_lock(&r->amu);
		first = r->aq_head;
		if (first == NULL) {
			r->a_blocked = 0;
			pthread_mutex_unlock(&r->amu);
			return 0;
		}
		last = first;
		len = first->frame_len;
		while (first->nfds == 0 && last->next != NULL &&
		       last->next->nfds == 0 &&
		       len + last->next->frame_len <= REG_MAX_PACKET) {
			last = last->next;
			len += last->frame_len;
		}
		r->aq_head = last->next;
		if (r->aq_head == NULL)
			r->aq_tail = NULL;
		last->next = NULL;
		pthread_mutex_unlock(&r->amu);
		if (first == last) {
			data = first->frame;
		} else {
			uint8_t *p = r->abuf;
			for (a = first; a != NULL; a = a->next) {
				memcpy(p, a->frame, a->frame_len);
				p += a->frame_len;
			}
			data = r->abuf;
		}
		rc = reg_send_packet(r->fd, data, len, first->fds, first->nfds);
		pthread_mutex_lock(&r->amu);
		if (rc == 0) {
			/* Sent (the kernel holds the descriptors now). */
			close_fds(first->fds, first->nfds);
			first->nfds = 0;
			*(r->af_tail != NULL ? &r->af_tail->next
			                     : &r->af_head) = first;
			r->af_tail = last;
		} else {
			fifo_prepend(QUEUED(r), first, last);
			r->a_blocked = rc == -EAGAIN;
		}
		pthread_mutex_unlock(&r->amu);
		if (rc == -EAGAIN)
			return 0;
		if (rc < 0) {
			reg_client_disconnect(r);
			return -ECONNRESET;
		}
	}
}

/* Completes the requests of list f past their deadline; the earliest
 * deadline left is folded into *next. */
static void
expire_list(straw_reg *r, struct fifo f, int64_t now, int64_t *next)
{
	struct reg_async *a = *f.head, *prev = NULL, *following;

	for (; a != NULL; a = following) {
		following = a->next;
		if (a->deadline > now) {
			if (a->deadline < *next)
				*next = a->deadline;
			prev = a;
			continue;
		}
		fifo_unlink(f, prev, a);
		r->a_pending--;
		complete_locked(r, a, -ETIMEDOUT);
	}
}

int64_t
reg_async_expire(straw_reg *r, int64_t now)
{
	int64_t next = INT64_MAX;

	pthread_mutex_lock(&r->amu);
	if (now < r->a_next_deadline) {
		next = r->a_next_deadline;
	} else {
		expire_list(r, QUEUED(r), now, &next);
		expire_list(r, INFLIGHT(r), now, &next);
		r->a_next_deadline = next;
	}
	pthread_mutex_unlock(&r->amu);
	return next;
}

void
reg_async_cancel_all(straw_reg *r, int rc)
{
	struct reg_async *a;

	pthread_mutex_lock(&r->amu);
	while ((a = r->af_head) != NULL) {
		fifo_unlink(INFLIGHT(r), NULL, a);
		complete_locked(r, a, rc);
	}
	while ((a = r->aq_head) != NULL) {
		fifo_unlink(QUEUED(r), NULL, a);
		complete_locked(r, a, rc);
	}
	r->a_pending = 0;
	pthread_mutex_unlock(&r->amu);
}

int
reg_async_run_callbacks(straw_reg *r)
{
	struct reg_async *a, *next;
	int n = 0;

	pthread_mutex_lock(&r->amu);
	a = r->ad_head;
	r->ad_head = r->ad_tail = NULL;
	pthread_mutex_unlock(&r->amu);
	for (; a != NULL; a = next, n++) {
		struct reg_async_result res;
		uint64_t v;

		next = a->next;
		memset(&res, 0, sizeof(res));
		res.rc = a->rc;
		if (a->rc == 0 && a->reply_len > 0) {
			res.value = a->reply;
			res.value_len = a->reply_len;
			if (reg_read_uint(a->reply + 1, a->reply_len - 1, &v) ==
			    0)
				res.num = v;
		}
		res.fds = a->rfds;
		res.nfds = a->nrfds;
		if (a->fn != NULL)
			a->fn(a->arg, &res);
		reg_async_free(a); /* closes the fds not taken */
	}
	return n;
}

/* ---- reconnection hooks ---------------------------------------------------- */

static struct reg_client_hook **
hook_find(straw_reg *r, void (*fn)(straw_reg *, void *), void *arg)
{
	struct reg_client_hook **pp;

	for (pp = &r->hooks; *pp != NULL; pp = &(*pp)->next)
		if ((*pp)->fn == fn && (*pp)->arg == arg)
			return pp;
	return NULL;
}

int
reg_client_hook_add(straw_reg *r, void (*fn)(straw_reg *r, void *arg),
                    void *arg)
{
	struct reg_client_hook *h, **pp;

	pthread_mutex_lock(&r->amu);
	pp = hook_find(r, fn, arg);
	pthread_mutex_unlock(&r->amu);
	if (pp != NULL)
		return 0;
	h = straw_malloc(sizeof(*h));
	if (h == NULL)
		return -ENOMEM;
	h->next = NULL;
	h->fn = fn;
	h->arg = arg;
	h->ran_gen = atomic_load(&r->gen); /* not for the connection now */
	pthread_mutex_lock(&r->amu);
	if (hook_find(r, fn, arg) != NULL) {
		pthread_mutex_unlock(&r->amu); /* added meanwhile */
		straw_free(h);
		return 0;
	}
	for (pp = &r->hooks; *pp != NULL; pp = &(*pp)->next)
		;
	*pp = h;
	pthread_mutex_unlock(&r->amu);
	return 0;
}

int
reg_client_hook_remove(straw_reg *r, void (*fn)(straw_reg *r, void *arg),
                       void *arg)
{
	struct reg_client_hook **pp, *h;

	pthread_mutex_lock(&r->amu);
	pp = hook_find(r, fn, arg);
	if (pp == NULL) {
		pthread_mutex_unlock(&r->amu);
		return -ENOENT;
	}
	h = *pp;
	*pp = h->next;
	while (r->hook_on == h && !on_io_thread(r))
		pthread_cond_wait(&r->acv, &r->amu);
	pthread_mutex_unlock(&r->amu);
	straw_free(h);
	return 0;
}

void
reg_client_run_hooks(straw_reg *r, uint64_t gen)
{
	struct reg_client_hook *h;

	for (;;) {
		void (*fn)(straw_reg *, void *);
		void *arg;

		pthread_mutex_lock(&r->amu);
		for (h = r->hooks; h != NULL && h->ran_gen >= gen; h = h->next)
			;
		if (h == NULL) {
			pthread_mutex_unlock(&r->amu);
			return;
		}
		h->ran_gen = gen;
		r->hook_on = h;
		fn = h->fn;
		arg = h->arg;
		pthread_mutex_unlock(&r->amu);
		fn(r, arg); /* may remove h: only fn and arg are used */
		pthread_mutex_lock(&r->amu);
		r->hook_on = NULL;
		pthread_cond_broadcast(&r->acv);
		pthread_mutex_unlock(&r->amu);
	}
}

void
reg_async_fini(straw_reg *r)
{
	struct reg_client_hook *h;

	reg_async_cancel_all(r, -ECANCELED);
	reg_async_run_callbacks(r);
	while ((h = r->hooks) != NULL) {
		r->hooks = h->next;
		straw_free(h);
	}
}
