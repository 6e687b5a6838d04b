/*
 * src/strawd/server_int.h - the registry server's state, shared by its
 * files: server.c (loop, connections), server_out.c (output and its
 * limits), server_ops.c (requests), server_cont.c (containers, pidfds),
 * server_watch.c (watches) and server_quota.c (what each uid holds).
 */
#ifndef STRAWI_REG_SERVER_INT_H
#define STRAWI_REG_SERVER_INT_H

#include <stdint.h>
#include <sys/types.h>

#include <straw/term.h>

#include "registry/msg.h"
#include "registry/rundir.h"
#include "strawd/server.h"
#include "strawd/tree.h"

/* What an epoll event's data.ptr points at (the first member of each). */
enum reg_src_kind {
	REG_SRC_LISTEN, /* the listening socket */
	REG_SRC_STOP,   /* the stop eventfd */
	REG_SRC_CONN,   /* a connection */
	REG_SRC_PIDFD,  /* a container's pidfd */
};

/* A packet waiting to be sent. */
struct reg_outpkt {
	struct reg_outpkt *next; /* later packet */
	size_t len;              /* bytes of data */
	size_t nfds;             /* fds to pass with it (owned, closed after) */
	int fds[REG_MAX_FDS];    /* the fds */
	uint8_t data[];          /* the frames */
};

struct reg_watch;

/* What one uid holds in strawd, against its quotas.  Exists while it holds
 * anything. */
struct reg_uid {
	struct reg_uid *hnext;       /* hash chain */
	uint32_t uid;                /* whose */
	uint64_t use[REG_RES_COUNT]; /* how much of each resource */
};

struct reg_conn {
	enum reg_src_kind kind;      /* REG_SRC_CONN */
	uint64_t id;                 /* never reused by this server */
	int fd;                      /* the connected socket */
	uid_t uid;                   /* SO_PEERCRED */
	gid_t gid;                   /* SO_PEERCRED */
	pid_t pid;                   /* SO_PEERCRED */
	int hello;                   /* the handshake is done */
	int dead;                    /* closed; freed at the end of the turn */
	int close_after_flush;       /* close once its output is sent */
	const char *kill_reason;     /* close at the end of the turn, why */
	int paused;                  /* not reading: its output is backed up */
	uint32_t container;          /* joined container id, or 0 */
	struct reg_uid *acct;        /* its uid's record (charged one
	                                connection while c lives) */
	uint32_t nwatches;           /* watches it holds */
	struct reg_watch *watches;   /* those watches */
	straw_buf out;               /* frames of the packet being built */
	struct reg_outpkt *qhead;    /* packets queued behind EAGAIN */
	struct reg_outpkt *qtail;    /* last of them */
	size_t qbytes;               /* bytes queued */
	size_t qfds;                 /* descriptors in queued packets */
	size_t charged;              /* out.cap + qbytes as last charged to
	                                acct and the server's total */
	struct reg_conn *dirty_next; /* on the dirty list */
	int dirty;                   /* has output to flush */
	struct reg_conn *hnext;      /* id hash chain */
	struct reg_conn *next;       /* all connections */
	struct reg_conn *prev;       /* all connections */
};

struct reg_container {
	enum reg_src_kind kind;      /* REG_SRC_PIDFD */
	uint32_t id;                 /* container id */
	char name[REG_NAME_MAX + 1]; /* unique name */
	pid_t pid;                   /* its process */
	uid_t uid;                   /* its uid */
	int pidfd;                   /* pidfd_open(pid) */
	uint64_t conn;               /* its connection id */
	int dead;                    /* gone; freed at the end of the turn */
	struct reg_container *next;  /* all containers, or the grave */
};

struct reg_watch {
	struct reg_watch *hnext; /* hash chain of watched paths */
	struct reg_watch *cnext; /* the connection's list */
	struct reg_conn *conn;   /* who watches */
	uint64_t token;          /* the client's token */
	uint64_t hash;           /* of path */
	uint32_t len;            /* bytes of path */
	char path[];             /* the watched path, NUL-terminated */
};

struct reg_handler {
	char op[REG_OP_NAME_MAX + 1]; /* request name */
	reg_handler_fn fn;            /* the handler */
	void *arg;                    /* passed back */
};

struct reg_gone_hook {
	reg_gone_fn fn; /* the hook */
	void *arg;      /* passed back */
};

struct reg_reply {
	straw_buf term;       /* value term (version byte first), empty: ok */
	int fds[REG_MAX_FDS]; /* duplicated fds to send */
	size_t nfds;          /* entries of fds */
};

#define REG_CONN_BUCKETS  1024
#define REG_WATCH_BUCKETS 4096
#define REG_UID_BUCKETS   256
#define REG_MAX_HANDLERS  32
#define REG_MAX_GONE      16
#define REG_MAX_NOTES     4096
#define REG_SELF_NAME     "strawd" /* container 0's name */
/* Descriptors queued to one connection that does not read its replies,
 * and to all connections, before the one holding most is dropped (each
 * tube reply carries six). */
#define REG_MAX_QFDS_CONN 64
#define REG_MAX_QFDS      512
/* Descriptors kept free for what strawd opens itself (pidfds, a tube's
 * memfd and eventfds, the queued ones above) when sizing max_conns. */
#define REG_FD_RESERVE 1024

struct reg_server {
	char dir[REG_DIR_MAX + 1];        /* runtime directory */
	char sock_path[REG_DIR_MAX + 32]; /* dir/strawd.sock */
	int own_socket;                   /* we bound it: unlink at exit */
	int lock_fd;                      /* holds dir/strawd.lock */
	int listen_fd;                    /* listening socket */
	int epfd;                         /* the epoll set */
	int stop_fd;                  /* eventfd written by reg_server_stop */
	enum reg_src_kind listen_src; /* epoll tag of listen_fd */
	enum reg_src_kind stop_src;   /* epoll tag of stop_fd */
	int stopping;                 /* reg_server_stop was called */
	struct reg_server_opts opts;  /* settings, defaults filled in */
	uid_t owner;                  /* strawd's euid: owns system nodes */
	uint64_t machine;             /* machine id */
	char boot_id[40];             /* kernel boot id */
	uint32_t last_id;             /* last container id given out */
	struct reg_id_note notes[REG_MAX_NOTES]; /* who holds which id */
	size_t nnotes;                           /* used entries of notes */
	int64_t started_ns;                      /* when created */
	struct reg_tree tree;                    /* the registry */
	straw_builder b;        /* scratch builder for frames */
	straw_builder vb;       /* scratch builder for reply values */
	uint64_t next_conn;     /* next connection id */
	struct reg_conn *conns; /* all connections */
	uint32_t nconns;        /* their number */
	struct reg_conn *conn_hash[REG_CONN_BUCKETS]; /* by id */
	struct reg_conn *dirty;           /* connections with output */
	struct reg_conn *grave;           /* dead connections to free */
	struct reg_container *containers; /* live containers */
	struct reg_container *cgrave;     /* gone containers to free */
	uint32_t ncontainers;             /* their number */
	struct reg_watch *watch_hash[REG_WATCH_BUCKETS]; /* by path */
	uint32_t nwatches;                               /* watches set */
	struct reg_handler handlers[REG_MAX_HANDLERS];   /* extensions */
	size_t nhandlers;                                /* used entries */
	struct reg_gone_hook gone[REG_MAX_GONE]; /* container-gone hooks */
	size_t ngone;                            /* used entries */
	uint8_t *rbuf; /* receive buffer, REG_MAX_PACKET */
	struct reg_uid *uid_hash[REG_UID_BUCKETS]; /* what each uid holds */
	uint64_t limit[REG_RES_COUNT]; /* per-uid quotas, from opts */
	size_t outq_total;             /* sum of every connection's charged */
	size_t qfds_total;             /* sum of every connection's qfds */
	int spare_fd;      /* held open to be closed when accept hits the
	                      descriptor limit (EMFILE), so that the client
	                      can be accepted and told why it is refused */
	int listen_paused; /* not polling the listening socket: out of
	                      descriptors even without the spare */
	uint64_t refused;  /* connections refused since start */
	uint64_t turn;     /* turns of the loop so far */
};

/* server.c */
struct reg_conn *reg_conn_find(const struct reg_server *s, uint64_t id);
void reg_conn_close(struct reg_server *s, struct reg_conn *c, const char *why);
/* A descriptor was freed: poll the listening socket again if it was
 * paused for want of one. */
void reg_listen_resume(struct reg_server *s);

/* server_out.c: output, its batching, backpressure and limits. */
/* Marks c as having output to flush at the end of the turn. */
void reg_conn_dirty(struct reg_server *s, struct reg_conn *c);
/* Called after a frame starting at offset start was appended to c->out:
 * cuts the packet if it grew too big, and applies the output limits (a
 * connection past one is dropped at the end of the turn, its output
 * freed at once; what is appended to it afterwards is discarded). */
int reg_conn_appended(struct reg_server *s, struct reg_conn *c, size_t start);
/* Queues a packet holding one frame and fds (duplicated), and sends what
 * can be sent at once, so that descriptors stay in strawd only while the
 * client does not read. */
int reg_conn_send_fds(struct reg_server *s, struct reg_conn *c,
                      const uint8_t *frames, size_t len, const int *fds,
                      size_t nfds);
/* Sends what c has queued, then c->out.  Returns 0 (maybe with data left
 * queued), -ENOBUFS past a limit, or -errno when the connection broke. */
int reg_conn_flush(struct reg_server *s, struct reg_conn *c);
/* Frees c's output and its charge (c is closing). */
void reg_conn_out_free(struct reg_server *s, struct reg_conn *c);
/* Updates the epoll interest of c (input unless paused, output while
 * queued). */
int reg_conn_epoll(struct reg_server *s, struct reg_conn *c);
/* Refuses a fresh connection with code and closes fd: answers its hello
 * if one is already there, else sends {reply, 0, {error, ...}}. */
void reg_conn_refuse(struct reg_server *s, int fd, int code);

/* server_quota.c: what each uid holds. */
/* The record of uid, made if needed (NULL: out of memory). */
struct reg_uid *reg_uid_get(struct reg_server *s, uint32_t uid);
/* The record of uid, or NULL if it holds nothing. */
struct reg_uid *reg_uid_find(const struct reg_server *s, uint32_t uid);
/* 1 if u may hold n more of res (root always may). */
int reg_uid_room(const struct reg_server *s, const struct reg_uid *u,
                 enum reg_res res, uint64_t n);
/* Adds n of res to u (never checked: see reg_uid_room). */
void reg_uid_add(struct reg_uid *u, enum reg_res res, uint64_t n);
/* Frees u if it holds nothing. */
void reg_uid_put(struct reg_server *s, struct reg_uid *u);
/* Takes n of res from u, and frees u once it holds nothing. */
void reg_uid_sub(struct reg_server *s, struct reg_uid *u, enum reg_res res,
                 uint64_t n);
/* Fills s->limit from s->opts. */
void reg_quota_setup(struct reg_server *s);
/* The tree's on_charge: nodes and bytes of payer (uid + 1) changed. */
void reg_quota_tree_charge(void *arg, uint64_t payer, int64_t nodes,
                           int64_t bytes);
/* The `usage` request (registered as a handler by reg_server_create). */
int reg_quota_usage_fn(struct reg_server *s, void *arg,
                       const struct reg_request *req, struct reg_reply *reply);
/* Frees every record (the server is going away). */
void reg_quota_fini(struct reg_server *s);

/* server_ops.c: handles one request frame from c. */
void reg_serve_frame(struct reg_server *s, struct reg_conn *c,
                     const uint8_t *frame, size_t len, int *fds, size_t nfds);
/* Replies helpers used by the ops and deferred replies. */
void reg_reply_err(struct reg_server *s, struct reg_conn *c, uint64_t id,
                   int rc);

/* server_cont.c */
int reg_cont_join(struct reg_server *s, struct reg_conn *c, const char *name,
                  size_t nlen, uint32_t want, uint32_t *id);
void reg_cont_gone(struct reg_server *s, struct reg_container *ct);
struct reg_container *reg_cont_find(const struct reg_server *s, uint32_t id);
struct reg_container *reg_cont_by_name(const struct reg_server *s,
                                       const char *name, size_t len);
int reg_name_check(const char *name, size_t len, int container);
int reg_server_setup_tree(struct reg_server *s);

/* server_watch.c */
int reg_watch_add(struct reg_server *s, struct reg_conn *c, const char *path,
                  size_t len, uint64_t token);
int reg_watch_del(struct reg_server *s, struct reg_conn *c, uint64_t token);
void reg_watch_drop_conn(struct reg_server *s, struct reg_conn *c);
/* The tree's on_change: sends an event to each watcher of path or of an
 * ancestor that vis lets learn of it. */
void reg_watch_fire(void *arg, const char *path, size_t len,
                    const struct reg_vis *vis);

#endif /* STRAWI_REG_SERVER_INT_H */
