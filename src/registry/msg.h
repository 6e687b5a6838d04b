/*
 * src/registry/msg.h - the registry protocol's messages: framing, and the
 * one place where requests, replies and events are turned into ETF and back
 * (docs/registry-protocol.md describes the wire format).
 *
 * A packet (one SOCK_SEQPACKET datagram, at most REG_MAX_PACKET bytes) holds
 * one or more frames; a frame is a 4-byte big-endian length and that many
 * bytes of one ETF term (version byte 131 first).  Every incoming term is
 * validated with straw_term_check before it is read.
 */
#ifndef STRAWI_REG_MSG_H
#define STRAWI_REG_MSG_H

#include <stddef.h>
#include <stdint.h>

#include <straw/term.h>

#define REG_PROTO_VERSION 1
#define REG_MAX_PACKET    (192 * 1024) /* bytes of one datagram */
#define REG_MAX_VALUE     (128 * 1024) /* hard cap of a value */
#define REG_MAX_FDS       8            /* fds passed with one packet */
#define REG_NAME_MAX      255          /* container and process names */
#define REG_OP_NAME_MAX   64           /* extension request names */

/* In a read or write set: every uid. */
#define REG_ANYONE 0xffffffffu
/* Entries of a read or write set, at most. */
#define REG_MAX_ACL 16

/* A node's permissions, as read and set through the protocol. */
struct reg_perms {
	uint32_t owner;              /* owner uid */
	uint32_t nread, nwrite;      /* used entries */
	uint32_t read[REG_MAX_ACL];  /* uids, REG_ANYONE for everybody */
	uint32_t write[REG_MAX_ACL]; /* uids, REG_ANYONE for everybody */
};

enum reg_op {
	REG_OP_HELLO,      /* {hello, Id, Version} */
	REG_OP_READ,       /* {read, Id, Path} */
	REG_OP_WRITE,      /* {write, Id, Path, Value} */
	REG_OP_MKDIR,      /* {mkdir, Id, Path} */
	REG_OP_RM,         /* {rm, Id, Path} */
	REG_OP_LS,         /* {ls, Id, Path} */
	REG_OP_GET,        /* {get, Id, Path} */
	REG_OP_SETPERMS,   /* {setperms, Id, Path, Owner, [R], [W]} */
	REG_OP_CHECK,      /* in a txn only: {check, Path, Value | none} */
	REG_OP_WATCH,      /* {watch, Id, Path, Token} */
	REG_OP_UNWATCH,    /* {unwatch, Id, Token} */
	REG_OP_TXN,        /* {txn, Id, [Op]} */
	REG_OP_JOIN,       /* {join, Id, Name, WantedId} */
	REG_OP_REGISTER,   /* {register, Id, Name, ProcessId} */
	REG_OP_UNREGISTER, /* {unregister, Id, Name} */
	REG_OP_LOOKUP,     /* {lookup, Id, Container, Name} */
	REG_OP_STATUS,     /* {status, Id} */
	REG_OP_EXT,        /* {OtherAtom, Id, Body}: an extension handler's */
};

/* A decoded request.  Pointers point into the frame it came from. */
struct reg_req {
	enum reg_op op;         /* which request */
	uint64_t id;            /* the client's request id */
	const char *path;       /* path, or the name of join/(un)register */
	size_t path_len;        /* its bytes */
	const uint8_t *value;   /* write/check value */
	size_t value_len;       /* its bytes */
	int value_none;         /* check: the node must not exist */
	uint64_t num;           /* version, token, wanted id, process id,
	                              lookup's container id */
	int by_id;              /* lookup: container given as an id */
	const char *name;       /* lookup: the process name */
	size_t name_len;        /* its bytes */
	struct reg_perms perms; /* setperms */
	straw_cursor ops;       /* txn: at the first operation */
	uint32_t nops;          /* txn: number of operations */
	char ext[REG_OP_NAME_MAX + 1]; /* ext: the request name */
	const uint8_t *body;           /* ext: the body term, no version byte */
	size_t body_len;               /* its bytes */
};

/*
 * Framing.  reg_frame_next gives the frame at *off of a packet and advances
 * *off: 1 with a frame, 0 at the end, STRAW_EPROTOCOL for a bad length.
 * reg_frame_append adds a frame holding term (version byte first) to pkt.
 */
int reg_frame_next(const uint8_t *pkt, size_t len, size_t *off,
                   const uint8_t **frame, size_t *flen);
int reg_frame_append(straw_buf *pkt, const uint8_t *term, size_t len);

/*
 * Decodes one request frame (server side).  Returns 0, or STRAW_EPROTOCOL
 * (or a term error) for anything malformed; *id_known is then 1 if the
 * request id could still be read (so an error reply can be sent), else 0.
 */
int reg_msg_decode_req(const uint8_t *frame, size_t len, struct reg_req *req,
                       int *id_known);

/* The next operation of a txn request (op gets its op, path, value...). */
int reg_msg_txn_next(struct reg_req *txn, struct reg_req *op);

/* An incoming message on the client side. */
struct reg_in {
	int is_event;         /* 1: event, 0: reply */
	uint64_t id;          /* reply: request id; event: watch token */
	int rc;               /* reply: 0 or the error code */
	const uint8_t *value; /* reply {ok, V}: V without version byte,
	                            else NULL; event: the path */
	size_t value_len;     /* its bytes */
};

/* Decodes a reply or event frame (client side). */
int reg_msg_decode_in(const uint8_t *frame, size_t len, struct reg_in *in);

/*
 * Encoders.  Each appends one frame to pkt using b (a builder reused as
 * scratch space) and returns 0 or -ENOMEM (pkt unchanged).
 */
int reg_enc_path_req(straw_buf *pkt, straw_builder *b, const char *op,
                     uint64_t id, const char *path, size_t len);
int reg_enc_write(straw_buf *pkt, straw_builder *b, uint64_t id,
                  const char *path, size_t plen, const void *val, size_t vlen);
int reg_enc_hello(straw_buf *pkt, straw_builder *b, uint64_t id);
int reg_enc_setperms(straw_buf *pkt, straw_builder *b, uint64_t id,
                     const char *path, size_t plen, const struct reg_perms *p);
int reg_enc_watch(straw_buf *pkt, straw_builder *b, uint64_t id,
                  const char *path, size_t plen, uint64_t token);
int reg_enc_unwatch(straw_buf *pkt, straw_builder *b, uint64_t id,
                    uint64_t token);
int reg_enc_join(straw_buf *pkt, straw_builder *b, uint64_t id,
                 const char *name, uint32_t want);
int reg_enc_register(straw_buf *pkt, straw_builder *b, uint64_t id,
                     const char *name, uint32_t proc);
int reg_enc_unregister(straw_buf *pkt, straw_builder *b, uint64_t id,
                       const char *name);
int reg_enc_lookup(straw_buf *pkt, straw_builder *b, uint64_t id,
                   const char *container, const char *name);
int reg_enc_status(straw_buf *pkt, straw_builder *b, uint64_t id);
/* A txn: ops holds the operations built with reg_txnop_* (each framed). */
int reg_enc_txn(straw_buf *pkt, straw_builder *b, uint64_t id,
                const uint8_t *ops, size_t ops_len, uint32_t nops);
/* An extension request: body is an encoded term (version byte first). */
int reg_enc_ext(straw_buf *pkt, straw_builder *b, const char *op, uint64_t id,
                const uint8_t *body, size_t body_len);

/* Transaction operations, appended (framed, without version byte) to
 * ops. */
int reg_txnop_write(straw_buf *ops, straw_builder *b, const char *path,
                    size_t plen, const void *val, size_t vlen);
int reg_txnop_path(straw_buf *ops, straw_builder *b, const char *op,
                   const char *path, size_t plen);
int reg_txnop_check(straw_buf *ops, straw_builder *b, const char *path,
                    size_t plen, const void *val, size_t vlen);

/* Server replies. */
int reg_enc_reply_ok(straw_buf *pkt, straw_builder *b, uint64_t id);
int reg_enc_reply_err(straw_buf *pkt, straw_builder *b, uint64_t id, int rc);
int reg_enc_reply_binary(straw_buf *pkt, straw_builder *b, uint64_t id,
                         const void *val, size_t len);
int reg_enc_reply_uint(straw_buf *pkt, straw_builder *b, uint64_t id,
                       uint64_t v);
/* {reply, Id, {ok, Term}}: term without version byte. */
int reg_enc_reply_term(straw_buf *pkt, straw_builder *b, uint64_t id,
                       const uint8_t *term, size_t len);
int reg_enc_event(straw_buf *pkt, straw_builder *b, uint64_t token,
                  const char *path, size_t len);

/* Builders of reply values (into b, version byte included, after a
 * straw_builder_reset by the caller). */
int reg_val_get(straw_builder *b, const uint8_t *value, size_t len,
                const struct reg_perms *p, uint32_t nchildren);
int reg_val_hello(straw_builder *b, uint32_t pid, uint64_t machine,
                  const char *boot_id);

/* Readers of reply values (client side); value as in struct reg_in. */
int reg_read_binary(const uint8_t *v, size_t len, const uint8_t **data,
                    size_t *dlen);
int reg_read_uint(const uint8_t *v, size_t len, uint64_t *out);
int reg_read_get(const uint8_t *v, size_t len, const uint8_t **data,
                 size_t *dlen, struct reg_perms *p, uint32_t *nchildren);
int reg_read_hello(const uint8_t *v, size_t len, uint32_t *version,
                   uint32_t *pid, uint64_t *machine);

/* The list of names of an ls reply: reg_read_ls_begin then reg_read_ls_next
 * until it returns 0 (1: a name, <0: malformed). */
int reg_read_ls_begin(straw_cursor *c, const uint8_t *v, size_t len,
                      uint32_t *n);
int reg_read_ls_next(straw_cursor *c, const uint8_t **name, size_t *nlen);

/* strawd's status, as the status request returns it. */
struct reg_status_info {
	uint32_t pid;         /* strawd's pid */
	uint64_t machine;     /* machine id */
	uint32_t containers;  /* joined containers */
	uint32_t nodes;       /* registry nodes */
	uint32_t connections; /* open connections */
	uint32_t watches;     /* watches set */
	uint64_t uptime_ms;   /* since strawd started */
	uint32_t next_id;     /* the next container id it will assign */
};
int reg_val_status(straw_builder *b, const struct reg_status_info *st);
int reg_read_status(const uint8_t *v, size_t len, struct reg_status_info *st);

/*
 * The answer to {usage, Id, []} (an extension-style request strawd itself
 * serves): {{MaxConns, Conns, MaxQueued, Queued, Refused}, Quotas,
 * [{Uid, Use}]}, Quotas and each Use a tuple of REG_USAGE_NRES counts in
 * this order: connections, containers, tube ends, watches, nodes, bytes,
 * queued output bytes.
 */
#define REG_USAGE_NRES 7
struct reg_usage_info {
	uint32_t max_conns;             /* connections strawd serves at most */
	uint32_t conns;                 /* connections now */
	uint64_t max_outq;              /* bytes queued to all, at most */
	uint64_t outq;                  /* bytes queued now */
	uint64_t refused;               /* connections refused so far */
	uint64_t limit[REG_USAGE_NRES]; /* the quotas of each uid but root */
};
struct reg_usage_entry {
	uint32_t uid;                 /* whose */
	uint64_t use[REG_USAGE_NRES]; /* what it holds, in quota order */
};
int reg_val_usage(straw_builder *b, const struct reg_usage_info *info,
                  const struct reg_usage_entry *e, size_t n);
/* Reads such a value (without version byte): the info and up to cap
 * entries (*n: how many there were, at most cap). */
int reg_read_usage(const uint8_t *v, size_t len, struct reg_usage_info *info,
                   struct reg_usage_entry *e, size_t cap, size_t *n);

struct msghdr;

/*
 * Appends the descriptors passed (SCM_RIGHTS) with the message mh received
 * to fds, which holds nfds already, up to REG_MAX_FDS in all; descriptors
 * past that are closed.  Returns the new count.  Used by both ends of the
 * registry socket.
 */
size_t reg_take_fds(const struct msghdr *mh, int *fds, size_t nfds);

/*
 * Sends one packet of len bytes with nfds (<= REG_MAX_FDS) descriptors
 * (SCM_RIGHTS; the caller keeps its own) on fd without blocking and
 * without SIGPIPE.  Returns 0, or -errno (-EAGAIN: the socket is full).
 */
int reg_send_packet(int fd, const uint8_t *data, size_t len, const int *fds,
                    size_t nfds);

#endif /* STRAWI_REG_MSG_H */
