/*
 * src/strawd/server.h - the registry server strawd runs: one thread, one
 * epoll loop, every connection, the tree, containers and their pidfds, and
 * the extension points higher layers use (internal API).
 *
 * Extending strawd without src/registry depending on the extension:
 *
 *  - A module declares itself with REG_SERVER_MODULE(name, init) in any
 *    object linked into strawd; reg_server_create calls every module's init
 *    once, before serving.  init registers request handlers and hooks:
 *
 *        static int tube_init(struct reg_server *s) {
 *                reg_server_handle(s, "tube_open", tube_open_fn, NULL);
 *                reg_server_on_gone(s, tube_gone_fn, NULL);
 *                return 0;
 *        }
 *        REG_SERVER_MODULE(tube, tube_init);
 *
 *  - A request {Name, Id, Body} whose Name is not a built-in operation goes
 *    to the handler registered for Name, with the caller's identity and any
 *    fds that came with it (SCM_RIGHTS).  The handler answers at once
 *    (reg_reply_term / reg_reply_fds / a negative return), or returns
 *    REG_REPLY_LATER and answers later with reg_server_reply (e.g. an accept
 *    that waits for the matching open).  The client side is
 *    reg_client_call() in client.h.
 *
 *  - reg_server_on_gone hooks run when a container goes away (its process
 *    exited, its pidfd fired, or its connection closed), after its entries
 *    under /containers and /names are removed.
 *
 * Every function here runs on the server's thread (inside handlers and
 * hooks, or before reg_server_run), except reg_server_stop.
 */
#ifndef STRAWI_REG_SERVER_H
#define STRAWI_REG_SERVER_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "strawd/tree.h"

struct reg_server;

/*
 * What strawd counts per uid.  Every uid but root (uid 0, exempt) is held
 * to a quota of each (docs/registry-protocol.md has the table of quotas
 * and limits); reg_server_usage and `straw status` show them.
 */
enum reg_res {
	REG_RES_CONNS,      /* connections */
	REG_RES_CONTAINERS, /* joined containers */
	REG_RES_TUBES,      /* tube ends held or waited for (the broker) */
	REG_RES_WATCHES,    /* watches */
	REG_RES_NODES,      /* registry nodes it pays for */
	REG_RES_BYTES,      /* bytes of their paths and values */
	REG_RES_OUTQ,       /* bytes of output queued to its connections */
	REG_RES_COUNT
};

/* Settings of a server; zero fields take the defaults in brackets. */
struct reg_server_opts {
	const char *dir;   /* runtime directory [reg_rundir_path(NULL)] */
	int listen_fd;     /* with listen_fd_set: an inherited listening
	                      SOCK_SEQPACKET socket to serve */
	int listen_fd_set; /* 0: bind dir/strawd.sock instead */
	/* Quotas per uid (root is exempt). */
	uint32_t quota_conns;      /* connections [1024, at most max_conns/2] */
	uint32_t quota_containers; /* joined containers [512] */
	uint32_t quota_tubes;      /* tube ends [8192] */
	uint32_t quota_watches;    /* watches [4096] */
	uint32_t quota_nodes;      /* registry nodes [65536] */
	uint64_t quota_bytes;      /* bytes of their paths and values
	                              [64 MiB] */
	size_t quota_outq_uid; /* bytes queued to its connections [16 MiB] */
	/* Limits for everyone. */
	uint32_t quota_value; /* bytes of one value [65536, at most
	                         REG_MAX_VALUE] */
	size_t quota_outq;    /* bytes queued to one connection that does not
	                         read before it is dropped [4 MiB] */
	size_t max_outq;      /* bytes queued to all connections together
	                         [64 MiB] */
	uint32_t max_conns;   /* connections in all [(RLIMIT_NOFILE - 1024)
	                         / 2, at least 16] */
	const struct reg_server_module *const *modules; /* NULL-terminated
	                           list of modules to run; NULL: none */
};

/*
 * Creates a server: takes the directory's lock, binds (or adopts) the
 * socket, loads the id counter, runs the modules' init.  Returns 0 with
 * *out, -EBUSY with *holder = the serving strawd's pid, or another error
 * (nothing left behind).
 */
int reg_server_create(const struct reg_server_opts *opts,
                      struct reg_server **out, int *holder);

/* Serves until reg_server_stop.  Returns 0, or -errno on a fatal error. */
int reg_server_run(struct reg_server *s);

/* Makes reg_server_run return soon.  Async-signal-safe, any thread. */
void reg_server_stop(struct reg_server *s);

/*
 * Serves one turn of the loop: waits up to timeout_ms (< 0: without limit)
 * for something to do, does it, flushes output and frees what died.
 * Returns the number of events served (0: none came), or -errno on a fatal
 * error.  For servers run in-process (tests, the fuzz target).
 */
int reg_server_run_once(struct reg_server *s, int timeout_ms);

/*
 * Serves the connected SOCK_SEQPACKET socket fd (taken over: closed by the
 * server, also on failure) as a client with the given identity, as if
 * accepted with that SO_PEERCRED.  For in-process tests and the fuzz
 * target.  Returns 0, or the refusal a connection would get
 * (STRAW_ECONNQUOTA, STRAW_ESERVERFULL) or -errno.
 */
int reg_server_add_conn(struct reg_server *s, int fd, uid_t uid, gid_t gid,
                        pid_t pid);

/* Closes every connection, removes the socket and releases the lock.
 * Accepts NULL. */
void reg_server_destroy(struct reg_server *s);

/* The runtime directory the server serves. */
const char *reg_server_dir(const struct reg_server *s);

/* ---- extension API ---------------------------------------------------- */

/* Who sent a request, and what it carried. */
struct reg_request {
	uint64_t conn;       /* connection id (never reused by a server) */
	uint64_t id;         /* the client's request id */
	uint32_t container;  /* the connection's container id, 0 if none */
	uid_t uid;           /* SO_PEERCRED */
	gid_t gid;           /* SO_PEERCRED */
	pid_t pid;           /* SO_PEERCRED */
	const char *op;      /* the request name */
	const uint8_t *body; /* the body term, without version byte */
	size_t body_len;     /* its bytes */
	int *fds;            /* fds received with the request; a handler that
	                        keeps one sets its slot to -1, the rest are
	                        closed after it returns */
	size_t nfds;         /* entries of fds */
};

/* A handler's immediate answer. */
struct reg_reply;

/* Returned by a handler that will answer with reg_server_reply. */
#define REG_REPLY_LATER 1

/*
 * A request handler: returns 0 after setting the answer (no answer set:
 * the reply is plain `ok`), a negative code (the client's call returns it),
 * or REG_REPLY_LATER.  Runs on the server thread; must not block.
 */
typedef int (*reg_handler_fn)(struct reg_server *s, void *arg,
                              const struct reg_request *req,
                              struct reg_reply *reply);

/* Registers fn for requests named op (an atom, not a built-in operation's
 * name).  Returns 0, -EEXIST, -EINVAL or -ENOMEM. */
int reg_server_handle(struct reg_server *s, const char *op, reg_handler_fn fn,
                      void *arg);

/* Sets the answer's value: an encoded term with its version byte (copied). */
int reg_reply_term(struct reg_reply *r, const uint8_t *term, size_t len);

/* Attaches fds to the answer (duplicated; the caller keeps its own).
 * At most REG_MAX_FDS.  Returns 0, -EINVAL or -errno. */
int reg_reply_fds(struct reg_reply *r, const int *fds, size_t nfds);

/*
 * Answers a request a handler deferred: rc < 0 sends an error, else term
 * (version byte first, may be NULL for `ok`) and fds (duplicated).  Returns
 * 0, -ENOENT if the connection is gone, or another error.
 */
int reg_server_reply(struct reg_server *s, uint64_t conn, uint64_t id, int rc,
                     const uint8_t *term, size_t len, const int *fds,
                     size_t nfds);

/* Hook called when a container goes away. */
typedef void (*reg_gone_fn)(struct reg_server *s, void *arg, uint32_t id,
                            const char *name);
int reg_server_on_gone(struct reg_server *s, reg_gone_fn fn, void *arg);

/* The connection of a live container: 0 with *conn, or -ENOENT. */
int reg_server_container_conn(const struct reg_server *s, uint32_t id,
                              uint64_t *conn);

/* The id of the live container named name: 0 with *id, or -ENOENT. */
int reg_server_container_by_name(const struct reg_server *s, const char *name,
                                 uint32_t *id);

/* The uid and pidfd of a live container: 0, or -ENOENT.  The pidfd stays
 * the server's (valid until the container's gone hooks have run). */
int reg_server_container_proc(const struct reg_server *s, uint32_t id,
                              uid_t *uid, pid_t *pid, int *pidfd);

/*
 * Charges uid n more of res: 0, or STRAW_EQUOTA when that would take it
 * past its quota (root never is), or -ENOMEM; nothing is charged on
 * failure.  reg_server_uncharge gives n back (at most what is charged).
 */
int reg_server_charge(struct reg_server *s, uid_t uid, enum reg_res res,
                      uint64_t n);
void reg_server_uncharge(struct reg_server *s, uid_t uid, enum reg_res res,
                         uint64_t n);

/* The number of the loop's current turn (it grows by one a turn), so that
 * a handler can do costly work at most once a turn. */
uint64_t reg_server_turn(const struct reg_server *s);

/* Tree access for handlers, as strawd itself (root; watches fire; nothing
 * is counted in a quota).  Paths must be valid (STRAW_EBADPATH otherwise).
 * Values read stay valid until the tree next changes. */
int reg_server_write(struct reg_server *s, const char *path, const void *val,
                     size_t len);
int reg_server_rm(struct reg_server *s, const char *path);
int reg_server_read(struct reg_server *s, const char *path, const uint8_t **val,
                    size_t *len);
int reg_server_set_perms(struct reg_server *s, const char *path,
                         const struct reg_perms *p);

/* ---- modules ----------------------------------------------------------- */

/*
 * A part of strawd that serves extension requests (the tube broker, the
 * babysitter of services): reg_server_create runs init for each module of
 * reg_server_opts.modules, in order, after the tree is set up; init
 * registers its handlers with reg_server_handle and reg_server_on_gone.
 * Modules are listed explicitly (strawd's list is strawd_modules[], in
 * src/strawd/modules.c), so a module that is not linked in is a link
 * error, not a silent gap.
 */
struct reg_server_module {
	const char *name;                  /* for logs */
	int (*init)(struct reg_server *s); /* 0 or a negative code, which
	                                      makes reg_server_create fail */
};

/* The modules strawd runs, NULL-terminated (src/strawd/modules.c). */
extern const struct reg_server_module *const strawd_modules[];

/* The tube broker (src/strawd/tube_broker.c). */
extern const struct reg_server_module strawd_tube_broker;

#endif /* STRAWI_REG_SERVER_H */
