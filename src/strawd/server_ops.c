/*
 * The registry server's requests: one decoded frame in, one reply frame
 * appended to the connection's output.  Identity comes from SO_PEERCRED;
 * paths, names, sizes and quotas are checked here before the tree is
 * touched, so a refused request changes nothing.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/base.h"
#include "base/clock.h"
#include "base/log.h"
#include "registry/path.h"
#include "strawd/server_int.h"

static void
appended(struct reg_server *s, struct reg_conn *c, size_t start, int rc)
{
	if (rc == 0)
		rc = reg_conn_appended(s, c, start);
	if (rc < 0)
		reg_conn_close(s, c, "out of memory for a reply");
}

void
reg_reply_err(struct reg_server *s, struct reg_conn *c, uint64_t id, int rc)
{
	size_t start = c->out.len;

	appended(s, c, start, reg_enc_reply_err(&c->out, &s->b, id, rc));
}

static void
reply_ok(struct reg_server *s, struct reg_conn *c, uint64_t id)
{
	size_t start = c->out.len;

	appended(s, c, start, reg_enc_reply_ok(&c->out, &s->b, id));
}

static void
reply_rc(struct reg_server *s, struct reg_conn *c, uint64_t id, int rc)
{
	if (rc < 0)
		reg_reply_err(s, c, id, rc);
	else
		reply_ok(s, c, id);
}

static void
reply_uint(struct reg_server *s, struct reg_conn *c, uint64_t id, uint64_t v)
{
	size_t start = c->out.len;

	appended(s, c, start, reg_enc_reply_uint(&c->out, &s->b, id, v));
}

/* Replies with the value s->vb holds (or the error it ended in). */
static void
reply_vb(struct reg_server *s, struct reg_conn *c, uint64_t id)
{
	size_t start = c->out.len;
	int rc = s->vb.err;

	/* A reply must fit in one packet (an ls of very many long names
	 * might not). */
	if (rc == 0 && s->vb.buf.len > REG_MAX_PACKET - 64)
		rc = -E2BIG;
	if (rc == 0)
		rc = reg_enc_reply_term(&c->out, &s->b, id, s->vb.buf.data + 1,
		                        s->vb.buf.len - 1);
	straw_builder_reset(&s->vb);
	if (rc == -ENOMEM || rc == -E2BIG) {
		reg_reply_err(s, c, id, rc);
		return;
	}
	appended(s, c, start, rc);
}

/* The uid acts and pays for what it creates and writes. */
static struct reg_who
who_of(const struct reg_conn *c)
{
	struct reg_who w = {c->uid, (uint64_t)c->uid + 1};

	return w;
}

/* Checks size and the uid's quotas of nodes and bytes, then writes or
 * creates (the tree charges the uid through reg_quota_tree_charge). */
static int
op_write(struct reg_server *s, struct reg_conn *c, const struct reg_req *r,
         int mkdir)
{
	struct reg_who w = who_of(c);
	int64_t nodes, bytes;

	if (!mkdir && r->value_len > s->opts.quota_value)
		return STRAW_EVALUESIZE;
	reg_tree_write_cost(&s->tree, w.payer, r->path, r->path_len,
	                    r->value_len, mkdir, &nodes, &bytes);
	if ((nodes > 0 &&
	     !reg_uid_room(s, c->acct, REG_RES_NODES, (uint64_t)nodes)) ||
	    (bytes > 0 &&
	     !reg_uid_room(s, c->acct, REG_RES_BYTES, (uint64_t)bytes)))
		return STRAW_EQUOTA;
	return mkdir ? reg_tree_mkdir(&s->tree, &w, r->path, r->path_len)
	             : reg_tree_write(&s->tree, &w, r->path, r->path_len,
	                              r->value, r->value_len);
}

static int
op_check(struct reg_server *s, struct reg_conn *c, const struct reg_req *r)
{
	const struct reg_node *n =
	        reg_tree_find(&s->tree, r->path, r->path_len);

	if (n != NULL && !reg_node_can_read(n, c->uid))
		return -EACCES;
	if (r->value_none)
		return n == NULL ? 0 : STRAW_ETXNCONFLICT;
	if (n == NULL || n->value_len != r->value_len ||
	    (r->value_len && memcmp(n->value, r->value, r->value_len) != 0))
		return STRAW_ETXNCONFLICT;
	return 0;
}

/* One operation that modifies the tree (also inside a txn). */
static int
op_modify(struct reg_server *s, struct reg_conn *c, const struct reg_req *r)
{
	struct reg_who w = who_of(c);
	int rc = reg_path_check(r->path, r->path_len);

	if (rc < 0)
		return rc;
	switch (r->op) {
	case REG_OP_WRITE:
		return op_write(s, c, r, 0);
	case REG_OP_MKDIR:
		return op_write(s, c, r, 1);
	case REG_OP_RM:
		return reg_tree_rm(&s->tree, &w, r->path, r->path_len);
	case REG_OP_SETPERMS:
		return reg_tree_set_perms(&s->tree, &w, r->path, r->path_len,
		                          &r->perms);
	case REG_OP_CHECK:
		return op_check(s, c, r);
	default:
		return STRAW_EPROTOCOL;
	}
}

/* The value of an ls reply: the names of n's children, in order. */
static int
val_ls(straw_builder *b, const struct reg_node *n)
{
	const struct reg_node *ch;

	straw_build_list(b, n->nchildren);
	for (ch = n->first; ch != NULL; ch = ch->next)
		straw_build_binary(b, ch->path + ch->name_off,
		                   ch->path_len - ch->name_off);
	if (n->nchildren > 0)
		straw_build_nil(b);
	return b->err;
}

static int
op_txn(struct reg_server *s, struct reg_conn *c, struct reg_req *txn)
{
	struct reg_req op;
	int rc = 0;

	if (txn->nops > 1024)
		return -E2BIG;
	reg_tree_txn_begin(&s->tree);
	while (txn->nops > 0 && rc == 0) {
		rc = reg_msg_txn_next(txn, &op);
		if (rc == 0)
			rc = op_modify(s, c, &op);
	}
	if (rc < 0)
		reg_tree_txn_rollback(&s->tree);
	else
		reg_tree_txn_commit(&s->tree);
	return rc;
}

static int
op_register(struct reg_server *s, struct reg_conn *c, const struct reg_req *r)
{
	char path[REG_NAME_MAX + 64], val[16];
	int rc;

	if (c->container == 0)
		return STRAW_ENOTJOINED;
	rc = reg_name_check(r->path, r->path_len, 0);
	if (rc < 0)
		return rc;
	if (r->num > UINT32_MAX)
		return -EINVAL;
	snprintf(path, sizeof(path), "/containers/%u/names/%.*s", c->container,
	         (int)r->path_len, r->path);
	if (r->op == REG_OP_UNREGISTER) {
		rc = reg_server_rm(s, path);
		return rc == -ENOENT ? STRAW_ENONAME : rc;
	}
	if (reg_tree_find(&s->tree, path, strlen(path)) != NULL)
		return STRAW_ENAMETAKEN;
	snprintf(val, sizeof(val), "%u", (unsigned)r->num);
	return reg_server_write(s, path, val, strlen(val));
}

static int
op_lookup(struct reg_server *s, const struct reg_req *r, uint32_t *proc)
{
	const struct reg_container *ct;
	char path[REG_NAME_MAX + 64], val[16];
	const uint8_t *v;
	size_t vlen;
	int rc;

	if (reg_name_check(r->name, r->name_len, 0) < 0)
		return -EINVAL;
	if (r->by_id)
		ct = r->num <= UINT32_MAX ? reg_cont_find(s, (uint32_t)r->num)
		                          : NULL;
	else
		ct = reg_cont_by_name(s, r->path, r->path_len);
	if (ct == NULL)
		return STRAW_ENOCONTAINER;
	snprintf(path, sizeof(path), "/containers/%u/names/%.*s", ct->id,
	         (int)r->name_len, r->name);
	rc = reg_server_read(s, path, &v, &vlen);
	if (rc < 0)
		return rc == -ENOENT ? STRAW_ENONAME : rc;
	if (vlen == 0 || vlen >= sizeof(val))
		return -EIO; /* can't happen: strawd wrote it */
	memcpy(val, v, vlen);
	val[vlen] = '\0';
	*proc = (uint32_t)strtoul(val, NULL, 10);
	return 0;
}

static void
op_status(struct reg_server *s, struct reg_conn *c, uint64_t id)
{
	struct reg_status_info st;

	st.pid = (uint32_t)getpid();
	st.machine = s->machine;
	st.containers = s->ncontainers;
	st.nodes = (uint32_t)s->tree.count;
	st.connections = s->nconns;
	st.watches = s->nwatches;
	st.uptime_ms = (uint64_t)(strawi_now_ns() - s->started_ns) / 1000000;
	st.next_id = s->last_id + 1;
	reg_val_status(&s->vb, &st);
	reply_vb(s, c, id);
}

static void
op_ext(struct reg_server *s, struct reg_conn *c, const struct reg_req *r,
       int *fds, size_t nfds)
{
	struct reg_reply rep;
	struct reg_request rq;
	size_t i;
	int rc;

	for (i = 0; i < s->nhandlers; i++)
		if (strcmp(s->handlers[i].op, r->ext) == 0)
			break;
	if (i == s->nhandlers) {
		reg_reply_err(s, c, r->id, -EOPNOTSUPP);
		return;
	}
	memset(&rep, 0, sizeof(rep));
	rq.conn = c->id;
	rq.id = r->id;
	rq.container = c->container;
	rq.uid = c->uid;
	rq.gid = c->gid;
	rq.pid = c->pid;
	rq.op = r->ext;
	rq.body = r->body;
	rq.body_len = r->body_len;
	rq.fds = fds;
	rq.nfds = nfds;
	rc = s->handlers[i].fn(s, s->handlers[i].arg, &rq, &rep);
	if (rc == REG_REPLY_LATER) {
		/* The handler answers later with reg_server_reply. */
	} else if (rc < 0) {
		reg_reply_err(s, c, r->id, rc);
	} else {
		rc = reg_server_reply(s, c->id, r->id, 0,
		                      rep.term.len ? rep.term.data : NULL,
		                      rep.term.len, rep.fds, rep.nfds);
		if (rc < 0)
			reg_reply_err(s, c, r->id, rc);
	}
	for (i = 0; i < rep.nfds; i++)
		close(rep.fds[i]);
	straw_buf_fini(&rep.term);
}

void
reg_serve_frame(struct reg_server *s, struct reg_conn *c, const uint8_t *frame,
                size_t len, int *fds, size_t nfds)
{
	struct reg_who w = who_of(c);
	const struct reg_node *n;
	struct reg_req r;
	uint32_t v32;
	size_t start;
	int id_known, rc;

	rc = reg_msg_decode_req(frame, len, &r, &id_known);
	if (rc < 0) {
		if (!id_known) {
			reg_conn_close(s, c, "undecodable request");
			return;
		}
		reg_reply_err(s, c, r.id, STRAW_EPROTOCOL);
		return;
	}
	if (!c->hello || r.op == REG_OP_HELLO) {
		if (r.op != REG_OP_HELLO || r.num != REG_PROTO_VERSION) {
			reg_reply_err(s, c, r.id, STRAW_EPROTOCOL);
			c->close_after_flush = 1;
			return;
		}
		c->hello = 1;
		reg_val_hello(&s->vb, (uint32_t)getpid(), s->machine,
		              s->boot_id);
		reply_vb(s, c, r.id);
		return;
	}
	switch (r.op) {
	case REG_OP_READ:
		rc = reg_path_check(r.path, r.path_len);
		if (rc == 0) {
			const uint8_t *v;
			size_t vlen;
			rc = reg_tree_read(&s->tree, &w, r.path, r.path_len, &v,
			                   &vlen);
			if (rc == 0) {
				start = c->out.len;
				appended(s, c, start,
				         reg_enc_reply_binary(&c->out, &s->b,
				                              r.id, v, vlen));
				return;
			}
		}
		reg_reply_err(s, c, r.id, rc);
		return;
	case REG_OP_LS:
	case REG_OP_GET:
		rc = reg_path_check(r.path, r.path_len);
		n = rc < 0 ? NULL
		           : reg_tree_get(&s->tree, &w, r.path, r.path_len,
		                          &rc);
		if (n == NULL) {
			reg_reply_err(s, c, r.id, rc);
			return;
		}
		if (r.op == REG_OP_LS) {
			val_ls(&s->vb, n);
		} else {
			struct reg_perms p;
			reg_tree_perms(n, &p);
			reg_val_get(&s->vb, n->value, n->value_len, &p,
			            n->nchildren);
		}
		reply_vb(s, c, r.id);
		return;
	case REG_OP_WRITE:
	case REG_OP_MKDIR:
	case REG_OP_RM:
	case REG_OP_SETPERMS:
		reply_rc(s, c, r.id, op_modify(s, c, &r));
		return;
	case REG_OP_TXN:
		reply_rc(s, c, r.id, op_txn(s, c, &r));
		return;
	case REG_OP_WATCH:
		rc = reg_path_check(r.path, r.path_len);
		if (rc == 0) {
			n = reg_tree_find(&s->tree, r.path, r.path_len);
			if (n != NULL && !reg_node_can_read(n, c->uid))
				rc = -EACCES;
		}
		if (rc == 0)
			rc = reg_watch_add(s, c, r.path, r.path_len, r.num);
		reply_rc(s, c, r.id, rc);
		return;
	case REG_OP_UNWATCH:
		reply_rc(s, c, r.id, reg_watch_del(s, c, r.num));
		return;
	case REG_OP_JOIN:
		rc = r.num > UINT32_MAX
		             ? -EINVAL
		             : reg_cont_join(s, c, r.path, r.path_len,
		                             (uint32_t)r.num, &v32);
		if (rc < 0)
			reg_reply_err(s, c, r.id, rc);
		else
			reply_uint(s, c, r.id, v32);
		return;
	case REG_OP_REGISTER:
	case REG_OP_UNREGISTER:
		reply_rc(s, c, r.id, op_register(s, c, &r));
		return;
	case REG_OP_LOOKUP:
		rc = op_lookup(s, &r, &v32);
		if (rc < 0)
			reg_reply_err(s, c, r.id, rc);
		else
			reply_uint(s, c, r.id, v32);
		return;
	case REG_OP_STATUS:
		op_status(s, c, r.id);
		return;
	case REG_OP_EXT:
		op_ext(s, c, &r, fds, nfds);
		return;
	case REG_OP_HELLO:
	case REG_OP_CHECK:
		break;
	}
	reg_reply_err(s, c, r.id, STRAW_EPROTOCOL);
}
