/*
 * The registry protocol's messages in ETF: framing, request decoding on the
 * server side, reply and event decoding on the client side, and encoders
 * for both.  Incoming terms are checked with straw_term_check first, then
 * read with a cursor; nothing here trusts a byte it received.
 */
#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "base/base.h"
#include "msg.h"
#include "registry/path.h"

static const straw_term_limits msg_limits = {
        .max_depth = 16,
        .max_size = REG_MAX_PACKET,
        .max_decompressed = REG_MAX_PACKET,
};

int
reg_frame_next(const uint8_t *pkt, size_t len, size_t *off,
               const uint8_t **frame, size_t *flen)
{
	size_t o = *off;
	uint32_t n;

	if (o == len)
		return 0;
	if (len - o < 4)
		return STRAW_EPROTOCOL;
	n = (uint32_t)pkt[o] << 24 | (uint32_t)pkt[o + 1] << 16 |
	    (uint32_t)pkt[o + 2] << 8 | pkt[o + 3];
	if (n == 0 || n > len - o - 4)
		return STRAW_EPROTOCOL;
	*frame = pkt + o + 4;
	*flen = n;
	*off = o + 4 + n;
	return 1;
}

int
reg_frame_append(straw_buf *pkt, const uint8_t *term, size_t len)
{
	uint8_t hdr[4] = {(uint8_t)(len >> 24), (uint8_t)(len >> 16),
	                  (uint8_t)(len >> 8), (uint8_t)len};

	if (straw_buf_reserve(pkt, len + 4) < 0)
		return -ENOMEM;
	memcpy(pkt->data + pkt->len, hdr, 4);
	memcpy(pkt->data + pkt->len + 4, term, len);
	pkt->len += len + 4;
	return 0;
}

/* Appends what b holds as one frame and empties b. */
static int
emit(straw_buf *pkt, straw_builder *b)
{
	int rc = b->err ? b->err
	                : reg_frame_append(pkt, b->buf.data, b->buf.len);

	straw_builder_reset(b);
	return rc;
}

/* ---- decoding ---------------------------------------------------------- */

static int
cur_path(straw_cursor *c, const char **p, size_t *len)
{
	const uint8_t *d;
	int rc = straw_cursor_binary(c, &d, len);

	if (rc < 0)
		return STRAW_EPROTOCOL;
	*p = (const char *)d;
	return 0;
}

static int
cur_u64(straw_cursor *c, uint64_t *v)
{
	return straw_cursor_uint64(c, v) < 0 ? STRAW_EPROTOCOL : 0;
}

static int
cur_u32(straw_cursor *c, uint32_t *v)
{
	uint64_t x;

	if (straw_cursor_uint64(c, &x) < 0 || x > UINT32_MAX)
		return STRAW_EPROTOCOL;
	*v = (uint32_t)x;
	return 0;
}

static int
cur_uid_list(straw_cursor *c, uint32_t *uids, uint32_t *n)
{
	uint32_t i;

	if (straw_cursor_list(c, n) < 0 || *n > REG_MAX_ACL)
		return STRAW_EPROTOCOL;
	if (*n == 0)
		return 0;
	for (i = 0; i < *n; i++)
		if (cur_u32(c, &uids[i]) < 0)
			return STRAW_EPROTOCOL;
	return straw_cursor_nil(c) < 0 ? STRAW_EPROTOCOL : 0;
}

static int
cur_perms(straw_cursor *c, struct reg_perms *p)
{
	memset(p, 0, sizeof(*p));
	if (cur_u32(c, &p->owner) < 0 || cur_uid_list(c, p->read, &p->nread) ||
	    cur_uid_list(c, p->write, &p->nwrite))
		return STRAW_EPROTOCOL;
	return 0;
}

struct op_desc {
	const char *name; /* the atom */
	enum reg_op op;   /* its request */
	uint32_t arity;   /* of the request tuple, Id included */
};

static const struct op_desc op_table[] = {
        {"hello", REG_OP_HELLO, 3},
        {"read", REG_OP_READ, 3},
        {"write", REG_OP_WRITE, 4},
        {"mkdir", REG_OP_MKDIR, 3},
        {"rm", REG_OP_RM, 3},
        {"ls", REG_OP_LS, 3},
        {"get", REG_OP_GET, 3},
        {"setperms", REG_OP_SETPERMS, 6},
        {"watch", REG_OP_WATCH, 4},
        {"unwatch", REG_OP_UNWATCH, 3},
        {"txn", REG_OP_TXN, 3},
        {"join", REG_OP_JOIN, 4},
        {"register", REG_OP_REGISTER, 4},
        {"unregister", REG_OP_UNREGISTER, 3},
        {"lookup", REG_OP_LOOKUP, 4},
        {"status", REG_OP_STATUS, 2},
};

/* Reads the arguments after the id of a request (or of a txn operation,
 * which has no id) whose op is already set. */
static int
decode_args(straw_cursor *c, struct reg_req *r)
{
	uint32_t n;

	switch (r->op) {
	case REG_OP_HELLO:
		return cur_u64(c, &r->num);
	case REG_OP_READ:
	case REG_OP_MKDIR:
	case REG_OP_RM:
	case REG_OP_LS:
	case REG_OP_GET:
	case REG_OP_UNREGISTER:
		return cur_path(c, &r->path, &r->path_len);
	case REG_OP_WRITE:
		if (cur_path(c, &r->path, &r->path_len) < 0 ||
		    straw_cursor_binary(c, &r->value, &r->value_len) < 0)
			return STRAW_EPROTOCOL;
		return 0;
	case REG_OP_CHECK:
		if (cur_path(c, &r->path, &r->path_len) < 0)
			return STRAW_EPROTOCOL;
		if (straw_cursor_atom_is(c, "none") == 1) {
			r->value_none = 1;
			return 0;
		}
		return straw_cursor_binary(c, &r->value, &r->value_len) < 0
		               ? STRAW_EPROTOCOL
		               : 0;
	case REG_OP_SETPERMS:
		if (cur_path(c, &r->path, &r->path_len) < 0)
			return STRAW_EPROTOCOL;
		return cur_perms(c, &r->perms);
	case REG_OP_WATCH:
		if (cur_path(c, &r->path, &r->path_len) < 0)
			return STRAW_EPROTOCOL;
		return cur_u64(c, &r->num);
	case REG_OP_UNWATCH:
		return cur_u64(c, &r->num);
	case REG_OP_TXN:
		if (straw_cursor_list(c, &n) < 0)
			return STRAW_EPROTOCOL;
		r->nops = n;
		r->ops = *c;
		return 0;
	case REG_OP_JOIN:
	case REG_OP_REGISTER:
		if (cur_path(c, &r->path, &r->path_len) < 0)
			return STRAW_EPROTOCOL;
		return cur_u64(c, &r->num);
	case REG_OP_LOOKUP:
		if (straw_cursor_type(c) == STRAW_TERM_INTEGER) {
			r->by_id = 1;
			if (cur_u64(c, &r->num) < 0)
				return STRAW_EPROTOCOL;
		} else if (cur_path(c, &r->path, &r->path_len) < 0) {
			return STRAW_EPROTOCOL;
		}
		if (cur_path(c, &r->name, &r->name_len) < 0)
			return STRAW_EPROTOCOL;
		return 0;
	case REG_OP_STATUS:
		return 0;
	case REG_OP_EXT:
		return straw_cursor_term(c, &r->body, &r->body_len) < 0
		               ? STRAW_EPROTOCOL
		               : 0;
	}
	return STRAW_EPROTOCOL; /* can't happen */
}

int
reg_msg_decode_req(const uint8_t *frame, size_t len, struct reg_req *req,
                   int *id_known)
{
	straw_cursor c;
	uint32_t arity;
	size_t i, alen;
	int rc;

	*id_known = 0;
	memset(req, 0, offsetof(struct reg_req, ops));
	req->nops = 0;
	if (len < 2 || frame[0] != 131 || frame[1] == 80)
		return STRAW_EPROTOCOL; /* compressed requests are refused */
	rc = straw_term_check(frame, len, &msg_limits, NULL);
	if (rc < 0)
		return rc;
	if (straw_cursor_init(&c, frame, len) < 0 ||
	    straw_cursor_tuple(&c, &arity) < 0 || arity < 2 ||
	    straw_cursor_atom(&c, req->ext, sizeof(req->ext), &alen) < 0 ||
	    cur_u64(&c, &req->id) < 0)
		return STRAW_EPROTOCOL;
	*id_known = 1;
	req->op = REG_OP_EXT;
	for (i = 0; i < STRAW_ARRAY_LEN(op_table); i++) {
		if (strcmp(op_table[i].name, req->ext) == 0) {
			if (arity != op_table[i].arity)
				return STRAW_EPROTOCOL;
			req->op = op_table[i].op;
			break;
		}
	}
	if (req->op == REG_OP_EXT && (arity != 3 || alen == 0))
		return STRAW_EPROTOCOL;
	return decode_args(&c, req);
}

int
reg_msg_txn_next(struct reg_req *txn, struct reg_req *op)
{
	static const struct op_desc txn_ops[] = {
	        {"write", REG_OP_WRITE, 3},
	        {"mkdir", REG_OP_MKDIR, 2},
	        {"rm", REG_OP_RM, 2},
	        {"check", REG_OP_CHECK, 3},
	        {"setperms", REG_OP_SETPERMS, 5},
	};
	uint32_t arity;
	size_t i;

	STRAWI_ASSERT(txn->nops > 0);
	memset(op, 0, offsetof(struct reg_req, ops));
	if (straw_cursor_tuple(&txn->ops, &arity) < 0)
		return STRAW_EPROTOCOL;
	for (i = 0; i < STRAW_ARRAY_LEN(txn_ops); i++) {
		if (straw_cursor_atom_is(&txn->ops, txn_ops[i].name) == 1) {
			if (arity != txn_ops[i].arity)
				return STRAW_EPROTOCOL;
			op->op = txn_ops[i].op;
			break;
		}
	}
	if (i == STRAW_ARRAY_LEN(txn_ops) || decode_args(&txn->ops, op) < 0)
		return STRAW_EPROTOCOL;
	if (--txn->nops == 0 && straw_cursor_nil(&txn->ops) < 0)
		return STRAW_EPROTOCOL;
	return 0;
}

int
reg_msg_decode_in(const uint8_t *frame, size_t len, struct reg_in *in)
{
	straw_cursor c;
	uint32_t arity, a2;
	int64_t code;
	int rc;

	memset(in, 0, sizeof(*in));
	if (len < 2 || frame[0] != 131 || frame[1] == 80)
		return STRAW_EPROTOCOL;
	rc = straw_term_check(frame, len, &msg_limits, NULL);
	if (rc < 0)
		return rc;
	if (straw_cursor_init(&c, frame, len) < 0 ||
	    straw_cursor_tuple(&c, &arity) < 0 || arity != 3)
		return STRAW_EPROTOCOL;
	if (straw_cursor_atom_is(&c, "event") == 1) {
		in->is_event = 1;
		if (cur_u64(&c, &in->id) < 0 ||
		    straw_cursor_binary(&c, &in->value, &in->value_len) < 0)
			return STRAW_EPROTOCOL;
		return 0;
	}
	if (straw_cursor_atom_is(&c, "reply") != 1 || cur_u64(&c, &in->id) < 0)
		return STRAW_EPROTOCOL;
	if (straw_cursor_atom_is(&c, "ok") == 1)
		return 0;
	if (straw_cursor_tuple(&c, &a2) < 0)
		return STRAW_EPROTOCOL;
	if (a2 == 2 && straw_cursor_atom_is(&c, "ok") == 1)
		return straw_cursor_term(&c, &in->value, &in->value_len) < 0
		               ? STRAW_EPROTOCOL
		               : 0;
	if (a2 == 3 && straw_cursor_atom_is(&c, "error") == 1 &&
	    straw_cursor_int64(&c, &code) == 0 && code < 0 && code > -100000) {
		in->rc = (int)code;
		return 0;
	}
	return STRAW_EPROTOCOL;
}

/* ---- encoding ---------------------------------------------------------- */

static void
build_req_head(straw_builder *b, const char *op, uint32_t arity, uint64_t id)
{
	straw_build_tuple(b, arity);
	straw_build_atomz(b, op);
	straw_build_uint(b, id);
}

int
reg_enc_path_req(straw_buf *pkt, straw_builder *b, const char *op, uint64_t id,
                 const char *path, size_t len)
{
	build_req_head(b, op, 3, id);
	straw_build_binary(b, path, len);
	return emit(pkt, b);
}

int
reg_enc_write(straw_buf *pkt, straw_builder *b, uint64_t id, const char *path,
              size_t plen, const void *val, size_t vlen)
{
	build_req_head(b, "write", 4, id);
	straw_build_binary(b, path, plen);
	straw_build_binary(b, val, vlen);
	return emit(pkt, b);
}

int
reg_enc_hello(straw_buf *pkt, straw_builder *b, uint64_t id)
{
	build_req_head(b, "hello", 3, id);
	straw_build_uint(b, REG_PROTO_VERSION);
	return emit(pkt, b);
}

static void
build_uid_list(straw_builder *b, const uint32_t *uids, uint32_t n)
{
	uint32_t i;

	straw_build_list(b, n);
	for (i = 0; i < n; i++)
		straw_build_uint(b, uids[i]);
	if (n > 0)
		straw_build_nil(b);
}

static void
build_perms(straw_builder *b, const struct reg_perms *p)
{
	straw_build_uint(b, p->owner);
	build_uid_list(b, p->read, p->nread);
	build_uid_list(b, p->write, p->nwrite);
}

int
reg_enc_setperms(straw_buf *pkt, straw_builder *b, uint64_t id,
                 const char *path, size_t plen, const struct reg_perms *p)
{
	build_req_head(b, "setperms", 6, id);
	straw_build_binary(b, path, plen);
	build_perms(b, p);
	return emit(pkt, b);
}

int
reg_enc_watch(straw_buf *pkt, straw_builder *b, uint64_t id, const char *path,
              size_t plen, uint64_t token)
{
	build_req_head(b, "watch", 4, id);
	straw_build_binary(b, path, plen);
	straw_build_uint(b, token);
	return emit(pkt, b);
}

int
reg_enc_unwatch(straw_buf *pkt, straw_builder *b, uint64_t id, uint64_t token)
{
	build_req_head(b, "unwatch", 3, id);
	straw_build_uint(b, token);
	return emit(pkt, b);
}

int
reg_enc_join(straw_buf *pkt, straw_builder *b, uint64_t id, const char *name,
             uint32_t want)
{
	build_req_head(b, "join", 4, id);
	straw_build_binary(b, name, strlen(name));
	straw_build_uint(b, want);
	return emit(pkt, b);
}

int
reg_enc_register(straw_buf *pkt, straw_builder *b, uint64_t id,
                 const char *name, uint32_t proc)
{
	build_req_head(b, "register", 4, id);
	straw_build_binary(b, name, strlen(name));
	straw_build_uint(b, proc);
	return emit(pkt, b);
}

int
reg_enc_unregister(straw_buf *pkt, straw_builder *b, uint64_t id,
                   const char *name)
{
	return reg_enc_path_req(pkt, b, "unregister", id, name, strlen(name));
}

int
reg_enc_lookup(straw_buf *pkt, straw_builder *b, uint64_t id,
               const char *container, const char *name)
{
	size_t i, n = strlen(container);
	uint64_t v = 0;
	int digits = n > 0 && n <= 10;

	for (i = 0; i < n && digits; i++) {
		if (container[i] < '0' || container[i] > '9')
			digits = 0;
		else
			v = v * 10 + (uint64_t)(container[i] - '0');
	}
	build_req_head(b, "lookup", 4, id);
	if (digits && v <= UINT32_MAX)
		straw_build_uint(b, v);
	else
		straw_build_binary(b, container, n);
	straw_build_binary(b, name, strlen(name));
	return emit(pkt, b);
}

int
reg_enc_status(straw_buf *pkt, straw_builder *b, uint64_t id)
{
	build_req_head(b, "status", 2, id);
	return emit(pkt, b);
}

int
reg_enc_txn(straw_buf *pkt, straw_builder *b, uint64_t id, const uint8_t *ops,
            size_t ops_len, uint32_t nops)
{
	const uint8_t *op;
	size_t off = 0, oplen;

	build_req_head(b, "txn", 3, id);
	straw_build_list(b, nops);
	while (reg_frame_next(ops, ops_len, &off, &op, &oplen) == 1)
		straw_build_raw(b, op, oplen);
	if (nops > 0)
		straw_build_nil(b);
	return emit(pkt, b);
}

int
reg_enc_ext(straw_buf *pkt, straw_builder *b, const char *op, uint64_t id,
            const uint8_t *body, size_t body_len)
{
	if (body_len < 2 || body[0] != 131)
		return -EINVAL;
	build_req_head(b, op, 3, id);
	straw_build_raw(b, body + 1, body_len - 1);
	return emit(pkt, b);
}

/* Appends the body (no version byte) of what b holds to ops, framed. */
static int
emit_body(straw_buf *ops, straw_builder *b)
{
	int rc =
	        b->err ? b->err
	               : reg_frame_append(ops, b->buf.data + 1, b->buf.len - 1);

	straw_builder_reset(b);
	return rc;
}

int
reg_txnop_write(straw_buf *ops, straw_builder *b, const char *path, size_t plen,
                const void *val, size_t vlen)
{
	straw_build_tuple(b, 3);
	straw_build_atomz(b, "write");
	straw_build_binary(b, path, plen);
	straw_build_binary(b, val, vlen);
	return emit_body(ops, b);
}

int
reg_txnop_path(straw_buf *ops, straw_builder *b, const char *op,
               const char *path, size_t plen)
{
	straw_build_tuple(b, 2);
	straw_build_atomz(b, op);
	straw_build_binary(b, path, plen);
	return emit_body(ops, b);
}

int
reg_txnop_check(straw_buf *ops, straw_builder *b, const char *path, size_t plen,
                const void *val, size_t vlen)
{
	straw_build_tuple(b, 3);
	straw_build_atomz(b, "check");
	straw_build_binary(b, path, plen);
	if (val == NULL)
		straw_build_atomz(b, "none");
	else
		straw_build_binary(b, val, vlen);
	return emit_body(ops, b);
}

static void
build_reply_head(straw_builder *b, uint64_t id)
{
	straw_build_tuple(b, 3);
	straw_build_atomz(b, "reply");
	straw_build_uint(b, id);
}

int
reg_enc_reply_ok(straw_buf *pkt, straw_builder *b, uint64_t id)
{
	build_reply_head(b, id);
	straw_build_atomz(b, "ok");
	return emit(pkt, b);
}

int
reg_enc_reply_err(straw_buf *pkt, straw_builder *b, uint64_t id, int rc)
{
	build_reply_head(b, id);
	straw_build_tuple(b, 3);
	straw_build_atomz(b, "error");
	straw_build_int(b, rc);
	straw_build_atomz(b, straw_errname(rc));
	return emit(pkt, b);
}

int
reg_enc_reply_binary(straw_buf *pkt, straw_builder *b, uint64_t id,
                     const void *val, size_t len)
{
	build_reply_head(b, id);
	straw_build_tuple(b, 2);
	straw_build_atomz(b, "ok");
	straw_build_binary(b, val, len);
	return emit(pkt, b);
}

int
reg_enc_reply_uint(straw_buf *pkt, straw_builder *b, uint64_t id, uint64_t v)
{
	build_reply_head(b, id);
	straw_build_tuple(b, 2);
	straw_build_atomz(b, "ok");
	straw_build_uint(b, v);
	return emit(pkt, b);
}

int
reg_enc_reply_term(straw_buf *pkt, straw_builder *b, uint64_t id,
                   const uint8_t *term, size_t len)
{
	build_reply_head(b, id);
	straw_build_tuple(b, 2);
	straw_build_atomz(b, "ok");
	straw_build_raw(b, term, len);
	return emit(pkt, b);
}

int
reg_enc_event(straw_buf *pkt, straw_builder *b, uint64_t token,
              const char *path, size_t len)
{
	straw_build_tuple(b, 3);
	straw_build_atomz(b, "event");
	straw_build_uint(b, token);
	straw_build_binary(b, path, len);
	return emit(pkt, b);
}

int
reg_val_get(straw_builder *b, const uint8_t *value, size_t len,
            const struct reg_perms *p, uint32_t nchildren)
{
	straw_build_tuple(b, 3);
	straw_build_binary(b, value, len);
	straw_build_tuple(b, 3);
	build_perms(b, p);
	straw_build_uint(b, nchildren);
	return b->err;
}

int
reg_val_hello(straw_builder *b, uint32_t pid, uint64_t machine,
              const char *boot_id)
{
	straw_build_tuple(b, 4);
	straw_build_uint(b, REG_PROTO_VERSION);
	straw_build_uint(b, pid);
	straw_build_uint(b, machine);
	straw_build_binary(b, boot_id, strlen(boot_id));
	return b->err;
}

int
reg_val_status(straw_builder *b, const struct reg_status_info *st)
{
	straw_build_tuple(b, 8);
	straw_build_uint(b, st->pid);
	straw_build_uint(b, st->machine);
	straw_build_uint(b, st->containers);
	straw_build_uint(b, st->nodes);
	straw_build_uint(b, st->connections);
	straw_build_uint(b, st->watches);
	straw_build_uint(b, st->uptime_ms);
	straw_build_uint(b, st->next_id);
	return b->err;
}

static void
build_counts(straw_builder *b, const uint64_t *v)
{
	size_t i;

	straw_build_tuple(b, REG_USAGE_NRES);
	for (i = 0; i < REG_USAGE_NRES; i++)
		straw_build_uint(b, v[i]);
}

int
reg_val_usage(straw_builder *b, const struct reg_usage_info *info,
              const struct reg_usage_entry *e, size_t n)
{
	size_t i;

	straw_build_tuple(b, 3);
	straw_build_tuple(b, 5);
	straw_build_uint(b, info->max_conns);
	straw_build_uint(b, info->conns);
	straw_build_uint(b, info->max_outq);
	straw_build_uint(b, info->outq);
	straw_build_uint(b, info->refused);
	build_counts(b, info->limit);
	straw_build_list(b, (uint32_t)n);
	for (i = 0; i < n; i++) {
		straw_build_tuple(b, 2);
		straw_build_uint(b, e[i].uid);
		build_counts(b, e[i].use);
	}
	if (n > 0)
		straw_build_nil(b);
	return b->err;
}

/* Values from the client's point of view: checked as part of their frame
 * already, so a cursor over the body is safe. */

int
reg_read_binary(const uint8_t *v, size_t len, const uint8_t **data,
                size_t *dlen)
{
	straw_cursor c;

	straw_cursor_init_body(&c, v, len);
	return straw_cursor_binary(&c, data, dlen) < 0 ? STRAW_EPROTOCOL : 0;
}

int
reg_read_uint(const uint8_t *v, size_t len, uint64_t *out)
{
	straw_cursor c;

	straw_cursor_init_body(&c, v, len);
	return cur_u64(&c, out);
}

int
reg_read_get(const uint8_t *v, size_t len, const uint8_t **data, size_t *dlen,
             struct reg_perms *p, uint32_t *nchildren)
{
	straw_cursor c;
	uint32_t a, b;

	straw_cursor_init_body(&c, v, len);
	if (straw_cursor_tuple(&c, &a) < 0 || a != 3 ||
	    straw_cursor_binary(&c, data, dlen) < 0 ||
	    straw_cursor_tuple(&c, &b) < 0 || b != 3 || cur_perms(&c, p) < 0 ||
	    cur_u32(&c, nchildren) < 0)
		return STRAW_EPROTOCOL;
	return 0;
}

int
reg_read_hello(const uint8_t *v, size_t len, uint32_t *version, uint32_t *pid,
               uint64_t *machine)
{
	straw_cursor c;
	uint32_t a;

	straw_cursor_init_body(&c, v, len);
	if (straw_cursor_tuple(&c, &a) < 0 || a != 4 ||
	    cur_u32(&c, version) < 0 || cur_u32(&c, pid) < 0 ||
	    cur_u64(&c, machine) < 0)
		return STRAW_EPROTOCOL;
	return 0;
}

int
reg_read_ls_begin(straw_cursor *c, const uint8_t *v, size_t len, uint32_t *n)
{
	straw_cursor_init_body(c, v, len);
	return straw_cursor_list(c, n) < 0 ? STRAW_EPROTOCOL : 0;
}

int
reg_read_ls_next(straw_cursor *c, const uint8_t **name, size_t *nlen)
{
	return straw_cursor_binary(c, name, nlen) < 0 ? STRAW_EPROTOCOL : 1;
}

int
reg_read_status(const uint8_t *v, size_t len, struct reg_status_info *st)
{
	straw_cursor c;
	uint32_t a;

	memset(st, 0, sizeof(*st));
	straw_cursor_init_body(&c, v, len);
	if (straw_cursor_tuple(&c, &a) < 0 || a != 8 ||
	    cur_u32(&c, &st->pid) < 0 || cur_u64(&c, &st->machine) < 0 ||
	    cur_u32(&c, &st->containers) < 0 || cur_u32(&c, &st->nodes) < 0 ||
	    cur_u32(&c, &st->connections) < 0 ||
	    cur_u32(&c, &st->watches) < 0 || cur_u64(&c, &st->uptime_ms) < 0 ||
	    cur_u32(&c, &st->next_id) < 0)
		return STRAW_EPROTOCOL;
	return 0;
}

static int
cur_counts(straw_cursor *c, uint64_t *v)
{
	uint32_t a, i;

	if (straw_cursor_tuple(c, &a) < 0 || a != REG_USAGE_NRES)
		return STRAW_EPROTOCOL;
	for (i = 0; i < REG_USAGE_NRES; i++)
		if (cur_u64(c, &v[i]) < 0)
			return STRAW_EPROTOCOL;
	return 0;
}

int
reg_read_usage(const uint8_t *v, size_t len, struct reg_usage_info *info,
               struct reg_usage_entry *e, size_t cap, size_t *n)
{
	struct reg_usage_entry skip;
	straw_cursor c;
	uint32_t a, b, cnt, i;

	memset(info, 0, sizeof(*info));
	*n = 0;
	straw_cursor_init_body(&c, v, len);
	if (straw_cursor_tuple(&c, &a) < 0 || a != 3 ||
	    straw_cursor_tuple(&c, &b) < 0 || b != 5 ||
	    cur_u32(&c, &info->max_conns) < 0 ||
	    cur_u32(&c, &info->conns) < 0 || cur_u64(&c, &info->max_outq) < 0 ||
	    cur_u64(&c, &info->outq) < 0 || cur_u64(&c, &info->refused) < 0 ||
	    cur_counts(&c, info->limit) < 0 || straw_cursor_list(&c, &cnt) < 0)
		return STRAW_EPROTOCOL;
	for (i = 0; i < cnt; i++) {
		struct reg_usage_entry *x = *n < cap ? &e[*n] : &skip;
		if (straw_cursor_tuple(&c, &a) < 0 || a != 2 ||
		    cur_u32(&c, &x->uid) < 0 || cur_counts(&c, x->use) < 0)
			return STRAW_EPROTOCOL;
		if (*n < cap)
			(*n)++;
	}
	return 0;
}

size_t
reg_take_fds(const struct msghdr *mh, int *fds, size_t nfds)
{
	struct cmsghdr *ch;

	for (ch = CMSG_FIRSTHDR(mh); ch != NULL;
	     ch = CMSG_NXTHDR((struct msghdr *)mh, ch)) {
		size_t k, cnt;
		if (ch->cmsg_level != SOL_SOCKET || ch->cmsg_type != SCM_RIGHTS)
			continue;
		cnt = (ch->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (k = 0; k < cnt; k++) {
			int fd;
			memcpy(&fd, CMSG_DATA(ch) + k * sizeof(int),
			       sizeof(fd));
			if (nfds < REG_MAX_FDS)
				fds[nfds++] = fd;
			else
				close(fd);
		}
	}
	return nfds;
}

int
reg_send_packet(int fd, const uint8_t *data, size_t len, const int *fds,
                size_t nfds)
{
	union {
		struct cmsghdr h;
		char buf[CMSG_SPACE(sizeof(int) * REG_MAX_FDS)];
	} cm;
	struct iovec iov = {(void *)data, len};
	struct msghdr mh = {0};
	ssize_t n;

	if (nfds > REG_MAX_FDS)
		return -EINVAL;
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
	do
		n = sendmsg(fd, &mh, MSG_DONTWAIT | MSG_NOSIGNAL);
	while (n < 0 && errno == EINTR);
	if (n >= 0)
		return 0;
	return errno == EWOULDBLOCK ? -EAGAIN : -errno;
}
